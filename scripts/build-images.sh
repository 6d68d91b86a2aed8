#!/usr/bin/env bash
# Build the lab's container host images, each tagged by a hash of its inputs.
#
#   forexai-base         debootstrap'd Debian 12 with systemd as PID 1 and sshd
#                        (host keys made at each container's first boot)
#   forexai-db           + PostgreSQL 15 (cluster 15/main with data checksums),
#                        pgBackRest, psycopg2, boto3, age
#   forexai-dbbare       + only what Ansible needs: a database host without
#                        PostgreSQL, for rebuilds that install it themselves
#   forexai-app          + Alembic, SQLAlchemy, psycopg2 (the stand-in platform)
#   forexai-objectstore  + moto server (from a wheelhouse made here), stunnel,
#                        aiosmtpd (the lab's mail sink)
#
# An image whose tag already exists is not built again, so a second run takes
# seconds. Prints "NAME=localhost/forexai-NAME:HASH" lines to $IMAGES_ENV
# (default build/images.env) for Molecule and the lab to read.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${FOREXAI_BUILD_DIR:-$repo/build}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$repo/images/containers.conf}
images_env=${IMAGES_ENV:-$build/images.env}
venv=${FOREXAI_VENV:-$build/venv}
mkdir -p "$build"

log() { printf '[images] %s\n' "$*" >&2; }

# Hash of every file under the given paths, plus any extra strings.
inputs_hash() {
  { for p in "$@"; do
      if [ -e "$p" ]; then
        find "$p" -type f -print0 | sort -z | xargs -0 sha256sum | sed "s#$repo/##"
      else
        printf '%s\n' "$p"
      fi
    done; } | sha256sum | cut -c1-12
}

image_exists() { podman image exists "$1"; }

build_base() {
  local tag=$1 root
  root=$(mktemp -d "$build/rootfs.XXXXXX")
  log "debootstrap Debian 12 into $root (about a minute)"
  debootstrap --variant=minbase \
    --include="$(paste -sd, "$repo/images/base/packages.txt")" \
    bookworm "$root" http://deb.debian.org/debian >"$build/debootstrap.log" 2>&1 || {
      tail -n 30 "$build/debootstrap.log" >&2; rm -rf "$root"; exit 1; }
  # Trim what a container host never needs; keep systemd quiet about them.
  chroot "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/*
  # Files laid over the root file system (images/base/rootfs); no SSH host
  # keys in the image: each container host makes its own when it boots.
  cp -a "$repo/images/base/rootfs/." "$root/"
  rm -f "$root"/etc/ssh/ssh_host_*
  for unit in systemd-timesyncd getty@tty1 systemd-logind; do
    chroot "$root" systemctl mask "$unit" >/dev/null 2>&1 || true
  done
  tar -C "$root" -c . | podman import \
    --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL SIGRTMIN+3' - "$tag" >/dev/null
  rm -rf "$root"
}

# moto is not packaged in Debian 12; the object store installs it from wheels
# downloaded here, so the image build itself needs no package index.
objectstore_wheels() {
  local dir=$repo/images/objectstore/wheels.txt out=$build/wheels
  if [ ! -f "$out/.complete" ] || ! cmp -s "$dir" "$out/.complete"; then
    log "downloading moto[server] wheels for the object store"
    rm -rf "$out"; mkdir -p "$out"
    "$venv/bin/pip" download -q -d "$out" --only-binary=:all: \
      --python-version 3.11 --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 \
      --platform manylinux_2_17_x86_64 --platform any -r "$dir"
    cp "$dir" "$out/.complete"
  fi
}

build_derived() {
  local name=$1 base=$2 tag=$3 ctx
  ctx=$(mktemp -d "$build/ctx.XXXXXX")
  cp -a "$repo/images/$name/." "$ctx/"
  if [ "$name" = objectstore ]; then cp -a "$build/wheels" "$ctx/wheels"; fi
  log "building $tag"
  podman build -q --build-arg "BASE=$base" -t "$tag" "$ctx" >"$build/build-$name.log" 2>&1 || {
    tail -n 40 "$build/build-$name.log" >&2; rm -rf "$ctx"; exit 1; }
  rm -rf "$ctx"
}

base_tag="localhost/forexai-base:$(inputs_hash "$repo/images/base" "$repo/scripts/build-images.sh")"
if image_exists "$base_tag"; then log "up to date: $base_tag"; else build_base "$base_tag"; fi

: >"$images_env.tmp"
echo "FOREXAI_IMAGE_BASE=$base_tag" >>"$images_env.tmp"
for name in db dbbare app objectstore; do
  [ "$name" = objectstore ] && objectstore_wheels
  tag="localhost/forexai-$name:$(inputs_hash "$repo/images/$name" "$base_tag")"
  if image_exists "$tag"; then log "up to date: $tag"; else build_derived "$name" "$base_tag" "$tag"; fi
  echo "FOREXAI_IMAGE_$(echo "$name" | tr a-z A-Z)=$tag" >>"$images_env.tmp"
done
mv "$images_env.tmp" "$images_env"
cat "$images_env"
