# -*- coding: utf-8 -*-
# Copyright: (c) 2025, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic for reconciling MT5 (broker) positions with the positions table.

Nothing here talks to a database. The module reads rows, hands them to these
functions, and executes the statements they plan. That keeps every decision
(what differs, what to do about it, what SQL that takes) unit-testable.

Why there is no ``DELETE ... WHERE id NOT IN (SELECT position_id FROM mt5_sync_log)``
(the recovery plan's step 4): ``x NOT IN (subquery)`` is NULL, never true, as soon
as the subquery yields one NULL ``position_id`` (a log row about a ticket that had
no position), so the statement silently deletes nothing; and when the log is
empty (a fresh or restored database) it deletes every position. It also answers
the wrong question: whether a position was ever logged says nothing about whether
the broker still holds it. Here the difference against the broker's export is
computed explicitly by ticket, shown to the operator, and rows change only as the
policy allows: positions are closed (status, closed_at, close_reason), never
deleted, and every change is written to mt5_sync_log.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import datetime
import io
import json
import re
from decimal import Decimal, InvalidOperation, ROUND_HALF_UP

# The export's columns, all required.
EXPORT_FIELDS = ('ticket', 'account', 'symbol', 'side', 'volume', 'open_price', 'open_time')
SIDES = ('buy', 'sell')

# positions.volume is numeric(12,2) and positions.open_price numeric(18,6). Broker
# values are rounded to these scales (half away from zero, as PostgreSQL rounds
# numeric input) before they are compared, so the diff compares what the database
# can actually hold, float noise such as 0.1 + 0.2 disappears, and a value written
# by an insert or update compares equal on the next run.
VOLUME_QUANTUM = Decimal('0.01')
PRICE_QUANTUM = Decimal('0.000001')

# Fields compared between the broker and the database, in report order.
COMPARED_FIELDS = ('account', 'symbol', 'side', 'volume', 'open_price', 'open_time')
# Fields an 'update_db' policy may rewrite, mapped to their (constant) column
# names. The account is deliberately absent: a position that moved between
# accounts also changes its user_id, which is a decision for a person.
UPDATABLE_COLUMNS = {
    'symbol': 'symbol',
    'side': 'side',
    'volume': 'volume',
    'open_price': 'open_price',
    'open_time': 'open_time',
}

POLICY_CHOICES = {
    'db_only': ('close', 'manual'),
    'mt5_only': ('insert', 'manual'),
    'mismatched': ('manual', 'update_db'),
}
DEFAULT_POLICY = {'db_only': 'manual', 'mt5_only': 'manual', 'mismatched': 'manual'}
DEFAULT_CLOSE_REASON = 'reconciliation: not present at broker'
DEFAULT_ACTOR = 'forexai.dr reconcile_positions'

DIFF_CLASSES = ('matched', 'db_only', 'mt5_only', 'mismatched')

_ISO_TIME = re.compile(
    r'^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[Tt ]'
    r'(?P<hour>\d{2}):(?P<minute>\d{2})'
    r'(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?'
    r'\s*(?P<zone>[Zz]|[+-]\d{2}(?::?\d{2})?)?$'
)

# --- SQL templates -----------------------------------------------------------
# Every statement names its table and columns literally; only values are
# parameters. Each action's statements run in the module's single transaction,
# and each must touch exactly the expected number of rows or everything is
# rolled back.

CLOSE_SQL = (
    "UPDATE positions SET status = 'closed', closed_at = now(), close_reason = %s "
    "WHERE id = %s AND status = 'open'"
)

INSERT_SQL = (
    "INSERT INTO positions "
    "(user_id, mt5_account, ticket, symbol, side, volume, open_price, open_time, status) "
    "SELECT u.id, u.mt5_account, %s, %s, %s, %s, %s, %s, 'open' "
    "FROM users u WHERE u.mt5_account = %s"
)

# position_id is looked up by ticket (unique): for an insert it finds the new
# row, for a broker-only manual item it is NULL because no row exists.
LOG_SQL = (
    "INSERT INTO mt5_sync_log (position_id, ticket, mt5_account, action, detail, actor) "
    "VALUES ((SELECT p.id FROM positions p WHERE p.ticket = %s), %s, %s, %s, %s::jsonb, %s)"
)


class ReconcileError(ValueError):
    """Raised when an export or a request cannot be reconciled safely."""


class ExportError(ReconcileError):
    """A malformed export; ``row`` is the 1-based record number (None: the whole export)."""

    def __init__(self, message, row=None):
        self.row = row
        self.problem = message
        if row is not None:
            message = 'row %d: %s' % (row, message)
        super(ExportError, self).__init__(message)


# --- parsing -------------------------------------------------------------------

def _is_blank(value):
    return value is None or (isinstance(value, str) and value.strip() == '')


def _parse_int(value, field, row):
    if isinstance(value, bool):
        raise ExportError('%s is not an integer: %r' % (field, value), row)
    if isinstance(value, int):
        number = value
    elif isinstance(value, (float, Decimal)):
        try:
            integral = Decimal(str(value))
            if integral != integral.to_integral_value():
                raise ValueError
        except (InvalidOperation, ValueError):
            raise ExportError('%s is not an integer: %r' % (field, value), row)
        number = int(integral)
    elif isinstance(value, str) and re.match(r'^\s*\d+\s*$', value):
        number = int(value)
    else:
        raise ExportError('%s is not an integer: %r' % (field, value), row)
    if number <= 0:
        raise ExportError('%s must be a positive integer: %r' % (field, value), row)
    return number


def _parse_decimal(value, field, row, quantum):
    if isinstance(value, bool):
        raise ExportError('%s is not a number: %r' % (field, value), row)
    if isinstance(value, float):
        text = repr(value)
    elif isinstance(value, (int, Decimal)):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise ExportError('%s is not a number: %r' % (field, value), row)
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ExportError('%s is not a number: %r' % (field, value), row)
    if not number.is_finite():
        raise ExportError('%s is not a number: %r' % (field, value), row)
    number = number.quantize(quantum, rounding=ROUND_HALF_UP)
    if number <= 0:
        raise ExportError('%s must be greater than 0: %r' % (field, value), row)
    return number


def to_utc(moment):
    """Return an aware UTC datetime; a naive datetime is taken to be UTC."""
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        return moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


def parse_time(value):
    """Parse an ISO-8601 date and time into an aware UTC datetime.

    Accepts ``T`` or a space between date and time, optional seconds and
    fraction (beyond microseconds is truncated), and ``Z`` or ``+HH:MM`` /
    ``+HHMM`` / ``+HH``. A time without an offset is UTC. Raises ValueError.
    """
    if isinstance(value, datetime.datetime):
        return to_utc(value)
    if not isinstance(value, str):
        raise ValueError('not a string')
    match = _ISO_TIME.match(value.strip())
    if not match:
        raise ValueError('not ISO-8601')
    parts = match.groupdict()
    fraction = (parts['fraction'] or '0')[:6].ljust(6, '0')
    zone = parts['zone']
    if zone is None or zone in ('Z', 'z'):
        tzinfo = datetime.timezone.utc
    else:
        digits = zone[1:].replace(':', '')
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 23 or minutes > 59:
            raise ValueError('bad offset')
        offset = datetime.timedelta(hours=hours, minutes=minutes)
        tzinfo = datetime.timezone(-offset if zone[0] == '-' else offset)
    moment = datetime.datetime(
        int(parts['year']), int(parts['month']), int(parts['day']),
        int(parts['hour']), int(parts['minute']), int(parts['second'] or 0),
        int(fraction), tzinfo=tzinfo)
    return moment.astimezone(datetime.timezone.utc)


def detect_format(text, path=None):
    """Guess 'json' or 'csv' from a file name, else from the first character."""
    if path:
        lowered = path.lower()
        if lowered.endswith('.json'):
            return 'json'
        if lowered.endswith('.csv'):
            return 'csv'
    stripped = text.lstrip('\ufeff \t\r\n')
    return 'json' if stripped[:1] in ('[', '{') else 'csv'


def _load_rows(export, export_format):
    """Turn JSON text, CSV text or a parsed list into a list of dict rows."""
    if isinstance(export, bytes):
        export = export.decode('utf-8')
    if isinstance(export, (list, tuple)):
        return list(export)
    if not isinstance(export, str):
        raise ExportError('export must be a list of positions or JSON/CSV text, got %s'
                          % type(export).__name__)
    if export_format == 'auto':
        export_format = detect_format(export)
    text = export.lstrip('\ufeff')
    if text.strip() == '':
        return []
    if export_format == 'json':
        try:
            rows = json.loads(text, parse_float=Decimal)
        except ValueError as exc:
            raise ExportError('export is not valid JSON: %s' % exc)
        if not isinstance(rows, list):
            raise ExportError('export must be a JSON list of positions, got %s'
                              % type(rows).__name__)
        return rows
    if export_format == 'csv':
        reader = csv.DictReader(io.StringIO(text))
        rows = []
        for row in reader:
            # Header names are matched case-insensitively. Values beyond the
            # header's columns land under the key None, which parse_export rejects.
            rows.append(dict((k.strip().lower() if isinstance(k, str) else k, v)
                             for k, v in row.items()))
        if not rows and reader.fieldnames:
            # A header without data is an empty export, but only if it is the
            # right header: anything else is probably the wrong file.
            header = set(name.strip().lower() for name in reader.fieldnames)
            for field in EXPORT_FIELDS:
                if field not in header:
                    raise ExportError('CSV header: missing column %r' % field)
        return rows
    raise ExportError('unknown export format %r (expected json, csv or auto)' % export_format)


def parse_export(export, export_format='auto', known_accounts=None):
    """Validate a broker export and return normalized records sorted by ticket.

    ``export`` is JSON text, CSV text (with a header row) or an already parsed
    list of dicts. Each record is a dict with int ``ticket`` and ``account``,
    str ``symbol``, lowercased ``side``, Decimal ``volume`` and ``open_price``
    (rounded to the database's scale) and an aware UTC ``open_time``.

    ``known_accounts``, when given, is the set of MT5 accounts the database knows
    (users.mt5_account); a record for any other account is rejected.

    Raises ExportError naming the 1-based record ("row N: ...") on the first
    problem found.
    """
    rows = _load_rows(export, export_format)
    known = None if known_accounts is None else set(int(a) for a in known_accounts)
    records = []
    first_row_of_ticket = {}
    for number, raw in enumerate(rows, start=1):
        if not isinstance(raw, dict):
            raise ExportError('expected an object with the position fields, got %s'
                              % type(raw).__name__, number)
        if None in raw:
            raise ExportError('more values than the header has columns', number)
        for field in EXPORT_FIELDS:
            if field not in raw:
                raise ExportError('missing column %r' % field, number)
            if _is_blank(raw[field]):
                raise ExportError('empty value in column %r' % field, number)
        ticket = _parse_int(raw['ticket'], 'ticket', number)
        account = _parse_int(raw['account'], 'account', number)
        symbol = raw['symbol']
        if not isinstance(symbol, str):
            raise ExportError('symbol is not a string: %r' % (symbol,), number)
        side = raw['side']
        if not isinstance(side, str) or side.strip().lower() not in SIDES:
            raise ExportError("side must be 'buy' or 'sell', got %r" % (side,), number)
        volume = _parse_decimal(raw['volume'], 'volume', number, VOLUME_QUANTUM)
        open_price = _parse_decimal(raw['open_price'], 'open_price', number, PRICE_QUANTUM)
        try:
            open_time = parse_time(raw['open_time'])
        except (ValueError, OverflowError):
            raise ExportError('open_time is not an ISO-8601 time: %r' % (raw['open_time'],), number)
        if ticket in first_row_of_ticket:
            raise ExportError('duplicate ticket %d (first seen in row %d)'
                              % (ticket, first_row_of_ticket[ticket]), number)
        first_row_of_ticket[ticket] = number
        if known is not None and account not in known:
            raise ExportError('account %d is not a known MT5 account' % account, number)
        records.append({
            'ticket': ticket,
            'account': account,
            'symbol': symbol.strip(),
            'side': side.strip().lower(),
            'volume': volume,
            'open_price': open_price,
            'open_time': open_time,
        })
    records.sort(key=lambda r: r['ticket'])
    return records


def normalize_db_position(row):
    """Normalize a positions row (a mapping with the table's column names)."""
    def decimal_or_none(value):
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))

    open_time = row.get('open_time')
    if open_time is not None:
        open_time = parse_time(open_time)
    side = row.get('side')
    return {
        'id': row.get('id'),
        'user_id': row.get('user_id'),
        'ticket': int(row['ticket']),
        'account': int(row['mt5_account']) if row.get('mt5_account') is not None else None,
        'symbol': row.get('symbol'),
        'side': side.lower() if isinstance(side, str) else side,
        'volume': decimal_or_none(row.get('volume')),
        'open_price': decimal_or_none(row.get('open_price')),
        'open_time': open_time,
        'status': row.get('status', 'open'),
    }


