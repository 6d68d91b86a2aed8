# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The chained evidence manifest: every kind of tampering is found."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

import pytest

from ansible_collections.forexai.dr.plugins.module_utils import evidence

CASE = 'case-1'
FILES = [('01-processes.txt', b'ps'), ('02-sockets.txt', b'ss'), ('07-logs.tar', b'logs')]


def sha(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture()
def bundle():
    digests = dict((name, sha(data)) for name, data in FILES)
    lines, seal = evidence.build(CASE, [(name, digests[name]) for name, _d in FILES])
    return lines, seal, digests


def test_an_intact_bundle_passes_with_its_seal(bundle):
    lines, seal, digests = bundle
    assert evidence.check(CASE, lines, digests, seal) == []
    assert lines[-1].split(' ')[2] == seal


def test_a_changed_file_is_named(bundle):
    lines, seal, digests = bundle
    digests['02-sockets.txt'] = sha(b'ss, edited')
    assert evidence.check(CASE, lines, digests, seal) == ['02-sockets.txt differs from its digest in the manifest']


def test_a_rewritten_digest_breaks_the_chain(bundle):
    lines, seal, digests = bundle
    number, _digest, chain, name = lines[1].split(' ')
    digests[name] = sha(b'forged')
    lines[1] = ' '.join((number, digests[name], chain, name))
    assert 'the chain is broken' in evidence.check(CASE, lines, digests, seal)[0]


def test_a_removed_line_is_found(bundle):
    lines, seal, digests = bundle
    del lines[1]
    problems = evidence.check(CASE, lines, digests, seal)
    assert 'a line was removed, added or moved' in problems[0] or 'chain is broken' in problems[0]


def test_lines_cut_from_the_end_fail_only_against_the_seal(bundle):
    lines, seal, digests = bundle
    del digests['07-logs.tar']
    assert evidence.check(CASE, lines[:2], digests) == []
    assert 'last chain hash' in evidence.check(CASE, lines[:2], digests, seal)[0]


def test_an_added_file_and_a_missing_file_are_named(bundle):
    lines, seal, digests = bundle
    digests['99-planted.sh'] = sha(b'x')
    del digests['01-processes.txt']
    problems = evidence.check(CASE, lines, digests, seal)
    assert '01-processes.txt is listed but missing' in problems
    assert '99-planted.sh is in the bundle but not in the manifest' in problems


def test_another_case_id_does_not_verify(bundle):
    lines, _seal, digests = bundle
    assert 'chain is broken' in evidence.check('case-2', lines, digests)[0]


def test_a_malformed_line_is_refused(bundle):
    lines, seal, digests = bundle
    lines[0] = 'garbage'
    assert 'is not' in evidence.check(CASE, lines, digests, seal)[0]


@pytest.mark.parametrize('name', ['', 'two words', 'MANIFEST.sha256', 'a\nb'])
def test_names_that_would_break_the_format_are_refused(name):
    with pytest.raises(ValueError):
        evidence.build(CASE, [(name, sha(b''))])


def test_files_are_listed_in_collection_order_without_the_manifest(tmp_path):
    for name in ('02-b', '01-a', 'MANIFEST.sha256'):
        (tmp_path / name).write_text(name)
    (tmp_path / '03-logs').mkdir()
    (tmp_path / '03-logs' / 'x.log').write_text('x')
    assert evidence.collection_order(str(tmp_path)) == ['01-a', '02-b', '03-logs/x.log']
    assert evidence.sha256_file(str(tmp_path / '01-a')) == sha(b'01-a')
