# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for backup set naming, manifest checks, checksums and row counts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import hashlib
import json

import pytest

from ansible_collections.forexai.dr.plugins.module_utils import backup_set as bs

UTC = datetime.timezone.utc


def good_manifest(**changes):
    manifest = {
        'format_version': 1,
        'set_id': '20261125T180000Z',
        'started_at': '2026-11-25T18:00:00Z',
        'finished_at': '2026-11-25T18:00:41.5Z',
        'host': 'db1',
        'program_version': '1.0.0',
        'database': {
            'name': 'forexai',
            'server_version': '15.10',
            'size_bytes': 123,
            'dump_format': 'custom',
            'dump_path': 'database.dump',
            'row_counts': {'public.trades': 3, 'public.users': 0},
        },
        'files': {'database.dump': {'sha256': 'a' * 64, 'size': 10}},
        'verified': True,
    }
    manifest.update(changes)
    return manifest


@pytest.mark.parametrize('moment, expected', [
    (datetime.datetime(2026, 11, 25, 18, 0, 0, 999, tzinfo=UTC), '20261125T180000Z'),
    (datetime.datetime(2026, 11, 25, 13, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))),
     '20261125T180000Z'),
    (datetime.datetime(2028, 2, 29, 23, 59, 59, tzinfo=UTC), '20280229T235959Z'),
])
def test_format_set_id(moment, expected):
    assert bs.format_set_id(moment) == expected
    assert bs.parse_set_id(expected) == moment.astimezone(UTC).replace(microsecond=0)


def test_format_set_id_needs_aware_time():
    with pytest.raises(ValueError) as err:
        bs.format_set_id(datetime.datetime(2026, 1, 1))
    assert str(err.value) == 'set id needs a timezone-aware time'


@pytest.mark.parametrize('text', ['', 'latest', '20261125T180000', '20261325T180000Z',
                                  '20270229T000000Z', '20261125t180000z', None, 20261125])
def test_parse_set_id_rejects(text):
    assert bs.parse_set_id(text) is None


@pytest.mark.parametrize('text, expected', [
    ('2026-11-25T18:00:00Z', datetime.datetime(2026, 11, 25, 18, tzinfo=UTC)),
    ('2026-11-25T19:00:00+01:00', datetime.datetime(2026, 11, 25, 18, tzinfo=UTC)),
    ('2026-11-25T18:00:00.250000z', datetime.datetime(2026, 11, 25, 18, 0, 0, 250000, tzinfo=UTC)),
])
def test_parse_time(text, expected):
    assert bs.parse_time(text) == expected


@pytest.mark.parametrize('text, message', [
    ('2026-11-25T18:00:00', "time has no UTC offset: '2026-11-25T18:00:00'"),
    ('yesterday', "not an ISO 8601 time: 'yesterday'"),
    (None, 'time must be a string, got None'),
])
def test_parse_time_errors(text, message):
    with pytest.raises(ValueError) as err:
        bs.parse_time(text)
    assert str(err.value) == message


def test_temp_database_name():
    assert bs.temp_database_name('forexai', '20261125T180000Z') == 'forexai_verify_20261125t180000z'
    assert bs.temp_database_name('Forex-AI', 'X') == 'forex_ai_verify_x'
    assert len(bs.temp_database_name('d' * 80, '20261125T180000Z')) == 63


@pytest.mark.parametrize('prefix, expected', [
    ('db1', 'db1/20261125T180000Z/database.dump'),
    ('/db1/', 'db1/20261125T180000Z/database.dump'),
    ('a/b', 'a/b/20261125T180000Z/database.dump'),
    ('', '20261125T180000Z/database.dump'),
    (None, '20261125T180000Z/database.dump'),
])
def test_s3_key(prefix, expected):
    assert bs.s3_key(prefix, '20261125T180000Z', 'database.dump') == expected


