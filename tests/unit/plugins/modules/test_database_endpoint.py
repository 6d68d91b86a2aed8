# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""database_endpoint: documented as specified; the file's text changes in one place only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml

from ansible_collections.forexai.dr.plugins.module_utils.db_url import UrlError
from ansible_collections.forexai.dr.plugins.modules import database_endpoint as module

ENV = 'FOREXAI_DATABASE_URL=postgresql+psycopg2://forexai:secret@db1:5432/forexai\nFOREXAI_BACKEND_PORT=8000\n'


def test_documentation_matches_the_spec():
    doc = yaml.safe_load(module.DOCUMENTATION)['options']
    spec = module.argument_spec()
    assert sorted(doc) == sorted(spec)
    for name, option in spec.items():
        assert doc[name]['type'] == option['type'], name
        assert doc[name].get('default') == option.get('default'), name
        assert bool(doc[name].get('required')) == bool(option.get('required')), name


def test_repoint_changes_the_host_only():
    text, old, new = module.repoint(ENV, 'FOREXAI_DATABASE_URL', 'db2', None)
    assert text == ENV.replace('@db1:', '@db2:')
    assert (old, new) == ('postgresql+psycopg2://forexai:secret@db1:5432/forexai',
                          'postgresql+psycopg2://forexai:secret@db2:5432/forexai')
    assert module.describe(new) == {'host': 'db2', 'port': 5432,
                                    'url': 'postgresql+psycopg2://forexai:***@db2:5432/forexai'}


def test_repointing_to_the_same_host_changes_nothing():
    assert module.repoint(ENV, 'FOREXAI_DATABASE_URL', 'db1', 5432)[0] == ENV


def test_a_missing_variable_is_refused():
    with pytest.raises(UrlError, match='^DATABASE_URL is not set$'):
        module.repoint(ENV, 'DATABASE_URL', 'db2', None)
