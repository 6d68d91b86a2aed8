# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""forexai-backup: verified, off-site backups of the Forex AI database, files and configuration.

Deployed by the forexai.dr.backup role to /usr/local/lib/forexai-backup/ and run through the
/usr/local/sbin/forexai-backup wrapper, on the database host, as root. Needs python3,
python3-psycopg2 and (for --upload and S3 pruning) python3-boto3, plus the PostgreSQL client
programs and `age`. The retention decision and the manifest checks live in retention.py and
backup_set.py, which the role deploys next to this file from the collection's
plugins/module_utils (FOREXAI_BACKUP_LIB overrides where to find them).
"""

import argparse
import contextlib
import datetime
import errno
import fcntl
import fnmatch
import json
import logging
import multiprocessing
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time

PROGRAM = 'forexai-backup'
VERSION = '1.0.0'
DEFAULT_CONFIG = '/etc/forexai/backup.conf'

sys.path.insert(0, os.environ.get('FOREXAI_BACKUP_LIB', os.path.dirname(os.path.abspath(__file__))))
try:
    import backup_set  # noqa: E402  (deployed next to this program)
    import retention  # noqa: E402
except ImportError as _exc:  # pragma: no cover - deployment error
    sys.stderr.write('%s: cannot import its library (%s); set FOREXAI_BACKUP_LIB or '
                     'reinstall with the forexai.dr.backup role\n' % (PROGRAM, _exc))
    sys.exit(2)

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_DATABASE = 4
EXIT_DUMP_INVALID = 5
EXIT_VERIFY = 6
EXIT_ARCHIVE = 7
EXIT_UPLOAD = 8
EXIT_STORAGE = 9
EXIT_PRUNE = 10
EXIT_INTERRUPTED = 11

EXIT_CODES = (
    (EXIT_OK, 'success: the set is complete (and verified / uploaded when asked)'),
    (EXIT_INTERNAL, 'unexpected internal error (a bug: see the log)'),
    (EXIT_USAGE, 'bad command line, configuration or missing dependency'),
    (EXIT_LOCKED, 'another forexai-backup run holds the lock; nothing done'),
    (EXIT_DATABASE, 'database unreachable, missing, or pg_dump failed'),
    (EXIT_DUMP_INVALID, 'pg_dump exited 0 but the dump is too small, truncated or unreadable'),
    (EXIT_VERIFY, 'the test restore failed or its row counts differ from the manifest'),
    (EXIT_ARCHIVE, 'archiving the files or encrypting the configuration failed'),
    (EXIT_UPLOAD, 'S3 unreachable, upload failed or uploaded copy differs (local set kept)'),
    (EXIT_STORAGE, 'local storage: not enough free space, disk full, or permissions'),
    (EXIT_PRUNE, 'the set is complete but pruning old sets failed'),
    (EXIT_INTERRUPTED, 'interrupted by a signal; the set is incomplete'),
)

MIB = 1024 * 1024

DEFAULTS = {
    'backup_dir': '/var/backups/forexai',
    'lock_file': '/run/lock/forexai-backup.lock',
    'metrics_dir': '',
    'failure_hook': '',
    'failure_hook_timeout': 60,
    'min_free_mb': 256,
    'database': {
        'name': 'forexai',
        'host': '',
        'port': 5432,
        'user': 'postgres',
        'os_user': 'postgres',
        'passfile': '',
        'bin_dir': '/usr/lib/postgresql/15/bin',
        'format': 'custom',
        'jobs': 1,
        'compress_level': 6,
        'min_dump_bytes': 1024,
        'connect_timeout': 10,
    },
    'files': {
        'paths': [],
        'exclude': [],
        'compression': 'gzip',
    },
    'config_files': {
        'paths': [],
        'age_recipients': [],
        'age_binary': 'age',
    },
    's3': {
        'bucket': '',
        'prefix': 'forexai',
        'endpoint_url': '',
        'region': 'us-east-1',
        'ca_bundle': '',
        'addressing_style': 'auto',
        'credentials_file': '',
        'sse': '',
        'sse_kms_key_id': '',
        'checksum_algorithm': 'SHA256',
        'verify_upload': 'checksum',
        'multipart_threshold_mb': 64,
        'multipart_chunksize_mb': 16,
        'max_concurrency': 4,
        'attempts': 5,
        'backoff_seconds': 2.0,
        'connect_timeout': 10,
        'read_timeout': 60,
    },
    'retention': {
        'local_days': 30,
        's3_days': 90,
        'monthly_keep_months': 12,
        'monthly_locations': ['local', 's3'],
    },
}

CHOICES = {
    ('database', 'format'): ('custom', 'directory'),
    ('files', 'compression'): ('gzip', 'xz'),
    ('s3', 'addressing_style'): ('auto', 'path', 'virtual'),
    ('s3', 'sse'): ('', 'AES256', 'aws:kms'),
    ('s3', 'checksum_algorithm'): ('', 'SHA256'),
    ('s3', 'verify_upload'): ('checksum', 'download'),
}

LOG = logging.getLogger(PROGRAM)


class BackupError(Exception):
    """A failure with the exit code it maps to."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class Interrupted(BaseException):
    pass


# --------------------------------------------------------------------------- configuration

