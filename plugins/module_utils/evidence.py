# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tamper-evident manifest for a bundle of evidence: pure logic, no Ansible.

Each line names one file of the bundle, in the order it was collected, with the file's
SHA-256 and a chain hash that covers the previous line's chain hash, this file's digest and
its name::

    <n> <sha256 of the file> <chain> <name>
    chain(n) = sha256("<chain(n-1)> <sha256 of the file> <name>"),  chain(0) = sha256(<case id>)

Changing a file changes its digest; changing, removing, reordering or inserting a line breaks
every chain hash after it; the last chain hash (recorded elsewhere: in the run's report, in S3)
seals the whole bundle.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os

MANIFEST_NAME = 'MANIFEST.sha256'


def sha256_file(path, chunk=1024 * 1024):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def chain_start(case_id):
    return hashlib.sha256(case_id.encode('utf-8')).hexdigest()


def chain_next(previous, file_digest, name):
    return hashlib.sha256(('%s %s %s' % (previous, file_digest, name)).encode('utf-8')).hexdigest()


def build(case_id, entries):
    """Manifest lines for ``entries`` [(name, sha256)] in collection order; (lines, seal)."""
    chain = chain_start(case_id)
    lines = []
    for number, (name, digest) in enumerate(entries, 1):
        if not name or any(c in name for c in ' \n\r') or name == MANIFEST_NAME:
            raise ValueError('a bundle file name must be non-empty, without spaces or newlines, '
                             'and not %s: %r' % (MANIFEST_NAME, name))
        chain = chain_next(chain, digest, name)
        lines.append('%d %s %s %s' % (number, digest, chain, name))
    return lines, chain


def collection_order(directory):
    """The bundle's files (not the manifest), sorted by name: collectors name them ``NN-what``."""
    names = []
    for root, _dirs, files in os.walk(directory):
        for filename in files:
            name = os.path.relpath(os.path.join(root, filename), directory)
            if name != MANIFEST_NAME:
                names.append(name)
    return sorted(names)


def check(case_id, lines, digests, seal=None):
    """Problems found when checking manifest ``lines`` against the files' ``digests``
    {name: sha256 or None when missing}; empty when the bundle is intact.

    ``seal``: the last chain hash as recorded at collection time, when known.
    """
    problems = []
    chain = chain_start(case_id)
    listed = set()
    for expected_number, line in enumerate(lines, 1):
        parts = line.split(' ', 3)
        if len(parts) != 4 or not parts[0].isdigit():
            problems.append('line %d is not "<n> <sha256> <chain> <name>"' % expected_number)
            return problems
        number, digest, recorded_chain, name = int(parts[0]), parts[1], parts[2], parts[3]
        if number != expected_number:
            problems.append('line %d is numbered %d: a line was removed, added or moved'
                            % (expected_number, number))
        chain = chain_next(chain, digest, name)
        if chain != recorded_chain:
            problems.append('line %d (%s): the chain is broken: this line or one before it was altered'
                            % (expected_number, name))
            return problems
        listed.add(name)
        actual = digests.get(name)
        if actual is None:
            problems.append('%s is listed but missing' % name)
        elif actual != digest:
            problems.append('%s differs from its digest in the manifest' % name)
    for name in sorted(set(digests) - listed):
        problems.append('%s is in the bundle but not in the manifest' % name)
    if seal is not None and chain != seal:
        problems.append('the last chain hash is not the one recorded at collection time '
                        '(lines were removed from the end, or the manifest was rewritten)')
    return problems
