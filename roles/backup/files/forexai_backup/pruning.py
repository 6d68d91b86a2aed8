# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pruning: the retention decision (module_utils/retention.py) applied to the sets kept
locally and in S3, each location on its own."""

import contextlib
import os
import shutil

import backup_set
import retention

from forexai_backup import storage
from forexai_backup.common import LOG, BackupError, iso


def prune(cfg, now, dry_run=False, use_s3=True, make_store=storage.S3Store):
    """Apply the retention decision locally and in S3. Returns a report dict."""
    entries = storage.local_sets(cfg['backup_dir'])
    store = None
    errors = []
    if use_s3 and cfg['s3']['bucket']:
        try:
            store = make_store(cfg)
            entries.extend(store.entries())
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
