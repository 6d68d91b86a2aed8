# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning a versioned bucket's return to a moment: which delete markers go, what is left."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.forexai.dr.plugins.module_utils.s3_rollback import plan_rollback

AT = 1000.0


def v(key, when, vid):
    return {'Key': key, 'LastModified': when, 'VersionId': vid}


def test_a_delete_after_the_moment_is_undone():
    plan = plan_rollback([v('a', 900, 'a1')], [v('a', 1100, 'm1')], AT)
    assert plan['remove_markers'] == [('a', 'm1')]
    assert plan['overwritten'] == [] and plan['keys_at_moment'] == 1


def test_every_marker_after_the_moment_goes_even_after_a_put_in_between():
    # deleted, written again, deleted again: both markers go, and the newer write is reported.
    plan = plan_rollback([v('a', 900, 'a1'), v('a', 1200, 'a2')],
                         [v('a', 1100, 'm1'), v('a', 1300, 'm2')], AT)
    assert sorted(plan['remove_markers']) == [('a', 'm1'), ('a', 'm2')]
    assert plan['overwritten'] == [('a', 'a1')]


def test_a_key_overwritten_after_the_moment_names_its_version_of_then():
    plan = plan_rollback([v('a', 800, 'a1'), v('a', 900, 'a2'), v('a', 1100, 'a3')], [], AT)
    assert plan['remove_markers'] == []
    assert plan['overwritten'] == [('a', 'a2')]


def test_a_version_put_back_with_the_same_content_is_not_overwritten_again():
    put_back = [{'Key': 'a', 'LastModified': 900, 'VersionId': 'a1', 'ETag': '"x"'},
                {'Key': 'a', 'LastModified': 1100, 'VersionId': 'a2', 'ETag': '"tampered"'},
                {'Key': 'a', 'LastModified': 1200, 'VersionId': 'a3', 'ETag': '"x"'}]
    assert plan_rollback(put_back, [], AT)['overwritten'] == []
    assert plan_rollback(put_back[:2], [], AT)['overwritten'] == [('a', 'a1')]


def test_keys_written_after_the_moment_are_left_alone_even_when_deleted():
    plan = plan_rollback([v('new', 1100, 'n1')], [v('new', 1200, 'm1')], AT)
    assert plan['remove_markers'] == [] and plan['created_after'] == ['new']
    assert plan['keys_at_moment'] == 0


def test_keys_written_after_the_moment_come_back_when_asked():
    # a backup repository: the WAL segment that reaches the moment is archived after it
    plan = plan_rollback([v('wal', 1100, 'w1'), v('new', 1150, 'n1')],
                         [v('wal', 1200, 'm1'), v('gone', 1250, 'm2')], AT, keep_created_after=True)
    assert plan['remove_markers'] == [('wal', 'm1')]
    assert plan['created_after'] == ['gone', 'new', 'wal'] and plan['keys_at_moment'] == 0


def test_a_key_already_deleted_at_the_moment_stays_deleted():
    plan = plan_rollback([v('old', 800, 'o1')], [v('old', 900, 'm0'), v('old', 1100, 'm1')], AT)
    assert plan['remove_markers'] == [] and plan['deleted_before'] == ['old']


def test_a_marker_older_than_the_moment_is_kept_and_a_later_one_is_not():
    plan = plan_rollback([v('a', 700, 'a1'), v('a', 900, 'a2')], [v('a', 800, 'm0'), v('a', 1100, 'm1')], AT)
    assert plan['remove_markers'] == [('a', 'm1')]


def test_at_one_instant_a_marker_deletes_the_version_beside_it():
    plan = plan_rollback([v('a', 1000, 'a1')], [v('a', 1000, 'm1')], AT)
    assert plan['deleted_before'] == ['a'] and plan['remove_markers'] == []


def test_the_moment_itself_counts_as_before():
    plan = plan_rollback([v('a', 1000, 'a1')], [v('a', 1000.5, 'm1')], AT)
    assert plan['remove_markers'] == [('a', 'm1')]


def test_datetimes_from_boto3_are_understood():
    utc = datetime.timezone.utc
    plan = plan_rollback([v('a', datetime.datetime.fromtimestamp(900, utc), 'a1')],
                         [v('a', datetime.datetime.fromtimestamp(1100, utc), 'm1')], AT)
    assert plan['remove_markers'] == [('a', 'm1')]


def test_many_keys_deleted_at_once_are_all_brought_back():
    versions = [v('k%03d' % i, 500 + i, 'v%d' % i) for i in range(200)]
    markers = [v('k%03d' % i, 1500, 'm%d' % i) for i in range(200)]
    plan = plan_rollback(versions, markers, AT)
    assert len(plan['remove_markers']) == 200 and plan['keys_at_moment'] == 200
