"""Scenario 3, data breach: the isolation, tested over the network.

Converge isolated db1 and app1 with forexai.dr.breach_isolation, allowing in only the control
node (its address on the lab network) and out only the object store's TLS port. The tests run in
order and share the hosts' state: probes from the object store (a host the allowlist leaves out)
and from the control node over new SSH connections, check mode, refusals that change nothing,
the isolation removed with the host's own rules intact, and an allowlist without the control
node forced through, which really cuts the control node off until the dead-man switch fires.
"""
import base64
import calendar
import json
import os
import re
import shutil
import socket
import subprocess
import time

import pytest
import yaml

SCENARIO = "breach"
REPO = os.environ.get("MOLECULE_PROJECT_DIRECTORY", ".")
ISOLATE = os.path.join(REPO, "molecule", SCENARIO, "isolate.yml")
SSH_CONFIG = os.path.join(REPO, "build", "lab-ssh", SCENARIO, "ssh_config")
DB1, APP1, S3 = (f"{SCENARIO}-{role}" for role in ("db1", "app1", "s3"))
PSQL = "runuser -u postgres -- psql -X -A -t -v ON_ERROR_STOP=1 -d forexai -c {}"


def address(container):
    done = subprocess.run(["podman", "container", "inspect", "--format",
                           "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", container],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def new_ssh(host, command="hostname", timeout=5):
    """A new SSH connection (no multiplexing over an older one); (returncode, output)."""
    done = subprocess.run(["ssh", "-F", SSH_CONFIG, "-o", "ControlPath=none", "-o", f"ConnectTimeout={timeout}",
                           host, command], capture_output=True, text=True, timeout=timeout + 10, check=False)
    return done.returncode, (done.stdout + done.stderr).strip()


def probe(host, target, port):
    """Open a TCP connection from a lab host (its own network stack); 'open', 'refused' or 'timeout'."""
    done = host.run(f"timeout 4 bash -c '</dev/tcp/{target}/{port}'")
    if done.rc == 0:
        return "open"
    return "timeout" if done.rc == 124 else "refused"


def control_probe(target, port):
    """Open a TCP connection from the control node; 'open' or why not."""
    try:
        with socket.create_connection((address(target), port), timeout=4):
            return "open"
    except OSError as exc:
        return type(exc).__name__


def tables(host):
    return sorted(host.check_output("nft list tables").splitlines())


def isolate(playbook, *pairs, extra=None, check=False, hosts="dbservers"):
    args = [f"breach_hosts={hosts}", *pairs]
    if extra is not None:
        args.append(json.dumps(extra))
    return playbook(ISOLATE, *args, check=check, timeout=300)


def test_a_host_left_out_cannot_open_connections_to_ports_still_listening(db, app, s3):
    # db1 still serves PostgreSQL and SSH, app1 SSH: the ports listen ...
    assert db.socket("tcp://0.0.0.0:5432").is_listening
    assert db.socket("tcp://0.0.0.0:22").is_listening
    assert app.socket("tcp://0.0.0.0:22").is_listening
    # ... the control node (on the allowlist) gets through ...
    assert control_probe(DB1, 5432) == "open"
    # ... and the object store, left out, does not: dropped, not even refused
    assert probe(s3, DB1, 5432) == "timeout"
    assert probe(s3, DB1, 22) == "timeout"
    assert probe(s3, APP1, 22) == "timeout"


def test_the_control_node_keeps_new_ssh_connections():
    for host in (DB1, APP1):
        rc, out = new_ssh(host)
        assert rc == 0 and out == host, out


def test_an_isolated_host_reaches_only_what_the_recovery_needs(db):
    # The object store's TLS port (the backups): allowed out; its plain port and app1: not.
    assert probe(db, S3, 443) == "open"
    assert probe(db, S3, 5000) == "timeout"
    assert probe(db, APP1, 22) == "timeout"
    # Names still resolve (the resolvers are allowed on port 53)
    assert db.run(f"getent hosts {S3}").rc == 0


def test_services_are_stopped_and_auto_trading_suspended_with_who_had_it(db, app):
    for unit in ("forexai-backend", "forexai-frontend", "forexai-workers", "forexai-mt5-connector"):
        assert not app.service(unit).is_running, unit
    assert db.check_output(PSQL.format("'SELECT count(*) FROM users WHERE auto_trading_enabled'")) == "0"
    recorded = int(db.check_output(PSQL.format("'SELECT count(*) FROM dr_auto_trading_snapshot'")))
    assert recorded > 0


def test_the_rules_are_in_their_own_table_with_the_hosts_rules_kept(db):
    assert tables(db) == ["table inet forexai_isolation", "table inet host_firewall"]
    rules = db.check_output("nft list table inet forexai_isolation")
    assert "policy drop" in rules and re.search(r"priority (filter - 10|-10);", rules), rules
    assert "tcp dport 9 counter" in db.check_output("nft list table inet host_firewall")
    assert db.file("/etc/forexai/isolation.nft").mode == 0o600
    assert not db.service("forexai-isolation-revert.timer").is_running


def test_check_mode_of_removal_changes_nothing(db, playbook):
    before = db.check_output("nft list ruleset")
    rc, out = isolate(playbook, "breach_isolation_state=absent", check=True)
    assert rc == 0, out
    assert "Would remove the isolation of breach-db1" in out
    assert db.check_output("nft list ruleset") == before
    assert db.file("/etc/forexai/isolation.nft").exists


@pytest.mark.parametrize("extra, message", [
    ({"breach_isolation_allow_from": ["192.0.2.10"]}, "leaves out: the isolation would cut this very connection"),
    ({"breach_isolation_allow_from": []}, "must list the control node"),
    ({"breach_isolation_allow_to": [{"host": "breach-s3", "port": 70000}]}, "needs a host and a port (1-65535)"),
    ({"breach_isolation_allow_from": ["no-such-host.invalid"]}, "no-such-host.invalid"),
    ({"breach_isolation_revert_after": 40, "breach_isolation_reconnect_timeout": 30}, "at least breach_isolation_reconnect_timeout"),
], ids=["without-the-control-node", "empty", "bad-port", "unresolvable-name", "switch-too-soon"])
def test_bad_input_is_refused_and_nothing_changes(db, playbook, extra, message):
    before = (db.check_output("nft list ruleset"), db.file("/etc/forexai/isolation.nft").sha256sum)
    rc, out = isolate(playbook, extra=extra)
    assert rc != 0, out
    assert message in " ".join(out.split()), out
    assert (db.check_output("nft list ruleset"), db.file("/etc/forexai/isolation.nft").sha256sum) == before


def test_removal_puts_the_host_back_exactly(db, s3, playbook):
    rc, out = isolate(playbook, "breach_isolation_state=absent", hosts="dbservers:appservers")
    assert rc == 0, out
    assert tables(db) == ["table inet host_firewall"]
    assert probe(s3, DB1, 5432) == "open"
    assert probe(s3, APP1, 22) == "open"
    # the host's own rule still works: port 9 is dropped (a timeout), not refused
    assert probe(s3, DB1, 9) == "timeout"
    assert probe(s3, DB1, 10) == "refused"
    assert not db.file("/etc/forexai/isolation.nft").exists


# --- credential rotation (on the reopened platform) ----------------------------------------

ROTATE = os.path.join(REPO, "molecule", SCENARIO, "rotate.yml")
EPHEMERAL = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp")
VAULT = os.path.join(EPHEMERAL, "rotation.vault.yml")
VAULT_PASSWORD = os.path.join(EPHEMERAL, "vault-password")
OLD_DB_PASSWORD = "lab-db-password"
API_KEY = "lab-breach-api-key-0001"
CREDS = {}

CONNECT = """
import sys, psycopg2
try:
    psycopg2.connect(host=%r, user="forexai", password=sys.stdin.read(), dbname="forexai", connect_timeout=5).close()
    print("accepted")
except psycopg2.OperationalError as exc:
    print("refused:", str(exc).strip().splitlines()[0])
"""


def db_login(app, password, server=DB1):
    """Log in to PostgreSQL on ``server`` from app1 as forexai: 'accepted' or 'refused: ...'."""
    script = base64.b64encode((CONNECT % server).encode()).decode()
    return app.check_output(f"printf %s {password!r} | python3 -c \"exec(__import__('base64').b64decode('{script}'))\"")


S3_LIST = """
import sys, boto3
key, secret = sys.stdin.read().split()
s3 = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                           region_name="us-east-1").client("s3", endpoint_url="http://127.0.0.1:5001")
try:
    s3.list_objects_v2(Bucket="forexai-backups", MaxKeys=1)
    print("accepted")
except s3.exceptions.ClientError as exc:
    print("refused:", exc.response["Error"]["Code"])
"""


def s3_login(s3, keys):
    """List the bucket on the object store's authenticating S3 API with these keys: 'accepted' or 'refused: <code>'."""
    script = base64.b64encode(S3_LIST.encode()).decode()
    return s3.check_output(f"printf '%s %s' {keys['access_key']!r} {keys['secret_key']!r} | "
                           f"/opt/moto/bin/python -c \"exec(__import__('base64').b64decode('{script}'))\"")


def host_s3_keys(s3):
    """The hosts' IAM user's key as the object store has it now."""
    return json.loads(s3.check_output("cat /etc/forexai-s3-auth/keys.json"))["lab-host"]


def api(app, method, path, body=None, headers=()):
    """(status, JSON) of a request to the backend on app1."""
    args = " ".join(f"-H {h!r}" for h in headers)
    data = f"-H 'Content-Type: application/json' -d {json.dumps(body)!r}" if body is not None else ""
    out = app.check_output(f"curl -s -o /tmp/api.out -w '%{{http_code}}' -X {method} {args} {data} "
                           f"http://127.0.0.1:8000{path}; echo; cat /tmp/api.out")
    status, text = out.split("\n", 1) if "\n" in out else (out, "")
    return int(status), json.loads(text or "{}")


def vault_secrets():
    done = subprocess.run([shutil.which("ansible-vault") or "ansible-vault", "view",
                           "--vault-password-file", VAULT_PASSWORD, VAULT], capture_output=True, text=True, check=True)
    return yaml.safe_load(done.stdout)["forexai_credential_rotation"]


def rotate(playbook, *pairs, extra=None):
    args = list(pairs) + ([json.dumps(extra)] if extra is not None else [])
    return playbook(ROTATE, *args, timeout=600)


def test_before_rotation_the_old_credentials_work(db, app, s3):
    CREDS["old_s3"] = host_s3_keys(s3)
    assert s3_login(s3, CREDS["old_s3"]) == "accepted"
    with open(VAULT_PASSWORD, "w", encoding="utf-8") as handle:
        handle.write("lab-vault-password\n")
    # the platform reopened: its services were stopped by the isolation
    app.run("systemctl start forexai-backend forexai-frontend forexai-workers forexai-mt5-connector")
    for _attempt in range(30):
        if app.run("curl -sf http://127.0.0.1:8000/api/v1/health").rc == 0:
            break
        time.sleep(1)
    assert db_login(app, OLD_DB_PASSWORD) == "accepted"
    status, body = api(app, "POST", "/api/v1/login", {"username": "user1", "password": "lab-password"})
    assert status == 200, body
    CREDS["old_token"] = body["token"]
    assert api(app, "GET", "/api/v1/me", headers=[f"Authorization: Bearer {CREDS['old_token']}"]) == \
        (200, {"user": "user1", "auth": "jwt"})
    db.check_output(PSQL.format(
        f"\"INSERT INTO api_keys (user_id, name, key_hash) SELECT id, 'breach-test', encode(sha256('{API_KEY}'), 'hex')"
        f" FROM users WHERE username = 'user1'\""))
    assert api(app, "GET", "/api/v1/me", headers=[f"X-API-Key: {API_KEY}"]) == (200, {"user": "user1", "auth": "api_key"})
    # and an open session with the old password (an intruder's), to be ended
    db.run("systemctl stop forexai-intruder-session")  # a session left from an earlier run of these tests
    db.check_output(PSQL.format("\"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid()\""))
    db.check_output("systemd-run --collect --unit=forexai-intruder-session runuser -u postgres -- "
                    "psql 'host=127.0.0.1 user=forexai dbname=forexai password=lab-db-password' -c 'SELECT pg_sleep(600)'")
    time.sleep(1)
    assert db.check_output(PSQL.format("\"SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid() "
                                       "AND usename = 'forexai'\"")) == "1"


@pytest.mark.parametrize("extra, message", [
    ({"credential_rotation_db_roles": ["forexai", "no_such_role"]}, "No such database role"),
    ({"credential_rotation_vault_file": "/nonexistent-folder/rotation.vault.yml"}, "cannot write in /nonexistent-folder"),
], ids=["unknown-role", "vault-not-writable"])
def test_bad_input_is_refused_before_any_secret_changes(app, playbook, extra, message):
    rc, out = rotate(playbook, extra=extra)
    assert rc != 0 and message in out, out
    assert "Nothing was changed" in " ".join(out.split())
    assert not os.path.exists(VAULT)
    assert db_login(app, OLD_DB_PASSWORD) == "accepted"


def test_a_rotation_that_stops_halfway_says_what_is_new_and_a_rerun_completes_it(db, app, playbook):
    # the applications' step fails (a health URL where nothing answers): the database is done
    rc, out = rotate(playbook, extra={"credential_rotation_health_url": "http://127.0.0.1:9/",
                                      "credential_rotation_health_retries": 1})
    flat = " ".join(out.split())
    assert rc != 0, out
    assert "New: db password forexai, sessions ended." in flat, out
    assert "Still old: applications on breach-app1, api keys revoked, s3 keys." in flat, out
    first = vault_secrets()
    assert first["status"]["db password forexai"] == "done" and first["status"]["applications on breach-app1"] == "pending"
    rc, out = rotate(playbook)
    assert rc == 0, out
    second = vault_secrets()
    assert second["db_passwords"] == first["db_passwords"] and second["jwt_secret"] == first["jwt_secret"]
    assert set(second["status"].values()) == {"done"}
    for secret in [*second["db_passwords"].values(), second["jwt_secret"], second["s3_keys"]["secret_key"]]:
        assert secret not in out, "a new secret was printed"
    assert oct(os.stat(VAULT).st_mode & 0o777) == "0o600"
    assert open(VAULT, encoding="utf-8").read().startswith("$ANSIBLE_VAULT;")
    CREDS["new"] = second


def test_the_old_credentials_are_rejected_and_the_new_ones_work(db, app, s3):
    # the hosts' S3 key: replaced through the IAM API, the old one refused by the S3 API itself
    assert CREDS["new"]["s3_keys"]["access_key"] != CREDS["old_s3"]["access_key"]
    assert s3_login(s3, CREDS["old_s3"]) == "refused: InvalidAccessKeyId"
    assert s3_login(s3, CREDS["new"]["s3_keys"]) == "accepted"
    new_password = CREDS["new"]["db_passwords"]["forexai"]
    assert db_login(app, OLD_DB_PASSWORD).startswith("refused: connection to server")
    assert db_login(app, new_password) == "accepted"
    assert db.check_output(PSQL.format("\"SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'forexai'\"")) == "t"
    # the intruder's session was ended
    assert db.check_output(PSQL.format("\"SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid() "
                                       "AND usename = 'forexai'\"")) == "0"
    status, body = api(app, "GET", "/api/v1/me", headers=[f"Authorization: Bearer {CREDS['old_token']}"])
    assert (status, body) == (401, {"error": "invalid token: bad signature"})
    status, body = api(app, "POST", "/api/v1/login", {"username": "user1", "password": "lab-password"})
    assert status == 200, body
    assert api(app, "GET", "/api/v1/me", headers=[f"Authorization: Bearer {body['token']}"]) == (200, {"user": "user1", "auth": "jwt"})
    assert api(app, "GET", "/api/v1/me", headers=[f"X-API-Key: {API_KEY}"]) == (401, {"error": "unknown or revoked API key"})
    assert db.check_output(PSQL.format("'SELECT count(*) FROM api_keys WHERE revoked_at IS NULL'")) == "0"
    assert app.service("forexai-backend").is_running and app.service("forexai-workers").is_running


def test_a_second_run_of_the_same_rotation_changes_nothing(playbook):
    rc, out = rotate(playbook)
    assert rc == 0, out
    assert "to do: nothing" in out
    assert re.search(r"localhost\s+:.*changed=0", out), out


def test_an_allowlist_without_the_control_node_cuts_it_until_the_dead_man_switch(db, playbook):
    revert_after = 35
    rc, out = isolate(playbook, extra={"breach_isolation_allow_from": ["192.0.2.10"], "breach_isolation_force": True,
                                       "breach_isolation_revert_after": revert_after,
                                       "breach_isolation_reconnect_timeout": 5})
    assert rc != 0, out
    flat = " ".join(out.split())
    assert "could not reconnect" in flat and "dead-man switch" in flat, out
    fires_at = calendar.timegm(time.strptime(
        re.search(r"removes the isolation at (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)", flat).group(1), "%Y-%m-%dT%H:%M:%SZ"))
    # really cut: a new SSH connection from the control node fails, and so does PostgreSQL
    rc_cut, out_cut = new_ssh(DB1, timeout=3)
    assert rc_cut != 0, out_cut
    assert control_probe(DB1, 5432) != "open"
    assert time.time() < fires_at, "the playbook took longer than the switch: nothing was proved"
    # and back when the switch fires, without anyone touching the host
    while True:
        rc_back = new_ssh(DB1, timeout=3)[0]
        if rc_back == 0 or time.time() > fires_at + 60:
            break
        time.sleep(1)
    late = time.time() - fires_at
    print(f"\ncontrol node cut off; back {late:+.1f} s from the time the switch was set to fire ({revert_after} s after arming)")
    assert rc_back == 0, f"still cut off {late:.0f} s after the switch was due"
    assert -2 <= late <= 10
    # the switch deleted the isolation table, and only that
    assert tables(db) == ["table inet host_firewall"]


# --- the scenario playbook: isolate, preserve, rebuild as of the compromise, rotate, verify, reopen

SCENARIO_PLAYBOOK = os.path.join(REPO, "playbooks", "scenario_data_breach.yml")
EVIDENCE_CHECK = os.path.join(REPO, "molecule", "default", "evidence_check.yml")
DB2 = f"{SCENARIO}-db2"
CASE_VAULT = os.path.join(EPHEMERAL, "breach-case.vault.yml")
EVIDENCE = os.path.join(EPHEMERAL, "reports", "evidence")
STATE = {}


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def container_exists(name):
    return subprocess.run(["podman", "container", "exists", name], check=False).returncode == 0


def platform_state(host):
    """What the intruder changes: the users and user1's e-mail address."""
    return host.check_output(PSQL.format(
        "\"SELECT string_agg(username, ',' ORDER BY username) || '|' || "
        "(SELECT email FROM users WHERE username = 'user1') FROM users\""))


def trade_count(host, upto_id=None):
    """Trades, or those with an id up to upto_id. The lab's writer keeps adding trades, also to
    the rebuilt database once the platform is repointed to it, so a copy as of a moment is told
    by the trades that existed before that moment: all of them there, with the same ids."""
    where = "" if upto_id is None else f" WHERE id <= {int(upto_id)}"
    return int(host.check_output(PSQL.format(f"'SELECT count(*) FROM trades{where}'")))


def trades_and_newest_id(host):
    """The count and the newest id in one snapshot (the writer commits in between otherwise)."""
    count, newest = host.check_output(PSQL.format("\"SELECT count(*) || ' ' || coalesce(max(id), 0) FROM trades\"")).split()
    return int(count), int(newest)


def test_the_intruder_comes_in(db, app):
    # The platform as the intruder found it, then the compromise, then the intruder's changes:
    # a user of their own and user1's e-mail address (to take the account over).
    db.check_output(PSQL.format("\"UPDATE users SET auto_trading_enabled = true WHERE username = 'user1'\""))
    STATE["clean"] = platform_state(db)
    STATE["trades_before"], STATE["newest_trade_before"] = trades_and_newest_id(db)
    STATE["old_password"] = CREDS["new"]["db_passwords"]["forexai"]  # the password as of the compromise
    status, body = api(app, "POST", "/api/v1/login", {"username": "user1", "password": "lab-password"})
    assert status == 200, body
    STATE["old_token"] = body["token"]
    time.sleep(2)
    compromised = int(time.time())
    time.sleep(2)
    db.check_output(PSQL.format(
        "\"INSERT INTO users (username, email, password_hash) VALUES ('intruder', 'x@example.invalid', 'x'); "
        "UPDATE users SET email = 'takeover@example.invalid' WHERE username = 'user1'\""))
    STATE["intruded"] = platform_state(db)
    assert STATE["intruded"] != STATE["clean"]
    db.check_output(PSQL.format("'SELECT pg_switch_wal()'"))
    time.sleep(10 + 15)  # archive_timeout + margin: the WAL past the compromise is off-site
    STATE["compromised_at"] = iso(compromised)


def test_without_confirmation_the_scenario_only_plans(db, app, playbook):
    before = (tables(db), tables(app))
    rc, out = playbook(SCENARIO_PLAYBOOK, f"scenario_data_breach_compromised_at={STATE['compromised_at']}", timeout=600)
    flat = " ".join(out.split())
    assert rc == 0, out[-4000:]
    assert f"1. Isolate {DB1}, {APP1}: in only from" in flat, out[-4000:]
    assert f"3. Rebuild the database on {DB2} as of" in flat
    assert "Not confirmed: nothing was changed." in flat
    assert "Off-site bucket: no deletion since the compromise in s3://forexai-backups" in flat
    assert "plan only (scenario_data_breach_confirm is not true): nothing was changed" in flat
    assert (tables(db), tables(app)) == before
    assert not container_exists(DB2)


def test_a_compromise_time_before_the_oldest_backup_is_refused(db, app, playbook):
    before = (tables(db), tables(app))
    rc, out = playbook(SCENARIO_PLAYBOOK, "scenario_data_breach_compromised_at=2020-01-01T00:00:00Z",
                       "scenario_data_breach_confirm=true", timeout=600)
    flat = " ".join(out.split())
    assert rc != 0
    assert "is before the oldest backup in" in flat and "no backup was taken before it" in flat, out[-4000:]
    assert (tables(db), tables(app)) == before
    assert not container_exists(DB2)


WIPE = """
import boto3
s3 = boto3.session.Session(aws_access_key_id="stolen", aws_secret_access_key="stolen",
                           region_name="us-east-1").client("s3", endpoint_url="https://BUCKET_HOST")
gone = 0
for page in s3.get_paginator("list_objects_v2").paginate(Bucket="forexai-backups"):
    keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
    if keys:
        s3.delete_objects(Bucket="forexai-backups", Delete={"Objects": keys})
        gone += len(keys)
left = s3.list_objects_v2(Bucket="forexai-backups").get("KeyCount", 0)
print(gone, left)
"""


def test_the_intruder_deletes_every_off_site_copy(db):
    """From the compromised host, over its one open way out: every object of the repository's
    bucket deleted. The bucket is versioned and locked, so that only adds delete markers."""
    script = base64.b64encode(WIPE.replace("BUCKET_HOST", f"{SCENARIO}-s3").encode()).decode()
    gone, left = db.check_output(f"python3 -c \"exec(__import__('base64').b64decode('{script}'))\"").split()
    assert int(gone) > 10 and int(left) == 0
    STATE["wiped"] = int(gone)


def test_the_breach_is_answered_end_to_end(playbook):
    compromised = STATE["compromised_at"]
    started = time.time()
    rc, out = playbook(SCENARIO_PLAYBOOK, f"scenario_data_breach_compromised_at={compromised}",
                       "scenario_data_breach_confirm=true", timeout=1800)
    STATE["seconds"] = time.time() - started
    STATE["output"] = out
    print(out[-6000:])
    print(f"\nscenario_data_breach: {STATE['seconds']:.0f} s")
    flat = " ".join(out.split())
    assert rc == 0, out[-6000:]
    assert "Scenario scenario_data_breach: recovered" in flat
    undone = re.search(r"Off-site bucket: (\d+) delete marker\(s\) on \d+ key\(s\) "
                       r"since the compromise: undone \((\d+) marker\(s\) removed\) in s3://forexai-backups", flat)
    assert undone and int(undone.group(1)) == int(undone.group(2)) >= STATE["wiped"], flat[:3000]
    assert f"Restore to: {compromised}" in flat
    assert "ACTION for compliance officer: notify the regulators" in flat
    assert "ACTION for security lead: tell the users by email from a system outside the platform" in flat
    for secret in CREDS["new"]["db_passwords"].values():
        assert secret not in out


def test_the_rebuilt_database_is_as_of_the_compromise_and_the_evidence_stays(db, lab_host):
    assert container_exists(DB2)
    db2 = lab_host("db2")
    assert platform_state(db2) == STATE["clean"]
    # Every trade of before the compromise is there (the intruder's later changes are not: the
    # state above); trades after it are the writer's, which goes on against db2.
    assert trade_count(db2, STATE["newest_trade_before"]) == STATE["trades_before"], STATE
    # the compromised host is left as it was, isolated, for the investigators
    assert platform_state(db) == STATE["intruded"]
    assert "table inet forexai_isolation" in tables(db)
    # the rebuilt host is not isolated, and auto-trading is suspended on it
    assert "forexai_isolation" not in db2.run("nft list tables 2>/dev/null").stdout
    assert db2.check_output(PSQL.format("'SELECT count(*) FROM users WHERE auto_trading_enabled'")) == "0"


def test_the_evidence_is_off_the_host_and_a_flipped_byte_is_found(playbook, tmp_path):
    case = "breach-" + re.sub("[^0-9]", "", STATE["compromised_at"])
    seals = {}
    for host in (DB1, APP1):
        copy = os.path.join(EVIDENCE, case, host)
        with open(os.path.join(EVIDENCE, case, host + ".seal"), encoding="utf-8") as handle:
            seals[host] = handle.read().split()[2]
        rc, out = playbook(EVIDENCE_CHECK, f"evidence_path={copy}", f"evidence_case={case}", f"evidence_seal={seals[host]}", timeout=120)
        assert rc == 0, out[-3000:]
    assert os.path.getsize(os.path.join(EVIDENCE, case, DB1, "09-database.dump")) > 0
    tampered = str(tmp_path / "tampered")
    shutil.copytree(os.path.join(EVIDENCE, case, DB1), tampered)
    target = os.path.join(tampered, "02-sockets.txt")
    os.chmod(target, 0o600)
    with open(target, "r+b") as handle:
        handle.seek(20)
        byte = handle.read(1)
        handle.seek(20)
        handle.write(bytes([byte[0] ^ 0x01]))
    rc, out = playbook(EVIDENCE_CHECK, f"evidence_path={tampered}", f"evidence_case={case}", f"evidence_seal={seals[DB1]}", timeout=120)
    assert rc != 0
    assert "02-sockets.txt differs from its digest in the manifest" in out, out[-3000:]


EVIDENCE_S3 = """
import datetime, json, sys, boto3
keys = json.load(open("/etc/forexai-s3-auth/keys.json"))["lab-admin"]
prefix = sys.argv[1]
s3 = boto3.session.Session(aws_access_key_id=keys["access_key"], aws_secret_access_key=keys["secret_key"],
                           region_name="us-east-1").client("s3", endpoint_url="http://127.0.0.1:5001")
found = {}
for version in s3.list_object_versions(Bucket="forexai-evidence", Prefix=prefix).get("Versions", []):
    head = s3.head_object(Bucket="forexai-evidence", Key=version["Key"], VersionId=version["VersionId"])
    days = (head["ObjectLockRetainUntilDate"] - datetime.datetime.now(datetime.timezone.utc)).days
    try:
        s3.delete_object(Bucket="forexai-evidence", Key=version["Key"], VersionId=version["VersionId"])
        deleted = "deleted"
    except s3.exceptions.ClientError as exc:
        deleted = "refused: " + exc.response["Error"]["Code"]
    found[version["Key"][len(prefix):]] = {"mode": head["ObjectLockMode"], "days": days, "delete": deleted,
                                           "sha256": head["Metadata"]["sha256"]}
print(json.dumps(found))
"""


def test_the_evidence_is_in_s3_locked_and_as_sealed(s3):
    """Each bundle is in the evidence bucket, every version under a compliance lock of 90 days that
    even the bucket owner cannot delete, and each object's SHA-256 is the manifest's."""
    case = "breach-" + re.sub("[^0-9]", "", STATE["compromised_at"])
    script = base64.b64encode(EVIDENCE_S3.encode()).decode()
    for host in (DB1, APP1):
        objects = json.loads(s3.check_output(
            f"/opt/moto/bin/python -c \"exec(__import__('base64').b64decode('{script}'))\" evidence/{case}/{host}/"))
        with open(os.path.join(EVIDENCE, case, host, "MANIFEST.sha256"), encoding="utf-8") as handle:
            listed = {line.split(" ", 3)[3]: line.split(" ", 3)[1] for line in handle.read().splitlines()}
        assert set(objects) == set(listed) | {"MANIFEST.sha256"}, objects
        for name, digest in listed.items():
            assert objects[name]["sha256"] == digest
        assert {o["mode"] for o in objects.values()} == {"COMPLIANCE"}
        assert min(o["days"] for o in objects.values()) >= 89
        assert {o["delete"] for o in objects.values()} == {"refused: AccessDenied"}, objects
    assert "(locked until" in " ".join(STATE["output"].split())


def test_the_platform_serves_from_the_rebuilt_database_with_new_credentials_only(app, s3, lab_host):
    assert "forexai_isolation" not in " ".join(tables(app))
    assert DB2 in app.file("/etc/forexai/forexai.env").content_string
    assert json.loads(app.check_output("curl -s -m 5 http://127.0.0.1:8000/api/v1/health"))["status"] == "ok"
    done = subprocess.run([shutil.which("ansible-vault") or "ansible-vault", "view", "--vault-password-file", VAULT_PASSWORD,
                           CASE_VAULT], capture_output=True, text=True, check=True)
    rotated = yaml.safe_load(done.stdout)["forexai_credential_rotation"]
    assert set(rotated["status"].values()) == {"done"}
    # the password restored with the database (as of the compromise) no longer opens it
    assert db_login(app, STATE["old_password"], server=DB2).startswith("refused: connection to server")
    assert db_login(app, rotated["db_passwords"]["forexai"], server=DB2) == "accepted"
    # the hosts' S3 key replaced again, and the rebuilt host's pgBackRest uses the new one
    assert s3_login(s3, CREDS["new"]["s3_keys"]) == "refused: InvalidAccessKeyId"
    assert s3_login(s3, rotated["s3_keys"]) == "accepted"
    conf = lab_host("db2").file("/etc/pgbackrest/pgbackrest.conf").content_string
    assert f"repo2-s3-key={rotated['s3_keys']['access_key']}" in conf
    status, body = api(app, "GET", "/api/v1/me", headers=[f"Authorization: Bearer {STATE['old_token']}"])
    assert (status, body) == (401, {"error": "invalid token: bad signature"})
    status, body = api(app, "POST", "/api/v1/login", {"username": "user1", "password": "lab-password"})
    assert status == 200, body
    assert api(app, "GET", "/api/v1/me", headers=[f"Authorization: Bearer {body['token']}"]) == (200, {"user": "user1", "auth": "jwt"})
