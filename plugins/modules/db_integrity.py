#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: db_integrity
short_description: Find damaged tables, indexes and pages of a PostgreSQL cluster, with evidence
version_added: 0.2.0
description:
  - Checks every relation with storage (tables, materialized views, TOAST tables and B-tree
    indexes, the system catalogs included) of every database that accepts connections, or of
    the databases in O(databases), with the C(amcheck) extension.
    Tables go through C(verify_heapam) (TOAST pointers followed), B-tree indexes through
    C(bt_index_check), or C(bt_index_parent_check) with C(heapallindexed) when
    O(parent_check=true).
  - A page that fails its checksum stops the server's read of that relation with an error
    naming the block; the check then goes on from the next block, so every bad block of a
    table is listed, not only the first.
  - Also reads C(pg_stat_database) (C(checksum_failures), C(checksum_last_failure)), whether
    data checksums are on, lists indexes left INVALID by failed concurrent builds, and with
    O(pgbackrest_stanza) whether pgBackRest found page checksum errors in its newest backup.
  - With O(pg_checksums_data_dir) and the cluster stopped (a side restore that was shut down),
    runs C(pg_checksums --check) on its files instead; nothing else can be read then.
  - Errors of the data-corruption (C(XX001)) and index-corruption (C(XX002)) classes, and the
    internal errors damaged structures cause, are findings. Any other error while checking a
    relation (a lock wait past O(lock_timeout), no privilege) puts the relation in
    RV(not_checked), which is never counted as clean.
  - Read-only. When C(amcheck) is not yet created in a database, it is created inside the
    check's transaction and rolled back with it. Locks taken are C(AccessShareLock) on each
    relation until the end of its database's check (only C(ACCESS EXCLUSIVE) waits for it, as in
    DDL, C(VACUUM FULL), a plain C(REINDEX)); O(parent_check=true) takes C(ShareLock) on each
    table instead, which blocks writes, so it is refused on a primary unless
    O(allow_share_lock=true), and on a hot standby, where it cannot run.
author:
  - Forex AI platform engineering (@forexai)
options:
  databases:
    description:
      - The databases to check. Empty checks every database that accepts connections
        (templates left out). A name the server does not have fails before any check.
    type: list
    elements: str
    default: []
  checks:
    description:
      - Which checks to run.
    type: list
    elements: str
    choices: [heap, btree, invalid_indexes, checksums, pgbackrest]
    default: [heap, btree, invalid_indexes, checksums, pgbackrest]
  parent_check:
    description:
      - Use C(bt_index_parent_check(index, heapallindexed => true)) instead of
        C(bt_index_check), which also proves every heap tuple has its index entry, at the cost
        of a C(ShareLock) on the table. Meant for a side restore.
    type: bool
    default: false
  allow_share_lock:
    description:
      - Allow O(parent_check=true) on a server that is not a side restore (writes wait).
    type: bool
    default: false
  lock_timeout:
    description:
      - How long to wait for a relation's lock before reporting it as not checked.
    type: str
    default: 5s
  max_bad_blocks:
    description:
      - Stop listing a table's bad blocks after this many (the table is damaged either way).
    type: int
    default: 1000
  checksum_failures_before:
    description:
      - An ISO 8601 time. Checksum failures C(pg_stat_database) recorded no later than this
        (its C(checksum_last_failure)) are reported but do not make the result unclean, as the
        counters never go down, so a re-check after a repair passes the repair's start here.
    type: str
  pgbackrest_stanza:
    description:
      - The pgBackRest stanza whose newest backup is asked about page checksum errors. Empty
        skips it.
    type: str
    default: ''
  pgbackrest_config:
    description:
      - pgBackRest's configuration file.
    type: path
    default: /etc/pgbackrest/pgbackrest.conf
  pgbackrest_repo:
    description:
      - The pgBackRest repository to ask.
    type: int
    default: 1
  pg_checksums_data_dir:
    description:
      - Data directory of a stopped cluster to check with C(pg_checksums --check). When the
        cluster there is running, nothing is run and RV(pg_checksums) says why.
    type: path
  pg_bin_dir:
    description:
      - Directory of the server's programs (C(pg_checksums)).
    type: path
    default: /usr/lib/postgresql/15/bin
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
  - Needs a superuser (or a role granted the amcheck functions and C(pg_read_all_data)) so
    that every relation, the catalogs included, can be read.
