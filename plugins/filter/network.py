# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Addresses and networks for firewall rules (breach isolation), with the standard library's
ipaddress: no netaddr needed on the control node."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible.errors import AnsibleFilterError


def _network(value):
    """An ip_network of an address or a CIDR; None when the value is neither (a host name)."""
    text = str(value).strip()
    if text.startswith('[') and text.endswith(']'):
        text = text[1:-1]
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def ip_families(values):
    """Split addresses and networks by family; names (anything else) are listed apart.

    ``['10.0.0.5', '2001:db8::/64', 'bastion']`` gives ``{'ipv4': ['10.0.0.5/32'],
    'ipv6': ['2001:db8::/64'], 'names': ['bastion']}``; each network appears once, in order.
    """
    if isinstance(values, (str, bytes)) or not hasattr(values, '__iter__'):
        raise AnsibleFilterError('ip_families: expects a list, got %r' % (values,))
    result = {'ipv4': [], 'ipv6': [], 'names': []}
    for value in values:
        if value is None or str(value).strip() == '':
            raise AnsibleFilterError('ip_families: an empty entry in %r' % (values,))
        net = _network(value)
        if net is None:
            key, item = 'names', str(value).strip()
        else:
            key, item = 'ipv%d' % net.version, str(net)
        if item not in result[key]:
            result[key].append(item)
    return result


def ip_in_networks(address, networks):
    """True when ``address`` lies in one of ``networks`` (addresses or CIDRs, either family).

    An IPv4 address mapped into IPv6 (``::ffff:10.0.0.5``) is compared as the IPv4 address it is.
    """
    try:
        addr = ipaddress.ip_address(str(address).strip().strip('[]'))
    except ValueError:
        raise AnsibleFilterError('ip_in_networks: %r is not an IP address' % (address,))
    if addr.version == 6 and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    for value in networks:
        net = _network(value)
        if net is not None and net.version == addr.version and addr in net:
            return True
    return False


class FilterModule(object):
    def filters(self):
        return {'ip_families': ip_families, 'ip_in_networks': ip_in_networks}
