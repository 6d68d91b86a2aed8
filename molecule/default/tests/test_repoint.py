"""Scenario 1's repoint (forexai.dr.app_services) on the default scenario's hosts.

molecule/default/repoint.yml points app1 at db1 by its address instead of its name, with the
database record set in the object store's Route 53 (moto). It runs four times, as an operator
would: --check, applied, --check again, applied again. Verify proves the check run changed
nothing, the applied run rewrote only the host in the environment file, restarted the services
(which now run with the new URL) and logged in, the second pair changed nothing, and bad input
is refused with the file untouched.
"""
import json
import os

import boto3
import pytest

ENV_FILE = "/etc/forexai/forexai.env"
PLAYBOOK = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "repoint.yml")
RESULTS = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp")
SERVICES = ["forexai-backend", "forexai-frontend", "forexai-workers", "forexai-mt5-connector"]


def address(host):
    """The host's address on the scenario network."""
    return host.check_output("hostname -I").split()[0]


def main_pid_environment(app, service):
    """The environment the service's main process runs with (read as its own user: root in a
    container without CAP_SYS_PTRACE may not read another user's /proc/PID/environ)."""
    pid = app.check_output("systemctl show -p MainPID --value %s", service)
    user = app.check_output("stat -c %%U /proc/%s", pid)
    return app.check_output("runuser -u %s -- cat /proc/%s/environ | tr '\\0' '\\n'", user, pid)


@pytest.fixture(scope="module")
def rhythm(app, db, playbook):
    """Run the four steps once; each step's rc, output and app_services_result."""
    before = app.file(ENV_FILE).content_string
    steps = {}
    for step in ("check-1", "apply-1", "check-2", "apply-2"):
        result_file = os.path.join(RESULTS, f"repoint-{step}.json")
        if os.path.exists(result_file):
            os.remove(result_file)
        rc, out = playbook(PLAYBOOK, f"repoint_result_file={result_file}", check=step.startswith("check"))
        assert os.path.exists(result_file), f"{step} wrote no result (rc {rc}):\n{out[-4000:]}"
        with open(result_file, encoding="utf-8") as handle:
            steps[step] = {"rc": rc, "out": out, "result": json.load(handle)}
        if step == "check-1":
            steps[step]["env_after"] = app.file(ENV_FILE).content_string
    return {"before": before, "db_address": address(db), "steps": steps}


def recap_changed(out, host):
    line = [l for l in out.splitlines() if l.startswith(host) and "changed=" in l][-1]
    return int(line.split("changed=")[1].split()[0])


def test_every_step_succeeded(rhythm):
    for step, run in rhythm["steps"].items():
        assert run["rc"] == 0, (step, run["out"][-3000:])


def test_the_check_run_shows_the_change_and_makes_none(rhythm):
    check = rhythm["steps"]["check-1"]
    assert check["result"]["repointed"] is True
    assert check["result"]["db_before"]["host"] != rhythm["db_address"]
    assert check["result"]["db_after"]["host"] == rhythm["db_address"]
    assert check["env_after"] == rhythm["before"]
    assert check["result"]["health_status"] is None  # nothing is claimed under --check


def test_the_applied_run_changed_only_the_host(app, rhythm):
    applied = rhythm["steps"]["apply-1"]["result"]
    old_host = applied["db_before"]["host"]
    assert applied["repointed"] is True
    assert applied["db_after"] == dict(applied["db_before"], host=rhythm["db_address"],
                                       url=applied["db_before"]["url"].replace(old_host, rhythm["db_address"]))
    now = app.file(ENV_FILE)
    assert now.content_string == rhythm["before"].replace("@%s:" % old_host, "@%s:" % rhythm["db_address"])
    assert (now.user, now.group, now.mode) == ("root", "forexai", 0o640)
    assert "***" in applied["db_after"]["url"] and "lab-db-password" not in json.dumps(applied)
    # The previous file is kept beside it.
    assert app.file(applied["backup_file"]).content_string == rhythm["before"]


def test_the_services_run_with_the_new_url_and_a_user_can_log_in(app, rhythm):
    applied = rhythm["steps"]["apply-1"]["result"]
    assert sorted(applied["restarted"]) == sorted(SERVICES)
    assert applied["health_status"] == 200 and applied["login"] == "ok"
    for service in SERVICES:
        assert "@%s:5432/" % rhythm["db_address"] in main_pid_environment(app, service), service
    health = app.check_output("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8000/api/v1/health")
    assert health == "200"


def test_the_second_check_and_apply_change_nothing(rhythm):
    for step in ("check-2", "apply-2"):
        run = rhythm["steps"][step]
        assert run["result"]["repointed"] is False, step
        assert run["result"]["restarted"] == [], step
        assert run["result"]["dns"] == "unchanged", step
        assert recap_changed(run["out"], "default-app1") == 0, (step, run["out"][-2000:])
    assert rhythm["steps"]["apply-2"]["result"]["login"] == "ok"


def test_the_database_record_names_the_new_host(s3, rhythm):
    assert rhythm["steps"]["apply-1"]["result"]["dns"] == "changed"
    route53 = boto3.client("route53", endpoint_url="http://%s:5000" % address(s3), region_name="us-east-1",
                           aws_access_key_id="lab-access-key", aws_secret_access_key="lab-secret-key")
    zone = [z for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == "forexai.lab."][0]
    records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    record = [r for r in records if r["Name"] == "db.forexai.lab." and r["Type"] == "A"][0]
    assert [v["Value"] for v in record["ResourceRecords"]] == [rhythm["db_address"]]


def test_a_bad_host_is_refused_and_changes_nothing(app, playbook, rhythm):
    before = app.file(ENV_FILE).content_string
    rc, out = playbook(PLAYBOOK, "repoint_result_file=/dev/null", "app_services_db_host='db2; reboot'")
    assert rc != 0
    assert "app_services needs app_services_db_host as a host name or address" in out
    assert "Nothing was changed." in out
    assert app.file(ENV_FILE).content_string == before
