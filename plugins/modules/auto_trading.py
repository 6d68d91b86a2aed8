#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: auto_trading
short_description: Suspend auto-trading for every user, remembering who had it, and give it back
version_added: 0.1.0
description:
  - With O(state=suspended), records the ids of the users with C(users.auto_trading_enabled = true)
    in a snapshot table (one row per suspension with run id, user ids, who suspended and when) and
    switches auto-trading off for them, in one transaction. The snapshot survives a crashed
    playbook, so the users can always be given auto-trading back.
  - At most one snapshot is open (not restored) at a time. Suspending while one is open never
    replaces it; users who have auto-trading on again are added to it and switched off, and its
    run id is returned. Suspending again with nobody to switch off changes nothing.
  - With O(state=restored), switches auto-trading back on for exactly the users of the snapshot
    (O(run_id), or the open one) and marks it restored. Users outside the snapshot are not
    touched; users deleted since are reported. Restoring a restored snapshot, or restoring
    when no snapshot is open, changes nothing.
  - The statements run with the setting C(forexai.actor) set to O(actor) (as C(SET LOCAL)), so
    the audit triggers on C(users) record who changed the rows.
  - The recovery plan's C(UPDATE users SET auto_trading_enabled = false) forgets who had
    auto-trading on; this module is its safe replacement.
author:
  - Forex AI platform engineering (@forexai)
