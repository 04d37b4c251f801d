#!/usr/bin/env bash
# Make sure Docker and debootstrap are installed from Debian and dockerd runs.
# Also gpg: the grafana scenario signs its test APT repository on the
# controller.
# A bare machine gets them from Debian's mirror; nothing else is reachable.
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1 || ! command -v gpg >/dev/null 2>&1; then
  echo "docker: installing docker.io, debootstrap and gpg from Debian"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq docker.io debootstrap gpg >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "docker: starting dockerd"
  $SUDO bash -c 'nohup dockerd >/var/log/vigil-dockerd.log 2>&1 &'
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { echo "docker: dockerd did not start; see /var/log/vigil-dockerd.log" >&2; tail -n 20 /var/log/vigil-dockerd.log >&2; exit 1; }
fi
mkdir -p /var/cache/vigil/apt 2>/dev/null \
  || $SUDO mkdir -p /var/cache/vigil/apt
echo "docker: ready ($(docker version --format '{{.Server.Version}}'))"
