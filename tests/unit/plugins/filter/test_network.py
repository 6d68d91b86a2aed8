# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ip_families and ip_in_networks: what the breach isolation role builds its allowlist from."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.forexai.dr.plugins.filter import network as f


def test_the_filters_are_registered():
    assert set(f.FilterModule().filters()) == {'ip_families', 'ip_in_networks'}


def test_families_are_split_normalised_and_deduplicated():
    got = f.ip_families(['10.0.0.5', '10.0.1.7/24', '2001:DB8::1', '[2001:db8::1]', 'bastion.example.net',
                         '10.0.0.5/32', 'bastion.example.net'])
    assert got == {'ipv4': ['10.0.0.5/32', '10.0.1.0/24'], 'ipv6': ['2001:db8::1/128'],
                   'names': ['bastion.example.net']}


@pytest.mark.parametrize('bad', ['10.0.0.5', None, 5])
def test_families_want_a_list(bad):
    with pytest.raises(AnsibleFilterError, match='expects a list'):
        f.ip_families(bad)


@pytest.mark.parametrize('entry', ['', '  ', None])
def test_an_empty_entry_is_an_error(entry):
    with pytest.raises(AnsibleFilterError, match='empty entry'):
        f.ip_families(['10.0.0.5', entry])


@pytest.mark.parametrize('address, networks, expected', [
    ('10.0.0.5', ['10.0.0.5'], True),
    ('10.0.0.5', ['10.0.0.0/24'], True),
    ('10.0.1.5', ['10.0.0.0/24'], False),
    ('10.0.0.5', ['2001:db8::/32', 'bastion'], False),
    ('2001:db8::7', ['2001:db8::/64'], True),
    ('2001:db9::7', ['2001:db8::/64'], False),
    ('::ffff:10.0.0.5', ['10.0.0.0/8'], True),
    ('10.0.0.5', [], False),
])
def test_membership(address, networks, expected):
    assert f.ip_in_networks(address, networks) is expected


def test_a_name_is_not_an_address():
    with pytest.raises(AnsibleFilterError, match='not an IP address'):
        f.ip_in_networks('bastion', ['10.0.0.0/8'])
