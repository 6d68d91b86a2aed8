# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the restore modules (no database, no network): unit-tested on its own.

* choosing a backup set (newest verified, by id, or newest before a time);
* names of the databases a restore makes (``<db>_restore_<stamp>``,
  ``<db>_pre_restore_<stamp>``, scratch databases);
* checking and quoting the table names that come from variables;
* reading ``pg_restore --list`` output and keeping what one table needs;
* the sequence value a restored table needs.

Manifests are read and checked with ``backup_set`` (the same code the backup program uses).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.forexai.dr.plugins.module_utils import backup_set

MAX_IDENTIFIER_BYTES = 63
# A name that needs no quoting, so it reads the same in SQL, in pg_restore's TOC and in a shell.
SIMPLE_NAME_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_$]*$')
STAMP_FORMAT = '%Y%m%dt%H%M%Sz'

# TOC entry kinds a scratch database needs before one table can be created in it.
TOC_PREREQUISITES = ('SCHEMA', 'EXTENSION', 'TYPE', 'DOMAIN', 'COLLATION')
# Every kind pg_dump writes whose name has a space: matched before the one-word kinds.
TOC_MULTIWORD_KINDS = (
    'TABLE DATA', 'SEQUENCE SET', 'SEQUENCE OWNED BY', 'FK CONSTRAINT', 'DEFAULT ACL',
    'MATERIALIZED VIEW DATA', 'MATERIALIZED VIEW', 'FOREIGN TABLE', 'LARGE OBJECT', 'BLOB DATA',
    'BLOBS', 'ROW SECURITY', 'SHELL TYPE', 'TEXT SEARCH CONFIGURATION',
    'TEXT SEARCH DICTIONARY', 'TEXT SEARCH PARSER', 'TEXT SEARCH TEMPLATE',
    'FOREIGN DATA WRAPPER', 'USER MAPPING', 'EVENT TRIGGER', 'ACCESS METHOD',
    'OPERATOR CLASS', 'OPERATOR FAMILY', 'PUBLICATION TABLE', 'PUBLICATION TABLES IN SCHEMA',
    'INDEX ATTACH', 'TABLE ATTACH', 'DATABASE PROPERTIES',
)
TOC_LINE_RE = re.compile(r'^(\d+);\s+(\d+)\s+(\d+)\s+(.*)$')


class RestoreError(Exception):
    """A request that cannot be carried out; the message says why."""


# --------------------------------------------------------------------------- names

def utc_stamp(moment):
    """``20261125t231000z`` for an aware time: lower case, so names need no quoting."""
    if moment.utcoffset() is None:
        raise ValueError('a stamp needs a timezone-aware time')
    return moment.astimezone(datetime.timezone.utc).strftime(STAMP_FORMAT)


def check_name(name, what='name'):
    """Raise RestoreError unless ``name`` is a plain identifier of at most 63 bytes."""
    if not isinstance(name, str) or not name:
        raise RestoreError('%s is empty' % what)
    if not SIMPLE_NAME_RE.match(name):
        raise RestoreError('%s %r is refused: only letters, digits, "_" and "$" are allowed '
                           '(no quotes, semicolons, spaces or dots)' % (what, name))
    if len(name.encode('utf-8')) > MAX_IDENTIFIER_BYTES:
        raise RestoreError('%s %r is longer than %d bytes' % (what, name, MAX_IDENTIFIER_BYTES))
    return name


def check_identifier(name, what='name'):
    """Raise RestoreError unless ``name`` is a name PostgreSQL can hold; return it.

    Capitals, spaces, quotes and dots are all fine: the name is always quoted as an
    identifier. Refused: empty, longer than 63 bytes, a NUL, or a line break (pg_restore's
    list prints a line break as a space, so such a table could not be found in a dump).
    """
    if not isinstance(name, str) or not name:
        raise RestoreError('%s is empty' % what)
    if '\x00' in name or '\n' in name or '\r' in name:
        raise RestoreError('%s %r is refused: it holds a NUL or a line break' % (what, name))
    if len(name.encode('utf-8')) > MAX_IDENTIFIER_BYTES:
        raise RestoreError('%s %r is longer than %d bytes' % (what, name, MAX_IDENTIFIER_BYTES))
    return name


