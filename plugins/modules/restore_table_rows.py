#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: restore_table_rows
short_description: Restore one table's rows from a logical backup into the live table
version_added: 0.1.0
description:
  - Restores one table of a C(pg_dump) custom or directory archive into a scratch database
    (only the table and what its columns need, through C(pg_restore --list) / C(--use-list)),
    then applies its rows to the live table in one transaction.
  - "O(mode=replace): rows whose content differs from the backup are updated and missing
    rows are inserted; rows added since the backup stay, unless O(delete_absent=true) asks
    to delete them too. Rows are matched by key; nothing is truncated, so foreign keys that
    reference the table keep working (a delete that a foreign key forbids fails the whole
    run and changes nothing)."
  - Before a live row is updated or deleted, it is saved (all its columns, with the action
    in C(__forexai_action)) into the table C(<save_schema>.<table>_<UTC stamp>) in the
    same transaction; RV(saved_rows) says where.
  - Rows of other tables that a delete would remove or change through C(ON DELETE CASCADE),
    C(SET NULL) or C(SET DEFAULT) are counted first (RV(cascades)); unless
    O(allow_cascade=true), the run then fails before anything is deleted.
  - "O(mode=missing_only): only backup rows whose key is absent from the live table are
    inserted; every other row is left alone."
  - The table's sequences are moved up to the largest restored value when they are behind
    (never backwards).
  - The live table's constraints, indexes, triggers, views and grants are not touched;
    its triggers fire for the rows changed.
  - The scratch database is always dropped, also when the module fails.
  - Schema and table are given apart and always quoted as identifiers, so any name the
    database can hold works (capitals, spaces, quotes, dots). A table absent from the
    backup or from the live database fails before anything is created or changed.
author:
  - Forex AI platform engineering (@forexai)
options:
  table:
    description:
      - The table's name, exactly as the database holds it, neither quoted nor
        schema-qualified. V(Trade Notes) is the table C("Trade Notes").
    type: str
    required: true
  schema:
    description:
      - The table's schema, exactly as the database holds it.
    type: str
    default: public
  dump:
    description:
      - Path of the dump (a custom-format file or a directory-format directory) on the host.
    type: path
    required: true
  mode:
    description:
      - How backup rows are applied; see the description.
    type: str
    choices: [ replace, missing_only ]
    default: replace
  delete_absent:
    description:
      - With O(mode=replace), also delete live rows whose key the backup does not have,
        that is every row added since the backup (in C(trades), every trade booked since).
      - V(false) reverts changed rows and brings back deleted ones while rows added since
        the backup stay.
    type: bool
    default: false
  allow_cascade:
    description:
      - Let a delete go on when it would remove or change rows of other tables through
        their foreign keys (C(ON DELETE CASCADE), C(SET NULL), C(SET DEFAULT)). Only rows
        of the tables that reference this one directly are counted.
    type: bool
    default: false
  only_keys:
    description:
      - Apply only the backup rows whose key is one of these values (compared as text), for
        example the ids an audited deletion removed. Needs a one-column key, and cannot be
        combined with O(delete_absent). Every backup row when omitted.
    type: list
    elements: raw
  save_schema:
    description:
      - Schema (made when missing) of the table that keeps the live rows this run updates
        or deletes. Those rows are saved before they change; nothing is saved when no row
        is updated or deleted.
    type: str
    default: forexai_restore_saved
  key_columns:
    description:
      - Columns that identify a row. The table's primary key when omitted.
    type: list
    elements: str
  maintenance_db:
    description:
      - Database to connect to when creating and dropping the scratch database.
    type: str
    default: postgres
  scratch_db:
    description:
      - Name of the scratch database. C(<db>_scratch_<UTC stamp>) when omitted.
      - An existing database of that name is refused.
    type: str
  pg_bin_dir:
    description:
      - Directory of C(pg_restore). C(pg_restore) from E(PATH) when omitted.
    type: path
  lock_timeout:
    description:
      - How long to wait for the lock on the live table (PostgreSQL interval text).
      - The table is locked against writes (C(SHARE ROW EXCLUSIVE)) for the transaction.
    type: str
    default: 10s
