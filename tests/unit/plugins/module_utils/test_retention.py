# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the backup retention decision."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.forexai.dr.plugins.module_utils import retention
from ansible_collections.forexai.dr.plugins.module_utils.retention import (
    DELETE_EXPIRED,
    DELETE_EXPIRED_UNVERIFIED,
    KEEP_FUTURE,
    KEEP_MONTHLY,
    KEEP_NEWEST_VERIFIED,
    KEEP_WINDOW,
    RetentionPolicy,
    decide,
    months_before,
)

UTC = datetime.timezone.utc


def at(text):
    """'2026-11-25T18:00' -> aware UTC datetime."""
    return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M').replace(tzinfo=UTC)


def bset(when, verified=True, location='local'):
    started = at(when)
    return {
        'id': started.strftime('%Y%m%dT%H%M%SZ'),
        'started_at': started,
        'verified': verified,
        'location': location,
    }


def sid(when):
    return at(when).strftime('%Y%m%dT%H%M%SZ')


def reasons(result):
    out = {}
    for kind in ('keep', 'delete'):
        for entry in result[kind]:
            out[(entry['location'], entry['id'])] = entry['reason']
    return out


CASES = [
    pytest.param(
        '2026-03-02T00:00',
        [
            ('2025-12-31T18:00', True, 'local'),
            ('2026-01-01T00:00', True, 'local'),
            ('2026-01-01T06:00', True, 'local'),
            ('2026-01-30T23:59', True, 'local'),
            ('2026-03-01T18:00', True, 'local'),
        ],
        {
            '2025-12-31T18:00': KEEP_MONTHLY,
            '2026-01-01T00:00': KEEP_MONTHLY,
            '2026-01-01T06:00': DELETE_EXPIRED,
            '2026-01-30T23:59': DELETE_EXPIRED,
            '2026-03-01T18:00': KEEP_NEWEST_VERIFIED,
        },
        id='month-boundary-first-of-month-is-monthly',
    ),
    pytest.param(
        '2026-03-02T00:00',
        [
            ('2026-01-01T00:00', False, 'local'),
            ('2026-01-01T06:00', True, 'local'),
            ('2026-01-01T12:00', True, 'local'),
            ('2026-03-01T18:00', True, 'local'),
        ],
        {
            '2026-01-01T00:00': DELETE_EXPIRED_UNVERIFIED,
            '2026-01-01T06:00': KEEP_MONTHLY,
            '2026-01-01T12:00': DELETE_EXPIRED,
            '2026-03-01T18:00': KEEP_NEWEST_VERIFIED,
        },
        id='monthly-is-first-verified-not-first',
    ),
    pytest.param(
        '2027-01-10T12:00',
        [
            ('2025-12-01T00:00', True, 's3'),
            ('2026-01-01T00:00', True, 's3'),
            ('2026-02-01T00:00', True, 's3'),
            ('2026-02-01T06:00', True, 's3'),
            ('2026-10-12T12:00', True, 's3'),
            ('2026-10-12T11:59', False, 's3'),
            ('2026-12-31T18:00', True, 's3'),
            ('2027-01-10T06:00', True, 's3'),
        ],
        {
            '2025-12-01T00:00': DELETE_EXPIRED,
            '2026-01-01T00:00': DELETE_EXPIRED,
            '2026-02-01T00:00': KEEP_MONTHLY,
            '2026-02-01T06:00': DELETE_EXPIRED,
            '2026-10-12T12:00': KEEP_WINDOW,
            '2026-10-12T11:59': DELETE_EXPIRED_UNVERIFIED,
            '2026-12-31T18:00': KEEP_WINDOW,
            '2027-01-10T06:00': KEEP_NEWEST_VERIFIED,
        },
        id='year-boundary-monthly-expiry-and-s3-window-edge',
    ),
    pytest.param(
        '2028-02-29T12:00',
        [
            ('2027-02-28T06:00', True, 's3'),
            ('2027-03-01T00:00', True, 's3'),
            ('2028-02-29T00:00', True, 's3'),
        ],
        {
            '2027-02-28T06:00': DELETE_EXPIRED,
            '2027-03-01T00:00': KEEP_MONTHLY,
            '2028-02-29T00:00': KEEP_NEWEST_VERIFIED,
        },
        id='leap-day-now-monthly-cutoff-clamped',
    ),
    pytest.param(
        '2029-02-28T12:00',
        [
            ('2028-02-29T00:00', True, 's3'),
            ('2028-02-29T06:00', True, 's3'),
            ('2029-02-28T06:00', True, 's3'),
        ],
        {
            '2028-02-29T00:00': KEEP_MONTHLY,
            '2028-02-29T06:00': DELETE_EXPIRED,
            '2029-02-28T06:00': KEEP_NEWEST_VERIFIED,
        },
        id='leap-day-set-kept-a-year',
    ),
    pytest.param(
        '2028-03-01T00:00',
        [
            ('2028-01-30T23:00', False, 'local'),
            ('2028-01-31T00:00', False, 'local'),
            ('2028-02-29T18:00', True, 'local'),
        ],
        {
            '2028-01-30T23:00': DELETE_EXPIRED_UNVERIFIED,
            '2028-01-31T00:00': KEEP_WINDOW,
            '2028-02-29T18:00': KEEP_NEWEST_VERIFIED,
        },
        id='leap-year-local-window-boundary-inclusive',
    ),
    pytest.param(
        '2026-11-25T18:00',
        [
            ('2026-01-05T00:00', True, 's3'),
            ('2026-01-06T00:00', False, 's3'),
            ('2026-11-26T00:00', True, 's3'),
            ('2027-05-01T00:00', False, 's3'),
        ],
        {
            '2026-01-05T00:00': KEEP_NEWEST_VERIFIED,
            '2026-01-06T00:00': DELETE_EXPIRED_UNVERIFIED,
            '2026-11-26T00:00': KEEP_FUTURE,
            '2027-05-01T00:00': KEEP_FUTURE,
        },
        id='clock-skew-future-kept-and-newest-past-verified-protected',
    ),
    pytest.param(
        '2026-11-25T18:00',
        [
            ('2026-09-01T00:00', False, 'local'),
            ('2026-10-26T17:59', False, 'local'),
            ('2026-10-26T18:00', False, 'local'),
            ('2026-11-25T12:00', False, 'local'),
        ],
        {
            '2026-09-01T00:00': DELETE_EXPIRED_UNVERIFIED,
            '2026-10-26T17:59': DELETE_EXPIRED_UNVERIFIED,
            '2026-10-26T18:00': KEEP_WINDOW,
            '2026-11-25T12:00': KEEP_WINDOW,
        },
        id='all-unverified',
    ),
    pytest.param(
        '2026-11-25T18:00',
        [('2024-06-15T06:00', True, 'local')],
        {'2024-06-15T06:00': KEEP_NEWEST_VERIFIED},
        id='single-old-verified-set-never-deleted',
    ),
    pytest.param(
        '2026-11-25T18:00',
        [('2024-06-15T06:00', False, 's3')],
        {'2024-06-15T06:00': DELETE_EXPIRED_UNVERIFIED},
        id='single-old-unverified-set',
    ),
]


