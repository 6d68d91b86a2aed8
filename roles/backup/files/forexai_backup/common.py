# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every part of forexai-backup shares: names, exit codes, the error, small helpers."""

import datetime
import logging
import socket

PROGRAM = 'forexai-backup'
VERSION = '1.0.0'
DEFAULT_CONFIG = '/etc/forexai/backup.conf'
MIB = 1024 * 1024

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_DATABASE = 4
EXIT_DUMP_INVALID = 5
EXIT_VERIFY = 6
EXIT_ARCHIVE = 7
EXIT_UPLOAD = 8
EXIT_STORAGE = 9
EXIT_PRUNE = 10
EXIT_INTERRUPTED = 11

EXIT_CODES = (
    (EXIT_OK, 'success: the set is complete (and verified / uploaded when asked)'),
    (EXIT_INTERNAL, 'unexpected internal error (a bug: see the log)'),
    (EXIT_USAGE, 'bad command line, configuration or missing dependency'),
    (EXIT_LOCKED, 'another forexai-backup run holds the lock; nothing done'),
    (EXIT_DATABASE, 'database unreachable, missing, or pg_dump failed'),
    (EXIT_DUMP_INVALID, 'pg_dump exited 0 but the dump is too small, truncated or unreadable'),
    (EXIT_VERIFY, 'the test restore failed or its row counts differ from the manifest'),
    (EXIT_ARCHIVE, 'archiving the files or encrypting the configuration failed'),
    (EXIT_UPLOAD, 'S3 unreachable, upload failed or uploaded copy differs (local set kept)'),
    (EXIT_STORAGE, 'local storage: not enough free space, disk full, or permissions'),
    (EXIT_PRUNE, 'the set is complete but pruning old sets failed'),
    (EXIT_INTERRUPTED, 'interrupted by a signal; the set is incomplete'),
)

LOG = logging.getLogger(PROGRAM)


class BackupError(Exception):
    """A failure with the exit code it maps to."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class Interrupted(BaseException):
    pass


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(moment):
    """UTC in whole seconds, always the same shape (``2026-12-03T17:48:46Z``): the manifest's times
    compare as strings, and a time with a fraction sorts before the same second without one."""
    return moment.astimezone(datetime.timezone.utc).replace(microsecond=0).isoformat().replace('+00:00', 'Z')


def host_name():
    name = socket.getfqdn()
    if name.startswith('localhost'):
        name = socket.gethostname()
    return name
