"""The stand-in platform works: the lab is fit to have disasters caused on it.

Hosts are reached through testinfra's podman backend (a direct `podman exec`),
which is far quicker than going through Ansible for every command.
"""
import json
import os
import time

import pytest

SCENARIO = os.environ.get("MOLECULE_SCENARIO_NAME", "default")


# The hosts (fixtures db, app, s3) come from molecule/conftest.py.


def test_health_endpoint_answers_200_from_the_app_host(app):
    out = app.check_output(
        "curl -sS -o /tmp/health.json -w '%{http_code}' http://127.0.0.1:8000/api/v1/health"
    )
    assert out == "200"
    body = json.loads(app.file("/tmp/health.json").content_string)
    assert body["database"] == "ok"
    assert body["users"] > 0


def test_login_accepts_the_right_password_only(app):
    def login(password):
        payload = json.dumps({"username": "user1", "password": password})
        return app.check_output(
            "curl -sS -o /dev/null -w '%%{http_code}' -H 'Content-Type: application/json' "
            "-d %s http://127.0.0.1:8000/api/v1/login",
            payload,
        )

    assert login("lab-password") == "200"
    assert login("wrong") == "401"


def test_writer_acknowledged_id_advances(app):
    def last():
        return json.loads(app.file("/var/lib/forexai/writer/last_ack.json").content_string)["last_id"]

    first = last()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and last() <= first:
        time.sleep(0.5)
    assert last() > first


def test_acknowledged_trades_are_in_the_database(db, app):
    last_id = json.loads(app.file("/var/lib/forexai/writer/last_ack.json").content_string)["last_id"]
    found = db.check_output(
        "su postgres -c \"psql -d forexai -Atc 'SELECT count(*) FROM trades WHERE id = %d'\"" % last_id
    )
    assert found == "1"


@pytest.mark.parametrize("endpoint", ["http://{s3}:5000", "https://{s3}"])
def test_object_store_answers_s3_over_http_and_verified_tls(db, endpoint):
    url = endpoint.format(s3=f"{SCENARIO}-s3")
    script = (
        "import boto3, sys; "
        "c = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', "
        "aws_access_key_id='lab', aws_secret_access_key='lab', "
        "verify='/etc/ssl/certs/ca-certificates.crt'); "
        "c.put_object(Bucket='forexai-backups', Key='probe/x', Body=b'hello'); "
        "print(c.get_object(Bucket='forexai-backups', Key='probe/x')['Body'].read().decode())"
    )
    assert db.check_output("python3 -c %s %s", script, url) == "hello"


def test_tls_is_refused_without_the_lab_ca(db):
    # The same endpoint checked against a public root that did not sign it must
    # fail verification, or the test above would prove nothing about TLS.
    script = (
        "import socket, ssl, sys\n"
        "ctx = ssl.create_default_context(cafile='/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt')\n"
        "try:\n"
        "    ctx.wrap_socket(socket.create_connection((sys.argv[1], 443), 5), server_hostname=sys.argv[1])\n"
        "    print('verified')\n"
        "except ssl.SSLCertVerificationError as exc:\n"
        "    print('refused', exc.verify_message)\n"
    )
    out = db.check_output("python3 -c %s %s-s3", script, SCENARIO)
    assert out.startswith("refused")


def test_psql_reads_the_platform_schema_over_the_network(app):
    out = app.check_output(
        "set -a && . /etc/forexai/forexai.env && "
        "psql \"postgresql://forexai:lab-db-password@%s-db1/forexai\" -Atc "
        "\"SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' "
        "AND table_name IN ('users','trades','positions','audit_log','mt5_sync_log',"
        "'api_keys','ml_models','settings')\"",
        SCENARIO,
    )
    assert out == "8"
