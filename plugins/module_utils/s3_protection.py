# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What keeps off-site backups out of a compromised host's reach: pure logic, no boto3.

The protection is not "the host cannot delete" (pgBackRest's expire and the backup program's
pruning must delete) but immutable versions: versioning on, Object Lock with a default
retention, noncurrent versions expired by a lifecycle rule only after the lock, and host keys
that may put, get, list and delete objects but not delete a version nor change any of this.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

LIFECYCLE_RULE_ID = 'forexai-noncurrent-versions'

# What a database host's keys may do in the backup bucket (and nothing else).
HOST_ACTIONS = ('s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:ListBucket',
                's3:GetBucketLocation', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts',
                's3:ListBucketMultipartUploads')
# Refused explicitly, so that no other policy of the user can grant them.
HOST_DENIED_ACTIONS = ('s3:DeleteObjectVersion', 's3:PutBucketVersioning',
                       's3:PutBucketObjectLockConfiguration', 's3:PutObjectRetention',
                       's3:PutObjectLegalHold', 's3:BypassGovernanceRetention',
                       's3:PutLifecycleConfiguration', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy',
                       's3:DeleteBucket')


def check_settings(lock_days, minimum_days, noncurrent_days, mode):
    """Problems with the wanted settings, as sentences (empty: fine)."""
    problems = []
    if mode not in ('COMPLIANCE', 'GOVERNANCE'):
        problems.append('lock_mode must be COMPLIANCE or GOVERNANCE (got %r)' % (mode,))
    if lock_days < minimum_days:
        problems.append('lock_days %d is shorter than the %d days the recovery plan keeps backups '
                        '(minimum_lock_days)' % (lock_days, minimum_days))
    if noncurrent_days is not None and noncurrent_days < lock_days:
        problems.append('noncurrent_expiration_days %d is shorter than lock_days %d: the rule could '
                        'never remove a version that is still locked; make it at least the lock'
                        % (noncurrent_days, lock_days))
    return problems


def wanted_lock(mode, days):
    return {'ObjectLockEnabled': 'Enabled', 'Rule': {'DefaultRetention': {'Mode': mode, 'Days': days}}}


def lock_matches(current, mode, days):
    """Whether an Object Lock configuration (or None) is the wanted one."""
    if not current or current.get('ObjectLockEnabled') != 'Enabled':
        return False
    retention = (current.get('Rule') or {}).get('DefaultRetention') or {}
    return retention.get('Mode') == mode and int(retention.get('Days') or 0) == days \
        and not int(retention.get('Years') or 0)


def wanted_lifecycle_rule(noncurrent_days):
    return {'ID': LIFECYCLE_RULE_ID, 'Status': 'Enabled', 'Filter': {'Prefix': ''},
            'NoncurrentVersionExpiration': {'NoncurrentDays': noncurrent_days}}


def merged_lifecycle(current_rules, noncurrent_days):
    """(rules to put, changed): the bucket's other rules kept, ours added or replaced."""
    rule = wanted_lifecycle_rule(noncurrent_days)
    others = [r for r in (current_rules or []) if r.get('ID') != LIFECYCLE_RULE_ID]
    ours = [r for r in (current_rules or []) if r.get('ID') == LIFECYCLE_RULE_ID]
    same = len(ours) == 1 and ours[0].get('Status') == 'Enabled' and \
        (ours[0].get('NoncurrentVersionExpiration') or {}).get('NoncurrentDays') == noncurrent_days and \
        (ours[0].get('Filter') or {}).get('Prefix', '') == '' and \
        set((ours[0].get('Filter') or {}).keys()) <= set(['Prefix'])
    return others + [rule], not same


def host_policy(bucket):
    """The IAM policy document for a database host's keys in ``bucket``."""
    bucket_arn = 'arn:aws:s3:::%s' % bucket
    return {'Version': '2012-10-17', 'Statement': [
        {'Sid': 'BackupObjects', 'Effect': 'Allow', 'Action': list(HOST_ACTIONS),
         'Resource': [bucket_arn, bucket_arn + '/*']},
        {'Sid': 'NeverVersionsNorProtection', 'Effect': 'Deny', 'Action': list(HOST_DENIED_ACTIONS),
         'Resource': [bucket_arn, bucket_arn + '/*']}]}


def same_policy(current, wanted):
    """Whether two policy documents say the same (order of actions and resources ignored)."""
    def normal(document):
        statements = []
        for statement in (document or {}).get('Statement', []):
            actions = statement.get('Action', [])
            resources = statement.get('Resource', [])
            statements.append((statement.get('Effect'),
                               tuple(sorted([actions] if isinstance(actions, str) else actions)),
                               tuple(sorted([resources] if isinstance(resources, str) else resources))))
        return sorted(statements)
    return normal(current) == normal(wanted)