def quote_ident(name):
    """The name as a double-quoted SQL identifier (inner quotes doubled), as quote_ident."""
    return '"%s"' % name.replace('"', '""')


def qualified_name(schema, table):
    """The quoted ``schema.table`` text, e.g. for a ``%s::regclass`` parameter."""
    return '%s.%s' % (quote_ident(schema), quote_ident(table))


def saved_rows_table(table, stamp):
    """``<table>_<stamp>``: where a table restore saves the live rows it replaces.

    The table's part is cut (whole characters) so that the name fits in 63 bytes.
    """
    suffix = '_' + stamp
    room = MAX_IDENTIFIER_BYTES - len(suffix.encode('utf-8'))
    head = table
    while len(head.encode('utf-8')) > room:
        head = head[:-1]
    return head + suffix


def derived_name(database, infix, stamp):
    """``<database>_<infix>_<stamp>``, checked to be a plain name that fits in 63 bytes."""
    check_name(database, 'database name')
    name = '%s_%s_%s' % (database, infix, stamp)
    return check_name(name, 'derived database name')


# --------------------------------------------------------------------------- choosing a set

def choose_set(entries, set_id=None, before=None, require_verified=True):
    """Pick the set to restore.

    :param entries: candidates from ``backup_set.set_entry()``.
    :param set_id: a given set id; wins over ``before``.
    :param before: aware datetime: the newest usable set that started strictly before it.
    :param require_verified: only sets whose manifest says ``verified: true`` are usable.
    :returns: the chosen entry.
    :raises RestoreError: when no set fits, saying why.
    """
    by_id = dict((e['id'], e) for e in entries)
    if set_id:
        if backup_set.parse_set_id(set_id) is None:
            raise RestoreError('%r is not a backup set id (like 20261125T180000Z)' % set_id)
        entry = by_id.get(set_id)
        if entry is None:
            raise RestoreError('backup set %s does not exist' % set_id)
        if entry['manifest'] is None:
            raise RestoreError('backup set %s is incomplete: %s'
                               % (set_id, '; '.join(entry['problems']) or 'no manifest'))
        if require_verified and not entry['verified']:
            raise RestoreError('backup set %s was not verified by a test restore; '
                               'allow unverified sets to use it anyway' % set_id)
        return entry
    chosen = backup_set.newest_usable(entries, require_verified, before)
    if chosen is None:
        kind = 'verified ' if require_verified else 'complete '
        if before is not None:
            raise RestoreError('no %sbackup set started before %s (%d set(s) seen)'
                               % (kind, backup_set.format_set_id(before), len(entries)))
        raise RestoreError('no %sbackup set found (%d set(s) seen)' % (kind, len(entries)))
    return chosen


def set_summary(entry, now):
    """What an operator needs to judge a set: when, how old, how big, how many rows."""
    manifest = entry['manifest']
    database = manifest['database']
    counts = database.get('row_counts', {})
    return {
        'set_id': entry['id'],
        'started_at': manifest['started_at'],
        'finished_at': manifest['finished_at'],
        'age_seconds': int((now - entry['started_at']).total_seconds()),
        'age': describe_age(now - entry['started_at']),
        'verified': entry['verified'],
        # Who verified it: the backup run itself, or a later verification on another host
        # (its verdict recorded beside the set in S3); None when nobody did.
        'verified_by': entry.get('verified_by'),
        'host': manifest.get('host', ''),
        'database': database['name'],
        'server_version': database['server_version'],
        'server_major': server_major(database.get('server_version_num')),
        'database_size_bytes': database['size_bytes'],
        'files': len(manifest['files']),
        'bytes': sum(f['size'] for f in manifest['files'].values()),
        'dump_path': database['dump_path'],
        'dump_format': database['dump_format'],
        'tables': len(counts),
        'rows': sum(counts.values()),
        # What else the set can put back on a new host: globals, files, configuration.
        'archives': {name: archive.get('file', '') for name, archive
                     in sorted(manifest.get('archives', {}).items())},
    }


