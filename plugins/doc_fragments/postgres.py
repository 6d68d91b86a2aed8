# -*- coding: utf-8 -*-
# Copyright: (c) 2025, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection options of every forexai.dr module that talks to PostgreSQL.
    # The argument spec is postgres_argument_spec() in module_utils/postgres.py.
    DOCUMENTATION = r'''
options:
  login_host:
    description:
      - Host name or IP address of the PostgreSQL server.
      - When empty, libpq connects over the default Unix socket (or O(login_unix_socket)).
    type: str
    default: ''
  login_unix_socket:
    description:
      - Directory of the server's Unix domain socket, used when O(login_host) is empty or C(localhost).
    type: str
    default: ''
  login_port:
    description:
      - Port the server listens on.
    type: int
    default: 5432
    aliases: [ port ]
  login_user:
    description:
      - Role to connect as.
    type: str
    default: postgres
  login_password:
    description:
      - Password of O(login_user). Never logged.
      - Leave empty to use peer authentication, a C(.pgpass) file or C(PGPASSWORD).
    type: str
    default: ''
  db:
    description:
      - Database to connect to. When omitted, libpq's default (the role's name) is used.
    type: str
    aliases: [ login_db ]
  connect_timeout:
    description:
      - Seconds to wait for the connection before giving up.
    type: int
    default: 10
  ssl_mode:
    description:
      - Whether and how strictly TLS is negotiated, as libpq's C(sslmode).
      - See U(https://www.postgresql.org/docs/current/libpq-ssl.html).
    type: str
    default: prefer
    choices: [ allow, disable, prefer, require, verify-ca, verify-full ]
  ca_cert:
    description:
      - File with the certificate authorities that must have signed the server's certificate (libpq C(sslrootcert)).
    type: path
    aliases: [ ssl_rootcert ]
  connect_params:
    description:
      - Further libpq connection keywords (for example C(options) or C(sslcert)).
      - These take precedence over the options above.
    type: dict
    default: {}
notes:
  - The module runs on the target host, which needs the C(psycopg2) Python library
    (Debian package C(python3-psycopg2)) and network or socket access to the server.
  - Every module of this collection opens its connection with autocommit off and
    commits only when all of its statements succeeded.
requirements:
  - psycopg2 >= 2.8
'''
