"""Test helper on the database host: look at and damage the backup bucket.

Reads the endpoint, bucket, CA bundle and credentials from forexai-backup's own
configuration, so it sees exactly what the program uploaded.

    python3 s3tool.py list [PREFIX]          JSON {key: {"size": n, "sha256": metadata}}
    s3tool.py sets                   JSON [set id, ...] under the configured prefix
    s3tool.py sha256 KEY             SHA-256 of the object's bytes
    s3tool.py flip KEY OFFSET        flip the lowest bit of one byte, keeping the metadata
    s3tool.py json KEY               the object's bytes, parsed as JSON
"""

import hashlib
import json
import os
import sys

import boto3
from botocore.config import Config

CONFIG = os.environ.get('FOREXAI_BACKUP_CONFIG', '/etc/forexai/backup.conf')


def client_and_config():
    with open(CONFIG, encoding='utf-8') as handle:
        s3 = json.load(handle)['s3']
    if s3.get('credentials_file'):
        os.environ['AWS_SHARED_CREDENTIALS_FILE'] = s3['credentials_file']
    client = boto3.client('s3', endpoint_url=s3['endpoint_url'] or None,
                          verify=s3['ca_bundle'] or None, region_name=s3['region'],
                          config=Config(s3={'addressing_style': s3['addressing_style']}))
    return client, s3


def main(argv):
    client, s3 = client_and_config()
    bucket = s3['bucket']
    command = argv[0]
    if command == 'list':
        prefix = argv[1] if len(argv) > 1 else s3['prefix'].strip('/') + '/'
        out = {}
        for page in client.get_paginator('list_objects_v2').paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get('Contents', []):
                head = client.head_object(Bucket=bucket, Key=obj['Key'])
                out[obj['Key']] = {'size': obj['Size'],
                                   'sha256': head.get('Metadata', {}).get('sha256')}
        print(json.dumps(out, sort_keys=True))
    elif command == 'sets':
        prefix = s3['prefix'].strip('/') + '/'
        ids = []
        for page in client.get_paginator('list_objects_v2').paginate(
                Bucket=bucket, Prefix=prefix, Delimiter='/'):
            ids.extend(p['Prefix'][len(prefix):].strip('/') for p in page.get('CommonPrefixes', []))
        print(json.dumps(sorted(ids)))
    elif command == 'sha256':
        body = client.get_object(Bucket=bucket, Key=argv[1])['Body'].read()
        print(json.dumps(hashlib.sha256(body).hexdigest()))
    elif command == 'json':
        print(client.get_object(Bucket=bucket, Key=argv[1])['Body'].read().decode('utf-8'))
    elif command == 'flip':
        key, offset = argv[1], int(argv[2])
        obj = client.get_object(Bucket=bucket, Key=key)
        data = bytearray(obj['Body'].read())
        data[offset] ^= 0x01
        client.put_object(Bucket=bucket, Key=key, Body=bytes(data), Metadata=obj['Metadata'])
        print(json.dumps({'key': key, 'offset': offset, 'size': len(data)}))
    else:
        raise SystemExit('unknown command %s' % command)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
