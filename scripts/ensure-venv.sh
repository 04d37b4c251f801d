#!/usr/bin/env bash
# Create .venv with the pinned toolchain; reinstall when requirements change.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=".venv/.requirements.sha256"
want="$(sha256sum requirements-dev.txt | cut -d' ' -f1)"
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "venv: installing the pinned toolchain into .venv (about a minute)"
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -r requirements-dev.txt
echo "$want" >"$stamp"
scripts/link-collection.sh
