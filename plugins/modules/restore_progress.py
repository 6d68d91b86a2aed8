#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: restore_progress
short_description: Poll an asynchronous pg_restore and show how far it is
version_added: 0.1.0
description:
  - Like M(ansible.builtin.async_status) for a job started with C(async) and C(poll=0), and
    additionally reads the job's C(pg_restore --verbose) log to say how many tables are
    loaded, how many indexes and constraints are built, and the step it is on.
  - Used in an C(until) loop, it shows that progress on every retry at the default
    verbosity.
  - Changes nothing. This is an action plugin; the work happens on the target.
author:
  - Forex AI platform engineering (@forexai)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
options:
  jid:
    description:
      - The job id (C(ansible_job_id)) the async task registered.
    type: str
    required: true
  log:
    description:
      - File the job writes C(pg_restore --verbose) output to. No progress is read when empty.
    type: str
    default: ''
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
- name: Start pg_restore
  ansible.builtin.shell:
    cmd: exec pg_restore --verbose --jobs=4 --dbname=forexai_new /var/tmp/set/database.dump 2>/var/tmp/restore.log
  async: 14400
  poll: 0
  register: job

- name: Wait for pg_restore, showing progress
  forexai.dr.restore_progress:
    jid: "{{ job.ansible_job_id }}"
    log: /var/tmp/restore.log
  register: restored
  until: restored.finished
  retries: 2880
  delay: 5
'''

RETURN = r'''
finished:
  description: Whether the job has ended.
  returned: always
  type: bool
started:
  description: Whether the job started.
  returned: always
  type: bool
progress:
  description: Tables loaded, indexes and constraints built, and the last step started.
  returned: when O(log) is given
  type: str
  sample: '7 tables loaded, 12 indexes/constraints built; last: creating INDEX "public.trades_open_time_idx"'
rc:
  description: The job's exit code, once it has finished.
  returned: when finished
  type: int
delta:
  description: How long the job ran, once it has finished.
  returned: when finished
  type: str
'''
