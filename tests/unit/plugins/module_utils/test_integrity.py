# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Corruption findings: which errors are damage, what kind, and the repair the plan chooses."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.forexai.dr.plugins.module_utils import integrity as i


@pytest.mark.parametrize('sqlstate, message', [
    ('XX001', 'invalid page in block 7 of relation base/16384/16390'),
    ('XX002', 'index "trades_pkey" contains unexpected zero page at block 3'),
    ('XX000', 'could not access status of transaction 4294967295'),
    ('xx001', 'lower case SQLSTATE'),
    ('', 'missing chunk number 0 for toast value 16500 in pg_toast_16390'),
    ('22P02', 'invalid memory alloc request size 18446744073709551615'),
])
def test_class_xx_and_damage_messages_are_damage(sqlstate, message):
    assert i.classify_error(sqlstate, message) == 'damage'


@pytest.mark.parametrize('sqlstate, message', [
    ('55P03', 'canceling statement due to lock timeout'),
    ('57014', 'canceling statement due to statement timeout'),
    ('42501', 'permission denied for function verify_heapam'),
    (None, None),
])
def test_other_errors_mean_not_checked_never_clean(sqlstate, message):
    assert i.classify_error(sqlstate, message) == 'not_checked'


def test_block_of_reads_the_block_a_message_names():
    assert i.block_of('invalid page in block 7 of relation base/16384/16390') == 7
    assert i.block_of('could not read block 131080 in file "base/1/2.1"') == 131080
    assert i.block_of('no block here') is None
    assert i.block_of(None) is None


@pytest.mark.parametrize('relkind, schema, owner, kind', [
    ('i', 'public', 'public', 'index'),
    ('I', 'public', 'public', 'index'),
    ('r', 'public', None, 'heap'),
    ('m', 'reports', None, 'heap'),
    ('t', 'pg_toast', 'public', 'toast'),
    ('r', 'pg_catalog', None, 'catalog'),
    ('i', 'pg_catalog', 'pg_catalog', 'catalog'),
    ('t', 'pg_toast', 'pg_catalog', 'catalog'),
])
def test_kind_of(relkind, schema, owner, kind):
    assert i.kind_of(relkind, schema, owner) == kind


@pytest.mark.parametrize('kind, action', [
    ('index', 'reindex'), ('invalid_index', 'drop_invalid'), ('heap', 'restore_rows'),
    ('toast', 'escalate'), ('catalog', 'escalate'), ('page', 'escalate'), ('anything else', 'escalate'),
])
def test_action_for(kind, action):
    assert i.action_for(kind) == action
    assert action in i.ACTIONS


def finding(kind, table, relation=None, database='forexai'):
    return {'database': database, 'kind': kind, 'table': table, 'relation': relation or table,
            'action': i.action_for(kind)}


def test_no_findings_no_repair():
    assert i.repair_plan([]) == {'action': 'none', 'reason': 'no damage found', 'tables': [], 'indexes': []}


def test_index_damage_only_is_reindexed():
    plan = i.repair_plan([finding('index', 'public.trades', 'public.trades_pkey'),
                          finding('invalid_index', 'public.users', 'public.users_email_ccnew')])
    assert plan['action'] == 'reindex'
    assert plan['indexes'] == ['forexai.public.trades_pkey', 'forexai.public.users_email_ccnew']
    assert plan['tables'] == []


def test_invalid_indexes_alone_are_dropped():
    assert i.repair_plan([finding('invalid_index', 'public.users', 'public.x_ccnew')])['action'] == 'drop_invalid'


def test_heap_damage_outranks_index_damage_and_names_its_tables_once():
    plan = i.repair_plan([finding('index', 'public.trades', 'public.trades_pkey'),
                          finding('heap', 'public.trades'), finding('heap', 'public.trades')])
    assert plan['action'] == 'restore_rows'
    assert plan['tables'] == ['forexai.public.trades']
    assert plan['indexes'] == ['forexai.public.trades_pkey']


def test_damage_in_more_tables_than_allowed_is_escalated():
    findings = [finding('heap', 'public.%s' % t) for t in ('a', 'b', 'c')]
    assert i.repair_plan(findings, max_tables=3)['action'] == 'restore_rows'
    plan = i.repair_plan(findings, max_tables=2)
    assert plan['action'] == 'escalate'
    assert '3 tables' in plan['reason']


def test_catalog_or_toast_damage_escalates_and_says_where_to():
    plan = i.repair_plan([finding('heap', 'public.trades'), finding('catalog', 'pg_catalog.pg_class')])
    assert plan['action'] == 'escalate'
    assert 'catalog' in plan['reason']
    assert 'forexai.dr.restore_pitr' in plan['reason'] and 'forexai.dr.scenario_server_failure' in plan['reason']
    assert i.repair_plan([finding('toast', 'public.ml_models')])['action'] == 'escalate'


def test_a_finding_without_action_gets_the_one_of_its_kind():
    bare = {'database': 'forexai', 'kind': 'heap', 'table': 'public.trades', 'relation': 'public.trades'}
    plan = i.repair_plan([bare])
    assert plan['action'] == 'restore_rows'


PG_CHECKSUMS_OUTPUT = '''\
pg_checksums: error: checksum verification failed in file "/pg/main/base/16384/16390", block 7: calculated checksum 8A3F but block contains 1C2D
pg_checksums: error: checksum verification failed in file "/srv/pg/base/16384/16400.1", block 2: calculated checksum 0001 but block contains FFFF
pg_checksums: error: checksum verification failed in file "/srv/pg/base/16384/16401_fsm", block 0: calculated checksum AA but block contains BB
Checksum operation completed
Files scanned:   1582
Blocks scanned:  4113
Bad checksums:  3
Data checksum version: 1
'''


def test_parse_pg_checksums_names_relation_files_and_blocks():
    parsed = i.parse_pg_checksums(PG_CHECKSUMS_OUTPUT)
    assert parsed['bad_checksums'] == 3
    assert parsed['blocks_scanned'] == 4113
    first, second, third = parsed['failures']
    assert (first['database_oid'], first['filenode'], first['fork'], first['block']) == (16384, 16390, 'main', 7)
    assert (first['calculated'], first['stored']) == ('8A3F', '1C2D')
    # the second 1 GB segment starts at block 131072
    assert second['block'] == 131072 + 2 and second['filenode'] == 16400
    assert third['fork'] == 'fsm'


def test_parse_pg_checksums_of_a_clean_cluster():
    parsed = i.parse_pg_checksums('Checksum operation completed\nBlocks scanned:  10\nBad checksums:  0\n')
    assert parsed == {'failures': [], 'bad_checksums': 0, 'blocks_scanned': 10}
    assert i.parse_pg_checksums('') == {'failures': [], 'bad_checksums': None, 'blocks_scanned': None}


def test_block_ranges_skip_exactly_the_bad_blocks():
    assert i.block_ranges([3, 4, 9]) == [(0, 3), (5, 9), (10, None)]
    assert i.block_ranges([0]) == [(1, None)]
    assert i.block_ranges([]) == [(0, None)]
    assert i.block_ranges(['2', 2]) == [(0, 2), (3, None)]
    with pytest.raises(ValueError):
        i.block_ranges([-1])


def test_tid_range_condition():
    assert i.tid_range_condition(5, 9) == ("ctid >= %s::tid AND ctid < %s::tid", ['(5,0)', '(9,0)'])
    assert i.tid_range_condition(10, None) == ("ctid >= %s::tid", ['(10,0)'])
