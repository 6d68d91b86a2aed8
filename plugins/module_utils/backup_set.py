# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup sets: naming, manifest checks, checksums and row-count comparison.

Shared by the modules that read sets (``backup_verify``, ``backup_set_fetch``) and the
``forexai-backup`` program. The backup role deploys this file unchanged to
``/usr/local/lib/forexai-backup/backup_set.py``, where the program imports it as
``backup_set``: it must stay standard-library only and never import Ansible.

Choosing a set has one meaning everywhere: ``newest_usable()`` over the candidates that
``set_entry()`` describes (local ones from ``local_set_entries()``, S3 ones from
``s3.set_entries()``).

A backup set is a directory ``<backup dir>/<set id>/`` (locally) or a key prefix
``<prefix>/<set id>/`` (in S3) holding the database dump, the file and configuration
archives, and ``manifest.json``. The manifest is written last: a set without one is
incomplete, whatever else it holds.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import hashlib
import json
import os
import re

SET_ID_FORMAT = '%Y%m%dT%H%M%SZ'
SET_ID_RE = re.compile(r'^\d{8}T\d{6}Z$')
MANIFEST_NAME = 'manifest.json'
FAILED_NAME = 'FAILED.json'
# The verdict of a verification made after the run, on another host, written beside the set's
# manifest (which is never rewritten): it names the manifest it judged by its SHA-256.
VERDICT_NAME = 'verification.json'
VERDICT_FORMAT = 1
MANIFEST_FORMAT = 1
CHUNK = 1024 * 1024

# Keys a manifest must have, with the type each must be.
MANIFEST_REQUIRED = (
    ('format_version', int),
    ('set_id', str),
    ('started_at', str),
    ('finished_at', str),
    ('host', str),
    ('program_version', str),
    ('database', dict),
    ('files', dict),
    ('verified', bool),
)
DATABASE_REQUIRED = (
    ('name', str),
    ('server_version', str),
    ('size_bytes', int),
    ('dump_format', str),
    ('dump_path', str),
    ('row_counts', dict),
)


# The tables whose rows a manifest counts: ordinary tables outside the system schemas and
# not owned by an extension (their data is not in a dump).
TABLES_SQL = """
SELECT n.nspname, c.relname
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r'
   AND n.nspname <> 'information_schema'
   AND n.nspname NOT LIKE 'pg\\_%'
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                    WHERE d.classid = 'pg_catalog.pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
 ORDER BY 1, 2
"""


def count_rows(cursor, sql):
    """Row count of every table of TABLES_SQL, as ``{'schema.table': n}``.

    ``sql`` is the ``psycopg2.sql`` module: names are quoted with ``sql.Identifier``,
    never formatted into the statement. Run it inside one REPEATABLE READ transaction
    to get counts from one snapshot.
    """
    cursor.execute(TABLES_SQL)
    counts = {}
    for schema, table in cursor.fetchall():
        cursor.execute(sql.SQL('SELECT count(*) FROM {}.{}').format(
            sql.Identifier(schema), sql.Identifier(table)))
        counts['%s.%s' % (schema, table)] = cursor.fetchone()[0]
    return counts


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def format_set_id(moment):
    """Set id for a start time: ``20261125T180000Z`` (UTC, second precision)."""
    if moment.utcoffset() is None:
        raise ValueError('set id needs a timezone-aware time')
    return moment.astimezone(datetime.timezone.utc).strftime(SET_ID_FORMAT)


def parse_set_id(set_id):
    """Start time encoded in a set id, or None when ``set_id`` is not one."""
    if not isinstance(set_id, str) or not SET_ID_RE.match(set_id):
        return None
    try:
        return datetime.datetime.strptime(set_id, SET_ID_FORMAT).replace(
            tzinfo=datetime.timezone.utc)
    except ValueError:
        return None


def parse_time(text):
    """ISO 8601 time with an offset (``Z`` accepted) -> aware datetime in UTC."""
    if not isinstance(text, str):
        raise ValueError('time must be a string, got %r' % (text,))
    value = text.strip()
    if value.endswith('Z') or value.endswith('z'):
        value = value[:-1] + '+00:00'
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError('not an ISO 8601 time: %r' % (text,))
    if moment.utcoffset() is None:
        raise ValueError('time has no UTC offset: %r' % (text,))
    return moment.astimezone(datetime.timezone.utc)


