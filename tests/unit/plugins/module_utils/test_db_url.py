# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The database URL changes only where it is asked to: host, port or database name."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.forexai.dr.plugins.module_utils.db_url import (
    UrlError, endpoint, env_assignment, masked, with_endpoint, with_env_value)

URL = 'postgresql+psycopg2://forexai:p%40ss%3Aw@db1:5432/forexai?sslmode=require&application_name=web'


@pytest.mark.parametrize('kwargs, expected', [
    ({'host': 'db2'}, 'postgresql+psycopg2://forexai:p%40ss%3Aw@db2:5432/forexai?sslmode=require&application_name=web'),
    ({'host': '10.0.0.5', 'port': 6432},
     'postgresql+psycopg2://forexai:p%40ss%3Aw@10.0.0.5:6432/forexai?sslmode=require&application_name=web'),
    ({'host': 'fe80::1'}, 'postgresql+psycopg2://forexai:p%40ss%3Aw@[fe80::1]:5432/forexai?sslmode=require&application_name=web'),
    ({'database': 'forexai_restore_1'},
     'postgresql+psycopg2://forexai:p%40ss%3Aw@db1:5432/forexai_restore_1?sslmode=require&application_name=web'),
    ({}, URL),
])
def test_only_the_asked_part_changes(kwargs, expected):
    assert with_endpoint(URL, **kwargs) == expected


def test_a_url_without_port_or_user_keeps_having_none():
    assert with_endpoint('postgresql://db1/forexai', host='db2') == 'postgresql://db2/forexai'
    assert endpoint('postgresql://db1/forexai') == ('db1', None)


def test_a_socket_url_keeps_its_query_host():
    url = 'postgresql://forexai@/forexai?host=/run/postgresql'
    assert with_endpoint(url, database='x') == 'postgresql://forexai@/x?host=/run/postgresql'


@pytest.mark.parametrize('url, kwargs, message', [
    ('mysql://db1/forexai', {'host': 'db2'}, "not a PostgreSQL URL (scheme 'mysql')"),
    (URL, {'host': 'db2; rm -rf /'}, "'db2; rm -rf /' is not a host name or address"),
    (URL, {'host': 'db2', 'port': 70000}, 'port 70000 is out of range'),
    ('postgresql://db1:pg/forexai', {'host': 'db2'}, 'the port of the database URL is not a number'),
])
def test_bad_input_is_refused(url, kwargs, message):
    with pytest.raises(UrlError) as caught:
        with_endpoint(url, **kwargs)
    assert str(caught.value) == message


def test_masked_hides_only_the_password():
    assert masked(URL) == 'postgresql+psycopg2://forexai:***@db1:5432/forexai?sslmode=require&application_name=web'
    assert masked('postgresql://forexai@db1/forexai') == 'postgresql://forexai@db1/forexai'


ENV = '# managed\nexport FOREXAI_DATABASE_URL="%s"\nFOREXAI_BACKEND_PORT=8000\n' % URL


def test_env_value_found_and_replaced_keeping_layout():
    index, prefix, quote, value = env_assignment(ENV, 'FOREXAI_DATABASE_URL')
    assert (index, prefix, quote, value) == (1, 'export FOREXAI_DATABASE_URL=', '"', URL)
    new = with_env_value(ENV, 'FOREXAI_DATABASE_URL', 'postgresql://x@db2/f')
    assert new == '# managed\nexport FOREXAI_DATABASE_URL="postgresql://x@db2/f"\nFOREXAI_BACKEND_PORT=8000\n'


@pytest.mark.parametrize('text, message', [
    ('FOREXAI_BACKEND_PORT=8000\n', 'FOREXAI_DATABASE_URL is not set'),
    ('FOREXAI_DATABASE_URL=a\nFOREXAI_DATABASE_URL=b\n', 'FOREXAI_DATABASE_URL is set 2 times'),
    ('MY_FOREXAI_DATABASE_URL=a\n', 'FOREXAI_DATABASE_URL is not set'),
])
def test_env_variable_must_be_set_exactly_once(text, message):
    with pytest.raises(UrlError) as caught:
        env_assignment(text, 'FOREXAI_DATABASE_URL')
    assert str(caught.value) == message
