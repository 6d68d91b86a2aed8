# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the pure suspend/restore planning of auto-trading."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.forexai.dr.plugins.module_utils import auto_trading as at

UTC = datetime.timezone.utc
T0 = datetime.datetime(2025, 1, 2, 8, 0, tzinfo=UTC)


def sqls(plan):
    return [s['sql'] for s in plan['statements']]


# --- suspend -------------------------------------------------------------------

@pytest.mark.parametrize('enabled, expected_sql, expected_ids', [
    ([7, 3, 12, 3], [at.INSERT_SNAPSHOT_SQL, at.DISABLE_SQL], [3, 7, 12]),
    # Nobody has auto-trading on: the suspension is still recorded, nothing is switched off.
    ([], [at.INSERT_SNAPSHOT_SQL], []),
])
def test_first_suspension_records_then_disables(enabled, expected_sql, expected_ids):
    plan = at.plan_suspend(enabled, None, 'run-1', actor='ops')
    assert plan['created'] is True
    assert plan['run_id'] == 'run-1'
    assert plan['user_ids'] == expected_ids
    assert plan['suspended_user_ids'] == expected_ids
    assert sqls(plan) == expected_sql
    assert plan['statements'][0]['params'] == ['run-1', expected_ids, 'ops']
    if expected_ids:
        assert plan['statements'][1] == {'sql': at.DISABLE_SQL, 'params': [expected_ids],
                                         'expected_rows': len(expected_ids)}


def test_second_suspension_never_replaces_the_open_snapshot():
    open_snapshot = {'run_id': 'run-1', 'user_ids': [3, 7, 12], 'restored_at': None}
    # Nobody re-enabled: nothing to do, and the requested run id is ignored.
    plan = at.plan_suspend([], open_snapshot, 'run-2')
    assert plan == {'run_id': 'run-1', 'created': False, 'user_ids': [3, 7, 12],
                    'added_user_ids': [], 'suspended_user_ids': [], 'statements': []}


@pytest.mark.parametrize('enabled, added, everyone, expected_sql', [
    # User 20 switched auto-trading on during the incident: added and switched off.
    ([20], [20], [3, 7, 12, 20], [at.EXTEND_SNAPSHOT_SQL, at.DISABLE_SQL]),
    # User 7 (already recorded) switched it on again: only switched off.
    ([7], [], [3, 7, 12], [at.DISABLE_SQL]),
    ([7, 20], [20], [3, 7, 12, 20], [at.EXTEND_SNAPSHOT_SQL, at.DISABLE_SQL]),
])
def test_second_suspension_extends_the_open_snapshot(enabled, added, everyone, expected_sql):
    open_snapshot = {'run_id': 'run-1', 'user_ids': [12, 3, 7]}
    plan = at.plan_suspend(enabled, open_snapshot, 'run-2')
    assert plan['run_id'] == 'run-1'
    assert plan['created'] is False
    assert plan['added_user_ids'] == added
    assert plan['user_ids'] == everyone
    assert plan['suspended_user_ids'] == sorted(enabled)
    assert sqls(plan) == expected_sql
    if added:
        assert plan['statements'][0]['params'] == [everyone, 'run-1']


def test_a_restored_run_id_is_never_reused():
    with pytest.raises(at.AutoTradingError) as err:
        at.plan_suspend([1], None, 'run-1', existing={'run_id': 'run-1', 'restored_at': T0})
    assert str(err.value) == ("run_id 'run-1' names a snapshot that was already restored "
                              "(at 2025-01-02 08:00:00+00:00); use a new run_id")


@pytest.mark.parametrize('run_id', ['', ' x', 'x y', '-x', 'a' * 101, None, "x';--"])
def test_bad_run_ids_are_refused(run_id):
    with pytest.raises(at.AutoTradingError) as err:
        at.check_run_id(run_id)
    assert str(err.value).startswith('run_id must be 1 to 100 characters')


@pytest.mark.parametrize('run_id', ['mt5-sync-20250102T080000Z', 'a', 'ops@host:1.2+x_y'])
def test_good_run_ids(run_id):
    assert at.check_run_id(run_id) == run_id


@pytest.mark.parametrize('name, ok', [
    ('dr_auto_trading_snapshot', True), ('x1', True), ('Snap', False), ('a-b', False),
    ('a;drop', False), ('1abc', False), ('a' * 51, False),
])
def test_table_names(name, ok):
    if ok:
        assert at.check_table_name(name) == name
    else:
        with pytest.raises(at.AutoTradingError):
            at.check_table_name(name)


@pytest.mark.parametrize('now, expected', [
    (T0, 'auto-trading-20250102T080000Z'),
    (datetime.datetime(2025, 1, 2, 10, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
     'auto-trading-20250102T083000Z'),
])
def test_default_run_id_is_utc(now, expected):
    assert at.default_run_id(now) == expected


# --- restore -------------------------------------------------------------------

def test_restore_gives_back_exactly_the_recorded_users():
    snapshot = {'run_id': 'run-1', 'user_ids': [3, 7, 12, 40], 'restored_at': None}
    # 7 was switched on by hand meanwhile, 40 was deleted, 99 is not in the snapshot.
    states = {3: False, 7: True, 12: False}
    plan = at.plan_restore(snapshot, states, actor='ops', enabled_ids=[7, 99])
    assert plan['run_id'] == 'run-1'
    assert plan['restored_user_ids'] == [3, 12]
    assert plan['missing_user_ids'] == [40]
    assert plan['enabled_outside_snapshot'] == [99]
    assert plan['already_restored'] is False
    assert plan['statements'] == [
        {'sql': at.ENABLE_SQL, 'params': [[3, 12]], 'expected_rows': 2},
        {'sql': at.MARK_RESTORED_SQL, 'params': ['ops', 'run-1'], 'expected_rows': 1},
    ]


def test_restore_of_an_empty_snapshot_only_marks_it():
    plan = at.plan_restore({'run_id': 'r', 'user_ids': [], 'restored_at': None}, {})
    assert sqls(plan) == [at.MARK_RESTORED_SQL]
    assert plan['restored_user_ids'] == []


@pytest.mark.parametrize('snapshot', [
    None,
    {'run_id': 'run-1', 'user_ids': [3], 'restored_at': T0},
])
def test_restore_twice_or_without_snapshot_plans_nothing(snapshot):
    plan = at.plan_restore(snapshot, {3: False})
    assert plan['statements'] == []
    assert plan['restored_user_ids'] == []
    assert plan['already_restored'] is (snapshot is not None)


def test_suspend_then_restore_round_trip_is_exact():
    enabled_before = {2, 5, 9}
    suspension = at.plan_suspend(sorted(enabled_before), None, 'run-1')
    states = dict((i, False) for i in suspension['user_ids'])
    restoration = at.plan_restore({'run_id': 'run-1', 'user_ids': suspension['user_ids'],
                                   'restored_at': None}, states)
    assert set(restoration['restored_user_ids']) == enabled_before


def test_snapshot_view_is_json_friendly():
    row = {'run_id': 'r', 'user_ids': [9, 2], 'suspended_at': T0, 'suspended_by': 'ops',
           'restored_at': None, 'restored_by': None}
    assert at.snapshot_view(row) == {
        'run_id': 'r', 'user_ids': [2, 9], 'suspended_at': '2025-01-02T08:00:00+00:00',
        'suspended_by': 'ops', 'restored_at': None, 'restored_by': None}
    assert at.snapshot_view(None) is None
