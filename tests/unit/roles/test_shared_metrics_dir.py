# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""backup and wal_archive both make the node exporter's textfile folder; with different owners or
modes each run of one role undid the other (a second setup_backups after wal_archive reported
changed, and the postgres cron job lost write access). One owner, one group, one mode."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))


def directory_task(role, tasks_file, path_var):
    with open(os.path.join(ROOT, 'roles', role, 'tasks', tasks_file)) as handle:
        tasks = yaml.safe_load(handle)
    found = [t['ansible.builtin.file'] for t in tasks
             if 'ansible.builtin.file' in t
             and t['ansible.builtin.file'].get('path') == '{{ %s }}' % path_var]
    assert len(found) == 1, (role, found)
    return found[0]


def defaults(role):
    with open(os.path.join(ROOT, 'roles', role, 'defaults', 'main.yml')) as handle:
        return yaml.safe_load(handle)


def test_both_roles_default_to_the_same_folder():
    assert defaults('backup')['backup_metrics_dir'] == \
        defaults('wal_archive')['wal_archive_metrics_dir']


def test_both_roles_give_the_folder_the_same_owner_group_and_mode():
    backup = directory_task('backup', 'configure.yml', 'backup_metrics_dir')
    wal = directory_task('wal_archive', 'monitoring.yml', 'wal_archive_metrics_dir')
    assert backup['owner'] == wal['owner'] == 'root'
    assert backup['mode'] == wal['mode'] == '0775'
    # the group is each role's database user: the same account on a host
    assert backup['group'] == '{{ backup_db_os_user }}'
    assert wal['group'] == '{{ wal_archive_os_user }}'
    assert defaults('backup')['backup_db_os_user'] == defaults('wal_archive')['wal_archive_os_user']