def _merge(defaults, given, path=''):
    merged = {}
    for key, default in defaults.items():
        if key not in given:
            merged[key] = json.loads(json.dumps(default))
            continue
        value = given[key]
        where = path + key
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise BackupError(EXIT_USAGE, 'config %s must be an object' % where)
            merged[key] = _merge(default, value, where + '.')
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise BackupError(EXIT_USAGE, 'config %s must be true or false' % where)
            merged[key] = value
        elif isinstance(default, int) and not isinstance(default, bool):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise BackupError(EXIT_USAGE, 'config %s must be a non-negative integer' % where)
            merged[key] = value
        elif isinstance(default, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise BackupError(EXIT_USAGE, 'config %s must be a non-negative number' % where)
            merged[key] = float(value)
        elif isinstance(default, list):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise BackupError(EXIT_USAGE, 'config %s must be a list of strings' % where)
            merged[key] = list(value)
        else:
            if value is None:
                value = ''
            if not isinstance(value, str):
                raise BackupError(EXIT_USAGE, 'config %s must be a string' % where)
            merged[key] = value
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise BackupError(EXIT_USAGE, 'config has unknown key(s): %s'
                          % ', '.join(path + k for k in unknown))
    return merged


def load_config(path):
    """Read the JSON configuration and fill in defaults. Raises BackupError(EXIT_USAGE)."""
    try:
        with open(path, 'r', encoding='utf-8') as handle:
            given = json.load(handle)
    except FileNotFoundError:
        raise BackupError(EXIT_USAGE, 'configuration file %s does not exist' % path)
    except (OSError, ValueError) as exc:
        raise BackupError(EXIT_USAGE, 'cannot read configuration %s: %s' % (path, exc))
    if not isinstance(given, dict):
        raise BackupError(EXIT_USAGE, 'configuration %s must be a JSON object' % path)
    cfg = _merge(DEFAULTS, given)
    for (section, key), allowed in CHOICES.items():
        if cfg[section][key] not in allowed:
            raise BackupError(EXIT_USAGE, 'config %s.%s must be one of %s, got %r'
                              % (section, key, ', '.join(repr(a) for a in allowed),
                                 cfg[section][key]))
    if not cfg['database']['name']:
        raise BackupError(EXIT_USAGE, 'config database.name is empty')
    if cfg['database']['jobs'] < 1:
        raise BackupError(EXIT_USAGE, 'config database.jobs must be at least 1')
    if cfg['database']['jobs'] > 1 and cfg['database']['format'] != 'directory':
        raise BackupError(EXIT_USAGE, 'config database.jobs > 1 needs database.format directory')
    for recipient in cfg['config_files']['age_recipients']:
        if recipient.strip().upper().startswith('AGE-SECRET-KEY'):
            raise BackupError(EXIT_USAGE, 'config_files.age_recipients holds an age SECRET key; '
                              'only public recipients (age1...) belong on this host')
        if not (recipient.startswith('age1') or recipient.startswith('ssh-')):
            raise BackupError(EXIT_USAGE, 'config_files.age_recipients entry %r is not an age '
                              'public recipient (age1...) or SSH public key' % recipient)
    if cfg['config_files']['paths'] and not cfg['config_files']['age_recipients']:
        raise BackupError(EXIT_USAGE, 'config_files.paths is set but age_recipients is empty: '
                          'configuration is never stored unencrypted')
    for section in ('files', 'config_files'):
        for item in cfg[section]['paths']:
            if not os.path.isabs(item):
                raise BackupError(EXIT_USAGE, 'config %s.paths entry %r is not absolute'
                                  % (section, item))
    if not os.path.isabs(cfg['backup_dir']):
        raise BackupError(EXIT_USAGE, 'config backup_dir must be an absolute path')
    try:
        cfg['policy'] = retention.RetentionPolicy(
            local_days=cfg['retention']['local_days'], s3_days=cfg['retention']['s3_days'],
            monthly_keep_months=cfg['retention']['monthly_keep_months'],
            monthly_locations=tuple(cfg['retention']['monthly_locations']))
    except ValueError as exc:
        raise BackupError(EXIT_USAGE, 'config retention: %s' % exc)
    return cfg


# --------------------------------------------------------------------------- helpers

def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def host_name():
    name = socket.getfqdn()
    if name.startswith('localhost'):
        name = socket.gethostname()
    return name


def iso(moment):
    return moment.astimezone(datetime.timezone.utc).isoformat().replace('+00:00', 'Z')


def db_os_identity(cfg):
    """(uid, gid, home) to run database work as, or None to stay who we are."""
    name = cfg['database']['os_user']
    if not name or os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise BackupError(EXIT_USAGE, 'database.os_user %r does not exist on this host' % name)
    if entry.pw_uid == 0:
        return None
    return entry.pw_uid, entry.pw_gid, entry.pw_dir


def drop_privileges(identity):
    if identity is None:
        return
    uid, gid, home = identity
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    os.environ['HOME'] = home


def pg_env(cfg, identity):
    env = dict(os.environ)
    db = cfg['database']
    for var in ('PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE', 'PGPASSWORD', 'PGSERVICE'):
        env.pop(var, None)
    if db['host']:
        env['PGHOST'] = db['host']
    env['PGPORT'] = str(db['port'])
    if db['user']:
        env['PGUSER'] = db['user']
    if db['passfile']:
        env['PGPASSFILE'] = db['passfile']
    env['PGAPPNAME'] = PROGRAM
    env['PGCONNECT_TIMEOUT'] = str(db['connect_timeout'])
    if identity is not None:
        env['HOME'] = identity[2]
    return env


def conn_kwargs(cfg, dbname=None):
    db = cfg['database']
    kwargs = {
        'dbname': dbname or db['name'],
        'port': db['port'],
        'application_name': PROGRAM,
        'connect_timeout': db['connect_timeout'],
    }
    if db['host']:
        kwargs['host'] = db['host']
    if db['user']:
        kwargs['user'] = db['user']
    if db['passfile']:
        kwargs['passfile'] = db['passfile']
    return kwargs


def pg_bin(cfg, name):
    path = os.path.join(cfg['database']['bin_dir'], name)
    if not os.access(path, os.X_OK):
        raise BackupError(EXIT_USAGE, '%s not found or not executable (database.bin_dir is %s)'
                          % (path, cfg['database']['bin_dir']))
    return path


def run_pg(cfg, identity, argv, **kwargs):
    """Run a PostgreSQL client program as the database OS user."""
    if identity is not None:
        kwargs.setdefault('user', identity[0])
        kwargs.setdefault('group', identity[1])
        kwargs.setdefault('extra_groups', [])
    kwargs.setdefault('env', pg_env(cfg, identity))
    kwargs.setdefault('stdin', subprocess.DEVNULL)
    LOG.debug('running %s', ' '.join(shlex.quote(a) for a in argv))
    return subprocess.run(argv, check=False, **kwargs)


def tail(text, lines=8):
    if isinstance(text, bytes):
        text = text.decode('utf-8', 'replace')
    return ' | '.join(line for line in text.strip().splitlines()[-lines:])


# --------------------------------------------------------------------------- database work
# psycopg2 runs in a forked child that has dropped to the database OS user: peer
# authentication on the local socket then maps root's run to the `postgres` role.

def _child_main(pipe, parent_end, identity, func, args):
    try:
        # The fork copied the parent's end too: close it, or EOF never reaches us.
        parent_end.close()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        drop_privileges(identity)
        func(pipe, *args)
    except BaseException as exc:  # report everything to the parent
        try:
            pipe.send(('error', '%s: %s' % (type(exc).__name__, str(exc).strip())))
        except Exception:
            pass
    finally:
        pipe.close()


class DbChild:
    """A child process doing psycopg2 work; messages flow over a pipe."""

    def __init__(self, identity, func, *args):
        ctx = multiprocessing.get_context('fork')
        self.pipe, child_end = ctx.Pipe()
        self.proc = ctx.Process(target=_child_main,
                                args=(child_end, self.pipe, identity, func, args), daemon=True)
        self.proc.start()
        child_end.close()

    def receive(self, timeout=None):
        if timeout is not None and not self.pipe.poll(timeout):
            raise BackupError(EXIT_DATABASE, 'database session did not answer in %ss' % timeout)
        try:
            kind, payload = self.pipe.recv()
        except EOFError:
            raise BackupError(EXIT_DATABASE, 'database session ended unexpectedly')
        if kind == 'error':
            raise BackupError(EXIT_DATABASE, payload)
        return payload

    def send(self, message):
        self.pipe.send(message)

    def close(self, timeout=30):
        self.pipe.close()
        self.proc.join(timeout)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)


