# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup program's times in manifests: one shape, so that they compare as strings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from forexai_backup.common import iso


def test_whole_seconds_in_utc_with_z():
    moment = datetime.datetime(2026, 12, 3, 19, 48, 46, 968887, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    assert iso(moment) == '2026-12-03T17:48:46Z'


def test_a_start_and_an_end_in_the_same_second_compare_in_order():
    # (found by CI: '...46Z' <= '...46.968887Z' is False as strings)
    start = datetime.datetime(2026, 12, 3, 17, 48, 46, tzinfo=datetime.timezone.utc)
    end = start.replace(microsecond=968887)
    assert iso(start) <= iso(end)
