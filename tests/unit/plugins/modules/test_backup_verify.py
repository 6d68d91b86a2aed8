# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the backup_verify module's own parts.

The checks that need no database run against real files and a stand-in ``pg_restore``;
the test restore into PostgreSQL is exercised in the backup Molecule scenario.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import stat

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.forexai.dr.plugins.doc_fragments import postgres as postgres_fragment
from ansible_collections.forexai.dr.plugins.doc_fragments import s3 as s3_fragment
from ansible_collections.forexai.dr.plugins.modules import backup_verify as module

SET_ID = '20261125T180000Z'


def validate(params):
    kwargs = dict(module.MODULE_KWARGS)
    kwargs.pop('supports_check_mode')
    return ArgumentSpecValidator(module.argument_spec(), **kwargs).validate(params)


def fake_pg_restore(tmp_path, exit_code=0):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    script = bin_dir / 'pg_restore'
    script.write_text('#!/bin/sh\n'
                      'echo ";"\n'
                      'echo "; Archive created at 2026-11-25 18:00:00 UTC"\n'
                      'echo "215; 1259 16390 TABLE public trades forexai"\n'
                      'echo "216; 1259 16391 TABLE public users forexai"\n'
                      'echo "pg_restore: error: could not read from input file" >&2\n'
                      'exit %d\n' % exit_code)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(bin_dir)


def make_set(backup_dir, set_id=SET_ID, complete=True):
    set_dir = backup_dir / set_id
    set_dir.mkdir(parents=True)
    files = {'database.dump': b'PGDMP' + b'x' * 2000, 'files.tar.gz': b'archive'}
    entries = {}
    for name, data in files.items():
        (set_dir / name).write_bytes(data)
        entries[name] = {'sha256': hashlib.sha256(data).hexdigest(), 'size': len(data)}
    manifest = {
        'format_version': 1, 'set_id': set_id, 'program': 'forexai-backup',
        'started_at': '2026-11-25T18:00:00Z', 'finished_at': '2026-11-25T18:00:41Z',
        'host': 'db1', 'program_version': '1.0.0', 'verified': True,
        'database': {'name': 'forexai', 'server_version': '15.10', 'server_version_num': 150010,
                     'size_bytes': 9000, 'dump_format': 'custom', 'dump_path': 'database.dump',
                     'row_counts': {'public.trades': 2, 'public.users': 1}},
        'files': entries,
    }
    if complete:
        (set_dir / 'manifest.json').write_text(json.dumps(manifest))
    return set_dir


def params_for(**changes):
    result = validate(changes)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


# --- documentation and argument spec ---------------------------------------------------

def test_documented_options_match_the_argument_spec():
    documented = set(yaml.safe_load(module.DOCUMENTATION)['options'])
    documented |= set(yaml.safe_load(postgres_fragment.ModuleDocFragment.DOCUMENTATION)['options'])
    documented |= set(yaml.safe_load(s3_fragment.ModuleDocFragment.DOCUMENTATION)['options'])
    assert documented == set(module.argument_spec())


def test_documented_defaults_match_the_argument_spec():
    options = yaml.safe_load(module.DOCUMENTATION)['options']
    spec = module.argument_spec()
    for name, doc in options.items():
        assert doc.get('default') == spec[name].get('default'), name
        assert doc['type'] == spec[name]['type'], name
        assert doc.get('choices') == spec[name].get('choices'), name


def test_sections_parse():
    for text in (module.EXAMPLES, module.RETURN):
        assert yaml.safe_load(text)


@pytest.mark.parametrize('params, message', [
    ({'source': 's3'}, 'source is s3 but all of the following are missing: bucket'),
    ({'access_key': 'a'}, 'parameters are required together: access_key, secret_key'),
    ({'source': 'tape'}, 'value of source must be one of: local, s3, got: tape'),
])
def test_argument_spec_constraints(params, message):
    assert message in validate(params).error_messages


def test_secrets_are_no_log():
    spec = module.argument_spec()
    assert spec['secret_key']['no_log'] and spec['access_key']['no_log']
    assert spec['login_password']['no_log']


# --- pure helpers ---------------------------------------------------------------------------

