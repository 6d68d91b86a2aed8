# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""forexai_backup.database: the libpq environment, the dump checks and the test restore.

The dump itself and the child processes need PostgreSQL: the backup Molecule scenario runs
them. Here stand-in client programs and database operations check the decisions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from forexai_backup import database
from forexai_backup.common import EXIT_DATABASE, EXIT_DUMP_INVALID, EXIT_USAGE, BackupError


def test_pg_env_replaces_the_callers_libpq_settings(load, monkeypatch):
    monkeypatch.setenv('PGHOST', 'stale')
    monkeypatch.setenv('PGPASSWORD', 'leak')
    monkeypatch.setenv('PGDATABASE', 'other')
    cfg = load({'database': {'port': 5433, 'passfile': '/etc/forexai/pgpass'}})
    env = database.pg_env(cfg, (999, 999, '/var/lib/postgresql'))
    assert 'PGHOST' not in env and 'PGPASSWORD' not in env and 'PGDATABASE' not in env
    got = (env['PGPORT'], env['PGUSER'], env['PGPASSFILE'], env['PGAPPNAME'],
           env['PGCONNECT_TIMEOUT'], env['HOME'])
    assert got == ('5433', 'postgres', '/etc/forexai/pgpass', 'forexai-backup', '10',
                   '/var/lib/postgresql')


def test_conn_kwargs(load):
    cfg = load({'database': {'host': 'db1', 'user': ''}})
    assert database.conn_kwargs(cfg, 'postgres') == {
        'dbname': 'postgres', 'port': 5432, 'application_name': 'forexai-backup',
        'connect_timeout': 10, 'host': 'db1'}
    assert database.conn_kwargs(cfg)['dbname'] == 'forexai'


def test_missing_client_program_is_a_usage_error(load, tmp_path):
    cfg = load({'database': {'bin_dir': str(tmp_path)}})
    with pytest.raises(BackupError) as err:
        database.pg_bin(cfg, 'pg_dump')
    assert err.value.code == EXIT_USAGE
    assert err.value.message == ('%s/pg_dump not found or not executable (database.bin_dir is %s)'
                                 % (tmp_path, tmp_path))


def test_os_identity(load, monkeypatch):
    assert database.db_os_identity(load({'database': {'os_user': ''}})) is None
    monkeypatch.setattr(database.os, 'geteuid', lambda: 0)
    with pytest.raises(BackupError) as err:
        database.db_os_identity(load({'database': {'os_user': 'no-such-user-here'}}))
    assert err.value.message == "database.os_user 'no-such-user-here' does not exist on this host"
    assert database.db_os_identity(load({'database': {'os_user': 'root'}})) is None


def fake_pg_restore(tmp_path, list_rc=0, read_rc=0, restore_rc=0):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / 'pg_restore'
    script.write_text('#!/bin/sh\n'
                      'case "$1" in\n'
                      '  --list) echo ";"; echo "215; 1259 16390 TABLE public trades forexai";\n'
                      '          echo "216; 1259 16391 TABLE public users forexai";\n'
                      '          echo "pg_restore: error: input file is too short" >&2; exit %d;;\n'
                      '  --file=/dev/null) echo "pg_restore: error: could not read from input '
                      'file: end of file" >&2; exit %d;;\n'
                      '  *) echo "pg_restore: error: relation exists" >&2; exit %d;;\n'
                      'esac\n' % (list_rc, read_rc, restore_rc))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(bin_dir)


@pytest.fixture
def dump(tmp_path):
    path = tmp_path / 'database.dump'
    path.write_bytes(b'PGDMP' + b'x' * 2000)
    return str(path)


def test_a_sound_dump(load, tmp_path, dump):
    cfg = load({'database': {'bin_dir': fake_pg_restore(tmp_path), 'os_user': ''}})
    assert database.check_dump(cfg, None, dump, 'database.dump') == {'toc_entries': 2,
                                                                     'dump_bytes': 2005}


