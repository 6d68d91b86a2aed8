# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""S3 options shared by the modules that read backup sets, and the client they build.

The options are documented once in the ``forexai.dr.s3`` doc fragment.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

try:
    import boto3
    from botocore.config import Config as BotoConfig
    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR = None
except ImportError:
    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR = traceback.format_exc()


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
    if params['access_key']:
        kwargs['aws_access_key_id'] = params['access_key']
        kwargs['aws_secret_access_key'] = params['secret_key']
    return kwargs


def s3_client(params):
    """An S3 client with retries and the chosen addressing style."""
    return boto3.session.Session().client(
        's3',
        config=BotoConfig(s3={'addressing_style': params['addressing_style']},
                          retries={'max_attempts': 5, 'mode': 'standard'}),
        **client_kwargs(params))
