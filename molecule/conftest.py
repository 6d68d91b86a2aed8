"""The hosts of the running Molecule scenario, for every scenario's testinfra tests.

pytest loads this file for molecule/<scenario>/tests/ (pytest.ini at the repository root
makes it the rootdir). Hosts are reached through testinfra's podman backend (a direct
`podman exec`, far quicker than going through Ansible for every command); container names
are the scenario's name and the host's role (``<scenario>-db1``).
"""
import os
import shutil
import subprocess

import pytest
import testinfra


def scenario_name(path):
    """The running scenario: Molecule says it; outside Molecule, the test file's folder."""
    return os.environ.get("MOLECULE_SCENARIO_NAME") or os.path.basename(
        os.path.dirname(os.path.dirname(os.path.abspath(str(path)))))


@pytest.fixture(scope="module")
def lab_host(request):
    """lab_host("db1") is the scenario's host of that role, as a testinfra host."""
    # A scenario whose name has an underscore names its hosts with a hyphen (botocore refuses
    # an endpoint whose host name has an underscore): server_failure -> server-failure-db1.
    scenario = scenario_name(request.path).replace("_", "-")

    def get(role):
        return testinfra.get_host(f"podman://{scenario}-{role}")

    return get


@pytest.fixture(scope="module")
def db(lab_host):
    return lab_host("db1")


@pytest.fixture(scope="module")
def app(lab_host):
    return lab_host("app1")


@pytest.fixture(scope="module")
def s3(lab_host):
    return lab_host("s3")


def run_playbook(path, *extra_vars, check=False, timeout=900):
    """Run a playbook against the scenario's hosts, as an operator would; (rc, output)."""
    command = [shutil.which("ansible-playbook") or "ansible-playbook",
               # The inventory folder: its generated file, group_vars and any extra hosts file.
               "-i", os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"]), path] + (["--check"] if check else [])
    for pair in extra_vars:
        command += ["-e", pair]
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=timeout, check=False,
                          env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0"))
    return done.returncode, done.stdout


@pytest.fixture(scope="session")
def playbook():
    """playbook(path, "var=value", ..., check=False) runs it; returns (rc, output)."""
    return run_playbook
