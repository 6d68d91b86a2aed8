# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""forexai_backup.monitoring: the Prometheus textfile and the failure hook."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from forexai_backup import monitoring


def test_metrics_keep_last_success_across_failures(tmp_path, load):
    cfg = load({'backup_dir': str(tmp_path / 'b'), 'metrics_dir': str(tmp_path / 'm')})
    os.makedirs(cfg['backup_dir'])
    monitoring.write_metrics(cfg, 0, {'finished': 1700000000.0, 'duration': 12.5, 'size': 2048,
                                      'verified': True})
    monitoring.write_metrics(cfg, 8)
    text = (tmp_path / 'm' / 'forexai_backup.prom').read_text()
    assert 'forexai_backup_last_success_timestamp_seconds{database="forexai"} 1700000000.0' in text
    assert 'forexai_backup_duration_seconds{database="forexai"} 12.5' in text
    assert 'forexai_backup_size_bytes{database="forexai"} 2048.0' in text
    assert 'forexai_backup_verified{database="forexai"} 1.0' in text
    assert 'forexai_backup_last_exit_code{database="forexai"} 8.0' in text
    assert '# TYPE forexai_backup_verified gauge' in text
    assert os.listdir(str(tmp_path / 'm')) == ['forexai_backup.prom']  # no temporary left


def test_no_metrics_dir_still_records_the_last_success(tmp_path, load):
    cfg = load({'backup_dir': str(tmp_path)})
    monitoring.write_metrics(cfg, 0, {'finished': 1.0, 'set_id': '20260101T000000Z'})
    assert (tmp_path / '.last_success.json').exists()


def hook(tmp_path, body):
    script = tmp_path / 'hook'
    script.write_text('#!/bin/sh\n' + body)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_failure_hook_gets_the_failure_in_its_environment(tmp_path, load):
    out = tmp_path / 'out'
    command = hook(tmp_path, 'echo "$FOREXAI_BACKUP_EXIT_CODE|$FOREXAI_BACKUP_SET_ID|'
                             '$FOREXAI_BACKUP_ERROR" > %s\n' % out)
    cfg = load({'failure_hook': command})
    monitoring.run_failure_hook(cfg, 5, 'dump database.dump cannot be read', '20260101T000000Z')
    assert out.read_text() == '5|20260101T000000Z|dump database.dump cannot be read\n'


def test_a_failing_or_slow_hook_is_only_a_warning(tmp_path, load, caplog):
    cfg = load({'failure_hook': hook(tmp_path, 'echo boom >&2; exit 3\n')})
    monitoring.run_failure_hook(cfg, 8, 'S3 unreachable', None)
    assert 'failure hook exited 3: boom' in caplog.text
    cfg = load({'failure_hook': hook(tmp_path, 'sleep 5\n'), 'failure_hook_timeout': 0})
    monitoring.run_failure_hook(cfg, 8, 'S3 unreachable', None)
    assert 'could not run' in caplog.text
