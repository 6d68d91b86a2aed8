#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: reconcile_positions
short_description: Reconcile open positions in the database with the MT5 broker's export
version_added: 0.1.0
description:
  - Compares the broker's open positions, as exported by the MT5 connector, with the
    open rows of the C(positions) table, by ticket, and sorts every ticket into
    C(matched), C(db_only) (open in the database, not held at the broker),
    C(mt5_only) (held at the broker, missing from the database) or C(mismatched)
    (both sides have it, but account, symbol, side, volume, price or open time differ;
    a partial fill is a volume mismatch).
  - Acts on each class only as O(policy) allows. The default policy changes no position;
    every discrepancy is logged to C(mt5_sync_log) as C(manual_review) for a person.
  - Positions are never deleted. Closing sets C(status=closed), C(closed_at) and
    C(close_reason). The recovery plan's C(DELETE FROM positions WHERE id NOT IN) a
    subquery of C(mt5_sync_log.position_id) deletes nothing when that column holds a
    NULL and every position when the log is empty, so it is not used.
  - All changes, and one C(mt5_sync_log) row for each of them, are made in one
    transaction with the PostgreSQL setting C(forexai.actor) set (as C(SET LOCAL)) to
    O(actor), so audit triggers record who made them. If any statement does not touch
    exactly the row it expects (the data changed meanwhile), nothing is committed.
  - A C(manual_review) row is written once per distinct discrepancy (same class, same
    values on both sides); a rerun that finds the same discrepancies changes nothing and
    reports C(changed=false).
  - The open positions are locked (C(SELECT ... FOR UPDATE)) from the comparison until
    the commit. In check mode the module reads in a read-only transaction and returns
    what it would do.
author:
  - Forex AI platform engineering (@forexai)
