"""What the test layers share: the checkout's root and how to run a tool.

Imported, like every other module of the collection, by its collection name:
`from ansible_collections.vigil.observability.tests.helpers import ROOT, run, tool`
(tests/conftest.py puts .cache/collections on sys.path).
"""

import os
import shutil
import subprocess

import pytest

# realpath: imported by collection name, this file is reached through the
# .cache/collections/ansible_collections/vigil/observability link.
ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def run(cmd, timeout=600, env=None, cwd=ROOT):
    """Run a command, returning (rc, combined output)."""
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)
    return proc.returncode, proc.stdout


def tool(name):
    path = shutil.which(name)
    if not path:
        pytest.fail("%s is not installed; run `make venv`" % name)
    return path
