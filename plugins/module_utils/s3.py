# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""S3 for backup sets: the options the modules share, the one client builder, and the one
listing of the sets in a bucket.

The options are documented once in the ``forexai.dr.s3`` doc fragment.

The backup role also deploys this file unchanged next to the ``forexai-backup`` program
(``/usr/local/lib/forexai-backup/s3.py``), which imports it as ``s3``: it must never import
Ansible, and it finds ``backup_set`` either in the collection or beside itself.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time
import traceback

try:
    from ansible_collections.forexai.dr.plugins.module_utils import backup_set
except ImportError:  # deployed on a host next to the backup program
    import backup_set

try:
    import boto3
    import botocore.session
    from botocore.config import Config as BotoConfig
    from botocore.exceptions import (
        ConnectTimeoutError,
        EndpointConnectionError,
        SSLError,
    )
    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR = None
except ImportError:
    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR = traceback.format_exc()

# Error codes that no retry can cure.
PERMANENT_ERROR_CODES = ('NoSuchBucket', '404', 'AccessDenied', '403', 'InvalidAccessKeyId',
                         'SignatureDoesNotMatch', 'InvalidRequest')
MISSING_KEY_CODES = ('NoSuchKey', '404')


class S3Error(Exception):
    """An S3 operation that failed for good (after its retries); the message says why."""


def s3_argument_spec():
    return dict(
        bucket=dict(type='str'),
        prefix=dict(type='str', default=''),
        endpoint_url=dict(type='str'),
        region=dict(type='str', default='us-east-1'),
        ca_bundle=dict(type='path'),
        addressing_style=dict(type='str', default='auto', choices=['auto', 'path', 'virtual']),
        access_key=dict(type='str', aliases=['aws_access_key_id'], no_log=True),
        secret_key=dict(type='str', aliases=['aws_secret_access_key'], no_log=True),
    )


def client_kwargs(params):
    """boto3 client keyword arguments from the module's S3 options (no boto3 needed)."""
    kwargs = dict(
        endpoint_url=params['endpoint_url'] or None,
        region_name=params['region'] or None,
        verify=params['ca_bundle'] or None,
    )
    if params.get('access_key'):
        kwargs['aws_access_key_id'] = params['access_key']
        kwargs['aws_secret_access_key'] = params['secret_key']
    return kwargs


def config_kwargs(params, max_attempts=5):
    """botocore ``Config`` keyword arguments (no boto3 needed).

    ``params`` may also hold ``connect_timeout`` and ``read_timeout`` (seconds), as the
    backup program's configuration does; botocore's defaults apply when they are absent.
    """
    kwargs = dict(s3={'addressing_style': params.get('addressing_style') or 'auto'},
                  retries={'max_attempts': max_attempts, 'mode': 'standard'})
    for name in ('connect_timeout', 'read_timeout'):
        if params.get(name):
            kwargs[name] = params[name]
    return kwargs


def s3_client(params, max_attempts=5):
    """The S3 client, with retries, timeouts and the chosen addressing style.

    Credentials: ``access_key``/``secret_key`` when given; else a shared credentials file
    ``credentials_file`` when given (the backup program's); else boto3's usual sources.
    """
    core = botocore.session.Session()
    if params.get('credentials_file') and not params.get('access_key'):
        core.set_config_variable('credentials_file', params['credentials_file'])
    return boto3.session.Session(botocore_session=core).client(
        's3', config=BotoConfig(**config_kwargs(params, max_attempts)), **client_kwargs(params))


# --------------------------------------------------------------------------- errors, retries

def error_code(exc):
    """The S3 error code of a botocore ``ClientError`` (``''`` for anything else)."""
    response = getattr(exc, 'response', None)
    if not isinstance(response, dict):
        return ''
    return str(response.get('Error', {}).get('Code', ''))


def is_permanent(exc):
    """Whether retrying cannot help (missing bucket, refused credentials, bad request)."""
    return error_code(exc) in PERMANENT_ERROR_CODES


