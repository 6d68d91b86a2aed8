# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan's time comparisons: the same parser as the RTO/RPO figures, independent of the
control node's time zone."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.forexai.dr.plugins.filter import recovery_time


@pytest.fixture
def far_from_utc():
    """The control node in UTC+13: a naive-as-local reading would be 13 hours off."""
    saved = os.environ.get('TZ')
    os.environ['TZ'] = 'Pacific/Auckland'
    time.tzset()
    yield
    if saved is None:
        del os.environ['TZ']
    else:
        os.environ['TZ'] = saved
    time.tzset()


@pytest.mark.parametrize('value', [
    '2026-12-02T03:00:00Z', '2026-12-02 03:00:00+00', '2026-12-02T05:00:00+02:00',
    '2026-12-02T03:00:00', 1796180400, '1796180400',
])
def test_to_epoch_reads_each_form_as_the_same_moment(far_from_utc, value):
    assert recovery_time.to_epoch(value) == 1796180400.0


def test_to_epoch_compares_a_target_with_the_end_of_the_archive(far_from_utc):
    end = '2026-12-02T03:00:00Z'
    assert recovery_time.to_epoch('2026-12-02T03:00:01Z') > recovery_time.to_epoch(end)
    assert recovery_time.to_epoch('2026-12-02T04:59:59+02:00') < recovery_time.to_epoch(end)


@pytest.mark.parametrize('value', ['last tuesday at teatime', '', '2026-13-45T00:00:00Z', None])
def test_to_epoch_refuses_what_is_not_a_time(value):
    with pytest.raises(AnsibleFilterError, match='to_epoch'):
        recovery_time.to_epoch(value)


def test_to_epoch_gives_the_default_instead(far_from_utc):
    assert recovery_time.to_epoch('soon', None) is None
    assert recovery_time.to_epoch('2026-12-02T03:00:00Z', None) == 1796180400.0


@pytest.mark.parametrize('seconds, text', [(6.24, '6.2s'), (245, '4m 5s'), (3723, '1h 2m 3s')])
def test_duration(seconds, text):
    assert recovery_time.duration(seconds) == text


def test_duration_refuses_what_is_not_a_number():
    with pytest.raises(AnsibleFilterError, match='duration'):
        recovery_time.duration('soon')


def test_the_filters_are_registered():
    assert set(recovery_time.FilterModule().filters()) == {'to_epoch', 'duration'}
