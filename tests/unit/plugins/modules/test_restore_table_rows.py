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


class FakeCursor:
    """Records what it is given; answers CREATE TABLE AS with ``rows`` and the FK query with
    ``fks``. Only for the pure composition checks below."""

    def __init__(self, rows=0, fks=(), counts=()):
        self.executed = []
        self.rowcount = rows
        self._fks = list(fks)
        self._counts = list(counts)
        self._last = None

    def execute(self, statement, params=None):
        text = statement if isinstance(statement, str) else render(statement)
        self.executed.append((text, params))
        self._last = text

    def fetchall(self):
        return self._fks

    def fetchone(self):
        return (self._counts.pop(0),)


def test_the_delete_is_off_unless_asked():
    spec = module.argument_spec()
    assert spec['delete_absent']['default'] is False
    assert spec['allow_cascade']['default'] is False


def test_rows_about_to_change_are_saved_first_with_their_action():
    cur = FakeCursor(rows=7)
    saved = module.save_rows(cur, {'save_schema': 'forexai_restore_saved'}, 'Ops', 'Desk Limits',
                             sql.Identifier('__src'), ['id', 'limit'], ['id'], [],
                             ['delete', 'update', 'insert'], '20261125t230203z')
    assert saved == {'table': '"forexai_restore_saved"."Desk Limits_20261125t230203z"', 'rows': 7}
    assert cur.executed[0][0] == 'CREATE SCHEMA IF NOT EXISTS "forexai_restore_saved"'
    assert cur.executed[1][0] == (
        'CREATE TABLE "forexai_restore_saved"."Desk Limits_20261125t230203z" AS '
        'SELECT \'delete\'::text AS __forexai_action, l.* FROM "Ops"."Desk Limits" AS l '
        'WHERE NOT EXISTS (SELECT 1 FROM "__src" AS s WHERE l."id" = s."id") UNION ALL '
        'SELECT \'update\'::text AS __forexai_action, l.* FROM "Ops"."Desk Limits" AS l, '
        '"__src" AS s WHERE l."id" = s."id" '
        'AND ROW(l."limit")::text IS DISTINCT FROM ROW(s."limit")::text')
    assert len(cur.executed) == 2


def test_an_empty_save_table_is_not_kept():
    cur = FakeCursor(rows=0)
    saved = module.save_rows(cur, {'save_schema': 's'}, 'public', 'trades',
                             sql.Identifier('__src'), ['id', 'pnl'], ['id'], [],
                             ['update', 'insert'], '20261125t230203z')
    assert saved == {'table': None, 'rows': 0}
    assert cur.executed[-1][0] == 'DROP TABLE "s"."trades_20261125t230203z"'


def test_inserting_only_saves_nothing():
    cur = FakeCursor(rows=3)
    saved = module.save_rows(cur, {'save_schema': 's'}, 'public', 'trades',
                             sql.Identifier('__src'), ['id', 'pnl'], ['id'], [], ['insert'],
                             '20261125t230203z')
    assert saved == {'table': None, 'rows': 0} and cur.executed == []


def test_cascades_are_counted_per_referencing_table():
    cur = FakeCursor(fks=[('notes_trade_fkey', 'public', 'trade notes', 'c', ['trade_id'], ['id']),
                          ('pos_trade_fkey', 'public', 'positions', 'n', ['trade_id'], ['id'])],
                     counts=[4, 0])
    found = module.count_cascades(cur, 'public', 'trades', sql.Identifier('__src'), ['id'])
    assert found == [
        {'constraint': 'notes_trade_fkey', 'table': '"public"."trade notes"', 'action': 'cascade',
         'rows': 4},
        {'constraint': 'pos_trade_fkey', 'table': '"public"."positions"', 'action': 'set null',
         'rows': 0}]
    assert cur.executed[1][0] == (
        'SELECT count(*) FROM "public"."trade notes" AS c WHERE EXISTS (SELECT 1 FROM '
        '"public"."trades" AS l WHERE l."id" = c."trade_id" AND NOT EXISTS '
        '(SELECT 1 FROM "__src" AS s WHERE l."id" = s."id"))')


def test_a_cascade_that_reaches_rows_is_refused_with_the_numbers():
    assert module.cascade_refusal([{'constraint': 'f', 'table': '"public"."x"',
                                    'action': 'cascade', 'rows': 0}]) is None
    message = module.cascade_refusal([
        {'constraint': 'notes_fk', 'table': '"public"."notes"', 'action': 'cascade', 'rows': 4},
        {'constraint': 'pos_fk', 'table': '"public"."positions"', 'action': 'set null',
         'rows': 2}])
    assert message == (
        'deleting the rows the backup does not have would also delete 4 row(s) of '
        '"public"."notes" (foreign key notes_fk); set null in 2 row(s) of "public"."positions" '
        '(foreign key pos_fk); nothing was changed. Set allow_cascade to go on, or restore '
        'without delete_absent')


def test_libpq_env_replaces_inherited_settings(monkeypatch):
    monkeypatch.setenv('PGDATABASE', 'elsewhere')
    monkeypatch.setenv('PGHOST', 'other-host')
    env = module.libpq_env({'port': 5433, 'user': 'postgres', 'host': None})
    assert env['PGPORT'] == '5433' and env['PGUSER'] == 'postgres'
    assert 'PGDATABASE' not in env and 'PGHOST' not in env


def test_only_keys_keeps_the_listed_rows_of_a_one_column_key():
    assert render(module.only_keys_statement('__src', ['id'])) == (
        'DELETE FROM "__src" AS s WHERE NOT (s."id"::text = ANY(%s))')


def test_only_keys_refuses_a_composite_key():
    with pytest.raises(module.rlib.RestoreError, match='needs a one-column key'):
        module.only_keys_statement('__src', ['account', 'ticket'])


def test_only_keys_with_delete_absent_is_refused_before_anything_is_touched():
    params = dict((name, spec.get('default')) for name, spec in module.argument_spec().items())
    params.update(table='trades', dump='/nonexistent', delete_absent=True, only_keys=[1, 2])
    with pytest.raises(module.rlib.RestoreError, match='cannot be combined with delete_absent'):
        module.restore_table(None, params)
