#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: db_repair
short_description: Repair one relation that forexai.dr.db_integrity found damaged, then check it again
version_added: 0.2.0
description:
  - Repairs only a relation the check flagged (O(relation) must be among O(findings)), by the
    finding's action, least destructive first, and checks it again afterwards.
  - "C(reindex), a damaged B-tree index: leftover C(<index>_ccnew) invalid indexes of an earlier
    attempt are dropped, then C(REINDEX INDEX CONCURRENTLY) rebuilds it from its table while
    writes go on. If that fails, a plain C(REINDEX INDEX) (an C(ACCESS EXCLUSIVE) lock on the
    index's table for its length) runs only with O(maintenance_window=true)."
  - "C(drop_invalid), an index left INVALID: a leftover of a failed concurrent rebuild
    (C(_ccnew), C(_ccold)) is dropped concurrently; any other invalid index is rebuilt
    concurrently."
  - "C(restore_rows), damaged pages of a table: the rows of the bad blocks are read from a
    physical side restore of the cluster (O(source_port); the same blocks hold the same rows
    there, because on-disk damage does not travel through WAL), the live table's readable rows
    are read by TID ranges around the bad blocks, and in one transaction, under an
    C(ACCESS EXCLUSIVE) lock on the table, the table is rewritten without its bad pages
    (C(CLUSTER) on its primary key with C(zero_damaged_pages) on for this transaction only;
    its clustering flag is kept as it was) and the side restore's rows whose key the table no
    longer has are put back. A row whose key is still readable elsewhere in the table was
    changed since: it is left alone and counted in RV(kept_newer)."
  - C(escalate) findings (catalog or TOAST damage) are refused, since they need a point-in-time
    restore of the cluster or a rebuild, not a repair of one relation.
  - In check mode nothing is changed; RV(planned) says what would be done, and for
    C(restore_rows) how many rows the side restore has for the bad blocks and how many would
    be put back.
author:
  - Forex AI platform engineering (@forexai)
options:
  relation:
    description:
      - The damaged relation, C(schema.name), as RV(forexai.dr.db_integrity#module:findings[].relation) names it.
    type: str
    required: true
  findings:
    description:
      - The findings of the check (RV(forexai.dr.db_integrity#module:findings)). A relation not among them is refused.
    type: list
    elements: dict
    required: true
  maintenance_window:
    description:
      - Allow the plain C(REINDEX) fallback, which locks the table for the rebuild.
    type: bool
    default: false
  source_port:
    description:
      - Port of the side restore the rows of bad blocks are read from (C(restore_rows)).
    type: int
  source_host:
    description:
      - Host or socket directory of the side restore; empty is that of the live server.
    type: str
    default: ''
  source_db:
    description:
      - The side restore's database; empty is O(db).
    type: str
    default: ''
  lock_timeout:
    description:
      - How long to wait for the table's lock before giving up (nothing changed).
    type: str
    default: 30s
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
requirements:
  - psycopg2 >= 2.8
  - the amcheck extension (for the check afterwards)
'''

EXAMPLES = r'''
- name: Rebuild a damaged index
  forexai.dr.db_repair:
    db: forexai
    relation: public.trades_user_id_idx
    findings: "{{ integrity.findings }}"
  become: true
  become_user: postgres

- name: Put back the rows of the bad blocks from a side restore on port 5433
  forexai.dr.db_repair:
    db: forexai
    relation: public.trades
    findings: "{{ integrity.findings }}"
    source_port: 5433
  become: true
  become_user: postgres
'''

RETURN = r'''
relation:
  description: The relation repaired.
  returned: always
  type: str
database:
  description: Its database.
  returned: always
  type: str
action:
  description: The repair done (or planned in check mode).
  returned: always
  type: str
planned:
  description: What the repair does, in words.
  returned: always
  type: str
statements:
  description: The statements that changed the database.
  returned: always
  type: list
put_back:
  description: Rows of the bad blocks put back from the side restore.
  returned: action is restore_rows
  type: int
kept_newer:
  description: Rows of the bad blocks the table still had a readable version of (changed since), left alone.
  returned: action is restore_rows
  type: int
source_rows:
  description: Rows the side restore has on the bad blocks.
  returned: action is restore_rows
  type: int
rows_before:
  description: Rows of the table that could be read before the repair (every block but the bad ones).
  returned: action is restore_rows
  type: int
rows_after:
  description: Rows of the table after the repair.
  returned: action is restore_rows and not in check mode
  type: int
recheck:
  description: The check afterwards (clean, and the server's messages when not).
  returned: not in check mode
  type: dict
'''

import io
import re
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.forexai.dr.plugins.module_utils import integrity
from ansible_collections.forexai.dr.plugins.module_utils.postgres import (
    DATABASE_ERRORS, HAS_PSYCOPG2, PSYCOPG2_IMPORT_ERROR, connect, error_text as one_line, identifier,
    postgres_argument_spec, set_setting, sql)


def argument_spec():
    spec = postgres_argument_spec()
    spec.update(
        relation=dict(type='str', required=True),
        findings=dict(type='list', elements='dict', required=True),
        maintenance_window=dict(type='bool', default=False),
        source_port=dict(type='int'),
        source_host=dict(type='str', default=''),
        source_db=dict(type='str', default=''),
        lock_timeout=dict(type='str', default='30s'),
    )
    return spec


def split_name(name):
    schema, _dot, rel = name.partition('.')
    if not rel:
        return 'public', schema
    return schema, rel


def with_amcheck(cur, statement, params):
    """Run an amcheck statement; amcheck is created for this transaction when missing. (ok, message)."""
    cur.execute("SELECT 1 FROM pg_extension WHERE extname = 'amcheck'")
    if not cur.fetchone():
        cur.execute('CREATE EXTENSION amcheck')
    cur.execute('SAVEPOINT recheck')
    try:
        cur.execute(statement, params)
        rows = cur.fetchall() if cur.description else []
        cur.execute('RELEASE SAVEPOINT recheck')
        return rows, None
    except DATABASE_ERRORS as exc:
        cur.execute('ROLLBACK TO SAVEPOINT recheck')
        return None, one_line(exc)


def recheck_table(conn, schema, table):
    """verify_heapam on the table and bt_index_check (heapallindexed) on each of its B-tree indexes."""
    cur = conn.cursor()
    messages = []
    rows, error = with_amcheck(cur, "SELECT blkno, offnum, msg FROM verify_heapam(%s::regclass, check_toast => true)",
                               [sql.SQL('{}').format(identifier(schema, table)).as_string(conn)])
    if error:
        messages.append('%s.%s: %s' % (schema, table, error))
    else:
        messages.extend('%s.%s block %s item %s: %s' % (schema, table, b, o, m) for b, o, m in rows)
    cur.execute("SELECT c.oid, ns.nspname || '.' || c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_namespace ns ON ns.oid = c.relnamespace JOIN pg_am a ON a.oid = c.relam "
                "WHERE i.indrelid = %s::regclass AND a.amname = 'btree' AND i.indisvalid",
                [sql.SQL('{}').format(identifier(schema, table)).as_string(conn)])
    for oid, name in cur.fetchall():
        rows, error = with_amcheck(cur, 'SELECT bt_index_check(%s::oid::regclass, true)', [oid])
        if error:
            messages.append('%s: %s' % (name, error))
    conn.rollback()
    return {'clean': not messages, 'evidence': messages}


def recheck_index(conn, schema, index):
    cur = conn.cursor()
    cur.execute("SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = %s::regclass",
                [sql.SQL('{}').format(identifier(schema, index)).as_string(conn)])
    valid = cur.fetchone()[0]
    rows, error = with_amcheck(cur, 'SELECT bt_index_check(%s::regclass, true)',
                               [sql.SQL('{}').format(identifier(schema, index)).as_string(conn)])
    conn.rollback()
    evidence = [] if valid else ['the index is still INVALID']
    if error:
        evidence.append(error)
    return {'clean': not evidence, 'evidence': evidence}


LEFTOVER = re.compile(r'_cc(new|old)[0-9]*$')


def leftovers(cur, schema, index):
    """Invalid leftovers of earlier concurrent rebuilds of this index (<index>_ccnew, _ccnew1, ...)."""
    cur.execute("SELECT c.relname FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND NOT i.indisvalid "
                "AND left(c.relname, length(%s)) = %s", [schema, index, index])
    return [name for (name,) in cur.fetchall()
            if name != index and LEFTOVER.search(name) and LEFTOVER.sub('', name) == index]


def do_reindex(module, params, schema, index):
    statements = []
    conn = connect(params)
    conn.autocommit = True
    try:
        cur = conn.cursor()
        set_setting(cur, 'lock_timeout', params['lock_timeout'], local=False)
        stale = leftovers(cur, schema, index)
        planned = ('drop %s, then ' % ', '.join(stale) if stale else '') + \
            'REINDEX INDEX CONCURRENTLY %s.%s (falling back to a plain REINDEX %s)' % (
                schema, index, 'in this maintenance window' if params['maintenance_window'] else
                'only with maintenance_window=true')
        if module.check_mode:
            return {'changed': False, 'planned': planned, 'statements': []}
        for name in stale:
            statement = sql.SQL('DROP INDEX CONCURRENTLY IF EXISTS {}').format(identifier(schema, name))
            cur.execute(statement)
            statements.append(statement.as_string(conn))
        statement = sql.SQL('REINDEX INDEX CONCURRENTLY {}').format(identifier(schema, index))
        try:
            cur.execute(statement)
            statements.append(statement.as_string(conn))
        except DATABASE_ERRORS as exc:
            first = one_line(exc)
            for name in leftovers(cur, schema, index):
                drop = sql.SQL('DROP INDEX CONCURRENTLY IF EXISTS {}').format(identifier(schema, name))
                cur.execute(drop)
                statements.append(drop.as_string(conn))
            if not params['maintenance_window']:
                module.fail_json(msg='Failed to repair %s.%s: REINDEX INDEX CONCURRENTLY failed (%s); its leftovers '
                                     'were dropped and the index is as it was. A plain REINDEX locks the table for '
                                     'the rebuild: run again with maintenance_window=true in a window.'
                                     % (schema, index, first), statements=statements, changed=bool(statements))
            plain = sql.SQL('REINDEX INDEX {}').format(identifier(schema, index))
            cur.execute(plain)
            statements.append(plain.as_string(conn))
        conn.autocommit = False
        return {'changed': True, 'planned': planned, 'statements': statements,
                'recheck': recheck_index(conn, schema, index)}
    finally:
        conn.close()


def do_drop_invalid(module, params, schema, index):
    conn = connect(params)
    conn.autocommit = True
    try:
        cur = conn.cursor()
        leftover = bool(LEFTOVER.search(index))
        if leftover:
            statement = sql.SQL('DROP INDEX CONCURRENTLY IF EXISTS {}').format(identifier(schema, index))
            planned = 'DROP INDEX CONCURRENTLY %s.%s (a leftover of a failed concurrent rebuild)' % (schema, index)
        else:
            statement = sql.SQL('REINDEX INDEX CONCURRENTLY {}').format(identifier(schema, index))
            planned = 'REINDEX INDEX CONCURRENTLY %s.%s (its concurrent build failed)' % (schema, index)
        if module.check_mode:
            return {'changed': False, 'planned': planned, 'statements': []}
        set_setting(cur, 'lock_timeout', params['lock_timeout'], local=False)
        cur.execute(statement)
        conn.autocommit = False
        recheck = {'clean': True, 'evidence': []} if leftover else recheck_index(conn, schema, index)
        return {'changed': True, 'planned': planned, 'statements': [statement.as_string(conn)], 'recheck': recheck}
    finally:
        conn.close()


def table_shape(cur, schema, table):
    """(columns without generated ones, primary key columns, the primary key index, the clustered index)."""
    cur.execute("SELECT a.attname FROM pg_attribute a WHERE a.attrelid = %s::regclass AND a.attnum > 0 "
                "AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum",
                [sql.SQL('{}').format(identifier(schema, table)).as_string(cur.connection)])
    columns = [row[0] for row in cur.fetchall()]
    cur.execute("SELECT c.relname, array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n) "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n) "
                "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass AND i.indisprimary",
                [sql.SQL('{}').format(identifier(schema, table)).as_string(cur.connection)])
    row = cur.fetchone()
    cur.execute("SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indrelid = %s::regclass AND i.indisclustered",
                [sql.SQL('{}').format(identifier(schema, table)).as_string(cur.connection)])
    clustered = cur.fetchone()
    return columns, (list(row[1]) if row else []), (row[0] if row else None), (clustered[0] if clustered else None)


def force_tid_scans(cur):
    for setting in ('enable_seqscan', 'enable_indexscan', 'enable_bitmapscan', 'enable_indexonlyscan'):
        set_setting(cur, setting, 'off')


def read_keys(cur, schema, table, keys, bad_blocks):
    """Keys of every readable row: the TID ranges around the bad blocks, never the bad pages."""
    force_tid_scans(cur)
    found = set()
    for start, end in integrity.block_ranges(bad_blocks):
        condition, params = integrity.tid_range_condition(start, end)
        cur.execute(sql.SQL('SELECT {} FROM {} WHERE ' + condition).format(
            sql.SQL(', ').join(sql.SQL('{}::text').format(identifier(k)) for k in keys),
            identifier(schema, table)), params)
        found.update(tuple(row) for row in cur.fetchall())
    return found


def source_rows(module, params, schema, table, columns, keys, bad_blocks):
    """The side restore's rows on the bad blocks: (COPY text, their keys)."""
    source = dict(params)
    source['login_port'] = params['source_port']
    if params['source_host']:
        source['login_host'] = params['source_host']
    if params['source_db']:
        source['db'] = params['source_db']
    conn = connect(source)
    try:
        cur = conn.cursor()
        cur.execute('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY')
        force_tid_scans(cur)
        buffer = io.StringIO()
        key_rows = []
        for block in sorted(set(bad_blocks)):
            condition, cond_params = integrity.tid_range_condition(block, block + 1)
            select = sql.SQL('SELECT {} FROM {} WHERE ' + condition).format(
                sql.SQL(', ').join(identifier(c) for c in columns), identifier(schema, table))
            cur.execute(sql.SQL('SELECT {} FROM {} WHERE ' + condition).format(
                sql.SQL(', ').join(sql.SQL('{}::text').format(identifier(k)) for k in keys),
                identifier(schema, table)), cond_params)
            key_rows.extend(tuple(row) for row in cur.fetchall())
            copy = sql.SQL('COPY ({}) TO STDOUT').format(sql.SQL(cur.mogrify(select, cond_params).decode()))
            cur.copy_expert(copy.as_string(conn), buffer)
        conn.rollback()
        return buffer.getvalue(), key_rows
    finally:
        conn.close()


def do_restore_rows(module, params, schema, table, bad_blocks):
    if not params['source_port']:
        module.fail_json(msg='Failed to repair %s.%s: its damaged pages need a side restore to read their rows from: '
                             'give source_port (forexai.dr.restore_pitr with restore_pitr_mode=side); nothing was changed'
                             % (schema, table))
    conn = connect(params)
    try:
        cur = conn.cursor()
        columns, keys, pkey_index, clustered = table_shape(cur, schema, table)
        if not keys:
            module.fail_json(msg='Failed to repair %s.%s: it has no primary key, so rows of the side restore cannot be '
                                 'told from rows the table still has; nothing was changed' % (schema, table))
        conn.rollback()
        try:
            copied, side_keys = source_rows(module, params, schema, table, columns, keys, bad_blocks)
        except DATABASE_ERRORS as exc:
            module.fail_json(msg='Failed to repair %s.%s: the side restore could not give the rows of blocks %s (%s). '
                                 'If its copy is damaged too, the damage travelled with the WAL: restore to a time '
                                 'before the first evidence instead. Nothing was changed.'
                                 % (schema, table, ', '.join(str(b) for b in bad_blocks), one_line(exc)))
        set_setting(cur, 'lock_timeout', params['lock_timeout'])
        if not module.check_mode:
            cur.execute(sql.SQL('LOCK TABLE {} IN ACCESS EXCLUSIVE MODE').format(identifier(schema, table)))
        try:
            live = read_keys(cur, schema, table, keys, bad_blocks)
        except DATABASE_ERRORS as exc:
            conn.rollback()
            module.fail_json(msg='Failed to repair %s.%s: a block the check did not flag cannot be read either (%s): '
                                 'check again; nothing was changed' % (schema, table, one_line(exc)))
        missing = [k for k in side_keys if k not in live]
        result = {'action': 'restore_rows', 'source_rows': len(side_keys), 'rows_before': len(live),
                  'put_back': len(missing), 'kept_newer': len(side_keys) - len(missing), 'statements': [],
                  'blocks': sorted(set(bad_blocks)),
                  'planned': ('rewrite %s.%s without blocks %s (CLUSTER on %s, ACCESS EXCLUSIVE for its length, '
                              'and as much free disk as the table), then put back %d of the side restore\'s %d rows '
                              'of those blocks (%d still readable, changed since: left alone)'
                              % (schema, table, ', '.join(str(b) for b in sorted(set(bad_blocks))), pkey_index,
                                 len(missing), len(side_keys), len(side_keys) - len(missing)))}
        if module.check_mode:
            conn.rollback()
            result['changed'] = False
            return result
        statements = [sql.SQL("SET LOCAL zero_damaged_pages = on"),
                      sql.SQL('CLUSTER {} USING {}').format(identifier(schema, table), identifier(pkey_index))]
        if clustered is None:
            statements.append(sql.SQL('ALTER TABLE {} SET WITHOUT CLUSTER').format(identifier(schema, table)))
        elif clustered != pkey_index:
            statements.append(sql.SQL('ALTER TABLE {} CLUSTER ON {}').format(identifier(schema, table), identifier(clustered)))
        for statement in statements:
            cur.execute(statement)
            result['statements'].append(statement.as_string(conn))
        cur.execute('SET LOCAL zero_damaged_pages = off')
        column_list = sql.SQL(', ').join(identifier(c) for c in columns)
        cur.execute(sql.SQL('CREATE TEMPORARY TABLE forexai_recovered ON COMMIT DROP AS SELECT {} FROM {} LIMIT 0').format(
            column_list, identifier(schema, table)))
        cur.copy_expert(sql.SQL('COPY forexai_recovered ({}) FROM STDIN').format(column_list).as_string(conn),
                        io.StringIO(copied))
        match = sql.SQL(' AND ').join(sql.SQL('t.{0} IS NOT DISTINCT FROM r.{0}').format(identifier(k)) for k in keys)
        insert = sql.SQL('INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM forexai_recovered r '
                         'WHERE NOT EXISTS (SELECT 1 FROM {} t WHERE {})').format(
            identifier(schema, table), column_list, sql.SQL(', ').join(sql.SQL('r.{}').format(identifier(c)) for c in columns),
            identifier(schema, table), match)
        cur.execute(insert)
        inserted = cur.rowcount
        result['statements'].append('INSERT INTO %s.%s ... %d rows of the side restore' % (schema, table, inserted))
        cur.execute(sql.SQL('SELECT count(*) FROM {}').format(identifier(schema, table)))
        after = cur.fetchone()[0]
        if inserted != len(missing) or after != len(live) + inserted:
            conn.rollback()
            module.fail_json(msg='Failed to repair %s.%s: expected to put back %d rows onto %d, but %d went in and the '
                                 'table would hold %d; rolled back, nothing was changed'
                                 % (schema, table, len(missing), len(live), inserted, after))
        conn.commit()
        result.update(changed=True, rows_after=after, put_back=inserted, recheck=recheck_table(conn, schema, table))
        return result
    finally:
        conn.close()


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib('psycopg2'), exception=PSYCOPG2_IMPORT_ERROR)
    started = time.time()
    database = params['db'] or 'postgres'
    flagged = [f for f in params['findings'] if f.get('relation') == params['relation']
               and f.get('database', database) == database]
    if not flagged:
        module.fail_json(msg='Failed to repair %s: the check did not flag it in database %s (flagged: %s); '
                             'nothing was changed' % (params['relation'], database,
                                                      ', '.join(sorted('%s.%s' % (f.get('database'), f.get('relation'))
                                                                       for f in params['findings'])) or 'nothing'))
    finding = flagged[0]
    action = finding.get('action') or integrity.action_for(finding.get('kind'))
    schema, name = split_name(params['relation'])
    try:
        if action == 'reindex':
            damaged_table = [f for f in params['findings'] if f.get('table') == finding.get('table')
                             and f.get('database', database) == database
                             and (f.get('action') or integrity.action_for(f.get('kind'))) == 'restore_rows']
            if damaged_table:
                module.fail_json(msg='Failed to repair %s: its table %s has damaged pages too, and a rebuild of the '
                                     'index reads them; repair the table first (its repair rebuilds every index of '
                                     'it); nothing was changed' % (params['relation'], finding.get('table')))
            result = do_reindex(module, params, schema, name)
        elif action == 'drop_invalid':
            result = do_drop_invalid(module, params, schema, name)
        elif action == 'restore_rows':
            if not finding.get('blocks'):
                module.fail_json(msg='Failed to repair %s: the finding names no bad block; nothing was changed'
                                     % params['relation'])
            result = do_restore_rows(module, params, schema, name, [int(b) for b in finding['blocks']])
        else:
            module.fail_json(msg='Failed to repair %s: %s damage is not repaired relation by relation; restore the '
                                 'cluster (forexai.dr.restore_pitr) or rebuild it (forexai.dr.scenario_server_failure); '
                                 'nothing was changed' % (params['relation'], finding.get('kind')))
    except DATABASE_ERRORS as exc:
        module.fail_json(msg='Failed to repair %s: %s' % (params['relation'], one_line(exc)),
                         exception=traceback.format_exc())
    result.setdefault('action', action)
    result.update(relation=params['relation'], database=database)
    result['seconds'] = round(time.time() - started, 3)
    if result.get('recheck') and not result['recheck']['clean']:
        module.fail_json(msg='Repaired %s, but the check afterwards still finds damage: %s'
                             % (params['relation'], '; '.join(result['recheck']['evidence'])), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
