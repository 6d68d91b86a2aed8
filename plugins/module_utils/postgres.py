# -*- coding: utf-8 -*-
# Copyright: (c) 2025, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL connection options and helpers shared by this collection's modules.

The options are documented once, in the ``forexai.dr.postgres`` doc fragment;
``postgres_argument_spec()`` is their argument spec. A module does::

    from ansible_collections.forexai.dr.plugins.module_utils.postgres import (
        HAS_PSYCOPG2, PSYCOPG2_IMPORT_ERROR, connect, postgres_argument_spec)

    spec = postgres_argument_spec()
    spec.update(my_option=dict(type='str'))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib('psycopg2'), exception=PSYCOPG2_IMPORT_ERROR)
    conn = connect(module.params)   # autocommit off: commit or roll back yourself

Identifiers that come from options (table, schema, role names) must be composed
with ``psycopg2.sql.Identifier`` (see ``identifier()``), never formatted into SQL.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import traceback

from ansible.module_utils.common.text.converters import to_native

try:
    import psycopg2
    import psycopg2.extras
    import psycopg2.sql
    HAS_PSYCOPG2 = True
    PSYCOPG2_IMPORT_ERROR = None
except ImportError:
    psycopg2 = None
    HAS_PSYCOPG2 = False
    PSYCOPG2_IMPORT_ERROR = traceback.format_exc()

# What the modules import instead of psycopg2 itself: the SQL composition module (None without
# psycopg2) and the errors to catch (none to catch without it).
sql = psycopg2.sql if HAS_PSYCOPG2 else None
DATABASE_ERRORS = (psycopg2.Error,) if HAS_PSYCOPG2 else ()

SSL_MODES = ('allow', 'disable', 'prefer', 'require', 'verify-ca', 'verify-full')
APPLICATION_NAME = 'forexai.dr'

# Option name -> libpq keyword. Empty or unset options are left out so that libpq
# falls back to its own defaults and environment (PGHOST, PGPASSFILE, ...).
_LIBPQ_KEYWORDS = (
    ('login_host', 'host'),
    ('login_port', 'port'),
    ('login_user', 'user'),
    ('login_password', 'password'),
    ('db', 'dbname'),
    ('connect_timeout', 'connect_timeout'),
    ('ssl_mode', 'sslmode'),
    ('ca_cert', 'sslrootcert'),
)


def postgres_argument_spec():
    """Return a new argument spec dict with the common connection options."""
    return dict(
        login_host=dict(type='str', default=''),
        login_unix_socket=dict(type='str', default=''),
        login_port=dict(type='int', default=5432, aliases=['port']),
        login_user=dict(type='str', default='postgres'),
        login_password=dict(type='str', default='', no_log=True),
        db=dict(type='str', aliases=['login_db']),
        connect_timeout=dict(type='int', default=10),
        ssl_mode=dict(type='str', default='prefer', choices=list(SSL_MODES)),
        ca_cert=dict(type='path', aliases=['ssl_rootcert']),
        connect_params=dict(type='dict', default={}),
    )


def connection_kwargs(params):
    """Map module parameters to keyword arguments for ``psycopg2.connect()``.

    Pure: no connection is made. A Unix socket directory is used as the host
    when no host (or ``localhost``) is given. ``connect_params`` is applied last
    and wins.
    """
    kwargs = {}
    for option, keyword in _LIBPQ_KEYWORDS:
        value = params.get(option)
        if value is None or value == '':
            continue
        kwargs[keyword] = value
    socket_dir = params.get('login_unix_socket')
    if socket_dir and kwargs.get('host', 'localhost') == 'localhost':
        kwargs['host'] = socket_dir
    kwargs['application_name'] = APPLICATION_NAME
    kwargs.update(params.get('connect_params') or {})
    return kwargs


def connect(module_params):
    """Open a psycopg2 connection with autocommit off and return it.

    Errors (``psycopg2.Error``) propagate: the calling module reports them in its
    one ``fail_json``.
    """
    if not HAS_PSYCOPG2:
        raise RuntimeError('psycopg2 is not installed')
    conn = psycopg2.connect(**connection_kwargs(module_params))
    conn.autocommit = False
    return conn


def dict_cursor(conn):
    """A cursor whose rows are dicts keyed by column name."""
    return conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)


def identifier(*parts):
    """A safely quoted (optionally qualified) identifier, e.g. ``identifier('public', 'positions')``."""
    return psycopg2.sql.Identifier(*parts)


def set_setting(cursor, name, value, local=True):
    """Set a run-time setting with ``set_config()``; ``local`` is ``SET LOCAL`` (this transaction).

    Unlike ``SET``, ``set_config`` takes the name and value as bound parameters.
    Returns the statement and parameters executed.
    """
    statement = 'SELECT set_config(%s, %s, %s)'
    params = [name, value, bool(local)]
    cursor.execute(statement, params)
    return statement, params


def error_text(exc):
    """A database error on one line: the server's own message (``pgerror``) when there is one."""
    return ' '.join(to_native(getattr(exc, 'pgerror', None) or exc).split())


# libpq connection keyword -> environment variable, for the PostgreSQL client
# programs (pg_restore, pg_dump) a module runs beside its psycopg2 connection.
LIBPQ_ENV = (
    ('host', 'PGHOST'),
    ('port', 'PGPORT'),
    ('user', 'PGUSER'),
    ('password', 'PGPASSWORD'),
    ('sslmode', 'PGSSLMODE'),
    ('sslrootcert', 'PGSSLROOTCERT'),
    ('sslcert', 'PGSSLCERT'),
    ('sslkey', 'PGSSLKEY'),
    ('passfile', 'PGPASSFILE'),
    ('options', 'PGOPTIONS'),
    ('connect_timeout', 'PGCONNECT_TIMEOUT'),
    ('application_name', 'PGAPPNAME'),
)


def libpq_env(kwargs, base=None):
    """Environment for libpq programs (pg_restore) equivalent to psycopg2 ``kwargs``."""
    env = dict(base if base is not None else os.environ)
    for variable in dict(LIBPQ_ENV).values():
        env.pop(variable, None)
    env.pop('PGDATABASE', None)
    for keyword, variable in LIBPQ_ENV:
        value = kwargs.get(keyword)
        if value is not None and value != '':
            env[variable] = str(value)
    return env


def tail(text, lines=6):
    """The last lines of a program's output, on one line, for an error message."""
    return ' | '.join(to_native(text).strip().splitlines()[-lines:])
