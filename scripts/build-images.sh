#!/usr/bin/env bash
# Build the systemd base images used by Molecule, the lab and the benchmarks.
# No registry can be reached here, so the images are made with debootstrap
# from Debian's mirror and loaded with `docker import`. An image that already
# exists is left alone; pass --force to rebuild.
set -euo pipefail

MIRROR="${VIGIL_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PACKAGES="python3,systemd,systemd-sysv,dbus,sudo,iproute2,procps,ca-certificates,curl,gnupg"
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

build() {
  local name="$1" suite="$2" dir
  if [ "$FORCE" = 0 ] && docker image inspect "$name" >/dev/null 2>&1; then
    echo "image $name: present, skipped"
    return 0
  fi
  dir="$(mktemp -d /var/tmp/vigil-rootfs.XXXXXX)"
  trap 'rm -rf "$dir"' RETURN
  echo "image $name: debootstrap $suite (about a minute)"
  debootstrap --variant=minbase --include="$PACKAGES" "$suite" "$dir" "$MIRROR" >"$dir.log" 2>&1 || {
    tail -n 30 "$dir.log"; rm -f "$dir.log"; return 1; }
  rm -f "$dir.log"
  # A container must not reuse the build host's identity, and systemd units
  # that make no sense in a container are masked so boot settles quickly.
  : >"$dir/etc/machine-id"
  for unit in getty.target systemd-logind.service console-getty.service \
      systemd-udevd.service systemd-udev-trigger.service systemd-remount-fs.service \
      sys-kernel-config.mount sys-kernel-debug.mount dev-hugepages.mount; do
    ln -sf /dev/null "$dir/etc/systemd/system/$unit"
  done
  # Keep downloaded .debs so a shared cache volume can serve later installs.
  rm -f "$dir/etc/apt/apt.conf.d/docker-clean"
  echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' >"$dir/etc/apt/apt.conf.d/10keep-debs"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -c . | docker import \
    -c 'CMD ["/lib/systemd/systemd"]' -c 'ENV container=docker' - "$name" >/dev/null
  echo "image $name: built"
}

build vigil/debian12:latest bookworm
build vigil/debian13:latest trixie
