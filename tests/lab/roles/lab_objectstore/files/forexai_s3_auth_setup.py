"""Lab only: prepare the authenticating moto server, then turn its authentication on.

moto starts with authentication off. While it is off this program makes the buckets, two IAM
users with their access keys and policies, and writes the keys to a root-only JSON file:

- ``lab-admin`` may do everything (what the control node uses to set up a bucket);
- ``lab-host`` may put, get, list and delete objects in the buckets, and nothing else: not
  delete object versions, nor change versioning, Object Lock, lifecycle or the bucket policy
  (the shape a database host's keys have in production).

Then it POSTs ``0`` to moto's ``/moto-api/reset-auth``: from that request on, every S3 and
IAM call must be signed with one of these keys and is checked against the user's policies.
Run by the unit's ExecStartPost, so each (re)start of the in-memory server is prepared again.
"""
import argparse
import json
import os
import sys
import time
import urllib.request

import boto3

HOST_ACTIONS = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:ListBucket",
                "s3:GetBucketLocation", "s3:ListBucketVersions", "s3:GetObjectVersion",
                "s3:GetBucketVersioning", "s3:GetBucketObjectLockConfiguration",
                "s3:GetObjectRetention"]


def wait_for(url, seconds):
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def host_policy(buckets):
    arns = ["arn:aws:s3:::%s" % b for b in buckets]
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": HOST_ACTIONS, "Resource": arns + [a + "/*" for a in arns]}]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--keys-file", required=True)
    parser.add_argument("--bucket", action="append", default=[])
    parser.add_argument("--locked-bucket", action="append", default=[],
                        help="a bucket made with Object Lock on (only lab-admin may use it)")
    args = parser.parse_args()

    endpoint = "http://127.0.0.1:%d" % args.port
    wait_for(endpoint + "/moto-api/", 60)
    session = boto3.session.Session(aws_access_key_id="setup", aws_secret_access_key="setup",
                                    region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=endpoint)
    iam = session.client("iam", endpoint_url=endpoint)
    for bucket in args.bucket:
        s3.create_bucket(Bucket=bucket)
    for bucket in args.locked_bucket:
        s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    keys = {}
    policies = {"lab-admin": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]},
        "lab-host": host_policy(args.bucket)}
    for user, policy in policies.items():
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName=user + "-policy",
                            PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        keys[user] = {"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"]}

    os.makedirs(os.path.dirname(args.keys_file), mode=0o700, exist_ok=True)
    fd = os.open(args.keys_file + ".new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(keys, out, indent=2)
    os.replace(args.keys_file + ".new", args.keys_file)

    request = urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0", method="POST",
                                     headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()
    # (text/plain: with urllib's default form type the server reads no body and fails.)
    # Prove it: a request signed with a key no user has is refused now.
    try:
        s3.list_objects_v2(Bucket=args.bucket[0]) if args.bucket else s3.list_buckets()
    except s3.exceptions.ClientError as exc:
        print("authentication on (%s for unknown keys); users: %s"
              % (exc.response["Error"]["Code"], ", ".join(sorted(keys))))
        return 0
    print("authentication did not turn on", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