def require_psycopg2():
    """Import psycopg2 in the parent: the children that drop privileges then need no file."""
    try:
        import psycopg2  # noqa: F401
        import psycopg2.sql  # noqa: F401
        import psycopg2.extensions  # noqa: F401
    except ImportError:
        raise BackupError(EXIT_USAGE, 'python3-psycopg2 is needed (apt install python3-psycopg2)')


def _connect(kwargs):
    import psycopg2
    return psycopg2.connect(**kwargs)


def _count_rows(cur):
    from psycopg2 import sql
    return backup_set.count_rows(cur, sql)


def _snapshot_session(pipe, kwargs):
    """Hold a REPEATABLE READ transaction open: export its snapshot, count rows in it."""
    conn = _connect(kwargs)
    conn.autocommit = True  # transactions below are explicit
    try:
        cur = conn.cursor()
        cur.execute('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
        cur.execute('SELECT pg_catalog.pg_export_snapshot()')
        snapshot = cur.fetchone()[0]
        cur.execute("SELECT current_setting('server_version'), "
                    "current_setting('server_version_num')::int, "
                    "pg_catalog.pg_database_size(current_database())")
        version, version_num, size = cur.fetchone()
        pipe.send(('ok', {'snapshot': snapshot, 'server_version': version,
                          'server_version_num': version_num, 'size_bytes': size}))
        pipe.send(('ok', _count_rows(cur)))
        # Keep the snapshot alive until the parent's pg_dump has finished.
        pipe.recv()
        cur.execute('COMMIT')
        pipe.send(('ok', 'released'))
    finally:
        conn.close()


def _one_shot(pipe, kwargs, action, name):
    from psycopg2 import sql
    conn = _connect(kwargs)
    conn.autocommit = True
    try:
        cur = conn.cursor()
        if action == 'create':
            cur.execute(sql.SQL('CREATE DATABASE {} TEMPLATE template0').format(
                sql.Identifier(name)))
            pipe.send(('ok', True))
        elif action == 'drop':
            cur.execute("SELECT current_setting('server_version_num')::int")
            force = cur.fetchone()[0] >= 130000
            statement = 'DROP DATABASE IF EXISTS {} WITH (FORCE)' if force else \
                'DROP DATABASE IF EXISTS {}'
            cur.execute(sql.SQL(statement).format(sql.Identifier(name)))
            pipe.send(('ok', True))
        elif action == 'count':
            cur.execute('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
            counts = _count_rows(cur)
            cur.execute('COMMIT')
            pipe.send(('ok', counts))
        elif action == 'exists':
            cur.execute('SELECT 1 FROM pg_catalog.pg_database WHERE datname = %s', (name,))
            pipe.send(('ok', cur.fetchone() is not None))
        else:
            raise ValueError('unknown action %s' % action)
    finally:
        conn.close()


def db_call(cfg, identity, action, name, dbname=None):
    child = DbChild(identity, _one_shot, conn_kwargs(cfg, dbname), action, name)
    try:
        return child.receive()
    finally:
        child.close()


# --------------------------------------------------------------------------- the backup set

class Run:
    """One backup run: builds `<backup_dir>/<set id>/` and its manifest."""

    def __init__(self, cfg, args):
        self.cfg = cfg
        self.args = args
        self.started = utc_now().replace(microsecond=0)
        self.set_id = backup_set.format_set_id(self.started)
        self.set_dir = os.path.join(cfg['backup_dir'], self.set_id)
        self.identity = db_os_identity(cfg)
        require_psycopg2()
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
        cfg = self.cfg
        db = cfg['database']
        pg_dump = pg_bin(cfg, 'pg_dump')
        dump_rel = 'database.dump' if db['format'] == 'custom' else 'database.dir'
        dump_path = self.path(dump_rel)
        session = DbChild(self.identity, _snapshot_session, conn_kwargs(cfg))
        proc = None
        try:
            try:
                info = session.receive(timeout=db['connect_timeout'] + 30)
            except BackupError as exc:
                raise BackupError(EXIT_DATABASE, 'cannot open a snapshot on database %s: %s'
                                  % (db['name'], exc.message))
            LOG.info('database %s: PostgreSQL %s, %d bytes, snapshot %s', db['name'],
                     info['server_version'], info['size_bytes'], info['snapshot'])
            argv = [pg_dump, '--no-password', '--snapshot=%s' % info['snapshot'],
                    '--compress=%d' % db['compress_level'], '--dbname=%s' % db['name']]
            started = time.monotonic()
            if db['format'] == 'custom':
                argv.append('--format=custom')
                with open(dump_path, 'wb') as out:
                    proc = subprocess.Popen(
                        argv, stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                        env=pg_env(cfg, self.identity), **self._as_db_user())
                    counts = session.receive()
                    _unused, stderr = proc.communicate()
                    out.flush()
                    os.fsync(out.fileno())
            else:
                os.mkdir(dump_path, 0o750)
                if self.identity is not None:
                    os.chown(dump_path, self.identity[0], self.identity[1])
                argv += ['--format=directory', '--jobs=%d' % db['jobs'], '--file=%s' % dump_path]
                proc = subprocess.Popen(
                    argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                    stdin=subprocess.DEVNULL, env=pg_env(cfg, self.identity),
                    **self._as_db_user())
                counts = session.receive()
                _unused, stderr = proc.communicate()
            session.send('release')
            session.receive(timeout=60)
        except BaseException:
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
            raise
        finally:
            session.close()
        if proc.returncode != 0:
            raise BackupError(EXIT_DATABASE, 'pg_dump failed (exit %d): %s'
                              % (proc.returncode, tail(stderr)))
        if db['format'] == 'directory' and self.identity is not None:
            for dirpath, _dirs, names in os.walk(dump_path):
                os.chown(dirpath, 0, self.identity[1])
                for name in names:
                    os.chown(os.path.join(dirpath, name), 0, self.identity[1])
        seconds = time.monotonic() - started
        self.db_info = {
            'name': db['name'],
            'server_version': info['server_version'],
            'server_version_num': info['server_version_num'],
            'size_bytes': info['size_bytes'],
            'snapshot': info['snapshot'],
            'dump_format': db['format'],
            'dump_path': dump_rel,
            'dump_seconds': round(seconds, 3),
            'pg_dump_version': self._tool_version(pg_dump),
            'row_counts': counts,
        }
        LOG.info('pg_dump finished in %.1fs; %d tables, %d rows counted in the same snapshot',
                 seconds, len(counts), sum(counts.values()))

    def _as_db_user(self):
        if self.identity is None:
            return {}
        return {'user': self.identity[0], 'group': self.identity[1], 'extra_groups': []}

    @staticmethod
    def _tool_version(path):
        try:
            out = subprocess.run([path, '--version'], capture_output=True, text=True,
                                 check=False).stdout
            return out.strip()
        except OSError:
            return ''

    def check_dump(self):
        """pg_dump can exit 0 and leave a useless file: size floor, TOC, full read-back."""
        cfg = self.cfg
        rel = self.db_info['dump_path']
        path = self.path(rel)
        if os.path.isdir(path):
            size = sum(os.path.getsize(os.path.join(path, *f.split('/')))
                       for f in backup_set.list_files(path))
        else:
            size = os.path.getsize(path)
        floor = cfg['database']['min_dump_bytes']
        if size < floor:
            raise BackupError(EXIT_DUMP_INVALID, 'dump %s is %d bytes, below the floor of %d bytes'
                              % (rel, size, floor))
        pg_restore = pg_bin(cfg, 'pg_restore')
        listing = run_pg(cfg, self.identity, [pg_restore, '--list', path],
                         capture_output=True)
        if listing.returncode != 0:
            raise BackupError(EXIT_DUMP_INVALID, 'pg_restore --list rejects dump %s: %s'
                              % (rel, tail(listing.stderr)))
        entries = [line for line in listing.stdout.decode('utf-8', 'replace').splitlines()
                   if line and not line.startswith(';')]
        readback = run_pg(cfg, self.identity, [pg_restore, '--file=/dev/null', path],
                          capture_output=True)
        if readback.returncode != 0:
            raise BackupError(EXIT_DUMP_INVALID, 'dump %s cannot be read to the end '
                              '(truncated or corrupt): %s' % (rel, tail(readback.stderr)))
        self.db_info['toc_entries'] = len(entries)
        self.db_info['dump_bytes'] = size
        LOG.info('dump %s: %d bytes, %d TOC entries, read back completely', rel, size, len(entries))

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
                              % (proc.returncode, tail(stderr)))
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
        result = verify_dump_by_restore(self.cfg, self.identity, self.path(
            self.db_info['dump_path']), self.db_info['row_counts'], self.set_id)
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


def verify_dump_by_restore(cfg, identity, dump_path, expected_counts, stamp):
    """Restore a dump into a temporary database and compare row counts; always drop it."""
    name = backup_set.temp_database_name(cfg['database']['name'], stamp)
    pg_restore = pg_bin(cfg, 'pg_restore')
    result = {'performed': True, 'ok': False, 'temp_database': name, 'temp_database_dropped': False}
    created = False
    try:
        if db_call(cfg, identity, 'exists', name, 'postgres'):
            # Left over from a killed run: it is ours by name, drop it first.
            db_call(cfg, identity, 'drop', name, 'postgres')
        db_call(cfg, identity, 'create', name, 'postgres')
        created = True
        argv = [pg_restore, '--no-password', '--dbname=%s' % name, '--no-owner', '--no-acl',
                '--exit-on-error']
        if cfg['database']['jobs'] > 1:
            argv.append('--jobs=%d' % cfg['database']['jobs'])
        argv.append(dump_path)
        restore = run_pg(cfg, identity, argv, capture_output=True)
        if restore.returncode != 0:
            result['detail'] = 'pg_restore into %s failed (exit %d): %s' % (
                name, restore.returncode, tail(restore.stderr))
            result['restore'] = 'failed'
            return result
        result['restore'] = 'ok'
        restored = db_call(cfg, identity, 'count', None, name)
        ok, detail, differences = backup_set.compare_row_counts(expected_counts, restored)
        result.update({'ok': ok, 'detail': detail, 'row_count_differences': differences,
                       'tables': len(restored), 'rows': sum(restored.values())})
        return result
    finally:
        if created:
            try:
                db_call(cfg, identity, 'drop', name, 'postgres')
                result['temp_database_dropped'] = True
            except BackupError as exc:
                LOG.error('could not drop temporary database %s: %s', name, exc)
                result['ok'] = False
                result['detail'] = (result.get('detail', '') +
                                    '; temporary database %s NOT dropped: %s' % (name, exc))


# --------------------------------------------------------------------------- S3

class S3Store:
    """boto3 access to the backup bucket, with retries, backoff and clear errors."""

    def __init__(self, cfg):
        self.cfg = cfg['s3']
        if not self.cfg['bucket']:
            raise BackupError(EXIT_USAGE, 'S3 is not configured (s3.bucket is empty)')
        try:
            import boto3
            from boto3.s3.transfer import TransferConfig
            from botocore.config import Config
        except ImportError:
            raise BackupError(EXIT_USAGE, 'python3-boto3 is needed for S3 (apt install '
                              'python3-boto3)')
        if self.cfg['credentials_file']:
            os.environ['AWS_SHARED_CREDENTIALS_FILE'] = self.cfg['credentials_file']
        config = Config(
            region_name=self.cfg['region'] or None,
            connect_timeout=self.cfg['connect_timeout'],
            read_timeout=self.cfg['read_timeout'],
            # botocore retries each request once more; with_retries() adds the backoff loop
            retries={'max_attempts': 2, 'mode': 'standard'},
            s3={'addressing_style': self.cfg['addressing_style']},
        )
        self.client = boto3.session.Session().client(
            's3', endpoint_url=self.cfg['endpoint_url'] or None,
            verify=self.cfg['ca_bundle'] or None, config=config)
        self.bucket = self.cfg['bucket']
        self.prefix = self.cfg['prefix']
        self.transfer = TransferConfig(
            multipart_threshold=self.cfg['multipart_threshold_mb'] * MIB,
            multipart_chunksize=self.cfg['multipart_chunksize_mb'] * MIB,
            max_concurrency=max(1, self.cfg['max_concurrency']))
        self.where = '%s (bucket %s)' % (self.cfg['endpoint_url'] or 'AWS S3', self.bucket)

    def describe_error(self, exc):
        from botocore.exceptions import ClientError, EndpointConnectionError, \
            ConnectTimeoutError, SSLError
        if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError)):
            return 'S3 endpoint %s unreachable: %s' % (self.where, exc)
        if isinstance(exc, SSLError):
            return 'TLS to S3 endpoint %s failed (s3.ca_bundle?): %s' % (self.where, exc)
        if isinstance(exc, ClientError):
            code = exc.response.get('Error', {}).get('Code', '')
            if code in ('NoSuchBucket', '404'):
                return 'bucket %s does not exist at %s' % (self.bucket, self.where)
            if code in ('AccessDenied', '403', 'InvalidAccessKeyId', 'SignatureDoesNotMatch'):
                return 'access to %s denied (%s): check the S3 credentials' % (self.where, code)
        return '%s: %s' % (type(exc).__name__, exc)

    def _permanent(self, exc):
        from botocore.exceptions import ClientError
        if isinstance(exc, ClientError):
            code = exc.response.get('Error', {}).get('Code', '')
            return code in ('NoSuchBucket', '404', 'AccessDenied', '403', 'InvalidAccessKeyId',
                            'SignatureDoesNotMatch', 'InvalidRequest')
        return False

    def with_retries(self, what, func, *args, **kwargs):
        attempts = max(1, self.cfg['attempts'])
        delay = self.cfg['backoff_seconds']
        for attempt in range(1, attempts + 1):
            try:
                return func(*args, **kwargs)
            except BackupError:
                raise
            except Exception as exc:  # botocore/s3transfer raise many kinds
                message = self.describe_error(exc)
                if self._permanent(exc) or attempt == attempts:
                    raise BackupError(EXIT_UPLOAD, '%s failed after %d attempt(s): %s'
                                      % (what, attempt, message))
                LOG.warning('%s failed (attempt %d/%d): %s; retrying in %.0fs', what, attempt,
                            attempts, message, delay)
                time.sleep(delay)
                delay = min(delay * 2, 60)
        raise AssertionError('unreachable')

    def check_bucket(self):
        self.with_retries('reaching %s' % self.where, self.client.head_bucket, Bucket=self.bucket)

    def key(self, set_id, rel):
        return backup_set.s3_key(self.prefix, set_id, rel)

    def _extra_args(self, set_id, digest):
        extra = {'Metadata': {'sha256': digest, 'forexai-set-id': set_id}}
        if self.cfg['sse']:
            extra['ServerSideEncryption'] = self.cfg['sse']
            if self.cfg['sse'] == 'aws:kms' and self.cfg['sse_kms_key_id']:
                extra['SSEKMSKeyId'] = self.cfg['sse_kms_key_id']
        if self.cfg['checksum_algorithm']:
            extra['ChecksumAlgorithm'] = self.cfg['checksum_algorithm']
        return extra

    def _part_size(self, size):
        try:
            from s3transfer.utils import ChunksizeAdjuster
            return ChunksizeAdjuster().adjust_chunksize(self.transfer.multipart_chunksize, size)
        except ImportError:
            return self.transfer.multipart_chunksize

    def _download_sha256(self, key):
        import hashlib
        body = self.client.get_object(Bucket=self.bucket, Key=key)['Body']
        digest = hashlib.sha256()
        size = 0
        for block in iter(lambda: body.read(MIB), b''):
            digest.update(block)
            size += len(block)
        return digest.hexdigest(), size

    def verify_object(self, path, key, digest, size):
        """Integrity of one uploaded object. Returns how it was checked; raises on mismatch."""
        head = self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode='ENABLED')
        if head['ContentLength'] != size:
            raise IntegrityError('%s is %d bytes in S3, %d locally'
                                 % (key, head['ContentLength'], size))
        if head.get('Metadata', {}).get('sha256') != digest:
            raise IntegrityError('%s carries sha256 %r in S3, expected %s'
                                 % (key, head.get('Metadata', {}).get('sha256'), digest))
        server = head.get('ChecksumSHA256')
        if self.cfg['verify_upload'] == 'checksum' and server:
            if '-' in server:
                expected = backup_set.s3_composite_sha256(path, self._part_size(size))
            else:
                expected = backup_set.sha256_hex_to_b64(digest)
            if server == expected:
                return 'server SHA-256 checksum'
            LOG.info('%s: server checksum %s is not the expected %s (part size differs?); '
                     'downloading to compare', key, server, expected)
        remote, remote_size = self._download_sha256(key)
        if remote != digest or remote_size != size:
            raise IntegrityError('%s downloaded from S3 has sha256 %s (%d bytes), expected %s '
                                 '(%d bytes)' % (key, remote, remote_size, digest, size))
        return 'downloaded and hashed'

    def upload_file(self, path, set_id, rel, digest, size):
        key = self.key(set_id, rel)

        def attempt():
            self.client.upload_file(path, self.bucket, key,
                                    ExtraArgs=self._extra_args(set_id, digest),
                                    Config=self.transfer)
            return self.verify_object(path, key, digest, size)

        how = self.with_retries('upload of %s' % key, attempt)
        LOG.info('uploaded %s (%d bytes), integrity checked: %s', key, size, how)
        return key

    def list_sets(self):
        prefix = backup_set.s3_set_prefix(self.prefix, '').rstrip('/')
        prefix = prefix + '/' if prefix else ''
        found = []

        def pages():
            paginator = self.client.get_paginator('list_objects_v2')
            out = []
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter='/'):
                out.extend(p['Prefix'] for p in page.get('CommonPrefixes', []))
            return out

        for common in self.with_retries('listing %s' % self.where, pages):
            set_id = common[len(prefix):].strip('/')
            if backup_set.parse_set_id(set_id) is None:
                continue
            found.append(set_id)
        return sorted(found)

    def read_manifest(self, set_id):
        from botocore.exceptions import ClientError
        key = self.key(set_id, backup_set.MANIFEST_NAME)
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)['Body'].read()
        except ClientError as exc:
            if exc.response.get('Error', {}).get('Code') in ('NoSuchKey', '404'):
                return None
            raise
        try:
            manifest = json.loads(body.decode('utf-8'))
        except ValueError:
            return None
        return None if backup_set.manifest_problems(manifest) else manifest

    def delete_set(self, set_id):
        """Delete the manifest first, so a half-deleted set never looks complete."""
        manifest_key = self.key(set_id, backup_set.MANIFEST_NAME)
        self.with_retries('deleting %s' % manifest_key, self.client.delete_object,
                          Bucket=self.bucket, Key=manifest_key)
        prefix = backup_set.s3_set_prefix(self.prefix, set_id)

        def delete_rest():
            paginator = self.client.get_paginator('list_objects_v2')
            removed = 0
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                keys = [{'Key': o['Key']} for o in page.get('Contents', [])]
                if keys:
                    answer = self.client.delete_objects(Bucket=self.bucket,
                                                        Delete={'Objects': keys, 'Quiet': True})
                    if answer.get('Errors'):
                        raise RuntimeError('could not delete %s' % answer['Errors'][0])
                    removed += len(keys)
            return removed

        return self.with_retries('deleting %s' % prefix, delete_rest) + 1


