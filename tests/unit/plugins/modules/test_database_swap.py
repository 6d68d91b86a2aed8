# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""database_swap waits for the ended sessions to go before it renames (pure logic, a fake
cursor and clock; the real swap is proven in molecule/restore)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.forexai.dr.plugins.module_utils import restore as rlib
from ansible_collections.forexai.dr.plugins.modules import database_swap as module


class Sessions:
    """A cursor whose session count falls as the fake clock moves on."""

    def __init__(self, counts):
        self.counts = list(counts)
        self.now = 0.0

    def execute(self, statement, params=None):
        assert statement == module.SESSIONS_SQL

    def fetchone(self):
        return (self.counts.pop(0) if len(self.counts) > 1 else self.counts[0],)

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_it_waits_until_the_sessions_are_gone():
    cur = Sessions([3, 2, 0])
    waited = module.wait_for_sessions(cur, ['forexai'], 5, clock=cur.clock, sleep=cur.sleep)
    assert waited == pytest.approx(0.4)


def test_it_gives_up_after_the_timeout_and_says_nothing_was_renamed():
    cur = Sessions([1])
    with pytest.raises(rlib.RestoreError) as err:
        module.wait_for_sessions(cur, ['forexai', 'forexai_restore_x'], 2, clock=cur.clock,
                                 sleep=cur.sleep)
    assert str(err.value) == (
        '1 session(s) on forexai, forexai_restore_x still open 2 s after they were ended; '
        'nothing was renamed and both databases accept connections again')


def test_the_timeout_is_an_option():
    assert module.argument_spec()['sessions_timeout'] == {'type': 'int', 'default': 60}
