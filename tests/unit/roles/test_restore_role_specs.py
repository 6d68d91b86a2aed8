# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The restore_full and restore_table roles: what their defaults must say (the generic spec checks are in test_argument_specs.py)."""

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
def test_public_names_secrets_and_confirmation(role):
    defaults = load(role, 'defaults', 'main.yml')
    spec = options(role)
    assert all(name.startswith(role + '_') for name in spec if name != 'forexai_s3')
    assert spec['forexai_s3']['required'] is True  # a restore always reads the off-site sets
    assert defaults[role + '_no_log'] is True
    assert defaults[role + '_confirm'] is False
    assert defaults[role + '_require_verified'] is True


def test_table_restore_needs_a_table_name():
    assert options('restore_table')['restore_table_name']['required'] is True
