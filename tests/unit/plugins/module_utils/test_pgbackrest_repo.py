# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an off-site pgBackRest repository holds, from its key names."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.forexai.dr.plugins.module_utils import pgbackrest_repo as repo

UTC = datetime.timezone.utc
SHA = 'a' * 40


@pytest.mark.parametrize('name, kind, full', [
    ('20261202-031500F', 'full', '20261202-031500F'),
    ('20261202-031500F_20261202-041500D', 'diff', '20261202-031500F'),
    ('20261202-031500F_20261203-010000I', 'incr', '20261202-031500F'),
])
def test_backup_labels(name, kind, full):
    label = repo.backup_label(name)
    assert label['type'] == kind and label['full'] == full


def test_a_label_carries_its_start():
    assert repo.backup_label('20261202-031500F_20261203-010000I')['started_at'] == \
        '2026-12-03T01:00:00Z'
    assert repo.backup_label('backup.history') is None


@pytest.mark.parametrize('archive_id, major', [('15-1', '15'), ('9.6-2', '9.6'), ('x', None)])
def test_archive_major(archive_id, major):
    assert repo.archive_major(archive_id) == major


def test_wal_segment_names():
    seg = repo.wal_segment('000000020000000000000004-%s.lz4' % SHA)
    assert seg == {'segment': '000000020000000000000004', 'timeline': 2, 'partial': False}
    assert repo.wal_segment('000000010000000000000004.partial-%s.lz4' % SHA)['partial'] is True
    assert repo.wal_segment('00000002.history') is None


def test_summary_of_a_usable_repository():
    t1 = datetime.datetime(2026, 12, 2, 3, 0, 0, 500, tzinfo=UTC)
    t2 = datetime.datetime(2026, 12, 2, 3, 0, 10, tzinfo=UTC)
    summary = repo.summarize(
        ['20261202-025000F', '20261202-025000F_20261202-025500D', 'backup.history'],
        ['15-1'], ['00000002.history'],
        [('000000020000000000000005-%s.lz4' % SHA, t1),
         ('000000020000000000000006-%s.lz4' % SHA, t2)])
    assert summary['usable'] is True and summary['problems'] == []
    assert summary['backup_count'] == 2
    assert summary['newest_backup']['label'] == '20261202-025000F_20261202-025500D'
    assert summary['pg_major'] == '15' and summary['timelines'] == [2]
    assert summary['newest_wal']['segment'] == '000000020000000000000006'
    assert summary['newest_wal']['archived_at'] == '2026-12-02T03:00:10Z'


def test_an_empty_repository_says_what_is_missing():
    summary = repo.summarize([], [], [], [])
    assert summary['usable'] is False
    assert summary['problems'] == ['no backup in the repository', 'no WAL archive in the repository']


def test_the_newest_archive_id_and_wal_directory():
    assert repo.newest_archive_id(['15-1', '16-2', 'archive.info']) == '16-2'
    assert repo.newest_wal_dir(['0000000100000000', '0000000200000000', 'x']) == '0000000200000000'
    assert repo.repo_root('/pgbackrest') == 'pgbackrest/' and repo.repo_root('/') == ''


class FakePaginator:
    def __init__(self, keys):
        self.keys = keys

    def paginate(self, Bucket, Prefix, Delimiter):
        dirs, contents = set(), []
        for key, modified in self.keys:
            if not key.startswith(Prefix):
                continue
            rest = key[len(Prefix):]
            if Delimiter in rest:
                dirs.add(Prefix + rest.split(Delimiter)[0] + Delimiter)
            else:
                contents.append({'Key': key, 'LastModified': modified})
        yield {'CommonPrefixes': [{'Prefix': d} for d in sorted(dirs)], 'Contents': contents}


class FakeClient:
    def __init__(self, keys):
        self.keys = keys

    def get_paginator(self, _name):
        return FakePaginator(self.keys)


def test_listing_reads_the_layout():
    t = datetime.datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    keys = [('pgbackrest/backup/forexai/backup.info', t),
            ('pgbackrest/backup/forexai/20261202-025000F/backup.manifest', t),
            ('pgbackrest/archive/forexai/archive.info', t),
            ('pgbackrest/archive/forexai/15-1/00000002.history', t),
            ('pgbackrest/archive/forexai/15-1/0000000100000000/000000010000000000000003-%s.lz4' % SHA, t),
            ('pgbackrest/archive/forexai/15-1/0000000200000000/000000020000000000000004-%s.lz4' % SHA, t)]
    summary = repo.repository_listing(FakeClient(keys), 'b', '/pgbackrest', 'forexai')
    assert summary['usable'] is True and summary['timelines'] == [2]
    assert summary['newest_wal']['segment'] == '000000020000000000000004'
    assert summary['location'] == 's3://b/pgbackrest/'
    broken = [k for k in keys if not k[0].endswith('backup.info')]
    summary = repo.repository_listing(FakeClient(broken), 'b', '/pgbackrest', 'forexai')
    assert summary['usable'] is False
    assert summary['problems'] == ['backup.info is missing: pgBackRest cannot use the backups']
