# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the pure reconciliation logic (no database)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
from decimal import Decimal

import pytest

from ansible_collections.forexai.dr.plugins.module_utils import reconcile as rc
from ansible_collections.forexai.dr.plugins.module_utils.reconcile import (
    CLOSE_SQL,
    ExportError,
    INSERT_SQL,
    LOG_SQL,
    ReconcileError,
    diff_positions,
    parse_export,
    pending_manual,
    plan_actions,
    summarize,
)

UTC = datetime.timezone.utc
T0 = datetime.datetime(2025, 1, 2, 8, 0, 0, tzinfo=UTC)
HEADER = 'ticket,account,symbol,side,volume,open_price,open_time'


def broker_row(**overrides):
    row = {
        'ticket': 1001, 'account': 5001, 'symbol': 'EURUSD', 'side': 'buy',
        'volume': '1.00', 'open_price': '1.085000', 'open_time': '2025-01-02T08:00:00Z',
    }
    row.update(overrides)
    return row


def db_row(**overrides):
    row = {
        'id': 1, 'user_id': 11, 'ticket': 1001, 'mt5_account': 5001, 'symbol': 'EURUSD',
        'side': 'buy', 'volume': Decimal('1.00'), 'open_price': Decimal('1.085000'),
        'open_time': T0, 'status': 'open',
    }
    row.update(overrides)
    return row


def broker(*rows, **kwargs):
    return parse_export(list(rows), **kwargs)


def classes(diff):
    return dict((name, [e['ticket'] for e in diff[name]]) for name in rc.DIFF_CLASSES)


# --- parsing -----------------------------------------------------------------

def test_json_csv_and_list_give_the_same_records():
    rows = [broker_row(), broker_row(ticket=1002, side='SELL', volume=0.5, open_price=1.2)]
    as_json = json.dumps(rows)
    as_csv = '\n'.join([HEADER] + [
        ','.join(str(r[f]) for f in rc.EXPORT_FIELDS) for r in rows]) + '\n'
    expected = [
        {'ticket': 1001, 'account': 5001, 'symbol': 'EURUSD', 'side': 'buy',
         'volume': Decimal('1.00'), 'open_price': Decimal('1.085000'), 'open_time': T0},
        {'ticket': 1002, 'account': 5001, 'symbol': 'EURUSD', 'side': 'sell',
         'volume': Decimal('0.50'), 'open_price': Decimal('1.200000'), 'open_time': T0},
    ]
    assert parse_export(rows) == expected
    assert parse_export(as_json) == expected
    assert parse_export(as_json, 'json') == expected
    assert parse_export(as_csv) == expected
    assert parse_export(as_csv, 'csv') == expected


def test_records_are_sorted_by_ticket_and_types_normalized():
    records = parse_export([broker_row(ticket='1003', account='5001 '), broker_row(ticket=1002)])
    assert [r['ticket'] for r in records] == [1002, 1003]
    assert isinstance(records[1]['ticket'], int) and records[1]['account'] == 5001
    assert records[0]['open_time'].tzinfo is UTC


def test_csv_header_is_case_insensitive_and_bom_tolerated():
    text = '\ufeffTicket, Account ,SYMBOL,side,volume,open_price,open_time\n1001,5001,EURUSD,Buy,1,1.085,2025-01-02 08:00\n'
    assert parse_export(text) == broker(broker_row())


@pytest.mark.parametrize('text', ['', '  \n', '[]', HEADER + '\n'])
def test_empty_exports_parse_to_no_records(text):
    assert parse_export(text) == []


@pytest.mark.parametrize('stamp', [
    '2025-01-02T08:00:00Z',
    '2025-01-02T08:00:00z',
    '2025-01-02T10:00:00+02:00',
    '2025-01-02T10:00:00+0200',
    '2025-01-02T10:00:00+02',
    '2025-01-02T03:00:00-05:00',
    '2025-01-02T08:00:00.000000Z',
    '2025-01-02T08:00:00',
    '2025-01-02 08:00:00',
    '2025-01-02T08:00',
    '2025-01-01T23:30:00-08:30',
])
def test_times_are_the_same_instant_in_utc(stamp):
    (record,) = broker(broker_row(open_time=stamp))
    assert record['open_time'] == T0
    assert record['open_time'].utcoffset() == datetime.timedelta(0)


