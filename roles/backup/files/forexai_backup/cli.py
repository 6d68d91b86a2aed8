# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The command line: arguments, the run lock, one backup (or a prune) and its exit code."""

import argparse
import contextlib
import errno
import fcntl
import json
import logging
import os
import signal
import sys
import time

import backup_set

from forexai_backup import config, pruning, storage
from forexai_backup.common import (
    DEFAULT_CONFIG,
    EXIT_CODES,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_PRUNE,
    EXIT_STORAGE,
    EXIT_USAGE,
    LOG,
    PROGRAM,
    VERSION,
    BackupError,
    Interrupted,
    utc_now,
)
from forexai_backup.monitoring import run_failure_hook, write_metrics
from forexai_backup.run import Run


@contextlib.contextmanager
def run_lock(path):
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    handle = open(path, 'a+')
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            handle.seek(0)
            holder = handle.read().strip() or 'unknown'
            raise BackupError(EXIT_LOCKED, 'another %s run holds the lock %s (pid recorded '
                              'there: %s); not starting' % (PROGRAM, path, holder))
        handle.seek(0)
        handle.truncate()
        handle.write('%d\n' % os.getpid())
        handle.flush()
        yield
    finally:
        handle.close()


def do_backup(cfg, args, status):
    run = Run(cfg, args)
    store = storage.S3Store(cfg) if args.upload else None
    try:
        run.prepare()
        status['set_id'] = run.set_id
        run.dump_database()
        run.check_dump()
        run.dump_globals()
        run.archive_files()
        run.encrypt_config()
        run.hash_files()
        if args.verify:
            run.verify_restore()
        elif cfg['verified_elsewhere_by']:
            LOG.info('set %s: no test restore on this host (it would load production); %s verifies '
                     'the S3 copy and records the verdict beside it', run.set_id, cfg['verified_elsewhere_by'])
        else:
            LOG.warning('set %s: NOT VERIFIED - no test restore on this host (it would load production) '
                        'and no verification host is configured (the backup role\'s backup_verifiers '
                        'group): the set stays unverified until playbooks/verify_backups.yml verifies it',
                        run.set_id)
        manifest = run.manifest()
        manifest_path = run.write_manifest(manifest)
    except BackupError as exc:
        run.mark_failed(exc.code, exc.message)
        raise
    except Interrupted:
        run.mark_failed(EXIT_INTERRUPTED, 'interrupted by a signal')
        raise BackupError(EXIT_INTERRUPTED, 'interrupted by a signal; set %s is incomplete'
                          % run.set_id)
    except OSError as exc:
        code = EXIT_STORAGE
        if exc.errno == errno.ENOSPC:
            message = 'disk full while writing %s: %s' % (run.set_dir, exc)
        else:
            message = 'local storage error in %s: %s' % (run.set_dir, exc)
        run.mark_failed(code, message)
        raise BackupError(code, message)
    except Exception as exc:
        run.mark_failed(EXIT_INTERNAL, '%s: %s' % (type(exc).__name__, exc))
        raise
    LOG.info('local set %s complete (%d files, %d bytes, verified: %s)', run.set_id,
             len(run.files), sum(f['size'] for f in run.files.values()), manifest['verified'])
    success = {'finished': time.time(), 'duration': manifest['duration_seconds'],
               'size': sum(f['size'] for f in run.files.values()), 'verified': manifest['verified'],
               'set_id': run.set_id}
    if store is not None:
        try:
            storage.upload_set(store, run, manifest_path)
        except BackupError as exc:
            raise BackupError(exc.code, '%s; the local set %s is complete and kept'
                              % (exc.message, run.set_dir))
        success['duration'] = round(time.time() - run.started.timestamp(), 3)
    write_metrics(cfg, EXIT_OK, success)
    if not args.no_prune:
        report = pruning.prune(cfg, utc_now(), use_s3=args.upload)
        if report['errors']:
            raise BackupError(EXIT_PRUNE, 'set %s is complete but pruning failed: %s'
                              % (run.set_id, '; '.join(report['errors'])))
    return run.set_id


