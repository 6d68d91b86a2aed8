#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: evidence_manifest
short_description: Write or check the chained SHA-256 manifest of a forensics bundle
version_added: 0.2.0
description:
  - With O(state=present), writes C(MANIFEST.sha256) in O(path) listing every file of the
    bundle in collection order (sorted by name; collectors name files C(NN-what)) with its
    SHA-256 and a chain hash that covers the line before, so that altering, removing,
    reordering or inserting a line breaks the chain. Returns the last chain hash (the seal)
    to be recorded away from the bundle. An existing manifest is never rewritten; a manifest
    that no longer matches its bundle fails.
  - With O(state=checked), checks a copy of the bundle against its manifest (and O(seal) when
    given) and fails naming every file that differs, is missing or was added.
  - Changes nothing but the manifest; never deletes anything.
author:
  - Forex AI platform engineering (@forexai)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  path:
    description:
      - The bundle's directory.
    type: path
    required: true
  case_id:
    description:
      - The case the bundle belongs to; it starts the chain, so a bundle cannot pass as
        another case's.
    type: str
    required: true
  state:
    description:
      - V(present) writes the manifest; V(checked) checks the bundle against it.
    type: str
    choices: [present, checked]
    default: present
  seal:
    description:
      - The last chain hash recorded when the bundle was made (O(state=checked)).
    type: str
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
'''

EXAMPLES = r'''
- name: Seal the evidence collected on the host
  forexai.dr.evidence_manifest:
    path: /var/tmp/forexai-forensics/case-20261203T1200Z
    case_id: case-20261203T1200Z
  register: sealed

- name: Check the copy on the control node
  forexai.dr.evidence_manifest:
    path: "{{ playbook_dir }}/evidence/case-20261203T1200Z"
    case_id: case-20261203T1200Z
    seal: "{{ sealed.seal }}"
    state: checked
  delegate_to: localhost
'''

RETURN = r'''
seal:
  description: The last chain hash of the manifest.
  returned: success
  type: str
  sample: 0b5c2f1e9d8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c
files:
  description: How many files the manifest lists.
  returned: success
  type: int
  sample: 12
problems:
  description: What the check found wrong (empty when the bundle is intact).
  returned: always
  type: list
  elements: str
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.forexai.dr.plugins.module_utils import evidence


def digests_of(directory):
    return dict((name, evidence.sha256_file(os.path.join(directory, name)))
                for name in evidence.collection_order(directory))


def main():
    module = AnsibleModule(argument_spec=dict(
        path=dict(type='path', required=True),
        case_id=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'checked']),
        seal=dict(type='str'),
    ), supports_check_mode=True)
    params = module.params
    directory = params['path']
    if not os.path.isdir(directory):
        module.fail_json(msg='%s is not a directory' % directory, problems=[])
    manifest = os.path.join(directory, evidence.MANIFEST_NAME)
    digests = digests_of(directory)

    if os.path.exists(manifest) or params['state'] == 'checked':
        if not os.path.exists(manifest):
            module.fail_json(msg='%s has no %s' % (directory, evidence.MANIFEST_NAME), problems=[])
        with open(manifest) as handle:
            lines = [line.rstrip('\n') for line in handle if line.strip()]
        problems = evidence.check(params['case_id'], lines, digests, params['seal'])
        seal = lines[-1].split(' ')[2] if lines and len(lines[-1].split(' ')) > 2 else ''
        if problems:
            module.fail_json(msg='The evidence bundle in %s does not match its manifest: %s'
                             % (directory, '; '.join(problems)), problems=problems, seal=seal,
                             files=len(lines))
        module.exit_json(changed=False, seal=seal, files=len(lines), problems=[])

    if not digests:
        module.fail_json(msg='%s holds no files to seal' % directory, problems=[])
    try:
        lines, seal = evidence.build(params['case_id'], [(name, digests[name]) for name in sorted(digests)])
    except ValueError as exc:
        module.fail_json(msg=str(exc), problems=[])
    if not module.check_mode:
        partial = manifest + '.partial'
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
        with os.fdopen(fd, 'w') as handle:
            handle.write('\n'.join(lines) + '\n')
        os.rename(partial, manifest)
    module.exit_json(changed=True, seal=seal, files=len(lines), problems=[])


if __name__ == '__main__':
    main()