def test_sha256_file_and_b64(tmp_path):
    data = b'forex' * 300000
    path = tmp_path / 'f'
    path.write_bytes(data)
    digest, size = bs.sha256_file(str(path))
    assert (digest, size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert bs.sha256_hex_to_b64(digest) == base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.mark.parametrize('length, part, parts', [(10, 4, 3), (8, 4, 2), (3, 4, 1),
                                                 (3 * 1024 * 1024 + 1, 1024 * 1024, 4)])
def test_s3_composite_sha256(tmp_path, length, part, parts):
    data = bytes(range(256)) * (length // 256) + bytes(range(length % 256))
    path = tmp_path / 'f'
    path.write_bytes(data)
    inner = b''.join(hashlib.sha256(data[i:i + part]).digest() for i in range(0, length, part))
    expected = '%s-%d' % (base64.b64encode(hashlib.sha256(inner).digest()).decode(), parts)
    assert bs.s3_composite_sha256(str(path), part) == expected


def test_s3_composite_sha256_rejects_zero_part(tmp_path):
    path = tmp_path / 'f'
    path.write_bytes(b'x')
    with pytest.raises(ValueError):
        bs.s3_composite_sha256(str(path), 0)


def test_list_files(tmp_path):
    (tmp_path / 'database.dir').mkdir()
    (tmp_path / 'database.dir' / 'toc.dat').write_bytes(b'1')
    (tmp_path / 'database.dir' / '3001.dat.gz').write_bytes(b'2')
    (tmp_path / 'files.tar.gz').write_bytes(b'3')
    (tmp_path / 'link').symlink_to(tmp_path / 'files.tar.gz')
    assert bs.list_files(str(tmp_path)) == ['database.dir/3001.dat.gz', 'database.dir/toc.dat',
                                            'files.tar.gz']


def test_good_manifest_has_no_problems():
    assert bs.manifest_problems(good_manifest()) == []


def test_directory_dump_manifest():
    manifest = good_manifest(files={'database.dir/toc.dat': {'sha256': 'b' * 64, 'size': 1}})
    manifest['database']['dump_path'] = 'database.dir'
    assert bs.manifest_problems(manifest) == []


@pytest.mark.parametrize('change, problems', [
    ({'verified': 'yes'}, ["manifest 'verified' is not a bool"]),
    ({'format_version': 2}, ['manifest format_version 2 is not supported (expected 1)']),
    ({'set_id': 'latest'}, ["manifest set_id 'latest' is not a set id"]),
    ({'started_at': 'soon'}, ["manifest 'started_at': not an ISO 8601 time: 'soon'"]),
    ({'files': {'../etc/passwd': {'sha256': 'a' * 64, 'size': 1},
                'database.dump': {'sha256': 'a' * 64, 'size': 1}}},
     ["manifest file name '../etc/passwd' is not allowed"]),
    ({'files': {'database.dump': {'sha256': 'A' * 64, 'size': 1}}},
     ['manifest entry for database.dump needs a hex sha256 and an integer size']),
    ({'files': {'database.dump': {'sha256': 'a' * 64, 'size': True}}},
     ['manifest entry for database.dump needs a hex sha256 and an integer size']),
    ({'files': {'files.tar.gz': {'sha256': 'a' * 64, 'size': 1}}},
     ["manifest lists no file for the dump 'database.dump'"]),
])
def test_manifest_problems(change, problems):
    assert bs.manifest_problems(good_manifest(**change)) == problems


def test_manifest_missing_keys():
    manifest = good_manifest()
    del manifest['files']
    del manifest['host']
    assert bs.manifest_problems(manifest) == ["manifest has no 'host'", "manifest has no 'files'"]
    assert bs.manifest_problems([]) == ['manifest is not a JSON object']


def test_manifest_bad_row_count():
    manifest = good_manifest()
    manifest['database']['row_counts']['public.x'] = -1
    del manifest['database']['size_bytes']
    assert bs.manifest_problems(manifest) == [
        "manifest database has no 'size_bytes'",
        'manifest row count for public.x is not a non-negative integer']


def test_load_manifest(tmp_path):
    path = tmp_path / 'manifest.json'
    assert bs.load_manifest(str(path)) == (
        None, ['manifest %s is missing: the set is incomplete' % path])
    path.write_text('{"format_version": 1')
    manifest, problems = bs.load_manifest(str(path))
    assert manifest is None and problems[0].startswith('manifest %s is not valid JSON' % path)
    path.write_text(json.dumps(good_manifest()))
    assert bs.load_manifest(str(path)) == (good_manifest(), [])


def test_check_set_files(tmp_path):
    good = b'good dump'
    (tmp_path / 'database.dump').write_bytes(good)
    (tmp_path / 'files.tar.gz').write_bytes(b'flipped')
    manifest = good_manifest(files={
        'database.dump': {'sha256': hashlib.sha256(good).hexdigest(), 'size': len(good)},
        'files.tar.gz': {'sha256': hashlib.sha256(b'flipper').hexdigest(), 'size': 7},
        'config.tar.age': {'sha256': 'c' * 64, 'size': 5},
        'short': {'sha256': 'c' * 64, 'size': 50},
    })
    (tmp_path / 'short').write_bytes(b'12345')
    results = bs.check_set_files(str(tmp_path), manifest)
    assert results['database.dump']['ok'] is True
    assert results['database.dump']['detail'] == 'sha256 and size match'
    assert results['files.tar.gz'] == {
        'ok': False, 'sha256': hashlib.sha256(b'flipped').hexdigest(), 'size': 7,
        'detail': 'sha256 %s differs from the manifest (%s)' % (
            hashlib.sha256(b'flipped').hexdigest(), hashlib.sha256(b'flipper').hexdigest())}
    assert results['config.tar.age'] == {'ok': False, 'detail': 'missing'}
    assert results['short']['detail'] == 'size 5 differs from the manifest (50)'


@pytest.mark.parametrize('expected, actual, ok, detail', [
    ({'a.t': 1, 'b.t': 2}, {'a.t': 1, 'b.t': 2}, True, '2 tables, row counts equal'),
    ({'a.t': 1}, {'a.t': 2}, False, 'a.t manifest 1, restored 2'),
    ({'a.t': 1, 'b.t': 0}, {'a.t': 1}, False, 'b.t missing after restore (manifest 0)'),
    ({}, {'x.y': 4}, False, 'x.y not in the manifest (restored 4)'),
    ({}, {}, True, '0 tables, row counts equal'),
])
def test_compare_row_counts(expected, actual, ok, detail):
    result = bs.compare_row_counts(expected, actual)
    assert result[:2] == (ok, detail)
    assert bool(result[2]) is not ok


class FakeSQL:
    """Stands in for psycopg2.sql: records how names were quoted."""

    class SQL:
        def __init__(self, text):
            self.text = text

        def format(self, *parts):
            return self.text.format(*parts)

    @staticmethod
    def Identifier(name):
        return '"%s"' % name.replace('"', '""')


class FakeCursor:
    def __init__(self, tables, counts):
        self.tables = tables
        self.counts = counts
        self.executed = []
        self._row = None

    def execute(self, statement, params=None):
        self.executed.append(statement)
        if statement == bs.TABLES_SQL:
            self._rows = list(self.tables)
        else:
            self._row = (self.counts[statement],)

    def fetchall(self):
        return self._rows

    def fetchone(self):
        return self._row


def test_count_rows_quotes_identifiers():
    cursor = FakeCursor([('public', 'trades'), ('Reporting', 'Daily "Totals"')], {
        'SELECT count(*) FROM "public"."trades"': 5,
        'SELECT count(*) FROM "Reporting"."Daily ""Totals"""': 7,
    })
    assert bs.count_rows(cursor, FakeSQL) == {'public.trades': 5, 'Reporting.Daily "Totals"': 7}


@pytest.mark.parametrize('manifest, expected', [
    (good_manifest(), (datetime.datetime(2026, 11, 25, 18, tzinfo=UTC), True, True)),
    (good_manifest(verified=False), (datetime.datetime(2026, 11, 25, 18, tzinfo=UTC), False, True)),
    (None, (datetime.datetime(2025, 1, 2, 6, tzinfo=UTC), False, False)),
])
def test_retention_entry(manifest, expected):
    entry = bs.retention_entry('20250102T060000Z', manifest, 's3')
    assert (entry['started_at'], entry['verified'], entry['complete']) == expected
    assert entry['location'] == 's3'


def test_retention_entry_needs_a_date():
    with pytest.raises(ValueError) as err:
        bs.retention_entry('junk', None, 'local')
    assert str(err.value) == "cannot tell when backup set 'junk' started"


# --- choosing a set: one meaning of "the newest usable set" -------------------------------

def _entry(set_id, verified=True, complete=True):
    started = bs.parse_set_id(set_id).strftime('%Y-%m-%dT%H:%M:%SZ')
    manifest = {'started_at': started, 'verified': verified} if complete else None
    return bs.set_entry(set_id, manifest, [] if complete else ['no manifest'])


ENTRIES = [_entry('20261125T000000Z'), _entry('20261125T060000Z'),
           _entry('20261125T120000Z', verified=False), _entry('20261125T180000Z', complete=False)]


@pytest.mark.parametrize('require_verified, before, expected', [
    (False, None, '20261125T120000Z'),
    (True, None, '20261125T060000Z'),
    (True, '2026-11-25T06:00:00Z', '20261125T000000Z'),   # strictly before
    (False, '2026-11-25T00:00:00Z', None),
])
def test_newest_usable(require_verified, before, expected):
    moment = bs.parse_time(before) if before else None
    chosen = bs.newest_usable(list(reversed(ENTRIES)), require_verified, moment)
    assert (chosen['id'] if chosen else None) == expected


def test_newest_usable_of_nothing():
    assert bs.newest_usable([]) is None
    assert bs.newest_usable([_entry('20261125T180000Z', complete=False)]) is None


def test_local_set_entries(tmp_path):
    good = tmp_path / '20261125T000000Z'
    good.mkdir()
    (tmp_path / '20261125T060000Z').mkdir()          # no manifest: incomplete
    (tmp_path / 'lost+found').mkdir()
    (tmp_path / '20261125T120000Z').write_text('')   # a file, not a set
    (good / 'manifest.json').write_text('{"format_version": 1}')
    entries = bs.local_set_entries(str(tmp_path))
    assert [e['id'] for e in entries] == ['20261125T000000Z', '20261125T060000Z']
    assert entries[0]['manifest'] is None and "manifest has no 'set_id'" in entries[0]['problems']
    assert entries[1]['problems'] == ['manifest %s is missing: the set is incomplete'
                                      % (tmp_path / '20261125T060000Z' / 'manifest.json')]
    assert bs.local_set_entries(str(tmp_path / 'missing')) == []


def test_parse_manifest_names_where_it_came_from():
    assert bs.parse_manifest(b'{', 's3://b/k')[0] is None
    assert bs.parse_manifest(b'{', 's3://b/k')[1][0].startswith('manifest s3://b/k is not valid JSON')


def test_verdicts_are_bound_to_their_set_and_manifest():
    digest = bs.sha256_bytes(b'{"manifest": 1}')
    verdict = bs.verdict_document(
        '20261125T180000Z', digest, True, 'spare1', [{'name': 'restore', 'ok': True, 'detail': 'ok'}],
        {'total': 2.5}, datetime.datetime(2026, 11, 25, 20, 0, tzinfo=datetime.timezone.utc))
    raw = json.dumps(verdict).encode()
    assert bs.parse_verdict(raw, '20261125T180000Z', digest) == (verdict, None)
    assert bs.parse_verdict(raw, '20261125T120000Z', digest)[1] == \
        'verdict is for set 20261125T180000Z, not 20261125T120000Z'
    assert 'another manifest' in bs.parse_verdict(raw, '20261125T180000Z', '0' * 64)[1]
    assert bs.parse_verdict(b'not json', '20261125T180000Z', digest)[0] is None
    with pytest.raises(ValueError):
        bs.verdict_document('x', digest, True, 'h', [], {}, datetime.datetime.now(datetime.timezone.utc))


def test_retention_counts_a_later_verdict():
    raw = {'started_at': '2026-11-25T18:00:00Z', 'verified': False}
    assert bs.retention_entry('20261125T180000Z', raw, 's3')['verified'] is False
    assert bs.retention_entry('20261125T180000Z', raw, 's3', verified=True)['verified'] is True
    assert bs.retention_entry('20261125T180000Z', None, 's3', verified=True)['verified'] is False
