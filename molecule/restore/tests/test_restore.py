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
    # any name is quoted as an identifier: this one is simply a table the backup lacks
    assert 'table public.trades"; DROP TABLE users; -- is not in the backup' \
        in results["refused_quote"]
    assert "table public.added_after_backup is not in the backup" in results["refused_absent"]
    # no room for the scratch copy: refused, with the numbers, before the scratch database
    refused = results["refused_scratch_space"]
    assert "not enough free space in /var/lib/postgresql/15/main" in refused
    assert "the scratch database and the saved rows of public.trades" in refused
    assert "plus 100.0 TiB kept free" in refused and "nothing was written" in refused
    # the running writer adds trades all along: compare what existed at the backup
    assert _content(_json(db, "table_unconfirmed.json")) == _content(_json(db, "damaged.json"))
    report = results["unconfirmed"]
    assert (report["inserted"], report["updated"], report["deleted"]) == (100, 100, 0)


def test_table_restore_brings_back_exactly_the_damaged_rows(db, backup):
    results = _json(db, "table_results.json")["confirmed"]
    # the defaults: trades booked since the backup are kept, not deleted
    assert (results["inserted"], results["updated"], results["deleted"]) == (100, 100, 0)
    assert results["cascades"] == []
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


def test_overwritten_trades_are_saved_as_they_were(db):
    results = _json(db, "table_results.json")
    saved = results["confirmed"]["saved_rows"]
    assert saved["rows"] == 100
    assert saved["table"].startswith('"forexai_restore_saved"."trades_')
    rows = results["saved"]
    # the 100 damaged rows (ids 101-200), with the damage they held
    assert (int(rows["rows"]), int(rows["updated"]), int(rows["damaged"])) == (100, 100, 100)
    assert (int(rows["min_id"]), int(rows["max_id"])) == (101, 200)


def test_a_delete_that_would_cascade_is_refused_and_changes_nothing(db):
    results = _json(db, "table_results.json")
    message = results["refused_cascade"]
    assert 'would also delete 4 row(s) of "public"."trade_notes"' in message
    assert "nothing was changed" in message
    assert results["before_cascade"] == results["after_cascade"]


def test_a_table_whose_names_need_quoting_is_restored_exactly(db, backup):
    results = _json(db, "modes_results.json")
    report = results["quoted"]
    assert report["table"] == '"Ops"."Desk Limits"'
    assert (report["inserted"], report["updated"], report["deleted"]) == (1, 2, 1)
    assert report["saved_rows"]["rows"] == 3
    modes = _json(db, "modes.json")
    assert modes["Ops.Desk Limits"] == backup["Ops.Desk Limits"]
    assert backup["Ops.Desk Limits"]["rows"] == 5


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
    assert report["saved_rows"]["rows"] == 1
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
    # the migrations failed after the row counts had matched: the verified copy is kept
    assert failed["kept_copy"].startswith("forexai_restore_")
    assert int(failed["other_databases"]) == 1
    assert f"passed verification (row counts equal to the manifest) and is kept as " \
        f"{failed['kept_copy']}" in failed["message"]
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


def test_a_set_that_does_not_fit_is_refused_before_anything_stops(db):
    refused = _json(db, "refused_space.json")
    assert "not enough free space in /var/tmp/forexai-restore for the download of set" \
        in refused["message"]
    assert "plus 100.0 TiB kept free" in refused["message"]
    assert "nothing was written" in refused["message"]
    # the backend was never stopped and started again
    assert refused["backend_started_before"] == refused["backend_started_after"]
    assert int(refused["backend_started_before"]) > 0


def test_the_download_happens_before_the_platform_stops(db):
    report = _json(db, "full_restore.json")["report"]
    assert float(report["started_at"]) < float(report["fetched_at"]) < float(report["stopped_at"])
    assert float(report["stopped_at"]) < float(report["swapped_at"]) < float(report["healthy_at"])
    downtime = float(report["healthy_at"]) - float(report["stopped_at"])
    assert float(report["downtime_seconds"]) == pytest.approx(downtime, abs=0.2)
    print("full restore: download %s s with the platform up, downtime %s s"
          % (report["download_seconds"], report["downtime_seconds"]))


def test_the_swap_waited_for_the_ended_sessions(db):
    swap = _json(db, "full_restore.json")["swap"]
    assert [r["to"] for r in swap["renamed"]] == [
        _json(db, "full_restore.json")["kept_as"], "forexai"]
    # converge held a busy session in the live database: it was ended, and the renames
    # (which fail while a session is on the database) went through
    assert int(swap["sessions_terminated"]) >= 1
    assert float(swap["sessions_wait_seconds"]) < 60


def test_restore_duration_is_recorded(db):
    info = _json(db, "full_restore.json")
    print("full restore: %s s in total, pg_restore %s" % (info["seconds"], info["pg_restore"]))
    assert float(info["seconds"]) < 300
