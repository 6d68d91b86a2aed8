# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup role: what its defaults must say (the generic spec checks are in ../test_argument_specs.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import yaml

ROLE = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..',
                                    'roles', 'backup'))


def load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return yaml.safe_load(handle)


DEFAULTS = load('defaults', 'main.yml')
SPECS = load('meta', 'argument_specs.yml')['argument_specs']


def test_main_entry_point_covers_every_setup_variable():
    main = set(SPECS['main']['options'])
    expected = {name for name in DEFAULTS
                if not name.startswith(('backup_now_', 'backup_verify_'))}
    # forexai_s3, the shared S3 location, comes from the inventory, not from the role.
    assert main == expected | {'forexai_s3'}


def test_public_names_and_secrets():
    assert all(name.startswith('backup_') for name in DEFAULTS)
    assert DEFAULTS['backup_no_log'] is True


def test_schedule_follows_the_plan():
    assert (DEFAULTS['backup_cron_minute'], DEFAULTS['backup_cron_hour']) == ('0', '*/6')
    # The plan's `--verify --upload`, except that the test restore moved off the primary: the
    # verifiers group test-restores the S3 copies (a restore on the primary loads production).
    assert DEFAULTS['backup_run_upload'] and not DEFAULTS['backup_run_verify']
    assert DEFAULTS['backup_verifiers_group'] == 'backup_verifiers'
    assert DEFAULTS['backup_now_verify'] is True
    assert DEFAULTS['backup_log_file'] == '/var/log/forex-ai-backup.log'
    assert (DEFAULTS['backup_retention_local_days'], DEFAULTS['backup_retention_s3_days'],
            DEFAULTS['backup_retention_monthly_keep_months']) == (30, 90, 12)
