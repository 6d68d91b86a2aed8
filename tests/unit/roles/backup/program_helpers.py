# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-ins for the backup program's unit tests: set directories, manifests, a bucket."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import json


def manifest_for(set_id, verified=True, files=None, dump_path='database.dump'):
    started = '%s-%s-%sT%s:%s:%sZ' % (set_id[0:4], set_id[4:6], set_id[6:8],
                                      set_id[9:11], set_id[11:13], set_id[13:15])
    return {
        'format_version': 1, 'set_id': set_id, 'host': 'db1', 'program_version': '1',
        'started_at': started, 'finished_at': started, 'verified': verified,
        'database': {'name': 'forexai', 'server_version': '15', 'size_bytes': 1,
                     'dump_format': 'custom', 'dump_path': dump_path, 'row_counts': {}},
        'files': files or {dump_path: {'sha256': '0' * 64, 'size': 1}}}


def fake_set(backup_dir, set_id, verified=True, complete=True):
    path = backup_dir / set_id
    path.mkdir(parents=True)
    (path / 'database.dump').write_bytes(b'x')
    if complete:
        (path / 'manifest.json').write_text(json.dumps(manifest_for(set_id, verified)))
    return path


class ClientError(Exception):
    """Shaped like botocore's: ``response['Error']['Code']``."""

    def __init__(self, code):
        super().__init__('An error occurred (%s)' % code)
        self.response = {'Error': {'Code': code}}


class FakeS3:
    """An in-memory bucket with the few calls the program and module_utils/s3.py make."""

    def __init__(self, objects=None, page_size=2):
        self.objects = dict(objects or {})
        self.page_size = page_size
        self.calls = []
        self.fail = {}  # call name -> list of exceptions to raise first

    def _maybe_fail(self, name):
        self.calls.append(name)
        pending = self.fail.get(name)
        if pending:
            raise pending.pop(0)

    def get_paginator(self, name):
        assert name == 'list_objects_v2'
        return self

    def paginate(self, Bucket, Prefix='', Delimiter=None):
        self._maybe_fail('list_objects_v2')
        keys = sorted(k for k in self.objects if k.startswith(Prefix))
        if Delimiter:
            commons = sorted({Prefix + k[len(Prefix):].split(Delimiter, 1)[0] + Delimiter
                              for k in keys if Delimiter in k[len(Prefix):]})
            for i in range(0, max(len(commons), 1), self.page_size):
                yield {'CommonPrefixes': [{'Prefix': c} for c in commons[i:i + self.page_size]]}
        else:
            for i in range(0, max(len(keys), 1), self.page_size):
                yield {'Contents': [{'Key': k} for k in keys[i:i + self.page_size]]}

    def get_object(self, Bucket, Key):
        self._maybe_fail('get_object')
        if Key not in self.objects:
            raise ClientError('NoSuchKey')
        return {'Body': io.BytesIO(self.objects[Key])}

    def head_bucket(self, Bucket):
        self._maybe_fail('head_bucket')

    def delete_object(self, Bucket, Key):
        self._maybe_fail('delete_object')
        self.calls.append('delete:%s' % Key)
        self.objects.pop(Key, None)

    def delete_objects(self, Bucket, Delete):
        self._maybe_fail('delete_objects')
        for obj in Delete['Objects']:
            self.calls.append('delete:%s' % obj['Key'])
            self.objects.pop(obj['Key'], None)
        return {}
