# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the pure parts of the restore modules."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.forexai.dr.plugins.module_utils import backup_set
from ansible_collections.forexai.dr.plugins.module_utils import restore as r

UTC = datetime.timezone.utc


def manifest(set_id, verified=True, started=None):
    started = started or '%s-%s-%sT%s:%s:%sZ' % (set_id[0:4], set_id[4:6], set_id[6:8],
                                                 set_id[9:11], set_id[11:13], set_id[13:15])
    return {
        'set_id': set_id, 'started_at': started, 'finished_at': started, 'host': 'db1',
        'verified': verified,
        'database': {'name': 'forexai', 'server_version': '15.10', 'size_bytes': 9000,
                     'dump_path': 'database.dump', 'dump_format': 'custom',
                     'row_counts': {'public.trades': 20, 'public.users': 2}},
        'files': {'database.dump': {'sha256': 'a' * 64, 'size': 1500}},
    }


def entries():
    return [
        backup_set.set_entry('20261125T000000Z', manifest('20261125T000000Z')),
        backup_set.set_entry('20261125T060000Z', manifest('20261125T060000Z')),
        backup_set.set_entry('20261125T120000Z', manifest('20261125T120000Z', verified=False)),
        backup_set.set_entry('20261125T180000Z', None, ['manifest is missing: the set is incomplete']),
    ]


# --- names ---------------------------------------------------------------------------------

def test_utc_stamp_is_lower_case_utc():
    moment = datetime.datetime(2026, 11, 26, 1, 2, 3, tzinfo=datetime.timezone(
        datetime.timedelta(hours=2)))
    assert r.utc_stamp(moment) == '20261125t230203z'


def test_utc_stamp_needs_a_timezone():
    with pytest.raises(ValueError, match='timezone-aware'):
        r.utc_stamp(datetime.datetime(2026, 11, 25))


@pytest.mark.parametrize('name', [
    'trades', 'Trades', 'Trade Notes', 'trades"; DROP TABLE users; --', "o'brien", 'a.b.c',
    'x' * 63, 'é' * 31,
])
def test_check_identifier_takes_any_name_the_database_can_hold(name):
    assert r.check_identifier(name, 'table') == name


@pytest.mark.parametrize('name, message', [
    ('', 'table is empty'),
    (None, 'table is empty'),
    ('x' * 64, 'is longer than 63 bytes'),
    ('é' * 32, 'is longer than 63 bytes'),
    ('two\nlines', 'holds a NUL or a line break'),
    ('nul\x00', 'holds a NUL or a line break'),
])
def test_check_identifier_refuses_what_cannot_be_a_name(name, message):
    with pytest.raises(r.RestoreError) as err:
        r.check_identifier(name, 'table')
    assert message in str(err.value)


@pytest.mark.parametrize('schema, table, text', [
    ('public', 'trades', '"public"."trades"'),
    ('Ops', 'Desk Limits', '"Ops"."Desk Limits"'),
    ('public', 'trades"; DROP TABLE users; --', '"public"."trades""; DROP TABLE users; --"'),
    ('a.b', 'c', '"a.b"."c"'),
])
def test_qualified_name_quotes_both_parts(schema, table, text):
    assert r.qualified_name(schema, table) == text


def test_saved_rows_table_fits_in_63_bytes():
    assert r.saved_rows_table('trades', '20261125t230203z') == 'trades_20261125t230203z'
    long_name = r.saved_rows_table('é' * 31, '20261125t230203z')
    assert len(long_name.encode('utf-8')) <= 63
    assert long_name.endswith('_20261125t230203z') and long_name.startswith('é')


def test_plain_names_are_still_checked_for_derived_databases():
    with pytest.raises(r.RestoreError, match='is refused'):
        r.check_name('my db', 'database name')


def test_derived_name():
    assert r.derived_name('forexai', 'pre_restore', '20261125t230203z') == \
        'forexai_pre_restore_20261125t230203z'
    with pytest.raises(r.RestoreError, match='longer than 63 bytes'):
        r.derived_name('f' * 40, 'pre_restore', '20261125t230203z')


# --- choosing a set ----------------------------------------------------------------------------

def test_default_is_the_newest_verified_complete_set():
    assert r.choose_set(entries())['id'] == '20261125T060000Z'


def test_unverified_sets_are_usable_when_allowed():
    assert r.choose_set(entries(), require_verified=False)['id'] == '20261125T120000Z'


def test_newest_before_a_time_is_strictly_before():
    before = datetime.datetime(2026, 11, 25, 6, 0, 0, tzinfo=UTC)
    assert r.choose_set(entries(), before=before)['id'] == '20261125T000000Z'


