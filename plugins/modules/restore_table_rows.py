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
  - "O(mode=replace): live rows are made as in the backup: rows the backup does not have are
    deleted (unless O(delete_absent=false), which keeps newer rows), rows whose content
    differs are updated, missing rows are inserted. Rows are matched by key; nothing is
    truncated, so foreign keys that reference the table keep working (a delete that a
    foreign key forbids fails the whole run and changes nothing)."
  - "O(mode=missing_only): only backup rows whose key is absent from the live table are
    inserted; every other row is left alone."
  - The table's sequences are moved up to the largest restored value when they are behind
    (never backwards).
  - The live table's constraints, indexes, triggers, views and grants are not touched;
    its triggers fire for the rows changed.
  - The scratch database is always dropped, also when the module fails.
  - A table absent from the backup, or a name with quotes, semicolons or spaces, fails
    before anything is created or changed.
author:
  - Forex AI platform engineering (@forexai)
options:
  table:
    description:
      - The table, V(name) or V(schema.name). Only letters, digits, C(_) and C($).
    type: str
    required: true
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
      - With O(mode=replace), delete live rows whose key the backup does not have.
      - V(false) reverts changed rows and brings back deleted ones while rows added since
        the backup stay.
    type: bool
    default: true
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
    table: public.trades
    dump: /var/tmp/forexai-restore/20261125T180000Z/database.dump
    mode: replace
    delete_absent: false
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
'''

RETURN = r'''
table:
  description: The table restored, schema-qualified.
  returned: always
  type: str
  sample: public.trades
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
        dump=dict(type='path', required=True),
        mode=dict(type='str', default='replace', choices=['replace', 'missing_only']),
        delete_absent=dict(type='bool', default=True),
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
    # Both parts are checked plain names (check_name), so this text needs no quoting.
    return '%s.%s' % (schema, table)


def table_columns(cur, schema, table):
    cur.execute('SELECT pg_catalog.to_regclass(%s)', (regclass_text(schema, table),))
    if cur.fetchone()[0] is None:
        return None
    cur.execute(COLUMNS_SQL, (regclass_text(schema, table),))
    return [{'name': r[0], 'generated': r[1], 'identity': r[2]} for r in cur.fetchall()]


def key_match(keys):
    return sql.SQL(' AND ').join(
        sql.SQL('l.{k} = s.{k}').format(k=sql.Identifier(k)) for k in keys)


def build_statements(schema, table, src, columns, keys, identity_always, steps):
    """(step, Composed) pairs for the steps asked, on live table ``l`` and source ``s``."""
    live = sql.Identifier(schema, table)
    src_id = sql.Identifier(src)
    cols = sql.SQL(', ').join(sql.Identifier(c) for c in columns)
    match = key_match(keys)
    out = []
    for step in steps:
        if step == 'delete':
            out.append((step, sql.SQL(
                'DELETE FROM {live} AS l WHERE NOT EXISTS (SELECT 1 FROM {src} AS s WHERE {m})'
            ).format(live=live, src=src_id, m=match)))
        elif step == 'update':
            settable = [c for c in columns if c not in keys and c not in identity_always]
            if not settable:
                continue
            assignments = sql.SQL(', ').join(
                sql.SQL('{c} = s.{c}').format(c=sql.Identifier(c)) for c in settable)
            left = sql.SQL(', ').join(sql.SQL('l.{}').format(sql.Identifier(c)) for c in settable)
            right = sql.SQL(', ').join(sql.SQL('s.{}').format(sql.Identifier(c))
                                       for c in settable)
            # Compared as text: every type has one, json included (which has no '=').
            out.append((step, sql.SQL(
                'UPDATE {live} AS l SET {a} FROM {src} AS s WHERE {m} '
                'AND ROW({left})::text IS DISTINCT FROM ROW({right})::text'
            ).format(live=live, a=assignments, src=src_id, m=match, left=left, right=right)))
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
        keys = [rlib.check_name(k, 'key column') for k in key_columns]
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


def fix_sequences(cur, schema, table, apply_changes):
    cur.execute(
        "SELECT a.attname, pg_catalog.pg_get_serial_sequence(%s, a.attname) "
        "FROM pg_catalog.pg_attribute a WHERE a.attrelid = %s::regclass AND a.attnum > 0 "
        "AND NOT a.attisdropped ORDER BY a.attnum",
        ('%s.%s' % (schema, table), regclass_text(schema, table)))
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
    schema, table = rlib.parse_table_name(params['table'])
    result['table'] = '%s.%s' % (schema, table)
    steps = rlib.apply_steps(params['mode'], params['delete_absent'])
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
        cur.execute(sql.SQL('ANALYZE {}').format(sql.Identifier(src)))
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