def test_libpq_env_maps_and_clears():
    base = {'PATH': '/bin', 'PGHOST': 'stale', 'PGDATABASE': 'other', 'PGPASSWORD': 'old'}
    env = module.libpq_env({'host': '/run/postgresql', 'port': 5433, 'user': 'postgres',
                            'password': '', 'sslmode': 'prefer', 'dbname': 'forexai'}, base)
    assert env == {'PATH': '/bin', 'PGHOST': '/run/postgresql', 'PGPORT': '5433',
                   'PGUSER': 'postgres', 'PGSSLMODE': 'prefer'}
    assert base['PGHOST'] == 'stale'


@pytest.mark.parametrize('complete, incomplete, expected', [
    (['20261125T180000Z', '20261125T060000Z', 'lost+found', '20261126T000000Z'], [],
     '20261126T000000Z'),
    # "latest" is the newest usable set: an incomplete newer set (no manifest) is passed over.
    (['20261125T060000Z'], ['20261126T000000Z'], '20261125T060000Z'),
    (['junk'], [], None),
    ([], [], None),
])
def test_latest_is_the_newest_usable_set(tmp_path, complete, incomplete, expected):
    for name in complete:
        if name.startswith('2026'):
            make_set(tmp_path, name)
        else:
            (tmp_path / name).mkdir()
    for name in incomplete:
        make_set(tmp_path, name, complete=False)
    assert module.local_latest(str(tmp_path)) == expected


def test_latest_of_a_missing_directory_is_an_error(tmp_path):
    with pytest.raises(module.VerifyError) as err:
        module.local_latest(str(tmp_path / 'nope'))
    assert str(err.value) == 'cannot list %s: not a directory' % (tmp_path / 'nope')


@pytest.mark.parametrize('bin_dir, version, present, expected', [
    ('/opt/pg/bin', 150010, True, '/opt/pg/bin/pg_restore'),
    (None, 150010, True, '/usr/lib/postgresql/15/bin/pg_restore'),
    (None, 170002, False, 'pg_restore'),
    (None, None, True, 'pg_restore'),
])
def test_pg_restore_path(bin_dir, version, present, expected):
    assert module.pg_restore_path(bin_dir, version, exists=lambda path: present) == expected


def test_summarise_and_file_checks():
    checks = module.file_checks({'b': {'ok': False, 'detail': 'missing'},
                                 'a': {'ok': True, 'detail': 'sha256 and size match'}})
    assert checks == [{'name': 'file:a', 'ok': True, 'detail': 'sha256 and size match'},
                      {'name': 'file:b', 'ok': False, 'detail': 'missing'}]
    assert module.summarise(checks) == (False, ['file:b'])
    assert module.summarise([]) == (True, [])


# --- verification of a local set without a database -------------------------------------------

def test_good_set_verifies(tmp_path):
    make_set(tmp_path / 'backups')
    result = module.verify(params_for(backup_dir=str(tmp_path / 'backups'), restore=False,
                                      pg_bin_dir=fake_pg_restore(tmp_path)), 'stamp')
    assert result['verified'] is True and result['failed_checks'] == []
    assert result['set_id'] == SET_ID
    assert [c['name'] for c in result['checks']] == [
        'manifest', 'file:database.dump', 'file:files.tar.gz', 'pg_restore_list']
    assert result['checks'][-1]['detail'] == '2 TOC entries'
    assert result['manifest']['files'] == 2 and result['changed'] is False


def test_flipped_byte_is_found(tmp_path):
    set_dir = make_set(tmp_path / 'backups')
    data = bytearray((set_dir / 'database.dump').read_bytes())
    data[100] ^= 0x01
    (set_dir / 'database.dump').write_bytes(bytes(data))
    result = module.verify(params_for(backup_dir=str(tmp_path / 'backups'), set_id=SET_ID,
                                      restore=False, pg_bin_dir=fake_pg_restore(tmp_path)), 's')
    assert result['verified'] is False
    assert result['failed_checks'] == ['file:database.dump']
    assert result['checks'][1]['detail'].startswith('sha256 %s differs from the manifest'
                                                    % hashlib.sha256(data).hexdigest())


