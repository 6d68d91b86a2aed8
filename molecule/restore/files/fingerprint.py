"""Fingerprint every table of a database: row count and md5 of its rows in key order.

Usage: fingerprint.py DB [--upto FILE]

Prints JSON {"schema.table": {"rows": n, "md5": "...", "key": [...], "max_key": v}}.
With --upto, a table whose key is one integer column is fingerprinted only up to the
max_key FILE recorded for it (rows added later, with higher ids, are counted apart in
"rows_after"), so a database that kept running after a restore can be compared exactly with
the backup. Run as a database superuser (peer authentication as postgres).
"""
import json
import sys

import psycopg2
from psycopg2 import sql

TABLES = """
SELECT n.nspname, c.relname, c.oid
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
 ORDER BY 1, 2
"""
KEY = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod)
  FROM pg_index i
  JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
 WHERE i.indrelid = %s AND i.indisprimary
 ORDER BY k.ord
"""


def main(argv):
    dbname = argv[1]
    upto = {}
    if len(argv) > 3 and argv[2] == '--upto':
        with open(argv[3]) as handle:
            upto = json.load(handle)
    conn = psycopg2.connect(dbname=dbname, application_name='forexai-fingerprint')
    conn.set_session(isolation_level='REPEATABLE READ', readonly=True)
    cur = conn.cursor()
    cur.execute(TABLES)
    out = {}
    for schema, table, oid in cur.fetchall():
        name = '%s.%s' % (schema, table)
        cur.execute(KEY, (oid,))
        key = cur.fetchall()
        order = [sql.Identifier(k[0]) for k in key] or [sql.SQL('t::text')]
        relation = sql.Identifier(schema, table)
        where = sql.SQL('true')
        integer_key = len(key) == 1 and key[0][1] in ('bigint', 'integer', 'smallint')
        limit = upto.get(name, {}).get('max_key')
        if integer_key and name in upto:
            where = sql.SQL('{} <= %s').format(sql.Identifier(key[0][0]))
        params = (limit,) if integer_key and name in upto else ()
        if integer_key and name in upto and limit is None:
            where, params = sql.SQL('false'), ()
        cur.execute(sql.SQL(
            "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY {order}), '')) "
            "FROM {rel} AS t WHERE {where}").format(
                order=sql.SQL(', ').join(order), rel=relation, where=where), params)
        rows, digest = cur.fetchone()
        entry = {'rows': rows, 'md5': digest, 'key': [k[0] for k in key]}
        if integer_key:
            cur.execute(sql.SQL('SELECT max({}) FROM {}').format(sql.Identifier(key[0][0]),
                                                                 relation))
            entry['max_key'] = cur.fetchone()[0] if not upto else limit
            cur.execute(sql.SQL('SELECT count(*) FROM {}').format(relation))
            entry['rows_after'] = cur.fetchone()[0] - rows
        out[name] = entry
    conn.rollback()
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main(sys.argv)
