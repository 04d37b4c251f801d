import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
