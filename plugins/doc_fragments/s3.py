# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Where backup sets live in S3 and how to reach it; shared by the modules
    # that read sets (plugins/module_utils/s3.py has the matching spec).
    DOCUMENTATION = r'''
options:
  bucket:
    description:
      - S3 bucket holding the sets. Required when sets are read from S3.
    type: str
  prefix:
    description:
      - Key prefix of the sets in O(bucket); a set's files are under C(<prefix>/<set id>/).
    type: str
    default: ''
  endpoint_url:
    description:
      - URL of an S3-compatible endpoint. AWS S3 when omitted.
    type: str
  region:
    description:
      - S3 region.
    type: str
    default: us-east-1
  ca_bundle:
    description:
      - CA certificate bundle to check the S3 endpoint's TLS certificate with.
    type: path
  addressing_style:
    description:
      - S3 addressing style; V(path) suits most S3-compatible stores.
    type: str
    choices: [ auto, path, virtual ]
    default: auto
  access_key:
    description:
      - S3 access key. When omitted, boto3's usual sources (environment, shared credentials
        file, instance profile) are used.
    type: str
    aliases: [ aws_access_key_id ]
  secret_key:
    description:
      - S3 secret key, with O(access_key). Never logged.
    type: str
    aliases: [ aws_secret_access_key ]
requirements:
  - boto3 (where S3 is read)
'''
