# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the parts of roles/backup/files/forexai-backup that need no database.

The program imports retention.py and backup_set.py from its library directory; here that
is plugins/module_utils, exactly the files the role deploys. Runs against PostgreSQL and S3
are in the backup Molecule scenario.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import importlib.machinery
import importlib.util
import json
import os

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
SCRIPT = os.path.join(ROOT, 'roles', 'backup', 'files', 'forexai_backup.py')
UTC = datetime.timezone.utc


@pytest.fixture(scope='module')
def prog():
    os.environ['FOREXAI_BACKUP_LIB'] = os.path.join(ROOT, 'plugins', 'module_utils')
    loader = importlib.machinery.SourceFileLoader('forexai_backup_under_test', SCRIPT)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def write_config(tmp_path, data):
    path = tmp_path / 'backup.conf'
    path.write_text(json.dumps(data))
    return str(path)


def test_exit_codes_are_distinct_and_documented(prog, capsys):
    codes = [code for code, _text in prog.EXIT_CODES]
    assert codes == sorted(set(codes)) == list(range(12))
    with pytest.raises(SystemExit):
        prog.parse_args(['--help'])
    help_text = capsys.readouterr().out
    assert '5  pg_dump exited 0 but the dump is too small, truncated or unreadable' in help_text
    assert '--verify' in help_text and '--upload' in help_text


def test_defaults_follow_the_plan(prog, tmp_path):
    cfg = prog.load_config(write_config(tmp_path, {}))
    assert cfg['database']['name'] == 'forexai'
    assert cfg['database']['user'] == 'postgres' and cfg['database']['host'] == ''
    assert cfg['backup_dir'] == '/var/backups/forexai'
    assert (cfg['policy'].local_days, cfg['policy'].s3_days,
            cfg['policy'].monthly_keep_months) == (30, 90, 12)


@pytest.mark.parametrize('data, message', [
    ({'database': {'format': 'tar'}},
     "config database.format must be one of 'custom', 'directory', got 'tar'"),
    ({'database': {'jobs': 4}}, 'config database.jobs > 1 needs database.format directory'),
    ({'database': {'port': '5432'}}, 'config database.port must be a non-negative integer'),
    ({'s3': {'sse': 'DES'}}, "config s3.sse must be one of '', 'AES256', 'aws:kms', got 'DES'"),
    ({'s3': {'bukket': 'x'}}, 'config has unknown key(s): s3.bukket'),
    ({'files': {'paths': ['relative/dir']}}, "config files.paths entry 'relative/dir' is not absolute"),
    ({'config_files': {'paths': ['/etc/forexai/forexai.env']}},
     'config_files.paths is set but age_recipients is empty: configuration is never stored '
     'unencrypted'),
    ({'config_files': {'age_recipients': ['AGE-SECRET-KEY-1QQQ']}},
     'config_files.age_recipients holds an age SECRET key; only public recipients (age1...) '
     'belong on this host'),
    ({'config_files': {'age_recipients': ['bob']}},
     "config_files.age_recipients entry 'bob' is not an age public recipient (age1...) or SSH "
     'public key'),
    ({'retention': {'monthly_locations': ['tape']}},
     'config retention: monthly_locations has unknown location(s): tape'),
    ([], 'must be a JSON object'),
])
def test_bad_config(prog, tmp_path, data, message):
    with pytest.raises(prog.BackupError) as err:
        prog.load_config(write_config(tmp_path, data))
    assert err.value.code == prog.EXIT_USAGE
    assert message in err.value.message


def test_missing_config(prog, tmp_path):
    with pytest.raises(prog.BackupError) as err:
        prog.load_config(str(tmp_path / 'nope.conf'))
    assert err.value.message == 'configuration file %s does not exist' % (tmp_path / 'nope.conf')


@pytest.mark.parametrize('argv', [['--prune', '--upload'], ['--dry-run'], ['--now', 'x']])
def test_bad_flag_combinations(prog, argv):
    with pytest.raises(SystemExit) as err:
        prog.parse_args(argv)
    assert err.value.code == 2