options:
  state:
    description:
      - V(suspended) records who has auto-trading on and switches it off for everyone.
      - V(restored) gives it back to exactly the users recorded in the snapshot.
    type: str
    choices: [ restored, suspended ]
    required: true
  run_id:
    description:
      - Name of the snapshot, at most 100 characters; letters, digits and the characters C(._:@+-).
      - With O(state=suspended), the name of a new snapshot; defaults to
        C(auto-trading-<UTC time>). Ignored when a snapshot is already open (its name is
        returned). A restored snapshot's name is never reused.
      - With O(state=restored), the snapshot to restore; when omitted, the open one.
        Naming a snapshot that does not exist fails.
    type: str
  snapshot_table:
    description:
      - Table (in the connection's default schema) holding the snapshots. Created by the
        first suspension, with a unique index that allows one open snapshot.
    type: str
    default: dr_auto_trading_snapshot
  actor:
    description:
      - Who is acting, recorded in the snapshot and set as C(forexai.actor) for the audit triggers.
    type: str
    default: forexai.dr auto_trading
extends_documentation_fragment:
  - forexai.dr.postgres
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - In check mode the module reads in a read-only transaction and returns what it would do;
    the snapshot table is not created.
  - Suspension locks the C(users) table against writes (C(SHARE ROW EXCLUSIVE)) for the few
    milliseconds of its transaction, so nobody switches auto-trading on between the read and
    the update. Reads, and inserts into other tables that reference C(users), are not blocked.
seealso:
  - module: forexai.dr.reconcile_positions
  - name: Disaster recovery plan, scenario 5 (MT5 connector sync issues)
    description: Step 1, stop auto-trading immediately.
    link: https://git.forexai.internal/platform/forexai-dr/-/blob/main/README.md
'''

EXAMPLES = r'''
- name: Stop auto-trading, remembering who had it on
  forexai.dr.auto_trading:
    state: suspended
    run_id: "mt5-sync-{{ now(utc=true, fmt='%Y%m%dT%H%M%SZ') }}"
    db: forexai
  become: true
  become_user: postgres
  register: suspension

- name: Give auto-trading back to exactly those users
  forexai.dr.auto_trading:
    state: restored
    run_id: "{{ suspension.run_id }}"
    db: forexai
  become: true
  become_user: postgres
'''

RETURN = r'''
changed:
  description: Whether rows were (or, in check mode, would be) written.
  returned: always
  type: bool
state:
  description: The requested state.
  returned: success
  type: str
  sample: suspended
run_id:
  description:
    - The snapshot acted on (for V(suspended), the open one if there was one already).
    - Null when O(state=restored) found no open snapshot.
  returned: success
  type: str
  sample: mt5-sync-20250102T080000Z
created:
  description: Whether a new snapshot was (or would be) created.
  returned: success
  type: bool
user_ids:
  description: Users recorded in the snapshot (after this run).
  returned: success
  type: list
  elements: int
  sample: [3, 7, 12]
suspended_user_ids:
  description: Users whose auto-trading this run switched (or would switch) off.
  returned: success
  type: list
  elements: int
restored_user_ids:
  description: Users whose auto-trading this run switched (or would switch) back on.
  returned: success
  type: list
  elements: int
missing_user_ids:
  description: Users of the snapshot that no longer exist (O(state=restored)).
  returned: success
  type: list
  elements: int
enabled_outside_snapshot:
  description: Users with auto-trading on who are not in the snapshot (O(state=restored)); left as they are.
  returned: success
  type: list
  elements: int
snapshot:
  description: The snapshot row before this run (C(run_id), C(user_ids), C(suspended_at),
    C(suspended_by), C(restored_at), C(restored_by)), or null.
  returned: success
  type: dict
msg:
  description: What happened, in one sentence.
  returned: always
  type: str
queries:
  description: Every SQL statement run, with its values; in check mode the writes are listed but not run.
  returned: success
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native, to_text

from ansible_collections.forexai.dr.plugins.module_utils.postgres import (
    DATABASE_ERRORS,
    HAS_PSYCOPG2,
    PSYCOPG2_IMPORT_ERROR,
    connect,
    dict_cursor,
    identifier,
    postgres_argument_spec,
    set_setting,
    sql as pg_sql,
)
from ansible_collections.forexai.dr.plugins.module_utils.auto_trading import (
    CREATE_INDEX_SQL,
    CREATE_TABLE_SQL,
    DEFAULT_ACTOR,
    DEFAULT_TABLE,
    ENABLED_USERS_SQL,
    LOCK_TABLE_SQL,
    LOCK_USERS_SQL,
    OPEN_SNAPSHOT_SQL,
    SNAPSHOT_BY_RUN_ID_SQL,
    USER_STATES_SQL,
    AutoTradingError,
    check_run_id,
    check_table_name,
    default_run_id,
    index_name,
    plan_restore,
    plan_suspend,
    snapshot_view,
)


def argument_spec():
    spec = postgres_argument_spec()
    spec.update(
        state=dict(type='str', required=True, choices=['restored', 'suspended']),
        run_id=dict(type='str'),
        snapshot_table=dict(type='str', default=DEFAULT_TABLE),
        actor=dict(type='str', default=DEFAULT_ACTOR),
    )
    return spec


class Session(object):
    """One cursor; statements name the snapshot table as {table} and its index as {index}."""

    def __init__(self, conn, table):
        self.cursor = dict_cursor(conn)
        self.names = dict(table=identifier(table), index=identifier(index_name(table)))
        self.queries = []

    def compose(self, sql):
        return pg_sql.SQL(sql).format(**dict(
            (k, v) for k, v in self.names.items() if '{%s}' % k in sql))

    def render(self, sql, params=None):
        return to_text(self.cursor.mogrify(self.compose(sql), params))

    def run(self, sql, params=None, expected_rows=None):
        self.queries.append(self.render(sql, params))
        self.cursor.execute(self.compose(sql), params)
        if expected_rows is not None and self.cursor.rowcount != expected_rows:
            raise AutoTradingError(
                'a statement touched %d row(s) instead of %d; nothing was committed: %s'
                % (self.cursor.rowcount, expected_rows, self.queries[-1]))
        return self.cursor

    def rows(self, sql, params=None):
        return self.run(sql, params).fetchall()

    def one(self, sql, params=None):
        found = self.rows(sql, params)
        return found[0] if found else None


def table_exists(session, table):
    row = session.one('SELECT to_regclass(%s) IS NOT NULL AS present',
                      [session.render('{table}')])
    return bool(row['present'])


def suspend(session, params, check_mode):
    table = params['snapshot_table']
    run_id = params['run_id'] or default_run_id()
    check_run_id(run_id)
    exists = table_exists(session, table)
    if not check_mode:
        if not exists:
            session.run(CREATE_TABLE_SQL)
            session.run(CREATE_INDEX_SQL)
        session.run(LOCK_TABLE_SQL)
        session.run(LOCK_USERS_SQL)
    open_snapshot = existing = None
    if exists or not check_mode:
        open_snapshot = session.one(OPEN_SNAPSHOT_SQL)
        if open_snapshot is None:
            existing = session.one(SNAPSHOT_BY_RUN_ID_SQL, [run_id])
    enabled = [row['id'] for row in session.rows(ENABLED_USERS_SQL)]
    plan = plan_suspend(enabled, open_snapshot, run_id, params['actor'], existing=existing)
    if plan['created']:
        msg = 'auto-trading suspended for %d user(s), recorded as %s' % (
            len(plan['suspended_user_ids']), plan['run_id'])
    elif plan['suspended_user_ids']:
        msg = ('snapshot %s was already open; %d user(s) had auto-trading on again, added to it and '
               'suspended' % (plan['run_id'], len(plan['suspended_user_ids'])))
    else:
        msg = 'auto-trading already suspended (snapshot %s is open); nothing to change' % plan['run_id']
    return plan, dict(
        created=plan['created'],
        user_ids=plan['user_ids'],
        suspended_user_ids=plan['suspended_user_ids'],
        snapshot=snapshot_view(open_snapshot),
        msg=msg,
    )


def restore(session, params, check_mode):
    table = params['snapshot_table']
    if params['run_id']:
        check_run_id(params['run_id'])
    snapshot = None
    if table_exists(session, table):
        if not check_mode:
            session.run(LOCK_TABLE_SQL)
        if params['run_id']:
            snapshot = session.one(SNAPSHOT_BY_RUN_ID_SQL, [params['run_id']])
        else:
            snapshot = session.one(OPEN_SNAPSHOT_SQL)
    if snapshot is None and params['run_id']:
        raise AutoTradingError('there is no auto-trading snapshot named %r in %s'
                               % (params['run_id'], table))
    states = {}
    if snapshot is not None and snapshot['restored_at'] is None and snapshot['user_ids']:
        lock = '' if check_mode else ' FOR UPDATE'
        states = dict((row['id'], row['auto_trading_enabled'])
                      for row in session.rows(USER_STATES_SQL + lock, [list(snapshot['user_ids'])]))
    enabled = [row['id'] for row in session.rows(ENABLED_USERS_SQL)] if snapshot is not None else []
    plan = plan_restore(snapshot, states, params['actor'], enabled_ids=enabled)
    if snapshot is None:
        msg = 'no auto-trading snapshot is open; nothing to restore'
    elif plan['already_restored']:
        msg = 'snapshot %s was already restored at %s' % (plan['run_id'], snapshot['restored_at'])
    else:
        msg = 'auto-trading given back to %d user(s) of snapshot %s' % (
            len(plan['restored_user_ids']), plan['run_id'])
        if plan['missing_user_ids']:
            msg += '; %d user(s) of it no longer exist' % len(plan['missing_user_ids'])
    return plan, dict(
        created=False,
        user_ids=plan['user_ids'],
        restored_user_ids=plan['restored_user_ids'],
        missing_user_ids=plan['missing_user_ids'],
        enabled_outside_snapshot=plan['enabled_outside_snapshot'],
        snapshot=snapshot_view(snapshot),
        msg=msg,
    )


def run(conn, params, check_mode):
    """Read, plan and (unless check_mode) apply in one transaction."""
    check_table_name(params['snapshot_table'])
    session = Session(conn, params['snapshot_table'])
    try:
        if check_mode:
            session.run('SET TRANSACTION READ ONLY')
        handler = suspend if params['state'] == 'suspended' else restore
        plan, result = handler(session, params, check_mode)
        statements = plan['statements']
        changed = bool(statements)
        if changed:
            if check_mode:
                session.queries.append(session.render('SELECT set_config(%s, %s, %s)',
                                                      ['forexai.actor', params['actor'], True]))
                session.queries.extend(session.render(s['sql'], s['params']) for s in statements)
            else:
                statement, values = set_setting(session.cursor, 'forexai.actor', params['actor'])
                session.queries.append(session.render(statement, values))
                for s in statements:
                    session.run(s['sql'], s['params'], s['expected_rows'])
        if changed and not check_mode:
            conn.commit()
        else:
            # Check mode or nothing to change: end the transaction, releasing the locks.
            conn.rollback()
    except Exception:
        conn.rollback()
        raise
    result.update(changed=changed, state=params['state'], run_id=plan['run_id'],
                  queries=session.queries)
    return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib('psycopg2'), exception=PSYCOPG2_IMPORT_ERROR)

    verb = 'suspend' if module.params['state'] == 'suspended' else 'restore'
    conn = None
    try:
        conn = connect(module.params)
        result = run(conn, module.params, module.check_mode)
    except (AutoTradingError,) + DATABASE_ERRORS as exc:
        module.fail_json(msg='Failed to %s auto-trading: %s' % (verb, ' '.join(to_native(exc).split())))
    finally:
        if conn is not None:
            conn.close()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
