# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of forexai.dr.restore_progress: async_status plus what pg_restore is doing.

Modules cannot ask for their result to be shown on every retry; an action plugin can
(``_ansible_verbose_always``), so a polling loop shows progress at the default verbosity.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shlex

from ansible.plugins.action import ActionBase

# Counts tables loaded and indexes/constraints built so far, and the last step started.
PROBE = (
    'log=%(log)s; [ -r "$log" ] || exit 0; '
    'printf "%%s\\t%%s\\t" "$(grep -c "processing data for table" "$log")" '
    '"$(grep -c -E "creating (INDEX|CONSTRAINT|FK CONSTRAINT)" "$log")"; '
    'grep -E "processing data for table|creating [A-Z]|launching item" "$log" | tail -n 1'
)


def progress_text(probe_output):
    """'12 tables loaded, 4 indexes/constraints built; now: creating INDEX ...' from the probe."""
    parts = probe_output.strip().split('\t', 2)
    if len(parts) < 2 or not parts[0].isdigit():
        return 'starting'
    text = '%s tables loaded, %s indexes/constraints built' % (parts[0], parts[1])
    if len(parts) == 3 and parts[2].strip():
        text += '; last: %s' % parts[2].strip().replace('pg_restore: ', '')
    return text


class ActionModule(ActionBase):

    _VALID_ARGS = frozenset(('jid', 'log'))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        _valid, args = self.validate_argument_spec(argument_spec={
            'jid': {'type': 'str', 'required': True},
            'log': {'type': 'str', 'default': ''},
        })
        async_dir = self._remote_expand_user(
            self.get_shell_option('async_dir', default='~/.ansible_async'))
        status = self._execute_module(
            module_name='ansible.legacy.async_status', task_vars=task_vars,
            module_args={'jid': args['jid'], 'mode': 'status', '_async_dir': async_dir})
        result.update(status)
        result['started'] = bool(result.get('started'))
        result['finished'] = bool(result.get('finished'))
        if args['log']:
            probe = self._low_level_execute_command(
                'sh -c %s' % shlex.quote(PROBE % {'log': shlex.quote(args['log'])}))
            result['progress'] = progress_text(probe.get('stdout', ''))
        if not result['finished']:
            # Shown on every retry of an until loop, even without -v.
            result['_ansible_verbose_always'] = True
        return result