class IntegrityError(Exception):
    pass


def upload_set(store, run, manifest_path):
    store.check_bucket()
    for rel, entry in sorted(run.files.items()):
        store.upload_file(run.path(rel), run.set_id, rel, entry['sha256'], entry['size'])
    digest, size = backup_set.sha256_file(manifest_path)
    store.upload_file(manifest_path, run.set_id, backup_set.MANIFEST_NAME, digest, size)
    LOG.info('set %s complete in S3 under %s', run.set_id,
             backup_set.s3_set_prefix(store.prefix, run.set_id))


# --------------------------------------------------------------------------- pruning

def local_sets(backup_dir):
    entries = []
    if not os.path.isdir(backup_dir):
        return entries
    for name in sorted(os.listdir(backup_dir)):
        full = os.path.join(backup_dir, name)
        if not os.path.isdir(full) or backup_set.parse_set_id(name) is None:
            continue
        manifest, _problems = backup_set.load_manifest(os.path.join(full,
                                                                    backup_set.MANIFEST_NAME))
        entries.append(backup_set.retention_entry(name, manifest, 'local'))
    return entries


def prune(cfg, now, dry_run=False, use_s3=True):
    """Apply the retention decision locally and in S3. Returns a report dict."""
    entries = local_sets(cfg['backup_dir'])
    store = None
    errors = []
    if use_s3 and cfg['s3']['bucket']:
        try:
            store = S3Store(cfg)
            for set_id in store.list_sets():
                manifest = store.with_retries('reading manifest of %s' % set_id,
                                              store.read_manifest, set_id)
                entries.append(backup_set.retention_entry(set_id, manifest, 's3'))
        except BackupError as exc:
            errors.append('S3: %s' % exc.message)
            LOG.error('cannot prune S3: %s', exc.message)
            store = None
            entries = [e for e in entries if e['location'] == 'local']
    complete = {(e['location'], e['id']): e['complete'] for e in entries}
    decision = retention.decide(entries, now, cfg['policy'])
    for entry in decision['future']:
        LOG.warning('set %s (%s) is dated %s, after now (%s): clock skew? kept',
                    entry['id'], entry['location'], iso(entry['started_at']), iso(now))
    deleted = []
    for entry in decision['delete']:
        what = '%s set %s (%s: %s)' % (entry['location'], entry['id'], entry['reason'],
                                       entry['detail'])
        if dry_run:
            LOG.info('would delete %s', what)
            continue
        try:
            if entry['location'] == 'local':
                full = os.path.join(cfg['backup_dir'], entry['id'])
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(full, backup_set.MANIFEST_NAME))
                shutil.rmtree(full)
            elif store is not None:
                store.delete_set(entry['id'])
            deleted.append(entry)
            LOG.info('deleted %s', what)
        except (OSError, BackupError) as exc:
            message = getattr(exc, 'message', str(exc))
            errors.append('%s: %s' % (what, message))
            LOG.error('could not delete %s: %s', what, message)

    def brief(entry):
        return {'id': entry['id'], 'location': entry['location'], 'reason': entry['reason'],
                'detail': entry['detail'], 'verified': entry['verified'],
                'complete': complete[(entry['location'], entry['id'])],
                'started_at': iso(entry['started_at'])}

    return {
        'now': iso(now),
        'dry_run': dry_run,
        'keep': [brief(e) for e in decision['keep']],
        'delete': [brief(e) for e in decision['delete']],
        'deleted': [brief(e) for e in deleted],
        'future': [brief(e) for e in decision['future']],
        'errors': errors,
    }


