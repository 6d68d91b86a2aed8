# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""forexai-backup: verified, off-site backups of the Forex AI database, files and configuration.

Deployed by the forexai.dr.backup role to /usr/local/lib/forexai-backup/forexai_backup/ and
run through the /usr/local/sbin/forexai-backup wrapper, on the database host, as root. Needs
python3, python3-psycopg2 and (for --upload and S3 pruning) python3-boto3, plus the
PostgreSQL client programs and `age`.

The parts, each small and unit-tested on its own:

* ``common``: exit codes, the error they travel in, time and host helpers;
* ``config``: the JSON configuration (/etc/forexai/backup.conf), its defaults and checks;
* ``database``: the PostgreSQL environment, the child process that works as the database
  OS user, the dump in one snapshot with its row counts, the dump checks, the test restore;
* ``run``: one backup set (``Run``): its directory, archives, checksums and manifest;
* ``storage``: the sets locally and in S3 (upload with integrity checks, listing, deletion);
* ``pruning``: the retention decision applied locally and in S3;
* ``monitoring``: the Prometheus textfile and the failure hook;
* ``cli``: the command line, the lock and the exit code.

The logic the Ansible modules share lives in the collection's plugins/module_utils, which
the role deploys beside this package (/usr/local/lib/forexai-backup/*.py): ``backup_set``
(naming, manifests, choosing a set), ``retention`` (what to keep), ``s3`` (the client, the
retries, listing sets) and ``verification`` (the test restore).
"""
