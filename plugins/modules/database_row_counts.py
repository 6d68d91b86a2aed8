#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: database_row_counts
short_description: Count the rows of every table of a database and compare with a manifest
version_added: 0.1.0
description:
  - Counts the rows of every ordinary table (outside the system schemas, not owned by an
    extension) in one C(REPEATABLE READ) snapshot, the way C(forexai-backup) counts them for
    its manifest.
  - With O(expected), compares the counts table by table and fails on any difference
    (unless O(fail_on_mismatch=false)).
  - Changes nothing.
author:
  - Forex AI platform engineering (@forexai)
options:
  expected:
    description:
      - Row count per table (C(schema.table)), for example a manifest's C(row_counts).
    type: dict
  fail_on_mismatch:
    description:
      - Fail when a count differs from O(expected) or a table exists on one side only.
    type: bool
    default: true
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
'''

EXAMPLES = r'''
- name: Compare the restored database with the manifest
  forexai.dr.database_row_counts:
    db: forexai_restore_20261125t231000z
    expected: "{{ chosen.row_counts }}"
  become: true
  become_user: postgres
'''

RETURN = r'''
row_counts:
  description: Rows per table.
  returned: success
  type: dict
  sample: {public.trades: 20001, public.users: 200}
matches:
  description: Whether every count equals O(expected) (true when nothing was expected).
  returned: success
  type: bool
detail:
  description: The comparison in words.
  returned: when O(expected) is given
  type: str
differences:
  description: Per differing table, the expected and the counted rows.
  returned: when O(expected) is given
  type: dict
'''

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.forexai.dr.plugins.module_utils import backup_set
from ansible_collections.forexai.dr.plugins.module_utils.postgres import (
    DATABASE_ERRORS,
    HAS_PSYCOPG2,
    PSYCOPG2_IMPORT_ERROR,
    connect,
    postgres_argument_spec,
    sql,
)


def argument_spec():
    spec = postgres_argument_spec()
    spec.update(expected=dict(type='dict'), fail_on_mismatch=dict(type='bool', default=True))
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib('psycopg2'), exception=PSYCOPG2_IMPORT_ERROR)
    try:
        conn = connect(module.params)
        try:
            cur = conn.cursor()
            cur.execute('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY')
            counts = backup_set.count_rows(cur, sql)
            conn.rollback()
        finally:
            conn.close()
    except DATABASE_ERRORS as exc:
        module.fail_json(msg='Failed to count rows: %s' % ' '.join(to_native(exc).split()),
                         exception=traceback.format_exc())
    result = {'changed': False, 'row_counts': counts, 'matches': True}
    expected = module.params['expected']
    if expected is not None:
        try:
            expected = dict((k, int(v)) for k, v in expected.items())
        except (TypeError, ValueError):
            module.fail_json(msg='Failed to count rows: expected must map tables to integers')
        ok, detail, differences = backup_set.compare_row_counts(expected, counts)
        result.update(matches=ok, detail=detail, differences=differences)
        if not ok and module.params['fail_on_mismatch']:
            module.fail_json(msg='Failed to match row counts: %s' % detail, **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
