#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: s3_bucket_protection
short_description: Keep the off-site backups out of a compromised host's reach (versioning, Object Lock, lifecycle, host policy)
version_added: 0.2.0
description:
  - Puts the backup bucket in the state where a database host's keys cannot destroy what is
    there, while pgBackRest's expire and the backup program's pruning can still delete, and
    reads every setting back.
  - Versioning on; Object Lock with a default retention (O(lock_mode), O(lock_days)). A delete
    by anyone then only adds a delete marker, and no locked version can be removed before its
    retention ends (in COMPLIANCE mode not even by the bucket owner).
  - A lifecycle rule that expires noncurrent versions O(noncurrent_expiration_days) after they
    became noncurrent (never shorter than the lock); the bucket's other rules are kept.
  - With O(host_iam_user), an inline IAM policy for that user - the keys the database hosts
    use - that allows put, get, list and delete of objects in the bucket and denies deleting
    object versions and changing versioning, Object Lock, retention, lifecycle or the bucket
    policy.
  - Run from the control node with the bucket owner's keys, never with a host's.
  - Refuses a lock shorter than O(minimum_lock_days) and a lifecycle shorter than the lock,
    before changing anything.
author:
  - Forex AI platform engineering (@forexai)
extends_documentation_fragment:
  - forexai.dr.s3
  - ansible.builtin.action_common_attributes
options:
  lock_mode:
    description:
      - Object Lock mode of the default retention. V(GOVERNANCE) lets a user with
        C(s3:BypassGovernanceRetention) remove versions early; V(COMPLIANCE) lets nobody.
    type: str
    choices: [COMPLIANCE, GOVERNANCE]
    default: COMPLIANCE
  lock_days:
    description:
      - Default retention of every new object version, in days.
    type: int
    default: 90
  minimum_lock_days:
    description:
      - The shortest O(lock_days) accepted (the recovery plan keeps backups 90 days).
    type: int
    default: 90
  noncurrent_expiration_days:
    description:
      - Days after which a noncurrent version is expired by the lifecycle rule. Defaults to
        O(lock_days) + 30. V(0) leaves the lifecycle rules as they are.
    type: int
  host_iam_user:
    description:
      - IAM user whose keys the database hosts use. Its inline policy O(host_policy_name) is
        set; nothing else about the user changes. Omit to leave IAM alone.
    type: str
  host_policy_name:
    description:
      - Name of the inline policy set on O(host_iam_user).
    type: str
    default: forexai-backup-host
  iam_endpoint_url:
    description:
      - IAM endpoint. AWS IAM when omitted; for an S3-compatible service that also serves IAM
        (moto) its URL.
    type: str
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
requirements:
  - boto3
notes:
  - Amazon S3 accepts an Object Lock configuration on an existing bucket once versioning is on;
    some S3-compatible services (moto) accept it only while the bucket is empty. Set it before
    the first backup.
  - O(prefix) is not used; the protection covers the whole bucket.
'''

EXAMPLES = r'''
- name: Lock the backup bucket and limit the hosts' keys
  forexai.dr.s3_bucket_protection:
    bucket: forexai-backups
    access_key: "{{ vault_s3_owner_access_key }}"
    secret_key: "{{ vault_s3_owner_secret_key }}"
    lock_days: 90
    host_iam_user: forexai-db-hosts
  delegate_to: localhost
'''

RETURN = r'''
changes:
  description: What was changed (would be, in check mode), one sentence each.
  returned: success
  type: list
  elements: str
  sample: ['versioning enabled', 'Object Lock COMPLIANCE 90 days']
state:
  description: The settings read back after the changes (before them, in check mode).
  returned: success
  type: dict
  sample:
    versioning: Enabled
    object_lock: {mode: COMPLIANCE, days: 90}
    noncurrent_expiration_days: 120
    host_policy_ok: true