# The on/off switches of the command line, with their help.
SWITCHES = (
    ('--verify', 'restore the dump into a temporary database and compare row counts'),
    ('--upload', 'upload the set to S3 (multipart, integrity checked)'),
    ('--no-prune', 'do not prune old sets after a successful run'),
    ('--prune', 'only prune old sets (locally and in S3), make no backup'),
    ('--dry-run', 'with --prune: report what would be deleted, delete nothing'),
    ('--local-only', 'with --prune: leave S3 alone'),
)
REPORTING = (
    ('--json', 'print a JSON report on stdout'),
    ('--debug', 'log debug messages'),
)


def parse_args(argv):
    epilog = 'exit codes:\n' + '\n'.join('  %2d  %s' % item for item in EXIT_CODES)
    parser = argparse.ArgumentParser(
        prog=PROGRAM, formatter_class=argparse.RawDescriptionHelpFormatter, epilog=epilog,
        description='Back up the Forex AI database (pg_dump, row counts from the same '
                    'snapshot), file storage and age-encrypted configuration into a backup set '
                    '<backup_dir>/<set id>/ whose manifest.json is written last; optionally '
                    'verify it by a test restore, upload it to S3, and prune old sets.')
    parser.add_argument('-c', '--config', default=DEFAULT_CONFIG,
                        help='JSON configuration file (default %(default)s)')
    for flag, help_text in SWITCHES:
        parser.add_argument(flag, action='store_true', help=help_text)
    parser.add_argument('--now', metavar='TIME',
                        help='with --prune: judge ages from this ISO 8601 time instead of now')
    for flag, help_text in REPORTING:
        parser.add_argument(flag, action='store_true', help=help_text)
    parser.add_argument('--version', action='version', version='%s %s' % (PROGRAM, VERSION))
    args = parser.parse_args(argv)
    if args.prune and (args.verify or args.upload):
        parser.error('--prune cannot be combined with --verify or --upload')
    if (args.dry_run or args.now or args.local_only) and not args.prune:
        parser.error('--dry-run, --now and --local-only only apply to --prune')
    return args


def setup_logging(debug):
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter('%(asctime)s ' + PROGRAM + '[%(process)d] %(levelname)s: '
                                  '%(message)s', '%Y-%m-%dT%H:%M:%SZ')
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    LOG.addHandler(handler)
    LOG.setLevel(logging.DEBUG if debug else logging.INFO)


def _on_signal(signum, _frame):
    raise Interrupted()


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging(args.debug)
    os.umask(0o027)
    cfg = None
    status = {}
    report = {'program': PROGRAM, 'version': VERSION}
    try:
        cfg = config.load_config(args.config)
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        with run_lock(cfg['lock_file']):
            if args.prune:
                now = backup_set.parse_time(args.now) if args.now else utc_now()
                result = pruning.prune(cfg, now, dry_run=args.dry_run, use_s3=not args.local_only)
                report['prune'] = result
                LOG.info('prune: %d kept, %d to delete, %d deleted%s', len(result['keep']),
                         len(result['delete']), len(result['deleted']),
                         ' (dry run)' if args.dry_run else '')
                if result['errors']:
                    raise BackupError(EXIT_PRUNE, 'pruning failed: %s'
                                      % '; '.join(result['errors']))
            else:
                LOG.info('%s %s starting (verify: %s, upload: %s)', PROGRAM, VERSION,
                         args.verify, args.upload)
                do_backup(cfg, args, status)
                LOG.info('backup set %s done', status['set_id'])
        code, message = EXIT_OK, ''
    except BackupError as exc:
        code, message = exc.code, exc.message
    except Interrupted:
        code, message = EXIT_INTERRUPTED, 'interrupted by a signal'
    except ValueError as exc:
        code, message = EXIT_USAGE, str(exc)
    except Exception as exc:  # pragma: no cover - reported, then a distinct exit code
        LOG.exception('unexpected error')
        code, message = EXIT_INTERNAL, '%s: %s' % (type(exc).__name__, exc)
    report['exit_code'] = code
    if status.get('set_id'):
        report['set_id'] = status['set_id']
    if code != EXIT_OK:
        report['error'] = message
        LOG.error('%s (exit %d)', message, code)
        if cfg is not None and code != EXIT_LOCKED:
            if not args.prune and code != EXIT_PRUNE:
                write_metrics(cfg, code)
            run_failure_hook(cfg, code, message, status.get('set_id'))
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2, sort_keys=True) + '\n')
    return code
