# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/s3.py beyond the options: the client settings, retries, and the one listing of
the backup sets in a bucket (used by backup_verify, backup_set_fetch and forexai-backup)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import json

import pytest

from ansible_collections.forexai.dr.plugins.module_utils import s3

SET = '20261125T180000Z'


def manifest(set_id, verified=True):
    started = '%s-%s-%sT%s:%s:%sZ' % (set_id[0:4], set_id[4:6], set_id[6:8],
                                      set_id[9:11], set_id[11:13], set_id[13:15])
    return json.dumps({
        'format_version': 1, 'set_id': set_id, 'host': 'db1', 'program_version': '1.0.0',
        'started_at': started, 'finished_at': started, 'verified': verified,
        'database': {'name': 'forexai', 'server_version': '15', 'size_bytes': 1,
                     'dump_format': 'custom', 'dump_path': 'database.dump', 'row_counts': {}},
        'files': {'database.dump': {'sha256': '0' * 64, 'size': 1}}}).encode()


class Error(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.response = {'Error': {'Code': code}}


class Bucket:
    def __init__(self, objects, denied=()):
        self.objects = objects
        self.denied = denied
        self.listed = []

    def get_paginator(self, name):
        return self

    def paginate(self, Bucket, Prefix, Delimiter):
        self.listed.append(Prefix)
        commons = sorted({Prefix + k[len(Prefix):].split('/')[0] + '/'
                          for k in self.objects if k.startswith(Prefix) and '/' in k[len(Prefix):]})
        for common in commons:  # one per page
            yield {'CommonPrefixes': [{'Prefix': common}]}
        yield {}

    def put_object(self, Bucket, Key, Body, **_kwargs):
        self.objects[Key] = Body
        return {}

    def get_object(self, Bucket, Key):
        if Key in self.denied:
            raise Error('AccessDenied')
        if Key not in self.objects:
            raise Error('NoSuchKey')
        return {'Body': io.BytesIO(self.objects[Key])}


@pytest.mark.parametrize('prefix, root', [('', ''), ('db1', 'db1/'), ('/a/b/', 'a/b/')])
def test_sets_root(prefix, root):
    assert s3.sets_root(prefix) == root


def test_list_set_ids_keeps_only_set_ids_sorted():
    bucket = Bucket({'db1/20261126T000000Z/manifest.json': b'', 'db1/%s/database.dump' % SET: b'',
                     'db1/lost+found/x': b'', 'db1/top-level-file': b'', 'db2/20261127T000000Z/x': b''})
    assert s3.list_set_ids(bucket, 'forexai-backups', 'db1') == [SET, '20261126T000000Z']
    assert bucket.listed == ['db1/']


def test_each_request_goes_through_the_callers_call():
    seen = []

    def call(what, func):
        seen.append(what)
        return func()

    bucket = Bucket({'db1/%s/manifest.json' % SET: manifest(SET)})
    s3.set_entries(bucket, 'b', 'db1', call=call)
    assert seen == ['listing s3://b/db1/', 'reading s3://b/db1/%s/manifest.json' % SET,
                    'reading s3://b/db1/%s/verification.json' % SET]


def test_set_entries_describe_complete_incomplete_and_unsound_sets():
    bucket = Bucket({
        'db1/20261125T000000Z/manifest.json': manifest('20261125T000000Z', verified=False),
        'db1/20261125T060000Z/database.dump': b'x',
        'db1/20261125T120000Z/manifest.json': b'{"format_version": 1}',
        'db1/%s/manifest.json' % SET: manifest(SET),
    })
    entries = s3.set_entries(bucket, 'b', 'db1')
    assert [(e['id'], e['manifest'] is not None, e['verified']) for e in entries] == [
        ('20261125T000000Z', True, False), ('20261125T060000Z', False, False),
        ('20261125T120000Z', False, False), (SET, True, True)]
    assert entries[1]['problems'] == [
        'manifest s3://b/db1/20261125T060000Z/manifest.json is missing: the set is incomplete']
    assert "manifest has no 'set_id'" in entries[2]['problems']


def test_an_unreadable_manifest_fails_the_listing_unless_told_otherwise():
    key = 'db1/%s/manifest.json' % SET
    bucket = Bucket({key: manifest(SET)}, denied=(key,))
    with pytest.raises(Error):
        s3.set_entries(bucket, 'b', 'db1')
    (entry,) = s3.set_entries(bucket, 'b', 'db1', unreadable_is_incomplete=True)
    assert entry['manifest'] is None and entry['problems'] == ['no manifest: AccessDenied']


def test_config_kwargs():
    assert s3.config_kwargs({'addressing_style': 'path'}) == {
        's3': {'addressing_style': 'path'}, 'retries': {'max_attempts': 5, 'mode': 'standard'}}
    assert s3.config_kwargs({'addressing_style': 'auto', 'connect_timeout': 10,
                             'read_timeout': 60}, max_attempts=2) == {
        's3': {'addressing_style': 'auto'}, 'retries': {'max_attempts': 2, 'mode': 'standard'},
        'connect_timeout': 10, 'read_timeout': 60}


def test_the_programs_settings_make_a_client_that_reads_its_credentials_file(tmp_path):
    pytest.importorskip('boto3')
    creds = tmp_path / 'credentials'
    creds.write_text('[default]\naws_access_key_id = from-file\naws_secret_access_key = s\n')
    client = s3.s3_client({'endpoint_url': 'https://objectstore', 'region': 'us-east-1',
                           'ca_bundle': '', 'addressing_style': 'path',
                           'credentials_file': str(creds), 'connect_timeout': 3,
                           'read_timeout': 7}, max_attempts=2)
    assert client._request_signer._credentials.access_key == 'from-file'
    assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (3, 7)
    assert client.meta.endpoint_url == 'https://objectstore'


@pytest.mark.parametrize('exc, message', [
    (Error('NoSuchBucket'), 'bucket b does not exist at here'),
    (Error('403'), 'access to here denied (403): check the S3 credentials'),
    (ValueError('odd'), 'ValueError: odd'),
])
def test_describe_error(exc, message):
    assert s3.describe_error(exc, 'here', 'b') == message


def test_with_retries_backs_off_and_gives_up_with_one_message():
    sleeps, warnings, calls = [], [], []

    def flaky():
        calls.append(1)
        raise RuntimeError('reset')

    with pytest.raises(s3.S3Error) as err:
        s3.with_retries('upload of k', flaky, attempts=3, backoff_seconds=2, where='here',
                        warn=warnings.append, sleep=sleeps.append)
    assert str(err.value) == 'upload of k failed after 3 attempt(s): RuntimeError: reset'
    assert len(calls) == 3 and sleeps == [2, 4] and len(warnings) == 2


def test_with_retries_does_not_retry_a_permanent_error():
    calls = []

    def denied():
        calls.append(1)
        raise Error('InvalidAccessKeyId')

    with pytest.raises(s3.S3Error):
        s3.with_retries('x', denied, attempts=5, sleep=lambda s: None)
    assert calls == [1]
    assert s3.with_retries('x', lambda: 42, attempts=5) == 42


# --- verdicts of a verification made after the run, on another host ----------------------------

def verdict_for(set_id, raw_manifest, verified, host='spare1'):
    import datetime
    from ansible_collections.forexai.dr.plugins.module_utils import backup_set
    checks = [{'name': 'manifest', 'ok': True, 'detail': 'sound'},
              {'name': 'row_counts', 'ok': verified, 'detail': 'equal' if verified else 'differ'}]
    return backup_set.verdict_document(set_id, backup_set.sha256_bytes(raw_manifest), verified, host,
                                       checks, {'total': 1.0},
                                       datetime.datetime(2026, 11, 25, 19, 0, tzinfo=datetime.timezone.utc))


def test_a_recorded_verdict_verifies_a_set_the_run_did_not():
    raw = manifest(SET, verified=False)
    bucket = Bucket({'db1/%s/manifest.json' % SET: raw})
    assert [e['verified'] for e in s3.set_entries(bucket, 'b', 'db1')] == [False]
    key = s3.write_verdict(bucket, 'b', 'db1', verdict_for(SET, raw, True))
    assert key == 'db1/%s/verification.json' % SET
    (entry,) = s3.set_entries(bucket, 'b', 'db1')
    assert entry['verified'] is True
    assert entry['verified_by'] == 'verification on spare1 at 2026-11-25T19:00:00Z'
    assert entry['verdict']['failed_checks'] == []


def test_a_failed_verdict_unverifies_the_copy_even_if_the_run_verified_it():
    raw = manifest(SET, verified=True)
    bucket = Bucket({'db1/%s/manifest.json' % SET: raw})
    s3.write_verdict(bucket, 'b', 'db1', verdict_for(SET, raw, False))
    (entry,) = s3.set_entries(bucket, 'b', 'db1')
    assert entry['verified'] is False and entry['verdict']['failed_checks'] == ['row_counts']


def test_a_verdict_for_other_manifest_bytes_is_set_aside_with_the_reason():
    raw = manifest(SET, verified=False)
    bucket = Bucket({'db1/%s/manifest.json' % SET: raw})
    s3.write_verdict(bucket, 'b', 'db1', verdict_for(SET, raw + b' ', True))
    (entry,) = s3.set_entries(bucket, 'b', 'db1')
    assert entry['verified'] is False and entry['verdict'] is None
    assert any('verdict judged another manifest' in p for p in entry['problems'])


def test_an_unreadable_verdict_leaves_the_set_as_its_manifest_says():
    raw = manifest(SET, verified=True)
    key = 'db1/%s/verification.json' % SET
    bucket = Bucket({'db1/%s/manifest.json' % SET: raw, key: b'{}'}, denied=(key,))
    with pytest.raises(Error):
        s3.set_entries(bucket, 'b', 'db1')
    (entry,) = s3.set_entries(bucket, 'b', 'db1', unreadable_is_incomplete=True)
    assert entry['verified'] is True and entry['verified_by'] == 'the backup run'
    assert any(p.startswith('verdict not read') for p in entry['problems'])
