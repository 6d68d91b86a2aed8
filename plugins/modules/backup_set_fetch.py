#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: backup_set_fetch
short_description: Choose a Forex AI backup set, fetch it and check it against its manifest
version_added: 0.1.0
description:
  - Lists the backup sets written by C(forexai-backup) in S3 (or a local directory), reads
    their manifests and chooses one - by default the newest set whose test restore passed
    (C(verified) in its manifest, or, for an S3 set, the verdict a later verification on
    another host recorded beside it; see
    O(forexai.dr.backup_verify#module:record_verdict)); or a given set id; or the newest set
    started before a given time.
  - With O(dest), downloads the chosen set into C(<dest>/<set id>/) and checks the size and
    SHA-256 of every file against the manifest. Any difference fails the module.
  - Without O(dest) only the choice is made and described (for a restore plan).
  - Before downloading, the free space under O(dest) is compared with the set's size (from
    its manifest) plus O(min_free_mb); when it does not fit, nothing is downloaded and the
    message gives the numbers.
author:
  - Forex AI platform engineering (@forexai)
extends_documentation_fragment:
  - forexai.dr.s3
  - ansible.builtin.action_common_attributes
options:
  source:
    description:
      - Where the sets are. V(s3) reads O(bucket); V(local) reads O(backup_dir).
    type: str
    choices: [ s3, local ]
    default: s3
  set_id:
    description:
      - The set to use, such as V(20261125T180000Z). Empty chooses by O(before) or the newest.
    type: str
    default: ''
  before:
    description:
      - ISO 8601 time with an offset (V(2026-11-25T17:00:00Z)); the newest set started
        strictly before it is chosen. Ignored when O(set_id) is given.
    type: str
    default: ''
  require_verified:
    description:
      - Only choose sets whose manifest records a passed test restore.
    type: bool
    default: true
  dest:
    description:
      - Directory to download the set into (as C(<dest>/<set id>/)). Nothing is downloaded
        when omitted. An existing copy whose files all match the manifest is kept.
    type: path
  backup_dir:
    description:
      - Directory of the local sets, for O(source=local).
    type: path
    default: /var/backups/forexai
  min_free_mb:
    description:
      - MiB that must stay free under O(dest) after the download.
    type: int
    default: 256
attributes:
  check_mode:
    support: full
    details:
      - In check mode the set is chosen and described but not downloaded.
  diff_mode:
    support: none
  platform:
    platforms: posix
'''
EXAMPLES = r'''
- name: Describe the newest verified set (for a plan)
  forexai.dr.backup_set_fetch:
    bucket: forexai-backups
    prefix: forexai
    endpoint_url: https://objectstore
    addressing_style: path
  register: chosen

- name: Fetch the newest set taken before an incident and check it
  forexai.dr.backup_set_fetch:
    bucket: forexai-backups
    prefix: forexai
    before: "2026-11-25T17:00:00Z"
    dest: /var/tmp/forexai-restore
'''

RETURN = r'''
set:
  description: The chosen set, described.
  returned: success
  type: dict
  sample:
    set_id: 20261125T180000Z
    started_at: '2026-11-25T18:00:00Z'
    age: 1h 3m 20s
    age_seconds: 3800
    verified: true
    verified_by: verification on staging-db1 at 2026-11-25T20:00:12Z
    bytes: 1804311
    database_size_bytes: 9814547
    tables: 9
    rows: 40210
candidates:
  description: How many sets were seen, and how many of them are complete and verified.
  returned: success
  type: dict
set_dir:
  description: Where the set was downloaded.
  returned: when O(dest) is given and not in check mode
  type: str
dump_path:
  description: Path of the dump inside RV(set_dir).
  returned: when O(dest) is given and not in check mode
  type: str
row_counts:
  description: The manifest's row count of every table.
  returned: success
  type: dict
files:
  description: Per file of the set, the check against the manifest.
  returned: when O(dest) is given and not in check mode
  type: dict
'''

import datetime
import os
import shutil
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.forexai.dr.plugins.module_utils import backup_set
from ansible_collections.forexai.dr.plugins.module_utils import free_space
from ansible_collections.forexai.dr.plugins.module_utils import restore as rlib

from ansible_collections.forexai.dr.plugins.module_utils.s3 import (
    BOTO3_IMPORT_ERROR,
    HAS_BOTO3,
    s3_argument_spec,
    s3_client,
    set_entries,
)


def argument_spec():
    spec = s3_argument_spec()
    spec.update(
        source=dict(type='str', default='s3', choices=['s3', 'local']),
        set_id=dict(type='str', default=''),
        before=dict(type='str', default=''),
        require_verified=dict(type='bool', default=True),
        dest=dict(type='path'),
        backup_dir=dict(type='path', default='/var/backups/forexai'),
        min_free_mb=dict(type='int', default=256),
    )
    return spec


class S3Sets:
    def __init__(self, params):
        self.client = s3_client(params)
        self.bucket = params['bucket']
        self.prefix = params['prefix']

    def entries(self):
        # A manifest that cannot be read makes its set incomplete, not the listing fail.
        return set_entries(self.client, self.bucket, self.prefix, unreadable_is_incomplete=True)

    def download(self, set_id, manifest, set_dir):
        for rel in sorted(manifest['files']):
            target = os.path.join(set_dir, *rel.split('/'))
            parent = os.path.dirname(target)
            if not os.path.isdir(parent):
                os.makedirs(parent, 0o700)
            self.client.download_file(self.bucket, backup_set.s3_key(self.prefix, set_id, rel),
                                      target)
        self.client.download_file(
            self.bucket, backup_set.s3_key(self.prefix, set_id, backup_set.MANIFEST_NAME),
            os.path.join(set_dir, backup_set.MANIFEST_NAME))


def fetch(module):
    params = module.params
    now = datetime.datetime.now(datetime.timezone.utc)
    before = backup_set.parse_time(params['before']) if params['before'] else None
    store = None
    if params['source'] == 's3':
        store = S3Sets(params)
        entries = store.entries()
        where = 's3://%s/%s' % (params['bucket'], backup_set.s3_set_prefix(params['prefix'], '').rstrip('/'))
    else:
        entries = backup_set.local_set_entries(params['backup_dir'])
        where = params['backup_dir']
    chosen = rlib.choose_set(entries, params['set_id'] or None, before,
                             params['require_verified'])
    manifest = chosen['manifest']
    result = {
        'changed': False,
        'location': where,
        'set': rlib.set_summary(chosen, now),
        'candidates': {'seen': len(entries),
                       'complete': sum(1 for e in entries if e['manifest'] is not None),
                       'verified': sum(1 for e in entries if e['verified'])},
        'row_counts': manifest['database']['row_counts'],
    }
    if not params['dest'] or module.check_mode:
        return result
    if params['source'] == 'local':
        set_dir = os.path.join(params['backup_dir'], chosen['id'])
    else:
        set_dir = os.path.join(params['dest'], chosen['id'])
        checks = backup_set.check_set_files(set_dir, manifest) if os.path.isdir(set_dir) else {}
        if not checks or not all(c['ok'] for c in checks.values()):
            shutil.rmtree(set_dir, ignore_errors=True)  # a partial copy frees its space first
            problem = free_space.shortfall(
                'the download of set %s' % chosen['id'], params['dest'],
                result['set']['bytes'], free_space.free_bytes(params['dest']),
                params['min_free_mb'] * free_space.MIB)
            if problem:
                raise rlib.RestoreError(problem)
            if not os.path.isdir(params['dest']):
                os.makedirs(params['dest'], 0o700)
            os.makedirs(set_dir, 0o700)
            store.download(chosen['id'], manifest, set_dir)
            result['changed'] = True
    checks = backup_set.check_set_files(set_dir, manifest)
    result['files'] = checks
    result['set_dir'] = set_dir
    result['dump_path'] = os.path.join(set_dir, *manifest['database']['dump_path'].split('/'))
    bad = ['%s: %s' % (rel, c['detail']) for rel, c in sorted(checks.items()) if not c['ok']]
    if bad:
        raise rlib.RestoreError('set %s does not match its manifest: %s'
                                % (chosen['id'], '; '.join(bad)))
    return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_if=[('source', 's3', ['bucket'])],
                           required_together=[('access_key', 'secret_key')])
    if module.params['source'] == 's3' and not HAS_BOTO3:
        module.fail_json(msg=missing_required_lib('boto3'), exception=BOTO3_IMPORT_ERROR)
    try:
        result = fetch(module)
    except (rlib.RestoreError, ValueError) as exc:
        module.fail_json(msg='Failed to fetch backup set: %s' % to_native(exc))
    except Exception as exc:  # boto3 and OS errors: reported in one place
        module.fail_json(msg='Failed to fetch backup set: %s' % to_native(exc),
                         exception=traceback.format_exc())
    module.exit_json(**result)


if __name__ == '__main__':
    main()
