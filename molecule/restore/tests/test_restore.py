"""Acceptance of restore_table and restore_full, read from what converge recorded.

converge fingerprinted every table (row count and md5 of the rows in key order) with the
writer stopped, in the same state the backup was taken in; later fingerprints are taken
"up to" the backup's largest ids, so rows the running platform added afterwards are
counted apart (``rows_after``) and the rest compares exactly.
"""
import json

import pytest

TEST_DIR = "/var/lib/forexai-restore-test"


# The hosts (fixtures db, app, s3) come from molecule/conftest.py.


def _json(host, name):
    return json.loads(host.file(f"{TEST_DIR}/{name}").content_string)


def _psql(host, database, query):
    return host.check_output(
        "runuser -u postgres -- psql -XAt -d %s -c %s", database, query)


def _content(fingerprint):
    """Row counts and hashes per table, without the count of rows added later."""
    return {t: (e["rows"], e["md5"]) for t, e in fingerprint.items()}


@pytest.fixture(scope="module")
def backup(db):
    return _json(db, "backup.json")


def test_backup_holds_exactly_the_fingerprinted_rows(db, backup):
    set_id = _json(db, "backup_run.json")["set_id"]
    manifest = json.loads(db.file(f"/var/backups/forexai/{set_id}/manifest.json").content_string)
    assert manifest["verified"] is True
    counts = manifest["database"]["row_counts"]
    assert counts == {table: entry["rows"] for table, entry in backup.items()}
    assert counts["public.trades"] > 1000


def test_damage_was_real(db, backup):
    damaged = _json(db, "damaged.json")
    assert damaged["public.trades"]["rows"] == backup["public.trades"]["rows"] - 100
    assert damaged["public.trades"]["md5"] != backup["public.trades"]["md5"]


def test_refused_names_and_report_only_run_change_nothing(db):
    results = _json(db, "table_results.json")
    assert "is refused" in results["refused_quote"]
    assert "table public.added_after_backup is not in the backup" in results["refused_absent"]
    # the running writer adds trades all along: compare what existed at the backup
    assert _content(_json(db, "table_unconfirmed.json")) == _content(_json(db, "damaged.json"))
    report = results["unconfirmed"]
    assert (report["inserted"], report["updated"], report["deleted"]) == (100, 100, 0)


def test_table_restore_brings_back_exactly_the_damaged_rows(db, backup):
    results = _json(db, "table_results.json")["confirmed"]
    assert (results["inserted"], results["updated"], results["deleted"]) == (100, 100, 0)
    assert results["scratch_dropped"] is True
    restored = _json(db, "table_restored.json")
    assert restored["public.trades"]["rows"] == backup["public.trades"]["rows"]
    assert restored["public.trades"]["md5"] == backup["public.trades"]["md5"]


def test_table_restore_keeps_rows_added_after_the_backup(db, backup):
    restored = _json(db, "table_restored.json")
    # the writer's trades, the audit rows of the damage and of the restore, a setting
    assert restored["public.trades"]["rows_after"] > 0
    assert restored["public.audit_log"]["rows_after"] >= 300
    assert restored["public.settings"]["rows"] == backup["public.settings"]["rows"] + 1
    for table in ("public.users", "public.positions", "public.api_keys"):
        assert restored[table] == backup[table]


def test_missing_only_inserts_absent_rows_and_leaves_the_rest(db, backup):
    results = _json(db, "modes_results.json")
    report = results["missing_only"]
    assert (report["inserted"], report["updated"], report["deleted"]) == (3, 0, 0)
    assert int(results["renamed_keys"]) == 1
    modes = _json(db, "modes.json")
    assert modes["public.api_keys"]["rows"] == backup["public.api_keys"]["rows"]
    assert modes["public.api_keys"]["md5"] != backup["public.api_keys"]["md5"]


def test_replace_makes_the_table_exactly_as_in_the_backup(db, backup):
    report = _json(db, "modes_results.json")["replace"]
    assert (report["inserted"], report["updated"], report["deleted"]) == (0, 0, 1)
    modes = _json(db, "modes.json")
    assert modes["public.settings"] == backup["public.settings"]


def test_full_restore_matches_the_backup_table_by_table(db, backup):
    restored = _json(db, "full_restored.json")
    assert sorted(restored) == sorted(backup)
    for table, entry in backup.items():
        assert restored[table]["rows"] == entry["rows"], table
        assert restored[table]["md5"] == entry["md5"], table
    # only the restarted writer has added rows since (trades, with ids above the backup's)
    added = {t: e["rows_after"] for t, e in restored.items() if e.get("rows_after")}
    assert set(added) <= {"public.trades"}


def test_a_restore_failing_before_the_swap_leaves_the_live_database(db):
    failed = _json(db, "failed_restore.json")
    assert "failed before the swap" in failed["message"]
    assert "was not changed and the services were started again" in failed["message"]
    assert failed["oid_before"] == failed["oid_after"]
    assert int(failed["other_databases"]) == 0
    assert failed["services"] == ["active"] * 4


def test_old_database_is_kept_under_its_stamped_name(db):
    kept = _json(db, "full_restore.json")["kept_as"]
    assert kept.startswith("forexai_pre_restore_")
    assert _psql(db, "postgres", f"SELECT count(*) FROM pg_database WHERE datname = '{kept}'") == "1"
    # it is the wrecked database: positions was dropped there
    assert _psql(db, kept, "SELECT to_regclass('public.positions') IS NULL") == "t"


def test_no_restore_or_scratch_database_is_left(db):
    names = _psql(db, "postgres", "SELECT datname FROM pg_database").split()
    assert [n for n in names if "_restore_" in n and "_pre_restore_" not in n] == []
    assert [n for n in names if "_scratch_" in n or "_verify_" in n] == []


def test_services_are_healthy_on_the_restored_database(app):
    for unit in ("forexai-backend", "forexai-frontend", "forexai-workers",
                 "forexai-mt5-connector"):
        assert app.service(unit).is_running, unit
    code = app.check_output("curl -sS -o /dev/null -w '%{http_code}' "
                            "http://127.0.0.1:8000/api/v1/health")
    assert code == "200"


def test_second_run_without_confirmation_changed_nothing(db):
    second = _json(db, "second_run.json")
    assert second["before"] == second["after"]


def test_restore_duration_is_recorded(db):
    info = _json(db, "full_restore.json")
    print("full restore: %s s in total, pg_restore %s" % (info["seconds"], info["pg_restore"]))
    assert float(info["seconds"]) < 300
