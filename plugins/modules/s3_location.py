#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: s3_location
short_description: Check the S3 location of the off-site backup copies and return it normalised
version_added: 0.2.0
description:
  - Every role of this collection reads where the off-site copies live (dump sets, the pgBackRest
    repositories) from one dictionary, the variable C(forexai_s3), whose keys are the S3 options
    below (O(bucket), O(prefix), O(endpoint_url), O(region), O(ca_bundle),
    O(addressing_style), O(access_key), O(secret_key)).
  - This action checks that dictionary before a role changes anything, failing with a message
    that names each unknown, mistyped or missing key (for example C(forexai_s3.bucket)), and
    returns it with every default filled in, plus the values pgBackRest needs.
  - An option given directly overrides the same key of O(location), for a role that truly needs
    another location.
  - Runs on the controller; changes nothing.
author:
  - Forex AI platform engineering (@forexai)
extends_documentation_fragment:
  - forexai.dr.s3
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
options:
  location:
    description:
      - The location, normally the value of C(forexai_s3), as a dictionary whose keys are this
        module's S3 options. Unknown keys are refused.
    type: raw
  variable:
    description:
      - Name of the variable O(location) came from, used in messages.
    type: str
    default: forexai_s3
  required:
    description:
      - Keys that must be set and not empty.
    type: list
    elements: str
    default: [ bucket ]
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
'''

EXAMPLES = r'''
# group_vars/all.yml of a production inventory
# forexai_s3:
#   bucket: forexai-backups
#   prefix: forexai
#   region: eu-central-1
#   access_key: "{{ vault_backup_s3_access_key }}"
#   secret_key: "{{ vault_backup_s3_secret_key }}"

- name: Check the S3 location of the off-site copies
  forexai.dr.s3_location:
    location: "{{ forexai_s3 | default(omit) }}"
  register: s3
  no_log: true

- name: Use it
  ansible.builtin.debug:
    msg: "Sets are under s3://{{ s3.location.bucket }}/{{ s3.location.prefix }}/"
'''

RETURN = r'''
location:
  description: The location with every key present (defaults filled in, overrides applied).
  returned: success
  type: dict
  sample:
    bucket: forexai-backups
    prefix: forexai
    endpoint_url: https://objectstore
    region: us-east-1
    ca_bundle: /etc/ssl/certs/ca-certificates.crt
    addressing_style: path
    access_key: AKIA...
    secret_key: ...
pgbackrest:
  description: The same location as pgBackRest's C(repoN-s3-*) settings.
  returned: success
  type: dict
  contains:
    tls:
      description: Whether the endpoint is HTTPS (pgBackRest speaks only TLS).
      type: bool
    endpoint:
      description: Host name of the endpoint (AWS's regional endpoint when O(endpoint_url) is empty).
      type: str
    port:
      description: Port of the endpoint.
      type: int
    uri_style:
      description: C(path) for O(addressing_style=path), otherwise C(host).
      type: str
    ca_file:
      description: O(ca_bundle), or empty for the system store.
      type: str
'''