# --------------------------------------------------------------------------- metrics, hook

def state_path(cfg):
    return os.path.join(cfg['backup_dir'], '.last_success.json')


def write_metrics(cfg, exit_code, success=None):
    """Prometheus textfile: last success (kept across failures) and the last run's outcome."""
    state = {}
    with contextlib.suppress(OSError, ValueError):
        with open(state_path(cfg), 'r', encoding='utf-8') as handle:
            state = json.load(handle)
    if success is not None:
        state = success
        with contextlib.suppress(OSError):
            tmp = state_path(cfg) + '.tmp'
            with open(tmp, 'w', encoding='utf-8') as handle:
                json.dump(state, handle)
            os.rename(tmp, state_path(cfg))
    directory = cfg['metrics_dir']
    if not directory:
        return
    label = '{database="%s"}' % cfg['database']['name'].replace('"', '')
    metrics = [
        ('forexai_backup_last_success_timestamp_seconds',
         'Unix time the last successful backup run finished.', state.get('finished', 0)),
        ('forexai_backup_duration_seconds',
         'Duration of the last successful backup run.', state.get('duration', 0)),
        ('forexai_backup_size_bytes',
         'Total size of the files of the last successful backup set.', state.get('size', 0)),
        ('forexai_backup_verified',
         '1 when the last successful backup set was verified by a test restore.',
         1 if state.get('verified') else 0),
        ('forexai_backup_last_run_timestamp_seconds',
         'Unix time the last backup run ended, successful or not.', time.time()),
        ('forexai_backup_last_exit_code',
         'Exit code of the last backup run (0 is success).', exit_code),
    ]
    lines = []
    for name, help_text, value in metrics:
        lines.append('# HELP %s %s' % (name, help_text))
        lines.append('# TYPE %s gauge' % name)
        lines.append('%s%s %s' % (name, label, repr(float(value))))
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix='.forexai_backup.', dir=directory)
        with os.fdopen(fd, 'w') as handle:
            handle.write('\n'.join(lines) + '\n')
        os.chmod(tmp, 0o644)
        os.rename(tmp, os.path.join(directory, 'forexai_backup.prom'))
    except OSError as exc:
        LOG.warning('could not write metrics into %s: %s', directory, exc)


