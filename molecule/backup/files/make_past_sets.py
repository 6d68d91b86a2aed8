"""Test fixture: clone a real backup set under past set ids, locally and in S3.

Used by the backup scenario (and by hand) to give retention sets "dated in the past".
Each clone is a real set (files hard-linked locally, copied server-side in S3) whose
manifest says it started at the clone's id, verified or not; `complete: false` leaves the
manifest out, as an interrupted run would.

    python3 make_past_sets.py --backup-dir DIR --source SET_ID --spec spec.json \
        [--bucket B --prefix P --endpoint-url URL --ca-bundle FILE]

spec.json: [{"id": "20240501T000000Z", "verified": true, "complete": true,
             "locations": ["local", "s3"]}, ...]
"""

import argparse
import datetime
import hashlib
import json
import os
import sys


def started_at(set_id):
    moment = datetime.datetime.strptime(set_id, '%Y%m%dT%H%M%SZ')
    return moment.replace(tzinfo=datetime.timezone.utc)


def iso(moment):
    return moment.isoformat().replace('+00:00', 'Z')


def clone_manifest(source, set_id, verified):
    manifest = json.loads(json.dumps(source))
    start = started_at(set_id)
    manifest['set_id'] = set_id
    manifest['started_at'] = iso(start)
    manifest['finished_at'] = iso(start + datetime.timedelta(minutes=1))
    manifest['verified'] = bool(verified)
    manifest.setdefault('warnings', []).append('test fixture: clone of %s' % source['set_id'])
    return (json.dumps(manifest, indent=2, sort_keys=True) + '\n').encode('utf-8')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--backup-dir', required=True)
    parser.add_argument('--source', required=True)
    parser.add_argument('--spec', required=True)
    parser.add_argument('--bucket')
    parser.add_argument('--prefix', default='')
    parser.add_argument('--endpoint-url')
    parser.add_argument('--ca-bundle')
    args = parser.parse_args()

    src_dir = os.path.join(args.backup_dir, args.source)
    with open(os.path.join(src_dir, 'manifest.json'), encoding='utf-8') as handle:
        source = json.load(handle)
    with open(args.spec, encoding='utf-8') as handle:
        spec = json.load(handle)

    client = None
    if any('s3' in item.get('locations', []) for item in spec):
        import boto3
        from botocore.config import Config
        client = boto3.client('s3', endpoint_url=args.endpoint_url, verify=args.ca_bundle or None,
                              config=Config(s3={'addressing_style': 'path'}),
                              region_name='us-east-1')
    prefix = args.prefix.strip('/')

    def key(set_id, rel):
        return '/'.join(p for p in (prefix, set_id, rel) if p)

    made = []
    for item in spec:
        set_id = item['id']
        body = clone_manifest(source, set_id, item.get('verified', True))
        complete = item.get('complete', True)
        if 'local' in item.get('locations', []):
            dest = os.path.join(args.backup_dir, set_id)
            os.makedirs(dest)
            for rel in source['files']:
                target = os.path.join(dest, *rel.split('/'))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.link(os.path.join(src_dir, *rel.split('/')), target)
            if complete:
                with open(os.path.join(dest, 'manifest.json'), 'wb') as handle:
                    handle.write(body)
        if 's3' in item.get('locations', []):
            for rel, entry in source['files'].items():
                client.copy_object(Bucket=args.bucket, Key=key(set_id, rel),
                                   CopySource={'Bucket': args.bucket,
                                               'Key': key(args.source, rel)},
                                   Metadata={'sha256': entry['sha256'],
                                             'forexai-set-id': set_id},
                                   MetadataDirective='REPLACE')
            if complete:
                client.put_object(Bucket=args.bucket, Key=key(set_id, 'manifest.json'), Body=body,
                                  Metadata={'sha256': hashlib.sha256(body).hexdigest(),
                                            'forexai-set-id': set_id})
        made.append(set_id)
    json.dump({'made': made}, sys.stdout)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