def test_truncated_dump_is_found(tmp_path):
    set_dir = make_set(tmp_path / 'backups')
    with open(str(set_dir / 'database.dump'), 'r+b') as handle:
        handle.truncate(1000)
    result = module.verify(params_for(backup_dir=str(tmp_path / 'backups'), restore=False,
                                      pg_bin_dir=fake_pg_restore(tmp_path, exit_code=1)), 's')
    assert result['failed_checks'] == ['file:database.dump', 'pg_restore_list']
    assert result['checks'][1]['detail'] == 'size 1000 differs from the manifest (2005)'
    assert result['checks'][-1]['detail'] == (
        'pg_restore --list failed (exit 1): pg_restore: error: could not read from input file')


def test_incomplete_set_is_reported(tmp_path):
    set_dir = make_set(tmp_path / 'backups', complete=False)
    (set_dir / 'FAILED.json').write_text('{}')
    result = module.verify(params_for(backup_dir=str(tmp_path / 'backups'), set_id=SET_ID,
                                      restore=False), 's')
    assert result['verified'] is False
    assert result['checks'] == [{
        'name': 'manifest', 'ok': False,
        'detail': 'manifest %s is missing: the set is incomplete (the run left FAILED.json)'
                  % os.path.join(str(set_dir), 'manifest.json')}]


def test_latest_skips_incomplete_sets(tmp_path):
    make_set(tmp_path / 'backups', '20261125T060000Z')
    make_set(tmp_path / 'backups', '20261125T120000Z', complete=False)
    result = module.verify(params_for(backup_dir=str(tmp_path / 'backups'), restore=False,
                                      pg_bin_dir=fake_pg_restore(tmp_path)), 's')
    assert result['set_id'] == '20261125T060000Z'


def test_manifest_of_another_set_is_refused(tmp_path):
    make_set(tmp_path / 'backups')
    os.rename(str(tmp_path / 'backups' / SET_ID), str(tmp_path / 'backups' / '20261125T000000Z'))
    result = module.verify(params_for(backup_dir=str(tmp_path / 'backups'), restore=False,
                                      set_id='20261125T000000Z'), 's')
    assert result['checks'][0]['detail'] == 'manifest is for set %s, not 20261125T000000Z' % SET_ID


@pytest.mark.parametrize('set_id, message', [
    ('latest', 'no complete set (with a manifest) in {dir}'),
    ('20261125T000000Z', 'set directory {dir}/20261125T000000Z does not exist'),
])
def test_missing_set_raises(tmp_path, set_id, message):
    (tmp_path / 'backups').mkdir()
    with pytest.raises(module.VerifyError) as err:
        module.verify(params_for(backup_dir=str(tmp_path / 'backups'), set_id=set_id), 's')
    assert str(err.value) == message.format(dir=str(tmp_path / 'backups'))


# --- main(): one place reports failures ----------------------------------------------------

def run_main(capsys, args):
    testing = pytest.importorskip('ansible.module_utils.testing')
    with testing.patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def test_main_fails_on_a_bad_set(tmp_path, capsys):
    set_dir = make_set(tmp_path / 'backups')
    (set_dir / 'files.tar.gz').write_bytes(b'other')
    out = run_main(capsys, {'backup_dir': str(tmp_path / 'backups'), 'restore': False,
                            'pg_bin_dir': fake_pg_restore(tmp_path)})
    assert out['failed'] is True and out['changed'] is False
    assert out['msg'] == ('Failed to verify backup set %s: file:files.tar.gz: size 5 differs '
                          'from the manifest (7)' % SET_ID)
    assert out['failed_checks'] == ['file:files.tar.gz']


def test_main_can_report_without_failing(tmp_path, capsys):
    set_dir = make_set(tmp_path / 'backups')
    (set_dir / 'files.tar.gz').write_bytes(b'other')
    out = run_main(capsys, {'backup_dir': str(tmp_path / 'backups'), 'restore': False,
                            'fail_on_error': False, 'pg_bin_dir': fake_pg_restore(tmp_path)})
    assert 'failed' not in out and out['verified'] is False


def test_main_missing_set(tmp_path, capsys):
    (tmp_path / 'backups').mkdir()
    out = run_main(capsys, {'backup_dir': str(tmp_path / 'backups')})
    assert out['msg'] == 'Failed to verify backup set: no complete set (with a manifest) in %s' % (
        tmp_path / 'backups')


