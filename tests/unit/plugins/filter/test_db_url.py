# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The db_url_replace and env_value filters: what restore_full points its migrations at."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.forexai.dr.plugins.filter import db_url as f

URL = 'postgresql+psycopg2://forexai:s%40cret@db1:5432/forexai?sslmode=require&application_name=api'


def test_the_filters_are_registered():
    assert set(f.FilterModule().filters()) == {'db_url_replace', 'env_value'}


def test_only_the_database_changes_and_the_query_stays():
    assert f.db_url_replace(URL, database='forexai_restore_20261125t231000z') == (
        'postgresql+psycopg2://forexai:s%40cret@db1:5432/forexai_restore_20261125t231000z'
        '?sslmode=require&application_name=api')


def test_a_socket_url_keeps_its_host_parameter():
    url = 'postgresql:///forexai?host=/run/postgresql&sslmode=disable'
    assert f.db_url_replace(url, database='other') == \
        'postgresql:///other?host=/run/postgresql&sslmode=disable'


def test_an_error_never_shows_the_url():
    with pytest.raises(AnsibleFilterError) as err:
        f.db_url_replace('mysql://root:topsecret@db1/x', database='y')
    assert 'topsecret' not in str(err.value) and 'db_url_replace' in str(err.value)


def test_env_value_reads_quoted_and_exported_values():
    text = '# the platform\nexport FOREXAI_DATABASE_URL="%s"\nOTHER=1\n' % URL
    assert f.env_value(text, 'FOREXAI_DATABASE_URL') == URL
    assert f.env_value(text, 'OTHER') == '1'


def test_env_value_refuses_a_missing_variable():
    with pytest.raises(AnsibleFilterError, match='FOREXAI_DATABASE_URL is not set'):
        f.env_value('OTHER=1\n', 'FOREXAI_DATABASE_URL')


def test_the_password_is_replaced_and_percent_encoded():
    got = f.db_url_replace(URL, password='n3w/p@ss:word')
    assert got == 'postgresql+psycopg2://forexai:n3w%2Fp%40ss%3Aword@db1:5432/forexai?sslmode=require&application_name=api'


def test_password_and_host_together():
    got = f.db_url_replace('postgresql://forexai@db1/forexai', host='db2', password='x')
    assert got == 'postgresql://forexai:x@db2/forexai'


@pytest.mark.parametrize('url', ['postgresql://db1/forexai', 'postgresql://:old@db1/forexai'])
def test_a_url_without_a_user_has_no_password_to_set(url):
    with pytest.raises(AnsibleFilterError, match='names no user'):
        f.db_url_replace(url, password='x')