def run_failure_hook(cfg, code, message, set_id):
    command = cfg['failure_hook']
    if not command:
        return
    env = dict(os.environ)
    env.update({'FOREXAI_BACKUP_EXIT_CODE': str(code), 'FOREXAI_BACKUP_ERROR': message,
                'FOREXAI_BACKUP_SET_ID': set_id or '', 'FOREXAI_BACKUP_HOST': host_name()})
    try:
        proc = subprocess.run(shlex.split(command), env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=cfg['failure_hook_timeout'], check=False)
        if proc.returncode != 0:
            LOG.warning('failure hook exited %d: %s', proc.returncode, tail(proc.stderr))
        else:
            LOG.info('failure hook ran: %s', command)
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        LOG.warning('failure hook %r could not run: %s', command, exc)


# --------------------------------------------------------------------------- main

@contextlib.contextmanager
def run_lock(path):
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    handle = open(path, 'a+')
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            handle.seek(0)
            holder = handle.read().strip() or 'unknown'
            raise BackupError(EXIT_LOCKED, 'another %s run holds the lock %s (pid recorded '
                              'there: %s); not starting' % (PROGRAM, path, holder))
        handle.seek(0)
        handle.truncate()
        handle.write('%d\n' % os.getpid())
        handle.flush()
        yield
    finally:
        handle.close()


