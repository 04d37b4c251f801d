#!/bin/sh
# Build this checkout with `ansible-galaxy collection build` and install the
# tarball into DIR (an empty collections path), as a user installs it from
# Galaxy. The node_exporter Molecule scenario runs its role from there, so
# the scenario also proves that the built collection works (what the tarball
# holds is checked by tests/integration/test_galaxy_install.py).
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${1:?usage: install-built-collection.sh DIR}"
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
ansible-galaxy collection build --output-path "$build" "$root" >/dev/null
rm -rf "$dest"
mkdir -p "$dest"
# Only the empty path is configured, so the checkout's development link
# (.cache/collections) cannot satisfy the install.
printf '[defaults]\n' > "$build/ansible.cfg"
ANSIBLE_CONFIG="$build/ansible.cfg" ANSIBLE_COLLECTIONS_PATH="$dest" \
  ansible-galaxy collection install --offline -n -p "$dest" "$build"/vigil-observability-*.tar.gz >/dev/null
test -f "$dest/ansible_collections/vigil/observability/MANIFEST.json"
echo "vigil.observability built and installed into $dest"
