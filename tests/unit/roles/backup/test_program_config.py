# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""forexai_backup.config: the JSON configuration, its defaults and its checks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

import pytest

from forexai_backup import config
from forexai_backup.common import EXIT_USAGE, BackupError

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
TEMPLATE = os.path.join(ROOT, 'roles', 'backup', 'templates', 'backup.conf.j2')


def test_defaults_follow_the_plan(load):
    cfg = load({})
    assert cfg['database']['name'] == 'forexai'
    assert cfg['database']['user'] == 'postgres' and cfg['database']['host'] == ''
    assert cfg['backup_dir'] == '/var/backups/forexai'
    assert (cfg['policy'].local_days, cfg['policy'].s3_days,
            cfg['policy'].monthly_keep_months) == (30, 90, 12)
    assert (cfg['s3']['connect_timeout'], cfg['s3']['read_timeout']) == (10, 60)


def test_given_values_win_and_defaults_are_copies(load):
    cfg = load({'database': {'port': 5433}, 'files': {'paths': ['/srv/forexai']},
                's3': {'backoff_seconds': 1}})
    assert cfg['database']['port'] == 5433 and cfg['database']['name'] == 'forexai'
    assert cfg['s3']['backoff_seconds'] == 1.0 and isinstance(cfg['s3']['backoff_seconds'], float)
    cfg['files']['exclude'].append('*.tmp')
    assert config.DEFAULTS['files']['exclude'] == []


@pytest.mark.parametrize('data, message', [
    ({'database': {'format': 'tar'}},
     "config database.format must be one of 'custom', 'directory', got 'tar'"),
    ({'database': {'jobs': 4}}, 'config database.jobs > 1 needs database.format directory'),
    ({'database': {'jobs': 0}}, 'config database.jobs must be at least 1'),
    ({'database': {'name': ''}}, 'config database.name is empty'),
    ({'database': {'port': '5432'}}, 'config database.port must be a non-negative integer'),
    ({'database': {'port': True}}, 'config database.port must be a non-negative integer'),
    ({'database': []}, 'config database must be an object'),
    ({'s3': {'sse': 'DES'}}, "config s3.sse must be one of '', 'AES256', 'aws:kms', got 'DES'"),
    ({'s3': {'bukket': 'x'}}, 'config has unknown key(s): s3.bukket'),
    ({'s3': {'backoff_seconds': -1}}, 'config s3.backoff_seconds must be a non-negative number'),
    ({'files': {'paths': ['relative/dir']}}, "config files.paths entry 'relative/dir' is not absolute"),
    ({'files': {'paths': [1]}}, 'config files.paths must be a list of strings'),
    ({'backup_dir': 'var/backups'}, 'config backup_dir must be an absolute path'),
    ({'config_files': {'paths': ['/etc/forexai/forexai.env']}},
     'config_files.paths is set but age_recipients is empty: configuration is never stored '
     'unencrypted'),
    ({'config_files': {'age_recipients': ['AGE-SECRET-KEY-1QQQ']}},
     'config_files.age_recipients holds an age SECRET key; only public recipients (age1...) '
     'belong on this host'),
    ({'config_files': {'age_recipients': ['bob']}},
     "config_files.age_recipients entry 'bob' is not an age public recipient (age1...) or SSH "
     'public key'),
    ({'retention': {'monthly_locations': ['tape']}},
     'config retention: monthly_locations has unknown location(s): tape'),
    ([], 'must be a JSON object'),
])
def test_bad_config(write_config, data, message):
    with pytest.raises(BackupError) as err:
        config.load_config(write_config(data))
    assert err.value.code == EXIT_USAGE
    assert message in err.value.message


def test_missing_config(tmp_path):
    with pytest.raises(BackupError) as err:
        config.load_config(str(tmp_path / 'nope.conf'))
    assert err.value.code == EXIT_USAGE
    assert err.value.message == 'configuration file %s does not exist' % (tmp_path / 'nope.conf')


def test_unreadable_json(tmp_path):
    path = tmp_path / 'backup.conf'
    path.write_text('{"backup_dir": ')
    with pytest.raises(BackupError) as err:
        config.load_config(str(path))
    assert err.value.message.startswith('cannot read configuration %s: ' % path)


def test_the_role_template_writes_only_known_keys():
    """backup.conf.j2 (the role) and DEFAULTS (the program) name the same settings."""
    text = open(TEMPLATE).read()
    written = set(re.findall(r"^\s*'([a-z_0-9]+)':", text, re.M))
    known = set(config.DEFAULTS)
    for value in config.DEFAULTS.values():
        if isinstance(value, dict):
            known |= set(value)
    assert written <= known, sorted(written - known)
    assert set(config.DEFAULTS) <= written


def test_a_full_configuration_as_the_role_writes_it(load):
    data = json.loads(json.dumps(config.DEFAULTS))
    data['s3'].update(bucket='forexai-backups', endpoint_url='https://objectstore',
                      credentials_file='/etc/forexai/backup-s3-credentials')
    cfg = load(data)
    assert cfg['s3']['bucket'] == 'forexai-backups'
