# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""forexai_backup.run: one set's directory, archives, checksums and manifest.

The database steps are the database module's (tested there and in Molecule); here a run is
given its database section and builds the rest of the set for real, in a temporary directory.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import stat
import tarfile

import pytest

import backup_set

from forexai_backup import run as run_module
from forexai_backup.common import EXIT_ARCHIVE, EXIT_STORAGE, EXIT_VERIFY, BackupError


@pytest.fixture
def make_run(load, tmp_path):
    def make(**settings):
        data = {'backup_dir': str(tmp_path / 'backups'), 'min_free_mb': 0,
                'database': {'os_user': ''}}
        data.update(settings)
        return run_module.Run(load(data), argparse.Namespace(verify=False, upload=False))
    return make


def with_dump(run):
    """What dump_database() and check_dump() leave: the dump and the database section."""
    with open(run.path('database.dump'), 'wb') as handle:
        handle.write(b'PGDMP' + b'x' * 2000)
    run.db_info = {'name': 'forexai', 'server_version': '15.10', 'server_version_num': 150010,
                   'size_bytes': 9000, 'snapshot': '00000003-1', 'dump_format': 'custom',
                   'dump_path': 'database.dump', 'dump_seconds': 0.1, 'pg_dump_version': '15',
                   'row_counts': {'public.trades': 2}, 'toc_entries': 2, 'dump_bytes': 2005}


def test_prepare_makes_the_set_directory(make_run):
    run = make_run()
    run.prepare()
    assert backup_set.parse_set_id(run.set_id) is not None
    assert os.path.isdir(run.set_dir) and run.set_dir.endswith(run.set_id)
    assert stat.S_IMODE(os.stat(run.set_dir).st_mode) == 0o2750


def test_too_little_free_space_is_a_storage_error(make_run):
    run = make_run(min_free_mb=10 ** 9)
    with pytest.raises(BackupError) as err:
        run.prepare()
    assert err.value.code == EXIT_STORAGE and 'MiB free in' in err.value.message


def test_a_complete_set_has_a_sound_manifest_written_last(make_run, tmp_path):
    uploads = tmp_path / 'srv' / 'uploads'
    uploads.mkdir(parents=True)
    (uploads / 'statement.csv').write_text('date,amount\n')
    (uploads / 'partial.tmp').write_text('scratch')
    run = make_run(files={'paths': [str(uploads), str(tmp_path / 'gone')], 'exclude': ['*.tmp']})
    run.prepare()
    with_dump(run)
    run.archive_files()
    run.hash_files()
    manifest = run.manifest()
    assert backup_set.manifest_problems(manifest) == []
    assert manifest['verified'] is False and manifest['verification'] == {'performed': False}
    assert sorted(manifest['files']) == ['database.dump', 'files.tar.gz']
    assert manifest['warnings'] == ['files path %s does not exist; skipped' % (tmp_path / 'gone')]
    with tarfile.open(run.path('files.tar.gz')) as tar:
        names = tar.getnames()
    assert str(uploads / 'statement.csv').lstrip('/') in names
    assert not [n for n in names if n.endswith('.tmp')]
    path = run.write_manifest(manifest)
    assert backup_set.load_manifest(path) == (manifest, [])
    assert backup_set.check_set_files(run.set_dir, manifest)['files.tar.gz']['ok'] is True


def test_configuration_goes_only_through_age(make_run, tmp_path):
    env_file = tmp_path / 'forexai.env'
    env_file.write_text('FOREXAI_JWT_SECRET=x\n')
    age = tmp_path / 'age'
    # A stand-in age: records its arguments, "encrypts" by copying stdin to --output.
    age.write_text('#!/bin/sh\necho "$@" > %s/age.args\nwhile [ "$1" != --output ]; do shift; done\n'
                   'cat > "$2"\n' % tmp_path)
    age.chmod(0o755)
    run = make_run(config_files={'paths': [str(env_file)], 'age_recipients': ['age1abc'],
                                 'age_binary': str(age)})
    run.prepare()
    run.encrypt_config()
    assert (tmp_path / 'age.args').read_text().startswith('--recipient age1abc --output ')
    assert run.archives['config']['file'] == 'config.tar.age'
    assert os.path.getsize(run.path('config.tar.age')) > 0


