"""Scenario 1, complete server failure, caused for real and recovered by the playbook.

The tests run in order and share the state of the scenario's hosts: refusals first (nothing
may be created), then db1 is removed with its volumes, the playbook rebuilds on db2, and the
data is read back and compared with what was there before the kill.
"""
import calendar
import concurrent.futures
import json
import os
import re
import subprocess
import tempfile
import time

import pytest
import testinfra

# Host names use a hyphen: botocore refuses an endpoint whose host name has an underscore.
SCENARIO = "server-failure"
PLAYBOOK = os.path.join(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."),
                        "playbooks", "scenario_server_failure.yml")
DB1, DB2 = f"{SCENARIO}-db1", f"{SCENARIO}-db2"
BASE_VARS = (f"server_rebuild_failed_host={DB1}", f"server_rebuild_replacement={DB2}")
STATE = {}
LAB_S3 = {"endpoint_url": f"https://{SCENARIO}-s3", "bucket": "forexai-backups", "prefix": "forexai",
          "region": "us-east-1", "ca_bundle": "/etc/ssl/certs/ca-certificates.crt",
          "addressing_style": "path", "access_key": "lab-access-key", "secret_key": "lab-secret-key"}
PSQL = "runuser -u postgres -- psql -X -A -t -v ON_ERROR_STOP=1 -d forexai -c {}"


def container_exists(name):
    return subprocess.run(["podman", "container", "exists", name], check=False).returncode == 0


def recap(output):
    """{host: {'ok': n, 'changed': n, 'failed': n, ...}} from a PLAY RECAP."""
    hosts = {}
    for line in output.split("PLAY RECAP")[-1].splitlines():
        match = re.match(r"^(\S+)\s+:\s+(.*)$", line.strip())
        if match:
            hosts[match.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2))}
    return hosts


def flat(output):
    """The output with its line wrapping undone (the yaml callback folds long messages)."""
    return " ".join(output.replace("\n    ", " ").split())


def query(host, sql):
    return host.check_output(PSQL.format(json.dumps(sql))).strip()


@pytest.fixture(scope="module")
def db2():
    return testinfra.get_host(f"podman://{DB2}")


def test_before_the_disaster_the_platform_is_backed_up(db, app):
    STATE["files"] = {path: db.check_output("sha256sum %s", path).split()[0] for path in (
        "/srv/forexai/uploads/statement-2026-11.csv", "/srv/forexai/uploads/model-eurusd.bin")}
    STATE["modes"] = {path: (db.file(path).user, db.file(path).mode) for path in STATE["files"]}
    STATE["trades_before"] = int(query(db, "SELECT count(*) FROM trades"))
    assert STATE["trades_before"] > 0
    assert app.service("forexai-workers").is_running