def parse_tolerance(value, name):
    """Return a non-negative Decimal tolerance or raise ReconcileError."""
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        tolerance = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except (InvalidOperation, ValueError):
        raise ReconcileError('%s must be a non-negative number, got %r' % (name, value))
    if not tolerance.is_finite() or tolerance < 0:
        raise ReconcileError('%s must be a non-negative number, got %r' % (name, value))
    return tolerance


# --- diff ----------------------------------------------------------------------

def _compare(field, broker, database, volume_tolerance, price_tolerance):
    """Return 'equal', 'close' (within tolerance) or 'different'."""
    if broker == database:
        return 'equal'
    if broker is None or database is None:
        return 'different'
    tolerance = {'volume': volume_tolerance, 'open_price': price_tolerance}.get(field)
    if tolerance is not None and abs(broker - database) <= tolerance:
        return 'close'
    return 'different'


def diff_positions(mt5, db, volume_tolerance=Decimal('0'), price_tolerance=Decimal('0.00001'),
                   allow_empty_export=False, db_closed=None):
    """Compare broker records with the database's open positions, by ticket.

    ``mt5`` is the output of parse_export; ``db`` the open positions (raw rows
    or normalize_db_position output). ``db_closed`` optionally lists database
    rows with the broker's tickets that are no longer open: such a ticket stays
    in mt5_only but carries ``db_closed`` so that it is never re-inserted (ticket
    is unique) and always goes to a person.

    Returns a dict with lists ``matched``, ``db_only``, ``mt5_only`` and
    ``mismatched``, each sorted by ticket. Volume and price are compared as
    Decimals within the tolerances (inclusive); account, symbol, side and
    open_time (as an instant) must be equal. A partial fill shows up as a
    volume mismatch.

    An empty export while the database has open positions is refused
    (ReconcileError) unless ``allow_empty_export`` is true: a connector that
    failed and wrote nothing would otherwise make every position look closed.
    """
    volume_tolerance = parse_tolerance(volume_tolerance, 'volume_tolerance')
    price_tolerance = parse_tolerance(price_tolerance, 'price_tolerance')
    db = [r if 'account' in r else normalize_db_position(r) for r in db]
    closed = dict((r['ticket'], r if 'account' in r else normalize_db_position(r))
                  for r in (db_closed or []))

    if not mt5 and db and not allow_empty_export:
        raise ReconcileError(
            'the MT5 export is empty but the database has %d open position(s); an empty '
            'export usually means the connector failed. Set allow_empty_export to true only '
            'if the broker really holds no open positions' % len(db))

    broker_by_ticket = dict((r['ticket'], r) for r in mt5)
    db_by_ticket = dict((r['ticket'], r) for r in db)
    result = dict((name, []) for name in DIFF_CLASSES)

    for ticket in sorted(set(broker_by_ticket) | set(db_by_ticket)):
        broker = broker_by_ticket.get(ticket)
        database = db_by_ticket.get(ticket)
        if broker is None:
            result['db_only'].append(database)
            continue
        if database is None:
            item = dict(broker)
            if ticket in closed:
                item['db_closed'] = closed[ticket]
            result['mt5_only'].append(item)
            continue
        fields = []
        within_tolerance = []
        for field in COMPARED_FIELDS:
            outcome = _compare(field, broker[field], database[field],
                               volume_tolerance, price_tolerance)
            if outcome == 'different':
                fields.append(field)
            elif outcome == 'close':
                within_tolerance.append(field)
        entry = {'ticket': ticket, 'mt5': broker, 'db': database}
        if fields:
            entry['fields'] = fields
            entry['differences'] = dict(
                (f, {'mt5': broker[f], 'db': database[f]}) for f in fields)
            result['mismatched'].append(entry)
        else:
            entry['within_tolerance'] = within_tolerance
            result['matched'].append(entry)
    return result