def test_nothing_before_a_time():
    before = datetime.datetime(2026, 11, 24, tzinfo=UTC)
    with pytest.raises(r.RestoreError) as err:
        r.choose_set(entries(), before=before)
    assert str(err.value) == 'no verified backup set started before 20261124T000000Z (4 set(s) seen)'


def test_by_id_wins_over_before():
    before = datetime.datetime(2026, 11, 24, tzinfo=UTC)
    assert r.choose_set(entries(), set_id='20261125T000000Z', before=before)['id'] == \
        '20261125T000000Z'


@pytest.mark.parametrize('set_id, message', [
    ('20261125T120000Z', 'backup set 20261125T120000Z was not verified by a test restore; '
                         'allow unverified sets to use it anyway'),
    ('20261125T180000Z', 'backup set 20261125T180000Z is incomplete: '
                         'manifest is missing: the set is incomplete'),
    ('20261126T000000Z', 'backup set 20261126T000000Z does not exist'),
    ('latest; rm -rf /', "'latest; rm -rf /' is not a backup set id (like 20261125T180000Z)"),
])
def test_by_id_errors(set_id, message):
    with pytest.raises(r.RestoreError) as err:
        r.choose_set(entries(), set_id=set_id)
    assert str(err.value) == message


def test_no_sets_at_all():
    with pytest.raises(r.RestoreError) as err:
        r.choose_set([])
    assert str(err.value) == 'no verified backup set found (0 set(s) seen)'


def test_set_summary():
    now = datetime.datetime(2026, 11, 25, 7, 2, 3, tzinfo=UTC)
    summary = r.set_summary(entries()[1], now)
    assert summary['set_id'] == '20261125T060000Z'
    assert summary['age_seconds'] == 3723
    assert summary['age'] == '1h 2m 3s'
    assert (summary['tables'], summary['rows'], summary['bytes']) == (2, 22, 1500)
    assert summary['archives'] == {}


@pytest.mark.parametrize('number, major', [(150010, '15'), (170002, '17'), (90624, '9.6'),
                                           (None, None), ('x', None)])
def test_server_major(number, major):
    assert r.server_major(number) == major


@pytest.mark.parametrize('seconds, text', [
    (65, '1m 5s'), (3600, '1h 0m 0s'), (90061, '1d 1h 1m'), (-5, 'in the future (5s): clock skew?'),
])
def test_describe_age(seconds, text):
    assert r.describe_age(datetime.timedelta(seconds=seconds)) == text


# --- TOC ---------------------------------------------------------------------------------------

TOC = """;
; Archive created at 2026-11-25 18:00:00 UTC
;     dbname: forexai
;
; Selected TOC Entries:
;
5; 2615 2200 SCHEMA - public pg_database_owner
3401; 0 0 COMMENT - SCHEMA public pg_database_owner
2; 3079 16390 EXTENSION - pgcrypto
850; 1247 16400 TYPE public side_kind forexai
216; 1259 16406 TABLE public trades forexai
215; 1259 16405 SEQUENCE public trades_id_seq forexai
3405; 0 0 SEQUENCE OWNED BY public trades_id_seq forexai
217; 1259 16420 TABLE public trades_archive forexai
3230; 2604 16409 DEFAULT public trades id forexai
3380; 0 16406 TABLE DATA public trades forexai
3381; 0 16420 TABLE DATA public trades_archive forexai
3410; 0 0 SEQUENCE SET public trades_id_seq forexai
3235; 2606 16413 CONSTRAINT public trades trades_pkey forexai
3240; 1259 16416 INDEX public trades_user_id_idx forexai
3250; 2606 16425 FK CONSTRAINT public trades trades_user_id_fkey forexai
3260; 2620 16430 TRIGGER public trades trades_audit forexai
218; 1259 16440 TABLE audit log forexai
"""


def test_parse_toc_reads_kinds_with_spaces():
    parsed = r.parse_toc(TOC)
    kinds = [(e['kind'], e['schema'], e['rest']) for e in parsed]
    assert ('TABLE DATA', 'public', 'trades forexai') in kinds
    assert ('FK CONSTRAINT', 'public', 'trades trades_user_id_fkey forexai') in kinds
    assert ('SEQUENCE OWNED BY', 'public', 'trades_id_seq forexai') in kinds
    assert ('SCHEMA', '-', 'public pg_database_owner') in kinds
    assert all(not e['line'].startswith(';') for e in parsed)


