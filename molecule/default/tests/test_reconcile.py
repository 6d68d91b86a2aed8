"""Scenario 5 (MT5 connector sync issues) on real hosts.

converge seeded discrepancies of every class into the connector's export and ran
playbooks/scenario_mt5_sync.yml twice: without confirmation, then confirmed. These tests
read what each run left behind (the reports on the control node, the state recorded on the
database host after each run, the database now), then run the playbook again: an empty
export must be refused, and a further confirmed run must change nothing.
"""
import datetime
import json
import os
import time

import pytest

SCENARIO = os.environ.get("MOLECULE_SCENARIO_NAME", "reconcile")
EPHEMERAL = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "")
PROJECT = os.environ.get("MOLECULE_PROJECT_DIRECTORY", os.getcwd())
STATE = "/var/lib/forexai-molecule"
HELPER = "/usr/local/lib/forexai-molecule/lab_state.py"
EXPORT = "/var/lib/forexai/mt5/positions.json"


# The hosts (fixtures db, app, s3) come from molecule/conftest.py.


@pytest.fixture(scope="module")
def seed(app):
    return json.loads(app.file(f"{STATE}/seed.json").content_string)


@pytest.fixture(scope="module")
def tickets(seed):
    return seed["db_only"] + seed["mt5_only"] + seed["mismatched"]


def recorded(db, name):
    """The state converge recorded on the database host after one of its runs."""
    return json.loads(db.file(f"{STATE}/{name}.json").content_string)


def observe(db, tickets=()):
    """The database's state now (read as postgres on the database host)."""
    out = db.check_output("runuser -u postgres -- python3 %s observe " % HELPER
                          + " ".join(str(int(t)) for t in tickets))
    return json.loads(out)


def report(run_id):
    with open(os.path.join(EPHEMERAL, "reports", f"{run_id}.json"), encoding="utf-8") as fh:
        return json.load(fh)


def run_scenario(playbook, *extra_vars):
    """Run playbooks/scenario_mt5_sync.yml, its report in the scenario's folder."""
    return playbook(os.path.join(PROJECT, "playbooks", "scenario_mt5_sync.yml"),
                    "reconcile_positions_report_dir=%s" % os.path.join(EPHEMERAL, "reports"),
                    *extra_vars)


def write_export(app, positions):
    """Replace the connector's export atomically (temporary file, then rename)."""
    script = ("import json, os, sys; tmp = sys.argv[1] + '.tmp'; "
              "open(tmp, 'w').write(sys.argv[2]); os.replace(tmp, sys.argv[1])")
    app.check_output("python3 -c %s %s %s", script, EXPORT, json.dumps(positions))


def unique(name):
    """A run id never used before (verify may be run more than once on the same hosts)."""
    return "%s-%d" % (name, time.time() * 1000)


def by_class(discrepancies, name):
    return sorted(d["ticket"] for d in discrepancies if d["class"] == name)


# --- the preview (no confirmation) ------------------------------------------------

def test_preview_found_every_class_of_discrepancy(seed):
    preview = report("reconcile-preview")
    assert preview["confirmed"] is False
    assert preview["status"] == "previewed"
    assert preview["applied"] is None
    summary = preview["summary"]
    assert (summary["db_only"], summary["mt5_only"], summary["mismatched"], summary["matched"]) == (
        len(seed["db_only"]), len(seed["mt5_only"]), len(seed["mismatched"]), seed["matched"])
    found = preview["discrepancies"]
    assert by_class(found, "db_only") == sorted(seed["db_only"])
    assert by_class(found, "mt5_only") == sorted(seed["mt5_only"])
    assert by_class(found, "mismatched") == sorted(seed["mismatched"])


def test_preview_names_the_differing_field_of_a_partial_fill(seed):
    mismatched = [d for d in report("reconcile-preview")["discrepancies"] if d["class"] == "mismatched"]
    assert mismatched[0]["fields"] == ["volume"]
    assert mismatched[0]["differences"] == {"volume": seed["mismatched_volume"]}


def test_preview_planned_the_policy(seed):
    preview = report("reconcile-preview")
    planned = sorted((a["action"], a["ticket"]) for a in preview["planned_actions"])
    assert planned == sorted([("close", t) for t in seed["db_only"]]
                             + [("insert", t) for t in seed["mt5_only"]])
    assert [(m["class"], m["ticket"]) for m in preview["manual"]] == [
        ("mismatched", t) for t in seed["mismatched"]]


def test_unconfirmed_run_changed_no_position_and_logged_nothing(db, seed):
    after = recorded(db, "after_preview")
    assert after["fingerprint"] == seed["before"]["fingerprint"]
    assert after["sync_log"] == []


def test_unconfirmed_run_kept_auto_trading_suspended_recording_who_had_it(db, seed):
    after = recorded(db, "after_preview")
    before = seed["before"]["auto_trading_ids"]
    assert before, "the lab data set has users with auto-trading on"
    assert after["auto_trading_ids"] == []
    assert [(s["run_id"], sorted(s["user_ids"]), s["restored_at"]) for s in after["snapshots"]] == [
        ("reconcile-preview", sorted(before), None)]


# --- the confirmed run ---------------------------------------------------------------