# The refusals: each is a whole run of the playbook against the live platform, and none may
# create, stop or repoint anything. They read and change nothing shared, so they run side by
# side (four at a time) before the disaster, and each test below reads its own run's output.
DB3 = f"{SCENARIO}-db3"
AUTH_ENDPOINT = f"https://{SCENARIO}-s3:8443"
AUTH_KEYS_FILE = "/etc/forexai-s3-auth/keys.json"
CONFIRMED = ("server_rebuild_confirm=true", "server_rebuild_old_primary_fenced=true")
REFUSALS = {
    "plan only": (BASE_VARS, "plan only (server_rebuild_confirm is not true): nothing was created or changed"),
    "split brain": (BASE_VARS + ("server_rebuild_confirm=true",), f"The old primary {DB1}"),
    "version 14": (BASE_VARS + CONFIRMED + ("server_rebuild_pg_version=14",),
                   "The backup is of PostgreSQL 15 but server_rebuild_pg_version is 14"),
    "target after the archive": (BASE_VARS + CONFIRMED + ("server_rebuild_target_time=2099-01-01T00:00:00Z",),
                                 "is after the end of the archive"),
    "target not a time": (BASE_VARS + CONFIRMED + ("server_rebuild_target_time=yesterday-ish",),
                          "server_rebuild_target_time empty or an ISO 8601 time"),
    "bad method": (BASE_VARS + CONFIRMED + ("server_rebuild_method=sideways",),
                   "server_rebuild_method auto, physical or logical"),
    "missing bucket": (BASE_VARS + CONFIRMED + (json.dumps({"forexai_s3": dict(LAB_S3, bucket="no-such-bucket")}),),
                       "The off-site copies cannot be read: Failed to read the pgBackRest repository: "
                       "bucket no-such-bucket does not exist"),
    "unreachable endpoint": (BASE_VARS + CONFIRMED + (json.dumps(
        {"forexai_s3": dict(LAB_S3, endpoint_url="https://%s-nowhere" % SCENARIO)}),),
        "The off-site copies cannot be read"),
    # A CA that did not sign the object store's certificate: TLS is verified, so S3 is refused.
    "wrong CA": (BASE_VARS + CONFIRMED + (json.dumps(
        {"forexai_s3": dict(LAB_S3, ca_bundle="/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt")}),),
        "The off-site copies cannot be read"),
    # The object store's second S3 API checks keys (moto with authentication on, port 8443): the
    # host's real access key with a wrong secret is refused as such...
    "wrong credentials": (BASE_VARS + CONFIRMED + (lambda keys: json.dumps({"forexai_s3": dict(
        LAB_S3, endpoint_url=AUTH_ENDPOINT, access_key=keys["lab-host"]["access_key"],
        secret_key="not-the-secret")}),),
        f"The off-site copies cannot be read: Failed to read the pgBackRest repository: access to "
        f"{AUTH_ENDPOINT} denied (SignatureDoesNotMatch): check the S3 credentials"),
    # ...and with the right secret the same run gets past the keys (that bucket holds no backup):
    # the refusal above is the credentials', nothing else's.
    "right credentials, nothing there": (BASE_VARS + CONFIRMED + (lambda keys: json.dumps({"forexai_s3": dict(
        LAB_S3, endpoint_url=AUTH_ENDPOINT, **keys["lab-host"])}),),
        "Nothing to rebuild from: the pgBackRest repository s3://forexai-backups/pgbackrest/ is unusable"),
    # A bucket and prefix where nothing was ever backed up.
    "empty repository": (BASE_VARS + CONFIRMED + ("server_rebuild_repo_path=/nothing-here", json.dumps(
        {"forexai_s3": dict(LAB_S3, prefix="nothing-here")})),
        "Nothing to rebuild from: the pgBackRest repository s3://forexai-backups/nothing-here/ is unusable"),
    # No provisioning hook and a replacement that does not exist: step 1 fails, nothing after it runs.
    "replacement unreachable": ((f"server_rebuild_failed_host={DB1}", f"server_rebuild_replacement={DB3}",
                                 "server_rebuild_provision_tasks=", "server_rebuild_provision_timeout=5")
                                + CONFIRMED, f"The replacement {DB3} does not answer"),
}


@pytest.fixture(scope="module")
def refusals(playbook, s3):
    # The authenticating S3 API's keys (made by the lab role on the object store).
    keys = json.loads(s3.check_output("cat %s", AUTH_KEYS_FILE))
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        runs = {name: pool.submit(playbook, PLAYBOOK, *[e(keys) if callable(e) else e for e in extra],
                                  timeout=600)
                for name, (extra, _message) in REFUSALS.items()}
        results = {name: run.result() for name, run in runs.items()}
    assert not container_exists(DB2) and not container_exists(DB3)
    return results


def test_without_confirmation_only_the_plan_is_printed(refusals):
    rc, out = refusals["plan only"]
    assert rc == 0, out[-3000:]
    assert "Expected data loss: everything committed after" in flat(out)
    assert "Path: physical" in flat(out)
    assert REFUSALS["plan only"][1] in flat(out)
    assert "STILL ANSWERS from" in flat(out)


def test_split_brain_is_refused_while_db1_answers(refusals):
    rc, out = refusals["split brain"]
    assert rc != 0
    assert f"The old primary {DB1}" in flat(out) and "still answers" in flat(out)
    assert "Nothing was created or changed" in flat(out)


