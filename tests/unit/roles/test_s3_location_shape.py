# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every role reads the off-site location from the shared ``forexai_s3`` shape, and only there.

A role may tune how it uploads (``backup_s3_multipart_*``) and say where in the bucket its own
repository lives (``wal_archive_repo2_path``), but the location itself — endpoint, bucket,
prefix, region, CA bundle, addressing style, credentials — is never a role variable, never
defaults to the lab's ``objectstores`` group, and reaches the S3 modules only through
``module_defaults: group/forexai.dr.s3`` from a checked ``forexai.dr.s3_location`` result.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest
import yaml

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
ROLES_DIR = os.path.join(TOP, 'roles')
ROLES = sorted(name for name in os.listdir(ROLES_DIR) if os.path.isdir(os.path.join(ROLES_DIR, name)))
S3_MODULES = ('forexai.dr.backup_set_fetch', 'forexai.dr.backup_verify')
LOCATION_KEYS = ('bucket', 'prefix', 'endpoint_url', 'region', 'ca_bundle', 'addressing_style',
                 'access_key', 'secret_key', 'aws_access_key_id', 'aws_secret_access_key')
# Any variable naming a location setting of its own: backup_s3_bucket, wal_archive_s3_endpoint,
# restore_full_s3_access_key, ... (pgBackRest's names included).
OWN_LOCATION = re.compile(
    r'\b[a-z][a-z0-9_]*_s3_(bucket|prefix|endpoint(_url)?|region|ca_bundle|ca_file|addressing_style'
    r'|uri_style|access_key|secret_key|key|key_secret|port)\b')


def _files(*tops):
    for top in tops:
        for root, _dirs, names in os.walk(os.path.join(TOP, top)):
            for name in names:
                if name.endswith(('.yml', '.yaml', '.j2')):
                    yield os.path.join(root, name)


def _read(path):
    with open(path) as handle:
        return handle.read()


def _tasks(path):
    """Every task of a tasks file, blocks flattened."""
    pending = list(yaml.safe_load(_read(path)) or [])
    while pending:
        task = pending.pop()
        if not isinstance(task, dict):
            continue
        for key in ('block', 'rescue', 'always'):
            pending.extend(task.get(key) or [])
        yield task


ROLE_FILES = sorted(_files('roles'))
PLAYBOOK_FILES = sorted(_files('roles', 'playbooks'))
TASK_FILES = sorted(path for path in ROLE_FILES if os.sep + 'tasks' + os.sep in path)


def test_the_check_can_see_the_files():
    assert len(ROLE_FILES) > 40 and TASK_FILES


@pytest.mark.parametrize('path', PLAYBOOK_FILES, ids=lambda p: os.path.relpath(p, TOP))
def test_no_role_or_playbook_has_a_location_setting_of_its_own(path):
    assert sorted(set(m.group(0) for m in OWN_LOCATION.finditer(_read(path)))) == []


@pytest.mark.parametrize('path', PLAYBOOK_FILES, ids=lambda p: os.path.relpath(p, TOP))
def test_nothing_defaults_to_the_lab_object_store(path):
    assert 'objectstores' not in _read(path)


@pytest.mark.parametrize('path', TASK_FILES, ids=lambda p: os.path.relpath(p, TOP))
def test_s3_modules_take_the_location_from_the_checked_shape(path):
    for task in _tasks(path):
        for module in S3_MODULES:
            if module not in task:
                continue
            given = sorted(set(task[module] or {}) & set(LOCATION_KEYS))
            assert given == [], '%s is given %s directly' % (module, given)
            defaults = task.get('module_defaults') or {}
            assert re.match(r'^\{\{ __[a-z_]+_s3\.location \}\}$', defaults.get('group/forexai.dr.s3', '')), \
                '%s without module_defaults group/forexai.dr.s3 from a forexai.dr.s3_location result' % module


def _location_checks(role):
    checks = []
    for path in TASK_FILES:
        if path.startswith(os.path.join(ROLES_DIR, role) + os.sep):
            checks.extend(task for task in _tasks(path) if 'forexai.dr.s3_location' in task)
    return checks


@pytest.mark.parametrize('role', ROLES)
def test_a_role_that_uses_s3_checks_forexai_s3_and_documents_it(role):
    text = ''.join(_read(p) for p in ROLE_FILES if p.startswith(os.path.join(ROLES_DIR, role) + os.sep))
    uses_s3 = any(module in text for module in S3_MODULES) or '-type=s3' in text or "'s3': {" in text
    checks = _location_checks(role)
    specs = yaml.safe_load(_read(os.path.join(ROLES_DIR, role, 'meta', 'argument_specs.yml')))
    documented = any('forexai_s3' in (entry.get('options') or {})
                     for entry in specs['argument_specs'].values())
    if not uses_s3:
        assert checks == [] and not documented
        return
    assert checks, '%s uses S3 but never runs forexai.dr.s3_location' % role
    for task in checks:
        assert task['forexai.dr.s3_location']['location'].startswith('{{ forexai_s3')
        assert re.match(r'^__%s_s3$' % role, task['register'])
        assert 'no_log' in task  # the result holds the keys
    assert documented, '%s reads forexai_s3 without listing it in meta/argument_specs.yml' % role
