"""The route tree the alertmanager role builds, proven with amtool.

tests/alertmanager/routes.yml holds a production-shaped inventory and the
receivers each kind of alert must reach. The configuration is built with the
role's own filter, checked with `amtool check-config` and every case is run
through `amtool config routes test`, which follows Alertmanager's routing code.
"""

import os
import shutil
import subprocess

import pytest
import yaml
from ansible_collections.vigil.observability.plugins.filter.alertmanager import alertmanager_config
from ansible_collections.vigil.observability.tests.helpers import ROOT

with open(os.path.join(ROOT, "tests", "alertmanager", "routes.yml")) as handle:
    SPEC = yaml.safe_load(handle)
# Settings the filter reads, and the role default each falls back to.
KEYS = ("receivers", "receivers_extra", "smtp", "default_receiver", "group_by", "group_wait", "group_interval",
        "repeat_interval", "resolve_timeout", "severity_routes", "team_routes", "routes_extra", "escalation_receiver",
        "escalation_after", "escalation_repeat_interval", "escalation_severities", "watchdog_receiver",
        "watchdog_repeat_interval", "inhibit_rules", "inhibit_rules_extra", "time_intervals", "global_extra")


def amtool():
    path = shutil.which("amtool")
    if not path:
        pytest.fail("amtool is not installed; run `make venv` (scripts/ensure-tools.sh)")
    return path


@pytest.fixture(scope="module")
def config_file(tmp_path_factory):
    with open(os.path.join(ROOT, "roles", "alertmanager", "defaults", "main.yml")) as handle:
        defaults = yaml.safe_load(handle)
    variables = dict(defaults, **SPEC["variables"])
    work = tmp_path_factory.mktemp("alertmanager_routes")
    templates = work / "templates"
    shutil.copytree(os.path.join(ROOT, "files", "alertmanager", "templates"), templates)
    settings = dict((key, variables["alertmanager_" + key]) for key in KEYS)
    settings["templates"] = [str(templates / "*.tmpl")]
    built = alertmanager_config(settings)
    assert built["problems"] == []
    path = work / "alertmanager.yml"
    path.write_text(yaml.safe_dump(built["config"]))
    proc = subprocess.run([amtool(), "check-config", str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.returncode == 0, proc.stdout
    assert "1 templates" in proc.stdout and "7 inhibit rules" in proc.stdout, proc.stdout
    return path


@pytest.mark.parametrize("case", SPEC["cases"], ids=[c["what"] for c in SPEC["cases"]])
def test_alerts_reach_the_receivers_the_route_tree_promises(config_file, case):
    labels = ["%s=%s" % item for item in sorted(case["labels"].items())]
    proc = subprocess.run([amtool(), "config", "routes", "test", "--config.file", str(config_file)] + labels,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().split(",") == case["receivers"], (case["labels"], proc.stdout)


def test_a_case_with_the_wrong_receivers_fails(config_file):
    """amtool's --verify.receivers exits non-zero on a mismatch: the cases above can fail."""
    proc = subprocess.run([amtool(), "config", "routes", "test", "--config.file", str(config_file),
                           "--verify.receivers=chat", "alertname=HostDown", "severity=critical"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.returncode != 0, proc.stdout
