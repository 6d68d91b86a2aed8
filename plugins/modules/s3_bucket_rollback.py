#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: s3_bucket_rollback
short_description: Bring a versioned S3 bucket back to what it held at a given time
version_added: 0.2.0
description:
  - Undoes deletions made after O(at) in a bucket with versioning on (and, for backups, Object
    Lock), such as an attacker's "delete every object". A plain delete there only adds a delete
    marker; this module removes the delete markers made after O(at) on the keys that
    existed at O(at), so their versions are current again.
  - A key whose content was replaced after O(at) keeps its newer version (under Object Lock it
    cannot be deleted); with O(restore_overwritten=true) the version of O(at) is written again on
    top (read through the node that runs the module, with its metadata), otherwise such keys are
    only listed.
  - Keys first written after O(at) are left alone and counted, unless O(keep_created_after=true),
    in which case their delete markers are removed too (a backup repository needs the WAL archived after
    O(at) to reach O(at), and backups written since do no harm).
  - Removing a delete marker needs C(s3:DeleteObjectVersion), which a database host's keys must
    not have. Run this from the control node with the bucket owner's keys.
  - With check mode, reports what it would do and changes nothing.
author:
  - Forex AI platform engineering (@forexai)
extends_documentation_fragment:
  - forexai.dr.s3
  - ansible.builtin.action_common_attributes
options:
  at:
    description:
      - The moment to go back to, ISO 8601 (V(2026-12-03T10:00:00Z); no offset means UTC) or
        seconds since the epoch. Must not be in the future.
    type: str
    required: true
  keep_created_after:
    description:
      - Also bring back keys first written after O(at) that were deleted since.
    type: bool
    default: false
  restore_overwritten:
    description:
      - Copy the version of O(at) on top of keys that were overwritten after O(at).
    type: bool
    default: false
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
  - O(prefix) limits the rollback to keys under it; empty means the whole bucket.
'''

EXAMPLES = r'''
- name: Undo every deletion made in the backup bucket since the compromise
  forexai.dr.s3_bucket_rollback:
    bucket: forexai-backups
    endpoint_url: https://objectstore
    addressing_style: path
    access_key: "{{ vault_s3_owner_access_key }}"
    secret_key: "{{ vault_s3_owner_secret_key }}"
    at: "{{ breach_compromised_at }}"
  delegate_to: localhost
  register: rollback
'''

RETURN = r'''
markers_removed:
  description: How many delete markers were removed (would be, in check mode).
  returned: success
  type: int
  sample: 42
keys_restored:
  description: Keys made readable again, sorted.
  returned: success
  type: list
  elements: str
overwritten:
  description: Keys whose content was replaced after O(at), with the version of O(at).
  returned: success
  type: list
  elements: dict
  sample: [{key: forexai/20261203T020000Z/manifest.json, version_id: 3HL4kqtJlcpXroDTDmJ}]
overwritten_restored:
  description: How many overwritten keys got the version of O(at) back (O(restore_overwritten)).
  returned: success
  type: int
created_after:
  description: How many keys were first written after O(at) (left alone unless O(keep_created_after)).
  returned: success
  type: int
keys_at_moment:
  description: How many keys existed at O(at).
  returned: success
  type: int
