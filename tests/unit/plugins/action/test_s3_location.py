# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""forexai.dr.s3_location: the shared S3 location checked, normalised and turned into pgBackRest's terms."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.forexai.dr.plugins.action.s3_location import check_location
from ansible_collections.forexai.dr.plugins.module_utils.s3 import (
    location_defaults, missing_keys, pgbackrest_settings, split_endpoint)

LAB = {'endpoint_url': 'https://objectstore', 'bucket': 'forexai-backups', 'prefix': 'forexai',
       'region': 'us-east-1', 'ca_bundle': '/etc/ssl/certs/ca-certificates.crt',
       'addressing_style': 'path', 'access_key': 'lab-access-key', 'secret_key': 'lab-secret-key'}


def check(location, required=('bucket',), **overrides):
    return check_location(location, overrides, list(required), 'forexai_s3')


def test_the_lab_location_comes_back_whole_with_pgbackrest_terms():
    location, pgbackrest = check(LAB)
    assert location == LAB
    assert pgbackrest == {'tls': True, 'endpoint': 'objectstore', 'port': 443, 'uri_style': 'path',
                          'ca_file': '/etc/ssl/certs/ca-certificates.crt'}


def test_missing_keys_are_filled_with_the_documented_defaults():
    location, pgbackrest = check({'bucket': 'b'})
    assert location == dict(location_defaults(), bucket='b')
    assert (location['region'], location['addressing_style'], location['prefix']) == ('us-east-1', 'auto', '')
    assert pgbackrest['endpoint'] == 's3.us-east-1.amazonaws.com'
    assert pgbackrest['uri_style'] == 'host'


def test_an_override_wins_over_the_shared_value():
    location = check(LAB, prefix='staging', bucket=None)[0]
    assert (location['prefix'], location['bucket']) == ('staging', 'forexai-backups')


@pytest.mark.parametrize('location, message', [
    (None, 'forexai_s3 is incomplete: set forexai_s3.bucket'),
    ({}, 'forexai_s3 is incomplete: set forexai_s3.bucket'),
    ({'bucket': ''}, 'forexai_s3 is incomplete: set forexai_s3.bucket'),
    ({'bucket': 'b', 'access_key': 'a'}, 'forexai_s3 is incomplete: set forexai_s3.secret_key'),
    ({'bucket': 'b', 'secret_key': 's'}, 'forexai_s3 is incomplete: set forexai_s3.access_key'),
    ({'buckett': 'b'}, 'forexai_s3 is not a valid S3 location: buckett.'),
    ({'bucket': 'b', 'addressing_style': 'sideways'},
     'forexai_s3 is not a valid S3 location: value of addressing_style must be one of: auto, path, virtual'),
    ('forexai-backups', 'forexai_s3 must be a dictionary'),
    ({'bucket': 'b', 'endpoint_url': 'objectstore'}, 'forexai_s3.endpoint_url must start with https:// or http://'),
    ({'bucket': 'b', 'endpoint_url': 'https://objectstore:tls'}, 'forexai_s3.endpoint_url '),
])
def test_a_bad_location_is_refused_naming_what_is_wrong(location, message):
    with pytest.raises(ValueError) as caught:
        check(location)
    assert str(caught.value).startswith(message)


def test_required_keys_are_the_callers_choice():
    location = check({}, required=())[0]
    assert location['bucket'] == ''
    with pytest.raises(ValueError, match=r'set forexai_s3\.bucket, forexai_s3\.access_key \('):
        check({}, required=('bucket', 'access_key'))


def test_missing_keys_pairs_access_and_secret():
    assert missing_keys({'bucket': 'b'}) == []
    assert missing_keys({'bucket': 'b', 'access_key': 'a'}) == ['secret_key']
    assert missing_keys({}, ('bucket', 'access_key')) == ['bucket', 'access_key']


@pytest.mark.parametrize('url, expected', [
    ('https://objectstore', ('https', 'objectstore', 443)),
    ('https://objectstore/', ('https', 'objectstore', 443)),
    ('https://minio.internal:9000', ('https', 'minio.internal', 9000)),
    ('http://objectstore:5000', ('http', 'objectstore', 5000)),
    ('http://objectstore', ('http', 'objectstore', 80)),
    ('', ('https', 's3.eu-central-1.amazonaws.com', 443)),
])
def test_split_endpoint(url, expected):
    assert split_endpoint(url, 'eu-central-1') == expected


def test_pgbackrest_cannot_use_plain_http():
    assert pgbackrest_settings(dict(LAB, endpoint_url='http://objectstore:5000'))['tls'] is False
