# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The restore_full and restore_table roles: defaults and argument specs agree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

ROLES = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles'))
NAMES = ('restore_full', 'restore_table')


def load(role, *parts):
    with open(os.path.join(ROLES, role, *parts)) as handle:
        return yaml.safe_load(handle)


def options(role):
    return load(role, 'meta', 'argument_specs.yml')['argument_specs']['main']['options']


@pytest.mark.parametrize('role', NAMES)
def test_defaults_and_spec_list_the_same_options(role):
    defaults = load(role, 'defaults', 'main.yml')
    optional = [name for name, option in options(role).items() if not option.get('required')]
    assert sorted(defaults) == sorted(optional)


@pytest.mark.parametrize('role', NAMES)
def test_spec_defaults_equal_defaults(role):
    defaults = load(role, 'defaults', 'main.yml')
    for name, option in options(role).items():
        assert option['description'], name
        assert option['type'] in ('str', 'int', 'bool', 'path', 'list', 'dict'), name
        if option['type'] == 'list':
            assert 'elements' in option, name
        if option.get('required'):
            assert 'default' not in option and name not in defaults, name
        else:
            assert option['default'] == defaults[name], name


@pytest.mark.parametrize('role', NAMES)
def test_public_names_secrets_and_confirmation(role):
    defaults = load(role, 'defaults', 'main.yml')
    spec = options(role)
    assert all(name.startswith(role + '_') for name in spec)
    assert spec[role + '_s3_secret_key'].get('no_log') is True
    assert spec[role + '_s3_access_key'].get('no_log') is True
    assert defaults[role + '_no_log'] is True
    assert defaults[role + '_confirm'] is False
    assert defaults[role + '_require_verified'] is True


def test_table_restore_needs_a_table_name():
    assert options('restore_table')['restore_table_name']['required'] is True
