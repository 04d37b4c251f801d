#!/usr/bin/env bash
# Put promtool and amtool into .cache/tools/bin without installing the Debian
# packages (no services, no users): download the .deb from Debian's mirror,
# unpack it in a temporary directory and copy the one binary. Idempotent and
# silent when the binaries are already there.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/.cache/tools/bin"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

# binary name -> Debian package that ships it in /usr/bin
declare -A PACKAGE=([promtool]=prometheus [amtool]=prometheus-alertmanager)

missing=()
for binary in promtool amtool; do
  [ -x "$BIN/$binary" ] || missing+=("$binary")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# apt-get download run as root fetches as the _apt user, which must be able to write here.
if [ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1; then
  chown _apt "$tmp"
fi
mkdir -p "$BIN"

download() {
  # The first attempt is quiet (stale lists are expected); the retry shows apt's error.
  if [ "$2" = quiet ]; then
    (cd "$tmp" && apt-get download -qq "$1" >/dev/null 2>&1)
  else
    (cd "$tmp" && apt-get download -qq "$1" >/dev/null)
  fi
}

updated=false
for binary in "${missing[@]}"; do
  package="${PACKAGE[$binary]}"
  echo "tools: fetching $binary from Debian package $package"
  if ! download "$package" quiet; then
    if [ "$updated" = false ]; then
      $SUDO apt-get update -qq
      updated=true
    fi
    download "$package" loud || { echo "tools: apt-get download $package failed" >&2; exit 1; }
  fi
  deb="$(find "$tmp" -maxdepth 1 -name "${package}_*.deb" | head -n 1)"
  [ -n "$deb" ] || { echo "tools: no .deb for $package in $tmp" >&2; exit 1; }
  mkdir -p "$tmp/$package"
  dpkg-deb -x "$deb" "$tmp/$package"
  [ -x "$tmp/$package/usr/bin/$binary" ] || { echo "tools: $package has no usr/bin/$binary" >&2; exit 1; }
  # Copy to a temporary name then rename, so an interrupted run never leaves a half-written binary.
  install -m 0755 "$tmp/$package/usr/bin/$binary" "$BIN/.$binary.new"
  mv -f "$BIN/.$binary.new" "$BIN/$binary"
  echo "tools: $("$BIN/$binary" --version 2>&1 | head -n 1)"
done
