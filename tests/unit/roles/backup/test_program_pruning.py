# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""forexai_backup.pruning: the retention decision applied locally and in S3."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os

from forexai_backup import pruning, storage
from forexai_backup.common import EXIT_UPLOAD, BackupError

from program_helpers import FakeS3, fake_set, manifest_for

UTC = datetime.timezone.utc
NOW = datetime.datetime(2025, 6, 15, 12, tzinfo=UTC)


def test_local_prune(tmp_path, load):
    backups = tmp_path / 'b'
    fake_set(backups, '20250101T000000Z')               # monthly snapshot of January
    fake_set(backups, '20250101T060000Z')               # expired
    fake_set(backups, '20250520T000000Z', complete=False)  # incomplete, inside 30 days
    fake_set(backups, '20250301T000000Z', complete=False)  # incomplete, expired
    fake_set(backups, '20250614T000000Z')               # newest verified
    fake_set(backups, '20260101T000000Z', verified=False)  # in the future
    (backups / 'not-a-set').mkdir()
    cfg = load({'backup_dir': str(backups)})

    dry = pruning.prune(cfg, NOW, dry_run=True)
    assert sorted(os.listdir(str(backups))) == ['20250101T000000Z', '20250101T060000Z',
                                                '20250301T000000Z', '20250520T000000Z',
                                                '20250614T000000Z', '20260101T000000Z',
                                                'not-a-set']
    assert [e['id'] for e in dry['delete']] == ['20250101T060000Z', '20250301T000000Z']
    assert dry['deleted'] == []

    report = pruning.prune(cfg, NOW)
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


def bucket(*sets, **kw):
    objects = {}
    for set_id in sets:
        objects['db1/%s/database.dump' % set_id] = b'x'
        if kw.get('complete', True):
            objects['db1/%s/manifest.json' % set_id] = json.dumps(manifest_for(set_id)).encode()
    return FakeS3(objects)


def store_for(client):
    def make(cfg):
        return storage.S3Store(cfg, client=client)
    return make


def test_s3_is_pruned_on_its_own_window(tmp_path, load):
    client = bucket('20250101T000000Z', '20250102T000000Z', '20250401T000000Z', '20250614T000000Z')
    cfg = load({'backup_dir': str(tmp_path / 'none'),
                's3': {'bucket': 'forexai-backups', 'prefix': 'db1'}})
    report = pruning.prune(cfg, NOW, make_store=store_for(client))
    # S3 keeps 90 days: 2 January is older and not the month's first set.
    assert [(e['location'], e['id']) for e in report['deleted']] == [('s3', '20250102T000000Z')]
    assert not [k for k in client.objects if k.startswith('db1/20250102T000000Z/')]
    deletes = [c for c in client.calls if c.startswith('delete:db1/20250102T000000Z/')]
    assert deletes[0] == 'delete:db1/20250102T000000Z/manifest.json'  # manifest first


def test_local_only_leaves_s3_alone(tmp_path, load):
    client = bucket('20250102T000000Z', '20250614T000000Z')
    cfg = load({'backup_dir': str(tmp_path), 's3': {'bucket': 'forexai-backups', 'prefix': 'db1'}})
    report = pruning.prune(cfg, NOW, use_s3=False, make_store=store_for(client))
    assert report['keep'] == [] and client.calls == []


def test_an_unreachable_s3_is_an_error_and_local_sets_are_still_pruned(tmp_path, load):
    backups = tmp_path / 'b'
    fake_set(backups, '20250101T000000Z')
    fake_set(backups, '20250101T060000Z')
    fake_set(backups, '20250614T000000Z')
    cfg = load({'backup_dir': str(backups), 's3': {'bucket': 'forexai-backups'}})

    def unreachable(cfg):
        raise BackupError(EXIT_UPLOAD, 'listing failed after 5 attempt(s): unreachable')

    report = pruning.prune(cfg, NOW, make_store=unreachable)
    assert report['errors'] == ['S3: listing failed after 5 attempt(s): unreachable']
    assert [e['id'] for e in report['deleted']] == ['20250101T060000Z']
