# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the reconcile_positions module's own parts.

The argument spec and documentation are checked directly; the transaction
logic runs against a small fake connection that records what was executed
(the real database run is in the lab).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
from decimal import Decimal

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.forexai.dr.plugins.doc_fragments import postgres as postgres_fragment
from ansible_collections.forexai.dr.plugins.module_utils import postgres as pg
from ansible_collections.forexai.dr.plugins.module_utils.reconcile import ReconcileError
from ansible_collections.forexai.dr.plugins.modules import reconcile_positions as module

UTC = datetime.timezone.utc
T0 = datetime.datetime(2025, 1, 2, 8, 0, tzinfo=UTC)


def validate(params):
    kwargs = dict(module.MODULE_KWARGS)
    kwargs.pop('supports_check_mode')
    return ArgumentSpecValidator(module.argument_spec(), **kwargs).validate(params)


# --- argument spec -------------------------------------------------------------

@pytest.mark.parametrize('params, errors', [
    ({'export': [], 'export_path': '/tmp/x.json'}, ['parameters are mutually exclusive: export_path|export']),
    ({}, ['one of the following is required: export_path, export']),
    ({'export': [], 'policy': {'db_only': 'delete'}},
     ['value of db_only must be one of: close, manual, got: delete found in policy']),
    ({'export': [], 'policy': {'mt5_only': 'close'}},
     ['value of mt5_only must be one of: insert, manual, got: close found in policy']),
    ({'export': [], 'policy': {'mismatched': 'update'}},
     ['value of mismatched must be one of: manual, update_db, got: update found in policy']),
    ({'export': [], 'export_format': 'xml'}, ['value of export_format must be one of: auto, csv, json, got: xml']),
    ({'export': []}, []),
    ({'export_path': '/tmp/x.csv'}, []),
])
def test_argument_constraints(params, errors):
    assert validate(params).error_messages == errors


def test_defaults_are_safe():
    params = validate({'export': '[]'}).validated_parameters
    assert params['policy'] == {'db_only': 'manual', 'mt5_only': 'manual', 'mismatched': 'manual'}
    assert params['allow_empty_export'] is False
    assert params['volume_tolerance'] == '0'
    assert params['price_tolerance'] == '0.00001'
    assert params['close_reason'] == 'reconciliation: not present at broker'
    assert params['actor'] == 'forexai.dr reconcile_positions'
    assert params['export_format'] == 'auto'


def test_partial_policy_keeps_other_classes_manual():
    params = validate({'export': [], 'policy': {'db_only': 'close'}}).validated_parameters
    assert params['policy'] == {'db_only': 'close', 'mt5_only': 'manual', 'mismatched': 'manual'}


def test_connection_aliases_and_secret():
    result = validate({'export': [], 'port': 55434, 'login_db': 'forexai', 'login_password': 's3cret'})
    assert result.error_messages == []
    assert result.validated_parameters['login_port'] == 55434
    assert result.validated_parameters['db'] == 'forexai'
    assert 's3cret' in result._no_log_values


def _documented_options():
    options = dict(yaml.safe_load(postgres_fragment.ModuleDocFragment.DOCUMENTATION)['options'])
    options.update(yaml.safe_load(module.DOCUMENTATION)['options'])
    return options


def _compare_spec_and_docs(spec, docs, where):
    assert sorted(spec) == sorted(docs), where
    for name, option in spec.items():
        doc = docs[name]
        label = '%s%s' % (where, name)
        assert doc.get('type', 'str') == option.get('type', 'str'), label
        assert doc.get('default') == option.get('default'), label
        assert doc.get('choices') == option.get('choices'), label
        assert sorted(doc.get('aliases', [])) == sorted(option.get('aliases', [])), label
        if 'options' in option:
            _compare_spec_and_docs(option['options'], doc['suboptions'], label + '.')


def test_documentation_matches_the_argument_spec():
    _compare_spec_and_docs(module.argument_spec(), _documented_options(), '')


def test_documentation_blocks_parse():
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert doc['module'] == 'reconcile_positions'
    assert doc['version_added'] == '0.1.0'
    assert doc['attributes']['check_mode']['support'] == 'full'
    assert doc['attributes']['diff_mode']['support'] == 'none'
    assert 'forexai.dr.postgres' in doc['extends_documentation_fragment']
    returned = yaml.safe_load(module.RETURN)
    assert set(returned) >= {'changed', 'diff', 'summary', 'actions', 'manual', 'queries'}
    for task in yaml.safe_load(module.EXAMPLES):
        assert 'forexai.dr.reconcile_positions' in task


# --- connection keywords ---------------------------------------------------------

