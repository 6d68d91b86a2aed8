"""Backups work end to end on real hosts: PostgreSQL 15, moto S3 behind TLS, cron.

The tests run in file order and build on each other: the first real run makes the set
the later ones verify, damage and prune. Hosts are reached with testinfra's podman
backend; the backup_verify module and the playbooks run through ansible against the
scenario's inventory, as an operator would run them.
"""
import hashlib
import json
import os
import shlex
import subprocess
import sys
import time

import pytest
import testinfra

SCENARIO = os.environ.get("MOLECULE_SCENARIO_NAME", "backup")
REPO = os.environ.get("MOLECULE_PROJECT_DIRECTORY",
                      os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))
EPHEMERAL = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "")
BIN = os.path.dirname(sys.executable)
PROGRAM = "/usr/local/sbin/forexai-backup"
CONFIG = "/etc/forexai/backup.conf"
BACKUP_DIR = "/var/backups/forexai"
TOOLS = "/usr/local/lib/forexai-test"
PRUNE_NOW = "2025-06-15T12:00:00Z"
# The plan's `--verify --upload` without --verify: the test restore runs on db2, not the primary.
CRON_LINE = ("0 */6 * * * root /usr/local/sbin/forexai-backup --config /etc/forexai/backup.conf "
             "--upload >> /var/log/forex-ai-backup.log 2>&1")


# The hosts (fixtures db, app, s3) come from molecule/conftest.py.


def sql(db, query, database="forexai"):
    return db.check_output("runuser -u postgres -- psql -X -At -d %s -c %s",
                           database, query)


def live_counts(db, tables):
    counts = {}
    for table in tables:
        schema, name = table.split(".", 1)
        counts[table] = int(sql(db, 'SELECT count(*) FROM "%s"."%s"' % (schema, name)))
    return counts


def sets_with_manifest(db):
    out = db.check_output("ls -1 %s", BACKUP_DIR).split()
    return sorted(s for s in out if db.file(f"{BACKUP_DIR}/{s}/manifest.json").exists)


def all_sets(db):
    return sorted(s for s in db.check_output("ls -1 %s", BACKUP_DIR).split() if s[:2] == "20")


def manifest(db, set_id):
    return json.loads(db.file(f"{BACKUP_DIR}/{set_id}/manifest.json").content_string)


def s3tool(db, *args):
    return json.loads(db.check_output(f"python3 {TOOLS}/s3tool.py " + " ".join(shlex.quote(a) for a in args)))


def ansible_env():
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, "build", "collections"),
        "ANSIBLE_PIPELINING": "true",
        "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3",
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "true",
        # Molecule forces colour; escape codes inside wrapped messages break the text checks.
        "ANSIBLE_FORCE_COLOR": "false",
        "ANSIBLE_NOCOLOR": "true",
    })
    return env


def run_module(args, check=False, module="forexai.dr.backup_verify"):
    """Run a module (backup_verify) on the database host; return its result dict."""
    env = ansible_env()
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    argv = [os.path.join(BIN, "ansible"), f"{SCENARIO}-db1", "-i", os.environ["MOLECULE_INVENTORY_FILE"],
            "-m", module, "-a", json.dumps(args), "--become",
            "--become-user", "postgres"]
    if check:
        argv.append("--check")
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    report = json.loads(proc.stdout)
    return report["plays"][0]["tasks"][0]["hosts"][f"{SCENARIO}-db1"]


def run_playbook(name, *extra):
    argv = [os.path.join(BIN, "ansible-playbook"), "-i", os.environ["MOLECULE_INVENTORY_FILE"],
            os.path.join(REPO, "playbooks", name), *extra]
    return subprocess.run(argv, env=ansible_env(), capture_output=True, text=True, check=False)


# --- the schedule -------------------------------------------------------------------------

def test_schedule_is_installed_in_utc(db):
    cron = db.file("/etc/cron.d/forexai-backup")
    assert cron.exists and cron.user == "root" and cron.mode & 0o022 == 0
    assert CRON_LINE in cron.content_string.splitlines()
    assert db.service("cron").is_running and db.service("cron").is_enabled
    # Debian's cron reads the schedule in the host's time zone: it must be UTC.
    assert db.check_output("date +%z") == "+0000"


