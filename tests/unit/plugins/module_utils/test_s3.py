# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared S3 options: documented as they are specified, and turned into client arguments."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml

from ansible_collections.forexai.dr.plugins.doc_fragments import s3 as s3_fragment
from ansible_collections.forexai.dr.plugins.module_utils.s3 import client_kwargs, s3_argument_spec

DOC = yaml.safe_load(s3_fragment.ModuleDocFragment.DOCUMENTATION)['options']
SPEC = s3_argument_spec()


def test_fragment_documents_exactly_the_spec():
    assert sorted(DOC) == sorted(SPEC)


@pytest.mark.parametrize('name', sorted(SPEC))
def test_each_option_has_the_documented_type_default_choices_and_aliases(name):
    assert DOC[name]['type'] == SPEC[name]['type']
    assert DOC[name].get('default') == SPEC[name].get('default')
    assert DOC[name].get('choices') == SPEC[name].get('choices')
    assert DOC[name].get('aliases') == SPEC[name].get('aliases')


def test_keys_are_never_logged():
    assert SPEC['access_key']['no_log'] is True
    assert SPEC['secret_key']['no_log'] is True


def _params(**over):
    params = dict((name, option.get('default')) for name, option in SPEC.items())
    params.update(over)
    return params


def test_defaults_leave_endpoint_and_credentials_to_boto3():
    assert client_kwargs(_params()) == {'endpoint_url': None, 'region_name': 'us-east-1', 'verify': None}


def test_lab_endpoint_with_keys_and_ca():
    kwargs = client_kwargs(_params(endpoint_url='https://objectstore', ca_bundle='/etc/ca.crt',
                                   access_key='lab', secret_key='secret'))
    assert kwargs == {'endpoint_url': 'https://objectstore', 'region_name': 'us-east-1',
                      'verify': '/etc/ca.crt', 'aws_access_key_id': 'lab',
                      'aws_secret_access_key': 'secret'}