def test_connection_kwargs_leave_out_empty_options_and_let_connect_params_win():
    params = validate({'export': [], 'login_host': 'db1', 'db': 'forexai', 'login_user': 'forexai',
                       'connect_params': {'sslmode': 'require', 'options': '-c statement_timeout=5000'}}
                      ).validated_parameters
    assert pg.connection_kwargs(params) == {
        'host': 'db1', 'port': 5432, 'user': 'forexai', 'dbname': 'forexai', 'connect_timeout': 10,
        'sslmode': 'require', 'application_name': 'forexai.dr',
        'options': '-c statement_timeout=5000'}


@pytest.mark.parametrize('host, expected', [('', '/tmp'), ('localhost', '/tmp'), ('db1', 'db1')])
def test_unix_socket_replaces_local_host(host, expected):
    params = validate({'export': [], 'login_host': host, 'login_unix_socket': '/tmp'}).validated_parameters
    assert pg.connection_kwargs(params)['host'] == expected


# --- loading the export -------------------------------------------------------------

@pytest.mark.parametrize('name, content, fmt, expected_fmt', [
    ('positions.csv', 'ticket,account\n', 'auto', 'csv'),
    ('positions.json', '[]', 'auto', 'json'),
    ('positions.txt', ' [ ]', 'auto', 'json'),
    ('positions.txt', 'ticket,account\n', 'auto', 'csv'),
    ('positions.json', '[]', 'csv', 'csv'),
])
def test_load_export_from_a_file(tmp_path, name, content, fmt, expected_fmt):
    path = tmp_path / name
    path.write_text(content)
    assert module.load_export({'export_path': str(path), 'export_format': fmt}) == (content, expected_fmt)


def test_load_export_missing_file(tmp_path):
    path = str(tmp_path / 'nope.json')
    with pytest.raises(ReconcileError) as caught:
        module.load_export({'export_path': path, 'export_format': 'auto'})
    assert str(caught.value) == ("cannot read export file %s: [Errno 2] No such file or directory: '%s'"
                                 % (path, path))


def test_load_export_inline():
    rows = [{'ticket': 1}]
    assert module.load_export({'export_path': None, 'export': rows, 'export_format': 'auto'}) == (rows, 'auto')


# --- the transaction, against a fake connection --------------------------------------

class FakeCursor(object):
    def __init__(self, conn):
        self.conn = conn
        self.rowcount = -1
        self._rows = []

    def mogrify(self, sql, params=None):
        return (sql if params is None else sql % tuple(repr(p) for p in params)).encode()

    def execute(self, sql, params=None):
        self.conn.executed.append((sql, params))
        self._rows = []
        if sql.startswith('SELECT mt5_account FROM users'):
            self._rows = [{'mt5_account': a} for a in self.conn.accounts]
        elif sql.startswith('SELECT id, user_id') and "status = 'open'" in sql:
            self._rows = self.conn.open_rows
        elif sql.startswith('SELECT id, user_id'):
            self._rows = []
        elif sql.startswith('SELECT ticket, detail FROM mt5_sync_log'):
            self._rows = self.conn.logged
        self.rowcount = self.conn.rowcount if sql.startswith(('UPDATE', 'INSERT')) else len(self._rows)

    def fetchall(self):
        return self._rows


@pytest.fixture(autouse=True)
def no_psycopg2_needed(monkeypatch):
    """The fake connection hands out its own cursors; psycopg2 need not be installed."""
    monkeypatch.setattr(module, 'dict_cursor', lambda conn: conn.cursor())
    monkeypatch.setattr(module, 'HAS_PSYCOPG2', True)


class FakeConnection(object):
    def __init__(self, open_rows=(), logged=(), rowcount=1):
        self.accounts = [5001, 5002]
        self.open_rows = list(open_rows)
        self.logged = list(logged)
        self.rowcount = rowcount
        self.executed = []
        self.commits = 0
        self.rollbacks = 0

    def cursor(self, cursor_factory=None):
        return FakeCursor(self)

    def commit(self):
        self.commits += 1

    def rollback(self):
        self.rollbacks += 1

    def close(self):
        self.closed = True

    def writes(self):
        return [sql for sql, dummy_params in self.executed if sql.startswith(('UPDATE', 'INSERT', 'DELETE'))]


def db_position(**overrides):
    row = {'id': 1, 'user_id': 11, 'mt5_account': 5001, 'ticket': 1001, 'symbol': 'EURUSD', 'side': 'buy',
           'volume': Decimal('1.00'), 'open_price': Decimal('1.085000'), 'open_time': T0, 'status': 'open'}
    row.update(overrides)
    return row


EXPORT = json.dumps([
    {'ticket': 1001, 'account': 5001, 'symbol': 'EURUSD', 'side': 'buy', 'volume': '0.40',
     'open_price': '1.085', 'open_time': '2025-01-02T10:00:00+02:00'},
    {'ticket': 1004, 'account': 5002, 'symbol': 'GBPUSD', 'side': 'sell', 'volume': 1,
     'open_price': 1.27, 'open_time': '2025-01-02T08:00:00Z'},
])


def params_for(**overrides):
    args = {'export': EXPORT}
    args.update(overrides)
    result = validate(args)
    assert result.error_messages == []
    return result.validated_parameters


