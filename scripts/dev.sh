#!/usr/bin/env bash
# One entry point for people and CI. Every command installs what it needs on a
# fresh Debian 12 machine (as root) and is quick when run again.
#
#   scripts/dev.sh demo        a fresh lab, then Scenario 1 (server failure) for real: RTO and RPO
#   scripts/dev.sh demo-deletion  the lab, then Scenario 4 (accidental deletion)
#   scripts/dev.sh test        lint, sanity, unit tests and every Molecule scenario
#   scripts/dev.sh lab-up      bring the lab up (idempotent)
#   scripts/dev.sh lab-down    remove the lab's containers and network
#   scripts/dev.sh lab-status  what runs in the lab
#   scripts/dev.sh setup       only install: apt packages, venv, images
#   scripts/dev.sh lint|build|sanity|units|molecule [SCENARIO...]   one stage of `test`
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=$repo/build
venv=$build/venv
export CONTAINERS_CONF=$repo/images/containers.conf
export ANSIBLE_COLLECTIONS_PATH=$build/collections
export ANSIBLE_HOME=$build/ansible-home
export PATH=$venv/bin:$PATH
mkdir -p "$build"

# netavark + aardvark-dns: container networks whose hosts resolve each other by name.
# age: the control node makes the test key pair and decrypts configuration archives.
# openssh-client: Ansible's SSH connection to the lab hosts (lab_connection: ssh) and tests.
APT_PACKAGES=(podman runc netavark aardvark-dns iptables debootstrap debian-archive-keyring
  python3-venv git curl ca-certificates rsync age openssh-client)

say() { printf '\n==> %s\n' "$*"; }
now() { date +%s; }

setup_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

setup_venv() {
  local want have=""
  want=$(sha256sum "$repo/requirements.txt" | cut -c1-16)
  [ -f "$venv/.requirements" ] && have=$(cat "$venv/.requirements")
  if [ "$want" != "$have" ]; then
    say "installing the Python tools into build/venv (about a minute)"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$repo/requirements.txt" 2> >(grep -v "^WARNING: Location" >&2)
    echo "$want" >"$venv/.requirements"
  fi
  # The repository is the collection; Ansible finds it through this path.
  mkdir -p "$build/collections/ansible_collections/forexai"
  ln -sfn "$repo" "$build/collections/ansible_collections/forexai/dr"
}

setup_images() {
  say "container host images"
  FOREXAI_VENV=$venv bash "$repo/scripts/build-images.sh"
  set -a; . "$build/images.env"; set +a
}

setup() { setup_apt; setup_venv; setup_images; }

# --- test stages -------------------------------------------------------------

stage_lint() {
  say "ansible-lint (profile production)"
  (cd "$repo" && ansible-lint -q)
}

stage_build() {
  say "ansible-galaxy collection build (and what the tarball must leave out)"
  rm -rf "$build/dist"
  (cd "$repo" && ansible-galaxy collection build --output-path "$build/dist" >/dev/null)
  local tarball leaked
  tarball=$(ls "$build"/dist/forexai-dr-*.tar.gz)
  leaked=$(tar tzf "$tarball" | grep -E '^(tests|molecule|inventories|images|scripts|build|\.ansible|\.git|tests/output)(/|$)' || true)
  if [ -n "$leaked" ]; then echo "the collection tarball contains what it must not:"; echo "$leaked" | head; return 1; fi
  echo "$(basename "$tarball"): $(tar tzf "$tarball" | wc -l) entries, none from tests/, molecule/, inventories/, images/, scripts/, build/"
}

stage_units() {
  # ansible-test runs tests/unit in its own venv with tests/unit/requirements.txt.
  # Quicker while developing: PYTHONPATH=build/collections build/venv/bin/python -m pytest
  say "unit tests (ansible-test units)"
  bash "$repo/scripts/ansible-test.sh" units --requirements
}

stage_sanity() {
  say "ansible-test sanity"
  bash "$repo/scripts/ansible-test.sh" sanity
}

# Scenarios run in $MOLECULE_LANES parallel lanes (default 2), longest first:
# much of a scenario's time is spent waiting on hosts, so two lanes finish
# sooner on two cores than one. Each scenario has its own containers and
# network, and its own log in build/logs/.
MOLECULE_ORDER=(pitr backup server_failure restore breach corruption default)