def test_scratch_toc_keeps_only_the_table_and_its_prerequisites():
    keep = r.scratch_toc(r.parse_toc(TOC), 'public', 'trades').splitlines()
    assert keep == [
        '5; 2615 2200 SCHEMA - public pg_database_owner',
        '2; 3079 16390 EXTENSION - pgcrypto',
        '850; 1247 16400 TYPE public side_kind forexai',
        '216; 1259 16406 TABLE public trades forexai',
        '3380; 0 16406 TABLE DATA public trades forexai',
    ]


def test_table_in_toc_does_not_match_a_longer_name():
    parsed = r.parse_toc(TOC)
    assert r.table_in_toc(parsed, 'public', 'trade') == (False, False)
    assert r.table_in_toc(parsed, 'public', 'trades_archive') == (True, True)
    assert r.table_in_toc(parsed, 'other', 'trades') == (False, False)


ODD_TOC = """
216; 1259 16406 TABLE public My Table forexai
217; 1259 16407 TABLE public My forexai
218; 1259 16408 TABLE public a "quoted"; name forexai
3380; 0 16406 TABLE DATA public My Table forexai
3381; 0 16407 TABLE DATA public My forexai
3382; 0 16408 TABLE DATA public a "quoted"; name forexai
3383; 0 16409 TABLE DATA Ops Data Desk Limits forexai
219; 1259 16409 TABLE Ops Data Desk Limits forexai
"""


@pytest.mark.parametrize('schema, table, lines', [
    ('public', 'My', ['217; 1259 16407 TABLE public My forexai',
                      '3381; 0 16407 TABLE DATA public My forexai']),
    ('public', 'My Table', ['216; 1259 16406 TABLE public My Table forexai',
                            '3380; 0 16406 TABLE DATA public My Table forexai']),
    ('public', 'a "quoted"; name', ['218; 1259 16408 TABLE public a "quoted"; name forexai',
                                    '3382; 0 16408 TABLE DATA public a "quoted"; name forexai']),
    ('Ops Data', 'Desk Limits', ['3383; 0 16409 TABLE DATA Ops Data Desk Limits forexai',
                                 '219; 1259 16409 TABLE Ops Data Desk Limits forexai']),
])
def test_scratch_toc_finds_names_with_spaces_and_quotes_exactly(schema, table, lines):
    assert r.scratch_toc(r.parse_toc(ODD_TOC), schema, table).splitlines() == lines


def test_a_dump_without_owners_is_matched_too():
    toc = '216; 1259 16406 TABLE public My Table\n3380; 0 16406 TABLE DATA public My Table\n'
    assert r.table_in_toc(r.parse_toc(toc), 'public', 'My Table') == (True, True)
    # (Here "My" owned by "Table" reads the same; asked for "My", the scratch copy then lacks
    # it and the module stops with "not in the backup" before the live table is touched.)


@pytest.mark.parametrize('table, message', [
    ('positions', 'table public.positions is not in the backup'),
])
def test_scratch_toc_refuses_a_table_absent_from_the_backup(table, message):
    with pytest.raises(r.RestoreError) as err:
        r.scratch_toc(r.parse_toc(TOC), 'public', table)
    assert str(err.value) == message


def test_scratch_toc_refuses_a_table_without_data():
    toc = '216; 1259 16406 TABLE public trades forexai\n'
    with pytest.raises(r.RestoreError) as err:
        r.scratch_toc(r.parse_toc(toc), 'public', 'trades')
    assert str(err.value) == 'the backup has no data for table public.trades'


# --- sequences and steps ---------------------------------------------------------------------------

@pytest.mark.parametrize('max_value, last_value, is_called, expected', [
    (500, 400, True, 500),      # behind: moved up
    (500, 500, True, None),     # exactly right
    (500, 900, True, None),     # ahead (ids handed out since): never moved back
    (500, 500, False, 500),     # not called: the next value would be 500 again
    (None, 1, False, None),     # empty table: left alone
])
def test_sequence_target(max_value, last_value, is_called, expected):
    assert r.sequence_target(max_value, last_value, is_called) == expected


@pytest.mark.parametrize('mode, delete_absent, steps', [
    ('replace', True, ['delete', 'update', 'insert']),
    ('replace', None, ['update', 'insert']),
    ('replace', False, ['update', 'insert']),
    ('missing_only', True, ['insert']),
    ('missing_only', False, ['insert']),
])
def test_apply_steps(mode, delete_absent, steps):
    if delete_absent is None:
        assert r.apply_steps(mode) == steps  # the default keeps rows added since the backup
    else:
        assert r.apply_steps(mode, delete_absent) == steps


def test_apply_steps_refuses_an_unknown_mode():
    with pytest.raises(r.RestoreError) as err:
        r.apply_steps('truncate')
    assert str(err.value) == "mode 'truncate' is not one of replace, missing_only"
