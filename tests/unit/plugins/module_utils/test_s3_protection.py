# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup bucket's protection: settings refused, compared and merged."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.forexai.dr.plugins.module_utils import s3_protection as p


def test_the_plans_90_days_in_compliance_mode_pass():
    assert p.check_settings(90, 90, 120, 'COMPLIANCE') == []


def test_a_lock_shorter_than_the_plan_is_refused():
    assert 'shorter than the 90 days' in p.check_settings(30, 90, 120, 'COMPLIANCE')[0]


def test_a_lifecycle_shorter_than_the_lock_is_refused():
    assert 'could never remove a version that is still locked' in p.check_settings(90, 90, 60, 'COMPLIANCE')[0]


def test_no_lifecycle_is_no_problem():
    assert p.check_settings(90, 90, None, 'GOVERNANCE') == []


def test_an_unknown_mode_is_refused():
    assert 'COMPLIANCE or GOVERNANCE' in p.check_settings(90, 90, None, 'LOOSE')[0]


def test_the_lock_matches_only_its_mode_and_days():
    current = p.wanted_lock('COMPLIANCE', 90)
    assert p.lock_matches(current, 'COMPLIANCE', 90)
    assert not p.lock_matches(current, 'GOVERNANCE', 90)
    assert not p.lock_matches(current, 'COMPLIANCE', 91)
    assert not p.lock_matches(None, 'COMPLIANCE', 90)
    assert not p.lock_matches({'ObjectLockEnabled': 'Enabled'}, 'COMPLIANCE', 90)
    # moto and S3 answer Years: 0 beside Days
    assert p.lock_matches({'ObjectLockEnabled': 'Enabled', 'Rule': {'DefaultRetention': {
        'Mode': 'COMPLIANCE', 'Days': 90, 'Years': 0}}}, 'COMPLIANCE', 90)


def test_other_lifecycle_rules_are_kept_and_ours_replaced():
    other = {'ID': 'tmp', 'Status': 'Enabled', 'Filter': {'Prefix': 'tmp/'}, 'Expiration': {'Days': 1}}
    old = p.wanted_lifecycle_rule(100)
    rules, changed = p.merged_lifecycle([other, old], 120)
    assert changed and rules == [other, p.wanted_lifecycle_rule(120)]
    rules, changed = p.merged_lifecycle(rules, 120)
    assert not changed


def test_a_disabled_or_narrowed_rule_of_ours_is_put_right():
    rule = dict(p.wanted_lifecycle_rule(120), Status='Disabled')
    assert p.merged_lifecycle([rule], 120)[1]
    rule = dict(p.wanted_lifecycle_rule(120), Filter={'Prefix': 'x/'})
    assert p.merged_lifecycle([rule], 120)[1]


def test_the_host_policy_allows_objects_and_denies_versions_and_protection():
    policy = p.host_policy('forexai-backups')
    allow, deny = policy['Statement']
    assert allow['Effect'] == 'Allow' and 's3:DeleteObject' in allow['Action']
    assert 's3:DeleteObjectVersion' not in allow['Action']
    assert deny['Effect'] == 'Deny'
    for action in ('s3:DeleteObjectVersion', 's3:PutBucketVersioning', 's3:PutBucketObjectLockConfiguration',
                   's3:PutLifecycleConfiguration', 's3:PutBucketPolicy'):
        assert action in deny['Action']
    assert allow['Resource'] == ['arn:aws:s3:::forexai-backups', 'arn:aws:s3:::forexai-backups/*']


def test_policies_compare_without_order():
    wanted = p.host_policy('b')
    shuffled = {'Version': '2012-10-17', 'Statement': [
        dict(s, Action=list(reversed(s['Action']))) for s in reversed(wanted['Statement'])]}
    assert p.same_policy(shuffled, wanted)
    assert not p.same_policy(None, wanted)
    assert not p.same_policy(p.host_policy('other'), wanted)
