# Copyright: (c) 2025, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait for a restored PostgreSQL to finish recovery and promote.

`pg_ctl -w start` returns once the server takes read-only connections, not when
recovery is over. This polls `SELECT pg_is_in_recovery()` until it is false,
checks that the postmaster is alive and reads the server log (from a byte
offset taken before the start) for the errors that end a recovery early. It
prints one JSON object: {"ok": true, ...} or {"ok": false, "msg": ...}.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

FATAL_RE = re.compile(r'(FATAL|PANIC):\s+(.*)')
MISSING_RE = re.compile(r'unable to find ([0-9A-F]{24}) in the archive')
REMOVED_RE = re.compile(r'requested WAL segment ([0-9A-F]{24}) has already been removed')
OPEN_RE = re.compile(r'could not (?:open|find) (?:file|required WAL segment)[^0-9A-F]*([0-9A-F]{24})')
STOP_RE = re.compile(r'recovery stopping [^\n]*')
LAST_TX_RE = re.compile(r'last completed transaction was at log time ([^\n]*)')
TIMELINE_RE = re.compile(r'selected new timeline ID: (\d+)')
ASYNC_TIMEOUT_RE = re.compile(r"unable to get WAL file '([0-9A-F]{24})' from the archive asynchronously")
PGBACKREST_RE = re.compile(r'(?:ERROR|WARN): \[\d+\]: [^\n]*')
# What the server answers this program's own connection attempts while it
# recovers or stops: not a reason, and enough of them hide the real one.
NOISE_RE = re.compile(r'the database system is (?:starting up|not yet accepting connections|'
                      r'not accepting connections|shutting down|in recovery mode)'
                      r'|Consistent recovery state has not been yet reached')
TARGET_NOT_REACHED = 'recovery ended before configured recovery target was reached'


def read_log(path, offset):
    try:
        with open(path, 'rb') as handle:
            handle.seek(offset)
            return handle.read().decode('utf-8', 'replace')
    except OSError:
        return ''


def postmaster_alive(data_dir):
    try:
        with open(os.path.join(data_dir, 'postmaster.pid')) as handle:
            pid = int(handle.readline().strip())
        os.kill(pid, 0)
        return True
    except (OSError, ValueError):
        return False


def in_recovery(args):
    cmd = ['psql', '-X', '-A', '-t', '-h', args.socket_dir, '-p', str(args.port), '-d', 'postgres',
           '-c', 'SELECT pg_is_in_recovery()']
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    except subprocess.TimeoutExpired:
        return None
    return {'t': True, 'f': False}.get(out.stdout.strip()) if out.returncode == 0 else None


def last(regex, text):
    found = regex.findall(text)
    return found[-1] if found else None


def failure(args, log, reason):
    lines = [line for line in log.splitlines() if line.strip() and not NOISE_RE.search(line)]
    text = '\n'.join(lines)
    timed_out = last(ASYNC_TIMEOUT_RE, text)
    missing = last(MISSING_RE, text) or last(REMOVED_RE, text) or last(OPEN_RE, text)
    fatal = [m[1] for m in FATAL_RE.findall(text)]
    pgbackrest = PGBACKREST_RE.findall(text)
    parts = ['recovery to %s failed: %s.' % (args.target_desc, reason)]
    if TARGET_NOT_REACHED in log:
        parts.append('PostgreSQL replayed all WAL it could get and the target was not in it '
                     '(it is after the end of the archive, on another timeline, the name is unknown, '
                     'or archive-get failed to deliver a segment).')
    if timed_out:
        parts.append('archive-get gave up waiting for %s (a timeout of the async queue, not proof that '
                     'the segment is missing from the archive).' % timed_out)
    if missing:
        parts.append('Last WAL segment requested and not found in the archive: %s.' % missing)
    if fatal:
        parts.append('Server said: %s.' % ' | '.join(fatal[-3:]))
    if pgbackrest:
        parts.append('pgBackRest said: %s.' % ' | '.join(pgbackrest[-3:]))
    parts.append('Log: %s' % args.log)
    return {'ok': False, 'msg': ' '.join(parts), 'missing_segment': missing or timed_out,
            'target_not_reached': TARGET_NOT_REACHED in log, 'log_tail': lines[-25:]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data-dir', required=True)
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--socket-dir', default='/var/run/postgresql')
    parser.add_argument('--log', required=True)
    parser.add_argument('--offset', type=int, default=0)
    parser.add_argument('--timeout', type=int, default=1800)
    parser.add_argument('--start-grace', type=int, default=20)
    parser.add_argument('--target-desc', default='the target')
    args = parser.parse_args()

    started = time.monotonic()
    deadline = started + args.timeout
    result = None
    while time.monotonic() < deadline:
        log = read_log(args.log, args.offset)
        if TARGET_NOT_REACHED in log or re.search(r'PANIC:', log):
            result = failure(args, log, 'the server stopped during recovery')
            break
        state = in_recovery(args)
        if state is False:
            result = {'ok': True, 'seconds': round(time.monotonic() - started, 1),
                      'recovery_stop': last(STOP_RE, log), 'last_transaction': last(LAST_TX_RE, log),
                      'timeline': last(TIMELINE_RE, log)}
            break
        if state is None and not postmaster_alive(args.data_dir) \
                and time.monotonic() - started > args.start_grace:
            time.sleep(1)
            result = failure(args, read_log(args.log, args.offset), 'the postmaster is not running')
            break
        time.sleep(1)
    if result is None:
        result = failure(args, read_log(args.log, args.offset),
                         'still in recovery after %d s (restore_pitr_recovery_timeout)' % args.timeout)
    json.dump(result, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
