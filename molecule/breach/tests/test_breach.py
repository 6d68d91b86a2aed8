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


def db_login(app, password):
    """Log in to PostgreSQL from app1 as forexai: 'accepted' or 'refused: ...'."""
    script = base64.b64encode((CONNECT % DB1).encode()).decode()
    return app.check_output(f"printf %s {password!r} | python3 -c \"exec(__import__('base64').b64decode('{script}'))\"")


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


def test_before_rotation_the_old_credentials_work(db, app):
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
    assert "Still old: applications on breach-app1, api keys revoked." in flat, out
    first = vault_secrets()
    assert first["status"]["db password forexai"] == "done" and first["status"]["applications on breach-app1"] == "pending"
    rc, out = rotate(playbook)
    assert rc == 0, out
    second = vault_secrets()
    assert second["db_passwords"] == first["db_passwords"] and second["jwt_secret"] == first["jwt_secret"]
    assert set(second["status"].values()) == {"done"}
    for secret in [*second["db_passwords"].values(), second["jwt_secret"]]:
        assert secret not in out, "a new secret was printed"
    assert oct(os.stat(VAULT).st_mode & 0o777) == "0o600"
    assert open(VAULT, encoding="utf-8").read().startswith("$ANSIBLE_VAULT;")
    CREDS["new"] = second


def test_the_old_credentials_are_rejected_and_the_new_ones_work(db, app):
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
