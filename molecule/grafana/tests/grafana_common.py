"""What the grafana scenario's tests share."""

import json
import os
import subprocess

HOST = "grafana-d13"
SECRETS = ["S3ntinel-9e41-grafana-admin", "S3ntinel-9e41-loki", "S3ntinel-9e41-prom", "S3ntinel-9e41-am",
           "S3ntinel-9e41-ops"]
SKIP = "grafana_package,grafana_run"
INI = "/etc/grafana/grafana.ini"
KEY = "/etc/grafana/secrets/secret_key"
SOURCES = "/etc/apt/sources.list.d/grafana.sources"
KEYRING = "/etc/apt/keyrings/grafana.asc"


def converge(extra_vars=None, verbosity=0, diff=False, check=False):
    """Run converge.yml the way Molecule does in this scenario (without the package and run tags)."""
    cmd = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"],
           os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml"), "--skip-tags", SKIP]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    if diff:
        cmd.append("--diff")
    if check:
        cmd.append("--check")
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
