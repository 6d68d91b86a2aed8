# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one test restore (module_utils/verification.py), with stand-in database operations."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.forexai.dr.plugins.module_utils import verification as v


class Ops:
    def __init__(self, counts=None, restore=(0, b''), exists=False, create_error=None,
                 drop_error=None):
        self.counts = counts if counts is not None else {'public.trades': 3, 'public.users': 1}
        self.restore_answer = restore
        self.present = exists
        self.create_error = create_error
        self.drop_error = drop_error
        self.log = []

    def exists(self, name):
        self.log.append(('exists', name))
        return self.present

    def create(self, name):
        self.log.append(('create', name))
        if self.create_error:
            raise self.create_error

    def drop(self, name):
        self.log.append(('drop', name))
        if self.drop_error:
            raise self.drop_error

    def restore(self, argv):
        self.log.append(('restore', argv[-1]))
        return self.restore_answer

    def count(self, name):
        self.log.append(('count', name))
        return self.counts


EXPECTED = {'public.trades': 3, 'public.users': 1}


def run(ops, **kw):
    ticks = iter([10.0, 12.5])
    return v.restore_and_compare(ops, 'forexai_verify_x', '/b/database.dump', EXPECTED,
                                 '/usr/bin/pg_restore', clock=lambda: next(ticks), **kw)


def test_a_good_restore():
    ops = Ops()
    result, extra = run(ops)
    assert result == {'performed': True, 'ok': True, 'temp_database': 'forexai_verify_x',
                      'temp_database_dropped': True, 'restore': 'ok',
                      'detail': '2 tables, row counts equal', 'row_count_differences': {},
                      'tables': 2, 'rows': 4}
    assert extra == {'restore_seconds': 2.5, 'restore_detail': None, 'restored': EXPECTED,
                     'counts_ok': True, 'counts_detail': '2 tables, row counts equal',
                     'drop_error': None}
    assert ops.log == [('create', 'forexai_verify_x'), ('restore', '/b/database.dump'),
                       ('count', 'forexai_verify_x'), ('drop', 'forexai_verify_x')]


def test_counts_that_differ():
    result, extra = run(Ops(counts={'public.trades': 2}))
    assert result['ok'] is False and extra['counts_ok'] is False
    assert result['detail'] == ('public.trades manifest 3, restored 2; public.users missing '
                                'after restore (manifest 1)')
    assert result['row_count_differences'] == {
        'public.trades': {'manifest': 3, 'restored': 2},
        'public.users': {'manifest': 1, 'restored': None}}


def test_a_failed_pg_restore_is_reported_and_the_database_dropped():
    ops = Ops(restore=(1, b'pg_restore: error: could not read from input file: end of file\n'))
    result, extra = run(ops)
    assert result['restore'] == 'failed' and result['ok'] is False
    assert result['detail'] == extra['restore_detail'] == (
        'pg_restore into forexai_verify_x failed (exit 1): pg_restore: error: could not read '
        'from input file: end of file')
    assert 'tables' not in result and extra['restored'] is None
    assert ops.log[-1] == ('drop', 'forexai_verify_x') and result['temp_database_dropped']


def test_a_database_that_cannot_be_dropped_fails_the_verification():
    result, extra = run(Ops(drop_error=RuntimeError('database "x" is being\n  accessed')))
    assert result['ok'] is False and result['temp_database_dropped'] is False
    assert extra['drop_error'] == 'database "x" is being accessed'
    assert extra['counts_ok'] is True  # the comparison itself passed
    assert result['detail'].endswith('; temporary database forexai_verify_x NOT dropped: '
                                     'database "x" is being accessed')


def test_a_leftover_database_is_dropped_first_only_when_asked():
    ops = Ops(exists=True)
    run(ops, drop_leftover=True)
    assert ops.log[:3] == [('exists', 'forexai_verify_x'), ('drop', 'forexai_verify_x'),
                           ('create', 'forexai_verify_x')]
    ops = Ops(exists=True)
    run(ops)
    assert ('exists', 'forexai_verify_x') not in ops.log


def test_nothing_is_dropped_when_nothing_was_created():
    ops = Ops(create_error=RuntimeError('permission denied to create database'))
    with pytest.raises(RuntimeError):
        run(ops)
    assert ops.log == [('create', 'forexai_verify_x')]


@pytest.mark.parametrize('jobs, tail', [(1, ['/d']), (4, ['--jobs=4', '/d'])])
def test_pg_restore_argv(jobs, tail):
    assert v.pg_restore_argv('pg_restore', 'db_verify', '/d', jobs) == [
        'pg_restore', '--no-password', '--dbname=db_verify', '--exit-on-error'] + tail
    # the path a real restore takes: owners and grants are restored too
    assert '--no-owner' not in v.pg_restore_argv('pg_restore', 'd', '/d')
    assert '--no-acl' not in v.pg_restore_argv('pg_restore', 'd', '/d')


@pytest.mark.parametrize('version, statement', [
    (120015, 'DROP DATABASE IF EXISTS {}'),
    (130000, 'DROP DATABASE IF EXISTS {} WITH (FORCE)'),
    (170002, 'DROP DATABASE IF EXISTS {} WITH (FORCE)'),
])
def test_drop_statement_by_server_version(version, statement):
    assert v.drop_database_sql(version) == statement


def test_toc_entries_and_output_tail():
    listing = ';\n; Archive created at 2026-11-25\n215; 1259 16390 TABLE public trades x\n\n'
    assert v.toc_entries(listing) == ['215; 1259 16390 TABLE public trades x']
    assert v.output_tail(b'a\nb\nc\n', lines=2) == 'b | c'
    assert v.output_tail('') == ''


def test_the_roles_a_dump_needs_are_read_from_its_sql():
    text = '\n'.join([
        'CREATE SCHEMA reporting;',
        'ALTER SCHEMA reporting OWNER TO forexai_owner;',
        'ALTER TABLE public.trades OWNER TO forexai;',
        'ALTER TABLE public."Desk Limits" OWNER TO "Risk Desk";',
        'GRANT SELECT ON TABLE public.trades TO forexai_readonly, "o""brien";',
        'GRANT ALL ON SCHEMA public TO PUBLIC;',
        'REVOKE ALL ON TABLE public.users FROM forexai_readonly;',
        'ALTER DEFAULT PRIVILEGES FOR ROLE forexai IN SCHEMA public GRANT SELECT ON TABLES TO analyst;',
        'CREATE POLICY own_rows ON public.positions TO trader USING (true);',
        "COMMENT ON TABLE public.trades IS 'GRANT x TO nobody';",
        'SET SESSION AUTHORIZATION migrator;',
    ])
    assert v.roles_in_sql(text) == sorted(
        ['forexai_owner', 'forexai', 'Risk Desk', 'forexai_readonly', 'o"brien', 'analyst', 'trader', 'migrator'])


def test_no_role_named_in_plain_data():
    assert v.roles_in_sql('CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);') == []
