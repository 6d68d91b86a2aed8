# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The restore modules document exactly the options they accept, with their types and defaults."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml

from ansible_collections.forexai.dr.plugins.module_utils.postgres import postgres_argument_spec
from ansible_collections.forexai.dr.plugins.module_utils.s3 import s3_argument_spec
from ansible_collections.forexai.dr.plugins.modules import backup_set_fetch
from ansible_collections.forexai.dr.plugins.modules import database_row_counts
from ansible_collections.forexai.dr.plugins.modules import database_swap
from ansible_collections.forexai.dr.plugins.modules import restore_table_rows

OWN_SPECS = dict((module.__name__.rsplit('.', 1)[-1], module) for module in (
    backup_set_fetch, database_row_counts, database_swap, restore_table_rows))


@pytest.mark.parametrize('name', sorted(OWN_SPECS))
def test_documentation_matches_the_argument_spec(name):
    module = OWN_SPECS[name]
    spec = module.argument_spec()
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert doc['module'] == name
    yaml.safe_load(module.EXAMPLES)
    yaml.safe_load(module.RETURN)
    shared = set(postgres_argument_spec()) | set(s3_argument_spec())
    own = dict((k, v) for k, v in spec.items() if k not in shared)
    assert set(own) == set(doc['options'])
    for option, entry in own.items():
        documented = doc['options'][option]
        assert documented['type'] == entry['type'], option
        assert documented.get('default') == entry.get('default'), option
        assert documented.get('required', False) == entry.get('required', False), option
        assert documented.get('choices') == entry.get('choices'), option
        assert documented['description'], option
    if name != 'backup_set_fetch':
        assert 'forexai.dr.postgres' in doc['extends_documentation_fragment']
