# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The auto_trading and reconcile_positions roles: what their defaults must say (the generic spec checks are in test_argument_specs.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

ROLES = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles'))
NAMES = ('auto_trading', 'reconcile_positions')


def load(role, *parts):
    with open(os.path.join(ROLES, role, *parts)) as handle:
        return yaml.safe_load(handle)


@pytest.mark.parametrize('role', NAMES)
def test_public_names_and_secrets(role):
    defaults = load(role, 'defaults', 'main.yml')
    options = load(role, 'meta', 'argument_specs.yml')['argument_specs']['main']['options']
    assert all(name.startswith(role + '_') for name in defaults)
    assert options[role + '_db_password'].get('no_log') is True
    assert defaults[role + '_no_log'] is True


def test_nothing_is_applied_without_confirmation():
    defaults = load('reconcile_positions', 'defaults', 'main.yml')
    assert defaults['reconcile_positions_confirm'] is False
    assert defaults['reconcile_positions_allow_empty_export'] is False
    assert defaults['reconcile_positions_policy'] == {
        'db_only': 'close', 'mt5_only': 'insert', 'mismatched': 'manual'}


def test_policy_choices_match_the_module():
    from ansible_collections.forexai.dr.plugins.module_utils.reconcile import POLICY_CHOICES
    policy = load('reconcile_positions', 'meta', 'argument_specs.yml')[
        'argument_specs']['main']['options']['reconcile_positions_policy']['options']
    for key, choices in POLICY_CHOICES.items():
        assert sorted(policy[key]['choices']) == sorted(choices), key