@pytest.mark.parametrize('now, sets, expected', CASES)
def test_decide_reasons(now, sets, expected):
    result = decide([bset(w, v, loc) for w, v, loc in sets], at(now))
    location = sets[0][2]
    assert reasons(result) == {(location, sid(w)): r for w, r in expected.items()}
    kept = {e['id'] for e in result['keep']}
    deleted = {e['id'] for e in result['delete']}
    assert not kept & deleted
    assert {e['id'] for e in result['future']} == {
        sid(w) for w, r in expected.items() if r == KEEP_FUTURE}


def test_locations_decided_independently():
    sets = [bset('2026-10-10T00:00', True, 'local'), bset('2026-10-10T00:00', True, 's3'),
            bset('2026-10-10T06:00', True, 'local'), bset('2026-10-10T06:00', True, 's3'),
            bset('2026-11-25T12:00', True, 'local')]
    result = decide(sets, at('2026-11-25T18:00'))
    assert reasons(result) == {
        ('local', sid('2026-10-10T00:00')): KEEP_MONTHLY,
        ('local', sid('2026-10-10T06:00')): DELETE_EXPIRED,
        ('local', sid('2026-11-25T12:00')): KEEP_NEWEST_VERIFIED,
        ('s3', sid('2026-10-10T00:00')): KEEP_WINDOW,
        ('s3', sid('2026-10-10T06:00')): KEEP_NEWEST_VERIFIED,
    }


def test_monthly_locations_limit_monthly_keep():
    sets = [bset('2026-08-01T00:00'), bset('2026-11-25T12:00')]
    policy = RetentionPolicy(monthly_locations=('s3',))
    result = decide(sets, at('2026-11-25T18:00'), policy)
    assert reasons(result)[('local', sid('2026-08-01T00:00'))] == DELETE_EXPIRED


def test_custom_windows():
    sets = [bset('2026-11-20T00:00', True), bset('2026-11-24T00:00', True),
            bset('2026-11-25T00:00', True)]
    policy = RetentionPolicy(local_days=2, monthly_keep_months=0)
    result = decide(sets, at('2026-11-25T18:00'), policy)
    assert [e['id'] for e in result['delete']] == [sid('2026-11-20T00:00')]
    assert result['delete'][0]['detail'] == 'monthly snapshot older than 0 months'


