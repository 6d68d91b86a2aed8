# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The program as the role installs it: the package and the module_utils beside it.

The files are laid out in a temporary library directory exactly as roles/backup/tasks/
install.yml does it (from roles/backup/vars/main.yml), then run the way the wrapper runs
them, by a fresh Python that does not have this collection on its path.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
ROLE = os.path.join(ROOT, 'roles', 'backup')
VARS = yaml.safe_load(open(os.path.join(ROLE, 'vars', 'main.yml')))
PACKAGE_DIR = os.path.join(ROLE, 'files', VARS['__backup_package'])
MODULE_UTILS = os.path.join(ROOT, 'plugins', 'module_utils')
WRAPPER = os.path.join(ROLE, 'files', 'forexai-backup')


def test_the_role_installs_every_module_of_the_package():
    present = sorted(n for n in os.listdir(PACKAGE_DIR) if n.endswith('.py'))
    assert sorted(VARS['__backup_package_files']) == present


def imported_modules(path):
    tree = ast.parse(open(path).read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split('.')[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split('.')[0])
    return names


def test_the_role_installs_every_module_util_the_package_imports():
    deployed = set(n[:-3] for n in VARS['__backup_lib_files'])
    local = set(n[:-3] for n in os.listdir(MODULE_UTILS) if n.endswith('.py'))
    wanted = set()
    for name in VARS['__backup_package_files'] + VARS['__backup_lib_files']:
        base = PACKAGE_DIR if name in VARS['__backup_package_files'] else MODULE_UTILS
        wanted |= imported_modules(os.path.join(base, name)) & local
    assert wanted == deployed


@pytest.mark.parametrize('name', VARS['__backup_lib_files'])
def test_deployed_module_utils_never_import_ansible_at_the_top(name):
    """Only the collection fallback (inside try/except ImportError) may name it."""
    tree = ast.parse(open(os.path.join(MODULE_UTILS, name)).read())
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            assert not any(n.startswith('ansible') for n in names), (name, names)


@pytest.fixture(scope='module')
def host_lib(tmp_path_factory):
    """<lib>/forexai_backup/*.py and <lib>/<module_utils>.py, as the role installs them."""
    lib = tmp_path_factory.mktemp('lib')
    package = lib / VARS['__backup_package']
    package.mkdir()
    for name in VARS['__backup_package_files']:
        shutil.copy(os.path.join(PACKAGE_DIR, name), str(package / name))
    for name in VARS['__backup_lib_files']:
        shutil.copy(os.path.join(MODULE_UTILS, name), str(lib / name))
    return lib


def host_run(lib, *args, **env):
    """The wrapper's command, with this library directory, in a bare environment."""
    command = open(WRAPPER).read().strip().splitlines()[-1].split()
    assert command[:2] == ['exec', '/usr/bin/python3'] and command[-1] == '"$@"'
    main = command[2].replace(VARS['__backup_lib_dir'], str(lib))
    clean = {'PATH': '/usr/bin:/bin', 'PYTHONDONTWRITEBYTECODE': '1'}
    clean.update(env)
    return subprocess.run([sys.executable, '-s', main] + list(args), cwd=str(lib),
                          env=clean, capture_output=True, text=True, check=False)


def test_the_wrapper_runs_the_package(host_lib):
    proc = host_run(host_lib, '--version')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == 'forexai-backup 1.0.0'


def test_the_installed_program_prunes_with_only_its_library(host_lib, tmp_path):
    conf = tmp_path / 'backup.conf'
    conf.write_text(json.dumps({'backup_dir': str(tmp_path / 'b'),
                                'lock_file': str(tmp_path / 'lock')}))
    proc = host_run(host_lib, '--config', str(conf), '--prune', '--json')
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)['prune']['errors'] == []


def test_a_missing_library_file_is_a_usage_error(host_lib, tmp_path):
    broken = tmp_path / 'broken'
    shutil.copytree(str(host_lib), str(broken))
    os.unlink(str(broken / 'verification.py'))
    proc = host_run(broken, '--version')
    assert proc.returncode == 2
    assert "cannot import its library (No module named 'verification')" in proc.stderr


def test_FOREXAI_BACKUP_LIB_overrides_where_the_library_is(host_lib, tmp_path):
    broken = tmp_path / 'elsewhere'
    shutil.copytree(str(host_lib), str(broken))
    os.unlink(str(broken / 'backup_set.py'))
    proc = host_run(broken, '--version', FOREXAI_BACKUP_LIB=str(host_lib))
    assert proc.returncode == 0, proc.stderr