requirements:
  - psycopg2 >= 2.8
  - the amcheck extension (C(postgresql-contrib); Debian's server package ships it)
'''

EXAMPLES = r'''
- name: Check every database of the primary
  forexai.dr.db_integrity:
    pgbackrest_stanza: forexai
  become: true
  become_user: postgres
  register: integrity

- name: Check a side restore thoroughly (it takes writes nobody makes)
  forexai.dr.db_integrity:
    login_port: 5433
    parent_check: true
    allow_share_lock: true
  become: true
  become_user: postgres

- name: Check the pages of a stopped side restore
  forexai.dr.db_integrity:
    pg_checksums_data_dir: /var/lib/postgresql/15/side_20261204t101500z
  become: true
  become_user: postgres
'''

RETURN = r'''
clean:
  description: >-
    True only when every relation was checked and none is damaged, no invalid index is left,
    no unexplained checksum failure is recorded and pgBackRest reported no page error.
  returned: always
  type: bool
findings:
  description: One entry per damaged relation.
  returned: always
  type: list
  elements: dict
  contains:
    database: {description: The database., type: str}
    relation: {description: The damaged relation (schema.name)., type: str}
    table: {description: The table it belongs to (itself for a table)., type: str}
    kind: {description: 'index, heap, toast, catalog, invalid_index or page.', type: str}
    blocks: {description: The bad blocks found (when the server named them)., type: list}
    evidence: {description: The server's messages., type: list}
    sqlstate: {description: The first error's SQLSTATE., type: str}
    action: {description: 'reindex, drop_invalid, restore_rows or escalate.', type: str}
  sample:
    - database: forexai
      relation: public.trades
      table: public.trades
      kind: heap
      blocks: [3]
      evidence: ['invalid page in block 3 of relation base/16384/16402']
      sqlstate: XX001
      action: restore_rows
not_checked:
  description: Relations (or databases) that could not be checked, with the reason.
  returned: always
  type: list
  elements: dict
checked:
  description: How many relations were checked of how many there are, per kind.
  returned: always
  type: dict
  sample: {heap: 41, btree: 63, total: 104, candidates: 104}
checksums:
  description: >-
    Whether data checksums are on, and the failures pg_stat_database recorded per database
    (C(shared) for the shared catalogs), with the time of the last one.
  returned: always
  type: dict
pgbackrest:
  description: The newest backup's label and whether pgBackRest found page errors in it.
  returned: when O(pgbackrest_stanza) is set
  type: dict
pg_checksums:
  description: What pg_checksums found in a stopped cluster.
  returned: when O(pg_checksums_data_dir) is set
  type: dict
plan:
  description: The repair the findings call for (action, reason, tables, indexes).
  returned: always
  type: dict
seconds:
  description: How long the check took.
  returned: always
  type: float
'''

import json
import os
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.forexai.dr.plugins.module_utils import integrity
from ansible_collections.forexai.dr.plugins.module_utils.postgres import (
    DATABASE_ERRORS, HAS_PSYCOPG2, PSYCOPG2_IMPORT_ERROR, connect, error_text as one_line, postgres_argument_spec,
    set_setting)
from ansible_collections.forexai.dr.plugins.module_utils.recovery_objectives import to_epoch

RELATIONS_SQL = """
SELECT c.oid, n.nspname, c.relname, c.relkind, coalesce(a.amname, '') AS amname,
       coalesce(i.indisvalid, true) AS valid, coalesce(i.indisready, true) AS ready,
       coalesce(own_n.nspname, n.nspname) AS owner_schema, coalesce(own.relname, c.relname) AS owner,
       pg_relation_filepath(c.oid) AS path, c.relpersistence
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_am a ON a.oid = c.relam
LEFT JOIN pg_index i ON i.indexrelid = c.oid
LEFT JOIN pg_class own ON own.oid = coalesce(i.indrelid,
     (SELECT t.oid FROM pg_class t WHERE t.reltoastrelid = c.oid AND c.relkind = 't'))
LEFT JOIN pg_namespace own_n ON own_n.oid = own.relnamespace
WHERE c.relkind IN ('r', 'm', 't', 'i') AND c.relpersistence <> 't'
ORDER BY n.nspname, c.relname
"""


def argument_spec():
    spec = postgres_argument_spec()
    spec.update(
        databases=dict(type='list', elements='str', default=[]),
        checks=dict(type='list', elements='str', default=['heap', 'btree', 'invalid_indexes', 'checksums', 'pgbackrest'],
                    choices=['heap', 'btree', 'invalid_indexes', 'checksums', 'pgbackrest']),
        parent_check=dict(type='bool', default=False),
        allow_share_lock=dict(type='bool', default=False),
        lock_timeout=dict(type='str', default='5s'),
        max_bad_blocks=dict(type='int', default=1000),
        checksum_failures_before=dict(type='str'),
        pgbackrest_stanza=dict(type='str', default=''),
        pgbackrest_config=dict(type='path', default='/etc/pgbackrest/pgbackrest.conf'),
        pgbackrest_repo=dict(type='int', default=1),
        pg_checksums_data_dir=dict(type='path'),
        pg_bin_dir=dict(type='path', default='/usr/lib/postgresql/15/bin'),
    )
    return spec


class Checker(object):
    """The checks of one database, in one transaction that is rolled back at the end."""

    def __init__(self, module, conn, database, in_recovery):
        self.module = module
        self.conn = conn
        self.cur = conn.cursor()
        self.database = database
        self.in_recovery = in_recovery
        self.findings = {}
        self.not_checked = []
        self.counts = {'heap': 0, 'btree': 0, 'candidates': 0}

    def savepoint(self, statement, params=None):
        """Run one statement under a savepoint: (rows, None) or (None, error)."""
        self.cur.execute('SAVEPOINT forexai_check')
        try:
            self.cur.execute(statement, params)
            rows = self.cur.fetchall() if self.cur.description else []
            self.cur.execute('RELEASE SAVEPOINT forexai_check')
            return rows, None
        except DATABASE_ERRORS as exc:
            self.cur.execute('ROLLBACK TO SAVEPOINT forexai_check')
            self.cur.execute('RELEASE SAVEPOINT forexai_check')
            return None, exc

    def add_finding(self, rel, kind, evidence, sqlstate, block=None):
        name = '%s.%s' % (rel['schema'], rel['name'])
        entry = self.findings.setdefault(name, {
            'database': self.database, 'relation': name, 'table': '%s.%s' % (rel['owner_schema'], rel['owner']),
            'kind': kind, 'relkind': rel['relkind'], 'path': rel['path'], 'blocks': [], 'evidence': [],
            'sqlstate': sqlstate or '', 'action': integrity.action_for(kind)})
        if block is not None and block not in entry['blocks']:
            entry['blocks'].append(block)
        if evidence and evidence not in entry['evidence'] and len(entry['evidence']) < 20:
            entry['evidence'].append(evidence)

    def not_checked_because(self, rel, check, exc):
        self.not_checked.append({'database': self.database, 'relation': '%s.%s' % (rel['schema'], rel['name']),
                                 'check': check, 'reason': one_line(exc),
                                 'sqlstate': getattr(exc, 'pgcode', None) or ''})

    def prepare(self):
        """Settings, and amcheck present for the length of the transaction. Returns an error text or None."""
        set_setting(self.cur, 'lock_timeout', self.module.params['lock_timeout'])
        self.cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'amcheck'")
        if self.cur.fetchone():
            return None
        self.cur.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'amcheck'")
        if not self.cur.fetchone():
            return ('the amcheck extension is not available on this server: install the PostgreSQL '
                    'contrib modules (Debian ships them in postgresql-<version>; elsewhere '
                    'postgresql<version>-contrib)')
        if self.in_recovery:
            return ('amcheck is not created in database %s and a hot standby cannot create it: '
                    'CREATE EXTENSION amcheck on the primary' % self.database)
        rows, exc = self.savepoint('CREATE EXTENSION amcheck')
        if exc is not None:
            return 'amcheck could not be created in database %s: %s' % (self.database, one_line(exc))
        return None

    def relations(self):
        self.cur.execute(RELATIONS_SQL)
        columns = ('oid', 'schema', 'name', 'relkind', 'am', 'valid', 'ready', 'owner_schema', 'owner', 'path', 'persistence')
        return [dict(zip(columns, row)) for row in self.cur.fetchall()]

    def check_heap(self, rel):
        start = None
        bad = 0
        while True:
            if start is None:
                statement = ('SELECT blkno, offnum, attnum, msg FROM verify_heapam(%s::oid::regclass, '
                             "on_error_stop => false, check_toast => true, skip => 'none')")
                params = [rel['oid']]
            else:
                statement = ('SELECT blkno, offnum, attnum, msg FROM verify_heapam(%s::oid::regclass, '
                             "on_error_stop => false, check_toast => true, skip => 'none', startblock => %s)")
                params = [rel['oid'], start]
            rows, exc = self.savepoint(statement, params)
            if exc is None:
                for blkno, offnum, attnum, msg in rows:
                    kind = integrity.kind_of(rel['relkind'], rel['schema'], rel['owner_schema'])
                    if attnum is not None and kind == 'heap' and 'toast' in (msg or '').lower():
                        kind = 'toast'
                    self.add_finding(rel, kind, 'block %s, item %s%s: %s' % (
                        blkno, offnum, '' if attnum is None else ', attribute %s' % attnum, msg), 'verify_heapam', blkno)
                return True
            sqlstate = getattr(exc, 'pgcode', None) or ''
            message = one_line(exc)
            if integrity.classify_error(sqlstate, message) != 'damage':
                self.not_checked_because(rel, 'heap', exc)
                return False
            block = integrity.block_of(message)
            kind = integrity.kind_of(rel['relkind'], rel['schema'], rel['owner_schema'])
            self.add_finding(rel, kind, message, sqlstate, block)
            bad += 1
            if block is None or bad >= self.module.params['max_bad_blocks']:
                return True
            self.cur.execute("SELECT pg_relation_size(%s::oid) / current_setting('block_size')::bigint", [rel['oid']])
            if block + 1 >= self.cur.fetchone()[0]:
                return True
            start = block + 1

    def check_btree(self, rel):
        if self.module.params['parent_check']:
            statement = 'SELECT bt_index_parent_check(%s::oid::regclass, heapallindexed => true)'
        else:
            statement = 'SELECT bt_index_check(%s::oid::regclass)'
        rows, exc = self.savepoint(statement, [rel['oid']])
        if exc is None:
            return True
        sqlstate = getattr(exc, 'pgcode', None) or ''
        message = one_line(exc)
        if integrity.classify_error(sqlstate, message) != 'damage':
            self.not_checked_because(rel, 'btree', exc)
            return False
        if rel['path'] and rel['path'] not in message and 'relation base/' in message:
            # heapallindexed read the table and met its damage: the heap check reports that.
            self.not_checked.append({'database': self.database, 'relation': '%s.%s' % (rel['schema'], rel['name']),
                                     'check': 'btree', 'sqlstate': sqlstate,
                                     'reason': 'its table could not be read: %s' % message})
            return False
        self.add_finding(rel, integrity.kind_of('i', rel['schema'], rel['owner_schema']), message, sqlstate,
                         integrity.block_of(message))
        return True

    def run(self, checks):
        rels = self.relations()
        for rel in rels:
            if rel['relkind'] == 'i':
                if rel['am'] != 'btree':
                    if 'btree' in checks:
                        self.not_checked.append({'database': self.database, 'check': 'btree', 'sqlstate': '',
                                                 'relation': '%s.%s' % (rel['schema'], rel['name']),
                                                 'reason': 'amcheck has no check for %s indexes' % rel['am']})
                        self.counts['candidates'] += 1
                    continue
                if not (rel['valid'] and rel['ready']):
                    if 'invalid_indexes' in checks:
                        self.add_finding(rel, 'invalid_index', 'the index is marked INVALID (a failed CREATE INDEX '
                                         'CONCURRENTLY or REINDEX CONCURRENTLY left it)', '')
                    continue
                if 'btree' in checks:
                    self.counts['candidates'] += 1
                    if self.in_recovery and rel['persistence'] == 'u':
                        self.not_checked.append({'database': self.database, 'check': 'btree', 'sqlstate': '',
                                                 'relation': '%s.%s' % (rel['schema'], rel['name']),
                                                 'reason': 'unlogged: a standby has no contents for it'})
                        continue
                    if self.check_btree(rel):
                        self.counts['btree'] += 1
            elif 'heap' in checks:
                self.counts['candidates'] += 1
                if self.in_recovery and rel['persistence'] == 'u':
                    self.not_checked.append({'database': self.database, 'check': 'heap', 'sqlstate': '',
                                             'relation': '%s.%s' % (rel['schema'], rel['name']),
                                             'reason': 'unlogged: a standby has no contents for it'})
                    continue
                if self.check_heap(rel):
                    self.counts['heap'] += 1


def server_facts(module):
    conn = connect(module.params)
    try:
        cur = conn.cursor()
        cur.execute('SELECT pg_is_in_recovery(), current_setting(%s), current_setting(%s)',
                    ['data_checksums', 'server_version_num'])
        in_recovery, checksums_on, version = cur.fetchone()
        cur.execute('SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname')
        names = [row[0] for row in cur.fetchall()]
        failures = {}
        cur.execute('SELECT coalesce(datname, %s), checksum_failures, checksum_last_failure FROM pg_stat_database',
                    ['shared'])
        for name, count, last in cur.fetchall():
            failures[name] = {'count': int(count or 0), 'last_failure': last.isoformat() if last else None,
                              'last_failure_epoch': last.timestamp() if last else None}
        conn.rollback()
        return in_recovery, checksums_on == 'on', int(version), names, failures
    finally:
        conn.close()


def pgbackrest_newest(module):
    params = module.params
    argv = ['pgbackrest', '--config=%s' % params['pgbackrest_config'], '--stanza=%s' % params['pgbackrest_stanza'],
            '--repo=%d' % params['pgbackrest_repo'], '--output=json', 'info']
    rc, out, err = module.run_command(argv)
    if rc != 0:
        return {'checked': False, 'reason': 'pgbackrest info failed (rc %d): %s' % (rc, ' '.join((err or out).split())[-300:])}
    try:
        stanzas = json.loads(out)
        backups = stanzas[0].get('backup') or []
    except (ValueError, IndexError, AttributeError):
        return {'checked': False, 'reason': 'pgbackrest info did not print JSON'}
    if not backups:
        return {'checked': False, 'reason': 'the stanza has no backup yet'}
    newest = backups[-1]
    return {'checked': True, 'label': newest.get('label'), 'type': newest.get('type'),
            'page_errors': bool(newest.get('error')),
            'detail': ('pgBackRest found page checksum errors while copying this backup (its log and '
                       '`pgbackrest info --set=%s` name the files)' % newest.get('label')) if newest.get('error') else ''}


def run_pg_checksums(module):
    data_dir = module.params['pg_checksums_data_dir']
    if os.path.exists(os.path.join(data_dir, 'postmaster.pid')):
        return {'ran': False, 'reason': 'the cluster in %s is running (pg_checksums needs it stopped)' % data_dir}
    if not os.path.isdir(data_dir):
        module.fail_json(msg='Failed to check pages: %s is not a data directory' % data_dir)
    argv = [os.path.join(module.params['pg_bin_dir'], 'pg_checksums'), '--check', '-D', data_dir]
    rc, out, err = module.run_command(argv)
    parsed = integrity.parse_pg_checksums((out or '') + '\n' + (err or ''))
    if rc not in (0, 1) or (rc == 1 and not parsed['failures']):
        module.fail_json(msg='Failed to check pages: pg_checksums exited %d: %s' % (rc, ' '.join((err or out).split())[-400:]))
    parsed.update(ran=True, rc=rc)
    return parsed


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib('psycopg2'), exception=PSYCOPG2_IMPORT_ERROR)
    started = time.time()
    accepted_before = None
    if params['checksum_failures_before']:
        try:
            accepted_before = to_epoch(params['checksum_failures_before'])
        except ValueError as exc:
            module.fail_json(msg='Failed to check: checksum_failures_before: %s' % exc)
    result = {'changed': False, 'findings': [], 'not_checked': [], 'checksums': {}, 'databases': [],
              'checked': {'heap': 0, 'btree': 0, 'total': 0, 'candidates': 0}}

    if params['pg_checksums_data_dir']:
        pages = run_pg_checksums(module)
        result['pg_checksums'] = pages
        if pages.get('ran'):
            for failure in pages['failures']:
                result['findings'].append({
                    'database': 'oid %s' % failure.get('database_oid', '?'), 'relation': failure['file'],
                    'table': '', 'kind': 'page', 'blocks': [failure['block']], 'sqlstate': '',
                    'evidence': ['checksum %s stored, %s calculated' % (failure['stored'], failure['calculated'])],
                    'action': 'escalate'})
            result['not_checked'].append({'database': '*', 'relation': '*', 'check': 'heap, btree', 'sqlstate': '',
                                          'reason': 'the cluster is stopped: only page checksums were checked'})
            result['plan'] = integrity.repair_plan(result['findings'])
            if result['findings']:
                result['plan']['reason'] = ('pages fail their checksums; start the cluster and check it online '
                                            'to name the relations')
            result['clean'] = not result['findings'] and pages['rc'] == 0
            result['seconds'] = round(time.time() - started, 3)
            module.exit_json(**result)

    try:
        in_recovery, checksums_on, version, names, failures = server_facts(module)
    except DATABASE_ERRORS as exc:
        module.fail_json(msg='Failed to check: cannot connect: %s' % one_line(exc))
    if params['parent_check'] and in_recovery:
        module.fail_json(msg='Failed to check: parent_check needs a ShareLock, which a hot standby cannot take; '
                             'check a side restore instead (nothing was checked)')
    if params['parent_check'] and not params['allow_share_lock']:
        module.fail_json(msg='Failed to check: parent_check takes a ShareLock on every table, which makes writes wait; '
                             'set allow_share_lock=true on a side restore (nothing was checked)')
    wanted = params['databases'] or names
    unknown = [d for d in wanted if d not in names]
    if unknown:
        module.fail_json(msg='Failed to check: no database %s on this server (it has: %s); nothing was checked'
                             % (', '.join(unknown), ', '.join(names)))
    result['databases'] = wanted
    result['in_recovery'] = in_recovery
    checks = params['checks']

    for database in wanted:
        db_params = dict(params, db=database)
        try:
            conn = connect(db_params)
        except DATABASE_ERRORS as exc:
            result['not_checked'].append({'database': database, 'relation': '*', 'check': 'all', 'sqlstate': '',
                                          'reason': 'cannot connect: %s' % one_line(exc)})
            continue
        try:
            checker = Checker(module, conn, database, in_recovery)
            problem = checker.prepare()
            if problem:
                conn.rollback()
                module.fail_json(msg='Failed to check: %s; nothing was checked or changed' % problem)
            checker.run(checks)
            conn.rollback()
        except DATABASE_ERRORS as exc:
            module.fail_json(msg='Failed to check database %s: %s' % (database, one_line(exc)),
                             exception=traceback.format_exc())
        finally:
            conn.close()
        result['findings'].extend(checker.findings.values())
        result['not_checked'].extend(checker.not_checked)
        for key in ('heap', 'btree', 'candidates'):
            result['checked'][key] += checker.counts[key]
    result['checked']['total'] = result['checked']['heap'] + result['checked']['btree']

    unexplained = []
    if 'checksums' in checks:
        for name, entry in failures.items():
            if name != 'shared' and name not in wanted:
                continue
            if entry['count'] and (accepted_before is None or entry['last_failure_epoch'] is None
                                   or entry['last_failure_epoch'] > accepted_before):
                entry['counts_against'] = True
                if not any(f['database'] == name for f in result['findings']):
                    unexplained.append(name)
            else:
                entry['counts_against'] = False
        result['checksums'] = {'enabled': checksums_on, 'failures': failures, 'unexplained': unexplained}

    backrest_error = False
    if 'pgbackrest' in checks and params['pgbackrest_stanza']:
        result['pgbackrest'] = pgbackrest_newest(module)
        backrest_error = result['pgbackrest'].get('page_errors', False)

    result['plan'] = integrity.repair_plan(result['findings'])
    result['clean'] = not (result['findings'] or result['not_checked'] or unexplained or backrest_error)
    result['server_version_num'] = version
    result['seconds'] = round(time.time() - started, 3)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
