#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: recovery_objectives
short_description: The RTO and RPO a recovery achieved, against the plan's objectives
version_added: 0.2.0
description:
  - Computes the recovery time achieved from a run's timeline (first mark to last, with each
    phase's duration) and the recovery point achieved from the data (the incident minus the
    newest commit the restored database holds; with a writer's acknowledged ids, how many
    acknowledged rows are missing), each against its objective.
  - The one computation that scenario runs, reports and drills share
    (C(plugins/module_utils/recovery_objectives.py)).
  - Changes nothing.
author:
  - Forex AI platform engineering (@forexai)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  timeline:
    description:
      - The run's marks in order, each C(name) and C(at) (epoch seconds or ISO 8601).
    type: list
    elements: dict
    required: true
  rto_objective:
    description:
      - The recovery time objective (V(4h), V(90m), seconds).
    type: str
    default: 4h
  rpo_objective:
    description:
      - The recovery point objective.
    type: str
    default: 6h
  newest_restored_at:
    description:
      - The newest commit the restored database holds (epoch or ISO 8601). No RPO without it.
    type: str
  incident_at:
    description:
      - When the data stopped being written (the failure; epoch or ISO 8601). Defaults to the
        timeline's first mark.
    type: str
  acknowledged_ids:
    description:
      - Ids a writer saw committed before the incident (the lab's writer records them).
    type: list
    elements: int
  restored_ids:
    description:
      - Those of O(acknowledged_ids) found in the restored database.
    type: list
    elements: int
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
'''

EXAMPLES = r'''
- name: RTO and RPO of this run
  forexai.dr.recovery_objectives:
    timeline: "{{ scenario_timeline }}"
    rto_objective: "{{ forexai_rto_objective }}"
    rpo_objective: "{{ forexai_rpo_objective }}"
    newest_restored_at: "{{ server_rebuild_result.newest_restored_at }}"
  delegate_to: localhost
  register: objectives
'''

RETURN = r'''
rto:
  description: The RTO achieved (C(achieved_seconds), C(achieved), C(objective), C(met), C(phases)).
  returned: success
  type: dict
rpo:
  description: The RPO achieved (C(achieved_seconds), C(met), C(acknowledged_lost) when ids were given).
  returned: when O(newest_restored_at) is given
  type: dict
summary:
  description: One line per figure, for a report.
  returned: success
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.forexai.dr.plugins.module_utils import recovery_objectives as ro


def line(figure):
    return '%s achieved %s against an objective of %s: %s' % (
        figure['name'], figure['achieved'], figure['objective'],
        'met' if figure['met'] else 'NOT met')


def main():
    module = AnsibleModule(
        argument_spec=dict(
            timeline=dict(type='list', elements='dict', required=True),
            rto_objective=dict(type='str', default='4h'),
            rpo_objective=dict(type='str', default='6h'),
            newest_restored_at=dict(type='str'),
            incident_at=dict(type='str'),
            acknowledged_ids=dict(type='list', elements='int'),
            restored_ids=dict(type='list', elements='int'),
        ),
        required_together=[('acknowledged_ids', 'restored_ids')],
        supports_check_mode=True)
    params = module.params
    try:
        result = {'changed': False, 'rto': ro.rto(params['timeline'], params['rto_objective'])}
        result['summary'] = [line(result['rto'])]
        if params['newest_restored_at']:
            incident = params['incident_at'] or params['timeline'][0]['at']
            result['rpo'] = ro.rpo(params['newest_restored_at'], incident, params['rpo_objective'],
                                   params['acknowledged_ids'], params['restored_ids'])
            result['summary'].append(line(result['rpo']))
            if 'acknowledged_lost' in result['rpo']:
                result['summary'].append('%d of %d acknowledged writes lost' % (
                    result['rpo']['acknowledged_lost'], result['rpo']['acknowledged']))
    except (ValueError, KeyError, IndexError) as exc:
        module.fail_json(msg='Failed to compute the recovery objectives: %s' % to_native(exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