@pytest.mark.parametrize('settings, rcs, message', [
    ({'min_dump_bytes': 4096}, {}, 'dump database.dump is 2005 bytes, below the floor of 4096 bytes'),
    ({}, {'list_rc': 1}, 'pg_restore --list rejects dump database.dump: pg_restore: error: '
                         'input file is too short'),
    ({}, {'read_rc': 1}, 'dump database.dump cannot be read to the end (truncated or corrupt): '
                         'pg_restore: error: could not read from input file: end of file'),
])
def test_useless_dumps_pg_dump_said_were_fine(load, tmp_path, dump, settings, rcs, message):
    settings = dict(settings, bin_dir=fake_pg_restore(tmp_path, **rcs), os_user='')
    with pytest.raises(BackupError) as err:
        database.check_dump(load({'database': settings}), None, dump, 'database.dump')
    assert err.value.code == EXIT_DUMP_INVALID
    assert err.value.message.startswith(message)


def test_a_directory_dump_is_measured_by_its_files(tmp_path):
    path = tmp_path / 'database.dir'
    path.mkdir()
    (path / 'toc.dat').write_bytes(b'x' * 10)
    (path / '3001.dat.gz').write_bytes(b'x' * 5)
    assert database.dump_size(str(path)) == 15


class Ops:
    """The test restore's database operations, recorded (verification.restore_and_compare)."""

    def __init__(self, counts, exists=False, drop_fails=False):
        self.counts = counts
        self.present = exists
        self.drop_fails = drop_fails
        self.log = []

    def exists(self, name):
        self.log.append('exists')
        return self.present

    def create(self, name):
        self.log.append('create %s' % name)

    def drop(self, name):
        self.log.append('drop %s' % name)
        if self.drop_fails:
            raise BackupError(EXIT_DATABASE, 'database is being accessed by other users')

    def restore(self, argv):
        self.log.append('restore')
        self.argv = argv
        return 0, b''

    def count(self, name):
        self.log.append('count %s' % name)
        return self.counts


def test_the_program_verifies_through_the_shared_test_restore(load, tmp_path, dump):
    cfg = load({'database': {'bin_dir': fake_pg_restore(tmp_path), 'os_user': ''}})
    ops = Ops({'public.trades': 2}, exists=True)
    result = database.verify_dump_by_restore(cfg, None, dump, {'public.trades': 2},
                                             '20260101T000000Z', ops=ops)
    name = 'forexai_verify_20260101t000000z'
    # a database of that name left by a killed run is dropped first; ours is always dropped
    assert ops.log == ['exists', 'drop ' + name, 'create ' + name, 'restore', 'count ' + name,
                       'drop ' + name]
    assert ops.argv == [os.path.join(cfg['database']['bin_dir'], 'pg_restore'), '--no-password',
                        '--dbname=' + name, '--exit-on-error', dump]
    assert result == {'performed': True, 'ok': True, 'temp_database': name,
                      'temp_database_dropped': True, 'restore': 'ok',
                      'detail': '1 tables, row counts equal', 'row_count_differences': {},
                      'tables': 1, 'rows': 2}


def test_a_temporary_database_that_stays_fails_the_verification(load, tmp_path, dump, caplog):
    cfg = load({'database': {'bin_dir': fake_pg_restore(tmp_path), 'os_user': ''}})
    result = database.verify_dump_by_restore(cfg, None, dump, {'public.trades': 2},
                                             '20260101T000000Z',
                                             ops=Ops({'public.trades': 2}, drop_fails=True))
    assert result['ok'] is False and result['temp_database_dropped'] is False
    assert result['detail'] == ('1 tables, row counts equal; temporary database '
                                'forexai_verify_20260101t000000z NOT dropped: database is being '
                                'accessed by other users')
    assert 'could not drop temporary database' in caplog.text
