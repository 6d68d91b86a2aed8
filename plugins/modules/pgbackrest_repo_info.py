#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: pgbackrest_repo_info
short_description: Describe a pgBackRest repository in S3 from its key names, without pgBackRest
version_added: 0.2.0
description:
  - Lists the backups, the archive id (and so the PostgreSQL major version), the timelines and
    the newest archived WAL segment of one stanza of a pgBackRest repository kept in S3.
  - Needs only S3 access, not pgBackRest nor the repository passphrase (pgBackRest encrypts file
    contents, not names), so it runs on the control node before a replacement host exists.
  - The newest WAL segment's upload time is the end of the archive - the newest point a
    restore can reach.
  - Changes nothing.
author:
  - Forex AI platform engineering (@forexai)
extends_documentation_fragment:
  - forexai.dr.s3
  - ansible.builtin.action_common_attributes
options:
  repo_path:
    description:
      - The repository's C(repoN-path), such as V(/pgbackrest).
    type: str
    required: true
  stanza:
    description:
      - The stanza.
    type: str
    default: forexai
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
requirements:
  - boto3
'''

EXAMPLES = r'''
- name: What the off-site repository holds
  forexai.dr.pgbackrest_repo_info:
    bucket: forexai-backups
    endpoint_url: https://objectstore
    addressing_style: path
    repo_path: /pgbackrest
  delegate_to: localhost
  register: offsite
'''

RETURN = r'''
repository:
  description: What the stanza holds.
  returned: success
  type: dict
  sample:
    location: s3://forexai-backups/pgbackrest/
    usable: true
    problems: []
    backup_count: 2
    newest_backup: {label: 20261202-025000F, type: full, started_at: '2026-12-02T02:50:00Z'}
    archive_id: 15-1
    pg_major: '15'
    timelines: [1]
    newest_wal: {segment: 000000010000000000000009, timeline: 1, archived_at: '2026-12-02T03:00:10Z'}
'''

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.forexai.dr.plugins.module_utils import pgbackrest_repo
from ansible_collections.forexai.dr.plugins.module_utils.s3 import (
    BOTO3_IMPORT_ERROR,
    HAS_BOTO3,
    describe_error,
    s3_argument_spec,
    s3_client,
)


def argument_spec():
    spec = s3_argument_spec()
    spec.update(repo_path=dict(type='str', required=True),
                stanza=dict(type='str', default='forexai'))
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_together=[('access_key', 'secret_key')])
    if not HAS_BOTO3:
        module.fail_json(msg=missing_required_lib('boto3'), exception=BOTO3_IMPORT_ERROR)
    params = module.params
    if not params['bucket']:
        module.fail_json(msg='Failed to read the pgBackRest repository: bucket is empty')
    try:
        summary = pgbackrest_repo.repository_listing(
            s3_client(params, max_attempts=2), params['bucket'], params['repo_path'],
            params['stanza'])
    except Exception as exc:  # boto3's errors, reported in one place
        module.fail_json(msg='Failed to read the pgBackRest repository: %s'
                         % to_native(describe_error(exc, params['endpoint_url'] or 'AWS S3',
                                                    params['bucket'])),
                         exception=traceback.format_exc())
    module.exit_json(changed=False, repository=summary)


if __name__ == '__main__':
    main()