def describe_error(exc, where, bucket):
    """One sentence for an S3 failure at ``where`` (an endpoint description)."""
    if HAS_BOTO3 and isinstance(exc, (EndpointConnectionError, ConnectTimeoutError)):
        return 'S3 endpoint %s unreachable: %s' % (where, exc)
    if HAS_BOTO3 and isinstance(exc, SSLError):
        return 'TLS to S3 endpoint %s failed (s3.ca_bundle?): %s' % (where, exc)
    code = error_code(exc)
    if code in ('NoSuchBucket', '404'):
        return 'bucket %s does not exist at %s' % (bucket, where)
    if code in ('AccessDenied', '403', 'InvalidAccessKeyId', 'SignatureDoesNotMatch'):
        return 'access to %s denied (%s): check the S3 credentials' % (where, code)
    return '%s: %s' % (type(exc).__name__, exc)


def with_retries(what, func, attempts=1, backoff_seconds=2.0, where='S3', bucket='',
                 passthrough=(), warn=None, sleep=time.sleep):
    """Call ``func()`` up to ``attempts`` times with exponential backoff (capped at 60 s).

    Exceptions in ``passthrough`` are re-raised at once; permanent S3 errors are not
    retried. The final failure is an ``S3Error`` saying what failed, after how many
    attempts, and why. ``warn(message)`` hears about each retry.
    """
    attempts = max(1, attempts)
    delay = backoff_seconds
    for attempt in range(1, attempts + 1):
        try:
            return func()
        except passthrough:
            raise
        except Exception as exc:  # botocore and s3transfer raise many kinds
            message = describe_error(exc, where, bucket)
            if is_permanent(exc) or attempt == attempts:
                raise S3Error('%s failed after %d attempt(s): %s' % (what, attempt, message))
            if warn is not None:
                warn('%s failed (attempt %d/%d): %s; retrying in %.0fs'
                     % (what, attempt, attempts, message, delay))
            sleep(delay)
            delay = min(delay * 2, 60)
    raise AssertionError('unreachable')


def _direct(_what, func):
    return func()


# --------------------------------------------------------------------------- the sets in S3

def sets_root(prefix):
    """The key prefix under which the sets are, ``''`` or ending in ``/``."""
    root = backup_set.s3_set_prefix(prefix, '').rstrip('/')
    return root + '/' if root else ''


def list_set_ids(client, bucket, prefix, call=_direct):
    """Sorted ids of the sets under ``prefix`` (one "directory" per set id; others ignored).

    ``call(what, func)`` runs each S3 request (the program passes its retry loop).
    """
    root = sets_root(prefix)

    def pages():
        found = []
        paginator = client.get_paginator('list_objects_v2')
        for page in paginator.paginate(Bucket=bucket, Prefix=root, Delimiter='/'):
            found.extend(common['Prefix'] for common in page.get('CommonPrefixes', []))
        return found

    ids = (common[len(root):].strip('/') for common in call('listing s3://%s/%s' % (bucket, root),
                                                            pages))
    return sorted(set_id for set_id in ids if backup_set.parse_set_id(set_id) is not None)


def _get_or_none(client, bucket, key):
    """The object's bytes, or None when the key does not exist (other errors are raised)."""
    try:
        return client.get_object(Bucket=bucket, Key=key)['Body'].read()
    except Exception as exc:
        if error_code(exc) in MISSING_KEY_CODES:
            return None
        raise


def read_manifest_and_digest(client, bucket, prefix, set_id, call=_direct):
    """The set's manifest, checked, and the SHA-256 of its bytes: (manifest or None, problems,
    digest or None). A missing one is a problem; other S3 errors are raised."""
    key = backup_set.s3_key(prefix, set_id, backup_set.MANIFEST_NAME)
    where = 's3://%s/%s' % (bucket, key)
    raw = call('reading %s' % where, lambda: _get_or_none(client, bucket, key))
    if raw is None:
        return None, [backup_set.missing_manifest_problem(where)], None
    manifest, problems = backup_set.parse_manifest(raw, where)
    return manifest, problems, backup_set.sha256_bytes(raw)


def read_manifest(client, bucket, prefix, set_id, call=_direct):
    """The set's manifest, checked: (manifest or None, problems). A missing one is a problem;
    other S3 errors are raised."""
    manifest, problems, _digest = read_manifest_and_digest(client, bucket, prefix, set_id, call)
    return manifest, problems


def read_verdict(client, bucket, prefix, set_id, manifest_sha256, call=_direct):
    """The verdict recorded beside the set by a later verification: (verdict or None, problem
    or None). No verdict is no problem; one that does not fit the manifest is set aside."""
    key = backup_set.s3_key(prefix, set_id, backup_set.VERDICT_NAME)
    raw = call('reading s3://%s/%s' % (bucket, key), lambda: _get_or_none(client, bucket, key))
    if raw is None:
        return None, None
    return backup_set.parse_verdict(raw, set_id, manifest_sha256)