def temp_database_name(database, stamp):
    """Name of a throw-away verification database, at most 63 bytes."""
    name = '%s_verify_%s' % (database, stamp.lower())
    name = re.sub(r'[^a-z0-9_]', '_', name.lower())
    return name[:63]


def s3_set_prefix(prefix, set_id):
    prefix = (prefix or '').strip('/')
    return '%s/%s/' % (prefix, set_id) if prefix else '%s/' % set_id


def s3_key(prefix, set_id, relpath):
    return s3_set_prefix(prefix, set_id) + relpath.lstrip('/')


def sha256_file(path):
    """(hex SHA-256, size in bytes) of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, 'rb') as handle:
        while True:
            block = handle.read(CHUNK)
            if not block:
                break
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def sha256_hex_to_b64(hex_digest):
    """S3's ``ChecksumSHA256`` form (base64 of the raw digest) of a hex digest."""
    return base64.b64encode(bytes.fromhex(hex_digest)).decode('ascii')


def s3_composite_sha256(path, part_size):
    """The ``ChecksumSHA256`` S3 reports for a multipart upload with parts of ``part_size``.

    S3 stores base64(SHA-256(concatenated raw part digests)) followed by ``-<parts>``.
    """
    if part_size <= 0:
        raise ValueError('part size must be positive')
    outer = hashlib.sha256()
    parts = 0
    with open(path, 'rb') as handle:
        while True:
            part = hashlib.sha256()
            left = part_size
            read_any = False
            while left > 0:
                block = handle.read(min(CHUNK, left))
                if not block:
                    break
                read_any = True
                part.update(block)
                left -= len(block)
            if not read_any:
                break
            outer.update(part.digest())
            parts += 1
    return '%s-%d' % (base64.b64encode(outer.digest()).decode('ascii'), parts)


def list_files(root):
    """Relative paths (``/``-separated, sorted) of the regular files under ``root``."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            full = os.path.join(dirpath, name)
            if os.path.isfile(full) and not os.path.islink(full):
                found.append(os.path.relpath(full, root).replace(os.sep, '/'))
    return sorted(found)


def manifest_problems(manifest):
    """Structural problems of a parsed manifest (an empty list when it is sound)."""
    if not isinstance(manifest, dict):
        return ['manifest is not a JSON object']
    problems = []
    for key, kind in MANIFEST_REQUIRED:
        if key not in manifest:
            problems.append('manifest has no %r' % key)
        elif not isinstance(manifest[key], kind) or (kind is int and isinstance(manifest[key], bool)):
            problems.append('manifest %r is not a %s' % (key, kind.__name__))
    if problems:
        return problems
    if manifest['format_version'] != MANIFEST_FORMAT:
        problems.append('manifest format_version %r is not supported (expected %d)'
                        % (manifest['format_version'], MANIFEST_FORMAT))
    if parse_set_id(manifest['set_id']) is None:
        problems.append('manifest set_id %r is not a set id' % manifest['set_id'])
    for key in ('started_at', 'finished_at'):
        try:
            parse_time(manifest[key])
        except ValueError as exc:
            problems.append('manifest %r: %s' % (key, exc))
    database = manifest['database']
    for key, kind in DATABASE_REQUIRED:
        if key not in database:
            problems.append('manifest database has no %r' % key)
        elif not isinstance(database[key], kind):
            problems.append('manifest database %r is not a %s' % (key, kind.__name__))
    for table, count in sorted(database.get('row_counts', {}).items()):
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            problems.append('manifest row count for %s is not a non-negative integer' % table)
    for relpath, entry in sorted(manifest['files'].items()):
        if (relpath.startswith('/') or '..' in relpath.split('/') or relpath == MANIFEST_NAME):
            problems.append('manifest file name %r is not allowed' % relpath)
        elif (not isinstance(entry, dict) or not isinstance(entry.get('sha256'), str)
              or not re.match(r'^[0-9a-f]{64}$', entry['sha256'])
              or isinstance(entry.get('size'), bool) or not isinstance(entry.get('size'), int)):
            problems.append('manifest entry for %s needs a hex sha256 and an integer size' % relpath)
    dump_path = database.get('dump_path')
    if isinstance(dump_path, str) and not any(
            name == dump_path or name.startswith(dump_path.rstrip('/') + '/')
            for name in manifest['files']):
        problems.append('manifest lists no file for the dump %r' % dump_path)
    return problems


def parse_manifest(raw, where):
    """Parse and check a manifest's bytes. Returns (manifest or None, list of problems)."""
    try:
        manifest = json.loads(raw.decode('utf-8'))
    except ValueError as exc:
        return None, ['manifest %s is not valid JSON: %s' % (where, exc)]
    problems = manifest_problems(manifest)
    return (manifest if not problems else None), problems


