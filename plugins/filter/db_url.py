# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform's database URL changed by parsing it (module_utils/db_url.py), and a value read
from its environment file: what a restore needs to point a tool at another database without
losing the URL's query parameters."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.forexai.dr.plugins.module_utils import db_url


def db_url_replace(url, host=None, port=None, database=None, password=None):
    """The URL with its host, port, database and/or password replaced; the rest byte for byte."""
    try:
        if password is not None:
            url = db_url.with_password(url, password)
        if host is None and port is None and database is None:
            return url
        return db_url.with_endpoint(url, host=host, port=port, database=database)
    except (db_url.UrlError, TypeError) as exc:
        # never the URL itself in the message: it may hold a password
        raise AnsibleFilterError('db_url_replace: %s' % exc)


def env_value(text, variable):
    """The value of the one ``VARIABLE=value`` line of an environment file's text."""
    try:
        return db_url.env_assignment(text, variable)[3]
    except (db_url.UrlError, TypeError) as exc:
        raise AnsibleFilterError('env_value: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'db_url_replace': db_url_replace, 'env_value': env_value}
