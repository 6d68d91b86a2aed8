# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Corruption findings: what is damaged, how badly, and the least destructive repair.

Pure logic shared by the ``db_integrity`` and ``db_repair`` modules (no database here):

- ``classify_error()``: a server error met while checking a relation is either evidence of
  damage (SQLSTATE class XX: ``XX001`` data_corrupted, ``XX002`` index_corrupted, and the
  internal errors amcheck raises on pages it cannot make sense of) or a reason the relation
  could not be checked (a lock wait, a cancelled statement, no privilege). Never "clean".
- ``kind_of()``: index, heap, toast or catalog damage, from the relation's kind and schema.
- ``action_for()`` and ``repair_plan()``: what the scenario does about each finding and about
  all of them together (reindex, restore the rows of the bad blocks from a side restore, or
  escalate to a full PITR or a rebuild).
- ``parse_pg_checksums()``: the failures ``pg_checksums --check`` prints for a stopped cluster.
- ``block_ranges()``: the TID ranges around bad blocks, so the intact rows of a damaged table
  can be read without touching the bad pages.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# Every SQLSTATE of class XX is evidence of damage: XX001 data_corrupted, XX002
# index_corrupted, and XX000 (internal_error), which amcheck and the heap access code raise for
# structures they cannot read ("could not access status of transaction", "invalid memory
# alloc request size", "missing chunk number ... for toast value"). These messages still mean
# damaged data when an error outside class XX carries them.
DAMAGE_MESSAGES = (
    re.compile(r'invalid page in block', re.I),
    re.compile(r'missing chunk number', re.I),
    re.compile(r'unexpected chunk (number|size)', re.I),
    re.compile(r'could not (read|access) .*(block|status of transaction)', re.I),
    re.compile(r'invalid memory alloc request size', re.I),
    re.compile(r'compressed (pglz )?data is corrupt', re.I),
)
BLOCK_IN_MESSAGE = re.compile(r'\bblock (\d+)\b')
PG_CHECKSUMS_FAILURE = re.compile(
    r'checksum verification failed in file "(?P<file>[^"]+)", block (?P<block>\d+): '
    r'calculated checksum (?P<calculated>[0-9A-Fa-f]+) but block contains (?P<stored>[0-9A-Fa-f]+)')
RELATION_FILE = re.compile(r'(?:^|/)base/(?P<dboid>\d+)/(?P<filenode>\d+)(?:_(?P<fork>[a-z]+))?(?:\.(?P<segment>\d+))?$')
# Blocks per 1 GB segment file at the default 8 kB block size.
BLOCKS_PER_SEGMENT = 131072

# The least destructive repair that works for each kind of damage ('page': a page that fails
# its checksum in a stopped cluster, not yet tied to a relation).
REPAIR_OF_KIND = {
    'index': 'reindex',
    'invalid_index': 'drop_invalid',
    'heap': 'restore_rows',
    'toast': 'escalate',
    'catalog': 'escalate',
    'page': 'escalate',
}
# How bad each action is: the plan is the worst one any finding needs.
SEVERITY = {'none': 0, 'drop_invalid': 1, 'reindex': 2, 'restore_rows': 3, 'escalate': 4}
ACTIONS = tuple(SEVERITY)
CATALOG_SCHEMAS = ('pg_catalog', 'information_schema')


def classify_error(sqlstate, message):
    """``'damage'`` when the error is evidence of corruption, else ``'not_checked'``."""
    if (sqlstate or '').upper().startswith('XX'):
        return 'damage'
    text = message or ''
    if any(pattern.search(text) for pattern in DAMAGE_MESSAGES):
        return 'damage'
    return 'not_checked'


def block_of(message):
    """The block number a server message names (``invalid page in block 7 of ...``), or None."""
    match = BLOCK_IN_MESSAGE.search(message or '')
    return int(match.group(1)) if match else None


def kind_of(relkind, schema, owner_schema=None):
    """Index, heap, toast or catalog damage.

    ``relkind`` is pg_class.relkind (``i`` index, ``r``/``m`` heap, ``t`` TOAST); ``schema``
    the relation's own schema, ``owner_schema`` that of the table an index or a TOAST table
    belongs to. Anything of the system catalogs (their indexes and TOAST tables too) is
    catalog damage: the server itself depends on it.
    """
    for name in (schema, owner_schema):
        if name in CATALOG_SCHEMAS:
            return 'catalog'
    if relkind in ('i', 'I'):
        return 'index'
    if relkind == 't':
        return 'toast'
    return 'heap'


