# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The free-space check every large write goes through (pure logic; the real file systems are
measured in molecule/restore)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections

import pytest

from ansible_collections.forexai.dr.plugins.module_utils import free_space as fs

GIB = 1024 ** 3


@pytest.mark.parametrize('count, text', [
    (12, '12 B'), (2048, '2.0 KiB'), (300 * fs.MIB, '300.0 MiB'), (int(1.5 * GIB), '1.5 GiB'),
    (3 * 1024 * GIB, '3.0 TiB'),
])
def test_describe_bytes(count, text):
    assert fs.describe_bytes(count) == text


def test_it_fits_exactly():
    assert fs.shortfall('the download', '/x', GIB, GIB + 256 * fs.MIB, 256 * fs.MIB) is None


def test_a_shortfall_gives_every_number():
    assert fs.shortfall('the download of set 20261125T180000Z', '/var/tmp/forexai-restore',
                        2 * GIB, GIB, 256 * fs.MIB) == (
        'not enough free space in /var/tmp/forexai-restore for the download of set '
        '20261125T180000Z: it needs 2.0 GiB plus 256.0 MiB kept free, and 1.0 GiB is free '
        '(short by 1.2 GiB); nothing was written')


def test_without_a_reserve_the_message_says_none():
    assert fs.shortfall('x', '/p', 10, 5) == (
        'not enough free space in /p for x: it needs 10 B, and 5 B is free (short by 5 B); '
        'nothing was written')


def test_a_folder_not_made_yet_is_measured_where_it_will_be(tmp_path):
    target = tmp_path / 'a' / 'b' / 'c'
    assert fs.existing_ancestor(str(target)) == str(tmp_path)
    usage = collections.namedtuple('usage', 'total used free')
    seen = []

    def disk_usage(path):
        seen.append(path)
        return usage(100, 40, 60)

    assert fs.free_bytes(str(target), disk_usage=disk_usage) == 60
    assert seen == [str(tmp_path)]