def summarize(diff, plan=None):
    """Counts per diff class, plus actions and manual items when a plan is given."""
    summary = dict((name, len(diff.get(name, []))) for name in DIFF_CLASSES)
    if plan is not None:
        summary['actions'] = len(plan['actions'])
        summary['manual'] = len(plan['manual'])
    return summary


# --- plan --------------------------------------------------------------------

def validate_policy(policy):
    """Merge ``policy`` over the all-manual defaults and check every value."""
    merged = dict(DEFAULT_POLICY)
    for key, value in (policy or {}).items():
        if key not in POLICY_CHOICES:
            raise ReconcileError('unknown policy class %r (expected one of %s)'
                                 % (key, ', '.join(sorted(POLICY_CHOICES))))
        if value is None:
            continue
        if value not in POLICY_CHOICES[key]:
            raise ReconcileError('policy.%s must be one of %s, got %r'
                                 % (key, ', '.join(POLICY_CHOICES[key]), value))
        merged[key] = value
    return merged


def _log_statement(ticket, account, action, detail, actor):
    return {
        'sql': LOG_SQL,
        'params': [ticket, ticket, account, action, json_dumps(detail), actor],
        'expected_rows': 1,
    }


def _manual(diff_class, ticket, account, reason, detail, actor):
    detail = dict(detail, **{'class': diff_class, 'reason': reason})
    return {
        'class': diff_class,
        'ticket': ticket,
        'mt5_account': account,
        'reason': reason,
        'detail': jsonable(detail),
        'statements': [_log_statement(ticket, account, 'manual_review', detail, actor)],
    }