def do_backup(cfg, args, status):
    run = Run(cfg, args)
    store = S3Store(cfg) if args.upload else None
    try:
        run.prepare()
        status['set_id'] = run.set_id
        run.dump_database()
        run.check_dump()
        run.archive_files()
        run.encrypt_config()
        run.hash_files()
        if args.verify:
            run.verify_restore()
        manifest = run.manifest()
        manifest_path = run.write_manifest(manifest)
    except BackupError as exc:
        run.mark_failed(exc.code, exc.message)
        raise
    except Interrupted:
        run.mark_failed(EXIT_INTERRUPTED, 'interrupted by a signal')
        raise BackupError(EXIT_INTERRUPTED, 'interrupted by a signal; set %s is incomplete'
                          % run.set_id)
    except OSError as exc:
        code = EXIT_STORAGE
        if exc.errno == errno.ENOSPC:
            message = 'disk full while writing %s: %s' % (run.set_dir, exc)
        else:
            message = 'local storage error in %s: %s' % (run.set_dir, exc)
        run.mark_failed(code, message)
        raise BackupError(code, message)
    except Exception as exc:
        run.mark_failed(EXIT_INTERNAL, '%s: %s' % (type(exc).__name__, exc))
        raise
    LOG.info('local set %s complete (%d files, %d bytes, verified: %s)', run.set_id,
             len(run.files), sum(f['size'] for f in run.files.values()), manifest['verified'])
    success = {'finished': time.time(), 'duration': manifest['duration_seconds'],
               'size': sum(f['size'] for f in run.files.values()), 'verified': manifest['verified'],
               'set_id': run.set_id}
    if store is not None:
        try:
            upload_set(store, run, manifest_path)
        except BackupError as exc:
            raise BackupError(exc.code, '%s; the local set %s is complete and kept'
                              % (exc.message, run.set_dir))
        success['duration'] = round(time.time() - run.started.timestamp(), 3)
    write_metrics(cfg, EXIT_OK, success)
    if not args.no_prune:
        report = prune(cfg, utc_now(), use_s3=args.upload)
        if report['errors']:
            raise BackupError(EXIT_PRUNE, 'set %s is complete but pruning failed: %s'
                              % (run.set_id, '; '.join(report['errors'])))
    return run.set_id


