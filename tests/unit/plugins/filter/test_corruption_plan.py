# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The corruption_plan filter: the plan of a chosen subset of db_integrity's findings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.forexai.dr.plugins.filter import integrity as f


def test_the_filter_is_registered():
    assert set(f.FilterModule().filters()) == {'corruption_plan'}


def test_a_subset_gets_its_own_plan():
    findings = [{'database': 'forexai', 'kind': 'index', 'table': 'public.trades', 'relation': 'public.trades_pkey'}]
    assert f.corruption_plan(findings)['action'] == 'reindex'
    assert f.corruption_plan([])['action'] == 'none'


@pytest.mark.parametrize('bad', ['text', [1, 2], None, [{'kind': 'heap'}]])
def test_anything_but_findings_is_a_clear_error(bad):
    with pytest.raises(AnsibleFilterError, match='corruption_plan'):
        f.corruption_plan(bad)
