# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where sets are kept: locally (the backup directory) and in S3 (upload with integrity
checks, listing, deletion). The S3 client, its retries and the listing of sets are the
collection's (module_utils/s3.py), shared with the modules that read sets."""

import hashlib

import backup_set
import s3

from forexai_backup.common import EXIT_UPLOAD, EXIT_USAGE, LOG, MIB, BackupError

# botocore retries each request once more; S3Store.with_retries() adds the backoff loop.
BOTOCORE_ATTEMPTS = 2


class IntegrityError(Exception):
    """An uploaded object differs from the local file."""


def local_sets(backup_dir):
    """Retention input for the local sets (a set without a sound manifest is unverified)."""
    return [backup_set.retention_entry(entry['id'], entry['manifest'], 'local')
            for entry in backup_set.local_set_entries(backup_dir)]


class S3Store:
    """The backup bucket, with retries, backoff and clear errors (BackupError EXIT_UPLOAD)."""

    def __init__(self, cfg, client=None):
        self.cfg = cfg['s3']
        if not self.cfg['bucket']:
            raise BackupError(EXIT_USAGE, 'S3 is not configured (s3.bucket is empty)')
        if client is None:
            if not s3.HAS_BOTO3:
                raise BackupError(EXIT_USAGE, 'python3-boto3 is needed for S3 (apt install '
                                  'python3-boto3)')
            client = s3.s3_client(self.cfg, max_attempts=BOTOCORE_ATTEMPTS)
        self.client = client
        self.bucket = self.cfg['bucket']
        self.prefix = self.cfg['prefix']
        self.where = '%s (bucket %s)' % (self.cfg['endpoint_url'] or 'AWS S3', self.bucket)
        self._transfer = None

    @property
    def transfer(self):
        if self._transfer is None:
            from boto3.s3.transfer import TransferConfig
            self._transfer = TransferConfig(
                multipart_threshold=self.cfg['multipart_threshold_mb'] * MIB,
                multipart_chunksize=self.cfg['multipart_chunksize_mb'] * MIB,
                max_concurrency=max(1, self.cfg['max_concurrency']))
        return self._transfer

    def with_retries(self, what, func, *args, **kwargs):
        try:
            return s3.with_retries(what, lambda: func(*args, **kwargs),
                                   attempts=self.cfg['attempts'],
                                   backoff_seconds=self.cfg['backoff_seconds'],
                                   where=self.where, bucket=self.bucket,
                                   passthrough=(BackupError,), warn=LOG.warning)
        except s3.S3Error as exc:
            raise BackupError(EXIT_UPLOAD, str(exc))

    def _call(self, what, func):
        return self.with_retries(what, func)

    def check_bucket(self):
        self.with_retries('reaching %s' % self.where, self.client.head_bucket, Bucket=self.bucket)

    def key(self, set_id, rel):
        return backup_set.s3_key(self.prefix, set_id, rel)

    def _extra_args(self, set_id, digest):
        extra = {'Metadata': {'sha256': digest, 'forexai-set-id': set_id}}
        if self.cfg['sse']:
            extra['ServerSideEncryption'] = self.cfg['sse']
            if self.cfg['sse'] == 'aws:kms' and self.cfg['sse_kms_key_id']:
                extra['SSEKMSKeyId'] = self.cfg['sse_kms_key_id']
        if self.cfg['checksum_algorithm']:
            extra['ChecksumAlgorithm'] = self.cfg['checksum_algorithm']
        return extra

    def _part_size(self, size):
        try:
            from s3transfer.utils import ChunksizeAdjuster
            return ChunksizeAdjuster().adjust_chunksize(self.transfer.multipart_chunksize, size)
        except ImportError:
            return self.transfer.multipart_chunksize

    def _download_sha256(self, key):
        body = self.client.get_object(Bucket=self.bucket, Key=key)['Body']
        digest = hashlib.sha256()
        size = 0
        for block in iter(lambda: body.read(MIB), b''):
            digest.update(block)
            size += len(block)
        return digest.hexdigest(), size

    def verify_object(self, path, key, digest, size):
        """Integrity of one uploaded object. Returns how it was checked; raises on mismatch."""
        head = self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode='ENABLED')
        if head['ContentLength'] != size:
            raise IntegrityError('%s is %d bytes in S3, %d locally'
                                 % (key, head['ContentLength'], size))
        if head.get('Metadata', {}).get('sha256') != digest:
            raise IntegrityError('%s carries sha256 %r in S3, expected %s'
                                 % (key, head.get('Metadata', {}).get('sha256'), digest))
        server = head.get('ChecksumSHA256')
        if self.cfg['verify_upload'] == 'checksum' and server:
            if '-' in server:
                expected = backup_set.s3_composite_sha256(path, self._part_size(size))
            else:
                expected = backup_set.sha256_hex_to_b64(digest)
            if server == expected:
                return 'server SHA-256 checksum'
            LOG.info('%s: server checksum %s is not the expected %s (part size differs?); '
                     'downloading to compare', key, server, expected)
        remote, remote_size = self._download_sha256(key)
        if remote != digest or remote_size != size:
            raise IntegrityError('%s downloaded from S3 has sha256 %s (%d bytes), expected %s '
                                 '(%d bytes)' % (key, remote, remote_size, digest, size))
        return 'downloaded and hashed'

    def upload_file(self, path, set_id, rel, digest, size):
        key = self.key(set_id, rel)

        def attempt():
            self.client.upload_file(path, self.bucket, key,
                                    ExtraArgs=self._extra_args(set_id, digest),
                                    Config=self.transfer)
            return self.verify_object(path, key, digest, size)

        how = self.with_retries('upload of %s' % key, attempt)
        LOG.info('uploaded %s (%d bytes), integrity checked: %s', key, size, how)
        return key

    def list_sets(self):
        """Sorted ids of the sets in the bucket (the collection's one listing)."""
        return s3.list_set_ids(self.client, self.bucket, self.prefix, call=self._call)

    def entries(self):
        """Retention input for the sets in S3; a set without a sound manifest is unverified."""
        return [backup_set.retention_entry(entry['id'], entry['manifest'], 's3',
                                           verified=entry['verified'])
                for entry in s3.set_entries(self.client, self.bucket, self.prefix,
                                            call=self._call)]

    def delete_set(self, set_id):
        """Delete the manifest first, so a half-deleted set never looks complete."""
        manifest_key = self.key(set_id, backup_set.MANIFEST_NAME)
        self.with_retries('deleting %s' % manifest_key, self.client.delete_object,
                          Bucket=self.bucket, Key=manifest_key)
        prefix = backup_set.s3_set_prefix(self.prefix, set_id)

        def delete_rest():
            paginator = self.client.get_paginator('list_objects_v2')
            removed = 0
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                keys = [{'Key': o['Key']} for o in page.get('Contents', [])]
                if keys:
                    answer = self.client.delete_objects(Bucket=self.bucket,
                                                        Delete={'Objects': keys, 'Quiet': True})
                    if answer.get('Errors'):
                        raise RuntimeError('could not delete %s' % answer['Errors'][0])
                    removed += len(keys)
            return removed

        return self.with_retries('deleting %s' % prefix, delete_rest) + 1


def upload_set(store, run, manifest_path):
    """Upload every file of the set, each checked, then its manifest (last)."""
    store.check_bucket()
    for rel, entry in sorted(run.files.items()):
        store.upload_file(run.path(rel), run.set_id, rel, entry['sha256'], entry['size'])
    digest, size = backup_set.sha256_file(manifest_path)
    store.upload_file(manifest_path, run.set_id, backup_set.MANIFEST_NAME, digest, size)
    LOG.info('set %s complete in S3 under %s', run.set_id,
             backup_set.s3_set_prefix(store.prefix, run.set_id))