def test_fraction_beyond_microseconds_is_truncated():
    (record,) = broker(broker_row(open_time='2025-01-02T08:00:00.1234567Z'))
    assert record['open_time'] == T0.replace(microsecond=123456)


def test_datetime_objects_are_accepted_naive_means_utc():
    naive = datetime.datetime(2025, 1, 2, 8, 0)
    aware = datetime.datetime(2025, 1, 2, 9, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    assert broker(broker_row(open_time=naive))[0]['open_time'] == T0
    assert broker(broker_row(open_time=aware))[0]['open_time'] == T0


@pytest.mark.parametrize('export, message', [
    pytest.param([dict((k, v) for k, v in broker_row().items() if k != 'volume')],
                 "row 1: missing column 'volume'", id='missing-column-json'),
    pytest.param('ticket,account,symbol,side,volume,open_time\n1001,5001,EURUSD,buy,1,2025-01-02T08:00:00Z\n',
                 "row 1: missing column 'open_price'", id='missing-column-csv'),
    pytest.param('ticket,account,symbol,volume,open_price,open_time\n',
                 "CSV header: missing column 'side'", id='missing-column-csv-header-only'),
    pytest.param([broker_row(), broker_row(ticket=1002, symbol='  ')],
                 "row 2: empty value in column 'symbol'", id='empty-symbol'),
    pytest.param(HEADER + '\n1001,5001,EURUSD,buy,1,1.1\n',
                 "row 1: empty value in column 'open_time'", id='short-csv-row'),
    pytest.param(HEADER + '\n1001,5001,EURUSD,buy,1,1.1,2025-01-02T08:00:00Z,extra\n',
                 'row 1: more values than the header has columns', id='long-csv-row'),
    pytest.param([broker_row(volume='abc')], "row 1: volume is not a number: 'abc'", id='volume-text'),
    pytest.param([broker_row(), broker_row(ticket=1002, volume='1,5')],
                 "row 2: volume is not a number: '1,5'", id='volume-comma'),
    pytest.param([broker_row(volume=True)], 'row 1: volume is not a number: True', id='volume-bool'),
    pytest.param([broker_row(volume=[1])], 'row 1: volume is not a number: [1]', id='volume-list'),
    pytest.param([broker_row(open_price='NaN')], "row 1: open_price is not a number: 'NaN'", id='price-nan'),
    pytest.param([broker_row(open_price='Infinity')], "row 1: open_price is not a number: 'Infinity'",
                 id='price-inf'),
    pytest.param([broker_row(volume='0')], "row 1: volume must be greater than 0: '0'", id='volume-zero'),
    pytest.param([broker_row(volume='0.004')], "row 1: volume must be greater than 0: '0.004'",
                 id='volume-rounds-to-zero'),
    pytest.param([broker_row(open_price=-1)], 'row 1: open_price must be greater than 0: -1', id='price-negative'),
    pytest.param([broker_row(side='long')], "row 1: side must be 'buy' or 'sell', got 'long'", id='side-long'),
    pytest.param([broker_row(side=1)], "row 1: side must be 'buy' or 'sell', got 1", id='side-number'),
    pytest.param([broker_row(open_time='yesterday')],
                 "row 1: open_time is not an ISO-8601 time: 'yesterday'", id='time-word'),
    pytest.param([broker_row(open_time='2025-02-30T08:00:00Z')],
                 "row 1: open_time is not an ISO-8601 time: '2025-02-30T08:00:00Z'", id='time-no-such-day'),
    pytest.param([broker_row(open_time='2025-01-02T08:00:00+25:00')],
                 "row 1: open_time is not an ISO-8601 time: '2025-01-02T08:00:00+25:00'", id='time-bad-offset'),
    pytest.param([broker_row(open_time='2025-01-02')],
                 "row 1: open_time is not an ISO-8601 time: '2025-01-02'", id='time-date-only'),
    pytest.param([broker_row(open_time=1735804800)],
                 'row 1: open_time is not an ISO-8601 time: 1735804800', id='time-epoch'),
    pytest.param([broker_row(), broker_row(ticket=1002), broker_row()],
                 'row 3: duplicate ticket 1001 (first seen in row 1)', id='duplicate-ticket'),
    pytest.param([broker_row(ticket='1001'), broker_row(ticket=1001)],
                 'row 2: duplicate ticket 1001 (first seen in row 1)', id='duplicate-ticket-mixed-types'),
    pytest.param([broker_row(ticket='T-1')], "row 1: ticket is not an integer: 'T-1'", id='ticket-text'),
    pytest.param([broker_row(ticket=12.5)], 'row 1: ticket is not an integer: 12.5', id='ticket-fraction'),
    pytest.param([broker_row(ticket=0)], 'row 1: ticket must be a positive integer: 0', id='ticket-zero'),
    pytest.param([broker_row(account=False)], 'row 1: account is not an integer: False', id='account-bool'),
    pytest.param(['1001'], 'row 1: expected an object with the position fields, got str', id='row-not-object'),
    pytest.param('{"ticket": 1}', 'export must be a JSON list of positions, got dict', id='json-object'),
    pytest.param('[{"ticket": 1}', 'export is not valid JSON: '
                 "Expecting ',' delimiter: line 1 column 15 (char 14)", id='json-broken'),
    pytest.param(42, 'export must be a list of positions or JSON/CSV text, got int', id='not-text'),
])
def test_malformed_exports_are_rejected_naming_the_row(export, message):
    with pytest.raises(ExportError) as caught:
        parse_export(export)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_unknown_account_is_rejected():
    rows = [broker_row(), broker_row(ticket=1002, account=9999)]
    with pytest.raises(ExportError) as caught:
        parse_export(rows, known_accounts=[5001, 5002])
    assert str(caught.value) == 'row 2: account 9999 is not a known MT5 account'
    assert caught.value.row == 2
    assert caught.value.problem == 'account 9999 is not a known MT5 account'


def test_known_accounts_may_be_any_integers_and_no_set_means_no_check():
    rows = [broker_row(account=5002)]
    assert parse_export(rows, known_accounts=[Decimal('5002')])[0]['account'] == 5002
    assert parse_export(rows)[0]['account'] == 5002
    with pytest.raises(ExportError):
        parse_export(rows, known_accounts=[])


def test_unknown_format_is_rejected():
    with pytest.raises(ExportError) as caught:
        parse_export('x', 'xml')
    assert str(caught.value) == "unknown export format 'xml' (expected json, csv or auto)"


# --- decimal precision -----------------------------------------------------------

@pytest.mark.parametrize('field, value, expected', [
    ('volume', 0.1 + 0.2, Decimal('0.30')),
    ('volume', '0.3', Decimal('0.30')),
    ('volume', Decimal('0.30000000000000004'), Decimal('0.30')),
    ('volume', '0.125', Decimal('0.13')),
    ('volume', '0.135', Decimal('0.14')),
    ('volume', 1, Decimal('1.00')),
    ('open_price', 0.1 + 0.2, Decimal('0.300000')),
    ('open_price', '1.0850005', Decimal('1.085001')),
    ('open_price', '1.08500049', Decimal('1.085000')),
    ('open_price', '1e-3', Decimal('0.001000')),
])
def test_numbers_become_decimals_at_the_column_scale(field, value, expected):
    (record,) = broker(broker_row(**{field: value}))
    assert record[field] == expected
    assert str(record[field]) == str(expected)


def test_json_numbers_are_read_as_decimals_not_floats():
    (record,) = parse_export('[{"ticket": 1001, "account": 5001, "symbol": "EURUSD", "side": "buy", '
                             '"volume": 0.1, "open_price": 1.0850001, "open_time": "2025-01-02T08:00:00Z"}]')
    assert record['volume'] == Decimal('0.10')
    assert record['open_price'] == Decimal('1.085000')


def test_float_sum_matches_the_decimal_in_the_database():
    assert 0.1 + 0.2 != 0.3  # the trap
    diff = diff_positions(broker(broker_row(volume=0.1 + 0.2, open_price=0.1 + 0.2)),
                          [db_row(volume=Decimal('0.3'), open_price=Decimal('0.300000'))],
                          volume_tolerance='0', price_tolerance='0')
    assert classes(diff)['matched'] == [1001]
    assert diff['matched'][0]['within_tolerance'] == []


# --- diff ------------------------------------------------------------------------

def test_every_class_is_found_and_sorted_by_ticket():
    mt5 = broker(broker_row(ticket=1001), broker_row(ticket=1005), broker_row(ticket=1003, volume='0.40'),
                 broker_row(ticket=1004))
    db = [db_row(id=2, ticket=1002), db_row(id=1, ticket=1001), db_row(id=3, ticket=1003),
          db_row(id=6, ticket=1006)]
    diff = diff_positions(mt5, db)
    assert classes(diff) == {'matched': [1001], 'db_only': [1002, 1006], 'mt5_only': [1004, 1005],
                             'mismatched': [1003]}
    assert summarize(diff) == {'matched': 1, 'db_only': 2, 'mt5_only': 2, 'mismatched': 1}


def test_partial_fill_is_a_volume_mismatch_with_both_values():
    diff = diff_positions(broker(broker_row(volume='0.40')), [db_row(id=7)])
    (entry,) = diff['mismatched']
    assert entry['fields'] == ['volume']
    assert entry['differences'] == {'volume': {'mt5': Decimal('0.40'), 'db': Decimal('1.00')}}
    assert entry['db']['id'] == 7 and entry['mt5']['volume'] == Decimal('0.40')


@pytest.mark.parametrize('stamp, expected', [
    ('2025-01-02T10:00:00+02:00', 'matched'),
    ('2025-01-02T08:00:00Z', 'matched'),
    ('2025-01-02T08:00:00', 'matched'),
    ('2025-01-02T03:00:00-05:00', 'matched'),
    ('2025-01-02T08:00:01Z', 'mismatched'),
    ('2025-01-02T08:00:00+02:00', 'mismatched'),
])
def test_open_time_compares_instants_not_offsets(stamp, expected):
    db_time = datetime.datetime(2025, 1, 2, 9, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    diff = diff_positions(broker(broker_row(open_time=stamp)), [db_row(open_time=db_time)])
    assert classes(diff)[expected] == [1001]
    if expected == 'mismatched':
        assert diff['mismatched'][0]['fields'] == ['open_time']


@pytest.mark.parametrize('volume_tolerance, price_tolerance, mt5_volume, mt5_price, expected, fields', [
    ('0', '0', '1.00', '1.085000', 'matched', []),
    ('0', '0', '1.01', '1.085000', 'mismatched', ['volume']),
    ('0.01', '0', '1.01', '1.085000', 'matched', ['volume']),
    ('0.01', '0', '0.99', '1.085000', 'matched', ['volume']),
    ('0.01', '0', '1.02', '1.085000', 'mismatched', ['volume']),
    ('0.009', '0', '1.01', '1.085000', 'mismatched', ['volume']),
    ('0', '0.00001', '1.00', '1.085010', 'matched', ['open_price']),
    ('0', '0.00001', '1.00', '1.084990', 'matched', ['open_price']),
    ('0', '0.00001', '1.00', '1.085011', 'mismatched', ['open_price']),
    ('0', '0', '1.00', '1.085001', 'mismatched', ['open_price']),
    ('0', '0.00001', '1.01', '1.085011', 'mismatched', ['volume', 'open_price']),
])
def test_tolerance_edges_are_inclusive(volume_tolerance, price_tolerance, mt5_volume, mt5_price,
                                       expected, fields):
    diff = diff_positions(broker(broker_row(volume=mt5_volume, open_price=mt5_price)), [db_row()],
                          volume_tolerance=volume_tolerance, price_tolerance=price_tolerance)
    (entry,) = diff[expected]
    assert entry['fields' if expected == 'mismatched' else 'within_tolerance'] == fields


@pytest.mark.parametrize('overrides, fields', [
    ({'symbol': 'eurusd'}, ['symbol']),
    ({'symbol': 'GBPUSD'}, ['symbol']),
    ({'side': 'sell'}, ['side']),
    ({'account': 5002}, ['account']),
    ({'side': 'sell', 'volume': '2', 'symbol': 'USDJPY'}, ['symbol', 'side']),  # volume within 100
])
def test_symbol_side_and_account_must_be_exact(overrides, fields):
    diff = diff_positions(broker(broker_row(**overrides)), [db_row()],
                          volume_tolerance='100', price_tolerance='100')
    assert diff['mismatched'][0]['fields'] == fields


def test_null_columns_in_the_database_are_mismatches():
    diff = diff_positions(broker(broker_row()), [db_row(symbol=None, volume=None, open_time=None)],
                          volume_tolerance='100')
    assert diff['mismatched'][0]['fields'] == ['symbol', 'volume', 'open_time']


def test_database_rows_from_psycopg2_are_normalized():
    row = db_row(side='BUY', volume=1, open_price='1.085', mt5_account='5001',
                 open_time=datetime.datetime(2025, 1, 2, 8, 0))
    diff = diff_positions(broker(broker_row()), [row])
    assert classes(diff)['matched'] == [1001]


@pytest.mark.parametrize('name, value, message', [
    ('volume_tolerance', '-1', "volume_tolerance must be a non-negative number, got '-1'"),
    ('volume_tolerance', 'abc', "volume_tolerance must be a non-negative number, got 'abc'"),
    ('price_tolerance', 'NaN', "price_tolerance must be a non-negative number, got 'NaN'"),
    ('price_tolerance', True, 'price_tolerance must be a non-negative number, got True'),
])
def test_bad_tolerances_are_refused(name, value, message):
    with pytest.raises(ReconcileError) as caught:
        diff_positions([], [], **{name: value})
    assert str(caught.value) == message


# --- the empty-export guard --------------------------------------------------------

EMPTY_REFUSAL = ('the MT5 export is empty but the database has 2 open position(s); an empty export '
                 'usually means the connector failed. Set allow_empty_export to true only if the '
                 'broker really holds no open positions')


@pytest.mark.parametrize('allow', [False, True])
def test_empty_export_and_empty_database_is_nothing_to_do(allow):
    diff = diff_positions(parse_export('[]'), [], allow_empty_export=allow)
    assert summarize(diff) == {'matched': 0, 'db_only': 0, 'mt5_only': 0, 'mismatched': 0}
    plan = plan_actions(diff, {'db_only': 'close', 'mt5_only': 'insert', 'mismatched': 'update_db'})
    assert plan == {'actions': [], 'manual': []}


@pytest.mark.parametrize('export', ['', '[]', HEADER + '\n', []])
def test_empty_export_with_open_positions_is_refused(export):
    with pytest.raises(ReconcileError) as caught:
        diff_positions(parse_export(export), [db_row(), db_row(id=2, ticket=1002)])
    assert str(caught.value) == EMPTY_REFUSAL


def test_empty_export_allowed_closes_everything_under_the_close_policy():
    db = [db_row(id=1, ticket=1001), db_row(id=2, ticket=1002)]
    diff = diff_positions([], db, allow_empty_export=True)
    assert classes(diff)['db_only'] == [1001, 1002]
    plan = plan_actions(diff, {'db_only': 'close'})
    assert [(a['action'], a['position_id']) for a in plan['actions']] == [('close', 1), ('close', 2)]
    assert plan['manual'] == []
    # and under the default policy it only asks a person
    plan = plan_actions(diff)
    assert plan['actions'] == [] and [m['ticket'] for m in plan['manual']] == [1001, 1002]


# --- plan --------------------------------------------------------------------------

def full_diff():
    mt5 = broker(broker_row(ticket=1001), broker_row(ticket=1003, volume='0.40'),
                 broker_row(ticket=1004, account=5002, side='sell'))
    db = [db_row(id=1, ticket=1001), db_row(id=2, ticket=1002), db_row(id=3, ticket=1003)]
    return diff_positions(mt5, db)


def test_default_policy_changes_nothing_and_asks_about_everything():
    plan = plan_actions(full_diff())
    assert plan['actions'] == []
    assert [(m['class'], m['ticket']) for m in plan['manual']] == [
        ('db_only', 1002), ('mt5_only', 1004), ('mismatched', 1003)]
    reasons = dict((m['ticket'], m['reason']) for m in plan['manual'])
    assert reasons == {
        1002: 'open in the database, not held at the broker (policy: manual)',
        1004: 'held at the broker, missing from the database (policy: manual)',
        1003: 'differs in volume (policy: manual)',
    }
    (log,) = plan['manual'][0]['statements']
    assert log['sql'] == LOG_SQL
    assert log['params'][:4] == [1002, 1002, 5001, 'manual_review']
    assert log['params'][5] == rc.DEFAULT_ACTOR
    assert json.loads(log['params'][4])['class'] == 'db_only'


def test_close_insert_and_update_policies_plan_exact_sql():
    plan = plan_actions(full_diff(), {'db_only': 'close', 'mt5_only': 'insert', 'mismatched': 'update_db'},
                        close_reason='gone', actor='tester')
    assert plan['manual'] == []
    close, insert, update = plan['actions']

    assert (close['action'], close['ticket'], close['position_id']) == ('close', 1002, 2)
    assert close['statements'][0] == {'sql': CLOSE_SQL, 'params': ['gone', 2], 'expected_rows': 1}
    log = close['statements'][1]
    assert log['params'][:4] == [1002, 1002, 5001, 'close'] and log['params'][5] == 'tester'
    assert json.loads(log['params'][4]) == {
        'class': 'db_only', 'policy': 'close', 'close_reason': 'gone',
        'reason': 'open in the database, not held at the broker',
        'db': {'id': 2, 'ticket': 1002, 'account': 5001, 'symbol': 'EURUSD', 'side': 'buy',
               'volume': '1.00', 'open_price': '1.085000', 'open_time': '2025-01-02T08:00:00+00:00',
               'status': 'open'}}

    assert (insert['action'], insert['ticket'], insert['mt5_account']) == ('insert', 1004, 5002)
    assert insert['statements'][0] == {
        'sql': INSERT_SQL,
        'params': [1004, 'EURUSD', 'sell', Decimal('1.00'), Decimal('1.085000'), T0, 5002],
        'expected_rows': 1}

    assert (update['action'], update['ticket'], update['position_id']) == ('update_db', 1003, 3)
    assert update['statements'][0] == {
        'sql': "UPDATE positions SET volume = %s WHERE id = %s AND status = 'open' "
               "AND volume IS NOT DISTINCT FROM %s",
        'params': [Decimal('0.40'), 3, Decimal('1.00')],
        'expected_rows': 1}
    assert update['detail']['changes'] == {'volume': {'from': '1.00', 'to': '0.40'}}


def test_update_of_several_fields_sets_and_guards_each():
    diff = diff_positions(broker(broker_row(side='sell', open_time='2025-01-02T08:00:05Z')), [db_row(id=9)])
    (action,) = plan_actions(diff, {'mismatched': 'update_db'})['actions']
    assert action['statements'][0]['sql'] == (
        "UPDATE positions SET side = %s, open_time = %s WHERE id = %s AND status = 'open' "
        "AND side IS NOT DISTINCT FROM %s AND open_time IS NOT DISTINCT FROM %s")
    assert action['statements'][0]['params'] == [
        'sell', T0 + datetime.timedelta(seconds=5), 9, 'buy', T0]


def test_account_change_is_never_automatic():
    diff = diff_positions(broker(broker_row(account=5002)), [db_row()])
    plan = plan_actions(diff, {'mismatched': 'update_db'})
    assert plan['actions'] == []
    assert plan['manual'][0]['reason'] == ('the account differs; moving a position between accounts '
                                           'is never automatic')


def test_ticket_closed_in_database_is_never_reinserted():
    closed = db_row(id=5, status='closed')
    diff = diff_positions(broker(broker_row()), [], db_closed=[closed])
    assert classes(diff)['mt5_only'] == [1001]
    assert diff['mt5_only'][0]['db_closed']['id'] == 5
    plan = plan_actions(diff, {'mt5_only': 'insert'})
    assert plan['actions'] == []
    assert plan['manual'][0]['reason'] == ("held at the broker, but the database has this ticket "
                                           "with status 'closed'")


def test_no_statement_ever_deletes():
    plan = plan_actions(full_diff(), {'db_only': 'close', 'mt5_only': 'insert', 'mismatched': 'update_db'})
    manual = plan_actions(full_diff())
    sql = [s['sql'].upper() for p in (plan, manual) for item in p['actions'] + p['manual']
           for s in item['statements']]
    assert sql and not any('DELETE' in s or 'NOT IN' in s for s in sql)


@pytest.mark.parametrize('policy, message', [
    ({'db_only': 'delete'}, "policy.db_only must be one of close, manual, got 'delete'"),
    ({'mt5_only': 'close'}, "policy.mt5_only must be one of insert, manual, got 'close'"),
    ({'mismatched': 'update'}, "policy.mismatched must be one of manual, update_db, got 'update'"),
    ({'orphans': 'close'}, "unknown policy class 'orphans' (expected one of db_only, mismatched, mt5_only)"),
])
def test_bad_policies_are_refused(policy, message):
    with pytest.raises(ReconcileError) as caught:
        plan_actions(full_diff(), policy)
    assert str(caught.value) == message


def test_summary_counts_actions_and_manual_items():
    diff = full_diff()
    plan = plan_actions(diff, {'db_only': 'close'})
    assert summarize(diff, plan) == {'matched': 1, 'db_only': 1, 'mt5_only': 1, 'mismatched': 1,
                                     'actions': 1, 'manual': 2}


def test_manual_items_already_logged_are_not_logged_again():
    plan = plan_actions(full_diff())
    first = plan['manual'][0]
    # the detail as it comes back from a jsonb column
    logged = [(first['ticket'], json.loads(first['statements'][0]['params'][4])),
              (4242, {'class': 'db_only'})]
    pending, already = pending_manual(plan['manual'], logged)
    assert already == [first]
    assert [m['ticket'] for m in pending] == [1004, 1003]
    # a changed question (the partial fill moved on) is logged again
    diff = diff_positions(broker(broker_row(volume='0.30')), [db_row()])
    changed = plan_actions(diff)['manual']
    logged = [(1001, plan_actions(diff_positions(broker(broker_row(volume='0.40')), [db_row()]))
               ['manual'][0]['detail'])]
    assert pending_manual(changed, logged) == (changed, [])


def test_jsonable_makes_the_diff_serializable():
    diff = full_diff()
    text = json.dumps(rc.jsonable(diff))
    assert '"volume": "0.40"' in text and '"open_time": "2025-01-02T08:00:00+00:00"' in text


def test_a_discrepancy_is_logged_once_whatever_the_policy_that_left_it_manual():
    diff = diff_positions(broker(broker_row(account=5002)), [db_row()])
    under_manual = plan_actions(diff)['manual']
    under_update = plan_actions(diff, {'mismatched': 'update_db'})['manual']
    assert under_manual[0]['reason'] != under_update[0]['reason']
    logged = [(1001, json.loads(under_manual[0]['statements'][0]['params'][4]))]
    assert pending_manual(under_update, logged) == ([], under_update)
