# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every role's defaults and its meta/argument_specs.yml say the same thing.

Each public variable in defaults/main.yml is specified (type, description,
the same default) in some entry point of the role's argument specs, and every
specified option is either defaulted there or marked required. Names carry
the role's prefix; internal names (``__role_*``) never appear in defaults.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

ROLES_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles'))
ROLES = sorted(name for name in os.listdir(ROLES_DIR) if os.path.isdir(os.path.join(ROLES_DIR, name)))
TYPES = ('str', 'int', 'bool', 'path', 'list', 'dict', 'float', 'raw')
# Variables shared by every role, set in the inventory, never defaulted by a role.
SHARED = ('forexai_s3',)


def _load(role, *parts):
    path = os.path.join(ROLES_DIR, role, *parts)
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return yaml.safe_load(handle) or {}


def _options(role):
    specs = _load(role, 'meta', 'argument_specs.yml')
    assert specs is not None, '%s has no meta/argument_specs.yml' % role
    merged = {}
    for entry in specs['argument_specs'].values():
        merged.update(entry.get('options', {}))
    return merged


@pytest.mark.parametrize('role', ROLES)
def test_every_default_is_specified_with_the_same_value(role):
    defaults = _load(role, 'defaults', 'main.yml') or {}
    options = _options(role)
    assert sorted(set(defaults) - set(options)) == []
    for name, value in defaults.items():
        assert options[name].get('default') == value, name


@pytest.mark.parametrize('role', ROLES)
def test_every_option_is_typed_described_and_defaulted_or_required(role):
    defaults = _load(role, 'defaults', 'main.yml') or {}
    for name, option in _options(role).items():
        assert option.get('type') in TYPES, name
        assert option.get('description'), name
        if option.get('type') == 'list':
            assert 'elements' in option, name
        assert name in defaults or option.get('required') is True or name in SHARED, name


@pytest.mark.parametrize('role', ROLES)
def test_public_names_carry_the_role_prefix(role):
    defaults = _load(role, 'defaults', 'main.yml') or {}
    assert [name for name in defaults if not name.startswith(role + '_')] == []
