# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Database work: the libpq environment, the child process that works as the database OS
user, the dump and its row counts in one snapshot, the dump checks and the test restore."""

import multiprocessing
import os
import pwd
import shlex
import signal
import subprocess
import time

import backup_set
import verification

from forexai_backup.common import (
    EXIT_DATABASE,
    EXIT_DUMP_INVALID,
    EXIT_USAGE,
    LOG,
    PROGRAM,
    BackupError,
)


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


def as_db_user(identity):
    """subprocess keyword arguments that run a program as the database OS user."""
    if identity is None:
        return {}
    return {'user': identity[0], 'group': identity[1], 'extra_groups': []}


def run_pg(cfg, identity, argv, **kwargs):
    """Run a PostgreSQL client program as the database OS user."""
    for key, value in as_db_user(identity).items():
        kwargs.setdefault(key, value)
    kwargs.setdefault('env', pg_env(cfg, identity))
    kwargs.setdefault('stdin', subprocess.DEVNULL)
    LOG.debug('running %s', ' '.join(shlex.quote(a) for a in argv))
    return subprocess.run(argv, check=False, **kwargs)


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
            cur.execute(sql.SQL(verification.CREATE_DATABASE_SQL).format(sql.Identifier(name)))
            pipe.send(('ok', True))
        elif action == 'drop':
            cur.execute(verification.SERVER_VERSION_NUM_SQL)
            statement = verification.drop_database_sql(cur.fetchone()[0])
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


# --------------------------------------------------------------------------- the dump

def tool_version(path):
    try:
        out = subprocess.run([path, '--version'], capture_output=True, text=True,
                             check=False).stdout
        return out.strip()
    except OSError:
        return ''


def dump_database(cfg, identity, dump_path, dump_rel):
    """pg_dump the database in a snapshot that a child holds open while counting every
    table's rows in it. Returns the manifest's ``database`` section."""
    db = cfg['database']
    pg_dump = pg_bin(cfg, 'pg_dump')
    session = DbChild(identity, _snapshot_session, conn_kwargs(cfg))
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
                    env=pg_env(cfg, identity), **as_db_user(identity))
                counts = session.receive()
                _unused, stderr = proc.communicate()
                out.flush()
                os.fsync(out.fileno())
        else:
            os.mkdir(dump_path, 0o750)
            if identity is not None:
                os.chown(dump_path, identity[0], identity[1])
            argv += ['--format=directory', '--jobs=%d' % db['jobs'], '--file=%s' % dump_path]
            proc = subprocess.Popen(
                argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL, env=pg_env(cfg, identity), **as_db_user(identity))
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
                          % (proc.returncode, verification.output_tail(stderr)))
    if db['format'] == 'directory' and identity is not None:
        for dirpath, _dirs, names in os.walk(dump_path):
            os.chown(dirpath, 0, identity[1])
            for name in names:
                os.chown(os.path.join(dirpath, name), 0, identity[1])
    seconds = time.monotonic() - started
    LOG.info('pg_dump finished in %.1fs; %d tables, %d rows counted in the same snapshot',
             seconds, len(counts), sum(counts.values()))
    return {
        'name': db['name'],
        'server_version': info['server_version'],
        'server_version_num': info['server_version_num'],
        'size_bytes': info['size_bytes'],
        'snapshot': info['snapshot'],
        'dump_format': db['format'],
        'dump_path': dump_rel,
        'dump_seconds': round(seconds, 3),
        'pg_dump_version': tool_version(pg_dump),
        'row_counts': counts,
    }


def dump_globals(cfg, identity, out_path, age_binary, recipients):
    """``pg_dumpall --globals-only`` piped straight into age: the roles, their password
    hashes, memberships and per-role settings never touch the disk unencrypted. Returns the
    manifest's ``archives.globals`` section (without the checksum, which hash_files adds)."""
    db = cfg['database']
    argv = [pg_bin(cfg, 'pg_dumpall'), '--globals-only', '--no-password']
    if db['host']:
        argv.append('--host=%s' % db['host'])
    age_argv = [age_binary]
    for recipient in recipients:
        age_argv += ['--recipient', recipient]
    age_argv += ['--output', out_path]
    started = time.monotonic()
    try:
        age = subprocess.Popen(age_argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    except OSError as exc:
        raise BackupError(EXIT_DATABASE, 'cannot run %s: %s' % (age_binary, exc))
    try:
        dump = subprocess.Popen(argv, stdout=age.stdin, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, env=pg_env(cfg, identity),
                                **as_db_user(identity))
    except OSError as exc:
        age.kill()
        age.wait()
        raise BackupError(EXIT_DATABASE, 'cannot run pg_dumpall: %s' % exc)
    age.stdin.close()
    _unused, dump_err = dump.communicate()
    age_err = age.stderr.read()
    age.wait()
    if dump.returncode != 0:
        raise BackupError(EXIT_DATABASE, 'pg_dumpall --globals-only failed (exit %d): %s'
                          % (dump.returncode, verification.output_tail(dump_err)))
    if age.returncode != 0:
        raise BackupError(EXIT_DATABASE, 'age failed on the globals (exit %d): %s'
                          % (age.returncode, verification.output_tail(age_err)))
    return {'seconds': round(time.monotonic() - started, 3),
            'pg_dumpall_version': tool_version(argv[0])}


def dump_size(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(path, *f.split('/')))
                   for f in backup_set.list_files(path))
    return os.path.getsize(path)


