# Copyright: (c) 2025, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate a point-in-time recovery target and choose the backup set to restore.

Reads `pgbackrest info --output=json` on stdin, prints one JSON object: either
{"ok": true, "set": ..., "restore_args": [...], ...} or {"ok": false, "msg": ...}.
Nothing is changed anywhere: this runs before anything is stopped or moved.
"""

import argparse
import datetime
import json
import re
import sys

UTC = datetime.timezone.utc
LSN_RE = re.compile(r'^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$')
TIME_FORMATS = ('%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M')


class PlanError(Exception):
    pass


def parse_time(text):
    """Parse an ISO 8601 time; a time without an offset is taken as UTC."""
    raw = text.strip()
    value = raw.replace('T', ' ', 1) if re.match(r'^\d{4}-\d{2}-\d{2}T', raw) else raw
    value = re.sub(r'\s*(UTC|Z)$', '+00:00', value)
    # PostgreSQL style "+00" / "+0530" offsets -> "+00:00" / "+05:30"
    value = re.sub(r'([+-]\d{2})$', r'\1:00', value)
    value = re.sub(r'([+-]\d{2})(\d{2})$', r'\1:\2', value)
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        parsed = None
        for fmt in TIME_FORMATS:
            try:
                parsed = datetime.datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
    if parsed is None or not re.match(r'^\d{4}-\d{2}-\d{2}', value):
        raise PlanError(
            "restore_pitr_target %r is not a time this role understands: use ISO 8601, "
            "for example '2026-01-31 21:30:00+00' (no offset means UTC)" % text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_lsn(text):
    match = LSN_RE.match(text.strip())
    if not match:
        raise PlanError("restore_pitr_target %r is not an LSN (expected hex 'X/X', e.g. 0/3000060)" % text)
    return (int(match.group(1), 16) << 32) + int(match.group(2), 16)


def fmt_time(epoch):
    return datetime.datetime.fromtimestamp(epoch, UTC).strftime('%Y-%m-%d %H:%M:%S+00')


def pg_time(moment):
    return moment.strftime('%Y-%m-%d %H:%M:%S.%f+00')


def backups_of(info, stanza, repo):
    stanzas = [s for s in info if s.get('name') == stanza]
    if not stanzas:
        raise PlanError('pgBackRest knows no stanza %r' % stanza)
    backups = [b for b in stanzas[0].get('backup', []) if b.get('database', {}).get('repo-key') == repo]
    if not backups:
        raise PlanError('repository %d holds no backup of stanza %r: nothing to restore from' % (repo, stanza))
    return sorted(backups, key=lambda b: b['timestamp']['stop'])


def describe(backup):
    return '%s (%s, started %s, consistent from %s)' % (
        backup['label'], backup['type'], fmt_time(backup['timestamp']['start']),
        fmt_time(backup['timestamp']['stop']))


def plan(args, info):
    backups = backups_of(info, args.stanza, args.repo)
    oldest, newest = backups[0], backups[-1]
    kind, target = args.type, (args.target or '').strip()
    pinned = None
    if args.set:
        matches = [b for b in backups if b['label'] == args.set]
        if not matches:
            raise PlanError('backup set %r is not in repository %d (sets: %s)' % (
                args.set, args.repo, ', '.join(b['label'] for b in backups)))
        pinned = matches[0]

    result = {'type': kind, 'target': target, 'repo': args.repo, 'warnings': [],
              'oldest_backup': describe(oldest), 'newest_backup': describe(newest)}
    restore_args = []
    chosen = pinned or newest

    if kind == 'time':
        moment = parse_time(target)
        epoch = moment.timestamp()
        if epoch < oldest['timestamp']['stop']:
            raise PlanError(
                'target time %s is before the oldest backup in repository %d, %s: '
                'no backup can be recovered to it' % (pg_time(moment), args.repo, describe(oldest)))
        if args.archive_end_time is not None and epoch > args.archive_end_time:
            raise PlanError(
                'target time %s is after the end of the WAL archive (archived WAL covers up to %s): '
                'recovery would end before reaching it' % (pg_time(moment), fmt_time(args.archive_end_time)))
        if args.archive_end_time is None:
            result['warnings'].append('the end of the archive is unknown (PostgreSQL is down): '
                                      'a target after it fails during recovery, with the server log quoted')
        if pinned is None:
            chosen = [b for b in backups if b['timestamp']['stop'] <= epoch][-1]
        elif pinned['timestamp']['stop'] > epoch:
            raise PlanError('pinned set %s is consistent only from %s, after target time %s' % (
                pinned['label'], fmt_time(pinned['timestamp']['stop']), pg_time(moment)))
        result['target'] = pg_time(moment)
        restore_args = ['--type=time', '--target=' + result['target']]
    elif kind == 'lsn':
        lsn = parse_lsn(target)
        stops = [(parse_lsn(b['lsn']['stop']), b) for b in backups]
        if lsn < stops[0][0]:
            raise PlanError('target LSN %s is before the oldest backup in repository %d, %s (ends at LSN %s)' % (
                target, args.repo, describe(oldest), oldest['lsn']['stop']))
        if args.archive_end_lsn and lsn > parse_lsn(args.archive_end_lsn):
            raise PlanError('target LSN %s is after the end of the WAL archive (archived up to LSN %s)' % (
                target, args.archive_end_lsn))
        if pinned is None:
            chosen = [b for stop, b in stops if stop <= lsn][-1]
        restore_args = ['--type=lsn', '--target=' + target.upper()]
    elif kind == 'xid':
        if not re.match(r'^\d+$', target) or int(target) < 3:
            raise PlanError('restore_pitr_target %r is not a transaction id (an integer >= 3)' % target)
        if args.next_xid and int(target) >= args.next_xid:
            raise PlanError('transaction %s has not been assigned yet (next xid is %d)' % (target, args.next_xid))
        result['warnings'].append('an xid cannot be placed against backup times: set %s is used; pin an older '
                                  'one with restore_pitr_set if the transaction precedes it' % chosen['label'])
        restore_args = ['--type=xid', '--target=' + target]
    elif kind == 'name':
        if not target or len(target.encode()) >= 64:
            raise PlanError('restore point name %r is empty or longer than 63 bytes' % target)
        result['warnings'].append('restore points are not listed anywhere cheap: the name is proven by a '
                                  'probe restore on the side before production is touched')
        restore_args = ['--type=name', '--target=' + target]
    elif kind == 'immediate':
        restore_args = ['--type=immediate']
    elif kind == 'latest':
        restore_args = ['--type=default']
    else:
        raise PlanError('unknown target type %r' % kind)

    if kind != 'latest':
        restore_args += ['--target-action=promote', '--target-timeline=' + (args.target_timeline or 'latest')]
    else:
        restore_args += ['--target-timeline=' + (args.target_timeline or 'latest')]
    result.update(ok=True, set=chosen['label'], set_description=describe(chosen),
                  set_size_bytes=int(chosen.get('info', {}).get('size', 0)),
                  restore_args=['--repo=%d' % args.repo, '--set=' + chosen['label']] + restore_args)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--stanza', required=True)
    parser.add_argument('--repo', type=int, default=1)
    parser.add_argument('--type', required=True)
    parser.add_argument('--target', default='')
    parser.add_argument('--set', default='')
    parser.add_argument('--archive-end-time', type=float, default=None)
    parser.add_argument('--archive-end-lsn', default='')
    parser.add_argument('--next-xid', type=int, default=0)
    parser.add_argument('--target-timeline', default='')
    args = parser.parse_args()
    try:
        info = json.load(sys.stdin)
        out = plan(args, info)
    except PlanError as exc:
        out = {'ok': False, 'msg': str(exc)}
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        out = {'ok': False, 'msg': 'cannot read pgbackrest info: %s' % exc}
    json.dump(out, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