'''

import base64
import hashlib
import tempfile
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.forexai.dr.plugins.module_utils.recovery_objectives import to_epoch
from ansible_collections.forexai.dr.plugins.module_utils.s3 import (
    BOTO3_IMPORT_ERROR,
    HAS_BOTO3,
    describe_error,
    s3_argument_spec,
    s3_client,
)
from ansible_collections.forexai.dr.plugins.module_utils.s3_rollback import plan_rollback


def list_versions(client, bucket, prefix):
    versions, markers = [], []
    paginator = client.get_paginator('list_object_versions')
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        versions.extend(page.get('Versions', []))
        markers.extend(page.get('DeleteMarkers', []))
    return versions, markers


def put_back(client, bucket, key, version):
    """Make ``version`` of ``key`` its newest version again. Through the control node rather than
    CopyObject: a bucket with a default Object Lock retention wants a Content-MD5 (or checksum)
    with every new version, which a copy carries no body for (moto refuses it)."""
    head = client.head_object(Bucket=bucket, Key=key, VersionId=version)
    with tempfile.TemporaryFile() as spool:
        client.download_fileobj(bucket, key, spool, ExtraArgs={'VersionId': version})
        spool.seek(0)
        digest = hashlib.md5()
        for block in iter(lambda: spool.read(1024 * 1024), b''):
            digest.update(block)
        spool.seek(0)
        extra = dict(Metadata=head.get('Metadata', {}))
        if head.get('ContentType'):
            extra['ContentType'] = head['ContentType']
        client.put_object(Bucket=bucket, Key=key, Body=spool,
                          ContentMD5=base64.b64encode(digest.digest()).decode('ascii'), **extra)


def main():
    spec = s3_argument_spec()
    spec.update(at=dict(type='str', required=True),
                restore_overwritten=dict(type='bool', default=False),
                keep_created_after=dict(type='bool', default=False))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           required_together=[('access_key', 'secret_key')])
    if not HAS_BOTO3:
        module.fail_json(msg=missing_required_lib('boto3'), exception=BOTO3_IMPORT_ERROR)
    params = module.params
    if not params['bucket']:
        module.fail_json(msg='bucket is required')
    try:
        at_epoch = to_epoch(params['at'])
    except ValueError as exc:
        module.fail_json(msg='at: %s' % to_native(exc))
    if at_epoch > time.time() + 1:
        module.fail_json(msg='at (%s) is in the future: nothing to go back to. Nothing was changed.'
                         % params['at'])

    where = params['endpoint_url'] or 'AWS S3'
    client = s3_client(params, max_attempts=3)
    try:
        status = client.get_bucket_versioning(Bucket=params['bucket']).get('Status', '')
        if status != 'Enabled':
            module.fail_json(msg='Bucket %s has no versioning (status %r): deleted objects cannot be '
                             'brought back from it. Nothing was changed.' % (params['bucket'], status or 'never enabled'))
        versions, markers = list_versions(client, params['bucket'], params['prefix'])
    except Exception as exc:  # boto3's errors, reported in one place
        module.fail_json(msg='Failed to list the versions in %s: %s' % (
            params['bucket'], to_native(describe_error(exc, where, params['bucket']))),
            exception=traceback.format_exc())

    plan = plan_rollback(versions, markers, at_epoch, keep_created_after=params['keep_created_after'])
    result = dict(
        changed=bool(plan['remove_markers'] or (params['restore_overwritten'] and plan['overwritten'])),
        markers_removed=len(plan['remove_markers']),
        keys_restored=sorted(set(key for key, _v in plan['remove_markers'])
                             - set(key for key, _v in plan['overwritten'])),
        overwritten=[dict(key=key, version_id=version) for key, version in plan['overwritten']],
        overwritten_restored=0,
        created_after=len(plan['created_after']),
        keys_at_moment=plan['keys_at_moment'],
    )
    if module.check_mode:
        if params['restore_overwritten']:
            result['overwritten_restored'] = len(plan['overwritten'])
        module.exit_json(**result)

    done = 0
    try:
        for key, version in plan['remove_markers']:
            client.delete_object(Bucket=params['bucket'], Key=key, VersionId=version)
            done += 1
        if params['restore_overwritten']:
            for key, version in plan['overwritten']:
                put_back(client, params['bucket'], key, version)
                result['overwritten_restored'] += 1
    except Exception as exc:  # boto3's errors, reported in one place
        result['markers_removed'] = done
        module.fail_json(msg='Rollback stopped after %d of %d delete marker(s) and %d overwritten key(s): %s. '
                         'Run it again to finish (it only acts on what is left).'
                         % (done, len(plan['remove_markers']), result['overwritten_restored'],
                            to_native(describe_error(exc, where, params['bucket']))),
                         exception=traceback.format_exc(), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
