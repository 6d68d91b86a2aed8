"""Lab only: give an IAM user of the authenticating moto server a new access key.

What a production hook does with the provider's IAM API (amazon.aws.iam_access_key): a new key
for the user first, then every other key of the user deleted, so the old key stops working at
once. Signs its calls with ``lab-admin``'s key from the keys file, writes the user's new key
there (root only) and prints it as JSON on stdout for the caller (credential_rotation's S3 hook),
which keeps it in its vault file.
"""
import argparse
import json
import os
import sys

import boto3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--keys-file", required=True)
    parser.add_argument("--user", required=True)
    args = parser.parse_args()

    with open(args.keys_file, encoding="utf-8") as handle:
        keys = json.load(handle)
    admin = keys["lab-admin"]
    iam = boto3.session.Session(aws_access_key_id=admin["access_key"], aws_secret_access_key=admin["secret_key"],
                                region_name="us-east-1").client("iam", endpoint_url="http://127.0.0.1:%d" % args.port)
    new = iam.create_access_key(UserName=args.user)["AccessKey"]
    deleted = []
    for key in iam.list_access_keys(UserName=args.user)["AccessKeyMetadata"]:
        if key["AccessKeyId"] != new["AccessKeyId"]:
            iam.delete_access_key(UserName=args.user, AccessKeyId=key["AccessKeyId"])
            deleted.append(key["AccessKeyId"])
    keys[args.user] = {"access_key": new["AccessKeyId"], "secret_key": new["SecretAccessKey"]}
    fd = os.open(args.keys_file + ".new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(keys, out, indent=2)
    os.replace(args.keys_file + ".new", args.keys_file)
    json.dump(dict(keys[args.user], deleted=deleted), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
