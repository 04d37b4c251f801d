#!/bin/sh
# Make this checkout importable as the collection vigil.observability through
# .cache/collections, which Molecule, the lab and the tests put on
# ANSIBLE_COLLECTIONS_PATH. Safe to run any number of times.
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/.cache/collections/ansible_collections/vigil"
mkdir -p "$dir"
ln -sfn ../../../.. "$dir/observability"
