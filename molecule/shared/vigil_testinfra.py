"""Helpers shared by the testinfra suites of every scenario."""

import os
import subprocess


def scenario_dir():
    return os.environ["MOLECULE_SCENARIO_DIRECTORY"]


def run_playbook(playbook="converge.yml", extra_vars=None, limit=None, verbosity=0, diff=False, check=False,
                 inventories=()):
    """Run a playbook of this scenario against Molecule's inventory.

    Returns the CompletedProcess with stdout and stderr combined in .stdout.
    """
    import json

    cmd = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], os.path.join(scenario_dir(), playbook)]
    for inventory in inventories:
        cmd += ["-i", inventory]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if limit:
        cmd += ["--limit", limit]
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    if diff:
        cmd.append("--diff")
    if check:
        cmd.append("--check")
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)


def main_pid(host, unit):
    return int(host.check_output("systemctl show -p MainPID --value %s" % unit))


def journal(host, unit, lines=50):
    return host.run("journalctl -u %s --no-pager -n %d" % (unit, lines)).stdout


def assert_service_up(host, unit):
    """Assert a unit is active and enabled, showing its journal when not."""
    service = host.service(unit)
    assert service.is_running, "%s is not running:\n%s" % (unit, journal(host, unit))
    assert service.is_enabled, "%s is not enabled" % unit


def unit_exposure(host, unit_path):
    """Overall exposure score of a unit file from systemd-analyze (offline)."""
    import re

    out = host.check_output("systemd-analyze security --offline=true %s 2>&1" % unit_path)
    # "→ Overall exposure level for node_exporter.service: 1.4 OK 🙂"
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", out)
    assert match, "no exposure score in systemd-analyze output:\n" + out[-1000:]
    return float(match.group(1)), match.group(0)


def molecule_hosts(names=("debian12", "debian13")):
    """The scenario's hosts as testinfra hosts, by inventory name."""
    import testinfra

    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    return {n: testinfra.get_host("ansible://%s?ansible_inventory=%s" % (n, inventory)) for n in names}