def action_for(kind):
    """The least destructive repair that works for one finding of this kind.

    An index is rebuilt from its table (REINDEX). A damaged table page is read again from a
    physical side restore (on-disk damage does not travel through WAL) and its rows put back.
    TOAST damage is escalated: the toasted values of a row are spread over many chunks, and
    putting them back row by row is not built yet. Catalog damage is always escalated.
    """
    return REPAIR_OF_KIND.get(kind, 'escalate')


def repair_plan(findings, max_tables=2):
    """What the scenario does about all findings together.

    Returns ``{'action': ..., 'reason': ..., 'tables': [...], 'indexes': [...]}``. Damage in
    more than ``max_tables`` tables is escalated as a whole: repairing table by table is then
    slower and riskier than one point-in-time restore of the cluster.
    """
    if not findings:
        return {'action': 'none', 'reason': 'no damage found', 'tables': [], 'indexes': []}
    planned = [(f, f.get('action') or action_for(f.get('kind'))) for f in findings]
    worst = max((action for _f, action in planned), key=SEVERITY.get)
    tables = sorted({'%s.%s' % (f['database'], f['table']) for f, action in planned if action == 'restore_rows'})
    indexes = sorted({'%s.%s' % (f['database'], f['relation']) for f, action in planned
                      if action in ('reindex', 'drop_invalid')})
    if worst == 'escalate':
        kinds = sorted({f.get('kind') for f, action in planned if action == 'escalate'})
        return {'action': 'escalate', 'tables': tables, 'indexes': indexes,
                'reason': '%s damage cannot be repaired in place: restore the cluster '
                          '(forexai.dr.restore_pitr) or rebuild it on a new host '
                          '(forexai.dr.scenario_server_failure)' % ' and '.join(kinds)}
    if worst == 'restore_rows' and len(tables) > max_tables:
        return {'action': 'escalate', 'tables': tables, 'indexes': indexes,
                'reason': 'damaged pages in %d tables (more than %d): one point-in-time restore of '
                          'the cluster is quicker and safer than repairing each' % (len(tables), max_tables)}
    reasons = {
        'drop_invalid': 'only invalid indexes left by failed concurrent builds: drop them (and rebuild their originals)',
        'reindex': 'only index damage: rebuild the indexes from their tables (REINDEX CONCURRENTLY)',
        'restore_rows': 'damaged table pages: their rows come back from a physical side restore',
    }
    return {'action': worst, 'reason': reasons[worst], 'tables': tables, 'indexes': indexes}


def parse_pg_checksums(output):
    """Failures ``pg_checksums --check`` printed, and its summary counts.

    Returns ``{'failures': [{'file', 'block', 'calculated', 'stored', 'database_oid',
    'filenode', 'fork'}], 'bad_checksums': int or None, 'blocks_scanned': int or None}``.
    The block is the block within the relation (the segment's offset added).
    """
    failures = []
    summary = {}
    for line in (output or '').splitlines():
        match = PG_CHECKSUMS_FAILURE.search(line)
        if match:
            entry = {'file': match.group('file'), 'calculated': match.group('calculated'),
                     'stored': match.group('stored'), 'block': int(match.group('block'))}
            where = RELATION_FILE.search(entry['file'])
            if where:
                entry['database_oid'] = int(where.group('dboid'))
                entry['filenode'] = int(where.group('filenode'))
                entry['fork'] = where.group('fork') or 'main'
                entry['block'] += int(where.group('segment') or 0) * BLOCKS_PER_SEGMENT
            failures.append(entry)
            continue
        for label, key in (('Bad checksums', 'bad_checksums'), ('Blocks scanned', 'blocks_scanned')):
            if line.strip().startswith(label + ':'):
                try:
                    summary[key] = int(line.split(':', 1)[1].strip())
                except ValueError:
                    pass
    return {'failures': failures, 'bad_checksums': summary.get('bad_checksums'),
            'blocks_scanned': summary.get('blocks_scanned')}


def block_ranges(bad_blocks):
    """Half-open block ranges ``(start, end)`` around the bad blocks; ``end`` None is open.

    ``block_ranges([3, 4, 9])`` is ``[(0, 3), (5, 9), (10, None)]``: reading the TIDs of those
    ranges reads every page but the bad ones.
    """
    blocks = sorted({int(b) for b in bad_blocks})
    if any(b < 0 for b in blocks):
        raise ValueError('a block number cannot be negative')
    ranges = []
    start = 0
    for block in blocks:
        if block > start:
            ranges.append((start, block))
        start = block + 1
    ranges.append((start, None))
    return ranges


def tid_range_condition(start, end):
    """The WHERE clause (with its parameters) that selects the TIDs of blocks [start, end)."""
    if end is None:
        return "ctid >= %s::tid", ['(%d,0)' % start]
    return "ctid >= %s::tid AND ctid < %s::tid", ['(%d,0)' % start, '(%d,0)' % end]