def test_program_and_configuration_are_installed(db):
    assert db.file(PROGRAM).mode == 0o755
    assert db.file("/usr/local/lib/forexai-backup/retention.py").exists
    conf = db.file(CONFIG)
    assert conf.mode == 0o600 and conf.user == "root"
    config = json.loads(conf.content_string)
    assert config["database"]["port"] == 5432 and config["retention"]["s3_days"] == 90
    assert db.file("/etc/forexai/backup-s3-credentials").mode == 0o600
    help_text = db.check_output(f"{PROGRAM} --help")
    assert "exit codes:" in help_text and "--verify" in help_text


# --- a run while the platform keeps writing ----------------------------------------------------

@pytest.fixture(scope="module")
def scheduled_run(db, app):
    """Run the cron job's exact command while the platform's writer keeps inserting trades."""
    assert app.service("forexai-workers").is_running
    trades_before = int(sql(db, "SELECT count(*) FROM trades"))
    before = set(all_sets(db))
    job = CRON_LINE.split(" root ", 1)[1]
    started = time.monotonic()
    result = db.run(job)
    seconds = time.monotonic() - started
    new = sorted(set(all_sets(db)) - before)
    trades_after = int(sql(db, "SELECT count(*) FROM trades"))
    print(f"scheduled run: rc {result.rc} in {seconds:.1f}s, set(s) {new}, "
          f"trades {trades_before} -> {trades_after}")
    assert result.rc == 0, db.check_output("tail -30 /var/log/forex-ai-backup.log")
    assert len(new) == 1
    return {"set_id": new[0], "trades_before": trades_before, "trades_after": trades_after}


def test_run_makes_a_complete_local_set(db, scheduled_run):
    set_id = scheduled_run["set_id"]
    data = manifest(db, set_id)
    # Not test-restored on the primary (that loads production); the run says who does.
    assert data["set_id"] == set_id and data["verified"] is False
    log = db.file("/var/log/forex-ai-backup.log").content_string
    assert (f"set {set_id}: no test restore on this host (it would load production); "
            f"{SCENARIO}-db2 verifies the S3 copy") in log
    assert set(data["files"]) == {"database.dump", "files.tar.gz", "config.tar.age", "globals.sql.age"}
    assert data["archives"]["globals"]["encryption"] == "age"
    for rel, entry in data["files"].items():
        path = f"{BACKUP_DIR}/{set_id}/{rel}"
        assert db.file(path).size == entry["size"]
        assert db.check_output("sha256sum %s", path).split()[0] == entry["sha256"]
    assert data["database"]["server_version"].startswith("15.")
    assert data["database"]["size_bytes"] > 0 and data["program_version"]
    assert data["started_at"] <= data["finished_at"]  # whole seconds: a quick run starts and ends in one
    assert not db.file(f"{BACKUP_DIR}/{set_id}/FAILED.json").exists


def test_run_makes_a_complete_set_in_s3(db, scheduled_run):
    set_id = scheduled_run["set_id"]
    data = manifest(db, set_id)
    where = f"{s3_prefix()}/{set_id}"
    objects = s3tool(db, "list", f"{where}/")
    expected = {f"{where}/{rel}" for rel in data["files"]} | {f"{where}/manifest.json"}
    assert set(objects) == expected
    for rel, entry in data["files"].items():
        obj = objects[f"{where}/{rel}"]
        assert (obj["size"], obj["sha256"]) == (entry["size"], entry["sha256"])
    local = db.file(f"{BACKUP_DIR}/{set_id}/manifest.json").content
    assert s3tool(db, "sha256", f"{where}/manifest.json") == hashlib.sha256(local).hexdigest()
    # The 12 MB model archive went up in 5 MB parts and was checked after upload.
    assert data["files"]["files.tar.gz"]["size"] > 8 * 1024 * 1024
    log = db.file("/var/log/forex-ai-backup.log").content_string
    assert f"uploaded {where}/files.tar.gz" in log and "integrity checked" in log