def test_lock_refuses_a_second_run(prog, tmp_path):
    lock = str(tmp_path / 'run' / 'lock')
    with prog.run_lock(lock):
        with pytest.raises(prog.BackupError) as err:
            with prog.run_lock(lock):
                pass
    assert err.value.code == prog.EXIT_LOCKED
    assert 'holds the lock %s (pid recorded there: %d)' % (lock, os.getpid()) in err.value.message


def test_metrics_keep_last_success_across_failures(prog, tmp_path):
    cfg = prog.load_config(write_config(tmp_path, {
        'backup_dir': str(tmp_path / 'b'), 'metrics_dir': str(tmp_path / 'm')}))
    os.makedirs(cfg['backup_dir'])
    prog.write_metrics(cfg, 0, {'finished': 1700000000.0, 'duration': 12.5, 'size': 2048,
                                'verified': True})
    prog.write_metrics(cfg, 8)
    text = (tmp_path / 'm' / 'forexai_backup.prom').read_text()
    assert 'forexai_backup_last_success_timestamp_seconds{database="forexai"} 1700000000.0' in text
    assert 'forexai_backup_duration_seconds{database="forexai"} 12.5' in text
    assert 'forexai_backup_size_bytes{database="forexai"} 2048.0' in text
    assert 'forexai_backup_verified{database="forexai"} 1.0' in text
    assert 'forexai_backup_last_exit_code{database="forexai"} 8.0' in text
    assert '# TYPE forexai_backup_verified gauge' in text


def fake_set(backup_dir, set_id, verified=True, complete=True):
    path = backup_dir / set_id
    path.mkdir(parents=True)
    (path / 'database.dump').write_bytes(b'x')
    if complete:
        started = datetime.datetime.strptime(set_id, '%Y%m%dT%H%M%SZ')
        manifest = {
            'format_version': 1, 'set_id': set_id, 'host': 'db1', 'program_version': '1',
            'started_at': started.strftime('%Y-%m-%dT%H:%M:%SZ'),
            'finished_at': started.strftime('%Y-%m-%dT%H:%M:%SZ'), 'verified': verified,
            'database': {'name': 'forexai', 'server_version': '15', 'size_bytes': 1,
                         'dump_format': 'custom', 'dump_path': 'database.dump', 'row_counts': {}},
            'files': {'database.dump': {'sha256': '0' * 64, 'size': 1}}}
        (path / 'manifest.json').write_text(json.dumps(manifest))


def test_local_prune(prog, tmp_path):
    backups = tmp_path / 'b'
    fake_set(backups, '20250101T000000Z')               # monthly snapshot of January
    fake_set(backups, '20250101T060000Z')               # expired
    fake_set(backups, '20250520T000000Z', complete=False)  # incomplete, inside 30 days
    fake_set(backups, '20250301T000000Z', complete=False)  # incomplete, expired
    fake_set(backups, '20250614T000000Z')               # newest verified
    fake_set(backups, '20260101T000000Z', verified=False)  # in the future
    (backups / 'not-a-set').mkdir()
    cfg = prog.load_config(write_config(tmp_path, {'backup_dir': str(backups)}))
    now = datetime.datetime(2025, 6, 15, 12, tzinfo=UTC)

    dry = prog.prune(cfg, now, dry_run=True)
    assert sorted(os.listdir(str(backups))) == ['20250101T000000Z', '20250101T060000Z',
                                                '20250301T000000Z', '20250520T000000Z',
                                                '20250614T000000Z', '20260101T000000Z',
                                                'not-a-set']
    assert [e['id'] for e in dry['delete']] == ['20250101T060000Z', '20250301T000000Z']
    assert dry['deleted'] == []

    report = prog.prune(cfg, now)
    assert [e['id'] for e in report['deleted']] == ['20250101T060000Z', '20250301T000000Z']
    assert sorted(os.listdir(str(backups))) == ['20250101T000000Z', '20250520T000000Z',
                                                '20250614T000000Z', '20260101T000000Z',
                                                'not-a-set']
    assert [e['id'] for e in report['future']] == ['20260101T000000Z']
    reasons = {e['id']: (e['reason'], e['complete']) for e in report['keep']}
    assert reasons == {'20250101T000000Z': ('monthly-snapshot', True),
                       '20250520T000000Z': ('within-window', False),
                       '20250614T000000Z': ('newest-verified', True),
                       '20260101T000000Z': ('future-dated', True)}
