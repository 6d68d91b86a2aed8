# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the restore_table_rows module's own parts: its documentation agrees with its
argument spec, and the statements it composes (rendered without a connection)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml

from psycopg2 import sql

from ansible_collections.forexai.dr.plugins.modules import restore_table_rows as module


def render(composable):
    """Text of a psycopg2.sql object, identifiers double-quoted, without a connection."""
    if isinstance(composable, sql.Composed):
        return ''.join(render(part) for part in composable.seq)
    if isinstance(composable, sql.Identifier):
        return '.'.join('"%s"' % s.replace('"', '""') for s in composable.strings)
    if isinstance(composable, sql.SQL):
        return composable.string
    raise TypeError(composable)


def statements(steps, identity_always=()):
    return dict((step, render(statement)) for step, statement in module.build_statements(
        'public', 'trades', '__src', ['id', 'symbol', 'pnl'], ['id'], list(identity_always),
        steps))


def test_documented_options_are_the_argument_spec():
    doc = yaml.safe_load(module.DOCUMENTATION)
    own = set(module.argument_spec()) - set(module.postgres_argument_spec())
    assert own == set(doc['options'])
    for name in own:
        spec = module.argument_spec()[name]
        assert doc['options'][name]['type'] == spec['type'], name
        assert doc['options'][name].get('default') == spec.get('default'), name


def test_delete_keeps_rows_the_backup_has():
    assert statements(['delete'])['delete'] == (
        'DELETE FROM "public"."trades" AS l WHERE NOT EXISTS '
        '(SELECT 1 FROM "__src" AS s WHERE l."id" = s."id")')


def test_update_touches_only_rows_that_differ_and_never_the_key():
    assert statements(['update'])['update'] == (
        'UPDATE "public"."trades" AS l SET "symbol" = s."symbol", "pnl" = s."pnl" '
        'FROM "__src" AS s WHERE l."id" = s."id" '
        'AND ROW(l."symbol", l."pnl")::text IS DISTINCT FROM ROW(s."symbol", s."pnl")::text')


@pytest.mark.parametrize('identity_always, overriding', [((), ''), (['id'], ' OVERRIDING SYSTEM VALUE')])
def test_insert_adds_only_missing_keys(identity_always, overriding):
    assert statements(['insert'], identity_always)['insert'] == (
        'INSERT INTO "public"."trades" ("id", "symbol", "pnl")%s SELECT s."id", s."symbol", '
        's."pnl" FROM "__src" AS s WHERE NOT EXISTS '
        '(SELECT 1 FROM "public"."trades" AS l WHERE l."id" = s."id")' % overriding)


def test_a_table_of_keys_only_needs_no_update():
    built = module.build_statements('public', 'pairs', '__src', ['a', 'b'], ['a', 'b'], [],
                                    ['update', 'insert'])
    assert [step for step, _statement in built] == ['insert']
    assert 'l."a" = s."a" AND l."b" = s."b"' in render(built[0][1])


def test_odd_column_names_stay_quoted_identifiers():
    built = module.build_statements('public', 't', '__src', ['id', 'we"ird; x'], ['id'], [],
                                    ['update'])
    assert '"we""ird; x" = s."we""ird; x"' in render(built[0][1])


def test_libpq_env_replaces_inherited_settings(monkeypatch):
    monkeypatch.setenv('PGDATABASE', 'elsewhere')
    monkeypatch.setenv('PGHOST', 'other-host')
    env = module.libpq_env({'port': 5433, 'user': 'postgres', 'host': None})
    assert env['PGPORT'] == '5433' and env['PGUSER'] == 'postgres'
    assert 'PGDATABASE' not in env and 'PGHOST' not in env