def server_major(version_num):
    """``150010`` -> ``'15'``; ``90624`` -> ``'9.6'``; None when unknown."""
    try:
        number = int(version_num)
    except (TypeError, ValueError):
        return None
    if number >= 100000:
        return str(number // 10000)
    return '%d.%d' % (number // 10000, number // 100 % 100)


def describe_age(delta):
    """``2d 3h 4m`` / ``3h 4m 5s`` / ``4m 5s`` for a timedelta (negative: ``in the future``)."""
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return 'in the future (%ds): clock skew?' % -seconds
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return '%dd %dh %dm' % (days, hours, minutes)
    if hours:
        return '%dh %dm %ds' % (hours, minutes, secs)
    return '%dm %ds' % (minutes, secs)


# --------------------------------------------------------------------------- pg_restore TOC

def parse_toc(text):
    """Entries of ``pg_restore --list`` output: dicts with id, kind, schema, rest and line.

    ``rest`` is the entry's name and owner as pg_restore prints them (``trades forexai``).
    Comment and blank lines are skipped.
    """
    entries = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith(';'):
            continue
        match = TOC_LINE_RE.match(line.strip())
        if not match:
            continue
        body = match.group(4)
        kind = None
        for candidate in TOC_MULTIWORD_KINDS:
            if body == candidate or body.startswith(candidate + ' '):
                kind = candidate
                break
        if kind is None:
            kind = body.split(' ', 1)[0]
        words = body[len(kind):].strip().split(' ', 1)
        schema = words[0] if words and words[0] else '-'
        rest = words[1] if len(words) > 1 else ''
        entries.append({'id': int(match.group(1)), 'kind': kind, 'schema': schema,
                        'rest': rest, 'body': body, 'line': line.strip()})
    return entries


def _names_table(entry, kind, schema, table):
    """Whether a TOC entry is ``kind`` for ``schema.table``.

    pg_restore prints names as they are (no quoting), followed by the owner when the dump
    has one, so the entry's text must be exactly the names, or the names and one more word:
    ``My Table`` is not taken for ``My``.
    """
    if entry['kind'] != kind:
        return False
    head = '%s %s %s' % (kind, schema, table)
    body = entry['body']
    if body == head:
        return True
    return body.startswith(head + ' ') and ' ' not in body[len(head) + 1:]


def table_in_toc(entries, schema, table):
    """(has a TABLE entry, has a TABLE DATA entry) for ``schema.table``."""
    has_table = any(_names_table(e, 'TABLE', schema, table) for e in entries)
    has_data = any(_names_table(e, 'TABLE DATA', schema, table) for e in entries)
    return has_table, has_data


def scratch_toc(entries, schema, table):
    """The ``pg_restore -L`` list that creates ``schema.table`` with its rows and nothing else.

    Keeps schemas, extensions, types, domains and collations (a column may need them), the
    table and its data. Constraints, indexes, triggers, defaults and sequences are left out:
    the scratch copy only serves as the source of rows.

    :raises RestoreError: when the dump holds no such table or no data for it.
    """
    has_table, has_data = table_in_toc(entries, schema, table)
    if not has_table:
        raise RestoreError('table %s.%s is not in the backup' % (schema, table))
    if not has_data:
        raise RestoreError('the backup has no data for table %s.%s' % (schema, table))
    keep = []
    for entry in entries:
        if entry['kind'] in TOC_PREREQUISITES:
            keep.append(entry['line'])
        elif (_names_table(entry, 'TABLE', schema, table)
              or _names_table(entry, 'TABLE DATA', schema, table)):
            keep.append(entry['line'])
    return '\n'.join(keep) + '\n'


# --------------------------------------------------------------------------- rows and sequences

def sequence_target(max_value, last_value, is_called):
    """The value to ``setval(seq, value, true)`` to, or None when the sequence is fine.

    A sequence must hand out ids above every restored row; it is never moved backwards
    (ids already handed out may be recorded elsewhere).
    """
    if max_value is None:
        return None
    current = last_value if is_called else last_value - 1
    if current >= max_value:
        return None
    return max_value


def apply_steps(mode, delete_absent=False):
    """The statements a table restore runs, in order.

    V(replace) updates rows whose content differs and inserts missing ones; rows added since
    the backup stay unless ``delete_absent`` asks to delete them (then first, which frees
    unique values a backup row may need). V(missing_only) only inserts backup rows whose key is absent.
    """
    if mode == 'replace':
        return (['delete'] if delete_absent else []) + ['update', 'insert']
    if mode == 'missing_only':
        return ['insert']
    raise RestoreError('mode %r is not one of replace, missing_only' % (mode,))