def missing_manifest_problem(where):
    return 'manifest %s is missing: the set is incomplete' % where


def load_manifest(path):
    """Read and check a manifest file. Returns (manifest or None, list of problems)."""
    try:
        with open(path, 'rb') as handle:
            raw = handle.read()
    except (IOError, OSError) as exc:
        if getattr(exc, 'errno', None) == 2:
            return None, [missing_manifest_problem(path)]
        return None, ['cannot read manifest %s: %s' % (path, exc)]
    return parse_manifest(raw, path)


def check_file(path, expected_sha256, expected_size):
    """One check result for a file against its manifest entry."""
    if not os.path.isfile(path):
        return {'ok': False, 'detail': 'missing'}
    actual_sha256, actual_size = sha256_file(path)
    if actual_size != expected_size:
        return {'ok': False, 'sha256': actual_sha256, 'size': actual_size,
                'detail': 'size %d differs from the manifest (%d)' % (actual_size, expected_size)}
    if actual_sha256 != expected_sha256:
        return {'ok': False, 'sha256': actual_sha256, 'size': actual_size,
                'detail': 'sha256 %s differs from the manifest (%s)'
                          % (actual_sha256, expected_sha256)}
    return {'ok': True, 'sha256': actual_sha256, 'size': actual_size,
            'detail': 'sha256 and size match'}


def check_set_files(set_dir, manifest):
    """Check every file the manifest lists. Returns {relpath: check result}."""
    results = {}
    for relpath, entry in sorted(manifest['files'].items()):
        results[relpath] = check_file(os.path.join(set_dir, *relpath.split('/')),
                                      entry['sha256'], entry['size'])
    return results


def compare_row_counts(expected, actual):
    """Compare per-table row counts.

    :returns: (ok, detail, differences) where differences maps a table to
        ``{'manifest': n or None, 'restored': m or None}`` for every table that differs
        or exists on one side only.
    """
    differences = {}
    for table in sorted(set(expected) | set(actual)):
        want = expected.get(table)
        got = actual.get(table)
        if want != got:
            differences[table] = {'manifest': want, 'restored': got}
    if not differences:
        return True, '%d tables, row counts equal' % len(expected), differences
    parts = []
    for table, diff in sorted(differences.items()):
        if diff['restored'] is None:
            parts.append('%s missing after restore (manifest %d)' % (table, diff['manifest']))
        elif diff['manifest'] is None:
            parts.append('%s not in the manifest (restored %d)' % (table, diff['restored']))
        else:
            parts.append('%s manifest %d, restored %d' % (table, diff['manifest'], diff['restored']))
    return False, '; '.join(parts), differences


def retention_entry(set_id, manifest, location, verified=None):
    """The retention input for one set; a set without manifest counts as unverified.

    ``verified``, when given, is the candidate's verdict (``set_entry()``: a later verification
    of an S3 copy counts); otherwise the manifest's own flag decides.
    """
    started = None
    manifest_verified = False
    if manifest:
        try:
            started = parse_time(manifest.get('started_at'))
        except ValueError:
            started = None
        manifest_verified = manifest.get('verified') is True
    verified = bool(manifest) and (manifest_verified if verified is None else bool(verified))
    if started is None:
        started = parse_set_id(set_id)
    if started is None:
        raise ValueError('cannot tell when backup set %r started' % set_id)
    return {'id': set_id, 'started_at': started, 'verified': verified, 'location': location,
            'complete': manifest is not None}


# --------------------------------------------------------------------------- candidates

