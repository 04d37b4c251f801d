"""The README's variables reference matches the roles' argument specs."""

import os
import re
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def test_readme_variables_tables_are_generated_from_argument_specs():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "gen-role-docs.py"), "--check"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.returncode == 0, proc.stdout


ROLES = sorted(d for d in os.listdir(os.path.join(ROOT, "roles")) if not d.startswith("_"))


@pytest.mark.parametrize("role", ROLES)
def test_readme_lists_every_variable_of_every_role(role):
    readme = open(os.path.join(ROOT, "README.md")).read()
    begin, end = "<!-- BEGIN VARIABLES %s -->" % role, "<!-- END VARIABLES %s -->" % role
    assert begin in readme and end in readme, "README has no variables table for " + role
    section = readme.split(begin)[1].split(end)[0]
    listed = set(re.findall(r"^\| `(%s_[a-z0-9_]+)` \|" % role, section, re.M))
    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")) as handle:
        options = set(yaml.safe_load(handle)["argument_specs"]["main"]["options"])
    assert listed == options
