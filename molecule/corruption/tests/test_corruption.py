"""Scenario 2, database corruption, with real damage on the database host's files.

One story, in order (pytest -x): a clean database is reported clean with every relation
checked; bad input is refused with nothing changed; bytes of a B-tree index page of trades are
overwritten (server stopped), found as index damage, left alone without confirmation, then
rebuilt; bytes of a heap page of trades are overwritten, found with the checksum evidence, a side
restore older than every backup is refused, and the rows of that page come back from a side
restore while every other row, and the rows the platform's writer added since, stay as they were.
"""
import os
import re

SCENARIO = os.path.join(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."), "playbooks", "scenario_db_corruption.yml")
DATA_DIR = "/var/lib/postgresql/15/main"
PSQL = "runuser -u postgres -- psql -X -A -t -v ON_ERROR_STOP=1 -d {db} -c {sql}"
STATE = {}


def q(host, statement, db="forexai"):
    return host.check_output(PSQL.format(db=db, sql=_quote(statement)))


def _quote(statement):
    return "'" + statement.replace("'", "'\"'\"'") + "'"


def flat(out):
    return " ".join(out.split())


def relations_with_storage(host):
    """What db_integrity must check, counted here on its own: tables, materialized views, TOAST
    tables and valid B-tree indexes, of every database that takes connections."""
    total = 0
    for database in q(host, "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate", "postgres").split():
        total += int(q(host, "SELECT count(*) FROM pg_class c LEFT JOIN pg_am a ON a.oid = c.relam "
                             "LEFT JOIN pg_index i ON i.indexrelid = c.oid WHERE c.relpersistence <> 't' AND "
                             "(c.relkind IN ('r', 'm', 't') OR (c.relkind = 'i' AND a.amname = 'btree' "
                             "AND i.indisvalid AND i.indisready))", database))
    return total


def overwrite(host, relation, block, offset=4000):
    """Stop the server, overwrite 24 bytes inside one page of the relation's file, start it."""
    path = q(host, f"SELECT pg_relation_filepath('{relation}')")
    filenode = q(host, f"SELECT pg_relation_filenode('{relation}')")
    host.check_output("systemctl stop postgresql@15-main")
    host.check_output(f"printf 'FOREXAI-DAMAGE-FOREXAI-D' | dd of={DATA_DIR}/{path} bs=1 "
                      f"seek=$(({block} * 8192 + {offset})) conv=notrunc status=none")
    host.check_output("systemctl start postgresql@15-main")
    host.check_output("until runuser -u postgres -- pg_isready -q; do sleep 0.5; done")
    return filenode


def amcheck(host, statement):
    """An amcheck call in a transaction that creates the extension and is rolled back: (rc, output)."""
    cmd = host.run("runuser -u postgres -- psql -X -A -t -d forexai -v ON_ERROR_STOP=1 "
                   "-c 'BEGIN' -c 'CREATE EXTENSION IF NOT EXISTS amcheck' -c " + _quote(statement) + " -c 'ROLLBACK'")
    return cmd.rc, cmd.stdout + cmd.stderr


def trades_digest(host, condition):
    return q(host, f"SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY id)), '-') "
                   f"FROM trades t WHERE {condition}")


def side_restores(host):
    return host.run("ls -d /var/lib/postgresql/15/side_* 2>/dev/null").stdout.split()


def test_a_clean_database_is_reported_clean_with_every_relation_checked(db, playbook):
    rc, out = playbook(SCENARIO)
    text = flat(out)
    assert rc == 0, out[-4000:]
    checked = re.search(r"Checked (\d+) of (\d+) relations", text)
    assert checked, out[-4000:]
    assert int(checked.group(1)) == int(checked.group(2)) == relations_with_storage(db), text[-3000:]
    assert "data checksums on" in text
    assert "Plan: none - no damage found" in text
    assert "DAMAGED" not in text and "NOT CHECKED" not in text


def test_bad_input_is_refused_and_nothing_changes(db, playbook):
    before = trades_digest(db, "id <= 1000")
    rc, out = playbook(SCENARIO, '{"db_corruption_databases": ["no_such_db"]}')
    assert rc != 0 and "no database no_such_db on this server" in flat(out), out[-3000:]
    rc, out = playbook(SCENARIO, "scenario_db_corruption_confirm=true", '{"db_corruption_relations": ["public.users"]}')
    assert rc != 0 and "names public.users, which the check did not find damaged" in flat(out), out[-3000:]
    control = "/usr/share/postgresql/15/extension/amcheck.control"
    db.check_output(f"mv {control} {control}.away")
    try:
        rc, out = playbook(SCENARIO)
    finally:
        db.check_output(f"mv {control}.away {control}")
    assert rc != 0 and "the amcheck extension is not available on this server" in flat(out), out[-3000:]
    assert q(db, "SELECT count(*) FROM pg_extension WHERE extname = 'amcheck'") == "0"
    assert trades_digest(db, "id <= 1000") == before
    assert side_restores(db) == []


def test_a_damaged_index_page_is_found_and_left_alone_without_confirmation(db, playbook):
    STATE["newest_before_index"] = int(q(db, "SELECT max(id) FROM trades"))
    STATE["trades_before_index"] = trades_digest(db, f"id <= {STATE['newest_before_index']}")
    STATE["users"] = q(db, "SELECT md5(string_agg(u::text, '|' ORDER BY id)) FROM users u")
    pages = int(q(db, "SELECT pg_relation_size('trades_user_id_idx') / 8192"))
    assert pages > 20
    STATE["index_filenode"] = overwrite(db, "trades_user_id_idx", pages // 2)
    rc, text = amcheck(db, "SELECT bt_index_check('trades_user_id_idx')")
    assert rc != 0 and "invalid page in block" in text, text

    rc, out = playbook(SCENARIO)
    text = flat(out)
    assert rc == 0, out[-4000:]
    assert re.search(r"DAMAGED index \| forexai \| public\.trades_user_id_idx \| public\.trades \| \d+ \| reindex \| "
                     r"ERROR: invalid page in block \d+", text), text[-3000:]
    assert "Plan: reindex" in text and "Nothing was changed" in text
    assert q(db, "SELECT pg_relation_filenode('trades_user_id_idx')") == STATE["index_filenode"]
    assert amcheck(db, "SELECT bt_index_check('trades_user_id_idx')")[0] != 0


def test_the_damaged_index_is_rebuilt_and_nothing_else_changes(db, playbook):
    rc, out = playbook(SCENARIO, "scenario_db_corruption_confirm=true")
    text = flat(out)
    assert rc == 0, out[-5000:]
    assert "REINDEX INDEX CONCURRENTLY" in text and "check afterwards: clean" in text, text[-3000:]
    assert q(db, "SELECT pg_relation_filenode('trades_user_id_idx')") != STATE["index_filenode"]
    rc, detail = amcheck(db, "SELECT bt_index_check('trades_user_id_idx', true)")
    assert rc == 0, detail
    # Queries through the index return the rows a scan of the table returns.
    for user in (1, 2, 3, 50, 99, 150, 200):
        by_index = q(db, "SET enable_seqscan = off; SET enable_bitmapscan = off; "
                         f"SELECT count(*) FROM trades WHERE user_id = {user}").split()[-1]
        by_scan = q(db, "SET enable_indexscan = off; SET enable_bitmapscan = off; "
                        f"SELECT count(*) FROM trades WHERE user_id = {user}").split()[-1]
        assert by_index == by_scan, user
    assert trades_digest(db, f"id <= {STATE['newest_before_index']}") == STATE["trades_before_index"]
    assert q(db, "SELECT md5(string_agg(u::text, '|' ORDER BY id)) FROM users u") == STATE["users"]
    assert q(db, "SELECT count(*) FROM pg_index WHERE NOT indisvalid") == "0"


def test_a_damaged_table_page_is_found_with_its_checksum_evidence(db, playbook):
    block = 7
    on_block = f"ctid >= '({block},0)' AND ctid < '({block + 1},0)'"
    ids = q(db, f"SET enable_seqscan = off; SELECT string_agg(id::text, ',' ORDER BY id) FROM trades WHERE {on_block}").split()[-1]
    assert ids and "," in ids
    STATE["block"], STATE["block_ids"] = block, ids
    STATE["newest_before_heap"] = int(q(db, "SELECT max(id) FROM trades"))
    STATE["block_rows"] = trades_digest(db, f"id IN ({ids})")
    STATE["other_rows"] = trades_digest(db, f"id <= {STATE['newest_before_heap']} AND id NOT IN ({ids})")
    STATE["trades_filenode"] = overwrite(db, "trades", block)
    failures_before = int(q(db, "SELECT checksum_failures FROM pg_stat_database WHERE datname = 'forexai'"))
    reads = db.run(PSQL.format(db="forexai", sql=_quote("SELECT count(*) FROM trades")))
    assert reads.rc != 0 and f"invalid page in block {block}" in reads.stderr

    rc, out = playbook(SCENARIO)
    text = flat(out)
    assert rc == 0, out[-4000:]
    assert f"DAMAGED heap | forexai | public.trades | public.trades | {block} | restore_rows | " \
           f"ERROR: invalid page in block {block} of relation" in text, text[-3000:]
    assert re.search(r"checksum failures \(database \| count \| last detected at\): forexai \| \d+ \| 20\d\d-", text), text[-3000:]
    assert int(q(db, "SELECT checksum_failures FROM pg_stat_database WHERE datname = 'forexai'")) > failures_before
    assert "Plan: restore_rows" in text and "1. a side restore of the cluster" in text and "Nothing was changed" in text

    # A side restore from before every backup cannot hold the page: refused, nothing changed.
    rc, out = playbook(SCENARIO, "scenario_db_corruption_confirm=true",
                       "db_corruption_side_target_time=2020-01-01T00:00:00Z")
    assert rc != 0 and "before the oldest backup" in flat(out), out[-3000:]
    assert q(db, "SELECT pg_relation_filenode('trades')") == STATE["trades_filenode"]
    assert side_restores(db) == []

    # Damage in more tables than the operator allows: escalated, the playbook to run named, and
    # without its own confirmation nothing restored.
    rc, out = playbook(SCENARIO, "scenario_db_corruption_confirm=true", "db_corruption_max_tables=0")
    text = flat(out)
    assert rc != 0 and "Plan: escalate" in text, out[-3000:]
    assert "Nothing was changed. Run ansible-playbook forexai.dr.restore_pitr -e restore_pitr_confirm=true" in text, text[-3000:]
    assert q(db, "SELECT pg_relation_filenode('trades')") == STATE["trades_filenode"]
    assert q(db, "SELECT pg_is_in_recovery()") == "f"
    assert side_restores(db) == []


def test_the_rows_of_the_damaged_page_come_back_from_a_side_restore(db, playbook):
    ids = STATE["block_ids"]
    # Rows the platform's writer added after the damage (beyond the bad page: TID ranges).
    newest = int(q(db, "SELECT max(id) FROM trades"))
    newer = f"id > {STATE['newest_before_heap']} AND id <= {newest}"
    block = STATE["block"]
    readable = (f"(SELECT * FROM trades WHERE ctid < '({block},0)' "
                f"UNION ALL SELECT * FROM trades WHERE ctid >= '({block + 1},0)') t")
    newer_rows = q(db, "SET enable_seqscan = off; SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY id)), '-') "
                       f"FROM {readable} WHERE {newer}").splitlines()[-1]

    rc, out = playbook(SCENARIO, "scenario_db_corruption_confirm=true")
    text = flat(out)
    assert rc == 0, out[-6000:]
    assert "check afterwards: clean" in text, text[-3000:]
    put_back = re.search(r'"put_back": (\d+)', text)
    assert put_back and int(put_back.group(1)) == len(ids.split(",")), text[-3000:]
    assert '"kept_newer": 0' in text
    # The rows of the page are back, as they were; every other row, and the newer ones, unchanged.
    assert trades_digest(db, f"id IN ({ids})") == STATE["block_rows"]
    assert trades_digest(db, f"id <= {STATE['newest_before_heap']} AND id NOT IN ({ids})") == STATE["other_rows"]
    assert trades_digest(db, newer) == newer_rows
    assert q(db, "SELECT pg_relation_filenode('trades')") != STATE["trades_filenode"]
    rc, detail = amcheck(db, "SELECT count(*) FROM verify_heapam('trades', check_toast => true)")
    assert rc == 0 and detail.split()[-2:] == ["0", "ROLLBACK"], detail
    assert side_restores(db) == []
    # The table reads whole again, and is not left marked as clustered.
    assert int(q(db, "SELECT count(*) FROM trades")) >= newest - 5
    assert q(db, "SELECT count(*) FROM pg_index WHERE indrelid = 'trades'::regclass AND indisclustered") == "0"
    STATE["repair_ended"] = re.search(r"repair ended (\S+) ", text).group(1)


def test_the_weekly_check_of_a_side_restore_finds_it_clean_and_tears_it_down(db, playbook):
    weekly = os.path.join(os.path.dirname(SCENARIO), "verify_integrity.yml")
    # The primary's counters still hold the failures the repair dealt with: named, and failing.
    rc, out = playbook(weekly)
    text = flat(out)
    assert rc != 0 and "Integrity check failed" in text and "page checksum failures in: forexai" in text, out[-3000:]
    assert side_restores(db) == []
    rc, out = playbook(weekly, f"verify_integrity_checksum_failures_before={STATE['repair_ended']}")
    text = flat(out)
    assert rc == 0, out[-4000:]
    checked = re.search(r"checked (\d+) of (\d+) relations \((\d+) tables, (\d+) B-tree indexes with heapallindexed\) in [\d.]+ s: clean", text)
    assert checked, text[-3000:]
    # The copy holds the same relations as the primary (nothing writes DDL meanwhile).
    assert int(checked.group(1)) == int(checked.group(2)) == relations_with_storage(db), text[-3000:]
    pages = re.search(r"stopped, pg_checksums read (\d+) blocks in [\d.]+ s: 0 bad", text)
    # pg_checksums reads the files of every database: nearly all of their size, in pages.
    all_pages = int(q(db, "SELECT (sum(pg_database_size(oid)) / 8192)::bigint FROM pg_database", "postgres"))
    assert pages and 0.9 * all_pages <= int(pages.group(1)) <= 1.1 * all_pages, (all_pages, text[-3000:])
    assert side_restores(db) == []
