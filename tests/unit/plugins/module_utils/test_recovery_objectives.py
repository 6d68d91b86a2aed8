# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""RTO and RPO computed in one place."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.forexai.dr.plugins.module_utils import recovery_objectives as ro


@pytest.mark.parametrize('value, seconds', [
    ('4h', 14400), ('6h', 21600), ('90m', 5400), ('30s', 30), ('1d', 86400), ('1h 30m', 5400),
    (300, 300), ('300', 300), ('2.5m', 150),
])
def test_parse_duration(value, seconds):
    assert ro.parse_duration(value) == seconds


@pytest.mark.parametrize('value', ['', 'four hours', '4x', True, '-3h'])
def test_bad_durations_are_refused(value):
    with pytest.raises(ValueError):
        ro.parse_duration(value)


@pytest.mark.parametrize('seconds, text', [(6.24, '6.2s'), (65, '1m 5s'), (3725, '1h 2m 5s')])
def test_describe(seconds, text):
    assert ro.describe(seconds) == text


def test_rto_from_a_timeline_with_its_phases():
    timeline = [{'name': 'confirmed', 'at': '2026-12-02T03:00:00Z'},
                {'name': 'restore', 'at': '2026-12-02T03:00:30Z'},
                {'name': 'repoint', 'at': 1796180550.0},
                {'name': 'healthy', 'at': '2026-12-02T03:03:00+00:00'}]
    result = ro.rto(timeline, '4h')
    assert result['achieved_seconds'] == 180 and result['met'] is True
    assert result['objective'] == '4h 0m 0s'
    assert [p['name'] for p in result['phases']] == ['restore', 'repoint', 'healthy']
    assert [p['seconds'] for p in result['phases']] == [30, 120, 30]


def test_an_rto_over_its_objective_is_not_met():
    result = ro.rto([], '1m', started=0, recovered=61)
    assert result['met'] is False and result['achieved'] == '1m 1s'


def test_a_timeline_going_back_is_refused():
    with pytest.raises(ValueError, match="goes back in time at 'b'"):
        ro.phases([{'name': 'a', 'at': 10}, {'name': 'b', 'at': 5}])


def test_rpo_from_the_data_and_the_acknowledged_ids():
    result = ro.rpo('2026-12-02T02:59:40Z', '2026-12-02T03:00:00Z', '6h',
                    acknowledged=[1, 2, 3, 4, 5], restored=[1, 2, 3])
    assert result['achieved_seconds'] == 20 and result['met'] is True
    assert result['acknowledged'] == 5 and result['acknowledged_lost'] == 2
    assert result['lost_ids'] == [4, 5]


def test_rpo_is_never_negative():
    assert ro.rpo(100, 50, '6h')['achieved_seconds'] == 0


def test_a_naive_time_is_utc():
    assert ro.to_epoch('2026-12-02T03:00:00') == ro.to_epoch('2026-12-02T03:00:00Z')
    with pytest.raises(ValueError, match='not a time'):
        ro.to_epoch('yesterday')
