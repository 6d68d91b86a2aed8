#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: evidence_upload
short_description: Copy a sealed forensics bundle to S3 under Object Lock and check the copy
version_added: 0.2.0
description:
  - Checks the bundle in O(path) against its C(MANIFEST.sha256) (and O(seal) when given) and
    refuses to upload a bundle that does not match it.
  - Uploads each file and the manifest to C(<prefix>/<name>) in O(bucket), each with its
    SHA-256 as object metadata and, with O(retain_days), an Object Lock retention in
    O(lock_mode) until that many days from now (the bucket's default retention applies
    otherwise). Under Object Lock in compliance mode nobody, the bucket owner included, can
    delete or overwrite those versions before the retention ends.
  - Then reads every object back from S3 and checks the copy against the manifest read back
    from S3 and the seal; any difference fails the task.
  - An object already there with the same SHA-256 is not uploaded again (a second run only
    checks). An object already there with other content is never overwritten; the task fails,
    since a sealed bundle does not change.
  - Never deletes anything, locally or in S3. Check mode checks the local bundle and says what
    would be uploaded.
author:
  - Forex AI platform engineering (@forexai)
extends_documentation_fragment:
  - forexai.dr.s3
  - ansible.builtin.action_common_attributes
options:
  path:
    description:
      - The bundle's directory (with its C(MANIFEST.sha256)).
    type: path
    required: true
  case_id:
    description:
      - The case the bundle belongs to (it starts the manifest's chain).
    type: str
    required: true
  seal:
    description:
      - The last chain hash recorded when the bundle was made; the local bundle and the copy
        in S3 must end with it.
    type: str
  retain_days:
    description:
      - Days of Object Lock retention to put on each uploaded object; V(0) leaves it to the
        bucket's default retention.
    type: int
    default: 0
  lock_mode:
    description:
      - Object Lock mode of O(retain_days). V(COMPLIANCE) cannot be shortened by anyone.
    type: str
    choices: [COMPLIANCE, GOVERNANCE]
    default: COMPLIANCE
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
  - O(prefix) is where this bundle's objects go, e.g. C(evidence/<case>/<host>).
'''

EXAMPLES = r'''
- name: Keep the control node's copy of db1's bundle in the evidence bucket, locked for 90 days
  forexai.dr.evidence_upload:
    path: /srv/forexai-dr/evidence/breach-20261203021000/db1
    case_id: breach-20261203021000
    seal: "{{ forensics_result.seal }}"
    bucket: forexai-evidence
    prefix: evidence/breach-20261203021000/db1
    endpoint_url: https://objectstore.example.net
    access_key: "{{ vault_evidence_access_key }}"
    secret_key: "{{ vault_evidence_secret_key }}"
    retain_days: 90
  delegate_to: localhost
'''

RETURN = r'''
uploaded:
  description: Files uploaded by this run (would be, in check mode), in collection order.
  returned: success
  type: list
  elements: str
already_there:
  description: Files found in S3 with the same SHA-256 (not uploaded again).
  returned: success
  type: list
  elements: str
checked:
  description: Whether the copy in S3 was read back and matched the manifest and the seal.
  returned: success
  type: bool
objects:
  description: How many objects the bundle has in S3 (its files and the manifest).
  returned: success
  type: int
retain_until:
  description: The Object Lock retention of the manifest's object in S3, ISO 8601; empty when it has none.
  returned: success
  type: str
  sample: '2027-03-03T04:10:00+00:00'
url:
  description: Where the bundle is, C(s3://<bucket>/<prefix>/).
  returned: success
  type: str
'''

import base64
import datetime
import hashlib
import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.forexai.dr.plugins.module_utils import evidence
from ansible_collections.forexai.dr.plugins.module_utils.s3 import (
    BOTO3_IMPORT_ERROR,
    HAS_BOTO3,
    MISSING_KEY_CODES,
    describe_error,
    error_code,
    s3_argument_spec,
    s3_client,
)


def md5_base64(path, chunk=1024 * 1024):
    digest = hashlib.md5()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(chunk), b''):
            digest.update(block)
    return base64.b64encode(digest.digest()).decode('ascii')


def remote_sha256(client, bucket, key):
    """The SHA-256 recorded on the object, or None when there is no such object."""
    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except Exception as exc:  # boto3's errors: a missing key is an answer, the rest is not
        if error_code(exc) in MISSING_KEY_CODES:
            return None
        raise
    return head.get('Metadata', {}).get('sha256', '')


def read_back(client, bucket, key, chunk=1024 * 1024):
    """(sha256, bytes) of the object as S3 serves it now."""
    body = client.get_object(Bucket=bucket, Key=key)['Body']
    digest = hashlib.sha256()
    data = b''
    for block in iter(lambda: body.read(chunk), b''):
        digest.update(block)
        if key.endswith('/' + evidence.MANIFEST_NAME):
            data += block
    return digest.hexdigest(), data


def main():
    spec = s3_argument_spec()
    spec.update(path=dict(type='path', required=True),
                case_id=dict(type='str', required=True),
                seal=dict(type='str'),
                retain_days=dict(type='int', default=0),
                lock_mode=dict(type='str', default='COMPLIANCE', choices=['COMPLIANCE', 'GOVERNANCE']))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           required_together=[('access_key', 'secret_key')])
    if not HAS_BOTO3:
        module.fail_json(msg=missing_required_lib('boto3'), exception=BOTO3_IMPORT_ERROR)
    params = module.params
    bucket, path = params['bucket'], params['path']
    prefix = params['prefix'].strip('/')
    if not bucket or not prefix:
        module.fail_json(msg='bucket and prefix (where this bundle goes, e.g. evidence/<case>/<host>) are required')
    if params['retain_days'] < 0:
        module.fail_json(msg='retain_days must be 0 (the bucket default) or more, got %d' % params['retain_days'])

    manifest_path = os.path.join(path, evidence.MANIFEST_NAME)
    if not os.path.isfile(manifest_path):
        module.fail_json(msg='%s has no %s: seal the bundle first (forexai.dr.evidence_manifest). '
                         'Nothing was uploaded.' % (path, evidence.MANIFEST_NAME))
    with open(manifest_path) as handle:
        lines = handle.read().splitlines()
    names = evidence.collection_order(path)
    digests = dict((name, evidence.sha256_file(os.path.join(path, name))) for name in names)
    problems = evidence.check(params['case_id'], lines, digests, params['seal'])
    if problems:
        module.fail_json(msg='The bundle in %s does not match its manifest; nothing was uploaded: %s'
                         % (path, '; '.join(problems)), problems=problems)
    digests[evidence.MANIFEST_NAME] = evidence.sha256_file(manifest_path)
    order = names + [evidence.MANIFEST_NAME]

    where = params['endpoint_url'] or 'AWS S3'
    client = s3_client(params, max_attempts=3)
    done = 0
    result = dict(changed=False, uploaded=[], already_there=[], checked=False, objects=len(order),
                  retain_until='', url='s3://%s/%s/' % (bucket, prefix))
    try:
        for name in order:
            key = '%s/%s' % (prefix, name)
            found = remote_sha256(client, bucket, key)
            if found is None:
                result['uploaded'].append(name)
            elif found == digests[name]:
                result['already_there'].append(name)
            else:
                module.fail_json(msg='s3://%s/%s already holds other content (SHA-256 %s, the bundle has %s): '
                                 'evidence is never overwritten. Nothing more was uploaded.'
                                 % (bucket, key, found or 'not recorded', digests[name]), **result)
        result['changed'] = bool(result['uploaded'])
        if module.check_mode:
            module.exit_json(**result)

        retain = None
        if params['retain_days']:
            retain = (datetime.datetime.now(datetime.timezone.utc)
                      + datetime.timedelta(days=params['retain_days'])).replace(microsecond=0)
        for name in result['uploaded']:
            local = os.path.join(path, name)
            extra = dict(Metadata={'sha256': digests[name], 'case': params['case_id']},
                         ContentMD5=md5_base64(local))
            if retain is not None:
                extra.update(ObjectLockMode=params['lock_mode'], ObjectLockRetainUntilDate=retain)
            with open(local, 'rb') as body:
                client.put_object(Bucket=bucket, Key='%s/%s' % (prefix, name), Body=body, **extra)
            done += 1

        served, manifest_text = {}, b''
        for name in order:
            digest, data = read_back(client, bucket, '%s/%s' % (prefix, name))
            if name == evidence.MANIFEST_NAME:
                manifest_text = data
            else:
                served[name] = digest
        head = client.head_object(Bucket=bucket, Key='%s/%s' % (prefix, evidence.MANIFEST_NAME))
        until = head.get('ObjectLockRetainUntilDate')
        if until:
            result['retain_until'] = until.isoformat() if hasattr(until, 'isoformat') else to_native(until)
    except Exception as exc:  # boto3's errors, reported in one place
        module.fail_json(msg='Copying the bundle to s3://%s/%s/ failed after %d upload(s): %s. Run again: '
                         'what is there is kept and checked.' % (bucket, prefix, done,
                                                                 to_native(describe_error(exc, where, bucket))),
                         exception=traceback.format_exc(), **result)

    problems = evidence.check(params['case_id'], manifest_text.decode('utf-8', 'replace').splitlines(),
                              served, params['seal'])
    if problems:
        module.fail_json(msg='The copy in s3://%s/%s/ does not match the manifest: %s' % (bucket, prefix, '; '.join(problems)),
                         problems=problems, **result)
    result['checked'] = True
    module.exit_json(**result)


if __name__ == '__main__':
    main()