def write_verdict(client, bucket, prefix, verdict, call=_direct):
    """Store a verdict (``backup_set.verdict_document()``) beside its set; returns its key."""
    key = backup_set.s3_key(prefix, verdict['set_id'], backup_set.VERDICT_NAME)
    body = (json.dumps(verdict, indent=2, sort_keys=True) + '\n').encode('utf-8')
    call('writing s3://%s/%s' % (bucket, key),
         lambda: client.put_object(Bucket=bucket, Key=key, Body=body,
                                   ContentType='application/json', ChecksumAlgorithm='SHA256'))
    return key


def set_entries(client, bucket, prefix, call=_direct, unreadable_is_incomplete=False):
    """A ``backup_set.set_entry()`` for every set in S3, sorted by id, with the verdict of a
    later verification where one was recorded for exactly that manifest.

    With ``unreadable_is_incomplete`` a manifest that cannot be read (an S3 error other than
    a missing key) makes its set incomplete instead of failing the listing; a verdict that
    cannot be read leaves the set as its manifest says, with the reason among its problems.
    """
    entries = []
    for set_id in list_set_ids(client, bucket, prefix, call):
        verdict = None
        try:
            manifest, problems, digest = read_manifest_and_digest(client, bucket, prefix, set_id, call)
        except Exception as exc:
            if not unreadable_is_incomplete:
                raise
            manifest, problems, digest = None, ['no manifest: %s' % exc], None
        if manifest is not None:
            try:
                verdict, problem = read_verdict(client, bucket, prefix, set_id, digest, call)
            except Exception as exc:
                if not unreadable_is_incomplete:
                    raise
                verdict, problem = None, 'verdict not read: %s' % exc
            if problem:
                problems = list(problems) + [problem]
        entries.append(backup_set.set_entry(set_id, manifest, problems, verdict))
    return entries


# --- the S3 location shape ---------------------------------------------------------------------
# Every role reads the off-site location from one dict, the ``forexai_s3`` variable, whose keys
# are the options of s3_argument_spec() (documented in the forexai.dr.s3 doc fragment). The
# forexai.dr.s3_location action checks it and hands back the normalised location; these pure
# functions are what it (and the unit tests) use.

LOCATION_VARIABLE = 'forexai_s3'
AWS_ENDPOINT = 's3.%s.amazonaws.com'


def location_defaults():
    """Each key of the shape with its default ('' where the spec has none)."""
    return dict((name, option.get('default') or '') for name, option in s3_argument_spec().items())


def missing_keys(location, required=('bucket',)):
    """Keys of ``required`` (plus the other half of a key pair) that are unset or empty."""
    missing = [key for key in required if not location.get(key)]
    if bool(location.get('access_key')) != bool(location.get('secret_key')):
        missing.append('secret_key' if location.get('access_key') else 'access_key')
    return missing


def split_endpoint(endpoint_url, region):
    """(scheme, host, port) of an endpoint URL; AWS's regional endpoint when it is empty."""
    if not endpoint_url:
        return 'https', AWS_ENDPOINT % (region or 'us-east-1'), 443
    scheme, sep, rest = endpoint_url.partition('://')
    if not sep or scheme not in ('http', 'https'):
        raise ValueError('endpoint_url must start with https:// or http://, not %r' % endpoint_url)
    hostport = rest.split('/', 1)[0]
    host, colon, port = hostport.rpartition(':') if not hostport.endswith(']') else (hostport, '', '')
    if not colon:
        host, port = hostport, ''
    if not host:
        raise ValueError('endpoint_url %r names no host' % endpoint_url)
    if port and not port.isdigit():
        raise ValueError('endpoint_url %r has a port that is not a number' % endpoint_url)
    return scheme, host, int(port) if port else (443 if scheme == 'https' else 80)


def pgbackrest_settings(location):
    """pgBackRest's repoN-s3-* values for a location (pgBackRest speaks only TLS)."""
    scheme, host, port = split_endpoint(location.get('endpoint_url'), location.get('region'))
    return {
        'tls': scheme == 'https',
        'endpoint': host,
        'port': port,
        'uri_style': 'path' if location.get('addressing_style') == 'path' else 'host',
        'ca_file': location.get('ca_bundle') or '',
    }
