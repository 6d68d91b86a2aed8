# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""restore_pitr's data directory helper: what it refuses, and how it moves a data directory
(renamed when it can be, its entries moved when it is a mount point), on real directories."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import json
import os
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
HELPER = os.path.join(ROOT, 'roles', 'restore_pitr', 'files', 'forexai_pitr_move.py')


@pytest.fixture
def helper():
    spec = importlib.util.spec_from_file_location('forexai_pitr_move', HELPER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_cluster(path):
    os.makedirs(os.path.join(path, 'base', '1'))
    os.makedirs(os.path.join(path, 'pg_wal'))
    os.makedirs(os.path.join(path, 'pg_tblspc'))
    with open(os.path.join(path, 'PG_VERSION'), 'w') as handle:
        handle.write('15\n')
    with open(os.path.join(path, 'base', '1', '1259'), 'wb') as handle:
        handle.write(b'x' * 8192)
    os.chmod(path, 0o700)
    return path


def tree(path):
    found = {}
    for root, _dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            with open(full, 'rb') as handle:
                found[os.path.relpath(full, path)] = handle.read()
    return found


def test_a_plain_cluster_passes_with_its_size(helper, tmp_path):
    data = make_cluster(str(tmp_path / 'main'))
    result = helper.check(data)
    assert result['ok'] and result['refusals'] == []
    assert result['size_bytes'] == 8192 + 3
    assert result['mount_point'] is False


def test_a_missing_data_directory_is_no_refusal(helper, tmp_path):
    result = helper.check(str(tmp_path / 'gone'))
    assert result['ok'] and result['exists'] is False


def test_a_separate_pg_wal_is_refused_with_the_way_out(helper, tmp_path):
    data = make_cluster(str(tmp_path / 'main'))
    os.rmdir(os.path.join(data, 'pg_wal'))
    os.makedirs(str(tmp_path / 'walvol'))
    os.symlink(str(tmp_path / 'walvol'), os.path.join(data, 'pg_wal'))
    result = helper.check(data)
    assert not result['ok']
    assert result['wal_link'] == str(tmp_path / 'walvol')
    assert 'pg_wal' in result['refusals'][0] and '--link-map' in result['refusals'][0]


def test_tablespaces_are_refused_with_their_locations(helper, tmp_path):
    data = make_cluster(str(tmp_path / 'main'))
    os.makedirs(str(tmp_path / 'ts1'))
    os.symlink(str(tmp_path / 'ts1'), os.path.join(data, 'pg_tblspc', '16390'))
    result = helper.check(data)
    assert not result['ok']
    assert result['tablespaces'] == [{'oid': '16390', 'location': str(tmp_path / 'ts1')}]
    assert str(tmp_path / 'ts1') in result['refusals'][0] and '--tablespace-map' in result['refusals'][0]


def test_mount_points_are_read_from_mountinfo_with_escapes(helper, tmp_path):
    info = tmp_path / 'mountinfo'
    info.write_text('36 35 98:0 / /var/lib/postgresql/15/main rw,noatime master:1 - ext4 /dev/sdb1 rw\n'
                    '37 35 98:0 /x /srv/with\\040space rw - ext4 /dev/sdb1 rw\n')
    points = helper.mount_points(str(info))
    assert '/var/lib/postgresql/15/main' in points
    assert '/srv/with space' in points


def test_the_root_is_a_mount_point(helper):
    assert helper.is_mount_point('/')


def test_a_plain_directory_is_renamed(helper, tmp_path):
    data = make_cluster(str(tmp_path / 'main'))
    before = tree(data)
    result = helper.move(data, str(tmp_path / 'main_pre_restore_x'))
    assert result['method'] == 'rename'
    assert not os.path.exists(data)
    assert tree(str(tmp_path / 'main_pre_restore_x')) == before


def test_a_mount_point_keeps_its_place_and_its_entries_move(helper, tmp_path, monkeypatch):
    data = make_cluster(str(tmp_path / 'main'))
    before = tree(data)
    monkeypatch.setattr(helper, 'is_mount_point', lambda path: path == data)
    result = helper.move(data, str(tmp_path / 'aside'))
    assert result['method'] == 'contents' and result['entries'] == 4
    assert os.path.isdir(data) and os.listdir(data) == []
    assert tree(str(tmp_path / 'aside')) == before
    assert oct(os.stat(str(tmp_path / 'aside')).st_mode & 0o777) == '0o700'
    # and back into the emptied mount point, as a put back does
    back = helper.move(str(tmp_path / 'aside'), data)
    assert back['method'] == 'contents'
    assert tree(data) == before and os.listdir(str(tmp_path / 'aside')) == []


def test_nothing_is_moved_over_existing_files(helper, tmp_path):
    data = make_cluster(str(tmp_path / 'main'))
    other = make_cluster(str(tmp_path / 'other'))
    with pytest.raises(ValueError, match='not empty'):
        helper.move(data, other)
    assert tree(data) == tree(other)


def test_a_failed_move_of_entries_is_undone(helper, tmp_path, monkeypatch):
    data = make_cluster(str(tmp_path / 'main'))
    before = tree(data)
    aside = str(tmp_path / 'aside')
    monkeypatch.setattr(helper, 'is_mount_point', lambda path: path == data)
    real_run = subprocess.run
    calls = []

    def failing_mv(argv, check):
        calls.append(argv)
        if len(calls) == 1:
            # the first entry arrives whole, the second only in part, then mv fails
            real_run(['mv', '--', os.path.join(data, 'PG_VERSION'), aside], check=True)
            os.makedirs(os.path.join(aside, 'base', 'partial'))
            raise subprocess.CalledProcessError(1, argv)
        return real_run(argv, check=check)

    monkeypatch.setattr(helper.subprocess, 'run', failing_mv)
    with pytest.raises(RuntimeError, match='was undone'):
        helper.move(data, aside)
    assert tree(data) == before
    assert not os.path.exists(aside)


def test_the_command_line_prints_json(helper, tmp_path, capsys):
    data = make_cluster(str(tmp_path / 'main'))
    assert helper.main(['check', data]) == 0
    assert json.loads(capsys.readouterr().out)['ok'] is True
    assert helper.main(['move', str(tmp_path / 'nothing'), str(tmp_path / 'x')]) == 1
    assert 'not a directory' in json.loads(capsys.readouterr().out)['msg']
