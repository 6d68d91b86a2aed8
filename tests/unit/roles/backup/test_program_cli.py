# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""forexai_backup.cli: the command line, the lock, and the exit code of a whole run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from forexai_backup import cli, common
from forexai_backup.common import EXIT_LOCKED, EXIT_PRUNE, EXIT_USAGE, BackupError

from program_helpers import fake_set


def test_exit_codes_are_distinct_and_documented(capsys):
    codes = [code for code, _text in common.EXIT_CODES]
    assert codes == sorted(set(codes)) == list(range(12))
    with pytest.raises(SystemExit):
        cli.parse_args(['--help'])
    help_text = capsys.readouterr().out
    assert '5  pg_dump exited 0 but the dump is too small, truncated or unreadable' in help_text
    assert '--verify' in help_text and '--upload' in help_text


@pytest.mark.parametrize('name, code', [
    ('EXIT_OK', 0), ('EXIT_INTERNAL', 1), ('EXIT_USAGE', 2), ('EXIT_LOCKED', 3),
    ('EXIT_DATABASE', 4), ('EXIT_DUMP_INVALID', 5), ('EXIT_VERIFY', 6), ('EXIT_ARCHIVE', 7),
    ('EXIT_UPLOAD', 8), ('EXIT_STORAGE', 9), ('EXIT_PRUNE', 10), ('EXIT_INTERRUPTED', 11),
])
def test_exit_codes_keep_their_numbers(name, code):
    """Schedulers, alerts and the role's README match on these numbers."""
    assert getattr(common, name) == code


@pytest.mark.parametrize('argv', [['--prune', '--upload'], ['--prune', '--verify'],
                                  ['--dry-run'], ['--now', 'x'], ['--local-only']])
def test_bad_flag_combinations(argv):
    with pytest.raises(SystemExit) as err:
        cli.parse_args(argv)
    assert err.value.code == 2


def test_defaults_of_the_command_line():
    args = cli.parse_args([])
    assert args.config == '/etc/forexai/backup.conf'
    assert not (args.verify or args.upload or args.prune or args.no_prune or args.json)


def test_lock_refuses_a_second_run(tmp_path):
    lock = str(tmp_path / 'run' / 'lock')
    with cli.run_lock(lock):
        with pytest.raises(BackupError) as err:
            with cli.run_lock(lock):
                pass
    assert err.value.code == EXIT_LOCKED
    assert 'holds the lock %s (pid recorded there: %d)' % (lock, os.getpid()) in err.value.message
    with cli.run_lock(lock):  # released
        pass


def run_main(capsys, argv):
    code = cli.main(argv + ['--json'])
    return code, json.loads(capsys.readouterr().out)


def test_main_reports_a_bad_configuration_as_usage(tmp_path, capsys):
    code, report = run_main(capsys, ['--config', str(tmp_path / 'nope.conf'), '--prune'])
    assert code == EXIT_USAGE == report['exit_code']
    assert report['error'] == 'configuration file %s does not exist' % (tmp_path / 'nope.conf')


def test_main_prunes_only(tmp_path, write_config, capsys):
    backups = tmp_path / 'b'
    fake_set(backups, '20250101T000000Z')  # the monthly snapshot of January
    fake_set(backups, '20250101T060000Z')
    fake_set(backups, '20250614T000000Z')
    path = write_config({'backup_dir': str(backups), 'lock_file': str(tmp_path / 'lock')})
    code, report = run_main(capsys, ['--config', path, '--prune', '--dry-run',
                                     '--now', '2025-06-15T12:00:00Z'])
    assert code == 0 and report['program'] == 'forexai-backup'
    assert [e['id'] for e in report['prune']['delete']] == ['20250101T060000Z']
    assert report['prune']['dry_run'] is True
    assert sorted(os.listdir(str(backups))) == ['20250101T000000Z', '20250101T060000Z',
                                                '20250614T000000Z']


def test_main_runs_the_failure_hook_when_pruning_fails(tmp_path, write_config, capsys,
                                                       monkeypatch):
    calls = []
    monkeypatch.setattr(cli, 'run_failure_hook', lambda cfg, code, msg, set_id: calls.append(code))
    monkeypatch.setattr(cli.pruning, 'prune', lambda *a, **k: {
        'keep': [], 'delete': [], 'deleted': [], 'future': [], 'errors': ['S3: unreachable']})
    path = write_config({'backup_dir': str(tmp_path / 'b'), 'lock_file': str(tmp_path / 'lock'),
                         'failure_hook': '/bin/true'})
    code, report = run_main(capsys, ['--config', path, '--prune'])
    assert code == EXIT_PRUNE and calls == [EXIT_PRUNE]
    assert report['error'] == 'pruning failed: S3: unreachable'


def test_a_held_lock_is_exit_3_without_the_failure_hook(tmp_path, write_config, capsys,
                                                        monkeypatch):
    calls = []
    monkeypatch.setattr(cli, 'run_failure_hook', lambda *a: calls.append(a))
    lock = str(tmp_path / 'lock')
    path = write_config({'backup_dir': str(tmp_path / 'b'), 'lock_file': lock})
    with cli.run_lock(lock):
        code, report = run_main(capsys, ['--config', path, '--prune'])
    assert code == EXIT_LOCKED and 'holds the lock' in report['error'] and calls == []


class _NoDatabaseRun:
    """A Run whose steps do nothing: what do_backup says about verification is under test."""
    verified_here = False

    def __init__(self, cfg, args):
        self.set_id, self.files, self.set_dir = '20261202T180000Z', {}, '/nowhere'
        import datetime
        self.started = datetime.datetime.now(datetime.timezone.utc)

    def __getattr__(self, name):
        return lambda *a, **k: None

    def verify_restore(self):
        _NoDatabaseRun.verified_here = True

    def manifest(self):
        return {'verified': _NoDatabaseRun.verified_here, 'duration_seconds': 1.0}


@pytest.mark.parametrize('verifiers, verify, expected', [
    ('', False, 'NOT VERIFIED - no test restore on this host'),
    ('staging-db1', False, 'staging-db1 verifies the S3 copy and records the verdict beside it'),
    ('staging-db1', True, None),
])
def test_a_run_says_where_its_set_is_verified(monkeypatch, caplog, verifiers, verify, expected):
    import logging
    _NoDatabaseRun.verified_here = False
    monkeypatch.setattr(cli, 'Run', _NoDatabaseRun)
    monkeypatch.setattr(cli, 'write_metrics', lambda *a: None)
    args = cli.parse_args((['--verify'] if verify else []) + ['--no-prune'])
    cfg = {'verified_elsewhere_by': verifiers}
    with caplog.at_level(logging.INFO, logger=common.LOG.name):
        cli.do_backup(cfg, args, {})
    said = ' '.join(r.getMessage() for r in caplog.records)
    if expected:
        assert expected in said and _NoDatabaseRun.verified_here is False
    else:
        assert 'no test restore' not in said and _NoDatabaseRun.verified_here is True
