# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One backup run: the set directory ``<backup_dir>/<set id>/``, its archives, checksums and
the manifest written last (the manifest format is backup_set.MANIFEST_FORMAT)."""

import contextlib
import errno
import fnmatch
import json
import os
import shutil
import subprocess
import tarfile
import time

import backup_set
import verification

from forexai_backup import database
from forexai_backup.common import (
    EXIT_ARCHIVE,
    EXIT_STORAGE,
    EXIT_VERIFY,
    LOG,
    MIB,
    PROGRAM,
    VERSION,
    BackupError,
    host_name,
    iso,
    utc_now,
)


class Run:
    """One backup run: builds `<backup_dir>/<set id>/` and its manifest."""

    def __init__(self, cfg, args):
        self.cfg = cfg
        self.args = args
        self.started = utc_now().replace(microsecond=0)
        self.set_id = backup_set.format_set_id(self.started)
        self.set_dir = os.path.join(cfg['backup_dir'], self.set_id)
        self.identity = database.db_os_identity(cfg)
        database.require_psycopg2()
        self.files = {}
        self.db_info = {}
        self.archives = {}
        self.verification = {'performed': False}
        self.warnings = []
        self.created_set_dir = False

    # --- layout -----------------------------------------------------------------------
    def prepare(self):
        backup_dir = self.cfg['backup_dir']
        group = self.identity[1] if self.identity else -1
        try:
            if not os.path.isdir(backup_dir):
                os.makedirs(backup_dir, 0o750)
            if self.identity is not None:
                os.chown(backup_dir, 0, group)
                os.chmod(backup_dir, 0o750)
            free = shutil.disk_usage(backup_dir).free
            if free < self.cfg['min_free_mb'] * MIB:
                raise BackupError(EXIT_STORAGE, 'only %d MiB free in %s (min_free_mb is %d)'
                                  % (free // MIB, backup_dir, self.cfg['min_free_mb']))
            for _attempt in range(5):
                try:
                    os.mkdir(self.set_dir, 0o750)
                    break
                except FileExistsError:
                    # A run in the same second left this set id: take the next second.
                    time.sleep(1)
                    self.started = utc_now().replace(microsecond=0)
                    self.set_id = backup_set.format_set_id(self.started)
                    self.set_dir = os.path.join(backup_dir, self.set_id)
            else:
                raise FileExistsError(self.set_dir)
            self.created_set_dir = True
            if self.identity is not None:
                os.chown(self.set_dir, 0, group)
            # setgid: files made here belong to the database group, so pg_restore can read them
            os.chmod(self.set_dir, 0o2750)
        except FileExistsError:
            raise BackupError(EXIT_STORAGE, 'backup set directory %s already exists' % self.set_dir)
        except PermissionError as exc:
            raise BackupError(EXIT_STORAGE, 'cannot prepare %s: %s' % (backup_dir, exc))
        LOG.info('backup set %s in %s', self.set_id, self.set_dir)

    def path(self, relpath):
        return os.path.join(self.set_dir, *relpath.split('/'))

    # --- database ---------------------------------------------------------------------
    def dump_database(self):
        rel = 'database.dump' if self.cfg['database']['format'] == 'custom' else 'database.dir'
        self.db_info = database.dump_database(self.cfg, self.identity, self.path(rel), rel)

    def check_dump(self):
        rel = self.db_info['dump_path']
        self.db_info.update(database.check_dump(self.cfg, self.identity, self.path(rel), rel))

    def dump_globals(self):
        """The cluster's globals, encrypted; a warning instead when there is no recipient."""
        if not self.cfg['globals']['enabled']:
            return
        recipients = self.cfg['config_files']['age_recipients']
        if not recipients:
            message = ('globals (roles and password hashes) not in this set: '
                       'config_files.age_recipients is empty and they are never stored unencrypted')
            self.warnings.append(message)
            LOG.warning('%s', message)
            return
        rel = 'globals.sql.age'
        info = database.dump_globals(self.cfg, self.identity, self.path(rel),
                                     self.cfg['config_files']['age_binary'], recipients)
        self.archives['globals'] = dict(info, file=rel, encryption='age', recipients=recipients,
                                        content='pg_dumpall --globals-only')
        LOG.info('globals encrypted into %s for %d recipient(s)', rel, len(recipients))

    # --- files and configuration --------------------------------------------------------
    def _existing(self, section):
        present, missing = [], []
        for item in self.cfg[section]['paths']:
            (present if os.path.lexists(item) else missing).append(item)
        for item in missing:
            self.warnings.append('%s path %s does not exist; skipped' % (section, item))
            LOG.warning('%s path %s does not exist; skipped', section, item)
        return present, missing

    def _tar_filter(self, excludes):
        def keep(info):
            name = '/' + info.name
            for pattern in excludes:
                if fnmatch.fnmatch(name, pattern) or fnmatch.fnmatch(os.path.basename(name),
                                                                     pattern):
                    return None
            return info
        return keep

    def archive_files(self):
        section = self.cfg['files']
        if not section['paths']:
            return
        present, missing = self._existing('files')
        suffix, mode = ('gz', 'w:gz') if section['compression'] == 'gzip' else ('xz', 'w:xz')
        rel = 'files.tar.%s' % suffix
        try:
            with tarfile.open(self.path(rel), mode) as tar:
                for item in present:
                    tar.add(item, arcname=item.lstrip('/'),
                            filter=self._tar_filter(section['exclude']))
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise
            raise BackupError(EXIT_ARCHIVE, 'cannot archive files: %s' % exc)
        except tarfile.TarError as exc:
            raise BackupError(EXIT_ARCHIVE, 'cannot archive files: %s' % exc)
        self.archives['files'] = {'file': rel, 'paths': present, 'missing': missing,
                                  'exclude': section['exclude'],
                                  'compression': section['compression']}
        LOG.info('archived %d file path(s) into %s', len(present), rel)

    def encrypt_config(self):
        section = self.cfg['config_files']
        if not section['paths']:
            return
        present, missing = self._existing('config_files')
        rel = 'config.tar.age'
        argv = [section['age_binary']]
        for recipient in section['age_recipients']:
            argv += ['--recipient', recipient]
        argv += ['--output', self.path(rel)]
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
        except OSError as exc:
            raise BackupError(EXIT_ARCHIVE, 'cannot run %s: %s' % (section['age_binary'], exc))
        try:
            with tarfile.open(fileobj=proc.stdin, mode='w|') as tar:
                for item in present:
                    tar.add(item, arcname=item.lstrip('/'))
            proc.stdin.close()
        except (OSError, tarfile.TarError) as exc:
            proc.kill()
            proc.wait()
            raise BackupError(EXIT_ARCHIVE, 'cannot encrypt configuration: %s' % exc)
        stderr = proc.stderr.read()
        if proc.wait() != 0:
            raise BackupError(EXIT_ARCHIVE, 'age failed (exit %d): %s'
                              % (proc.returncode, verification.output_tail(stderr)))
        self.archives['config'] = {'file': rel, 'paths': present, 'missing': missing,
                                   'encryption': 'age', 'recipients': section['age_recipients']}
        LOG.info('encrypted %d configuration path(s) into %s for %d recipient(s)',
                 len(present), rel, len(section['age_recipients']))

    # --- checksums, verification, manifest ------------------------------------------------
    def hash_files(self):
        for rel in backup_set.list_files(self.set_dir):
            if rel in (backup_set.MANIFEST_NAME, backup_set.FAILED_NAME):
                continue
            digest, size = backup_set.sha256_file(self.path(rel))
            self.files[rel] = {'sha256': digest, 'size': size}
        LOG.info('%d file(s), %d bytes in the set', len(self.files),
                 sum(f['size'] for f in self.files.values()))

    def verify_restore(self):
        started = time.monotonic()
        result = database.verify_dump_by_restore(
            self.cfg, self.identity, self.path(self.db_info['dump_path']),
            self.db_info['row_counts'], self.set_id)
        result['seconds'] = round(time.monotonic() - started, 3)
        self.verification = result
        if not result['ok']:
            raise BackupError(EXIT_VERIFY, 'verification of set %s failed: %s'
                              % (self.set_id, result['detail']))
        LOG.info('verified: restored into %s in %.1fs, %s', result['temp_database'],
                 result['seconds'], result['detail'])

    def manifest(self):
        finished = utc_now()
        return {
            'format_version': backup_set.MANIFEST_FORMAT,
            'program': PROGRAM,
            'program_version': VERSION,
            'set_id': self.set_id,
            'host': host_name(),
            'started_at': iso(self.started),
            'finished_at': iso(finished),
            'duration_seconds': round((finished - self.started).total_seconds(), 3),
            'database': self.db_info,
            'archives': self.archives,
            'files': self.files,
            'verified': bool(self.verification.get('ok')),
            'verification': self.verification,
            'warnings': self.warnings,
        }

    def write_manifest(self, manifest):
        data = json.dumps(manifest, indent=2, sort_keys=True).encode('utf-8') + b'\n'
        final = self.path(backup_set.MANIFEST_NAME)
        tmp = final + '.tmp'
        with open(tmp, 'wb') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(tmp, final)
        dir_fd = os.open(self.set_dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        LOG.info('manifest written: %s', final)
        return final

    def mark_failed(self, code, message):
        if not self.created_set_dir or not os.path.isdir(self.set_dir):
            return
        try:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path(backup_set.MANIFEST_NAME))
            if code == EXIT_STORAGE:
                # Free the space the partial set took; keep only the failure note.
                for name in os.listdir(self.set_dir):
                    full = os.path.join(self.set_dir, name)
                    if os.path.isdir(full) and not os.path.islink(full):
                        shutil.rmtree(full, ignore_errors=True)
                    else:
                        with contextlib.suppress(OSError):
                            os.unlink(full)
            note = {'set_id': self.set_id, 'exit_code': code, 'error': message,
                    'failed_at': iso(utc_now()), 'program_version': VERSION}
            with open(self.path(backup_set.FAILED_NAME), 'w', encoding='utf-8') as handle:
                json.dump(note, handle, indent=2, sort_keys=True)
        except OSError as exc:
            LOG.warning('could not record the failure in %s: %s', self.set_dir, exc)
