# -*- coding: utf-8 -*-
# Copyright: (c) 2025, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning for suspending and restoring auto-trading.

The recovery plan's ``UPDATE users SET auto_trading_enabled = false`` forgets who
had auto-trading on, so nobody can give it back to exactly those users. Here a
suspension first records the ids of the users that have it on in a snapshot table
(one row per suspension: run id, user ids, who and when), in the same transaction
that switches it off. Restoring switches it back on for exactly those ids and
marks the snapshot restored.

At most one snapshot is open (not restored) at a time; a partial unique index
enforces it. A second suspension while one is open never replaces it: it adds
the users that have auto-trading on again (someone switched it back on during the
incident) to the open snapshot and switches them off too.

Nothing here talks to a database. The module reads the rows, calls these
functions and runs the statements they return. Statements name the snapshot
table as ``{table}`` (and its index as ``{index}``); the module fills those in
with quoted identifiers (psycopg2.sql), never with string formatting.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

DEFAULT_TABLE = 'dr_auto_trading_snapshot'
DEFAULT_ACTOR = 'forexai.dr auto_trading'
RUN_ID_PATTERN = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,99}$')
TABLE_PATTERN = re.compile(r'^[a-z_][a-z0-9_]{0,49}$')

CREATE_TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS {table} ("
    "run_id text PRIMARY KEY, "
    "user_ids bigint[] NOT NULL, "
    "suspended_at timestamptz NOT NULL DEFAULT now(), "
    "suspended_by text NOT NULL, "
    "restored_at timestamptz, "
    "restored_by text)"
)
# At most one open (not yet restored) snapshot, whatever runs concurrently.
CREATE_INDEX_SQL = "CREATE UNIQUE INDEX IF NOT EXISTS {index} ON {table} ((true)) WHERE restored_at IS NULL"
# Serializes suspensions and restorations; plain reads are not blocked.
LOCK_TABLE_SQL = "LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"
# Nobody can switch auto-trading on between the read and the update below.
LOCK_USERS_SQL = "LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"

SNAPSHOT_COLUMNS = "run_id, user_ids, suspended_at, suspended_by, restored_at, restored_by"
OPEN_SNAPSHOT_SQL = "SELECT " + SNAPSHOT_COLUMNS + " FROM {table} WHERE restored_at IS NULL"
SNAPSHOT_BY_RUN_ID_SQL = "SELECT " + SNAPSHOT_COLUMNS + " FROM {table} WHERE run_id = %s"
ENABLED_USERS_SQL = "SELECT id FROM users WHERE auto_trading_enabled ORDER BY id"
USER_STATES_SQL = "SELECT id, auto_trading_enabled FROM users WHERE id = ANY(%s) ORDER BY id"

INSERT_SNAPSHOT_SQL = "INSERT INTO {table} (run_id, user_ids, suspended_by) VALUES (%s, %s::bigint[], %s)"
EXTEND_SNAPSHOT_SQL = "UPDATE {table} SET user_ids = %s::bigint[] WHERE run_id = %s AND restored_at IS NULL"
DISABLE_SQL = "UPDATE users SET auto_trading_enabled = false WHERE id = ANY(%s) AND auto_trading_enabled"
ENABLE_SQL = "UPDATE users SET auto_trading_enabled = true WHERE id = ANY(%s) AND NOT auto_trading_enabled"
MARK_RESTORED_SQL = (
    "UPDATE {table} SET restored_at = now(), restored_by = %s "
    "WHERE run_id = %s AND restored_at IS NULL"
)


class AutoTradingError(ValueError):
    """A request that cannot be carried out safely."""


def check_run_id(run_id):
    """Return ``run_id`` if it is a usable snapshot name, else raise AutoTradingError."""
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.match(run_id):
        raise AutoTradingError(
            'run_id must be 1 to 100 characters, letters, digits and . _ : @ + -, '
            'starting with a letter or digit; got %r' % (run_id,))
    return run_id


def check_table_name(name):
    """Return ``name`` if it is a plain lower-case table name, else raise AutoTradingError."""
    if not isinstance(name, str) or not TABLE_PATTERN.match(name):
        raise AutoTradingError(
            'snapshot_table must be a lower-case name of letters, digits and _ (at most 50), got %r'
            % (name,))
    return name


def index_name(table):
    """Name of the index that allows one open snapshot in ``table``."""
    return table + '_one_open'