options:
  export_path:
    description:
      - Path, on the target host, of the MT5 connector's export (JSON or CSV).
      - Mutually exclusive with O(export); one of them is required.
    type: path
  export:
    description:
      - The export itself, either a list of position dicts or JSON / CSV text.
      - Mutually exclusive with O(export_path); one of them is required.
    type: raw
  export_format:
    description:
      - Format of the export text.
      - V(auto) uses the file extension C(.json) or C(.csv) of O(export_path), otherwise
        JSON when the text starts with C([) or C({), CSV (with a header row) otherwise.
      - Ignored when O(export) is already a list.
    type: str
    choices: [ auto, csv, json ]
    default: auto
  policy:
    description:
      - What to do with each class of discrepancy. Omitted keys stay V(manual).
    type: dict
    default: {}
    suboptions:
      db_only:
        description:
          - Positions open in the database but not held at the broker.
          - V(close) closes them in the database; V(manual) logs them for review.
        type: str
        choices: [ close, manual ]
        default: manual
      mt5_only:
        description:
          - Positions held at the broker but missing from the database.
          - V(insert) adds them to C(positions), for the user owning the account;
            V(manual) logs them for review.
          - A ticket the database has as closed is never re-inserted; it is always logged for review.
        type: str
        choices: [ insert, manual ]
        default: manual
      mismatched:
        description:
          - Positions whose fields differ.
          - V(update_db) sets the differing columns to the broker's values; V(manual) logs them.
          - A position whose account differs is always logged for review, never updated.
        type: str
        choices: [ manual, update_db ]
        default: manual
  volume_tolerance:
    description:
      - Largest absolute volume difference (in lots) still counted as equal. Compared as a
        decimal number, inclusive.
    type: str
    default: '0'
  price_tolerance:
    description:
      - Largest absolute open price difference still counted as equal. Compared as a
        decimal number, inclusive.
    type: str
    default: '0.00001'
  allow_empty_export:
    description:
      - An empty export while the database has open positions is refused, because it
        usually means the connector failed. Set to V(true) only when the broker really
        holds no positions; with O(policy.db_only=close) every open position is then closed.
    type: bool
    default: false
  close_reason:
    description:
      - Value written to C(positions.close_reason) for positions closed by O(policy.db_only=close).
    type: str
    default: 'reconciliation: not present at broker'
  actor:
    description:
      - Who is reconciling, recorded in C(mt5_sync_log.actor) and set as C(forexai.actor)
        for the audit triggers.
    type: str
    default: forexai.dr reconcile_positions
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
  - The export must cover every account known to the database (C(users.mt5_account));
    a position of an account left out of the export counts as C(db_only).
  - Every record of the export is validated first (all of C(ticket), C(account),
    C(symbol), C(side), C(volume), C(open_price), C(open_time); numeric volume and
    price; side C(buy) or C(sell); ISO-8601 time; unique ticket; known account). The
    first problem fails the module, naming the record (1-based, the CSV header not
    counted), and nothing is changed.
  - Volume and price are rounded to the table's scale (2 and 6 decimal places) before
    they are compared. Times without an offset are UTC.
seealso:
  - name: Disaster recovery plan, scenario 5 (MT5 connector sync issues)
    description: The procedure this module implements safely.
    link: https://git.forexai.internal/platform/forexai-dr/-/blob/main/README.md
'''

EXAMPLES = r'''
- name: Show what differs between the broker and the database (changes nothing)
  forexai.dr.reconcile_positions:
    db: forexai
    login_user: forexai
    login_password: "{{ forexai_db_password }}"
    export_path: /var/lib/forexai/mt5/positions.json
  check_mode: true
  register: reconcile_preview

- name: Close positions the broker no longer holds, add the ones it holds, log the rest
  forexai.dr.reconcile_positions:
    db: forexai
    login_host: db1
    login_user: forexai
    login_password: "{{ forexai_db_password }}"
    export_path: /var/lib/forexai/mt5/positions.csv
    export_format: csv
    policy:
      db_only: close
      mt5_only: insert
      mismatched: manual
    volume_tolerance: '0'
    price_tolerance: '0.00001'
    actor: "{{ ansible_user_id }} via AWX job {{ awx_job_id | default('manual') }}"
  register: reconcile_result

- name: Reconcile against an export fetched from the connector's API
  forexai.dr.reconcile_positions:
    db: forexai
    export: "{{ lookup('ansible.builtin.url', 'http://app1:8090/positions', split_lines=false) }}"
    export_format: json
    policy:
      mismatched: update_db

- name: The broker really holds nothing; close everything still open
  forexai.dr.reconcile_positions:
    db: forexai
    export: []
    allow_empty_export: true
    policy:
      db_only: close
'''

RETURN = r'''
changed:
  description: Whether rows were (or, in check mode, would be) written.
  returned: always
  type: bool
summary:
  description: Number of tickets in each class, of planned actions and of manual items.
  returned: success
  type: dict
  sample: {matched: 12, db_only: 1, mt5_only: 1, mismatched: 2, actions: 2, manual: 2}
diff:
  description:
    - The comparison, each list sorted by ticket. Decimals and times are strings (times in UTC, ISO-8601).
  returned: success
  type: dict
  contains:
    matched:
      description:
        - Tickets equal on both sides, as C(ticket), C(mt5) and C(db) records and
          C(within_tolerance), the fields that differ only within the tolerances.
      type: list
      elements: dict
    db_only:
      description: Database records (C(id), C(user_id), C(ticket), C(account), C(symbol), C(side), C(volume), C(open_price), C(open_time), C(status)).
      type: list
      elements: dict
    mt5_only:
      description:
        - Broker records (C(ticket), C(account), C(symbol), C(side), C(volume), C(open_price), C(open_time)).
        - C(db_closed) is set to the database row when the database has the ticket, but not open.
      type: list
      elements: dict
    mismatched:
      description:
        - C(ticket), C(mt5) and C(db) records, C(fields) (the names of the differing
          fields) and C(differences) (for each of them, the C(mt5) and the C(db) value).
      type: list
      elements: dict
  sample:
    matched: []
    db_only: []
    mt5_only: []
    mismatched:
      - ticket: 1003
        fields: [volume]
        differences: {volume: {mt5: '0.50', db: '1.00'}}
        mt5: {ticket: 1003, account: 5001, symbol: EURUSD, side: buy, volume: '0.50',
              open_price: '1.085000', open_time: '2025-01-02T08:00:00+00:00'}
        db: {id: 3, user_id: 1, ticket: 1003, account: 5001, symbol: EURUSD, side: buy, volume: '1.00',
             open_price: '1.085000', open_time: '2025-01-02T08:00:00+00:00', status: open}
actions:
  description:
    - The changes planned by the policy, run or (in check mode) to run.
    - C(action) is C(close), C(insert) or C(update_db); C(statements) lists each SQL template
      with its C(params) and C(expected_rows), the change first, then its C(mt5_sync_log) row.
  returned: success
  type: list
  elements: dict
  sample:
    - action: close
      class: db_only
      ticket: 1002
      mt5_account: 5001
      position_id: 2
      detail: {class: db_only, policy: close, close_reason: 'reconciliation: not present at broker'}
      statements:
        - sql: "UPDATE positions SET status = 'closed', closed_at = now(), close_reason = %s WHERE id = %s AND status = 'open'"
          params: ['reconciliation: not present at broker', 2]
          expected_rows: 1
manual:
  description:
    - Discrepancies left to a person, with C(class), C(ticket), C(mt5_account), C(reason) and C(detail).
    - C(already_logged) is true when a C(manual_review) row about the same discrepancy exists, so none is written again.
  returned: success
  type: list
  elements: dict
  sample:
    - class: mt5_only
      ticket: 1004
      mt5_account: 5002
      reason: 'held at the broker, missing from the database (policy: manual)'
      already_logged: false
queries:
  description:
    - Every SQL statement run, with its values; in check mode the writes are listed but not run.
  returned: success
  type: list
  elements: str
  sample:
    - "SELECT mt5_account FROM users WHERE mt5_account IS NOT NULL ORDER BY mt5_account"
    - "SELECT set_config('forexai.actor', 'forexai.dr reconcile_positions', true)"
'''

import io

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native, to_text

from ansible_collections.forexai.dr.plugins.module_utils.postgres import (
    DATABASE_ERRORS,
    HAS_PSYCOPG2,
    PSYCOPG2_IMPORT_ERROR,
    connect,
    dict_cursor,
    postgres_argument_spec,
    set_setting,
)
from ansible_collections.forexai.dr.plugins.module_utils.reconcile import (
    DEFAULT_ACTOR,
    DEFAULT_CLOSE_REASON,
    ReconcileError,
    detect_format,
    diff_positions,
    jsonable,
    parse_export,
    pending_manual,
    plan_actions,
    summarize,
)

ACCOUNTS_SQL = 'SELECT mt5_account FROM users WHERE mt5_account IS NOT NULL ORDER BY mt5_account'
POSITION_COLUMNS = ('id, user_id, mt5_account, ticket, symbol, side, volume, open_price, '
                    'open_time, status')
OPEN_POSITIONS_SQL = ("SELECT " + POSITION_COLUMNS + " FROM positions "
                      "WHERE status = 'open' ORDER BY ticket")
NOT_OPEN_SQL = ("SELECT " + POSITION_COLUMNS + " FROM positions "
                "WHERE status <> 'open' AND ticket = ANY(%s) ORDER BY ticket")
LOGGED_MANUAL_SQL = ("SELECT ticket, detail FROM mt5_sync_log "
                     "WHERE action = 'manual_review' AND ticket = ANY(%s)")


def argument_spec():
    spec = postgres_argument_spec()
    spec.update(
        export_path=dict(type='path'),
        export=dict(type='raw'),
        export_format=dict(type='str', default='auto', choices=['auto', 'csv', 'json']),
        policy=dict(
            type='dict',
            default={},
            options=dict(
                db_only=dict(type='str', default='manual', choices=['close', 'manual']),
                mt5_only=dict(type='str', default='manual', choices=['insert', 'manual']),
                mismatched=dict(type='str', default='manual', choices=['manual', 'update_db']),
            ),
        ),
        volume_tolerance=dict(type='str', default='0'),
        price_tolerance=dict(type='str', default='0.00001'),
        allow_empty_export=dict(type='bool', default=False),
        close_reason=dict(type='str', default=DEFAULT_CLOSE_REASON),
        actor=dict(type='str', default=DEFAULT_ACTOR),
    )
    return spec


MODULE_KWARGS = dict(
    mutually_exclusive=[('export_path', 'export')],
    required_one_of=[('export_path', 'export')],
    supports_check_mode=True,
)


def load_export(params):
    """Return (export, format) from export_path or export; format resolved when possible."""
    export_format = params['export_format']
    if params.get('export_path'):
        path = params['export_path']
        try:
            with io.open(path, 'r', encoding='utf-8-sig') as handle:
                text = handle.read()
        except (IOError, OSError, UnicodeDecodeError) as exc:
            raise ReconcileError('cannot read export file %s: %s' % (path, to_native(exc)))
        if export_format == 'auto':
            export_format = detect_format(text, path)
        return text, export_format
    return params['export'], export_format


class Session(object):
    """Runs statements on one cursor and records them for the result's ``queries``."""

    def __init__(self, conn):
        self.cursor = dict_cursor(conn)
        self.queries = []

    def render(self, sql, params=None):
        return to_text(self.cursor.mogrify(sql, params))

    def run(self, sql, params=None, expected_rows=None):
        self.queries.append(self.render(sql, params))
        self.cursor.execute(sql, params)
        if expected_rows is not None and self.cursor.rowcount != expected_rows:
            raise ReconcileError(
                'a statement touched %d row(s) instead of %d, so the data changed while '
                'reconciling; nothing was committed: %s'
                % (self.cursor.rowcount, expected_rows, self.queries[-1]))
        return self.cursor

    def rows(self, sql, params=None):
        return self.run(sql, params).fetchall()


def reconcile(conn, params, check_mode):
    """Read, compare, plan and (unless check_mode) apply in one transaction."""
    export, export_format = load_export(params)
    session = Session(conn)
    try:
        if check_mode:
            session.run('SET TRANSACTION READ ONLY')
        accounts = [row['mt5_account'] for row in session.rows(ACCOUNTS_SQL)]
        broker = parse_export(export, export_format, known_accounts=accounts)
        # Lock the open positions until the commit, so that what is compared is
        # what gets changed (not needed, nor allowed, when only reading).
        open_rows = session.rows(OPEN_POSITIONS_SQL + ('' if check_mode else ' FOR UPDATE'))
        tickets = [record['ticket'] for record in broker]
        not_open_rows = session.rows(NOT_OPEN_SQL, (tickets,)) if tickets else []

        diff = diff_positions(broker, open_rows,
                              volume_tolerance=params['volume_tolerance'],
                              price_tolerance=params['price_tolerance'],
                              allow_empty_export=params['allow_empty_export'],
                              db_closed=not_open_rows)
        plan = plan_actions(diff, params['policy'], close_reason=params['close_reason'],
                            actor=params['actor'])

        manual_tickets = sorted(set(item['ticket'] for item in plan['manual']))
        logged = []
        if manual_tickets:
            logged = [(row['ticket'], row['detail'])
                      for row in session.rows(LOGGED_MANUAL_SQL, (manual_tickets,))]
        to_log, _already = pending_manual(plan['manual'], logged)
        pending_ids = set(id(item) for item in to_log)

        statements = [s for action in plan['actions'] for s in action['statements']]
        statements += [s for item in to_log for s in item['statements']]
        changed = bool(statements)

        if changed and check_mode:
            session.queries.append(session.render('SELECT set_config(%s, %s, %s)',
                                                  ['forexai.actor', params['actor'], True]))
            session.queries.extend(session.render(s['sql'], s['params']) for s in statements)
        elif changed:
            statement, values = set_setting(session.cursor, 'forexai.actor', params['actor'])
            session.queries.append(session.render(statement, values))
            for s in statements:
                session.run(s['sql'], s['params'], s['expected_rows'])
            conn.commit()
        if check_mode or not changed:
            conn.rollback()
    except Exception:
        conn.rollback()
        raise

    manual = []
    for item in plan['manual']:
        entry = jsonable(item)
        entry['already_logged'] = id(item) not in pending_ids
        manual.append(entry)
    return dict(
        changed=changed,
        diff=jsonable(diff),
        summary=summarize(diff, plan),
        actions=jsonable(plan['actions']),
        manual=manual,
        queries=session.queries,
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), **MODULE_KWARGS)
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib('psycopg2'), exception=PSYCOPG2_IMPORT_ERROR)

    conn = None
    try:
        conn = connect(module.params)
        result = reconcile(conn, module.params, module.check_mode)
    except (ReconcileError,) + DATABASE_ERRORS as exc:
        # psycopg2 messages span lines; keep the message on one.
        module.fail_json(msg='Failed to reconcile positions: %s' % ' '.join(to_native(exc).split()))
    finally:
        if conn is not None:
            conn.close()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
