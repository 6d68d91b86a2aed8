"""Scenario 3, data breach: the isolation, tested over the network.

Converge isolated db1 and app1 with forexai.dr.breach_isolation, allowing in only the control
node (its address on the lab network) and out only the object store's TLS port. The tests run in
order and share the hosts' state: probes from the object store (a host the allowlist leaves out)
and from the control node over new SSH connections, check mode, refusals that change nothing,
the isolation removed with the host's own rules intact, and an allowlist without the control
node forced through, which really cuts the control node off until the dead-man switch fires.
"""
import calendar
import json
import os
import re
import socket
import subprocess
import time

import pytest

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
    ({"breach_isolation_allow_to": [{"host": "breach-s3", "port": 70000}]}, "port"),
    ({"breach_isolation_allow_from": ["no-such-host.invalid"]}, "no-such-host.invalid"),
    ({"breach_isolation_revert_after": 40, "breach_isolation_reconnect_timeout": 30}, "at least breach_isolation_reconnect_timeout"),
], ids=["without-the-control-node", "empty", "bad-port", "unresolvable-name", "switch-too-soon"])
def test_bad_input_is_refused_and_nothing_changes(db, playbook, extra, message):
    before = (db.check_output("nft list ruleset"), db.file("/etc/forexai/isolation.nft").sha256sum)
    rc, out = isolate(playbook, extra=extra)
    assert rc != 0, out
    assert message in out, out
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
        rc_back, _ = new_ssh(DB1, timeout=3)
        if rc_back == 0 or time.time() > fires_at + 60:
            break
        time.sleep(1)
    late = time.time() - fires_at
    print(f"\ncontrol node cut off; back {late:+.1f} s from the time the switch was set to fire ({revert_after} s after arming)")
    assert rc_back == 0, f"still cut off {late:.0f} s after the switch was due"
    assert -2 <= late <= 10
    # the switch deleted the isolation table, and only that
    assert tables(db) == ["table inet host_firewall"]