extends_documentation_fragment:
  - forexai.dr.postgres
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - The scratch database is made and dropped, and the changes run inside a transaction
        that is rolled back, so the counts returned are exactly what would change.
        Sequences are not moved.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - O(db) is the live database. The connection role needs C(CREATEDB) for the scratch
    database and write access to the table (a superuser over the local socket is simplest).
requirements:
  - psycopg2 >= 2.8
  - PostgreSQL client programs (C(pg_restore)) of a version at least the dump's
'''

EXAMPLES = r'''
- name: Bring back rows of trades changed or deleted since the backup, keep newer rows
  forexai.dr.restore_table_rows:
    db: forexai
    schema: public
    table: trades
    dump: /var/tmp/forexai-restore/20261125T180000Z/database.dump
    mode: replace
  become: true
  become_user: postgres

- name: Only insert the settings rows that are missing
  forexai.dr.restore_table_rows:
    db: forexai
    table: settings
    dump: /var/tmp/forexai-restore/20261125T180000Z/database.dump
    mode: missing_only
  check_mode: true
  become: true
  become_user: postgres

- name: Make a table with a capital and a space exactly as in the backup (newer rows deleted)
  forexai.dr.restore_table_rows:
    db: forexai
    schema: Ops
    table: Desk Limits
    dump: /var/tmp/forexai-restore/20261125T180000Z/database.dump
    delete_absent: true
  become: true
  become_user: postgres
'''

RETURN = r'''
table:
  description: The table restored, schema-qualified and quoted as an identifier.
  returned: always
  type: str
  sample: '"public"."trades"'
mode:
  description: The mode used.
  returned: always
  type: str
  sample: replace
inserted:
  description: Rows inserted (or that would be, in check mode).
  returned: success
  type: int
  sample: 100
updated:
  description: Rows updated (or that would be).
  returned: success
  type: int
  sample: 100
deleted:
  description: Rows deleted (or that would be).
  returned: success
  type: int
  sample: 0
rows_in_backup:
  description: Rows of the table in the backup.
  returned: success
  type: int
  sample: 20000
rows_selected:
  description: Backup rows left by O(only_keys).
  returned: when O(only_keys) is given
  type: int
  sample: 412
key_columns:
  description: Columns rows were matched by.
  returned: success
  type: list
  elements: str
  sample: [ id ]
columns:
  description: Columns copied (those both the backup and the live table have).
  returned: success
  type: list
  elements: str
skipped_columns:
  description: Live columns not copied (generated, or absent from the backup).
  returned: success
  type: list
  elements: str
sequences:
  description: Sequences of the table and what was done to them.
  returned: success
  type: list
  elements: dict
  sample: [ {sequence: public.trades_id_seq, column: id, max: 20500, before: 20490, set_to: 20500} ]
saved_rows:
  description:
    - Where the live rows this run updated or deleted were saved, and how many (in check
      mode, how many would be; the table is not kept). Its C(table) is null when
      no row was updated or deleted.
  returned: success
  type: dict
  sample: {table: '"forexai_restore_saved"."trades_20261125t231000z"', rows: 200}
cascades:
  description:
    - The foreign keys of other tables that the delete would act on, with the rows of that
      table it would remove (C(cascade)) or change (C(set null), C(set default)).
  returned: success
  type: list
  elements: dict
  sample: [ {constraint: trade_notes_trade_id_fkey, table: '"public"."trade_notes"',
             action: cascade, rows: 4} ]
statements:
  description: The statements run on the live table, in order.
  returned: success
  type: list
  elements: str
scratch_database:
  description: Name of the scratch database.
  returned: when it was created
  type: str
scratch_dropped:
  description: Whether the scratch database was dropped.
  returned: when it was created
  type: bool
seconds:
  description: Time spent restoring into the scratch database, applying, and in total.
  returned: always
  type: dict