def plan_actions(diff, policy=None, close_reason=DEFAULT_CLOSE_REASON, actor=DEFAULT_ACTOR):
    """Decide, per the policy, what to do with every discrepancy in ``diff``.

    ``policy`` maps ``db_only`` to close|manual, ``mt5_only`` to insert|manual
    and ``mismatched`` to manual|update_db; missing keys stay 'manual'.

    Returns ``{'actions': [...], 'manual': [...]}``. Each action has ``action``
    (close, insert, update_db), ``class``, ``ticket``, ``mt5_account``,
    ``position_id``, ``detail`` and ``statements``: a list of ``{'sql', 'params',
    'expected_rows'}``, the change followed by its mt5_sync_log row. Each manual
    item has ``class``, ``ticket``, ``mt5_account``, ``reason``, ``detail`` and
    the statement logging it as 'manual_review'. Matched positions plan nothing.
    No statement ever deletes a row.
    """
    policy = validate_policy(policy)
    actions = []
    manual = []

    for row in diff.get('db_only', []):
        snapshot = {'db': _record_view(row)}
        if policy['db_only'] == 'close':
            detail = dict(snapshot, **{'class': 'db_only', 'policy': 'close',
                                       'close_reason': close_reason,
                                       'reason': 'open in the database, not held at the broker'})
            actions.append({
                'action': 'close', 'class': 'db_only', 'ticket': row['ticket'],
                'mt5_account': row['account'], 'position_id': row.get('id'),
                'detail': jsonable(detail),
                'statements': [
                    {'sql': CLOSE_SQL, 'params': [close_reason, row.get('id')], 'expected_rows': 1},
                    _log_statement(row['ticket'], row['account'], 'close', detail, actor),
                ],
            })
        else:
            manual.append(_manual('db_only', row['ticket'], row['account'],
                                  'open in the database, not held at the broker (policy: manual)',
                                  snapshot, actor))

    for row in diff.get('mt5_only', []):
        broker = _record_view(row)
        closed = row.get('db_closed')
        if closed is not None:
            manual.append(_manual(
                'mt5_only', row['ticket'], row['account'],
                'held at the broker, but the database has this ticket with status %r'
                % closed.get('status'),
                {'mt5': broker, 'db': _record_view(closed)}, actor))
        elif policy['mt5_only'] == 'insert':
            detail = {'class': 'mt5_only', 'policy': 'insert', 'mt5': broker,
                      'reason': 'held at the broker, missing from the database'}
            actions.append({
                'action': 'insert', 'class': 'mt5_only', 'ticket': row['ticket'],
                'mt5_account': row['account'], 'position_id': None,
                'detail': jsonable(detail),
                'statements': [
                    {'sql': INSERT_SQL,
                     'params': [row['ticket'], row['symbol'], row['side'], row['volume'],
                                row['open_price'], row['open_time'], row['account']],
                     'expected_rows': 1},
                    _log_statement(row['ticket'], row['account'], 'insert', detail, actor),
                ],
            })
        else:
            manual.append(_manual('mt5_only', row['ticket'], row['account'],
                                  'held at the broker, missing from the database (policy: manual)',
                                  {'mt5': broker}, actor))

    for entry in diff.get('mismatched', []):
        broker, database = entry['mt5'], entry['db']
        differences = dict((f, {'mt5': broker[f], 'db': database[f]}) for f in entry['fields'])
        view = {'mt5': _record_view(broker), 'db': _record_view(database),
                'differences': differences}
        if policy['mismatched'] == 'update_db' and 'account' in entry['fields']:
            manual.append(_manual('mismatched', entry['ticket'], database['account'],
                                  'the account differs; moving a position between accounts '
                                  'is never automatic', view, actor))
        elif policy['mismatched'] == 'update_db':
            actions.append(_update_action(entry, actor))
        else:
            manual.append(_manual('mismatched', entry['ticket'], database['account'],
                                  'differs in %s (policy: manual)' % ', '.join(entry['fields']),
                                  view, actor))

    return {'actions': actions, 'manual': manual}


