#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: database_swap
short_description: Put a restored database in place of the live one, keeping the old one
version_added: 0.1.0
description:
  - In one short step, renames the live database O(database) to O(keep_as) and the
    restored database O(replacement) to O(database).
  - New connections to both are refused first (C(ALLOW_CONNECTIONS false)), then their
    remaining sessions are ended (C(pg_terminate_backend)) and the module waits, up to
    O(sessions_timeout) seconds, until they are gone (a busy backend takes a moment to end,
    and a database with sessions cannot be renamed), so no client can slip in between.
    Afterwards both databases accept connections again.
  - Both renames run in one transaction; if either fails, neither happens and both
    databases keep their names (the restored one included).
  - When the live database does not exist (it was dropped), the replacement is simply
    renamed into place.
  - Nothing is dropped. The old database stays under O(keep_as) until an operator removes it.
author:
  - Forex AI platform engineering (@forexai)
options:
  database:
    description:
      - Name of the live database.
    type: str
    required: true
  replacement:
    description:
      - Name of the restored database that takes its place. It must exist.
    type: str
    required: true
  keep_as:
    description:
      - New name of the live database, for example C(forexai_pre_restore_20261125t231000z).
        It must not exist yet.
    type: str
    required: true
  sessions_timeout:
    description:
      - Seconds to wait for the ended sessions to go before giving up; nothing is renamed then.
    type: int
    default: 60
extends_documentation_fragment:
  - forexai.dr.postgres
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports what would be renamed and how many sessions would be ended.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - O(db) is the maintenance database to connect to (V(postgres) when omitted); the
    connection role must be a superuser or own both databases.
requirements:
  - psycopg2 >= 2.8
'''

EXAMPLES = r'''
- name: Swap the restored database in
  forexai.dr.database_swap:
    database: forexai
    replacement: forexai_restore_20261125t231000z
    keep_as: forexai_pre_restore_20261125t231000z
  become: true
  become_user: postgres
'''

RETURN = r'''
renamed:
  description: The renames done (or that would be), in order.
  returned: success
  type: list
  elements: dict
  sample: [ {from: forexai, to: forexai_pre_restore_20261125t231000z},
            {from: forexai_restore_20261125t231000z, to: forexai} ]
sessions_terminated:
  description: Sessions ended on the two databases.
  returned: success
  type: int
sessions_wait_seconds:
  description: How long the ended sessions took to go.
  returned: success
  type: float
live_existed:
  description: Whether the live database existed.
  returned: success
  type: bool
'''

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
    postgres_argument_spec,
    sql,
)

# Client sessions only: autovacuum workers on the database are not kept out by
# ALLOW_CONNECTIONS and do not block the rename.
SESSIONS_SQL = ('SELECT count(*) FROM pg_catalog.pg_stat_activity '
                "WHERE datname = ANY(%s) AND backend_type = 'client backend' "
                'AND pid <> pg_catalog.pg_backend_pid()')
TERMINATE_SQL = ('SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_catalog.pg_stat_activity '
                 'WHERE datname = ANY(%s) AND pid <> pg_catalog.pg_backend_pid()')


def exists(cur, name):
    cur.execute('SELECT 1 FROM pg_catalog.pg_database WHERE datname = %s', (name,))
    return cur.fetchone() is not None


def allow(cur, name, value):
    cur.execute(sql.SQL('ALTER DATABASE {} WITH ALLOW_CONNECTIONS {}').format(
        sql.Identifier(name), sql.SQL('true' if value else 'false')))


def rename(cur, old, new):
    cur.execute(sql.SQL('ALTER DATABASE {} RENAME TO {}').format(
        sql.Identifier(old), sql.Identifier(new)))


def wait_for_sessions(cur, names, timeout, clock=time.monotonic, sleep=time.sleep):
    """Wait until no session is on ``names``; the seconds it took. RestoreError on timeout."""
    started = clock()
    while True:
        cur.execute(SESSIONS_SQL, (names,))
        left = cur.fetchone()[0]
        if not left:
            return round(clock() - started, 3)
        if clock() - started >= timeout:
            raise rlib.RestoreError(
                '%d session(s) on %s still open %d s after they were ended; nothing was renamed '
                'and both databases accept connections again' % (left, ', '.join(names), timeout))
        sleep(0.2)


def swap(module):
    params = module.params
    live, new, keep = params['database'], params['replacement'], params['keep_as']
    for name, what in ((live, 'database'), (new, 'replacement'), (keep, 'keep_as')):
        rlib.check_name(name, what)
    if len(set([live, new, keep])) != 3:
        raise rlib.RestoreError('database, replacement and keep_as must be three different names')
    conn = connect(dict(params, db=params['db'] or 'postgres'))
    conn.autocommit = True
    try:
        cur = conn.cursor()
        if not exists(cur, new):
            raise rlib.RestoreError('replacement database %s does not exist' % new)
        if exists(cur, keep):
            raise rlib.RestoreError('database %s already exists; choose another keep_as' % keep)
        live_existed = exists(cur, live)
        renamed = ([{'from': live, 'to': keep}] if live_existed else []) + [{'from': new, 'to': live}]
        result = {'changed': True, 'renamed': renamed, 'live_existed': live_existed}
        names = [live, new] if live_existed else [new]
        if module.check_mode:
            cur.execute(SESSIONS_SQL, (names,))
            result['sessions_terminated'] = cur.fetchone()[0]
            return result
        for name in names:
            allow(cur, name, False)
        try:
            cur.execute(TERMINATE_SQL, (names,))
            result['sessions_terminated'] = cur.fetchone()[0]
            result['sessions_wait_seconds'] = wait_for_sessions(
                cur, names, params['sessions_timeout'])
            # ALTER DATABASE ... RENAME is transactional: both names change together or not at all.
            cur.execute('BEGIN')
            try:
                if live_existed:
                    rename(cur, live, keep)
                rename(cur, new, live)
                cur.execute('COMMIT')
            except DATABASE_ERRORS:
                cur.execute('ROLLBACK')
                raise
        finally:
            # Whatever happened, both databases accept connections again under their names.
            for name in (live, keep, new):
                if exists(cur, name):
                    allow(cur, name, True)
        return result
    finally:
        conn.close()


def argument_spec():
    spec = postgres_argument_spec()
    spec.update(database=dict(type='str', required=True),
                replacement=dict(type='str', required=True),
                keep_as=dict(type='str', required=True),
                sessions_timeout=dict(type='int', default=60))
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib('psycopg2'), exception=PSYCOPG2_IMPORT_ERROR)
    try:
        result = swap(module)
    except rlib.RestoreError as exc:
        module.fail_json(msg='Failed to swap databases: %s' % exc, changed=False)
    except DATABASE_ERRORS as exc:
        module.fail_json(msg='Failed to swap databases: %s' % ' '.join(to_native(exc).split()),
                         exception=traceback.format_exc())
    module.exit_json(**result)


if __name__ == '__main__':
    main()