# --- a verdict recorded beside an S3 set (the S3 API itself is exercised in Molecule) ----------

class FakeBucket:
    """Just what verify() uses of an S3 client: list, download, get and put objects."""

    def __init__(self, objects):
        self.objects = dict(objects)
        self.puts = []

    def get_paginator(self, _name):
        return self

    def paginate(self, Bucket, Prefix, Delimiter):
        commons = sorted({Prefix + k[len(Prefix):].split('/')[0] + '/'
                          for k in self.objects if k.startswith(Prefix) and '/' in k[len(Prefix):]})
        yield {'CommonPrefixes': [{'Prefix': c} for c in commons]}

    def download_file(self, _bucket, key, target):
        with open(target, 'wb') as handle:
            handle.write(self.objects[key])

    def get_object(self, Bucket, Key):
        import io
        if Key not in self.objects:
            error = Exception('NoSuchKey')
            error.response = {'Error': {'Code': 'NoSuchKey'}}
            raise error
        return {'Body': io.BytesIO(self.objects[Key])}

    def put_object(self, Bucket, Key, Body, **_kwargs):
        self.puts.append(Key)
        self.objects[Key] = Body


def s3_bucket_from(set_dir, prefix='forexai'):
    return FakeBucket({'%s/%s/%s' % (prefix, SET_ID, p.name): p.read_bytes() for p in set_dir.iterdir()})


@pytest.mark.parametrize('check_mode', [False, True])
def test_an_s3_verification_records_its_verdict_bound_to_the_manifest(tmp_path, monkeypatch, check_mode):
    set_dir = make_set(tmp_path / 'made')
    bucket = s3_bucket_from(set_dir)
    monkeypatch.setattr(module, 's3_client', lambda params: bucket)
    result = module.verify(params_for(source='s3', bucket='b', prefix='forexai', restore=False,
                                      record_verdict=True, verdict_host='spare1',
                                      pg_bin_dir=fake_pg_restore(tmp_path)), 's', check_mode)
    assert result['verified'] is True and result['changed'] is True
    assert result['verdict_key'] == 'forexai/%s/verification.json' % SET_ID
    verdict = result['verdict']
    assert verdict['host'] == 'spare1' and verdict['verified'] is True and verdict['failed_checks'] == []
    assert verdict['manifest_sha256'] == hashlib.sha256((set_dir / 'manifest.json').read_bytes()).hexdigest()
    assert bucket.puts == ([] if check_mode else [result['verdict_key']])
    if not check_mode:
        stored = json.loads(bucket.objects[result['verdict_key']])
        assert stored == verdict


def test_a_failed_s3_verification_is_recorded_as_failed(tmp_path, monkeypatch):
    set_dir = make_set(tmp_path / 'made')
    bucket = s3_bucket_from(set_dir)
    bucket.objects['forexai/%s/database.dump' % SET_ID] += b'!'
    monkeypatch.setattr(module, 's3_client', lambda params: bucket)
    result = module.verify(params_for(source='s3', bucket='b', prefix='forexai', restore=False,
                                      record_verdict=True, pg_bin_dir=fake_pg_restore(tmp_path)), 's')
    assert result['verified'] is False
    stored = json.loads(bucket.objects[result['verdict_key']])
    assert stored['verified'] is False and stored['failed_checks'] == ['file:database.dump']


def test_no_verdict_without_record_or_for_a_local_set(tmp_path, monkeypatch):
    set_dir = make_set(tmp_path / 'made')
    bucket = s3_bucket_from(set_dir)
    monkeypatch.setattr(module, 's3_client', lambda params: bucket)
    result = module.verify(params_for(source='s3', bucket='b', prefix='forexai', restore=False,
                                      pg_bin_dir=fake_pg_restore(tmp_path)), 's')
    assert 'verdict' not in result and bucket.puts == [] and result['changed'] is False
    make_set(tmp_path / 'backups')
    local = module.verify(params_for(backup_dir=str(tmp_path / 'backups'), restore=False, record_verdict=True,
                                     pg_bin_dir=str(tmp_path / 'bin')), 's')
    assert 'verdict' not in local and local['changed'] is False