def _update_action(entry, actor):
    broker, database = entry['mt5'], entry['db']
    assignments, guards, new_values, old_values = [], [], [], []
    for field in entry['fields']:
        column = UPDATABLE_COLUMNS[field]
        assignments.append('%s = %%s' % column)
        guards.append('%s IS NOT DISTINCT FROM %%s' % column)
        new_values.append(broker[field])
        old_values.append(database[field])
    # The guards make the update touch nothing (and the run roll back) if the
    # row changed after it was read.
    sql = ('UPDATE positions SET %s WHERE id = %%s AND status = \'open\' AND %s'
           % (', '.join(assignments), ' AND '.join(guards)))
    changes = dict((f, {'from': database[f], 'to': broker[f]}) for f in entry['fields'])
    detail = {'class': 'mismatched', 'policy': 'update_db', 'changes': changes,
              'reason': 'differs in %s; database updated to the broker\'s values'
                        % ', '.join(entry['fields'])}
    return {
        'action': 'update_db', 'class': 'mismatched', 'ticket': entry['ticket'],
        'mt5_account': database['account'], 'position_id': database.get('id'),
        'detail': jsonable(detail),
        'statements': [
            {'sql': sql, 'params': new_values + [database.get('id')] + old_values,
             'expected_rows': 1},
            _log_statement(entry['ticket'], database['account'], 'update_db', detail, actor),
        ],
    }


