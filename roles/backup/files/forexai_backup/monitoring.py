# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Monitoring: the Prometheus textfile (the last success survives failures) and the failure
hook."""

import contextlib
import json
import os
import shlex
import subprocess
import tempfile
import time

import verification

from forexai_backup.common import LOG, host_name


def state_path(cfg):
    return os.path.join(cfg['backup_dir'], '.last_success.json')


def write_metrics(cfg, exit_code, success=None):
    """Prometheus textfile: last success (kept across failures) and the last run's outcome."""
    state = {}
    with contextlib.suppress(OSError, ValueError):
        with open(state_path(cfg), 'r', encoding='utf-8') as handle:
            state = json.load(handle)
    if success is not None:
        state = success
        with contextlib.suppress(OSError):
            tmp = state_path(cfg) + '.tmp'
            with open(tmp, 'w', encoding='utf-8') as handle:
                json.dump(state, handle)
            os.rename(tmp, state_path(cfg))
    directory = cfg['metrics_dir']
    if not directory:
        return
    label = '{database="%s"}' % cfg['database']['name'].replace('"', '')
    metrics = [
        ('forexai_backup_last_success_timestamp_seconds',
         'Unix time the last successful backup run finished.', state.get('finished', 0)),
        ('forexai_backup_duration_seconds',
         'Duration of the last successful backup run.', state.get('duration', 0)),
        ('forexai_backup_size_bytes',
         'Total size of the files of the last successful backup set.', state.get('size', 0)),
        ('forexai_backup_verified',
         '1 when the last successful backup set was verified by a test restore.',
         1 if state.get('verified') else 0),
        ('forexai_backup_last_run_timestamp_seconds',
         'Unix time the last backup run ended, successful or not.', time.time()),
        ('forexai_backup_last_exit_code',
         'Exit code of the last backup run (0 is success).', exit_code),
    ]
    lines = []
    for name, help_text, value in metrics:
        lines.append('# HELP %s %s' % (name, help_text))
        lines.append('# TYPE %s gauge' % name)
        lines.append('%s%s %s' % (name, label, repr(float(value))))
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix='.forexai_backup.', dir=directory)
        with os.fdopen(fd, 'w') as handle:
            handle.write('\n'.join(lines) + '\n')
        os.chmod(tmp, 0o644)
        os.rename(tmp, os.path.join(directory, 'forexai_backup.prom'))
    except OSError as exc:
        LOG.warning('could not write metrics into %s: %s', directory, exc)


def run_failure_hook(cfg, code, message, set_id):
    command = cfg['failure_hook']
    if not command:
        return
    env = dict(os.environ)
    env.update({'FOREXAI_BACKUP_EXIT_CODE': str(code), 'FOREXAI_BACKUP_ERROR': message,
                'FOREXAI_BACKUP_SET_ID': set_id or '', 'FOREXAI_BACKUP_HOST': host_name()})
    try:
        proc = subprocess.run(shlex.split(command), env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=cfg['failure_hook_timeout'], check=False)
        if proc.returncode != 0:
            LOG.warning('failure hook exited %d: %s', proc.returncode,
                        verification.output_tail(proc.stderr))
        else:
            LOG.info('failure hook ran: %s', command)
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        LOG.warning('failure hook %r could not run: %s', command, exc)