def check_dump(cfg, identity, path, rel):
    """pg_dump can exit 0 and leave a useless file: size floor, TOC, full read-back.

    Returns ``{'toc_entries': n, 'dump_bytes': size}``; raises BackupError(EXIT_DUMP_INVALID).
    """
    size = dump_size(path)
    floor = cfg['database']['min_dump_bytes']
    if size < floor:
        raise BackupError(EXIT_DUMP_INVALID, 'dump %s is %d bytes, below the floor of %d bytes'
                          % (rel, size, floor))
    pg_restore = pg_bin(cfg, 'pg_restore')
    listing = run_pg(cfg, identity, [pg_restore, '--list', path], capture_output=True)
    if listing.returncode != 0:
        raise BackupError(EXIT_DUMP_INVALID, 'pg_restore --list rejects dump %s: %s'
                          % (rel, verification.output_tail(listing.stderr)))
    entries = verification.toc_entries(listing.stdout.decode('utf-8', 'replace'))
    readback = run_pg(cfg, identity, [pg_restore, '--file=/dev/null', path], capture_output=True)
    if readback.returncode != 0:
        raise BackupError(EXIT_DUMP_INVALID, 'dump %s cannot be read to the end '
                          '(truncated or corrupt): %s'
                          % (rel, verification.output_tail(readback.stderr)))
    LOG.info('dump %s: %d bytes, %d TOC entries, read back completely', rel, size, len(entries))
    return {'toc_entries': len(entries), 'dump_bytes': size}


# --------------------------------------------------------------------------- the test restore

class ChildOps:
    """The database access verification.restore_and_compare() needs, through child
    processes that run as the database OS user."""

    def __init__(self, cfg, identity):
        self.cfg = cfg
        self.identity = identity

    def exists(self, name):
        return db_call(self.cfg, self.identity, 'exists', name, 'postgres')

    def create(self, name):
        db_call(self.cfg, self.identity, 'create', name, 'postgres')

    def drop(self, name):
        db_call(self.cfg, self.identity, 'drop', name, 'postgres')

    def restore(self, argv):
        proc = run_pg(self.cfg, self.identity, argv, capture_output=True)
        return proc.returncode, proc.stderr

    def count(self, name):
        return db_call(self.cfg, self.identity, 'count', None, name)


def verify_dump_by_restore(cfg, identity, dump_path, expected_counts, stamp, ops=None):
    """Restore a dump into a temporary database and compare row counts; always drop it.

    Returns the manifest's ``verification`` section (without ``seconds``).
    """
    name = backup_set.temp_database_name(cfg['database']['name'], stamp)
    result, extra = verification.restore_and_compare(
        ops or ChildOps(cfg, identity), name, dump_path, expected_counts,
        pg_bin(cfg, 'pg_restore'), jobs=cfg['database']['jobs'], drop_leftover=True)
    if extra['drop_error']:
        LOG.error('could not drop temporary database %s: %s', name, extra['drop_error'])
    return result
