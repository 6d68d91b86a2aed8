# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The repair plan of a set of corruption findings, with the logic forexai.dr.db_integrity
uses (module_utils/integrity.py), for a chosen subset of its findings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.forexai.dr.plugins.module_utils import integrity


def corruption_plan(findings, max_tables=2):
    if not isinstance(findings, list) or not all(isinstance(f, dict) for f in findings):
        raise AnsibleFilterError('corruption_plan: expected the list of findings of forexai.dr.db_integrity')
    try:
        return integrity.repair_plan(findings, max_tables=int(max_tables))
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError('corruption_plan: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'corruption_plan': corruption_plan}
