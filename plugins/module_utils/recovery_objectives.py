# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""RTO and RPO: the one place that turns a run's timeline and its data into the figures the
plan promises (RTO 4 h, RPO 6 h), for scenario runs, reports and drills alike.

- RTO achieved: from the moment the recovery was confirmed (or the incident, when known) to the
  moment service was back (health 200 and a login), with each phase's share.
- RPO achieved: from the newest commit the restored database holds to the moment of the
  incident; and, when a writer's acknowledged ids are known, how many acknowledged rows are
  missing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

UNITS = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400}
DURATION = re.compile(r'^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$')


def parse_duration(value):
    """Seconds of ``4h``, ``90m``, ``30s``, ``1d``, or a bare number of seconds."""
    if isinstance(value, bool):
        raise ValueError('not a duration: %r' % (value,))
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        parts = [p for p in re.split(r'\s+', str(value).strip()) if p]
        if not parts:
            raise ValueError('not a duration: %r' % (value,))
        seconds = 0.0
        for part in parts:
            match = DURATION.match(part)
            if not match:
                raise ValueError('not a duration: %r (use 4h, 90m, 30s or 1d)' % (value,))
            seconds += float(match.group(1)) * UNITS[match.group(2) or 's']
    if seconds < 0:
        raise ValueError('a duration cannot be negative: %r' % (value,))
    return seconds


def to_epoch(value):
    """Epoch seconds of a number or an ISO 8601 time (``Z`` or an offset; naive means UTC)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if not text:
        raise ValueError('empty time')
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))
    except ValueError:
        raise ValueError('not a time: %r (ISO 8601, such as 2026-12-02T03:00:00Z)' % (value,))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def describe(seconds):
    """``1h 2m 3s`` / ``4m 5s`` / ``6.2s``."""
    seconds = float(seconds)
    if seconds < 60:
        return '%.1fs' % seconds
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return '%dh %dm %ds' % (hours, minutes, secs)
    return '%dm %ds' % (minutes, secs)


def assess(name, achieved_seconds, objective):
    """One figure against its objective."""
    objective_seconds = parse_duration(objective)
    return {
        'name': name,
        'achieved_seconds': round(float(achieved_seconds), 3),
        'achieved': describe(achieved_seconds),
        'objective_seconds': objective_seconds,
        'objective': describe(objective_seconds),
        'met': float(achieved_seconds) <= objective_seconds,
    }


def phases(timeline):
    """The phases of a timeline given as [{'name', 'at'}] in order. A mark says what was done
    when it was made, so each phase is named after the mark that ends it and lasts from the
    mark before."""
    marks = [(m['name'], to_epoch(m['at'])) for m in timeline]
    for (_n1, t1), (n2, t2) in zip(marks, marks[1:]):
        if t2 < t1:
            raise ValueError('the timeline goes back in time at %r' % n2)
    return [{'name': n2, 'seconds': round(t2 - t1, 3), 'duration': describe(t2 - t1)}
            for (_n1, t1), (n2, t2) in zip(marks, marks[1:])]


def rto(timeline, objective, started=None, recovered=None):
    """RTO achieved from a timeline ([{'name', 'at'}]): first mark (or ``started``) to the last
    (or ``recovered``)."""
    if not timeline and (started is None or recovered is None):
        raise ValueError('an RTO needs a timeline or a start and an end')
    start = to_epoch(started) if started is not None else to_epoch(timeline[0]['at'])
    end = to_epoch(recovered) if recovered is not None else to_epoch(timeline[-1]['at'])
    if end < start:
        raise ValueError('the recovery ends before it starts')
    result = assess('RTO', end - start, objective)
    result['phases'] = phases(timeline) if timeline else []
    return result


def lost_ids(acknowledged, restored):
    """Acknowledged ids missing from the restored data, sorted."""
    return sorted(set(int(i) for i in acknowledged) - set(int(i) for i in restored))


def rpo(newest_restored_at, incident_at, objective, acknowledged=None, restored=None):
    """RPO achieved: the incident minus the newest commit restored (never below zero), with the
    acknowledged rows lost when both id lists are given."""
    gap = max(0.0, to_epoch(incident_at) - to_epoch(newest_restored_at))
    result = assess('RPO', gap, objective)
    result['newest_restored_at'] = newest_restored_at
    result['incident_at'] = incident_at
    if acknowledged is not None and restored is not None:
        lost = lost_ids(acknowledged, restored)
        result['acknowledged'] = len(set(acknowledged))
        result['acknowledged_lost'] = len(lost)
        result['lost_ids'] = lost[:100]
    return result
