# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of forexai.dr.s3_location: check the shared S3 location, return it normalised.

Runs on the controller only; nothing is sent to the host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.forexai.dr.plugins.module_utils.s3 import (
    LOCATION_VARIABLE, location_defaults, missing_keys, pgbackrest_settings, s3_argument_spec)


def _spec_without_defaults():
    """The S3 options' spec with no defaults: only what was given counts (defaults come last)."""
    spec = s3_argument_spec()
    for option in spec.values():
        option.pop('default', None)
    return spec


def check_location(location, overrides, required, name):
    """(normalised location, pgBackRest settings) or raise ValueError naming what is wrong."""
    if location is None:
        location = {}
    if not isinstance(location, dict):
        raise ValueError('%s must be a dictionary with the keys %s, not %r'
                         % (name, ', '.join(sorted(s3_argument_spec())), type(location).__name__))
    merged = dict(location)
    merged.update(dict((k, v) for k, v in overrides.items() if v is not None))
    checked = ArgumentSpecValidator(_spec_without_defaults()).validate(merged)
    if checked.error_messages:
        raise ValueError('%s is not a valid S3 location: %s' % (name, '; '.join(checked.error_messages)))
    normal = location_defaults()
    normal.update(dict((k, v) for k, v in checked.validated_parameters.items()
                       if k in normal and v is not None))
    missing = missing_keys(normal, required)
    if missing:
        raise ValueError('%s is incomplete: set %s (the S3 location of the off-site backup copies;'
                         ' see the forexai.dr.s3_location documentation)'
                         % (name, ', '.join('%s.%s' % (name, key) for key in missing)))
    try:
        return normal, pgbackrest_settings(normal)
    except ValueError as exc:
        raise ValueError('%s.%s' % (name, exc))


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        spec = _spec_without_defaults()  # only options given explicitly override the location
        spec.update(
            location=dict(type='raw'),
            variable=dict(type='str', default=LOCATION_VARIABLE),
            required=dict(type='list', elements='str', default=['bucket']),
        )
        _valid, args = self.validate_argument_spec(argument_spec=spec)
        overrides = dict((k, args[k]) for k in s3_argument_spec())
        try:
            location, pgbackrest = check_location(args['location'], overrides, args['required'],
                                                  args['variable'])
        except ValueError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        result.update(changed=False, location=location, pgbackrest=pgbackrest)
        return result
