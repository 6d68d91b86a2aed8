# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a pgBackRest repository on S3 holds, read from its key names alone.

A rebuild has to judge the off-site repository before the replacement host exists: from the
control node, with nothing but S3 access. pgBackRest encrypts the content of its files
(``repo-cipher-type``) but not their names, and the names say enough: the backups of a stanza
are the "directories" ``<path>/backup/<stanza>/<label>/``, its WAL the objects
``<path>/archive/<stanza>/<pg version>-<n>/<timeline+log>/<segment>-<sha1>[.<ext>]``, and the
timeline history files ``<path>/archive/<stanza>/<archive id>/<timeline>.history``.

Pure functions on those names (and on the LastModified times S3 gives); the listing itself is in
repository_listing(), which takes a boto3 client.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

# 20261202-031500F, 20261202-031500F_20261202-041500D (or ...I)
BACKUP_LABEL = re.compile(r'^(\d{8})-(\d{6})F(?:_(\d{8})-(\d{6})([DI]))?$')
# 13-1, 15-2, 9.6-1
ARCHIVE_ID = re.compile(r'^(\d+(?:\.\d+)?)-(\d+)$')
# 000000010000000000000003-<sha1>.lz4 / .partial
WAL_SEGMENT = re.compile(r'^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})(\.partial)?-[0-9a-f]{40}')
HISTORY = re.compile(r'^([0-9A-F]{8})\.history')
WAL_DIR = re.compile(r'^([0-9A-F]{8})([0-9A-F]{8})$')


def repo_root(repo_path):
    """The key prefix of a repository path (``/pgbackrest`` -> ``pgbackrest/``)."""
    root = (repo_path or '').strip('/')
    return root + '/' if root else ''


def backup_label(name):
    """A label's parts, or None: {'label', 'type', 'full', 'started_at'} (the label's clock
    is the database host's; UTC on ours)."""
    match = BACKUP_LABEL.match(name)
    if not match:
        return None
    if match.group(3):
        day, clock, kind = match.group(3), match.group(4), {'D': 'diff', 'I': 'incr'}[match.group(5)]
    else:
        day, clock, kind = match.group(1), match.group(2), 'full'
    started = datetime.datetime.strptime(day + clock, '%Y%m%d%H%M%S').replace(
        tzinfo=datetime.timezone.utc)
    return {'label': name, 'type': kind, 'full': '%s-%sF' % match.group(1, 2),
            'started_at': started.isoformat().replace('+00:00', 'Z')}


def archive_major(archive_id):
    """The PostgreSQL major version of an archive id: ``15-1`` -> ``15``, ``9.6-1`` -> ``9.6``."""
    match = ARCHIVE_ID.match(archive_id)
    return match.group(1) if match else None


def wal_segment(name):
    """A WAL object's parts, or None: {'segment', 'timeline', 'partial'}."""
    match = WAL_SEGMENT.match(name)
    if not match:
        return None
    return {'segment': ''.join(match.group(1, 2, 3)), 'timeline': int(match.group(1), 16),
            'partial': bool(match.group(4))}


def newest_archive_id(archive_ids):
    """The archive id in use: the highest history number (a stanza-upgrade adds one)."""
    parsed = [(int(ARCHIVE_ID.match(a).group(2)), a) for a in archive_ids if ARCHIVE_ID.match(a)]
    return max(parsed)[1] if parsed else None


def summarize(labels, archive_ids, history_files, wal_objects):
    """What the repository holds.

    ``labels``: names under backup/<stanza>/; ``archive_ids``: names under archive/<stanza>/;
    ``history_files``: names of the newest archive id's ``*.history``; ``wal_objects``:
    (name, LastModified datetime) of the newest WAL directory's objects.
    """
    backups = sorted((b for b in (backup_label(n) for n in labels) if b),
                     key=lambda b: b['label'])
    archive_id = newest_archive_id(archive_ids)
    segments = []
    for name, modified in wal_objects:
        seg = wal_segment(name)
        if seg:
            segments.append(dict(seg, modified=modified))
    newest = max(segments, key=lambda s: (s['segment'], s['modified'])) if segments else None
    timelines = sorted({int(HISTORY.match(h).group(1), 16) for h in history_files
                        if HISTORY.match(h)} | ({newest['timeline']} if newest else set()))
    summary = {
        'backups': backups,
        'backup_count': len(backups),
        'newest_backup': backups[-1] if backups else None,
        'archive_id': archive_id,
        'pg_major': archive_major(archive_id) if archive_id else None,
        'timelines': timelines,
        'newest_wal': None,
        'usable': bool(backups) and newest is not None,
        'problems': [],
    }
    if newest:
        modified = newest['modified'].astimezone(datetime.timezone.utc).replace(microsecond=0)
        summary['newest_wal'] = {'segment': newest['segment'], 'timeline': newest['timeline'],
                                 'partial': newest['partial'],
                                 'archived_at': modified.isoformat().replace('+00:00', 'Z'),
                                 'archived_epoch': modified.timestamp()}
    if not backups:
        summary['problems'].append('no backup in the repository')
    if archive_id is None:
        summary['problems'].append('no WAL archive in the repository')
    elif newest is None:
        summary['problems'].append('no WAL segment in archive %s' % archive_id)
    return summary


def newest_wal_dir(names):
    """The newest WAL directory (timeline, then log number), or None."""
    dirs = sorted(n for n in names if WAL_DIR.match(n))
    return dirs[-1] if dirs else None


def _children(client, bucket, prefix):
    """(sub-"directory" names, [(object name, LastModified)]) directly under ``prefix``."""
    dirs, objects = [], []
    paginator = client.get_paginator('list_objects_v2')
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix, Delimiter='/'):
        dirs.extend(c['Prefix'][len(prefix):].strip('/') for c in page.get('CommonPrefixes', []))
        objects.extend((o['Key'][len(prefix):], o['LastModified']) for o in page.get('Contents', []))
    return dirs, objects


def repository_listing(client, bucket, repo_path, stanza):
    """summarize() the stanza of the repository at ``repo_path`` in ``bucket``."""
    root = repo_root(repo_path)
    backup_dirs, backup_files = _children(client, bucket, '%sbackup/%s/' % (root, stanza))
    archive_dirs, _unused = _children(client, bucket, '%sarchive/%s/' % (root, stanza))
    archive_id = newest_archive_id(archive_dirs)
    history, wal = [], []
    if archive_id:
        id_prefix = '%sarchive/%s/%s/' % (root, stanza, archive_id)
        wal_dirs, id_files = _children(client, bucket, id_prefix)
        history = [name for name, _modified in id_files if HISTORY.match(name)]
        newest_dir = newest_wal_dir(wal_dirs)
        if newest_dir:
            _unused, wal = _children(client, bucket, id_prefix + newest_dir + '/')
    summary = summarize(backup_dirs, archive_dirs, history, wal)
    summary['info_file'] = any(name == 'backup.info' for name, _m in backup_files)
    if summary['backups'] and not summary['info_file']:
        summary['problems'].append('backup.info is missing: pgBackRest cannot use the backups')
        summary['usable'] = False
    summary['location'] = 's3://%s/%s' % (bucket, root)
    return summary