@pytest.mark.parametrize("name", [n for n in REFUSALS if n not in ("plan only", "split brain",
                                                                   "replacement unreachable")])
def test_bad_input_is_refused_and_creates_nothing(refusals, name):
    rc, out = refusals[name]
    assert rc != 0
    assert REFUSALS[name][1] in flat(out), out[-3000:]
    assert "Nothing was created or changed" in flat(out)
    assert "FAILED: 0. Preflight and plan" in flat(out)


def test_an_unreachable_replacement_is_refused_before_anything_is_restored(refusals, app):
    rc, out = refusals["replacement unreachable"]
    assert rc != 0
    assert REFUSALS["replacement unreachable"][1] in flat(out), out[-3000:]
    assert "Nothing was restored or repointed" in flat(out)
    assert "FAILED: 1. Provision new server" in flat(out)
    # The applications still use db1.
    env = app.file("/etc/forexai/forexai.env").content_string
    assert DB1 in env and DB3 not in env


def test_the_disaster_db1_is_removed_with_its_volumes(app):
    # Let the writer write a little more, then take the host away with everything on it.
    time.sleep(15)
    STATE["killed_at"] = time.time()
    subprocess.run(["podman", "rm", "--force", "--volumes", DB1], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["podman", "volume", "rm", "--force", f"{DB1}-pgdata"], check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert not container_exists(DB1)
    STATE["acked"] = [line.split("\t") for line in
                      app.file("/var/lib/forexai/writer/acked.log").content_string.splitlines()]


def test_the_playbook_rebuilds_on_a_fresh_host(playbook):
    started = time.time()
    rc, out = playbook(PLAYBOOK, *BASE_VARS, "server_rebuild_confirm=true", timeout=1500)
    STATE["rebuild_seconds"] = time.time() - started
    STATE["output"] = out
    print(out[-6000:])
    assert rc == 0, out[-6000:]
    assert "Scenario scenario_server_failure: recovered" in flat(out)
    assert re.search(r"RTO achieved [^,]*? against an objective of 4h 0m 0s: met", flat(out))
    assert re.search(r"RPO achieved [^,]*? against an objective of 6h 0m 0s: met", flat(out))
    assert f"{DB2} is the primary now (physical path" in flat(out)
    # wal_archive's `effective`, shared with restore_pitr: a segment archived by time after a CHECKPOINT
    seconds = re.search(r"Archiving is effective: \S+ reached the archive ([0-9.]+) s after the CHECKPOINT "
                        r"\(archive_timeout (\d+) s, limit (\d+) s\)", flat(out))
    assert seconds, flat(out)[-3000:]
    assert float(seconds.group(1)) <= float(seconds.group(3))


def test_the_replacement_was_built_from_the_bare_image(db2):
    image = subprocess.run(["podman", "inspect", "--format", "{{.ImageName}}", DB2],
                           stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    assert image.strip() == os.environ["FOREXAI_IMAGE_DBBARE"]
    assert db2.package("postgresql-15").is_installed
    assert query(db2, "SELECT pg_is_in_recovery()") == "f"
    assert int(query(db2, "SELECT timeline_id FROM pg_control_checkpoint()")) >= 2


def psql_with_ids(container, ids, select):
    """Run ``select`` on the host's database with the ids in a temporary table ``ids`` (tens of
    thousands do not fit on a command line: they go in as a file, in one psql session)."""
    with tempfile.NamedTemporaryFile("w", suffix=".ids", delete=False) as ids_file:
        ids_file.write("\n".join(str(i) for i in ids) + "\n")
    try:
        subprocess.run(["podman", "cp", ids_file.name, f"{container}:/tmp/test.ids"], check=True)
    finally:
        os.unlink(ids_file.name)
    done = subprocess.run(
        ["podman", "exec", container, "sh", "-c",
         "chmod 0644 /tmp/test.ids && runuser -u postgres -- psql -X -q -A -t -F ' ' -v ON_ERROR_STOP=1 -d forexai "
         "-c 'CREATE TEMP TABLE ids (id bigint)' -c '\\copy ids FROM /tmp/test.ids' "
         f"-c '{select}' && rm -f /tmp/test.ids"],
        stdout=subprocess.PIPE, universal_newlines=True, check=True)
    return done.stdout


def count_present(container, ids):
    """How many of these trade ids the host's database holds."""
    return int(psql_with_ids(container, ids, "SELECT count(*) FROM trades t JOIN ids USING (id)").split()[-1])


def fingerprints(container, ids):
    """{id: md5 of the trade's values} for the trades of these ids that the host holds."""
    out = psql_with_ids(container, ids, "SELECT t.id, md5(row(t.user_id, t.symbol, t.side, t.volume, "
                                        "t.open_time, t.open_price)::text) FROM trades t JOIN ids USING (id)")
    return dict(line.split(" ", 1) for line in out.splitlines() if line.split(" ", 1)[0].isdigit())


def test_every_trade_acknowledged_before_the_window_is_back(db2):
    window = 10 + 10  # archive_timeout + 10 s
    safe = [int(i) for i, at in STATE["acked"]
            if calendar.timegm(time.strptime(at[:19], "%Y-%m-%dT%H:%M:%S"))
            < STATE["killed_at"] - window]
    assert safe, "the writer acknowledged nothing before the kill"
    present = count_present(DB2, safe)
    all_acked = [int(i) for i, _at in STATE["acked"]]
    restored = count_present(DB2, all_acked)
    print(f"acknowledged before the kill: {len(all_acked)}, restored: {restored}, "
          f"lost: {len(all_acked) - restored}; older than {window} s: {len(safe)}, restored {present}")
    assert present == len(safe)


def test_the_login_role_logs_in_with_its_password(db2):
    out = db2.check_output(
        "PGPASSWORD=lab-report-password psql -X -A -t -h 127.0.0.1 -U report_reader -d forexai "
        "-c \"SELECT current_user, current_setting('work_mem')\"")
    assert out.strip() == "report_reader|3MB"


def test_database_settings_and_grants_are_back(db2):
    assert "statement_timeout=37s" in query(
        db2, "SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting s "
             "JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = 'forexai' AND setrole = 0")
    assert query(db2, "SELECT has_database_privilege('report_reader', 'forexai', 'TEMPORARY')") == "t"


def test_the_files_are_byte_identical_with_owners_and_modes(db2):
    for path, digest in STATE["files"].items():
        assert db2.check_output("sha256sum %s", path).split()[0] == digest
        assert (db2.file(path).user, db2.file(path).mode) == STATE["modes"][path]
    assert "FOREXAI_DB_HOST_ROLE=primary" in db2.file("/etc/forexai/forexai.env").content_string


def test_the_application_is_healthy_and_writes_on_the_new_host(app, db2):
    health = json.loads(app.check_output("curl -s -m 5 http://127.0.0.1:8000/api/v1/health"))
    assert health["status"] == "ok"
    before = int(query(db2, "SELECT max(id) FROM trades"))
    time.sleep(6)
    assert int(query(db2, "SELECT max(id) FROM trades")) > before


def test_a_second_run_changes_nothing(playbook):
    rc, out = playbook(PLAYBOOK, *BASE_VARS, "server_rebuild_confirm=true", timeout=900)
    assert rc == 0, out[-4000:]
    assert "nothing to do (already serving)" in flat(out)
    # Only files on the control node may change (the run's reconciliation report is new): no
    # host of the platform changes.
    changed = [line for line in out.splitlines() if line.startswith("changed: [")]
    print("second run, changed:", changed, recap(out))
    assert [line for line in changed if "-> localhost]" not in line] == [], out[-6000:]


# --- the off-site bucket out of a compromised host's reach (issue 13), on the S3 API that checks keys

HOST_S3 = """
import json, sys, boto3, botocore.exceptions
keys = json.load(open(%r))["lab-host"]
c = boto3.client("s3", endpoint_url="http://127.0.0.1:5001", region_name="us-east-1",
                 aws_access_key_id=keys["access_key"], aws_secret_access_key=keys["secret_key"])
def refused(call, **kw):
    try:
        getattr(c, call)(Bucket="forexai-backups", **kw)
        return "ALLOWED"
    except botocore.exceptions.ClientError as exc:
        return exc.response["Error"]["Code"]
""" % AUTH_KEYS_FILE


def offsite(playbook, keys, *extra):
    rc, out = playbook(os.path.join(os.path.dirname(__file__), "..", "offsite_protection.yml"),
                       json.dumps({"offsite_keys": keys["lab-admin"]}), *extra, timeout=300)
    result = None
    if rc == 0:
        result = json.loads(testinfra.get_host(f"podman://{SCENARIO}-s3").check_output(
            "cat /run/forexai-offsite-result.json && rm /run/forexai-offsite-result.json"))
    return rc, out, result


def test_the_host_keys_cannot_destroy_the_locked_backups(playbook, s3):
    keys = json.loads(s3.check_output("cat %s", AUTH_KEYS_FILE))
    # A lock shorter than the plan's 90 days is refused before anything changes.
    rc, out, _result = offsite(playbook, keys, "offsite_lock_days=30")
    assert rc != 0 and "lock_days 30 is shorter than the 90 days" in flat(out), out[-2000:]
    rc, out, result = offsite(playbook, keys)
    assert rc == 0 and result["changed"], out[-3000:]
    assert result["state"] == {"versioning": "Enabled", "object_lock": {"mode": "COMPLIANCE", "days": 90},
                               "noncurrent_expiration_days": 120, "host_policy_ok": True}
    rc, out, again = offsite(playbook, keys)
    assert rc == 0 and not again["changed"] and again["changes"] == [], out[-3000:]

    # The host writes backups, then "deletes everything" with its own keys.
    written = s3.check_output("python3 -c %s", HOST_S3 + """
import hashlib, time
digests = {}
for i in range(25):
    body = ("set %d " % i).encode() * 1000
    c.put_object(Bucket="forexai-backups", Key="forexai/set-%02d/dump" % i, Body=body)
    digests["forexai/set-%02d/dump" % i] = hashlib.sha256(body).hexdigest()
time.sleep(1.5)
print(json.dumps({"at": time.time() - 0.5, "digests": digests}))
""")
    before = json.loads(written)
    attack = json.loads(s3.check_output("python3 -c %s", HOST_S3 + """
listed = c.list_objects_v2(Bucket="forexai-backups")["Contents"]
for obj in listed:
    c.delete_object(Bucket="forexai-backups", Key=obj["Key"])
# and one dump replaced by another content: a new version over the locked ones
c.put_object(Bucket="forexai-backups", Key="forexai/set-00/dump", Body=b"tampered")
print(json.dumps({
    "deleted": len(listed),
    "left": c.list_objects_v2(Bucket="forexai-backups").get("KeyCount", 0),
    "suspend_versioning": refused("put_bucket_versioning", VersioningConfiguration={"Status": "Suspended"}),
    "shorten_lock": refused("put_object_lock_configuration", ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}),
    "drop_lifecycle": refused("delete_bucket_lifecycle"),
    "bucket_policy": refused("put_bucket_policy", Policy="{}"),
}))
"""))
    assert attack["deleted"] == 25 and attack["left"] == 1
    assert {k: attack[k] for k in ("suspend_versioning", "shorten_lock", "drop_lifecycle", "bucket_policy")} == \
        dict.fromkeys(("suspend_versioning", "shorten_lock", "drop_lifecycle", "bucket_policy"), "AccessDenied")
    # Every version is still there, and a version delete is refused: to the host's keys by the
    # policy, and to the bucket owner's too while the compliance lock holds.
    versions = json.loads(s3.check_output("python3 -c %s", """
import json, boto3, botocore.exceptions
keys = json.load(open(%r))
out = {}
for user in ("lab-host", "lab-admin"):
    c = boto3.client("s3", endpoint_url="http://127.0.0.1:5001", region_name="us-east-1",
                     aws_access_key_id=keys[user]["access_key"], aws_secret_access_key=keys[user]["secret_key"])
    listing = c.list_object_versions(Bucket="forexai-backups")
    v = listing["Versions"][0]
    try:
        c.delete_object(Bucket="forexai-backups", Key=v["Key"], VersionId=v["VersionId"])
        out[user] = "ALLOWED"
    except botocore.exceptions.ClientError as exc:
        out[user] = exc.response["Error"]["Code"]
    out["versions"], out["markers"] = len(listing["Versions"]), len(listing.get("DeleteMarkers", []))
print(json.dumps(out))
""" % AUTH_KEYS_FILE))
    print("after the host's delete-everything:", attack, versions)
    assert versions == {"lab-host": "AccessDenied", "lab-admin": "AccessDenied", "versions": 26, "markers": 25}

    # The bucket back as it was before the deletion, object by object, the replaced dump too.
    rc, out, rollback = offsite(playbook, keys, "offsite_action=rollback", "offsite_at=%r" % before["at"],
                                "offsite_restore_overwritten=true")
    assert rc == 0, out[-3000:]
    assert rollback["markers_removed"] == 25 and rollback["keys_at_moment"] == 25, rollback
    assert rollback["overwritten_restored"] == 1 and [o["key"] for o in rollback["overwritten"]] == ["forexai/set-00/dump"]
    after = json.loads(s3.check_output("python3 -c %s", HOST_S3 + """
import hashlib
print(json.dumps({o["Key"]: hashlib.sha256(c.get_object(Bucket="forexai-backups", Key=o["Key"])["Body"].read()).hexdigest()
                  for o in c.list_objects_v2(Bucket="forexai-backups")["Contents"]}))
"""))
    assert after == before["digests"]
    rc, out, again = offsite(playbook, keys, "offsite_action=rollback", "offsite_at=%r" % before["at"],
                             "offsite_restore_overwritten=true")
    assert rc == 0 and not again["changed"] and again["markers_removed"] == 0 and again["overwritten"] == [], out[-3000:]


# --- a rebuild to a given time: db2 dies too, db3 is rebuilt as of a moment on db2's timeline ----

def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def test_a_rebuild_to_a_given_time_stops_there(playbook, app):
    # T lies on the timeline db2 started: the writer has been writing there since the rebuild.
    target = int(time.time())
    time.sleep(10 + 15)  # archive_timeout + margin: the WAL holding T (and a little after) is off-site
    # The writer's acknowledgements say which trades were committed when (an acknowledgement
    # follows its commit). What db2 holds of the trades acknowledged around T, read just before
    # it dies: db3's new trades reuse ids after T (its sequence is restored as of T), so the
    # comparison is by the trades' values, not only by their ids.
    acked = [line.split("\t") for line in
             app.file("/var/lib/forexai/writer/acked.log").content_string.splitlines()]
    epoch = {int(i): calendar.timegm(time.strptime(at[:19], "%Y-%m-%dT%H:%M:%S")) for i, at in acked}
    before = [i for i, at in epoch.items() if STATE["killed_at"] < at < target - 1]
    after = [i for i, at in epoch.items() if target + 2 < at < target + 20]
    assert before and after, (len(before), len(after))
    on_db2 = fingerprints(DB2, before + after)
    assert len(on_db2) == len(before) + len(after)
    subprocess.run(["podman", "rm", "--force", "--volumes", DB2], check=True, stdout=subprocess.DEVNULL)
    rc, out = playbook(PLAYBOOK, f"server_rebuild_failed_host={DB2}", f"server_rebuild_replacement={DB3}",
                       "server_rebuild_confirm=true", f"server_rebuild_target_time={iso(target)}",
                       timeout=1500)
    print(out[-4000:])
    assert rc == 0, out[-6000:]
    text = flat(out)
    assert f"Restore to: {iso(target)}" in text
    assert f"{DB3} is the primary now (physical path" in text
    on_db3 = fingerprints(DB3, before + after)
    same_before = sum(1 for i in before if on_db3.get(str(i)) == on_db2[str(i)])
    same_after = sum(1 for i in after if on_db3.get(str(i)) == on_db2[str(i)])
    print(f"rebuild to {iso(target)}: {same_before}/{len(before)} trades acknowledged on db2 before T "
          f"restored equal, {same_after}/{len(after)} acknowledged after T restored")
    assert same_before == len(before)
    assert same_after == 0
    db3 = testinfra.get_host(f"podman://{DB3}")
    # A timeline of its own, after db2's.
    assert int(query(db3, "SELECT timeline_id FROM pg_control_checkpoint()")) >= 3
    # The platform works on db3.
    health = json.loads(app.check_output("curl -s -m 5 http://127.0.0.1:8000/api/v1/health"))
    assert health["status"] == "ok"
    assert DB3 in app.file("/etc/forexai/forexai.env").content_string


# --- the second path: the physical repository is unusable ---------------------------------------

def test_an_unusable_repository_falls_back_to_the_logical_set(playbook, lab_host):
    # The repository loses its backup catalogue (backup.info and its copy): pgBackRest cannot
    # restore from it any more. Then db3 dies too, and a fresh db2 (a new container of that name
    # from the bare image, started by the provisioning hook) replaces it.
    s3 = lab_host("s3")
    s3.check_output(
        "python3 -c %s", "import boto3; c = boto3.client('s3', endpoint_url='http://127.0.0.1:5000', "
        "aws_access_key_id='k', aws_secret_access_key='s', region_name='us-east-1'); "
        "[c.delete_object(Bucket='forexai-backups', Key='pgbackrest/backup/forexai/' + n) "
        "for n in ('backup.info', 'backup.info.copy')]")
    subprocess.run(["podman", "rm", "--force", "--volumes", DB3], check=True,
                   stdout=subprocess.DEVNULL)
    assert not container_exists(DB2)
    new_name = DB2
    rc, out = playbook(PLAYBOOK, f"server_rebuild_failed_host={DB3}",
                       f"server_rebuild_replacement={new_name}", "server_rebuild_confirm=true",
                       timeout=1500)
    print(out[-5000:])
    assert rc == 0, out[-6000:]
    text = flat(out)
    assert "Path: logical - the off-site pgBackRest repository is unusable (backup.info is missing" in text
    assert f"{new_name} is the primary now (logical path" in text
    assert "FOLLOW-UP: WAL archiving is not enabled" in text
    fresh = testinfra.get_host(f"podman://{new_name}")
    # The globals came first: the login role, its password and its setting; then the database
    # with its own settings and grants (pg_restore --create).
    out = fresh.check_output(
        "PGPASSWORD=lab-report-password psql -X -A -t -h 127.0.0.1 -U report_reader -d forexai "
        "-c \"SELECT current_user, current_setting('work_mem')\"")
    assert out.strip() == "report_reader|3MB"
    assert "statement_timeout=37s" in query(
        fresh, "SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting s "
               "JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = 'forexai' AND setrole = 0")
    assert query(fresh, "SELECT has_database_privilege('report_reader', 'forexai', 'TEMPORARY')") == "t"
    for path, digest in STATE["files"].items():
        assert fresh.check_output("sha256sum %s", path).split()[0] == digest


def test_a_version_without_packages_is_refused_and_nothing_is_installed(playbook):
    # On the primary the last test rebuilt (db2 again, a fresh container).
    host = testinfra.get_host(f"podman://{DB2}")
    rc, out = playbook(os.path.join(os.path.dirname(PLAYBOOK), "..", "molecule", "server_failure",
                                    "install_unavailable.yml"), f"install_unavailable_host={DB2}", timeout=300)
    assert rc != 0
    assert f"PostgreSQL 99 (the backup's major version) cannot be installed on {DB2}" in flat(out), out[-3000:]
    assert "Nothing was installed or restored" in flat(out)
    assert not host.package("postgresql-99").is_installed
    assert query(host, "SELECT 1") == "1"