def default_run_id(now=None):
    """A run id from the UTC time, e.g. ``auto-trading-20250102T080000Z``."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if now.tzinfo is not None:
        now = now.astimezone(datetime.timezone.utc)
    return 'auto-trading-' + now.strftime('%Y%m%dT%H%M%SZ')


def _ids(values):
    return sorted(set(int(v) for v in (values or [])))


def _statement(sql, params, expected_rows=None):
    return {'sql': sql, 'params': params, 'expected_rows': expected_rows}


def plan_suspend(enabled_ids, open_snapshot, run_id, actor=DEFAULT_ACTOR, existing=None):
    """Plan a suspension.

    ``enabled_ids``: users that have auto-trading on now. ``open_snapshot``: the
    open snapshot row (dict with ``run_id`` and ``user_ids``) or None.
    ``run_id``: the id for a new snapshot. ``existing``: the row already named
    ``run_id`` (open or restored), or None.

    Returns a dict: ``run_id`` (of the snapshot in effect), ``created`` (a new
    snapshot), ``user_ids`` (everyone the snapshot will hold), ``added_user_ids``
    (recorded by this run), ``suspended_user_ids`` (switched off by this run),
    ``statements``. An open snapshot is kept and only extended; ``run_id`` is then
    ignored. A restored snapshot's run id is never reused.
    """
    enabled = _ids(enabled_ids)
    if open_snapshot is not None:
        recorded = _ids(open_snapshot.get('user_ids'))
        added = [i for i in enabled if i not in set(recorded)]
        everyone = sorted(set(recorded) | set(added))
        statements = []
        if added:
            statements.append(_statement(EXTEND_SNAPSHOT_SQL, [everyone, open_snapshot['run_id']], 1))
        if enabled:
            statements.append(_statement(DISABLE_SQL, [enabled], len(enabled)))
        return {
            'run_id': open_snapshot['run_id'],
            'created': False,
            'user_ids': everyone,
            'added_user_ids': added,
            'suspended_user_ids': enabled,
            'statements': statements,
        }
    check_run_id(run_id)
    if existing is not None:
        raise AutoTradingError(
            'run_id %r names a snapshot that was already restored (at %s); use a new run_id'
            % (run_id, existing.get('restored_at')))
    statements = [_statement(INSERT_SNAPSHOT_SQL, [run_id, enabled, actor], 1)]
    if enabled:
        statements.append(_statement(DISABLE_SQL, [enabled], len(enabled)))
    return {
        'run_id': run_id,
        'created': True,
        'user_ids': enabled,
        'added_user_ids': enabled,
        'suspended_user_ids': enabled,
        'statements': statements,
    }


def plan_restore(snapshot, user_states, actor=DEFAULT_ACTOR, enabled_ids=None):
    """Plan giving auto-trading back to the users recorded in ``snapshot``.

    ``snapshot``: the snapshot row (``run_id``, ``user_ids``, ``restored_at``) or
    None. ``user_states``: mapping of the snapshot's user ids that still exist to
    their current ``auto_trading_enabled``. ``enabled_ids``, if given: every user
    with auto-trading on now, to report those it was given to outside the snapshot.

    Returns a dict with ``run_id``, ``user_ids``, ``restored_user_ids`` (switched
    on by this run), ``missing_user_ids`` (deleted since), ``already_restored``,
    ``enabled_outside_snapshot`` and ``statements``. Nobody outside the snapshot is
    touched; a restored snapshot plans nothing.
    """
    if snapshot is None:
        return {'run_id': None, 'user_ids': [], 'restored_user_ids': [], 'missing_user_ids': [],
                'already_restored': False, 'enabled_outside_snapshot': [], 'statements': []}
    recorded = _ids(snapshot.get('user_ids'))
    states = dict((int(k), bool(v)) for k, v in (user_states or {}).items())
    outside = [i for i in _ids(enabled_ids) if i not in set(recorded)]
    result = {
        'run_id': snapshot['run_id'],
        'user_ids': recorded,
        'restored_user_ids': [],
        'missing_user_ids': [i for i in recorded if i not in states],
        'already_restored': snapshot.get('restored_at') is not None,
        'enabled_outside_snapshot': outside,
        'statements': [],
    }
    if result['already_restored']:
        return result
    to_enable = [i for i in recorded if states.get(i) is False]
    if to_enable:
        result['statements'].append(_statement(ENABLE_SQL, [to_enable], len(to_enable)))
    result['statements'].append(_statement(MARK_RESTORED_SQL, [actor, snapshot['run_id']], 1))
    result['restored_user_ids'] = to_enable
    return result


def snapshot_view(row):
    """A snapshot row with JSON-friendly values (times as ISO-8601 text)."""
    if row is None:
        return None
    view = {}
    for key in ('run_id', 'user_ids', 'suspended_at', 'suspended_by', 'restored_at', 'restored_by'):
        value = row.get(key)
        if isinstance(value, datetime.datetime):
            value = value.isoformat()
        elif key == 'user_ids':
            value = _ids(value)
        view[key] = value
    return view
