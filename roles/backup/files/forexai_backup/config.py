# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The configuration: JSON at /etc/forexai/backup.conf (the role's backup.conf.j2), every key
defaulted here, types and choices checked, the retention policy built from it."""

import json
import os

import retention

from forexai_backup.common import EXIT_USAGE, BackupError

DEFAULTS = {
    'backup_dir': '/var/backups/forexai',
    'lock_file': '/run/lock/forexai-backup.lock',
    'metrics_dir': '',
    'failure_hook': '',
    'failure_hook_timeout': 60,
    'min_free_mb': 256,
    # Where the sets are test-restored when this run does not (--verify): the hosts that
    # verify the S3 copies and record the verdict beside them ('' when none is configured).
    'verified_elsewhere_by': '',
    'database': {
        'name': 'forexai',
        'host': '',
        'port': 5432,
        'user': 'postgres',
        'os_user': 'postgres',
        'passfile': '',
        'bin_dir': '/usr/lib/postgresql/15/bin',
        'format': 'custom',
        'jobs': 1,
        'compress_level': 6,
        'min_dump_bytes': 1024,
        'connect_timeout': 10,
    },
    'files': {
        'paths': [],
        'exclude': [],
        'compression': 'gzip',
    },
    'config_files': {
        'paths': [],
        'age_recipients': [],
        'age_binary': 'age',
    },
    # The cluster's roles (with password hashes), memberships and settings: pg_dumpall
    # --globals-only, encrypted to config_files.age_recipients. A new host needs them.
    'globals': {
        'enabled': True,
    },
    's3': {
        'bucket': '',
        'prefix': 'forexai',
        'endpoint_url': '',
        'region': 'us-east-1',
        'ca_bundle': '',
        'addressing_style': 'auto',
        'credentials_file': '',
        'sse': '',
        'sse_kms_key_id': '',
        'checksum_algorithm': 'SHA256',
        'verify_upload': 'checksum',
        'multipart_threshold_mb': 64,
        'multipart_chunksize_mb': 16,
        'max_concurrency': 4,
        'attempts': 5,
        'backoff_seconds': 2.0,
        'connect_timeout': 10,
        'read_timeout': 60,
    },
    'retention': {
        'local_days': 30,
        's3_days': 90,
        'monthly_keep_months': 12,
        'monthly_locations': ['local', 's3'],
    },
}

CHOICES = {
    ('database', 'format'): ('custom', 'directory'),
    ('files', 'compression'): ('gzip', 'xz'),
    ('s3', 'addressing_style'): ('auto', 'path', 'virtual'),
    ('s3', 'sse'): ('', 'AES256', 'aws:kms'),
    ('s3', 'checksum_algorithm'): ('', 'SHA256'),
    ('s3', 'verify_upload'): ('checksum', 'download'),
}


def _merge(defaults, given, path=''):
    merged = {}
    for key, default in defaults.items():
        if key not in given:
            merged[key] = json.loads(json.dumps(default))
            continue
        value = given[key]
        where = path + key
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise BackupError(EXIT_USAGE, 'config %s must be an object' % where)
            merged[key] = _merge(default, value, where + '.')
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise BackupError(EXIT_USAGE, 'config %s must be true or false' % where)
            merged[key] = value
        elif isinstance(default, int) and not isinstance(default, bool):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise BackupError(EXIT_USAGE, 'config %s must be a non-negative integer' % where)
            merged[key] = value
        elif isinstance(default, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise BackupError(EXIT_USAGE, 'config %s must be a non-negative number' % where)
            merged[key] = float(value)
        elif isinstance(default, list):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise BackupError(EXIT_USAGE, 'config %s must be a list of strings' % where)
            merged[key] = list(value)
        else:
            if value is None:
                value = ''
            if not isinstance(value, str):
                raise BackupError(EXIT_USAGE, 'config %s must be a string' % where)
            merged[key] = value
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise BackupError(EXIT_USAGE, 'config has unknown key(s): %s'
                          % ', '.join(path + k for k in unknown))
    return merged


def load_config(path):
    """Read the JSON configuration and fill in defaults. Raises BackupError(EXIT_USAGE)."""
    try:
        with open(path, 'r', encoding='utf-8') as handle:
            given = json.load(handle)
    except FileNotFoundError:
        raise BackupError(EXIT_USAGE, 'configuration file %s does not exist' % path)
    except (OSError, ValueError) as exc:
        raise BackupError(EXIT_USAGE, 'cannot read configuration %s: %s' % (path, exc))
    if not isinstance(given, dict):
        raise BackupError(EXIT_USAGE, 'configuration %s must be a JSON object' % path)
    cfg = _merge(DEFAULTS, given)
    for (section, key), allowed in CHOICES.items():
        if cfg[section][key] not in allowed:
            raise BackupError(EXIT_USAGE, 'config %s.%s must be one of %s, got %r'
                              % (section, key, ', '.join(repr(a) for a in allowed),
                                 cfg[section][key]))
    if not cfg['database']['name']:
        raise BackupError(EXIT_USAGE, 'config database.name is empty')
    if cfg['database']['jobs'] < 1:
        raise BackupError(EXIT_USAGE, 'config database.jobs must be at least 1')
    if cfg['database']['jobs'] > 1 and cfg['database']['format'] != 'directory':
        raise BackupError(EXIT_USAGE, 'config database.jobs > 1 needs database.format directory')
    for recipient in cfg['config_files']['age_recipients']:
        if recipient.strip().upper().startswith('AGE-SECRET-KEY'):
            raise BackupError(EXIT_USAGE, 'config_files.age_recipients holds an age SECRET key; '
                              'only public recipients (age1...) belong on this host')
        if not (recipient.startswith('age1') or recipient.startswith('ssh-')):
            raise BackupError(EXIT_USAGE, 'config_files.age_recipients entry %r is not an age '
                              'public recipient (age1...) or SSH public key' % recipient)
    if cfg['config_files']['paths'] and not cfg['config_files']['age_recipients']:
        raise BackupError(EXIT_USAGE, 'config_files.paths is set but age_recipients is empty: '
                          'configuration is never stored unencrypted')
    for section in ('files', 'config_files'):
        for item in cfg[section]['paths']:
            if not os.path.isabs(item):
                raise BackupError(EXIT_USAGE, 'config %s.paths entry %r is not absolute'
                                  % (section, item))
    if not os.path.isabs(cfg['backup_dir']):
        raise BackupError(EXIT_USAGE, 'config backup_dir must be an absolute path')
    try:
        cfg['policy'] = retention.RetentionPolicy(
            local_days=cfg['retention']['local_days'], s3_days=cfg['retention']['s3_days'],
            monthly_keep_months=cfg['retention']['monthly_keep_months'],
            monthly_locations=tuple(cfg['retention']['monthly_locations']))
    except ValueError as exc:
        raise BackupError(EXIT_USAGE, 'config retention: %s' % exc)
    return cfg
