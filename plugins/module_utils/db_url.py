# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform's database URL (``postgresql[+driver]://user:password@host:port/db?query``),
changed one part at a time.

Only the part asked for changes: user, password (still percent-encoded as written), database
name and query parameters (``sslmode``, ``host=/run/postgresql``, ...) are kept byte for byte,
which string surgery such as ``${url%/*}/new`` does not do.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from urllib.parse import quote, urlsplit

_SCHEME = re.compile(r'^postgres(ql)?(\+[A-Za-z0-9_]+)?$', re.IGNORECASE)
_HOST = re.compile(r'^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)$')


class UrlError(ValueError):
    pass


def _split(url):
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise UrlError('not a database URL: %s' % exc)
    if not _SCHEME.match(parts.scheme or ''):
        raise UrlError('not a PostgreSQL URL (scheme %r)' % parts.scheme)
    userinfo, at, hostport = parts.netloc.rpartition('@')
    return parts, (userinfo + at), hostport


def endpoint(url):
    """(host, port) of a URL; port is None when the URL names none, host '' for a socket URL."""
    parts = _split(url)[0]
    try:
        port = parts.port
    except ValueError:
        raise UrlError('the port of the database URL is not a number')
    host = parts.hostname or ''
    return ('[%s]' % host if ':' in host else host), port


def env_assignment(text, variable):
    """(index of the line, prefix, quote, value) of the one ``VARIABLE=value`` line in an
    environment file (``export`` and quotes allowed); UrlError when it is missing or repeated."""
    pattern = re.compile(r'^(\s*(?:export\s+)?%s=)(["\']?)(.*?)\2\s*$' % re.escape(variable))
    found = [(i, m) for i, m in enumerate(pattern.match(line) for line in text.splitlines()) if m]
    if not found:
        raise UrlError('%s is not set' % variable)
    if len(found) > 1:
        raise UrlError('%s is set %d times' % (variable, len(found)))
    index, match = found[0]
    return index, match.group(1), match.group(2), match.group(3)


def with_env_value(text, variable, value):
    """The environment file's text with ``variable`` set to ``value`` (quoting and layout kept)."""
    index, prefix, quote_char, _old = env_assignment(text, variable)
    lines = text.splitlines(True)
    ending = lines[index][len(lines[index].rstrip('\r\n')):]
    lines[index] = prefix + quote_char + value + quote_char + ending
    return ''.join(lines)


def _join(scheme, netloc, path, query, fragment):
    # urlunsplit drops the '//' of an empty host ('postgresql:///db' -> 'postgresql:/db'),
    # which libpq does not read as a URL: put the parts together as written.
    return '%s://%s%s%s%s' % (scheme, netloc, path, '?' + query if query else '',
                              '#' + fragment if fragment else '')


def with_endpoint(url, host=None, port=None, database=None):
    """The URL with its host, port and/or database name replaced; everything else as it was."""
    parts, userinfo, hostport = _split(url)
    old_host, old_port = endpoint(url)
    if host is not None:
        if ':' in host and not host.startswith('['):
            host = '[%s]' % host  # a bare IPv6 address
        if not _HOST.match(host):
            raise UrlError('%r is not a host name or address' % host)
    new_host = old_host if host is None else host
    new_port = old_port if port is None else int(port)
    if new_port is not None and not 0 < new_port < 65536:
        raise UrlError('port %s is out of range' % new_port)
    netloc = userinfo + new_host + ('' if new_port is None else ':%d' % new_port)
    path = parts.path if database is None else '/' + quote(database, safe='')
    if host is None and port is None:
        netloc = userinfo + hostport  # keep the host part exactly as written
    return _join(parts.scheme, netloc, path, parts.query, parts.fragment)


def with_password(url, password):
    """The URL with the password of its user replaced (percent-encoded); everything else as it was."""
    parts, userinfo, hostport = _split(url)
    if not userinfo:
        raise UrlError('the database URL names no user whose password could be set')
    user = userinfo[:-1].partition(':')[0]
    if not user:
        raise UrlError('the database URL names no user whose password could be set')
    netloc = '%s:%s@%s' % (user, quote(str(password), safe=''), hostport)
    return _join(parts.scheme, netloc, parts.path, parts.query, parts.fragment)


def masked(url):
    """The URL with its password replaced by ``***``, for logs and reports."""
    parts, userinfo, hostport = _split(url)
    if ':' in userinfo:
        userinfo = userinfo.split(':', 1)[0] + ':***@'
    return _join(parts.scheme, userinfo + hostport, parts.path, parts.query, parts.fragment)