def test_check_mode_reads_only_and_rolls_back():
    conn = FakeConnection([db_position(), db_position(id=2, ticket=1002)])
    result = module.reconcile(conn, params_for(policy={'db_only': 'close', 'mt5_only': 'insert',
                                                       'mismatched': 'update_db'}), check_mode=True)
    assert conn.writes() == [] and conn.commits == 0 and conn.rollbacks == 1
    assert conn.executed[0] == ('SET TRANSACTION READ ONLY', None)
    assert not any('FOR UPDATE' in sql for sql, dummy_params in conn.executed)
    assert result['changed'] is True
    assert result['summary'] == {'matched': 0, 'db_only': 1, 'mt5_only': 1, 'mismatched': 1,
                                 'actions': 3, 'manual': 0}
    assert [a['action'] for a in result['actions']] == ['close', 'insert', 'update_db']
    # the would-run statements are listed after the reads
    assert result['queries'][-7].startswith('SELECT set_config(')
    assert sum(q.startswith(('UPDATE', 'INSERT')) for q in result['queries']) == 6
    json.dumps(result)


def test_apply_runs_everything_in_one_transaction_with_the_actor_set():
    conn = FakeConnection([db_position(), db_position(id=2, ticket=1002)])
    result = module.reconcile(conn, params_for(policy={'db_only': 'close', 'mt5_only': 'insert',
                                                       'mismatched': 'update_db'}, actor='ops'),
                              check_mode=False)
    assert conn.commits == 1 and conn.rollbacks == 0
    assert any(sql.endswith('FOR UPDATE') for sql, dummy_params in conn.executed)
    actor_at = conn.executed.index(('SELECT set_config(%s, %s, %s)', ['forexai.actor', 'ops', True]))
    first_write = conn.executed.index(next(e for e in conn.executed if e[0].startswith(('UPDATE', 'INSERT'))))
    assert actor_at < first_write
    assert len(conn.writes()) == 6 and not any(sql.startswith('DELETE') for sql in conn.writes())
    assert result['changed'] is True


def test_a_statement_touching_no_row_rolls_everything_back():
    conn = FakeConnection([db_position(id=2, ticket=1002)], rowcount=0)
    with pytest.raises(ReconcileError) as caught:
        module.reconcile(conn, params_for(export='[]', allow_empty_export=True, policy={'db_only': 'close'}),
                         check_mode=False)
    assert str(caught.value).startswith('a statement touched 0 row(s) instead of 1, so the data changed '
                                        'while reconciling; nothing was committed: UPDATE positions')
    assert conn.commits == 0 and conn.rollbacks == 1


def test_nothing_to_do_is_not_a_change():
    conn = FakeConnection([])
    result = module.reconcile(conn, params_for(export='[]'), check_mode=False)
    assert result['changed'] is False and conn.writes() == [] and conn.commits == 0
    assert result['summary'] == {'matched': 0, 'db_only': 0, 'mt5_only': 0, 'mismatched': 0,
                                 'actions': 0, 'manual': 0}


def test_manual_items_already_logged_change_nothing():
    conn = FakeConnection([db_position(id=2, ticket=1002)])
    params = params_for(export='[]', allow_empty_export=True)
    first = module.reconcile(conn, params, check_mode=False)
    assert first['changed'] is True and first['manual'][0]['already_logged'] is False
    detail = json.loads(conn.executed[-1][1][4])
    again = FakeConnection([db_position(id=2, ticket=1002)], logged=[{'ticket': 1002, 'detail': detail}])
    second = module.reconcile(again, params, check_mode=False)
    assert second['changed'] is False and again.writes() == []
    assert second['manual'][0]['already_logged'] is True


def test_empty_export_is_refused_before_anything_is_written():
    conn = FakeConnection([db_position()])
    with pytest.raises(ReconcileError) as caught:
        module.reconcile(conn, params_for(export='[]', policy={'db_only': 'close'}), check_mode=False)
    assert 'the MT5 export is empty but the database has 1 open position(s)' in str(caught.value)
    assert conn.writes() == [] and conn.rollbacks == 1


def test_main_reports_errors_in_one_place(monkeypatch, capsys):
    testing = pytest.importorskip('ansible.module_utils.testing')
    monkeypatch.setattr(module, 'connect', lambda params: FakeConnection([db_position()]))
    bad = json.dumps([{'ticket': 1001, 'account': 9999, 'symbol': 'EURUSD', 'side': 'buy', 'volume': 1,
                       'open_price': 1, 'open_time': '2025-01-02T08:00:00Z'}])
    with testing.patch_module_args({'export': bad}):
        with pytest.raises(SystemExit):
            module.main()
    output = json.loads(capsys.readouterr().out)
    assert output['failed'] is True
    assert output['msg'] == 'Failed to reconcile positions: row 1: account 9999 is not a known MT5 account'
