# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""forexai_backup.storage: sets locally and in S3 (the client and listing are module_utils')."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json

import pytest

from forexai_backup import storage
from forexai_backup.common import EXIT_UPLOAD, EXIT_USAGE, BackupError

from program_helpers import ClientError, FakeS3, fake_set, manifest_for


@pytest.fixture
def cfg(load, tmp_path):
    return load({'backup_dir': str(tmp_path),
                 's3': {'bucket': 'forexai-backups', 'prefix': 'db1', 'attempts': 3,
                        'backoff_seconds': 0}})


def test_no_bucket_is_a_usage_error(load):
    with pytest.raises(BackupError) as err:
        storage.S3Store(load({}))
    assert (err.value.code, err.value.message) == (EXIT_USAGE,
                                                   'S3 is not configured (s3.bucket is empty)')


def test_local_sets_are_retention_entries(tmp_path):
    fake_set(tmp_path, '20250101T000000Z')
    fake_set(tmp_path, '20250102T000000Z', verified=False)
    fake_set(tmp_path, '20250103T000000Z', complete=False)
    (tmp_path / 'lost+found').mkdir()
    entries = storage.local_sets(str(tmp_path))
    assert [(e['id'], e['verified'], e['complete'], e['location']) for e in entries] == [
        ('20250101T000000Z', True, True, 'local'), ('20250102T000000Z', False, True, 'local'),
        ('20250103T000000Z', False, False, 'local')]
    assert storage.local_sets(str(tmp_path / 'missing')) == []


def test_sets_in_s3_are_listed_once_for_all(cfg):
    client = FakeS3({
        'db1/20250101T000000Z/manifest.json': json.dumps(manifest_for('20250101T000000Z')).encode(),
        'db1/20250101T000000Z/database.dump': b'x',
        'db1/20250102T000000Z/database.dump': b'x',           # incomplete
        'db1/20250103T000000Z/manifest.json': b'{not json',    # unsound
        'db1/scratch/file': b'x',                              # not a set
        'other/20250104T000000Z/manifest.json': b'{}',         # another prefix
    }, page_size=1)
    store = storage.S3Store(cfg, client=client)
    assert store.list_sets() == ['20250101T000000Z', '20250102T000000Z', '20250103T000000Z']
    entries = store.entries()
    assert [(e['id'], e['complete'], e['verified'], e['location']) for e in entries] == [
        ('20250101T000000Z', True, True, 's3'), ('20250102T000000Z', False, False, 's3'),
        ('20250103T000000Z', False, False, 's3')]


def test_transient_errors_are_retried_permanent_ones_are_not(cfg, caplog):
    client = FakeS3()
    client.fail['head_bucket'] = [RuntimeError('connection reset'), RuntimeError('reset again')]
    store = storage.S3Store(cfg, client=client)
    store.check_bucket()
    assert client.calls.count('head_bucket') == 3
    assert 'failed (attempt 1/3): RuntimeError: connection reset; retrying' in caplog.text

    client.fail['head_bucket'] = [ClientError('AccessDenied')] * 3
    with pytest.raises(BackupError) as err:
        store.check_bucket()
    assert err.value.code == EXIT_UPLOAD
    assert err.value.message == ('reaching AWS S3 (bucket forexai-backups) failed after 1 '
                                 'attempt(s): access to AWS S3 (bucket forexai-backups) denied '
                                 '(AccessDenied): check the S3 credentials')


def test_a_backup_error_inside_a_retry_is_not_retried(cfg):
    store = storage.S3Store(cfg, client=FakeS3())
    calls = []

    def fail():
        calls.append(1)
        raise BackupError(EXIT_USAGE, 'stop')

    with pytest.raises(BackupError):
        store.with_retries('x', fail)
    assert calls == [1]


def test_delete_set_removes_the_manifest_first(cfg):
    client = FakeS3({'db1/20250101T000000Z/%s' % n: b'x'
                     for n in ('database.dump', 'files.tar.gz', 'manifest.json')})
    store = storage.S3Store(cfg, client=client)
    assert store.delete_set('20250101T000000Z') == 3
    deletes = [c for c in client.calls if c.startswith('delete:')]
    assert deletes[0] == 'delete:db1/20250101T000000Z/manifest.json' and client.objects == {}


class Head(FakeS3):
    def __init__(self, head, body):
        super().__init__({'k': body})
        self.head = head

    def head_object(self, Bucket, Key, ChecksumMode):
        return self.head


def test_verify_object_by_server_checksum_or_download(cfg, tmp_path):
    data = b'forexai' * 100
    path = tmp_path / 'f'
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    import backup_set
    good = {'ContentLength': len(data), 'Metadata': {'sha256': digest},
            'ChecksumSHA256': backup_set.sha256_hex_to_b64(digest)}
    store = storage.S3Store(cfg, client=Head(good, data))
    assert store.verify_object(str(path), 'k', digest, len(data)) == 'server SHA-256 checksum'
    no_checksum = dict(good, ChecksumSHA256=None)
    store = storage.S3Store(cfg, client=Head(no_checksum, data))
    assert store.verify_object(str(path), 'k', digest, len(data)) == 'downloaded and hashed'
    store = storage.S3Store(cfg, client=Head(no_checksum, data[:-1] + b'X'))
    with pytest.raises(storage.IntegrityError) as err:
        store.verify_object(str(path), 'k', digest, len(data))
    assert 'downloaded from S3 has sha256' in str(err.value)
    store = storage.S3Store(cfg, client=Head(dict(good, ContentLength=1), data))
    with pytest.raises(storage.IntegrityError) as err:
        store.verify_object(str(path), 'k', digest, len(data))
    assert str(err.value) == 'k is 1 bytes in S3, %d locally' % len(data)


def test_upload_set_sends_the_manifest_last(cfg, tmp_path):
    class Store:
        prefix = 'db1'

        def __init__(self):
            self.sent = []

        def check_bucket(self):
            self.sent.append('check')

        def upload_file(self, path, set_id, rel, digest, size):
            self.sent.append(rel)

    class Run:
        set_id = '20250101T000000Z'
        files = {'files.tar.gz': {'sha256': 'a', 'size': 1},
                 'database.dump': {'sha256': 'b', 'size': 1}}

        def path(self, rel):
            return str(tmp_path / rel)

    manifest = tmp_path / 'manifest.json'
    manifest.write_text('{}')
    store = Store()
    storage.upload_set(store, Run(), str(manifest))
    assert store.sent == ['check', 'database.dump', 'files.tar.gz', 'manifest.json']