'''

import json
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.forexai.dr.plugins.module_utils.s3 import (
    BOTO3_IMPORT_ERROR,
    HAS_BOTO3,
    client_kwargs,
    describe_error,
    error_code,
    s3_argument_spec,
    s3_client,
)
from ansible_collections.forexai.dr.plugins.module_utils import s3_protection as protection

try:
    import boto3
except ImportError:
    pass  # HAS_BOTO3 says so


def read_state(s3, iam, params):
    bucket = params['bucket']
    state = dict(versioning=s3.get_bucket_versioning(Bucket=bucket).get('Status', ''))
    try:
        state['lock'] = s3.get_object_lock_configuration(Bucket=bucket).get('ObjectLockConfiguration')
    except Exception as exc:  # no configuration yet
        if 'ObjectLockConfigurationNotFound' not in error_code(exc) and \
                'ObjectLockConfigurationNotFound' not in str(exc):
            raise
        state['lock'] = None
    try:
        state['rules'] = s3.get_bucket_lifecycle_configuration(Bucket=bucket).get('Rules', [])
    except Exception as exc:
        if error_code(exc) != 'NoSuchLifecycleConfiguration':
            raise
        state['rules'] = []
    state['policy'] = None
    if iam is not None:
        try:
            document = iam.get_user_policy(UserName=params['host_iam_user'],
                                           PolicyName=params['host_policy_name'])['PolicyDocument']
            state['policy'] = json.loads(document) if isinstance(document, str) else document
        except Exception as exc:
            if error_code(exc) != 'NoSuchEntity':
                raise
    return state


def summary(state, params):
    retention = ((state['lock'] or {}).get('Rule') or {}).get('DefaultRetention') or {}
    ours = [r for r in state['rules'] if r.get('ID') == protection.LIFECYCLE_RULE_ID]
    return dict(
        versioning=state['versioning'] or 'never enabled',
        object_lock=dict(mode=retention.get('Mode'), days=retention.get('Days')) if state['lock'] else None,
        noncurrent_expiration_days=(ours[0].get('NoncurrentVersionExpiration') or {}).get('NoncurrentDays')
        if ours else None,
        host_policy_ok=None if params['host_iam_user'] is None else protection.same_policy(
            state['policy'], protection.host_policy(params['bucket'])))


def main():
    spec = s3_argument_spec()
    spec.update(
        lock_mode=dict(type='str', default='COMPLIANCE', choices=['COMPLIANCE', 'GOVERNANCE']),
        lock_days=dict(type='int', default=90),
        minimum_lock_days=dict(type='int', default=90),
        noncurrent_expiration_days=dict(type='int'),
        host_iam_user=dict(type='str'),
        host_policy_name=dict(type='str', default='forexai-backup-host'),
        iam_endpoint_url=dict(type='str'),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           required_together=[('access_key', 'secret_key')])
    if not HAS_BOTO3:
        module.fail_json(msg=missing_required_lib('boto3'), exception=BOTO3_IMPORT_ERROR)
    params = module.params
    if not params['bucket']:
        module.fail_json(msg='bucket is required')
    noncurrent = params['noncurrent_expiration_days']
    if noncurrent is None:
        noncurrent = params['lock_days'] + 30
    problems = protection.check_settings(params['lock_days'], params['minimum_lock_days'],
                                         noncurrent or None, params['lock_mode'])
    if problems:
        module.fail_json(msg='Refused: %s. Nothing was changed.' % '; '.join(problems))

    where = params['endpoint_url'] or 'AWS S3'
    s3 = s3_client(params, max_attempts=3)
    iam = None
    if params['host_iam_user']:
        kwargs = client_kwargs(params)
        kwargs['endpoint_url'] = params['iam_endpoint_url'] or None
        iam = boto3.session.Session().client('iam', **kwargs)
    bucket = params['bucket']
    changes = []
    try:
        state = read_state(s3, iam, params)
        if state['versioning'] != 'Enabled':
            changes.append('versioning enabled (was %s)' % (state['versioning'] or 'never enabled'))
            if not module.check_mode:
                s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={'Status': 'Enabled'})
        if not protection.lock_matches(state['lock'], params['lock_mode'], params['lock_days']):
            changes.append('Object Lock %s %d days by default' % (params['lock_mode'], params['lock_days']))
            if not module.check_mode:
                s3.put_object_lock_configuration(
                    Bucket=bucket, ObjectLockConfiguration=protection.wanted_lock(params['lock_mode'],
                                                                                  params['lock_days']))
        if noncurrent:
            rules, changed = protection.merged_lifecycle(state['rules'], noncurrent)
            if changed:
                changes.append('noncurrent versions expire after %d days' % noncurrent)
                if not module.check_mode:
                    s3.put_bucket_lifecycle_configuration(Bucket=bucket,
                                                          LifecycleConfiguration={'Rules': rules})
        if iam is not None and not protection.same_policy(state['policy'], protection.host_policy(bucket)):
            changes.append('IAM user %s: policy %s (objects only, no version delete, no protection change)'
                           % (params['host_iam_user'], params['host_policy_name']))
            if not module.check_mode:
                iam.put_user_policy(UserName=params['host_iam_user'], PolicyName=params['host_policy_name'],
                                    PolicyDocument=json.dumps(protection.host_policy(bucket)))
        after = state if module.check_mode or not changes else read_state(s3, iam, params)
    except Exception as exc:  # boto3's errors, reported in one place
        module.fail_json(msg='Protecting bucket %s failed at %s: %s. Done before: %s. Run it again to finish.'
                         % (bucket, changes[-1] if changes else 'reading its settings',
                            to_native(describe_error(exc, where, bucket)), '; '.join(changes[:-1]) or 'nothing'),
                         exception=traceback.format_exc(), changes=changes[:-1])
    result = summary(after, params)
    if changes and not module.check_mode:
        # Read back: each setting is what was asked for.
        wrong = []
        if result['versioning'] != 'Enabled':
            wrong.append('versioning is %s' % result['versioning'])
        if not protection.lock_matches(after['lock'], params['lock_mode'], params['lock_days']):
            wrong.append('Object Lock reads %s' % result['object_lock'])
        if noncurrent and result['noncurrent_expiration_days'] != noncurrent:
            wrong.append('the lifecycle rule reads %s' % result['noncurrent_expiration_days'])
        if result['host_policy_ok'] is False:
            wrong.append('the host policy reads differently')
        if wrong:
            module.fail_json(msg='Bucket %s does not read back as set: %s' % (bucket, '; '.join(wrong)),
                             changes=changes, state=result)
    module.exit_json(changed=bool(changes), changes=changes, state=result)


if __name__ == '__main__':
    main()
