# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test restore of a backup set's dump: one implementation.

Used by the ``backup_verify`` module and by ``forexai-backup --verify``. The steps and
their order (create a temporary database, ``pg_restore`` into it, count every table's
rows, compare with the manifest, always drop it) and the result are here; the caller
supplies how to reach the database (``ops``): the module over its own psycopg2
connection, the program from a child process that runs as the database OS user.

The backup role deploys this file unchanged next to the ``forexai-backup`` program
(``/usr/local/lib/forexai-backup/verification.py``), which imports it as
``verification``: it must stay standard-library only and never import Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time

try:
    from ansible_collections.forexai.dr.plugins.module_utils import backup_set
except ImportError:  # deployed on a host next to the backup program
    import backup_set

CREATE_DATABASE_SQL = 'CREATE DATABASE {} TEMPLATE template0'
DROP_DATABASE_SQL = 'DROP DATABASE IF EXISTS {}'
DROP_DATABASE_FORCE_SQL = 'DROP DATABASE IF EXISTS {} WITH (FORCE)'
SERVER_VERSION_NUM_SQL = "SELECT current_setting('server_version_num')::int"


def drop_database_sql(server_version_num):
    """DROP DATABASE statement (a ``psycopg2.sql`` template): ``WITH (FORCE)`` from 13 on."""
    return DROP_DATABASE_FORCE_SQL if server_version_num >= 130000 else DROP_DATABASE_SQL


def pg_restore_argv(pg_restore, database, dump_path, jobs=1):
    """The test restore's command: the options restore_full restores with (owners and grants
    included, so a role the dump needs and the cluster lacks fails the test as it would fail
    the restore), stopping at the first error."""
    argv = [pg_restore, '--no-password', '--dbname=%s' % database, '--exit-on-error']
    if jobs > 1:
        argv.append('--jobs=%d' % jobs)
    argv.append(dump_path)
    return argv


# Where a dump's SQL names a role: owners, grants and revokes (ACLs), default privileges and
# policies. One name: an identifier or a double-quoted one ("" for a quote inside).
_ROLE = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_ROLE_LIST = r'(%s(?:\s*,\s*%s)*)' % (_ROLE, _ROLE)
_ROLE_PATTERNS = (
    re.compile(r'\bOWNER TO (%s)' % _ROLE),
    re.compile(r'^GRANT\b.*?\bTO %s' % _ROLE_LIST),
    re.compile(r'^REVOKE\b.*?\bFROM %s' % _ROLE_LIST),
    re.compile(r'^ALTER DEFAULT PRIVILEGES FOR ROLE %s' % _ROLE_LIST),
    re.compile(r'^ALTER DEFAULT PRIVILEGES\b.*?\b(?:GRANT\b.*?\bTO|REVOKE\b.*?\bFROM) %s' % _ROLE_LIST),
    re.compile(r'^CREATE POLICY\b.*?\bTO %s' % _ROLE_LIST),
    re.compile(r'^SET SESSION AUTHORIZATION (%s)' % _ROLE),
)
_NOT_ROLES = ('public', 'current_user', 'session_user', 'current_role')


def _unquote(name):
    if name.startswith('"'):
        return name[1:-1].replace('""', '"')
    return name.lower()


def roles_in_sql(text):
    """The roles a dump's SQL (``pg_restore --schema-only -f -``) needs, sorted: owners,
    grantees and the rest. A restore with owners and grants fails without them."""
    found = set()
    for line in text.splitlines():
        line = line.strip()
        for pattern in _ROLE_PATTERNS:
            match = pattern.search(line)
            if not match:
                continue
            for name in re.findall(_ROLE, match.group(1)):
                if name.lower() not in _NOT_ROLES or name.startswith('"'):
                    found.add(_unquote(name))
    return sorted(found)


def toc_entries(listing):
    """The entries of ``pg_restore --list`` output (text), without its comment lines."""
    return [line for line in listing.splitlines() if line and not line.startswith(';')]


def output_tail(output, lines=8):
    """The last lines of a program's output (bytes or text), on one line."""
    if isinstance(output, bytes):
        output = output.decode('utf-8', 'replace')
    return ' | '.join(line for line in (output or '').strip().splitlines()[-lines:])


def one_line(exc):
    return ' '.join(str(exc).split())


def restore_and_compare(ops, name, dump_path, expected_counts, pg_restore, jobs=1,
                        drop_leftover=False, clock=time.monotonic):
    """Restore ``dump_path`` into a temporary database ``name``, compare row counts, drop it.

    :param ops: the database access, an object with ``create(name)``, ``drop(name)``,
        ``restore(argv) -> (exit code, stderr)``, ``count(name) -> {'schema.table': n}``
        and (with ``drop_leftover``) ``exists(name) -> bool``. Errors from ``exists`` and
        ``create`` propagate (nothing was made); an error dropping is reported in the result.
    :param drop_leftover: drop a database of that name first (left by a killed run: it is
        ours by name).
    :returns: ``(result, extra)``. ``result`` is what the manifest records as
        ``verification``: ``performed``, ``ok``, ``detail``, ``temp_database``,
        ``temp_database_dropped``, ``restore`` (``ok``/``failed``) and, when the restore
        worked, ``row_count_differences``, ``tables`` and ``rows``. ``extra`` holds what a
        caller may report beside it: ``restore_seconds``, ``restore_detail`` (why pg_restore
        failed), ``restored`` (the counts, or None), ``counts_ok`` and ``counts_detail`` (the
        comparison alone), ``drop_error``.
    """
    result = {'performed': True, 'ok': False, 'temp_database': name,
              'temp_database_dropped': False}
    extra = {'restore_seconds': None, 'restore_detail': None, 'restored': None,
             'counts_ok': None, 'counts_detail': None, 'drop_error': None}
    if drop_leftover and ops.exists(name):
        ops.drop(name)
    ops.create(name)
    try:
        started = clock()
        code, stderr = ops.restore(pg_restore_argv(pg_restore, name, dump_path, jobs))
        extra['restore_seconds'] = round(clock() - started, 3)
        if code != 0:
            result['detail'] = 'pg_restore into %s failed (exit %d): %s' % (
                name, code, output_tail(stderr))
            result['restore'] = 'failed'
            extra['restore_detail'] = result['detail']
            return result, extra
        result['restore'] = 'ok'
        restored = ops.count(name)
        ok, detail, differences = backup_set.compare_row_counts(expected_counts, restored)
        extra.update(restored=restored, counts_ok=ok, counts_detail=detail)
        result.update({'ok': ok, 'detail': detail, 'row_count_differences': differences,
                       'tables': len(restored), 'rows': sum(restored.values())})
        return result, extra
    finally:
        try:
            ops.drop(name)
            result['temp_database_dropped'] = True
        except Exception as exc:  # whatever the caller's database layer raises
            extra['drop_error'] = one_line(exc)
            result['ok'] = False
            result['detail'] = (result.get('detail', '') + '; temporary database %s NOT '
                                'dropped: %s' % (name, extra['drop_error']))
