# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Times in plans compared as epochs, through the same parser the RTO/RPO figures use
(module_utils/recovery_objectives.py): an ISO 8601 time with Z or an offset, naive meaning UTC,
whatever the control node's time zone."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.forexai.dr.plugins.module_utils import recovery_objectives as ro

_NO_DEFAULT = object()


def to_epoch(value, default=_NO_DEFAULT):
    """Epoch seconds of a time; ``default`` instead of an error when it is not one."""
    try:
        return ro.to_epoch(value)
    except (ValueError, TypeError, OverflowError) as exc:
        if default is not _NO_DEFAULT:
            return default
        raise AnsibleFilterError('to_epoch: %s' % exc)


def duration(seconds):
    """``1h 2m 3s`` / ``4m 5s`` / ``6.2s`` of a number of seconds."""
    try:
        return ro.describe(seconds)
    except (ValueError, TypeError) as exc:
        raise AnsibleFilterError('duration: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'to_epoch': to_epoch, 'duration': duration}
