#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: database_endpoint
short_description: Point an application's database URL in its environment file at another host
version_added: 0.2.0
description:
  - Reads the database URL (for example C(FOREXAI_DATABASE_URL=postgresql+psycopg2://...)) from an
    application host's environment file and rewrites only its host and port, keeping the user,
    password, database name and query parameters (C(sslmode), ...) exactly as written.
  - The file keeps its owner, group and mode; a copy of the previous file is kept next to it.
  - Reports the endpoint before and after, with the password masked.
author:
  - Forex AI platform engineering (@forexai)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  path:
    description:
      - The environment file.
    type: path
    required: true
  variable:
    description:
      - The variable holding the database URL; it must be set exactly once in O(path).
    type: str
    default: FOREXAI_DATABASE_URL
  host:
    description:
      - Host name or address the URL is to name.
    type: str
    required: true
  port:
    description:
      - Port the URL is to name; the URL's own port (or none) is kept when omitted.
    type: int
  backup:
    description:
      - Keep a time-stamped copy of the file before changing it.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
'''

EXAMPLES = r'''
- name: Point the platform at the rebuilt database host
  forexai.dr.database_endpoint:
    path: /etc/forexai/forexai.env
    host: db2.production.forexai.internal
  register: repointed

- name: Say what changed
  ansible.builtin.debug:
    msg: "{{ repointed.before.host }} -> {{ repointed.after.host }}"
'''

RETURN = r'''
before:
  description: The endpoint the URL named before, and the URL with its password masked.
  returned: success
  type: dict
  sample: {host: db1, port: 5432, url: "postgresql+psycopg2://forexai:***@db1:5432/forexai"}
after:
  description: The endpoint the URL names now (or would, in check mode), likewise.
  returned: success
  type: dict
  sample: {host: db2, port: 5432, url: "postgresql+psycopg2://forexai:***@db2:5432/forexai"}
backup_file:
  description: The copy of the previous file.
  returned: when the file was changed and O(backup=true)
  type: str
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text

from ansible_collections.forexai.dr.plugins.module_utils.db_url import (
    UrlError, endpoint, env_assignment, masked, with_endpoint, with_env_value)


def argument_spec():
    return dict(
        path=dict(type='path', required=True),
        variable=dict(type='str', default='FOREXAI_DATABASE_URL'),
        host=dict(type='str', required=True),
        port=dict(type='int'),
        backup=dict(type='bool', default=True),
    )


def describe(url):
    host, port = endpoint(url)
    return dict(host=host, port=port, url=masked(url))


def repoint(text, variable, host, port):
    """(new text, old URL, new URL) of an environment file; UrlError when it cannot be done."""
    old_url = env_assignment(text, variable)[3]
    new_url = with_endpoint(old_url, host=host, port=port)
    return with_env_value(text, variable, new_url), old_url, new_url


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    path = module.params['path']
    try:
        with open(path, 'rb') as handle:
            text = to_text(handle.read(), errors='surrogate_or_strict')
        new_text, old_url, new_url = repoint(text, module.params['variable'], module.params['host'],
                                             module.params['port'])
    except (IOError, OSError, UrlError) as exc:
        module.fail_json(msg='Failed to repoint %s in %s: %s'
                         % (module.params['variable'], path, to_native(exc)))
    result = dict(changed=new_text != text, before=describe(old_url), after=describe(new_url))
    if result['changed']:
        result['diff'] = dict(before_header=path, after_header=path,
                              before=masked(old_url) + '\n', after=masked(new_url) + '\n')
    if result['changed'] and not module.check_mode:
        if module.params['backup']:
            result['backup_file'] = module.backup_local(path)
        tmp = os.path.join(os.path.dirname(path), '.%s.forexai-dr.tmp' % os.path.basename(path))
        with open(tmp, 'wb') as handle:
            handle.write(to_bytes(new_text, errors='surrogate_or_strict'))
        module.atomic_move(tmp, path)  # keeps the file's owner, group and mode
    module.exit_json(**result)


if __name__ == '__main__':
    main()
