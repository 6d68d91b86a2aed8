# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bring a versioned bucket back to what it held at a given time: pure planning, no boto3.

In a versioned bucket (and one under Object Lock) a plain DELETE only adds a delete marker:
every version stays. An attacker's "delete everything" is undone by removing the delete
markers made after the moment to go back to. A key whose content was replaced after that
moment (a newer version over an older one) cannot lose the newer version while it is locked;
it is put back by copying the older version on top, when the caller asks for it. Keys first
written after the moment are left alone (they may be backups and WAL written since) and counted;
a backup repository wants them back too (the WAL that reaches the moment is written after it),
which ``keep_created_after=True`` does: their delete markers go as well.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def _epoch(entry):
    """Seconds since the epoch of an entry's ``LastModified`` (datetime or number)."""
    moment = entry['LastModified']
    if hasattr(moment, 'timestamp'):
        return moment.timestamp()
    return float(moment)


def plan_rollback(versions, delete_markers, at_epoch, keep_created_after=False):
    """What to do so that each key reads as it did at ``at_epoch``.

    ``versions`` and ``delete_markers`` are the entries of ListObjectVersions (``Key``,
    ``VersionId``, ``LastModified``). Returns a dict:

    - ``remove_markers``: ``[(key, version_id)]`` delete markers made after the moment on keys
      that had a version at or before it (removing them makes that version current again,
      unless a newer version exists too: see ``overwritten``);
    - ``overwritten``: ``[(key, version_id_at_the_moment)]`` keys whose newest version at or
      before the moment is no longer their newest version (a newer one, with other content by
      its ``ETag`` when both have one, was written after it);
    - ``created_after``: keys with no version at or before the moment (left alone, unless
      ``keep_created_after``: then their delete markers are removed too, so each such key
      reads as its newest version);
    - ``deleted_before``: keys whose state at the moment was already "deleted" (left alone);
    - ``keys_at_moment``: how many keys existed (not deleted) at the moment.
    """
    by_key = {}
    for entry in versions:
        by_key.setdefault(entry['Key'], []).append(('version', _epoch(entry), entry['VersionId'], entry.get('ETag')))
    for entry in delete_markers:
        by_key.setdefault(entry['Key'], []).append(('marker', _epoch(entry), entry['VersionId'], None))

    plan = dict(remove_markers=[], overwritten=[], created_after=[], deleted_before=[],
                keys_at_moment=0)
    for key in sorted(by_key):
        # Oldest first; at one instant a version sorts before a marker (a marker deletes it).
        entries = sorted(by_key[key], key=lambda e: (e[1], 0 if e[0] == 'version' else 1))
        until = [e for e in entries if e[1] <= at_epoch]
        later = [e for e in entries if e[1] > at_epoch]
        if not until:
            plan['created_after'].append(key)
            if keep_created_after and any(e[0] == 'version' for e in entries):
                plan['remove_markers'].extend((key, e[2]) for e in entries if e[0] == 'marker')
            continue
        state_at_moment = until[-1]
        if state_at_moment[0] == 'marker':
            plan['deleted_before'].append(key)
            continue
        plan['keys_at_moment'] += 1
        plan['remove_markers'].extend((key, e[2]) for e in later if e[0] == 'marker')
        newer = [e for e in later if e[0] == 'version']
        # A newer version with the same content (ETag) as the one of then - one put back
        # earlier - needs nothing more.
        if newer and (newer[-1][3] is None or newer[-1][3] != state_at_moment[3]):
            plan['overwritten'].append((key, state_at_moment[2]))
    return plan
