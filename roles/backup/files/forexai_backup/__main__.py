# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Forex AI platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Entry point: ``python3 /usr/local/lib/forexai-backup/forexai_backup/__main__.py ARGS``.

The library directory (the parent of this package, or FOREXAI_BACKUP_LIB) holds the package
and the collection's module_utils the role deploys beside it.
"""

import os
import sys

PROGRAM = 'forexai-backup'


def _library_path():
    here = os.path.dirname(os.path.abspath(__file__))
    # Run as a script, Python put this package's own directory first: its modules are not
    # top-level modules.
    if sys.path and os.path.abspath(sys.path[0] or os.curdir) == here:
        sys.path.pop(0)
    return os.environ.get('FOREXAI_BACKUP_LIB') or os.path.dirname(here)


def entry():
    sys.path.insert(0, _library_path())
    try:
        from forexai_backup import cli
    except ImportError as exc:  # deployment error
        sys.stderr.write('%s: cannot import its library (%s); set FOREXAI_BACKUP_LIB or '
                         'reinstall with the forexai.dr.backup role\n' % (PROGRAM, exc))
        return 2
    return cli.main()


if __name__ == '__main__':
    sys.exit(entry())