def pending_manual(manual, logged_details):
    """Split manual items into those still to log and those already logged.

    ``logged_details`` is an iterable of ``(ticket, detail)`` pairs from earlier
    'manual_review' rows. The same discrepancy (same class and same values on
    both sides, whatever the reason it was left to a person) is logged once, so
    that a rerun with nothing new to say changes nothing.
    """
    seen = set((int(t), _canonical(d)) for t, d in logged_details)
    pending, already = [], []
    for item in manual:
        key = (item['ticket'], _canonical(item['detail']))
        (already if key in seen else pending).append(item)
    return pending, already


# --- JSON helpers --------------------------------------------------------------

def _record_view(record):
    keys = ('id', 'ticket', 'account', 'symbol', 'side', 'volume', 'open_price',
            'open_time', 'status')
    return dict((k, record[k]) for k in keys if k in record)


def jsonable(value):
    """Return ``value`` with Decimals and datetimes as strings, recursively."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        return to_utc(value).isoformat()
    if isinstance(value, dict):
        return dict((str(k), jsonable(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def json_dumps(value):
    return json.dumps(jsonable(value), sort_keys=True)


def _canonical(detail):
    """The discrepancy a manual item is about, independent of why it is manual."""
    if isinstance(detail, str):
        detail = json.loads(detail)
    detail = dict((k, v) for k, v in jsonable(detail).items() if k != 'reason')
    return json.dumps(detail, sort_keys=True)
