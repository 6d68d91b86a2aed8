# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the progress text of the restore_progress action."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.forexai.dr.plugins.action import restore_progress


@pytest.mark.parametrize('output, text', [
    ('', 'starting'),
    ('0\t0\t\n', '0 tables loaded, 0 indexes/constraints built'),
    ('7\t2\tpg_restore: creating INDEX "public.trades_user_id_idx"\n',
     '7 tables loaded, 2 indexes/constraints built; last: creating INDEX "public.trades_user_id_idx"'),
    ('3\t0\tpg_restore: launching item 3380 TABLE DATA public trades\n',
     '3 tables loaded, 0 indexes/constraints built; last: launching item 3380 TABLE DATA public trades'),
])
def test_progress_text(output, text):
    assert restore_progress.progress_text(output) == text