# What a failed scenario's log says about the failure: the last task that
# failed (a rescued failure comes earlier; the one that stopped the run is the
# last), with its task header and message, then the log's end. A CI log is
# gone once the run ends, so this is what is left to read.
molecule_failure() {
  local log=$1 n
  n=$(grep -n -E 'fatal: \[|failed: \[|FAILED! =>|ERROR! ' "$log" | tail -n 1 | cut -d: -f1 || true)
  if [ -n "$n" ]; then
    echo "--- the last failed task (log lines $(( n > 40 ? n - 40 : 1 ))-$(( n + 60 ))):"
    sed -n "$(( n > 40 ? n - 40 : 1 )),$(( n + 60 ))p" "$log" | cut -c1-400
  fi
  echo "--- the log's last lines:"
  tail -n 40 "$log"
}

molecule_one() {
  local s=$1 t0 log=$build/logs/molecule-$1.log
  t0=$(now)
  if (cd "$repo" && molecule test -s "$s") >"$log" 2>&1; then
    echo "molecule $s: passed in $(( $(now) - t0 )) s" | tee -a "$build/molecule-summary.txt"
  else
    echo "molecule $s: FAILED after $(( $(now) - t0 )) s (log: $log)" | tee -a "$build/molecule-summary.txt"
    molecule_failure "$log" | sed 's/^/    /'
    return 1
  fi
}

stage_molecule() {
  local scenarios=() s lanes=${MOLECULE_LANES:-2}
  if [ $# -gt 0 ]; then scenarios=("$@")
  else
    for s in "${MOLECULE_ORDER[@]}"; do [ -f "$repo/molecule/$s/molecule.yml" ] && scenarios+=("$s"); done
    for d in "$repo"/molecule/*/molecule.yml; do
      s=$(basename "$(dirname "$d")")
      [[ " ${scenarios[*]} " == *" $s "* ]] || scenarios+=("$s")
    done
  fi
  mkdir -p "$build/logs"
  say "molecule: ${scenarios[*]} (${lanes} at a time; logs in build/logs/)"
  export -f molecule_one molecule_failure now
  export repo build
  printf '%s\n' "${scenarios[@]}" | xargs -P "$lanes" -I{} bash -c 'molecule_one "$1"' _ {}
}

cmd_test() {
  local t0 results=() passed=0 failed=0 stage
  t0=$(now)
  setup
  : >"$build/molecule-summary.txt"
  for stage in lint build sanity units molecule; do
    if "stage_$stage"; then results+=("$stage: passed"); passed=$((passed + 1))
    else results+=("$stage: FAILED"); failed=$((failed + 1)); fi
  done
  say "summary ($(( $(now) - t0 )) s)"
  printf '  %s\n' "${results[@]}"
  cat "$build/molecule-summary.txt"
  echo "stages: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

# --- the lab -----------------------------------------------------------------

lab_play() {
  (cd "$repo" && ansible-playbook -i inventories/lab "$@")
}

cmd_lab_up() {
  setup
  say "bringing the lab up"
  lab_play tests/lab/up.yml \
    -e "lab_image_db=$FOREXAI_IMAGE_DB lab_image_app=$FOREXAI_IMAGE_APP lab_image_objectstore=$FOREXAI_IMAGE_OBJECTSTORE"
}

cmd_lab_down() {
  setup_apt; setup_venv
  lab_play tests/lab/down.yml
}

cmd_lab_status() {
  setup_apt; setup_venv
  lab_play tests/lab/status.yml
}

cmd_demo() {
  # A drill starts from a fresh lab: the previous one left db1 removed and db2 the primary.
  local t0; t0=$(now)
  setup
  say "removing any earlier lab (a drill starts fresh)"
  lab_play tests/lab/down.yml
  cmd_lab_up
  say "running the demo against the lab: Scenario 1, complete server failure"
  lab_play tests/lab/server_failure_drill.yml -e "lab_image_dbbare=$FOREXAI_IMAGE_DBBARE"
  say "demo finished in $(( $(now) - t0 )) s (lab left running: scripts/dev.sh lab-down removes it)"
}

cmd_demo_deletion() {
  local t0; t0=$(now)
  cmd_lab_up
  say "running the second demo against the lab: Scenario 4, accidental deletion"
  lab_play tests/lab/demo.yml
  say "demo finished in $(( $(now) - t0 )) s (lab left running: scripts/dev.sh lab-down removes it)"
}

case "${1:-}" in
  setup) setup ;;
  test) cmd_test ;;
  demo) cmd_demo ;;
  demo-deletion) cmd_demo_deletion ;;
  lab-up) cmd_lab_up ;;
  lab-down) cmd_lab_down ;;
  lab-status) cmd_lab_status ;;
  lint|build|units|sanity) setup_apt; setup_venv; "stage_$1" ;;
  molecule) shift; setup; : >"$build/molecule-summary.txt"; stage_molecule "$@" ;;
  *) sed -n '2,13p' "$0"; exit 2 ;;
esac
