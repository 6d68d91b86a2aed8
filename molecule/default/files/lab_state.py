"""Seed MT5 discrepancies into the stand-in connector's export, and observe the database.

``seed`` runs on the application host (the connector's export is there, and the
platform's code and database URL too); ``observe`` runs on the database host as
postgres (it reads the auto-trading snapshot table, which the platform's role cannot):

    python3 lab_state.py seed MANIFEST                          # app host, once
    runuser -u postgres -- python3 lab_state.py observe [TICKET...]   # database host

``seed`` takes the export the connector wrote from the database (so both agree), then
makes every class of discrepancy: two positions vanish from the export (db_only), one is
half filled at the broker (mismatched volume, a partial fill), one new position appears
with a +02:00 time (mt5_only); the rest stay matched. The export is replaced atomically
(temporary file, then rename). MANIFEST records the tickets of each class and the state
before anything ran (auto-trading users, a fingerprint of the positions table).

``observe`` prints, as JSON, the state the scenario compares: a fingerprint of every
positions row, the users with auto-trading on, the auto-trading snapshots, the
mt5_sync_log size, and the positions and mt5_sync_log rows of the given tickets.
"""
import datetime
import json
import os
import sys
from decimal import Decimal

import psycopg2

EXPORT = os.environ.get("FOREXAI_CONNECTOR_EXPORT", "/var/lib/forexai/mt5/positions.json")

FINGERPRINT_SQL = "SELECT md5(coalesce(string_agg(p::text, '|' ORDER BY p.id), '')) FROM positions p"


def rows(cur, sql, params=None):
    cur.execute("SELECT coalesce(json_agg(t), '[]'::json) FROM (" + sql + ") t", params)
    return cur.fetchone()[0]


def observe(tickets, conn=None):
    if conn is None:
        conn = psycopg2.connect(os.environ.get("LAB_STATE_DSN", "dbname=forexai"),
                                application_name="molecule-reconcile-observe")
        conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(FINGERPRINT_SQL)
        fingerprint = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM mt5_sync_log")
        sync_log_rows = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM positions WHERE status = 'open'")
        open_positions = cur.fetchone()[0]
        enabled = [r["id"] for r in rows(cur, "SELECT id FROM users WHERE auto_trading_enabled ORDER BY id")]
        cur.execute("SELECT to_regclass('dr_auto_trading_snapshot') IS NOT NULL")
        snapshots = []
        if cur.fetchone()[0]:
            snapshots = rows(cur, "SELECT run_id, user_ids, suspended_at, restored_at, restored_by "
                                  "FROM dr_auto_trading_snapshot ORDER BY suspended_at")
        positions = rows(cur, "SELECT id, user_id, mt5_account, ticket, symbol, side, volume::text, "
                              "open_price::text, open_time, status, close_reason FROM positions "
                              "WHERE ticket = ANY(%s) ORDER BY ticket", (tickets,))
        sync_log = rows(cur, "SELECT position_id, ticket, mt5_account, action, detail, actor "
                             "FROM mt5_sync_log WHERE ticket = ANY(%s) AND action <> 'position_opened' "
                             "ORDER BY id", (tickets,))
    return {
        "fingerprint": fingerprint,
        "sync_log_rows": sync_log_rows,
        "open_positions": open_positions,
        "auto_trading_ids": enabled,
        "snapshots": snapshots,
        "positions": positions,
        "sync_log": sync_log,
    }


def seed(manifest_path):
    sys.path.insert(0, "/opt/forexai")
    from forexai_lab import db, files

    if os.path.exists(manifest_path):
        return {"changed": False}
    with open(EXPORT, encoding="utf-8") as fh:
        export = sorted(json.load(fh), key=lambda p: int(p["ticket"]))
    conn = db.connect("molecule-reconcile-seed", timeout=10, autocommit=True)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*), max(ticket) FROM positions WHERE status = 'open'")
        open_count, max_ticket = cur.fetchone()
        # An account with no position yet: the broker-only position belongs to it.
        cur.execute("SELECT id, mt5_account FROM users WHERE mt5_account IS NOT NULL AND id NOT IN "
                    "(SELECT user_id FROM positions) ORDER BY id LIMIT 1")
        new_owner, new_account = cur.fetchone()
    if len(export) != open_count or len(export) < 10:
        raise SystemExit(f"the export has {len(export)} positions, the database {open_count} open")

    db_only = [export[0]["ticket"], export[1]["ticket"]]
    partial = next(p for p in export[2:] if Decimal(p["volume"]) >= Decimal("0.10"))
    full_volume = Decimal(partial["volume"])
    filled = (full_volume / 2).quantize(Decimal("0.01"))
    new_ticket = int(max_ticket) + 1000
    opened = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)).replace(microsecond=0)
    local = opened.astimezone(datetime.timezone(datetime.timedelta(hours=2)))
    broker_only = {"ticket": new_ticket, "account": new_account, "symbol": "EURUSD", "side": "buy",
                   "volume": "0.70", "open_price": "1.084210", "open_time": local.isoformat()}

    seeded = [p for p in export if p["ticket"] not in db_only]
    for p in seeded:
        if p["ticket"] == partial["ticket"]:
            p["volume"] = str(filled)
    seeded.append(broker_only)
    before = observe(db_only + [partial["ticket"], new_ticket], conn)
    conn.close()
    manifest = {
        "db_only": db_only,
        "mt5_only": [new_ticket],
        "mt5_only_user_id": new_owner,
        "mt5_only_record": broker_only,
        "mismatched": [partial["ticket"]],
        "mismatched_volume": {"mt5": str(filled), "db": str(full_volume)},
        "matched": len(export) - len(db_only) - 1,
        "before": before,
    }
    files.write_json_atomic(EXPORT, seeded)
    files.write_json_atomic(manifest_path, manifest)
    return {"changed": True, "manifest": manifest}


def main():
    command = sys.argv[1]
    if command == "seed":
        result = seed(sys.argv[2])
    elif command == "observe":
        result = observe([int(t) for t in sys.argv[2:]])
    else:
        raise SystemExit("usage: lab_state.py seed MANIFEST | observe [TICKET...]")
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
