# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Look at a PostgreSQL data directory, and move one aside or back.

`check DATADIR` prints what an in-place restore must know before it stops
anything: whether the directory is a mount point (it cannot be renamed: its
contents are moved instead), its size, and the layouts this role refuses (a
pg_wal kept elsewhere through a symlink, tablespaces).

`move SRC DST` moves a data directory and prints how. A plain directory is
renamed (`mv`, instant on one file system). A mount point stays where it is
and its entries move into DST; DST that exists already (an emptied mount
point taking its data back) must be empty and receives SRC's entries. Entries
are moved with `mv`, which keeps owners, modes and times also when it has to
copy across file systems. Each prints one JSON object.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time


def mount_points(mountinfo='/proc/self/mountinfo'):
    """The mount points the kernel lists (a bind mount within one file system included)."""
    points = set()
    try:
        with open(mountinfo, encoding='utf-8') as handle:
            for line in handle:
                fields = line.split(' ')
                if len(fields) > 4:
                    points.add(fields[4].encode().decode('unicode_escape'))
    except OSError:
        pass
    return points


def is_mount_point(path):
    """True for a mount point, also one os.path.ismount misses (same device as its parent)."""
    real = os.path.realpath(path)
    return os.path.ismount(real) or real in mount_points()


def tree_size(path):
    """Bytes of the regular files under path (symlinks are not followed)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                info = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if not os.path.islink(os.path.join(root, name)):
                total += info.st_size
    return total


def check(datadir):
    """What an in-place restore must know about datadir, and what it refuses."""
    if not os.path.isdir(datadir):
        return {'ok': True, 'exists': False, 'mount_point': False, 'size_bytes': 0,
                'wal_link': None, 'tablespaces': [], 'refusals': []}
    refusals = []
    wal = os.path.join(datadir, 'pg_wal')
    wal_link = os.path.realpath(wal) if os.path.islink(wal) else None
    if wal_link:
        refusals.append(
            'pg_wal in %s is a symlink to %s (a separate WAL location): this role restores only a data '
            'directory that holds its own pg_wal. Restore by hand with pgbackrest restore --link-map, or '
            'move pg_wal back into the data directory first' % (datadir, wal_link))
    tablespaces = []
    tblspc = os.path.join(datadir, 'pg_tblspc')
    if os.path.isdir(tblspc):
        for name in sorted(os.listdir(tblspc)):
            entry = os.path.join(tblspc, name)
            tablespaces.append({'oid': name, 'location': os.path.realpath(entry)})
    if tablespaces:
        refusals.append(
            'the cluster has %d tablespace(s) outside the data directory (%s): this role does not restore '
            'tablespaces. Restore by hand with pgbackrest restore --tablespace-map, or move the tables '
            'into pg_default first' % (len(tablespaces), ', '.join(t['location'] for t in tablespaces)))
    return {'ok': not refusals, 'exists': True, 'mount_point': is_mount_point(datadir),
            'size_bytes': tree_size(datadir), 'wal_link': wal_link, 'tablespaces': tablespaces,
            'refusals': refusals}


def move(src, dst):
    """Move the data directory src to dst; returns what was done."""
    if not os.path.isdir(src):
        raise ValueError('%s is not a directory' % src)
    started = time.time()
    if not is_mount_point(src) and not os.path.lexists(dst):
        subprocess.run(['mv', '--', src, dst], check=True)
        return {'method': 'rename', 'src': src, 'dst': dst, 'entries': None,
                'seconds': round(time.time() - started, 1)}
    if os.path.lexists(dst):
        if not os.path.isdir(dst) or os.path.islink(dst):
            raise ValueError('%s exists and is not a directory' % dst)
        if os.listdir(dst):
            raise ValueError('%s is not empty: nothing is moved over existing files' % dst)
        made = False
    else:
        # A new directory with the mount point's own owner and mode (0700 for PostgreSQL).
        info = os.stat(src)
        os.mkdir(dst, 0o700)
        os.chown(dst, info.st_uid, info.st_gid)
        os.chmod(dst, info.st_mode & 0o7777)
        made = True
    entries = sorted(os.listdir(src))
    try:
        if entries:
            subprocess.run(['mv', '-t', dst, '--'] + [os.path.join(src, e) for e in entries], check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        # Undo: what reached dst goes back, and a directory made here goes, so src is whole again.
        # An entry still in src is the one whose copy failed (mv removes the source only after a
        # complete copy): its partial copy in dst is dropped.
        moved = []
        for name in sorted(os.listdir(dst)):
            if os.path.lexists(os.path.join(src, name)):
                path = os.path.join(dst, name)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
            else:
                moved.append(os.path.join(dst, name))
        if moved:
            subprocess.run(['mv', '-t', src, '--'] + moved, check=True)
        if made:
            os.rmdir(dst)
        raise RuntimeError('moving the entries of %s to %s failed and was undone (%s)' % (src, dst, exc)) from exc
    left = os.listdir(src)
    if left:
        raise RuntimeError('%s still holds %s after the move' % (src, ', '.join(sorted(left))))
    return {'method': 'contents', 'src': src, 'dst': dst, 'entries': len(entries),
            'seconds': round(time.time() - started, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    sub = parser.add_subparsers(dest='command', required=True)
    one = sub.add_parser('check')
    one.add_argument('datadir')
    two = sub.add_parser('move')
    two.add_argument('src')
    two.add_argument('dst')
    args = parser.parse_args(argv)
    try:
        if args.command == 'check':
            result = check(args.datadir)
        else:
            result = dict(move(args.src, args.dst), ok=True)
    except (OSError, ValueError, RuntimeError, subprocess.CalledProcessError) as exc:
        print(json.dumps({'ok': False, 'msg': str(exc)}))
        return 1
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