'''

import datetime
import os
import subprocess
import tempfile
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.forexai.dr.plugins.module_utils import restore as rlib
from ansible_collections.forexai.dr.plugins.module_utils.postgres import (
    DATABASE_ERRORS,
    HAS_PSYCOPG2,
    PSYCOPG2_IMPORT_ERROR,
    connect,
    connection_kwargs,
    libpq_env,
    postgres_argument_spec,
    sql,
    tail,
)

STEP_COUNTS = {'delete': 'deleted', 'update': 'updated', 'insert': 'inserted'}


COLUMNS_SQL = """
SELECT a.attname, a.attgenerated <> '' AS generated, a.attidentity
  FROM pg_catalog.pg_attribute a
 WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum
"""
PRIMARY_KEY_SQL = """
SELECT a.attname
  FROM pg_catalog.pg_index i
  JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
  JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
 WHERE i.indrelid = %s::regclass AND i.indisprimary
 ORDER BY k.ord
"""


def argument_spec():
    spec = postgres_argument_spec()
    spec.update(
        table=dict(type='str', required=True),
        schema=dict(type='str', default='public'),
        dump=dict(type='path', required=True),
        mode=dict(type='str', default='replace', choices=['replace', 'missing_only']),
        delete_absent=dict(type='bool', default=False),
        allow_cascade=dict(type='bool', default=False),
        save_schema=dict(type='str', default='forexai_restore_saved'),
        only_keys=dict(type='list', elements='raw', no_log=False),
        key_columns=dict(type='list', elements='str', no_log=False),
        maintenance_db=dict(type='str', default='postgres'),
        scratch_db=dict(type='str'),
        pg_bin_dir=dict(type='path'),
        lock_timeout=dict(type='str', default='10s'),
    )
    return spec


def pg_program(params, name):
    return os.path.join(params['pg_bin_dir'], name) if params['pg_bin_dir'] else name


def regclass_text(schema, table):
    return rlib.qualified_name(schema, table)


def table_columns(cur, schema, table):
    cur.execute('SELECT pg_catalog.to_regclass(%s)', (regclass_text(schema, table),))
    if cur.fetchone()[0] is None:
        return None
    cur.execute(COLUMNS_SQL, (regclass_text(schema, table),))
    return [{'name': r[0], 'generated': r[1], 'identity': r[2]} for r in cur.fetchall()]


def key_match(keys):
    return sql.SQL(' AND ').join(
        sql.SQL('l.{k} = s.{k}').format(k=sql.Identifier(k)) for k in keys)


def row_differs(columns):
    """Live row ``l`` and backup row ``s`` differ in ``columns``.

    Compared as text: every type has one, json included (which has no '=').
    """
    left = sql.SQL(', ').join(sql.SQL('l.{}').format(sql.Identifier(c)) for c in columns)
    right = sql.SQL(', ').join(sql.SQL('s.{}').format(sql.Identifier(c)) for c in columns)
    return sql.SQL('ROW({})::text IS DISTINCT FROM ROW({})::text').format(left, right)


def build_statements(schema, table, src, columns, keys, identity_always, steps):
    """(step, Composed) pairs for the steps asked, on live table ``l`` and source ``s``."""
    live = sql.Identifier(schema, table)
    src_id = sql.Identifier(src)
    cols = sql.SQL(', ').join(sql.Identifier(c) for c in columns)
    match = key_match(keys)
    out = []
    for step in steps:
        if step == 'delete':
            out.append((step, sql.SQL('DELETE FROM {live} AS l WHERE {doomed}').format(
                live=live, doomed=doomed_rows(src_id, keys))))
        elif step == 'update':
            settable = [c for c in columns if c not in keys and c not in identity_always]
            if not settable:
                continue
            assignments = sql.SQL(', ').join(
                sql.SQL('{c} = s.{c}').format(c=sql.Identifier(c)) for c in settable)
            out.append((step, sql.SQL(
                'UPDATE {live} AS l SET {a} FROM {src} AS s WHERE {m} AND {differs}'
            ).format(live=live, a=assignments, src=src_id, m=match,
                     differs=row_differs(settable))))
        elif step == 'insert':
            overriding = sql.SQL(' OVERRIDING SYSTEM VALUE') if identity_always else sql.SQL('')
            out.append((step, sql.SQL(
                'INSERT INTO {live} ({cols}){ov} SELECT {scols} FROM {src} AS s '
                'WHERE NOT EXISTS (SELECT 1 FROM {live} AS l WHERE {m})'
            ).format(live=live, cols=cols, ov=overriding,
                     scols=sql.SQL(', ').join(sql.SQL('s.{}').format(sql.Identifier(c))
                                              for c in columns),
                     src=src_id, m=match)))
    return out


def create_database(params, name):
    admin = connect(dict(params, db=params['maintenance_db']))
    admin.autocommit = True
    try:
        cur = admin.cursor()
        cur.execute('SELECT 1 FROM pg_catalog.pg_database WHERE datname = %s', (name,))
        if cur.fetchone():
            raise rlib.RestoreError('scratch database %s already exists' % name)
        cur.execute(sql.SQL('CREATE DATABASE {} TEMPLATE template0').format(sql.Identifier(name)))
    finally:
        admin.close()


def drop_database(params, name):
    admin = connect(dict(params, db=params['maintenance_db']))
    admin.autocommit = True
    try:
        cur = admin.cursor()
        cur.execute("SELECT current_setting('server_version_num')::int")
        statement = ('DROP DATABASE IF EXISTS {} WITH (FORCE)' if cur.fetchone()[0] >= 130000
                     else 'DROP DATABASE IF EXISTS {}')
        cur.execute(sql.SQL(statement).format(sql.Identifier(name)))
    finally:
        admin.close()


def restore_into_scratch(params, scratch, toc_list):
    handle, list_path = tempfile.mkstemp(prefix='forexai-restore-table-', suffix='.list')
    try:
        with os.fdopen(handle, 'w') as out:
            out.write(toc_list)
        argv = [pg_program(params, 'pg_restore'), '--no-password', '--dbname=%s' % scratch,
                '--no-owner', '--no-acl', '--exit-on-error', '--use-list=%s' % list_path,
                params['dump']]
        proc = subprocess.run(argv, env=libpq_env(connection_kwargs(params)),
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False)
    finally:
        os.unlink(list_path)
    if proc.returncode != 0:
        raise rlib.RestoreError('pg_restore into scratch database %s failed (exit %d): %s'
                                % (scratch, proc.returncode, tail(proc.stderr)))


def read_toc(params):
    proc = subprocess.run([pg_program(params, 'pg_restore'), '--list', params['dump']],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        raise rlib.RestoreError('pg_restore --list cannot read %s (exit %d): %s'
                                % (params['dump'], proc.returncode, tail(proc.stderr)))
    return rlib.parse_toc(to_native(proc.stdout))


def live_layout(conn, schema, table, key_columns):
    cur = conn.cursor()
    columns = table_columns(cur, schema, table)
    if columns is None:
        raise rlib.RestoreError('table %s.%s does not exist in the live database'
                                % (schema, table))
    if key_columns:
        keys = [rlib.check_identifier(k, 'key column') for k in key_columns]
    else:
        cur.execute(PRIMARY_KEY_SQL, (regclass_text(schema, table),))
        keys = [r[0] for r in cur.fetchall()]
        if not keys:
            raise rlib.RestoreError('table %s.%s has no primary key: give key_columns'
                                    % (schema, table))
    conn.rollback()
    return columns, keys


def copy_rows_out(params, scratch, schema, table, live_columns, keys):
    """Columns both sides share, the live columns left out, and the backup rows as COPY text."""
    conn = connect(dict(params, db=scratch))
    try:
        cur = conn.cursor()
        backup_columns = table_columns(cur, schema, table)
        if backup_columns is None:
            raise rlib.RestoreError('table %s.%s is not in the backup' % (schema, table))
        backup_names = set(c['name'] for c in backup_columns)
        columns = [c['name'] for c in live_columns
                   if not c['generated'] and c['name'] in backup_names]
        skipped = [c['name'] for c in live_columns if c['name'] not in columns]
        missing_keys = [k for k in keys if k not in columns]
        if missing_keys:
            raise rlib.RestoreError('key column(s) %s of %s.%s are not in both the backup and '
                                    'the live table' % (', '.join(missing_keys), schema, table))
        buffer = tempfile.TemporaryFile()
        cur.copy_expert(sql.SQL('COPY (SELECT {} FROM {}) TO STDOUT').format(
            sql.SQL(', ').join(sql.Identifier(c) for c in columns),
            sql.Identifier(schema, table)).as_string(conn), buffer)
        buffer.seek(0)
        conn.rollback()
        return columns, skipped, buffer
    finally:
        conn.close()


CASCADES_SQL = """
SELECT c.conname, cn.nspname, cc.relname, c.confdeltype,
       ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
              ORDER BY k.ord),
       ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum
              ORDER BY k.ord)
  FROM pg_catalog.pg_constraint c
  JOIN pg_catalog.pg_class cc ON cc.oid = c.conrelid
  JOIN pg_catalog.pg_namespace cn ON cn.oid = cc.relnamespace
 WHERE c.contype = 'f' AND c.confrelid = %s::regclass AND c.confdeltype IN ('c', 'n', 'd')
 ORDER BY 2, 3, 1
"""
DELETE_ACTIONS = {'c': 'cascade', 'n': 'set null', 'd': 'set default'}


def only_keys_statement(src, keys):
    """Drop from the backup rows every row whose (one-column) key is not in the list given."""
    if len(keys) != 1:
        raise rlib.RestoreError('only_keys needs a one-column key; this table is keyed by %s'
                                % ', '.join(keys))
    return sql.SQL('DELETE FROM {src} AS s WHERE NOT (s.{k}::text = ANY(%s))').format(
        src=sql.Identifier(src), k=sql.Identifier(keys[0]))


def doomed_rows(src, keys):
    """Live rows (alias ``l``) that the delete step removes: their key is not in the backup."""
    return sql.SQL('NOT EXISTS (SELECT 1 FROM {src} AS s WHERE {m})').format(
        src=src, m=key_match(keys))


def count_cascades(cur, schema, table, src, keys):
    """Rows of referencing tables that deleting the doomed rows would remove or change."""
    live = sql.Identifier(schema, table)
    cur.execute(CASCADES_SQL, (regclass_text(schema, table),))
    found = []
    for name, child_schema, child_table, action, child_cols, parent_cols in cur.fetchall():
        match = sql.SQL(' AND ').join(
            sql.SQL('l.{p} = c.{f}').format(p=sql.Identifier(p), f=sql.Identifier(f))
            for p, f in zip(parent_cols, child_cols))
        cur.execute(sql.SQL(
            'SELECT count(*) FROM {child} AS c WHERE EXISTS '
            '(SELECT 1 FROM {live} AS l WHERE {m} AND {doomed})').format(
                child=sql.Identifier(child_schema, child_table), live=live, m=match,
                doomed=doomed_rows(src, keys)))
        found.append({'constraint': name, 'table': regclass_text(child_schema, child_table),
                      'action': DELETE_ACTIONS[action], 'rows': cur.fetchone()[0]})
    return found


def save_rows(cur, params, schema, table, src, columns, keys, identity_always, steps, stamp):
    """Copy the live rows the steps will update or delete into the save table, first."""
    live = sql.Identifier(schema, table)
    parts = []
    if 'delete' in steps:
        parts.append(sql.SQL("SELECT 'delete'::text AS __forexai_action, l.* FROM {live} AS l "
                             "WHERE {doomed}").format(live=live,
                                                      doomed=doomed_rows(src, keys)))
    settable = [c for c in columns if c not in keys and c not in identity_always]
    if 'update' in steps and settable:
        parts.append(sql.SQL(
            "SELECT 'update'::text AS __forexai_action, l.* FROM {live} AS l, {src} AS s "
            "WHERE {m} AND {differs}").format(live=live, src=src, m=key_match(keys),
                                              differs=row_differs(settable)))
    saved = {'table': None, 'rows': 0}
    if not parts:
        return saved
    save_schema = rlib.check_identifier(params['save_schema'], 'save_schema')
    name = rlib.saved_rows_table(table, stamp)
    target = sql.Identifier(save_schema, name)
    cur.execute(sql.SQL('CREATE SCHEMA IF NOT EXISTS {}').format(sql.Identifier(save_schema)))
    cur.execute(sql.SQL('CREATE TABLE {} AS ').format(target) + sql.SQL(' UNION ALL ').join(parts))
    saved['rows'] = cur.rowcount
    if saved['rows']:
        saved['table'] = regclass_text(save_schema, name)
    else:
        cur.execute(sql.SQL('DROP TABLE {}').format(target))
    return saved


def cascade_refusal(cascades):
    """The error message when a delete would reach into other tables, or None."""
    hits = [c for c in cascades if c['rows']]
    if not hits:
        return None
    return ('deleting the rows the backup does not have would also %s; nothing was changed. '
            'Set allow_cascade to go on, or restore without delete_absent'
            % '; '.join('%s %d row(s) of %s (foreign key %s)'
                        % ('delete' if c['action'] == 'cascade' else c['action'] + ' in',
                           c['rows'], c['table'], c['constraint']) for c in hits))


def fix_sequences(cur, schema, table, apply_changes):
    cur.execute(
        "SELECT a.attname, pg_catalog.pg_get_serial_sequence(%s, a.attname) "
        "FROM pg_catalog.pg_attribute a WHERE a.attrelid = %s::regclass AND a.attnum > 0 "
        "AND NOT a.attisdropped ORDER BY a.attnum",
        (regclass_text(schema, table), regclass_text(schema, table)))
    done = []
    for column, sequence in cur.fetchall():
        if not sequence:
            continue
        cur.execute(sql.SQL('SELECT max({}) FROM {}').format(
            sql.Identifier(column), sql.Identifier(schema, table)))
        max_value = cur.fetchone()[0]
        cur.execute('SELECT n.nspname, c.relname FROM pg_catalog.pg_class c '
                    'JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace '
                    'WHERE c.oid = %s::regclass', (sequence,))
        seq_schema, seq_name = cur.fetchone()
        cur.execute(sql.SQL('SELECT last_value, is_called FROM {}').format(
            sql.Identifier(seq_schema, seq_name)))
        last_value, is_called = cur.fetchone()
        target = rlib.sequence_target(max_value, last_value, is_called)
        entry = {'sequence': sequence, 'column': column, 'max': max_value,
                 'before': last_value if is_called else None, 'set_to': target}
        if target is not None and apply_changes:
            cur.execute('SELECT pg_catalog.setval(%s::regclass, %s, true)', (sequence, target))
        done.append(entry)
    return done


def restore_table(module, params):
    started = time.time()
    seconds = {}
    result = {'changed': False, 'mode': params['mode']}
    schema = rlib.check_identifier(params['schema'], 'schema')
    table = rlib.check_identifier(params['table'], 'table')
    result['table'] = regclass_text(schema, table)
    steps = rlib.apply_steps(params['mode'], params['delete_absent'])
    if params['only_keys'] is not None and 'delete' in steps:
        # every live row outside the keys would count as absent from the backup and be deleted
        raise rlib.RestoreError('only_keys cannot be combined with delete_absent: it would delete '
                                'every live row whose key is not listed')
    if not os.path.exists(params['dump']):
        raise rlib.RestoreError('dump %s does not exist' % params['dump'])
    toc_list = rlib.scratch_toc(read_toc(params), schema, table)
    stamp = rlib.utc_stamp(datetime.datetime.now(datetime.timezone.utc))
    live_db = params['db'] or 'postgres'
    scratch = params['scratch_db'] or rlib.derived_name(live_db[:30], 'scratch', stamp)
    rlib.check_name(scratch, 'scratch database name')

    live = connect(params)
    try:
        live_columns, keys = live_layout(live, schema, table, params['key_columns'])
        result['key_columns'] = keys
        create_database(params, scratch)
        result['scratch_database'] = scratch
        result['scratch_dropped'] = False
        try:
            t0 = time.time()
            restore_into_scratch(params, scratch, toc_list)
            columns, skipped, buffer = copy_rows_out(params, scratch, schema, table,
                                                     live_columns, keys)
            seconds['scratch_restore'] = round(time.time() - t0, 3)
        finally:
            drop_database(params, scratch)
            result['scratch_dropped'] = True
        result['columns'] = columns
        result['skipped_columns'] = skipped
        identity_always = [c['name'] for c in live_columns if c['identity'] == 'a'
                           and c['name'] in columns]

        t0 = time.time()
        cur = live.cursor()
        cur.execute('SELECT set_config(%s, %s, true)', ('lock_timeout', params['lock_timeout']))
        cur.execute(sql.SQL('LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE').format(
            sql.Identifier(schema, table)))
        src = '__forexai_restore_src'
        cur.execute(sql.SQL('CREATE TEMP TABLE {src} ON COMMIT DROP AS SELECT {cols} FROM {live} '
                            'WITH NO DATA').format(
            src=sql.Identifier(src), cols=sql.SQL(', ').join(sql.Identifier(c) for c in columns),
            live=sql.Identifier(schema, table)))
        with buffer:
            cur.copy_expert(sql.SQL('COPY {} FROM STDIN').format(
                sql.Identifier(src)).as_string(live), buffer)
        cur.execute(sql.SQL('SELECT count(*) FROM {}').format(sql.Identifier(src)))
        result['rows_in_backup'] = cur.fetchone()[0]
        if params['only_keys'] is not None:
            cur.execute(only_keys_statement(src, keys), ([str(k) for k in params['only_keys']],))
            cur.execute(sql.SQL('SELECT count(*) FROM {}').format(sql.Identifier(src)))
            result['rows_selected'] = cur.fetchone()[0]
        cur.execute(sql.SQL('ANALYZE {}').format(sql.Identifier(src)))
        result['cascades'] = (count_cascades(cur, schema, table, sql.Identifier(src), keys)
                              if 'delete' in steps else [])
        refusal = cascade_refusal(result['cascades'])
        if refusal and not params['allow_cascade'] and not module.check_mode:
            raise rlib.RestoreError(refusal)
        if refusal:
            module.warn(refusal.replace('; nothing was changed.', '.'))
        result['saved_rows'] = save_rows(cur, params, schema, table, sql.Identifier(src), columns,
                                         keys, identity_always, steps, stamp)
        counts = {'inserted': 0, 'updated': 0, 'deleted': 0}
        statements = []
        for step, statement in build_statements(schema, table, src, columns, keys,
                                                identity_always, steps):
            text = statement.as_string(live)
            cur.execute(text)
            counts[STEP_COUNTS[step]] = cur.rowcount
            statements.append(text)
        result.update(counts)
        result['statements'] = statements
        result['sequences'] = fix_sequences(cur, schema, table, not module.check_mode)
        if module.check_mode:
            live.rollback()
        else:
            live.commit()
        seconds['apply'] = round(time.time() - t0, 3)
        result['changed'] = bool(sum(counts.values()) or any(
            s['set_to'] is not None for s in result['sequences']))
    finally:
        live.close()
        seconds['total'] = round(time.time() - started, 3)
        result['seconds'] = seconds
    return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib('psycopg2'), exception=PSYCOPG2_IMPORT_ERROR)
    params = module.params
    try:
        result = restore_table(module, params)
    except rlib.RestoreError as exc:
        module.fail_json(msg='Failed to restore table %s: %s' % (params['table'], exc),
                         changed=False)
    except DATABASE_ERRORS as exc:
        module.fail_json(msg='Failed to restore table %s: database error (nothing changed): %s'
                         % (params['table'], ' '.join(to_native(exc).split())), changed=False)
    except Exception as exc:
        module.fail_json(msg='Failed to restore table %s: %s' % (params['table'], to_native(exc)),
                         changed=False, exception=traceback.format_exc())
    module.exit_json(**result)


if __name__ == '__main__':
    main()
