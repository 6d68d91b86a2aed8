#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: free_space
short_description: Refuse a step when its file system has no room for what it will write
version_added: 0.2.0
description:
  - Compares the free space of the file system that holds O(path) (or will hold it, the nearest
    existing folder above it is measured) with O(needed_bytes) plus O(reserve_mb).
  - Fails, before anything is written, with the numbers in the message (needed, kept free,
    free, short by) when it does not fit; otherwise returns them.
  - Reads only; changes nothing.
author:
  - Forex AI platform engineering (@forexai)
options:
  path:
    description:
      - Where the step writes (a folder, which need not exist yet).
    type: path
    required: true
  needed_bytes:
    description:
      - What the step will write, in bytes (for example a set's size from its manifest).
    type: int
    required: true
  reserve_mb:
    description:
      - MiB that must stay free afterwards (for the database's own WAL, logs, other work).
    type: int
    default: 256
  what:
    description:
      - What the space is for, as the message names it.
    type: str
    default: the step
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
'''

EXAMPLES = r'''
- name: Refuse the download when the set does not fit
  forexai.dr.free_space:
    path: /var/tmp/forexai-restore
    needed_bytes: "{{ chosen.set.bytes }}"
    what: the download of set {{ chosen.set.set_id }}
'''

RETURN = r'''
measured_path:
  description: The folder whose file system was measured.
  returned: always
  type: str
free_bytes:
  description: Bytes free there.
  returned: always
  type: int
needed_bytes:
  description: Bytes the step needs, without the reserve.
  returned: always
  type: int
reserve_bytes:
  description: Bytes that must stay free.
  returned: always
  type: int
summary:
  description: The figures as a sentence.
  returned: success
  type: str
  sample: the download of set 20261125T180000Z needs 1.2 GiB plus 256.0 MiB kept free; 40.3 GiB is free
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.forexai.dr.plugins.module_utils import free_space as fs


def argument_spec():
    return dict(
        path=dict(type='path', required=True),
        needed_bytes=dict(type='int', required=True),
        reserve_mb=dict(type='int', default=256),
        what=dict(type='str', default='the step'),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    measured = fs.existing_ancestor(params['path'])
    free = fs.free_bytes(measured)
    reserve = params['reserve_mb'] * fs.MIB
    result = dict(changed=False, measured_path=measured, free_bytes=free,
                  needed_bytes=params['needed_bytes'], reserve_bytes=reserve)
    problem = fs.shortfall(params['what'], params['path'], params['needed_bytes'], free, reserve)
    if problem:
        module.fail_json(msg=problem, **result)
    result['summary'] = '%s needs %s plus %s kept free; %s is free' % (
        params['what'], fs.describe_bytes(params['needed_bytes']), fs.describe_bytes(reserve),
        fs.describe_bytes(free))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