def stand_ins(tmp_path, dump_exit=0):
    """A bin_dir whose pg_dumpall prints a role, and an age that copies stdin to --output."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    dumpall = bin_dir / 'pg_dumpall'
    dumpall.write_text('#!/bin/sh\n[ "$1" = --version ] && { echo "pg_dumpall 15"; exit 0; }\n'
                       'echo "$@" > %s/dumpall.args\n'
                       "echo \"CREATE ROLE trader; ALTER ROLE trader PASSWORD 'SCRAM-SHA-256$x';\"\n"
                       'exit %d\n' % (tmp_path, dump_exit))
    dumpall.chmod(0o755)
    age = tmp_path / 'age'
    age.write_text('#!/bin/sh\necho "$@" > %s/age.args\nwhile [ "$1" != --output ]; do shift; done\n'
                   'cat > "$2"\n' % tmp_path)
    age.chmod(0o755)
    return str(bin_dir), str(age)


def test_globals_go_through_age_into_the_manifest(make_run, tmp_path):
    bin_dir, age = stand_ins(tmp_path)
    run = make_run(database={'os_user': '', 'bin_dir': bin_dir},
                   config_files={'paths': [], 'age_recipients': ['age1abc'], 'age_binary': age})
    run.prepare()
    with_dump(run)
    run.dump_globals()
    run.hash_files()
    assert (tmp_path / 'dumpall.args').read_text().split() == ['--globals-only', '--no-password']
    assert (tmp_path / 'age.args').read_text().startswith('--recipient age1abc --output ')
    assert run.archives['globals']['file'] == 'globals.sql.age'
    assert run.archives['globals']['encryption'] == 'age'
    with open(run.path('globals.sql.age'), encoding='utf-8') as handle:
        assert 'CREATE ROLE trader' in handle.read()
    manifest = run.manifest()
    assert 'globals.sql.age' in manifest['files']
    assert backup_set.manifest_problems(manifest) == []


def test_without_a_recipient_the_set_says_it_holds_no_globals(make_run, tmp_path):
    bin_dir, _age = stand_ins(tmp_path)
    run = make_run(database={'os_user': '', 'bin_dir': bin_dir})
    run.prepare()
    run.dump_globals()
    assert 'globals' not in run.archives
    assert not os.path.exists(run.path('globals.sql.age'))
    assert run.warnings == ['globals (roles and password hashes) not in this set: '
                            'config_files.age_recipients is empty and they are never stored '
                            'unencrypted']


def test_a_failing_pg_dumpall_fails_the_run(make_run, tmp_path):
    bin_dir, age = stand_ins(tmp_path, dump_exit=1)
    run = make_run(database={'os_user': '', 'bin_dir': bin_dir},
                   config_files={'paths': [], 'age_recipients': ['age1abc'], 'age_binary': age})
    run.prepare()
    with pytest.raises(BackupError) as err:
        run.dump_globals()
    assert err.value.message.startswith('pg_dumpall --globals-only failed (exit 1)')


def test_a_failing_age_is_an_archive_error(make_run, tmp_path):
    env_file = tmp_path / 'forexai.env'
    env_file.write_text('x')
    run = make_run(config_files={'paths': [str(env_file)], 'age_recipients': ['age1abc'],
                                 'age_binary': str(tmp_path / 'no-age')})
    run.prepare()
    with pytest.raises(BackupError) as err:
        run.encrypt_config()
    assert err.value.code == EXIT_ARCHIVE and err.value.message.startswith('cannot run ')


def test_a_failed_verification_fails_the_run(make_run, monkeypatch):
    run = make_run()
    run.prepare()
    with_dump(run)
    monkeypatch.setattr(run_module.database, 'verify_dump_by_restore', lambda *a: {
        'performed': True, 'ok': False, 'detail': 'public.trades manifest 2, restored 1'})
    with pytest.raises(BackupError) as err:
        run.verify_restore()
    assert err.value.code == EXIT_VERIFY
    assert err.value.message == ('verification of set %s failed: public.trades manifest 2, '
                                 'restored 1' % run.set_id)


def test_a_failed_run_leaves_no_manifest_but_a_note(make_run):
    run = make_run()
    run.prepare()
    with_dump(run)
    run.hash_files()
    run.write_manifest(run.manifest())
    run.mark_failed(EXIT_STORAGE, 'disk full')
    assert os.listdir(run.set_dir) == [backup_set.FAILED_NAME]  # space freed
    note = json.load(open(run.path(backup_set.FAILED_NAME)))
    assert (note['exit_code'], note['error'], note['set_id']) == (EXIT_STORAGE, 'disk full',
                                                                  run.set_id)
