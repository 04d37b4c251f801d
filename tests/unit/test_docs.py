"""The README's variables reference matches the roles' argument specs."""

import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def test_readme_variables_tables_are_generated_from_argument_specs():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "gen-role-docs.py"), "--check"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.returncode == 0, proc.stdout


def test_readme_lists_every_node_exporter_variable():
    readme = open(os.path.join(ROOT, "README.md")).read()
    section = readme.split("<!-- BEGIN VARIABLES node_exporter -->")[1].split("<!-- END VARIABLES node_exporter -->")[0]
    listed = set(re.findall(r"^\| `(node_exporter_[a-z0-9_]+)` \|", section, re.M))
    with open(os.path.join(ROOT, "roles", "node_exporter", "meta", "argument_specs.yml")) as handle:
        options = set(yaml.safe_load(handle)["argument_specs"]["main"]["options"])
    assert listed == options
