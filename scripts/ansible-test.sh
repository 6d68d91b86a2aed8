#!/usr/bin/env bash
# Runs `ansible-test <command> --venv` offline-safe: ansible-test wants the tree
# laid out as ansible_collections/forexai/dr, and it fetches a pip bootstrap
# script from the internet, which these machines cannot reach. We copy the
# collection into that layout and leave, where ansible-test looks for a cached
# bootstrap script, a small one that installs pip from a wheel downloaded from
# the package index.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=$repo/build
venv=$build/venv
pip_version=$("$venv/bin/python" - <<'PY'
import ansible_test._internal.python_requirements as r
src = open(r.__file__).read()
import re
print(re.search(r"pip='([0-9.]+)'", src).group(1))
PY
)
cache=$HOME/.ansible/test/cache
mkdir -p "$cache"
bootstrap=$cache/get_pip_${pip_version//./_}.py
if [ ! -f "$bootstrap" ] || ! grep -q 'forexai.dr stand-in' "$bootstrap"; then
  "$venv/bin/pip" download -q --no-deps -d "$cache" "pip==$pip_version" 2> >(grep -v "^WARNING: Location" >&2)
  cat >"$bootstrap" <<PY
# forexai.dr stand-in for the get-pip script ansible-test downloads: installs
# pip $pip_version from the wheel beside this file.
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
wheel = os.path.join(here, "pip-$pip_version-py3-none-any.whl")
sys.path.insert(0, wheel)
from pip._internal.cli.main import main  # noqa: E402

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--no-index", "--find-links", here] + args))
PY
fi
tree=$build/ansible-test/ansible_collections/forexai/dr
mkdir -p "$tree"
rsync -a --delete --exclude /build --exclude /.ansible --exclude /tests/output \
  --exclude __pycache__ --exclude .pytest_cache "$repo/" "$tree/"
cd "$tree"
exec "$venv/bin/ansible-test" "$@" --venv --python 3.11 --color no