def test_confirmed_run_fixed_every_class_per_policy(db, seed, tickets):
    after = recorded(db, "after_apply")
    now = {p["ticket"]: p for p in observe(db, tickets)["positions"]}
    for ticket in seed["db_only"]:
        assert now[ticket]["status"] == "closed"
        assert now[ticket]["close_reason"] == "reconciliation: not present at broker"
    broker = seed["mt5_only_record"]
    inserted = now[broker["ticket"]]
    assert (inserted["status"], inserted["mt5_account"], inserted["user_id"], inserted["symbol"],
            inserted["side"], inserted["volume"], inserted["open_price"]) == (
        "open", broker["account"], seed["mt5_only_user_id"], broker["symbol"], broker["side"],
        "0.70", "1.084210")
    # The broker's +02:00 time is stored as the same instant.
    assert datetime.datetime.fromisoformat(inserted["open_time"]) == \
        datetime.datetime.fromisoformat(broker["open_time"])
    partial = now[seed["mismatched"][0]]
    assert (partial["status"], partial["volume"]) == ("open", seed["mismatched_volume"]["db"])
    assert after["open_positions"] == seed["before"]["open_positions"] - len(seed["db_only"]) + 1


def test_every_change_and_manual_item_is_logged_in_mt5_sync_log(db, seed, tickets):
    log = observe(db, tickets)["sync_log"]
    assert sorted((r["action"], r["ticket"]) for r in log) == sorted(
        [("close", t) for t in seed["db_only"]]
        + [("insert", t) for t in seed["mt5_only"]]
        + [("manual_review", t) for t in seed["mismatched"]])
    assert {r["actor"] for r in log} == {"forexai.dr reconcile_positions"}
    manual = [r for r in log if r["action"] == "manual_review"][0]
    assert manual["detail"]["differences"] == {"volume": seed["mismatched_volume"]}


def test_confirmed_run_report_says_what_was_applied(seed):
    applied = report("reconcile-apply")
    assert applied["status"] == "applied"
    assert applied["applied"]["changed"] is True
    assert applied["applied"]["summary"]["actions"] == len(seed["db_only"]) + len(seed["mt5_only"])


def test_auto_trading_ends_exactly_as_it_began(db, seed):
    after = recorded(db, "after_apply")
    assert after["auto_trading_ids"] == seed["before"]["auto_trading_ids"]
    # The second run reused the open snapshot (never overwrote it) and restored it.
    assert [(s["run_id"], s["restored_at"] is not None) for s in after["snapshots"]] == [
        ("reconcile-preview", True)]


# --- further runs ----------------------------------------------------------------------

def test_empty_export_is_refused_and_changes_no_position(app, db, seed, playbook):
    before = observe(db)
    original = json.loads(app.file(EXPORT).content_string)
    write_export(app, [])
    try:
        run_id = unique("reconcile-empty")
        rc, out = run_scenario(playbook, "reconcile_positions_confirm=true", "scenario_mt5_sync_run_id=" + run_id)
    finally:
        write_export(app, original)
    assert rc != 0, out
    assert "the MT5 export is empty but the database has" in out
    refused = report(run_id)
    assert refused["status"] == "refused"
    assert "the MT5 export is empty but the database has" in refused["error"]
    assert refused["connectors"] == {"http://%s-app1:8090/positions" % SCENARIO: 0}
    assert "AUTO-TRADING STAYS SUSPENDED" in out
    after = observe(db)
    assert after["fingerprint"] == before["fingerprint"]
    assert after["sync_log_rows"] == before["sync_log_rows"]
    # Left suspended, loudly, with who had it recorded in an open snapshot.
    assert after["auto_trading_ids"] == []
    open_snapshots = [s for s in after["snapshots"] if s["restored_at"] is None]
    assert [sorted(s["user_ids"]) for s in open_snapshots] == [sorted(seed["before"]["auto_trading_ids"])]


def test_a_plain_http_export_is_refused_before_auto_trading_is_suspended(db, playbook):
    before = observe(db)
    run_id = unique("reconcile-plain-http")
    rc, out = run_scenario(playbook, "reconcile_positions_confirm=true",
                           "reconcile_positions_allow_plain_http=false", "scenario_mt5_sync_run_id=" + run_id)
    assert rc != 0, out
    assert "is not https://" in out and "Nothing was suspended, fetched or changed" in out
    assert "Step 1: stop auto-trading" not in out
    after = observe(db)
    assert after["fingerprint"] == before["fingerprint"]
    assert after["sync_log_rows"] == before["sync_log_rows"]
    assert after["auto_trading_ids"] == before["auto_trading_ids"]
    assert after["snapshots"] == before["snapshots"]


def test_a_further_confirmed_run_changes_nothing_and_gives_auto_trading_back(db, seed, playbook):
    before = observe(db)
    run_id = unique("reconcile-again")
    rc, out = run_scenario(playbook, "reconcile_positions_confirm=true", "scenario_mt5_sync_run_id=" + run_id)
    assert rc == 0, out
    again = report(run_id)
    assert again["applied"]["changed"] is False
    assert again["summary"]["actions"] == 0
    after = observe(db)
    assert after["fingerprint"] == before["fingerprint"]
    assert after["sync_log_rows"] == before["sync_log_rows"]
    assert after["auto_trading_ids"] == seed["before"]["auto_trading_ids"]
    assert all(s["restored_at"] is not None for s in after["snapshots"])


def test_auto_trading_module_check_apply_check_apply(db, seed, playbook):
    rc, out = playbook(os.path.join(PROJECT, "molecule", SCENARIO, "auto_trading_rhythm.yml"))
    assert rc == 0, out
    assert observe(db)["auto_trading_ids"] == seed["before"]["auto_trading_ids"]
