# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which backup sets to keep and which to delete: one pure function.

The backup role deploys this file unchanged next to the ``forexai-backup`` program
(``/usr/local/lib/forexai-backup/retention.py``), which imports it as ``retention``.
It must therefore stay standard-library only and never import Ansible.

Policy (the recovery plan's "Retention Policy"):

* local copies are kept ``local_days`` days (30), S3 copies ``s3_days`` days (90);
* the first *verified* set of each calendar month (UTC) is a monthly snapshot, kept
  ``monthly_keep_months`` months (12) in the locations named by ``monthly_locations``;
* the newest verified set of a location is never deleted, however old it is;
* a set dated after ``now`` (clock skew) is kept and reported, never deleted;
* an unverified set is kept while inside its window and deleted after it.

Each location is decided on its own: a set present both locally and in S3 appears twice
in the input and can be deleted locally yet kept in S3.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
from collections import namedtuple

LOCATIONS = ('local', 's3')

# Reason codes: stable strings callers can match on.
KEEP_FUTURE = 'future-dated'
KEEP_NEWEST_VERIFIED = 'newest-verified'
KEEP_WINDOW = 'within-window'
KEEP_MONTHLY = 'monthly-snapshot'
DELETE_EXPIRED = 'expired'
DELETE_EXPIRED_UNVERIFIED = 'expired-unverified'

_POLICY_FIELDS = ('local_days', 's3_days', 'monthly_keep_months', 'monthly_locations')


class RetentionPolicy(namedtuple('RetentionPolicy', _POLICY_FIELDS)):
    """Retention settings. Every field has the plan's default."""

    __slots__ = ()

    def __new__(cls, local_days=30, s3_days=90, monthly_keep_months=12,
                monthly_locations=LOCATIONS):
        for name, value in (('local_days', local_days), ('s3_days', s3_days),
                            ('monthly_keep_months', monthly_keep_months)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError('%s must be a non-negative integer, got %r' % (name, value))
        monthly_locations = tuple(monthly_locations)
        unknown = [loc for loc in monthly_locations if loc not in LOCATIONS]
        if unknown:
            raise ValueError('monthly_locations has unknown location(s): %s' % ', '.join(unknown))
        return super(RetentionPolicy, cls).__new__(
            cls, local_days, s3_days, monthly_keep_months, monthly_locations)

    def window_days(self, location):
        return self.local_days if location == 'local' else self.s3_days


def months_before(moment, months):
    """The same wall-clock instant ``months`` calendar months earlier.

    The day is clamped to the target month's length (29 February 2028 minus 12 months
    is 28 February 2027).
    """
    index = moment.year * 12 + (moment.month - 1) - months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    if month == 12:
        next_month = datetime.date(year + 1, 1, 1)
    else:
        next_month = datetime.date(year, month + 1, 1)
    last_day = (next_month - datetime.timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def _field(item, name):
    if isinstance(item, dict):
        if name not in item:
            raise ValueError('backup set %r has no %r' % (item.get('id', item), name))
        return item[name]
    return getattr(item, name)


def _normalise(sets):
    seen = set()
    result = []
    for item in sets:
        set_id = str(_field(item, 'id'))
        started_at = _field(item, 'started_at')
        verified = _field(item, 'verified')
        location = _field(item, 'location')
        if not isinstance(started_at, datetime.datetime) or started_at.utcoffset() is None:
            raise ValueError('backup set %s: started_at must be a timezone-aware datetime' % set_id)
        if location not in LOCATIONS:
            raise ValueError('backup set %s: location must be one of %s, got %r'
                             % (set_id, ', '.join(LOCATIONS), location))
        if not isinstance(verified, bool):
            raise ValueError('backup set %s: verified must be a boolean, got %r' % (set_id, verified))
        key = (location, set_id)
        if key in seen:
            raise ValueError('backup set %s is listed twice for location %s' % (set_id, location))
        seen.add(key)
        result.append({
            'id': set_id,
            'location': location,
            'started_at': started_at.astimezone(datetime.timezone.utc),
            'verified': verified,
        })
    return result


def _sort_key(entry):
    return (entry['started_at'], entry['id'])


def decide(sets, now, policy=None):
    """Decide, per location, which backup sets to keep and which to delete.

    :param sets: iterable of mappings (or objects) with ``id``, ``started_at`` (aware
        datetime), ``verified`` (bool) and ``location`` (``'local'`` or ``'s3'``).
    :param now: aware datetime the windows are measured from.
    :param policy: a :class:`RetentionPolicy`; the plan's defaults when omitted.
    :returns: dict with ``keep`` and ``delete`` (lists of entries sorted by location then
        start time; each entry has ``id``, ``location``, ``started_at``, ``verified``,
        ``reason`` (a code above) and ``detail`` (a sentence)), and ``future`` (entries
        dated after ``now``, also listed in ``keep``) so callers can warn about clock skew.
    :raises ValueError: on malformed input.
    """
    if policy is None:
        policy = RetentionPolicy()
    if not isinstance(now, datetime.datetime) or now.utcoffset() is None:
        raise ValueError('now must be a timezone-aware datetime')
    now = now.astimezone(datetime.timezone.utc)
    entries = _normalise(sets)
    monthly_cutoff = months_before(now, policy.monthly_keep_months)

    keep, delete, future = [], [], []
    for location in LOCATIONS:
        here = sorted((e for e in entries if e['location'] == location), key=_sort_key)
        if not here:
            continue
        window = policy.window_days(location)
        cutoff = now - datetime.timedelta(days=window)
        past_verified = [e for e in here if e['verified'] and e['started_at'] <= now]
        newest_verified = past_verified[-1]['id'] if past_verified else None
        first_of_month = {}
        for entry in past_verified:
            month = (entry['started_at'].year, entry['started_at'].month)
            first_of_month.setdefault(month, entry['id'])
        monthly_ids = set(first_of_month.values()) if location in policy.monthly_locations else set()

        for entry in here:
            result = dict(entry)
            when = entry['started_at']
            if when > now:
                result['reason'] = KEEP_FUTURE
                result['detail'] = ('dated %s, after now (%s): clock skew? kept, never pruned'
                                    % (when.isoformat(), now.isoformat()))
                keep.append(result)
                future.append(result)
            elif entry['id'] == newest_verified:
                result['reason'] = KEEP_NEWEST_VERIFIED
                result['detail'] = 'the newest verified set in %s is never deleted' % location
                keep.append(result)
            elif when >= cutoff:
                result['reason'] = KEEP_WINDOW
                result['detail'] = 'younger than the %s window of %d days' % (location, window)
                keep.append(result)
            elif entry['id'] in monthly_ids and when >= monthly_cutoff:
                result['reason'] = KEEP_MONTHLY
                result['detail'] = ('first verified set of %04d-%02d, kept %d months'
                                    % (when.year, when.month, policy.monthly_keep_months))
                keep.append(result)
            elif entry['verified']:
                result['reason'] = DELETE_EXPIRED
                if entry['id'] in monthly_ids:
                    result['detail'] = ('monthly snapshot older than %d months'
                                        % policy.monthly_keep_months)
                else:
                    result['detail'] = 'older than the %s window of %d days' % (location, window)
                delete.append(result)
            else:
                result['reason'] = DELETE_EXPIRED_UNVERIFIED
                result['detail'] = ('unverified and older than the %s window of %d days'
                                    % (location, window))
                delete.append(result)
    return {'keep': keep, 'delete': delete, 'future': future}
