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
# An image records the recipe it was built from (this script's digest); an
# image from another recipe is rebuilt, so a change here reaches every machine.
RECIPE="$(sha256sum "$0" | cut -c1-16)"

build() {
  local name="$1" suite="$2" dir
  if [ "$FORCE" = 0 ] && [ "$(docker image inspect -f '{{ index .Config.Labels "vigil.recipe" }}' "$name" 2>/dev/null)" = "$RECIPE" ]; then
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
  # No timer runs by itself in a test host: apt-daily, logrotate, dpkg-db-backup
  # and the like write under /var/lib at any moment, which a check-mode
  # snapshot would report as a change the role made (apt's daily_lock did).
  find "$dir/lib/systemd/system" "$dir/usr/lib/systemd/system" -maxdepth 1 -name '*.timer' -printf '%f\n' 2>/dev/null \
    | sort -u | while read -r timer; do ln -sf /dev/null "$dir/etc/systemd/system/$timer"; done
  # Keep downloaded .debs so a shared cache volume can serve later installs.
  rm -f "$dir/etc/apt/apt.conf.d/docker-clean"
  echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' >"$dir/etc/apt/apt.conf.d/10keep-debs"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -c . | docker import \
    -c 'CMD ["/lib/systemd/systemd"]' -c 'ENV container=docker' -c "LABEL vigil.recipe=$RECIPE" - "$name" >/dev/null
  echo "image $name: built"
}

build vigil/debian12:latest bookworm
build vigil/debian13:latest trixie
