# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup program's tests import it as the host does: the ``forexai_backup`` package and,
beside it, the collection's module_utils as plain modules (``backup_set``, ``retention``,
``s3``, ``verification``), exactly the files the role deploys."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
FILES = os.path.join(ROOT, 'roles', 'backup', 'files')
MODULE_UTILS = os.path.join(ROOT, 'plugins', 'module_utils')

# No __pycache__ inside the role's files (the role installs them file by file).
sys.dont_write_bytecode = True
for _path in (MODULE_UTILS, FILES, os.path.dirname(os.path.abspath(__file__))):
    if _path not in sys.path:
        sys.path.insert(0, _path)


@pytest.fixture
def write_config(tmp_path):
    def write(data):
        path = tmp_path / 'backup.conf'
        path.write_text(json.dumps(data))
        return str(path)
    return write


@pytest.fixture
def load(write_config):
    """A loaded configuration from a partial one (the rest defaulted)."""
    from forexai_backup import config

    def make(data):
        return config.load_config(write_config(data))
    return make
