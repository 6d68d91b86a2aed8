# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is there room for what a step is about to write? One check for every step that writes much
(a download, a restored database, a side restore), with the numbers in its message.

Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil

MIB = 1024 * 1024
UNITS = (('TiB', 1024 ** 4), ('GiB', 1024 ** 3), ('MiB', MIB), ('KiB', 1024))


def describe_bytes(count):
    """``1.5 GiB``, ``300.0 MiB``, ``12 B``."""
    count = int(count)
    for unit, size in UNITS:
        if abs(count) >= size:
            return '%.1f %s' % (count / float(size), unit)
    return '%d B' % count


def existing_ancestor(path):
    """``path`` or the nearest folder above it that exists (where it will be made)."""
    path = os.path.abspath(path)
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def free_bytes(path, disk_usage=shutil.disk_usage):
    """Bytes free to this user's writes on the file system that holds (or will hold) ``path``."""
    return disk_usage(existing_ancestor(path)).free


def shortfall(what, path, needed, free, reserve=0):
    """None when ``needed`` bytes fit into ``free`` leaving ``reserve``; else the message."""
    needed, free, reserve = int(needed), int(free), int(reserve)
    if needed + reserve <= free:
        return None
    return ('not enough free space in %s for %s: it needs %s%s, and %s is free (short by %s); '
            'nothing was written' % (
                path, what, describe_bytes(needed),
                ' plus %s kept free' % describe_bytes(reserve) if reserve else '',
                describe_bytes(free), describe_bytes(needed + reserve - free)))
