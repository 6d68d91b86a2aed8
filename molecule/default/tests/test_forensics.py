"""The forensics role on db1: evidence in order of volatility, off the host, tamper-evident.

molecule/default/forensics.yml runs the role for one case: first with --check (nothing may be
collected), then for real, then again (nothing on the host may change). The copy on the control
node is read back, checked against its chained manifest here too, and a copy with one byte
flipped must fail the module's check.
"""
import os
import shutil
import time

import pytest

PLAYBOOK = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "forensics.yml")
CONTROL = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp"), "evidence")
CASE = "case-test-%d" % int(time.time())
HOST_DIR = "/var/tmp/forexai-forensics/" + CASE
EXPECTED = ["01-processes.txt", "02-sockets.txt", "03-logged-in.txt", "04-recent-logins.txt",
            "05-cron.txt", "06-systemd.txt", "07-logs.tar.gz", "08-config.tar.gz", "09-database.dump"]


def checked(playbook, path, seal):
    """Run the module's check on a folder of the control node; (rc, output)."""
    return playbook(os.path.join(os.path.dirname(PLAYBOOK), "evidence_check.yml"),
                    f"evidence_path={path}", f"evidence_case={CASE}", f"evidence_seal={seal}", timeout=120)


@pytest.fixture(scope="module")
def runs(playbook, db):
    out = {}
    out["check"] = playbook(PLAYBOOK, f"forensics_case_id={CASE}", check=True)
    out["host_after_check"] = db.file(HOST_DIR).exists
    out["first"] = playbook(PLAYBOOK, f"forensics_case_id={CASE}")
    out["host_listing"] = db.check_output("cd %s && find . -type f -printf '%%P %%s %%T@\\n' | sort", HOST_DIR)
    out["second"] = playbook(PLAYBOOK, f"forensics_case_id={CASE}")
    out["host_listing_after"] = db.check_output("cd %s && find . -type f -printf '%%P %%s %%T@\\n' | sort", HOST_DIR)
    return out


def test_check_mode_collects_nothing(runs):
    rc, output = runs["check"]
    assert rc == 0, output[-3000:]
    assert "Would collect on" in output
    assert runs["host_after_check"] is False


def test_the_bundle_is_collected_in_order_and_copied_off_the_host(runs):
    rc, output = runs["first"]
    assert rc == 0, output[-3000:]
    copy = os.path.join(CONTROL, CASE, "default-db1")
    names = sorted(os.listdir(copy))
    for name in EXPECTED + ["MANIFEST.sha256"]:
        assert name in names, names
    with open(os.path.join(copy, "MANIFEST.sha256")) as handle:
        listed = [line.split(" ", 3)[3].strip() for line in handle]
    assert listed == sorted(listed) and listed[:6] == EXPECTED[:6]
    with open(os.path.join(copy, "01-processes.txt")) as handle:
        processes = handle.read()
    assert "postgres" in processes and "# exit status 0" in processes
    with open(os.path.join(copy, "09-database.dump"), "rb") as handle:
        assert handle.read(5) == b"PGDMP"
    with open(os.path.join(CONTROL, CASE, "default-db1.seal")) as handle:
        case, host, seal = handle.read().split()
    assert (case, host) == (CASE, "default-db1") and len(seal) == 64


def test_a_second_run_changes_nothing_on_the_host(runs, db):
    rc, output = runs["second"]
    assert rc == 0, output[-3000:]
    assert runs["host_listing"] == runs["host_listing_after"]
    # Nothing was deleted on the host: its logs are where they were.
    assert db.file("/var/log/postgresql").is_directory


def test_the_copy_verifies_and_a_flipped_byte_is_found(runs, playbook, tmp_path):
    copy = os.path.join(CONTROL, CASE, "default-db1")
    with open(os.path.join(CONTROL, CASE, "default-db1.seal")) as handle:
        seal = handle.read().split()[2]
    rc, output = checked(playbook, copy, seal)
    assert rc == 0, output[-3000:]
    tampered = str(tmp_path / "tampered")
    shutil.copytree(copy, tampered)
    target = os.path.join(tampered, "04-recent-logins.txt")
    os.chmod(target, 0o600)
    with open(target, "r+b") as handle:
        handle.seek(10)
        byte = handle.read(1)
        handle.seek(10)
        handle.write(bytes([byte[0] ^ 0x01]))
    rc, output = checked(playbook, tampered, seal)
    assert rc != 0
    assert "04-recent-logins.txt differs from its digest in the manifest" in output, output[-3000:]