def parse_args(argv):
    epilog = 'exit codes:\n' + '\n'.join('  %2d  %s' % item for item in EXIT_CODES)
    parser = argparse.ArgumentParser(
        prog=PROGRAM, formatter_class=argparse.RawDescriptionHelpFormatter, epilog=epilog,
        description='Back up the Forex AI database (pg_dump, row counts from the same '
                    'snapshot), file storage and age-encrypted configuration into a backup set '
                    '<backup_dir>/<set id>/ whose manifest.json is written last; optionally '
                    'verify it by a test restore, upload it to S3, and prune old sets.')
    parser.add_argument('-c', '--config', default=DEFAULT_CONFIG,
                        help='JSON configuration file (default %(default)s)')
    parser.add_argument('--verify', action='store_true',
                        help='restore the dump into a temporary database and compare row counts')
    parser.add_argument('--upload', action='store_true',
                        help='upload the set to S3 (multipart, integrity checked)')
    parser.add_argument('--no-prune', action='store_true',
                        help='do not prune old sets after a successful run')
    parser.add_argument('--prune', action='store_true',
                        help='only prune old sets (locally and in S3), make no backup')
    parser.add_argument('--dry-run', action='store_true',
                        help='with --prune: report what would be deleted, delete nothing')
    parser.add_argument('--local-only', action='store_true',
                        help='with --prune: leave S3 alone')
    parser.add_argument('--now', metavar='TIME',
                        help='with --prune: judge ages from this ISO 8601 time instead of now')
    parser.add_argument('--json', action='store_true',
                        help='print a JSON report on stdout')
    parser.add_argument('--debug', action='store_true', help='log debug messages')
    parser.add_argument('--version', action='version', version='%s %s' % (PROGRAM, VERSION))
    args = parser.parse_args(argv)
    if args.prune and (args.verify or args.upload):
        parser.error('--prune cannot be combined with --verify or --upload')
    if (args.dry_run or args.now or args.local_only) and not args.prune:
        parser.error('--dry-run, --now and --local-only only apply to --prune')
    return args


def setup_logging(debug):
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter('%(asctime)s ' + PROGRAM + '[%(process)d] %(levelname)s: '
                                  '%(message)s', '%Y-%m-%dT%H:%M:%SZ')
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    LOG.addHandler(handler)
    LOG.setLevel(logging.DEBUG if debug else logging.INFO)


def _on_signal(signum, _frame):
    raise Interrupted()


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging(args.debug)
    os.umask(0o027)
    cfg = None
    status = {}
    report = {'program': PROGRAM, 'version': VERSION}
    try:
        cfg = load_config(args.config)
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        with run_lock(cfg['lock_file']):
            if args.prune:
                now = backup_set.parse_time(args.now) if args.now else utc_now()
                result = prune(cfg, now, dry_run=args.dry_run, use_s3=not args.local_only)
                report['prune'] = result
                LOG.info('prune: %d kept, %d to delete, %d deleted%s', len(result['keep']),
                         len(result['delete']), len(result['deleted']),
                         ' (dry run)' if args.dry_run else '')
                if result['errors']:
                    raise BackupError(EXIT_PRUNE, 'pruning failed: %s'
                                      % '; '.join(result['errors']))
            else:
                LOG.info('%s %s starting (verify: %s, upload: %s)', PROGRAM, VERSION,
                         args.verify, args.upload)
                do_backup(cfg, args, status)
                LOG.info('backup set %s done', status['set_id'])
        code, message = EXIT_OK, ''
    except BackupError as exc:
        code, message = exc.code, exc.message
    except Interrupted:
        code, message = EXIT_INTERRUPTED, 'interrupted by a signal'
    except ValueError as exc:
        code, message = EXIT_USAGE, str(exc)
    except Exception as exc:  # pragma: no cover - reported, then a distinct exit code
        LOG.exception('unexpected error')
        code, message = EXIT_INTERNAL, '%s: %s' % (type(exc).__name__, exc)
    report['exit_code'] = code
    if status.get('set_id'):
        report['set_id'] = status['set_id']
    if code != EXIT_OK:
        report['error'] = message
        LOG.error('%s (exit %d)', message, code)
        if cfg is not None and code != EXIT_LOCKED:
            if not args.prune and code != EXIT_PRUNE:
                write_metrics(cfg, code)
            run_failure_hook(cfg, code, message, status.get('set_id'))
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2, sort_keys=True) + '\n')
    return code


if __name__ == '__main__':
    sys.exit(main())