def test_files_and_configuration_archives(db, scheduled_run, tmp_path):
    set_id = scheduled_run["set_id"]
    listing = db.check_output("tar -tzf %s", f"{BACKUP_DIR}/{set_id}/files.tar.gz").split()
    assert "srv/forexai/uploads/user1/statement.csv" in listing
    assert "srv/forexai/models/model-v1.bin" in listing
    assert "var/log/forexai/backend.log" in listing
    assert "var/log/forexai/partial.tmp" not in listing
    # Configuration is encrypted to a public recipient: the host holds no age secret key...
    assert db.run("grep -rlE 'AGE-SECRET-KEY-1[0-9A-Z]{20}' /etc /root /usr/local /var/backups").rc == 1
    encrypted = db.file(f"{BACKUP_DIR}/{set_id}/config.tar.age").content
    assert encrypted.startswith(b"age-encryption.org/v1")
    assert b"FOREXAI_JWT_SECRET" not in encrypted
    # ...and the control node's secret key decrypts it to the very file on the host.
    (tmp_path / "config.tar.age").write_bytes(encrypted)
    subprocess.run(["age", "-d", "-i", os.path.join(EPHEMERAL, "age.key"), "-o",
                    str(tmp_path / "config.tar"), str(tmp_path / "config.tar.age")], check=True)
    subprocess.run(["tar", "-xf", str(tmp_path / "config.tar"), "-C", str(tmp_path)], check=True)
    restored = (tmp_path / "etc" / "forexai" / "forexai.env").read_bytes()
    assert restored == db.file("/etc/forexai/forexai.env").content
    # The cluster's globals too: roles with their password hashes, never in clear on the host.
    encrypted = db.file(f"{BACKUP_DIR}/{set_id}/globals.sql.age").content
    assert encrypted.startswith(b"age-encryption.org/v1") and b"CREATE ROLE" not in encrypted
    (tmp_path / "globals.sql.age").write_bytes(encrypted)
    globals_sql = subprocess.run(
        ["age", "-d", "-i", os.path.join(EPHEMERAL, "age.key"), str(tmp_path / "globals.sql.age")],
        check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout
    assert "CREATE ROLE forexai;" in globals_sql and "SCRAM-SHA-256$" in globals_sql


def test_metrics_and_log(db, scheduled_run):
    prom = db.file("/var/lib/prometheus/node-exporter/forexai_backup.prom").content_string
    values = dict(line.rsplit(" ", 1) for line in prom.splitlines() if not line.startswith("#"))
    assert float(values['forexai_backup_last_success_timestamp_seconds{database="forexai"}']) > 0
    # the run did not test-restore its set (db2 does, afterwards)
    assert float(values['forexai_backup_verified{database="forexai"}']) == 0
    assert float(values['forexai_backup_size_bytes{database="forexai"}']) > 8 * 1024 * 1024
    assert float(values['forexai_backup_duration_seconds{database="forexai"}']) > 0
    assert float(values['forexai_backup_last_exit_code{database="forexai"}']) == 0
    assert f"backup set {scheduled_run['set_id']} done" in db.file(
        "/var/log/forex-ai-backup.log").content_string


# --- verification ---------------------------------------------------------------------------

def newest_verified_s3_set():
    """The set a restore would choose (backup_set_fetch, newest verified, S3), or its refusal."""
    config = s3_config()
    args = {"source": "s3", "bucket": config["bucket"], "prefix": config["prefix"],
            "endpoint_url": config["endpoint_url"], "ca_bundle": config["ca_bundle"],
            "addressing_style": "path", "access_key": "lab-access-key", "secret_key": "lab-secret-key"}
    return run_module(args, check=True, module="forexai.dr.backup_set_fetch")


def test_verify_playbook_verifies_on_the_spare_and_records_the_verdict(db, lab_host, scheduled_run):
    set_id = scheduled_run["set_id"]
    chosen_before = newest_verified_s3_set()
    assert chosen_before.get("set", {}).get("set_id") != set_id, chosen_before
    proc = run_playbook("verify_backups.yml")
    out = " ".join(proc.stdout.split())
    assert proc.returncode == 0, proc.stdout[-3000:]
    # db2 test-restored the S3 copy; db1 only checked its local set, without a restore
    assert f"s3 set {set_id} on {SCENARIO}-db2: verified" in out, out[-3000:]
    assert "here only the local set is checked" in out
    assert out.count("s3 set ") == 1 and f"local set {set_id}: verified in" in out, out[-3000:]
    verdict = s3tool(db, "json", f"{s3_prefix()}/{set_id}/verification.json")
    print("verdict:", {k: verdict[k] for k in ("host", "checked_at", "verified", "seconds")})
    assert verdict["verified"] is True and verdict["host"] == f"{SCENARIO}-db2"
    assert verdict["failed_checks"] == []
    local = db.file(f"{BACKUP_DIR}/{set_id}/manifest.json").content
    assert verdict["manifest_sha256"] == hashlib.sha256(local).hexdigest()
    checks = {c["name"]: c for c in verdict["checks"]}
    assert {"restore", "row_counts", "temp_database_dropped", "placeholder_roles_dropped"} <= set(checks)
    # The spare has none of production's roles: placeholders for the restore, gone afterwards.
    assert "made placeholders (NOLOGIN) for" in checks["roles"]["detail"] and "forexai" in checks["roles"]["detail"]
    db2 = lab_host("db2")
    assert db2.check_output("runuser -u postgres -- psql -X -At -d postgres -c %s",
                            "SELECT count(*) FROM pg_roles WHERE rolname = 'forexai'") == "0"
    assert db2.check_output("runuser -u postgres -- psql -X -At -d postgres -c %s",
                            "SELECT count(*) FROM pg_database WHERE datname LIKE '%verify%'") == "0"
    # A restore now chooses the set the spare verified, and says who verified it.
    chosen = newest_verified_s3_set()["set"]
    assert chosen["set_id"] == set_id and chosen["verified"] is True
    assert chosen["verified_by"].startswith(f"verification on {SCENARIO}-db2 at ")


def test_counts_come_from_the_dumps_snapshot(db, scheduled_run):
    # The writer kept committing during the dump, and still the test restore's row counts
    # (on db2) equal the manifest's: both were taken in the same snapshot.
    assert scheduled_run["trades_after"] > scheduled_run["trades_before"]
    set_id = scheduled_run["set_id"]
    verdict = s3tool(db, "json", f"{s3_prefix()}/{set_id}/verification.json")
    checks = {c["name"]: c for c in verdict["checks"]}
    assert checks["row_counts"]["ok"] is True and checks["temp_database_dropped"]["ok"] is True
    data = manifest(db, set_id)
    assert data["database"]["row_counts"]["public.trades"] >= scheduled_run["trades_before"]


def test_manifest_counts_equal_the_live_database(db, app):
    """With the writer stopped, a run's manifest equals what the live database holds."""
    app.check_output("systemctl stop forexai-workers")
    try:
        before = set(all_sets(db))
        assert db.run(f"{PROGRAM} --verify --upload").rc == 0
        (set_id,) = sorted(set(all_sets(db)) - before)
        counts = manifest(db, set_id)["database"]["row_counts"]
        live = live_counts(db, counts)
    finally:
        app.check_output("systemctl start forexai-workers")
    print(f"set {set_id}: {len(counts)} tables, {sum(counts.values())} rows, equal to live")
    assert {"public.users", "public.trades", "public.positions", "public.audit_log"} <= set(counts)
    assert counts == live


def test_verify_module_in_check_mode_changes_nothing(db, scheduled_run):
    result = run_module({"backup_dir": BACKUP_DIR, "set_id": scheduled_run["set_id"]}, check=True)
    assert result["verified"] is True and result["changed"] is False
    names = [c["name"] for c in result["checks"]]
    assert names[0] == "manifest" and names[-3:] == ["restore", "row_counts", "temp_database_dropped"]
    assert sql(db, "SELECT count(*) FROM pg_database WHERE datname LIKE '%verify%'",
               "postgres") == "0"


def s3_config():
    return json.loads(testinfra.get_host(f"podman://{SCENARIO}-db1").file(CONFIG).content_string)["s3"]


def s3_prefix():
    """The prefix the role wrote into the program's configuration, from the shared forexai_s3."""
    return s3_config()["prefix"].strip("/")


def s3_args(set_id):
    config = s3_config()
    return {"source": "s3", "bucket": config["bucket"], "prefix": config["prefix"],
            "set_id": set_id, "endpoint_url": config["endpoint_url"],
            "ca_bundle": config["ca_bundle"], "addressing_style": "path",
            "access_key": "lab-access-key", "secret_key": "lab-secret-key",
            "fail_on_error": False}


def test_a_byte_flipped_in_the_s3_copy_is_detected(db, scheduled_run):
    set_id = scheduled_run["set_id"]
    good = run_module(s3_args(set_id))
    assert good["verified"] is True, good
    size = manifest(db, set_id)["files"]["database.dump"]["size"]
    s3tool(db, "flip", f"{s3_prefix()}/{set_id}/database.dump", str(size // 2))
    bad = run_module(s3_args(set_id))
    print("after the flip:", bad["failed_checks"])
    assert bad["verified"] is False
    assert "file:database.dump" in bad["failed_checks"]
    check = next(c for c in bad["checks"] if c["name"] == "file:database.dump")
    assert "differs from the manifest" in check["detail"]
    assert bad["temp_database_dropped"] is True
    # The local copy is untouched and still verifies.
    assert run_module({"backup_dir": BACKUP_DIR, "set_id": set_id})["verified"] is True


def test_a_truncated_dump_in_a_set_is_detected(db, scheduled_run):
    set_id = scheduled_run["set_id"]
    scratch = "/var/backups/forexai-scratch"
    db.check_output(f"rm -rf {scratch} && mkdir -p {scratch} && cp -a {BACKUP_DIR}/{set_id} {scratch}/ "
                    f"&& chgrp -R postgres {scratch} && chmod 750 {scratch}")
    dump = f"{scratch}/{set_id}/database.dump"
    size = db.file(dump).size
    db.check_output(f"truncate -s {size * 6 // 10} {dump}")
    result = run_module({"backup_dir": scratch, "set_id": set_id, "fail_on_error": False})
    details = {c["name"]: c["detail"] for c in result["checks"]}
    print("truncated dump:", result["failed_checks"])
    assert result["failed_checks"] == ["file:database.dump", "restore"]
    assert details["file:database.dump"] == "size %d differs from the manifest (%d)" % (
        size * 6 // 10, size)
    assert "pg_restore into" in details["restore"]
    db.check_output(f"rm -rf {scratch}")


def test_a_dump_truncated_behind_pg_dumps_back_is_refused(db):
    """pg_dump exits 0 but its output is cut: the run fails, earlier sets are untouched."""
    bindir = f"{TOOLS}/badbin"
    db.check_output(f"mkdir -p {bindir} && ln -sf {TOOLS}/truncating-pg_dump {bindir}/pg_dump && "
                    f"ln -sf /usr/lib/postgresql/15/bin/pg_restore {bindir}/pg_restore")
    config = json.loads(db.file(CONFIG).content_string)
    config["database"]["bin_dir"] = bindir
    db.check_output("cat > /etc/forexai/backup-truncating.conf <<'EOF'\n%s\nEOF" % json.dumps(config))
    earlier = {s: db.check_output("sha256sum %s/%s/manifest.json", BACKUP_DIR, s)
               for s in sets_with_manifest(db)}
    s3_before = s3tool(db, "sets")
    prom = "/var/lib/prometheus/node-exporter/forexai_backup.prom"
    success_before = [l for l in db.file(prom).content_string.splitlines()
                      if l.startswith("forexai_backup_last_success_timestamp_seconds")]
    before = set(all_sets(db))
    result = db.run(f"{PROGRAM} --config /etc/forexai/backup-truncating.conf --verify --upload")
    assert result.rc == 5, result.stderr
    assert "cannot be read to the end (truncated or corrupt)" in result.stderr
    (failed,) = sorted(set(all_sets(db)) - before)
    assert not db.file(f"{BACKUP_DIR}/{failed}/manifest.json").exists
    note = json.loads(db.file(f"{BACKUP_DIR}/{failed}/FAILED.json").content_string)
    assert note["exit_code"] == 5
    assert {s: db.check_output("sha256sum %s/%s/manifest.json", BACKUP_DIR, s)
            for s in earlier} == earlier
    assert s3tool(db, "sets") == s3_before
    hook = db.file("/var/log/forexai-backup-failures.log").content_string.splitlines()
    assert hook[-1].startswith(f"5\t{failed}\tdump database.dump cannot be read")
    text = db.file(prom).content_string
    assert 'forexai_backup_last_exit_code{database="forexai"} 5.0' in text
    assert [l for l in text.splitlines()
            if l.startswith("forexai_backup_last_success_timestamp_seconds")] == success_before


# --- faults ---------------------------------------------------------------------------------

def write_variant(db, name, change):
    config = json.loads(db.file(CONFIG).content_string)
    change(config)
    path = f"/etc/forexai/backup-{name}.conf"
    db.check_output("cat > %s <<'EOF'\n%s\nEOF" % (path, json.dumps(config)))
    return path


def test_unreachable_s3_fails_clearly_and_keeps_the_local_set(db):
    def change(config):
        config["s3"]["endpoint_url"] = "https://backup-s3:9"
        config["s3"]["attempts"] = 2
        config["s3"]["backoff_seconds"] = 0.5
    path = write_variant(db, "no-s3", change)
    before = set(all_sets(db))
    result = db.run(f"{PROGRAM} --config {path} --upload --no-prune")
    assert result.rc == 8
    assert "unreachable" in result.stderr and "is complete and kept" in result.stderr
    (set_id,) = sorted(set(all_sets(db)) - before)
    assert db.file(f"{BACKUP_DIR}/{set_id}/manifest.json").exists


def test_missing_database_fails_clearly(db):
    path = write_variant(db, "no-db", lambda c: c["database"].update(name="forexai_gone"))
    result = db.run(f"{PROGRAM} --config {path} --no-prune")
    assert result.rc == 4
    assert 'database "forexai_gone" does not exist' in result.stderr


def test_overlapping_runs_are_refused(db):
    db.check_output("nohup flock /run/lock/forexai-backup.lock sleep 8 >/dev/null 2>&1 & sleep 1")
    result = db.run(f"{PROGRAM} --no-prune")
    assert result.rc == 3 and "holds the lock" in result.stderr
    time.sleep(8)


# --- retention ------------------------------------------------------------------------------

def test_retention_prunes_exactly_the_expected_sets(db, scheduled_run):
    with open(os.path.join(os.path.dirname(__file__), "..", "files", "past_sets_expected.json")) as f:
        expected = json.load(f)
    config = json.loads(db.file(CONFIG).content_string)["s3"]
    real_local = all_sets(db)
    real_s3 = s3tool(db, "sets")
    db.check_output(
        f"AWS_SHARED_CREDENTIALS_FILE=/etc/forexai/backup-s3-credentials python3 {TOOLS}/make_past_sets.py "
        f"--backup-dir {BACKUP_DIR} --source {scheduled_run['set_id']} --spec {TOOLS}/past_sets.json "
        f"--bucket {config['bucket']} --prefix {config['prefix']} --endpoint-url {config['endpoint_url']} "
        f"--ca-bundle {config['ca_bundle']}")
    past = sorted(json.loads(db.file(f"{TOOLS}/past_sets.json").content_string), key=lambda s: s["id"])
    assert set(all_sets(db)) == set(real_local) | {s["id"] for s in past}

    result = db.run(f"{PROGRAM} --prune --now {PRUNE_NOW} --json")
    assert result.rc == 0, result.stderr
    report = json.loads(result.stdout)["prune"]
    deleted = {loc: sorted(e["id"] for e in report["deleted"] if e["location"] == loc)
               for loc in ("local", "s3")}
    print("pruned:", {k: len(v) for k, v in deleted.items()})
    assert deleted == expected["delete"]
    # Exactly the expected past sets are left, and every real set (dated after the
    # pretended "now": clock skew) is kept and reported.
    assert all_sets(db) == sorted(expected["keep"]["local"] + real_local)
    assert s3tool(db, "sets") == sorted(expected["keep"]["s3"] + real_s3)
    assert {e["id"] for e in report["future"]} == set(real_local) | set(real_s3)
    assert "clock skew? kept" in result.stderr


# --- the other playbooks --------------------------------------------------------------------

def test_backup_now_playbook_runs_one_backup(db):
    before = set(all_sets(db))
    proc = run_playbook("backup_now.yml", "-e", "backup_now_verify=false")
    assert proc.returncode == 0, proc.stdout[-3000:]
    (set_id,) = sorted(set(all_sets(db)) - before)
    assert f"forexai-backup exited 0: set {set_id}" in proc.stdout
    assert manifest(db, set_id)["verified"] is False
    assert set_id in s3tool(db, "sets")


def test_staging_restore_test_playbook_restores_and_times(db):
    proc = run_playbook("staging_restore_test.yml")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "restored and verified on" in proc.stdout and "objective 14400 s" in proc.stdout


def test_systemd_timer_is_an_option(db):
    try:
        proc = run_playbook("setup_backups.yml", "-e", "backup_schedule_method=systemd")
        assert proc.returncode == 0, proc.stdout[-3000:]
        cron = db.file("/etc/cron.d/forexai-backup")
        assert not cron.exists or "forexai-backup --config" not in cron.content_string
        assert db.service("forexai-backup.timer").is_running
        assert db.service("forexai-backup.timer").is_enabled
        calendar = db.check_output("systemctl show -p TimersCalendar --value forexai-backup.timer")
        assert "00/6:00:00 UTC" in calendar
    finally:
        proc = run_playbook("setup_backups.yml")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert CRON_LINE in db.file("/etc/cron.d/forexai-backup").content_string.splitlines()
    assert not db.file("/etc/systemd/system/forexai-backup.timer").exists