def test_entries_sorted_and_complete():
    sets = [bset('2026-11-25T12:00', True, 's3'), bset('2026-11-25T06:00', True, 'local'),
            bset('2026-11-25T00:00', True, 'local')]
    result = decide(sets, at('2026-11-25T18:00'))
    assert [(e['location'], e['id']) for e in result['keep']] == [
        ('local', sid('2026-11-25T00:00')), ('local', sid('2026-11-25T06:00')),
        ('s3', sid('2026-11-25T12:00'))]
    entry = result['keep'][0]
    assert set(entry) == {'id', 'location', 'started_at', 'verified', 'reason', 'detail'}
    assert entry['detail'] == 'younger than the local window of 30 days'


def test_other_timezones_are_normalised():
    tz = datetime.timezone(datetime.timedelta(hours=-5))
    started = datetime.datetime(2026, 10, 31, 22, 0, tzinfo=tz)  # 2026-11-01T03:00Z
    sets = [{'id': 'a', 'started_at': started, 'verified': True, 'location': 'local'},
            {'id': 'b', 'started_at': at('2026-11-01T06:00'), 'verified': True,
             'location': 'local'},
            {'id': 'c', 'started_at': at('2027-01-20T00:00'), 'verified': True,
             'location': 'local'}]
    result = decide(sets, at('2027-01-20T06:00'))
    assert reasons(result) == {('local', 'a'): KEEP_MONTHLY, ('local', 'b'): DELETE_EXPIRED,
                               ('local', 'c'): KEEP_NEWEST_VERIFIED}


def test_empty_input():
    assert decide([], at('2026-11-25T18:00')) == {'keep': [], 'delete': [], 'future': []}


def test_objects_with_attributes_accepted():
    class Item:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    result = decide([Item(id='x', started_at=at('2020-01-01T00:00'), verified=False,
                          location='local')], at('2026-11-25T18:00'))
    assert result['delete'][0]['reason'] == DELETE_EXPIRED_UNVERIFIED


@pytest.mark.parametrize('moment, months, expected', [
    ('2026-11-25T18:00', 12, '2025-11-25T18:00'),
    ('2026-03-31T00:00', 1, '2026-02-28T00:00'),
    ('2028-03-31T00:00', 1, '2028-02-29T00:00'),
    ('2028-02-29T12:00', 12, '2027-02-28T12:00'),
    ('2027-01-15T00:00', 1, '2026-12-15T00:00'),
    ('2027-01-15T00:00', 13, '2025-12-15T00:00'),
    ('2027-01-15T00:00', 0, '2027-01-15T00:00'),
])
def test_months_before(moment, months, expected):
    assert months_before(at(moment), months) == at(expected)


@pytest.mark.parametrize('sets, now, message', [
    ([{'id': 'a', 'started_at': datetime.datetime(2026, 1, 1), 'verified': True,
       'location': 'local'}], at('2026-11-25T18:00'),
     'backup set a: started_at must be a timezone-aware datetime'),
    ([{'id': 'a', 'started_at': at('2026-01-01T00:00'), 'verified': True,
       'location': 'nas'}], at('2026-11-25T18:00'),
     "backup set a: location must be one of local, s3, got 'nas'"),
    ([{'id': 'a', 'started_at': at('2026-01-01T00:00'), 'verified': 'yes',
       'location': 'local'}], at('2026-11-25T18:00'),
     "backup set a: verified must be a boolean, got 'yes'"),
    ([bset('2026-01-01T00:00'), bset('2026-01-01T00:00')], at('2026-11-25T18:00'),
     'backup set 20260101T000000Z is listed twice for location local'),
    ([{'id': 'a', 'verified': True, 'location': 'local'}], at('2026-11-25T18:00'),
     "backup set 'a' has no 'started_at'"),
    ([], datetime.datetime(2026, 1, 1), 'now must be a timezone-aware datetime'),
])
def test_bad_input(sets, now, message):
    with pytest.raises(ValueError) as err:
        decide(sets, now)
    assert str(err.value) == message


@pytest.mark.parametrize('kwargs, message', [
    ({'local_days': -1}, 'local_days must be a non-negative integer, got -1'),
    ({'s3_days': '90'}, "s3_days must be a non-negative integer, got '90'"),
    ({'monthly_keep_months': True}, 'monthly_keep_months must be a non-negative integer, got True'),
    ({'monthly_locations': ('local', 'tape')}, 'monthly_locations has unknown location(s): tape'),
])
def test_bad_policy(kwargs, message):
    with pytest.raises(ValueError) as err:
        RetentionPolicy(**kwargs)
    assert str(err.value) == message


def test_policy_defaults_match_plan():
    policy = RetentionPolicy()
    assert (policy.local_days, policy.s3_days, policy.monthly_keep_months) == (30, 90, 12)
    assert policy.monthly_locations == retention.LOCATIONS
