#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: backup_verify
short_description: Verify a Forex AI backup set by checksums and a test restore
version_added: 0.1.0
description:
  - Verifies one backup set written by the C(forexai-backup) program that the
    C(forexai.dr.backup) role installs, either in a local directory or in an S3 bucket
    (downloaded to a temporary directory first).
  - "Checks, each reported on its own: the set's C(manifest.json) is present and sound (a set
    without one is incomplete: its run was interrupted or failed); every file the manifest
    lists has the recorded size and SHA-256; C(pg_restore --list) reads the dump's table of
    contents; the dump restores into a temporary database; the restored row count of every
    table equals the manifest's (counted when the dump was taken, in the same snapshot)."
  - The temporary database is named C(<database>_verify_<UTC time>_<random>) and is always
    dropped, also when a check or the module fails.
  - Every check runs even when an earlier one failed, so one run reports everything wrong
    with a set.
  - The module changes nothing lasting and reports C(changed=false), unless it records a
    verdict in S3 (O(record_verdict)).
author:
  - Forex AI platform engineering (@forexai)
options:
  source:
    description:
      - Where the set is. V(local) reads O(backup_dir); V(s3) downloads from O(bucket).
    type: str
    choices: [ local, s3 ]
    default: local
  set_id:
    description:
      - The set to verify, a UTC time such as V(20261125T180000Z).
      - V(latest) picks the newest usable set, the one whose manifest is present and sound
        (the collection's one meaning of the newest set; verified or not).
    type: str
    default: latest
  backup_dir:
    description:
      - Directory holding the local sets (one sub-directory per set id).
      - Used when O(source=local).
    type: path
    default: /var/backups/forexai
  work_dir:
    description:
      - Directory in which a temporary download directory is made for O(source=s3).
      - It needs room for the whole set. The download is removed afterwards.
      - The system's temporary directory when omitted.
    type: path
  restore:
    description:
      - Restore the dump into a temporary database and compare row counts.
      - V(false) limits verification to the manifest, checksums and C(pg_restore --list).
    type: bool
    default: true
  jobs:
    description:
      - Parallel jobs for C(pg_restore) (directory-format dumps).
    type: int
    default: 1
  pg_bin_dir:
    description:
      - Directory of C(pg_restore).
      - When omitted, C(/usr/lib/postgresql/<major>/bin) for the major version the manifest
        records, if it exists, else C(pg_restore) from E(PATH).
    type: path
  create_missing_roles:
    description:
      - Before the test restore, create every role the dump names (owners, grantees) that the
        cluster lacks, as a C(NOLOGIN) role, and drop those roles again after the temporary
        database is dropped. For a verification on another host (a spare or staging cluster
        without production's roles); the restore still runs with owners and grants, as a real
        one does.
      - The roles' logins and passwords are not tested this way; the globals in the set are
        restored and tested by a rebuild (M(forexai.dr.server_rebuild)).
    type: bool
    default: false
  record_verdict:
    description:
      - With O(source=s3), write the verdict beside the set in S3 as C(verification.json), with
        the checks, the host, the time and the SHA-256 of the manifest it judged. The modules and
        the program that choose a set (M(forexai.dr.backup_set_fetch), retention) then count the
        set as verified, or not, by it. This is how a set dumped on the primary is verified on
        another host.
      - A failed verification is recorded too (the copy then counts as not verified, whatever
        its manifest says). Nothing is written for a set without a sound manifest, or under
        C(--check) (which reports C(changed=true) instead).
    type: bool
    default: false
  verdict_host:
    description:
      - The name the verdict gives for the host that verified. The host's own name when omitted.
    type: str
  fail_on_error:
    description:
      - Fail the task when any check fails. With V(false) the task succeeds and the caller
        reads RV(verified) and RV(checks).
    type: bool
    default: true
extends_documentation_fragment:
  - forexai.dr.postgres
  - forexai.dr.s3
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Check mode runs every check, the test restore included. The temporary database it
        creates is dropped before the module returns, so nothing lasting changes; a
        verification that skipped its restore under C(--check) would report a set as good
        that was never shown to restore.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
notes:
  - O(db) is the maintenance database used to create and drop the temporary database;
    V(postgres) when omitted. The connection role needs C(CREATEDB) (a superuser is simplest,
    for example C(postgres) over the local socket with C(become_user=postgres)).
  - The restore uses the options M(forexai.dr.restore_full) restores with
    (C(--exit-on-error), owners and grants included), so every role the dump names must exist
    in the cluster, as it must for a real restore.
  - Local set files are group-readable by the database OS user's group, so the module can
    run as C(postgres).
requirements:
  - psycopg2 >= 2.8
  - PostgreSQL client programs (C(pg_restore)) of a version at least the dump's
seealso:
  - name: The backup role
    description: Installs and schedules C(forexai-backup), which writes these sets.
    link: https://git.forexai.internal/platform/forexai-dr/-/blob/main/roles/backup/README.md
'''
EXAMPLES = r'''
- name: Verify the newest local backup set
  forexai.dr.backup_verify:
    backup_dir: /var/backups/forexai
  become: true
  become_user: postgres

- name: Check the shared S3 location
  forexai.dr.s3_location:
    location: "{{ forexai_s3 }}"
  register: s3
  no_log: true

- name: Verify a given set from S3 and keep going when it is bad
  forexai.dr.backup_verify:
    source: s3
    set_id: 20261125T180000Z
    fail_on_error: false
  # bucket, prefix, endpoint_url, ... for every module of the group from one location
  module_defaults:
    group/forexai.dr.s3: "{{ s3.location }}"
  become: true
  become_user: postgres
  register: verify_result

- name: Show what failed
  ansible.builtin.debug:
    var: verify_result.failed_checks
  when: not verify_result.verified
'''

RETURN = r'''
verified:
  description: Whether every check passed.
  returned: always
  type: bool
  sample: true
set_id:
  description: The set verified.
  returned: when a set was found
  type: str
  sample: 20261125T180000Z
location:
  description: Where the set was read, a directory or an C(s3://) URL.
  returned: when a set was found
  type: str
  sample: s3://forexai-backups/db1/20261125T180000Z/
checks:
  description: One entry per check, in the order run.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: >-
        V(manifest), V(file:<relative path>), V(pg_restore_list), V(restore),
        V(row_counts) or V(temp_database_dropped).
      type: str
    ok:
      description: Whether the check passed.
      type: bool
    detail:
      description: What was found.
      type: str
  sample:
    - name: manifest
      ok: true
      detail: manifest of 20261125T180000Z, written 2026-11-25T18:00:41Z by forexai-backup 1.0.0
    - name: file:database.dump
      ok: false
      detail: sha256 5e1c... differs from the manifest (48a2...)
failed_checks:
  description: Names of the checks that failed.
  returned: always
  type: list
  elements: str
  sample: [ file:database.dump, pg_restore_list ]
manifest:
  description: Summary of the manifest.
  returned: when the manifest is sound
  type: dict
  sample:
    started_at: '2026-11-25T18:00:00Z'
    finished_at: '2026-11-25T18:00:41Z'
    host: db1
    server_version: '15.10'
    program_version: 1.0.0
    verified: true
    files: 3
    bytes: 1804311
row_counts:
  description: Per table, the manifest's count and the restored count (only tables that differ
    when some do; every table when all match).
  returned: when the restore ran
  type: dict
  sample: {public.trades: {manifest: 20001, restored: 20001}}
roles_created:
  description: The placeholder roles made for the test restore (O(create_missing_roles)).
  returned: when O(create_missing_roles=true) and the restore ran
  type: list
  elements: str
  sample: [forexai, forexai_readonly]
temp_database:
  description: Name of the temporary database used for the restore.
  returned: when the restore ran
  type: str
  sample: forexai_verify_20261125t190210z_3fa1
temp_database_dropped:
  description: Whether the temporary database was dropped (always true unless dropping failed).
  returned: when the restore ran
  type: bool
  sample: true
verdict_key:
  description: The S3 key of the verdict written (or that would be, under C(--check)).
  returned: when O(record_verdict=true) and the set has a sound manifest
  type: str
  sample: forexai/20261125T180000Z/verification.json
verdict:
  description: The verdict recorded (see O(record_verdict)).
  returned: when O(record_verdict=true) and the set has a sound manifest
  type: dict
  sample: {set_id: 20261125T180000Z, verified: true, host: staging-db1, checked_at: '2026-11-25T20:00:12Z',
           manifest_sha256: 3b1f..., failed_checks: []}
seconds:
  description: Time spent on the download, the restore and in total.
  returned: always
  type: dict
  sample: {download: 0.8, restore: 3.2, total: 4.6}
'''

import datetime
import os
import shutil
import socket
import subprocess
import tempfile
import time
import traceback
import uuid

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.forexai.dr.plugins.module_utils import backup_set
from ansible_collections.forexai.dr.plugins.module_utils import verification
from ansible_collections.forexai.dr.plugins.module_utils.postgres import (
    DATABASE_ERRORS,
    HAS_PSYCOPG2,
    PSYCOPG2_IMPORT_ERROR,
    connect,
    connection_kwargs,
    libpq_env,
    postgres_argument_spec,
    sql,
    tail,
)

from ansible_collections.forexai.dr.plugins.module_utils.s3 import (
    BOTO3_IMPORT_ERROR,
    HAS_BOTO3,
    s3_argument_spec,
    s3_client,
    set_entries,
    write_verdict,
)


class VerifyError(Exception):
    """A failure that stops verification (not a failed check)."""


def argument_spec():
    spec = postgres_argument_spec()
    spec.update(s3_argument_spec())
    spec.update(
        source=dict(type='str', default='local', choices=['local', 's3']),
        set_id=dict(type='str', default='latest'),
        backup_dir=dict(type='path', default='/var/backups/forexai'),
        work_dir=dict(type='path'),
        restore=dict(type='bool', default=True),
        jobs=dict(type='int', default=1),
        pg_bin_dir=dict(type='path'),
        create_missing_roles=dict(type='bool', default=False),
        record_verdict=dict(type='bool', default=False),
        verdict_host=dict(type='str'),
        fail_on_error=dict(type='bool', default=True),
    )
    return spec


MODULE_KWARGS = dict(
    supports_check_mode=True,
    required_if=[('source', 's3', ['bucket'])],
    required_together=[('access_key', 'secret_key')],
)


# --- pure helpers -----------------------------------------------------------------------


def latest_id(entries):
    """Id of the newest usable set among ``backup_set.set_entry()`` candidates, or None."""
    entry = backup_set.newest_usable(entries)
    return entry['id'] if entry else None


def check(name, ok, detail):
    return {'name': name, 'ok': bool(ok), 'detail': detail}


def manifest_summary(manifest):
    return {
        'started_at': manifest['started_at'],
        'finished_at': manifest['finished_at'],
        'host': manifest['host'],
        'database': manifest['database']['name'],
        'server_version': manifest['database']['server_version'],
        'program_version': manifest['program_version'],
        'verified': manifest['verified'],
        'files': len(manifest['files']),
        'bytes': sum(entry['size'] for entry in manifest['files'].values()),
    }


def file_checks(results):
    """Check entries for the per-file results of backup_set.check_set_files()."""
    return [check('file:%s' % rel, res['ok'], res['detail']) for rel, res in sorted(results.items())]


def summarise(checks):
    failed = [c['name'] for c in checks if not c['ok']]
    return not failed, failed


def pg_restore_path(pg_bin_dir, server_version_num, exists=os.path.isfile):
    """pg_restore to use: the given directory, the manifest's major version's, or PATH's."""
    if pg_bin_dir:
        return os.path.join(pg_bin_dir, 'pg_restore')
    if isinstance(server_version_num, int) and server_version_num >= 100000:
        candidate = '/usr/lib/postgresql/%d/bin/pg_restore' % (server_version_num // 10000)
        if exists(candidate):
            return candidate
    return 'pg_restore'


# --- locating and fetching the set --------------------------------------------------------

def local_latest(backup_dir):
    if not os.path.isdir(backup_dir):
        raise VerifyError('cannot list %s: not a directory' % backup_dir)
    try:
        return latest_id(backup_set.local_set_entries(backup_dir))
    except OSError as exc:
        raise VerifyError('cannot list %s: %s' % (backup_dir, to_native(exc)))


def s3_latest(client, bucket, prefix):
    return latest_id(set_entries(client, bucket, prefix))


def s3_download_set(client, bucket, prefix, set_id, dest):
    """Fetch the manifest, then every file it lists. Returns per-file download problems."""
    problems = {}
    manifest_key = backup_set.s3_key(prefix, set_id, backup_set.MANIFEST_NAME)
    try:
        client.download_file(bucket, manifest_key, os.path.join(dest, backup_set.MANIFEST_NAME))
    except Exception as exc:  # botocore raises ClientError or its own kinds
        return {backup_set.MANIFEST_NAME: 'not downloaded: %s' % to_native(exc)}
    manifest, issues = backup_set.load_manifest(os.path.join(dest, backup_set.MANIFEST_NAME))
    if manifest is None:
        return {backup_set.MANIFEST_NAME: '; '.join(issues)}
    for rel in sorted(manifest['files']):
        target = os.path.join(dest, *rel.split('/'))
        parent = os.path.dirname(target)
        if not os.path.isdir(parent):
            os.makedirs(parent)
        try:
            client.download_file(bucket, backup_set.s3_key(prefix, set_id, rel), target)
        except Exception as exc:
            problems[rel] = 'not downloaded: %s' % to_native(exc)
    return problems


# --- the database part ----------------------------------------------------------------------

class ModuleOps:
    """The database access of the test restore (module_utils/verification.py), over the
    module's own connection options: ``admin`` is a connection to the maintenance database."""

    def __init__(self, params, admin):
        self.params = params
        self.admin = admin

    def create(self, name):
        self.admin.cursor().execute(sql.SQL(verification.CREATE_DATABASE_SQL).format(
            sql.Identifier(name)))

    def drop(self, name):
        cur = self.admin.cursor()
        cur.execute(verification.SERVER_VERSION_NUM_SQL)
        statement = verification.drop_database_sql(cur.fetchone()[0])
        cur.execute(sql.SQL(statement).format(sql.Identifier(name)))

    def restore(self, argv):
        proc = subprocess.run(argv, env=libpq_env(connection_kwargs(self.params)),
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False)
        return proc.returncode, proc.stderr

    def count(self, name):
        conn = connect(dict(self.params, db=name))
        conn.autocommit = True
        try:
            cur = conn.cursor()
            cur.execute('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
            restored = backup_set.count_rows(cur, sql)
            cur.execute('COMMIT')
        finally:
            conn.close()
        return restored


def restore_checks(result, extra, expected):
    """The checks and result fields of one test restore (verification.restore_and_compare)."""
    name = result['temp_database']
    checks = []
    out = {'temp_database': name, 'restore_seconds': extra['restore_seconds'],
           'temp_database_dropped': result['temp_database_dropped']}
    if result['restore'] == 'failed':
        checks.append(check('restore', False, extra['restore_detail']))
    else:
        checks.append(check('restore', True, 'restored into %s in %.1fs'
                            % (name, extra['restore_seconds'])))
        checks.append(check('row_counts', extra['counts_ok'], extra['counts_detail']))
        differences = result['row_count_differences']
        if differences:
            out['row_counts'] = differences
        else:
            out['row_counts'] = dict((t, {'manifest': n, 'restored': extra['restored'][t]})
                                     for t, n in expected.items())
    if extra['drop_error'] is None:
        checks.append(check('temp_database_dropped', True, 'dropped %s' % name))
    else:
        checks.append(check('temp_database_dropped', False, 'could not drop %s: %s'
                            % (name, extra['drop_error'])))
    return checks, out


def restore_and_count(params, dump_path, manifest, stamp, checks):
    """Restore into a temporary database, compare counts, always drop it. Appends checks."""
    name = backup_set.temp_database_name(manifest['database']['name'], stamp)
    pg_restore = pg_restore_path(params['pg_bin_dir'],
                                 manifest['database'].get('server_version_num'))
    admin = connect(dict(params, db=params['db'] or 'postgres'))
    admin.autocommit = True
    created = []
    drop_problem = None
    try:
        if params['create_missing_roles']:
            created = create_missing_roles(params, admin, pg_restore, dump_path, checks)
        result, extra = verification.restore_and_compare(
            ModuleOps(params, admin), name, dump_path, manifest['database']['row_counts'],
            pg_restore, jobs=params['jobs'], clock=time.time)
    finally:
        for role in reversed(created):
            try:
                admin.cursor().execute(sql.SQL('DROP ROLE IF EXISTS {}').format(sql.Identifier(role)))
            except DATABASE_ERRORS as exc:
                drop_problem = 'could not drop placeholder role %s: %s' % (role, ' '.join(to_native(exc).split()))
        admin.close()
    new_checks, out = restore_checks(result, extra, manifest['database']['row_counts'])
    checks.extend(new_checks)
    if params['create_missing_roles']:
        out['roles_created'] = created
        checks.append(check('placeholder_roles_dropped', drop_problem is None,
                            drop_problem or 'dropped %d placeholder role(s)' % len(created)))
    return out


def create_missing_roles(params, admin, pg_restore, dump_path, checks):
    """Create, NOLOGIN, the roles the dump's SQL names and the cluster lacks; returns them."""
    proc = subprocess.run([pg_restore, '--schema-only', '--file=-', dump_path], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        raise VerifyError('pg_restore --schema-only failed (exit %d): %s'
                          % (proc.returncode, tail(proc.stderr)))
    needed = verification.roles_in_sql(to_native(proc.stdout))
    cur = admin.cursor()
    cur.execute('SELECT rolname FROM pg_catalog.pg_roles')
    existing = set(row[0] for row in cur.fetchall())
    created = []
    for role in needed:
        if role not in existing:
            cur.execute(sql.SQL('CREATE ROLE {} NOLOGIN').format(sql.Identifier(role)))
            created.append(role)
    checks.append(check('roles', True, 'the dump names %d role(s); %s' % (
        len(needed), ('made placeholders (NOLOGIN) for ' + ', '.join(created)) if created
        else 'the cluster has them all')))
    return created


# --- the whole verification ---------------------------------------------------------------------

def verify(params, stamp, check_mode=False):
    started = time.time()
    seconds = {}
    checks = []
    result = {'changed': False}
    workdir = None
    client = None
    manifest_digest = None
    try:
        if params['source'] == 's3':
            client = s3_client(params)
            set_id = params['set_id']
            if set_id == 'latest':
                set_id = s3_latest(client, params['bucket'], params['prefix'])
                if set_id is None:
                    raise VerifyError('no complete set (with a manifest) under s3://%s/%s'
                                      % (params['bucket'], params['prefix']))
            result['set_id'] = set_id
            result['location'] = 's3://%s/%s' % (
                params['bucket'], backup_set.s3_set_prefix(params['prefix'], set_id))
            workdir = tempfile.mkdtemp(prefix='forexai-verify-', dir=params['work_dir'])
            set_dir = workdir
            t0 = time.time()
            download_problems = s3_download_set(client, params['bucket'], params['prefix'],
                                                set_id, set_dir)
            seconds['download'] = round(time.time() - t0, 3)
        else:
            set_id = params['set_id']
            if set_id == 'latest':
                set_id = local_latest(params['backup_dir'])
                if set_id is None:
                    raise VerifyError('no complete set (with a manifest) in %s'
                                      % params['backup_dir'])
            set_dir = os.path.join(params['backup_dir'], set_id)
            if not os.path.isdir(set_dir):
                raise VerifyError('set directory %s does not exist' % set_dir)
            result['set_id'] = set_id
            result['location'] = set_dir
            download_problems = {}

        if backup_set.parse_set_id(set_id) is None:
            raise VerifyError('%r is not a set id (like 20261125T180000Z)' % set_id)

        manifest, problems = backup_set.load_manifest(
            os.path.join(set_dir, backup_set.MANIFEST_NAME))
        if manifest is not None and manifest['set_id'] != set_id:
            problems = ['manifest is for set %s, not %s' % (manifest['set_id'], set_id)]
            manifest = None
        if manifest is not None:
            manifest_digest = backup_set.sha256_file(
                os.path.join(set_dir, backup_set.MANIFEST_NAME))[0]
        if manifest is None:
            if backup_set.MANIFEST_NAME in download_problems:
                detail = download_problems[backup_set.MANIFEST_NAME]
            else:
                detail = '; '.join(problems)
            failed_note = os.path.join(set_dir, backup_set.FAILED_NAME)
            if os.path.isfile(failed_note):
                detail += ' (the run left %s)' % backup_set.FAILED_NAME
            checks.append(check('manifest', False, detail))
        else:
            result['manifest'] = manifest_summary(manifest)
            checks.append(check('manifest', True, 'manifest of %s, written %s by %s %s'
                                % (set_id, manifest['finished_at'],
                                   manifest.get('program', 'forexai-backup'),
                                   manifest['program_version'])))
            file_results = backup_set.check_set_files(set_dir, manifest)
            for rel, problem in download_problems.items():
                if rel in file_results:
                    file_results[rel] = {'ok': False, 'detail': problem}
            checks.extend(file_checks(file_results))

            dump_path = os.path.join(set_dir, *manifest['database']['dump_path'].split('/'))
            pg_restore = pg_restore_path(params['pg_bin_dir'],
                                         manifest['database'].get('server_version_num'))
            listing = subprocess.run([pg_restore, '--list', dump_path], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
            if listing.returncode == 0:
                entries = verification.toc_entries(to_native(listing.stdout))
                checks.append(check('pg_restore_list', True, '%d TOC entries' % len(entries)))
            else:
                checks.append(check('pg_restore_list', False, 'pg_restore --list failed (exit %d): %s'
                                    % (listing.returncode, tail(listing.stderr))))
            if params['restore']:
                t0 = time.time()
                result.update(restore_and_count(params, dump_path, manifest, stamp, checks))
                seconds['restore'] = round(time.time() - t0, 3)
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    seconds['total'] = round(time.time() - started, 3)
    result['seconds'] = seconds
    result['checks'] = checks
    result['verified'], result['failed_checks'] = summarise(checks)
    if params['record_verdict'] and params['source'] == 's3' and manifest_digest:
        verdict = backup_set.verdict_document(
            set_id, manifest_digest, result['verified'], params['verdict_host'] or socket.getfqdn(),
            checks, seconds, datetime.datetime.now(datetime.timezone.utc))
        result['verdict'] = verdict
        result['verdict_key'] = backup_set.s3_key(params['prefix'], set_id, backup_set.VERDICT_NAME)
        if not check_mode:
            write_verdict(client, params['bucket'], params['prefix'], verdict)
        result['changed'] = True
    return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), **MODULE_KWARGS)
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib('psycopg2'), exception=PSYCOPG2_IMPORT_ERROR)
    if module.params['source'] == 's3' and not HAS_BOTO3:
        module.fail_json(msg=missing_required_lib('boto3'), exception=BOTO3_IMPORT_ERROR)
    if module.params['jobs'] < 1:
        module.fail_json(msg='Failed to verify backup set: jobs must be at least 1')

    stamp = '%s_%s' % (time.strftime('%Y%m%dt%H%M%Sz', time.gmtime()), uuid.uuid4().hex[:4])
    try:
        result = verify(module.params, stamp, module.check_mode)
    except VerifyError as exc:
        module.fail_json(msg='Failed to verify backup set: %s' % exc, verified=False, checks=[],
                         failed_checks=[], changed=False)
    except DATABASE_ERRORS as exc:
        module.fail_json(msg='Failed to verify backup set: database error: %s'
                         % ' '.join(to_native(exc).split()), verified=False, changed=False)
    except Exception as exc:  # boto3, OS errors: one place reports them
        module.fail_json(msg='Failed to verify backup set: %s' % to_native(exc), verified=False,
                         changed=False, exception=traceback.format_exc())

    if not result['verified'] and module.params['fail_on_error']:
        module.fail_json(msg='Failed to verify backup set %s: %s' % (
            result.get('set_id'), '; '.join('%s: %s' % (c['name'], c['detail'])
                                            for c in result['checks'] if not c['ok'])), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