def sha256_bytes(data):
    """Hex SHA-256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def verdict_document(set_id, manifest_sha256, verified, host, checks, seconds, checked_at):
    """The verdict of a verification made after the run (``VERDICT_NAME`` beside the set).

    :param checks: the verification's checks (dicts with name, ok, detail).
    :param checked_at: aware datetime of the verification.
    """
    if parse_set_id(set_id) is None:
        raise ValueError('%r is not a set id' % set_id)
    if not re.match(r'^[0-9a-f]{64}$', manifest_sha256 or ''):
        raise ValueError('the manifest digest must be a hex SHA-256')
    return {
        'format_version': VERDICT_FORMAT,
        'set_id': set_id,
        'manifest_sha256': manifest_sha256,
        'verified': bool(verified),
        'host': host,
        'checked_at': checked_at.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
        'failed_checks': [c['name'] for c in checks if not c['ok']],
        'checks': [{'name': c['name'], 'ok': bool(c['ok']), 'detail': c['detail']} for c in checks],
        'seconds': seconds,
    }


def parse_verdict(raw, set_id, manifest_sha256):
    """A verdict's bytes, checked against the set and its manifest: (verdict or None, problem).

    A verdict counts only for the manifest it judged: one for another set, or for a manifest
    whose bytes differ from the ones read now, is set aside with the reason.
    """
    try:
        verdict = json.loads(raw.decode('utf-8') if isinstance(raw, bytes) else raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return None, 'verdict is not JSON: %s' % exc
    if not isinstance(verdict, dict) or not isinstance(verdict.get('verified'), bool):
        return None, 'verdict has no verified true/false'
    if verdict.get('set_id') != set_id:
        return None, 'verdict is for set %s, not %s' % (verdict.get('set_id'), set_id)
    if verdict.get('manifest_sha256') != manifest_sha256:
        return None, 'verdict judged another manifest (SHA-256 %s, now %s)' % (
            verdict.get('manifest_sha256'), manifest_sha256)
    return verdict, None


def set_entry(set_id, manifest, problems=None, verdict=None):
    """One candidate set: its id, its manifest (None when missing or unsound) and why.

    ``verdict`` (from ``parse_verdict()``), when given, decides ``verified``: a verification
    made after the run, on another host, of exactly this copy. Otherwise the manifest's own
    ``verified`` (the run's test restore) does.
    """
    if manifest is not None:
        started = parse_time(manifest['started_at'])
    else:
        started = parse_set_id(set_id)
    if manifest is not None and verdict is not None:
        verified, verified_by = verdict['verified'] is True, 'verification on %s at %s' % (
            verdict.get('host') or '?', verdict.get('checked_at') or '?')
    else:
        verified = bool(manifest is not None and manifest.get('verified') is True)
        verified_by = 'the backup run' if verified else None
    return {'id': set_id, 'manifest': manifest, 'problems': list(problems or []),
            'started_at': started, 'verified': verified, 'verified_by': verified_by,
            'verdict': verdict}


def local_set_entries(backup_dir):
    """A ``set_entry()`` for every set directory in ``backup_dir``, sorted by id.

    Names that are not set ids (``lost+found``, scratch directories) are ignored; a
    directory that does not exist holds no sets.
    """
    entries = []
    if not os.path.isdir(backup_dir):
        return entries
    for name in sorted(os.listdir(backup_dir)):
        full = os.path.join(backup_dir, name)
        if parse_set_id(name) is None or not os.path.isdir(full):
            continue
        manifest, problems = load_manifest(os.path.join(full, MANIFEST_NAME))
        entries.append(set_entry(name, manifest, problems))
    return entries


def usable(entry, require_verified=False):
    """Whether a candidate can be used: its manifest is sound (and it was verified, if asked)."""
    return entry['manifest'] is not None and (entry['verified'] or not require_verified)


def newest_usable(entries, require_verified=False, before=None):
    """The newest usable set: THE meaning of "the latest set" in this collection.

    :param entries: candidates from ``set_entry()`` (any order).
    :param require_verified: only sets whose manifest records a passed test restore.
    :param before: aware datetime: only sets that started strictly before it.
    :returns: the entry, or None when no set qualifies. Sets of the same start time are
        told apart by their id.
    """
    found = [e for e in entries if usable(e, require_verified)
             and (before is None or e['started_at'] < before)]
    if not found:
        return None
    return sorted(found, key=lambda e: (e['started_at'], e['id']))[-1]
