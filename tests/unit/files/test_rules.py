"""The shipped Prometheus rules (files/rules): promtool checks, promtool unit tests and static checks.

promtool comes from `scripts/ensure-tools.sh` (Debian's 2.42) and must be on PATH; `tool()` fails
rather than skips when it is missing.
"""

import glob
import os
import re

import pytest
import yaml
from ansible_collections.vigil.observability.plugins.filter import slo
from ansible_collections.vigil.observability.tests.helpers import ROOT, run, tool

RULES_DIR = os.path.join(ROOT, "files", "rules")
RULE_TESTS_DIR = os.path.join(ROOT, "tests", "rules")
RUNBOOK = os.path.join(ROOT, "docs", "runbook.md")
RUNBOOK_PREFIX = "https://github.com/vigil-observability/vigil.observability/blob/main/docs/runbook.md#"
SEVERITIES = {"critical", "warning", "info", "none"}
# The heartbeat fires by design on every evaluation; there is no series on
# which it could stay silent, so it needs firing cases only.
ALWAYS_FIRING = {"Watchdog"}

RULE_FILES = sorted(glob.glob(os.path.join(RULES_DIR, "*.yml")))
TEST_FILES = sorted(glob.glob(os.path.join(RULE_TESTS_DIR, "*.test.yml")))
RULE_IDS = [os.path.basename(path) for path in RULE_FILES]
TEST_IDS = [os.path.basename(path) for path in TEST_FILES]

_DURATION_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def load(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def rules_of(path):
    return [rule for group in load(path)["groups"] for rule in group["rules"]]


def alerts_of(path):
    return [rule for rule in rules_of(path) if "alert" in rule]


def seconds(duration):
    """A Prometheus duration ("30s", "1h30m") in seconds; 0 when absent."""
    if not duration:
        return 0
    parts = _DURATION_PART.findall(duration)
    assert "".join(number + unit for number, unit in parts) == duration, "not a Prometheus duration: %r" % duration
    return sum(int(number) * _UNIT_SECONDS[unit] for number, unit in parts)


def github_slug(heading):
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def markdown_headings(path):
    headings, fenced = [], False
    with open(path) as handle:
        for line in handle:
            if line.startswith("```"):
                fenced = not fenced
                continue
            match = re.match(r"^(#{1,6})\s+(.+?)\s*#*\s*$", line)
            if match and not fenced:
                headings.append((len(match.group(1)), match.group(2)))
    return headings


def alert_problems(rule, anchors):
    """Everything wrong with one alerting rule's name, labels and annotations (empty when it is fine)."""
    name = rule.get("alert", "")
    problems = []
    if not re.fullmatch(r"[A-Z][a-z0-9]*(?:[A-Z][a-z0-9]*)*", name or ""):
        problems.append("%s: alert names are CamelCase" % name)
    severity = (rule.get("labels") or {}).get("severity")
    if severity not in SEVERITIES:
        problems.append("%s: severity %r is not one of %s" % (name, severity, sorted(SEVERITIES)))
    annotations = rule.get("annotations") or {}
    for key in ("summary", "description", "runbook_url"):
        if not str(annotations.get(key, "")).strip():
            problems.append("%s: annotation %s is missing or empty" % (name, key))
    url = str(annotations.get("runbook_url", ""))
    if url and not url.startswith(RUNBOOK_PREFIX):
        problems.append("%s: runbook_url %r does not start with %s" % (name, url, RUNBOOK_PREFIX))
    elif url and url[len(RUNBOOK_PREFIX):] not in anchors:
        problems.append("%s: runbook_url anchor #%s is no heading of docs/runbook.md" % (name, url[len(RUNBOOK_PREFIX):]))
    return problems


def rule_test_cases():
    """(test file, alertname, expects alerts?) for every alert_rule_test entry of every test file."""
    cases = []
    for path in TEST_FILES:
        for test in load(path).get("tests") or []:
            for case in test.get("alert_rule_test") or []:
                cases.append((path, case["alertname"], bool(case.get("exp_alerts"))))
    return cases


def test_there_are_rules_and_tests():
    assert RULE_FILES, "no rule files in files/rules"
    assert TEST_FILES, "no promtool tests in tests/rules"


@pytest.mark.parametrize("path", RULE_FILES, ids=RULE_IDS)
def test_promtool_check_rules(path):
    rc, out = run([tool("promtool"), "check", "rules", "--lint=all", "--lint-fatal", path], timeout=60)
    assert rc == 0, out


@pytest.mark.parametrize("path", TEST_FILES, ids=TEST_IDS)
def test_promtool_test_rules(path):
    rc, out = run([tool("promtool"), "test", "rules", path], timeout=120)
    assert rc == 0, out


@pytest.mark.parametrize("path", RULE_FILES, ids=RULE_IDS)
def test_alerts_have_severity_annotations_and_runbook(path):
    anchors = {github_slug(text) for _, text in markdown_headings(RUNBOOK)}
    problems = [problem for rule in alerts_of(path) for problem in alert_problems(rule, anchors)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", RULE_FILES, ids=RULE_IDS)
def test_recording_rules_are_named_level_metric_operations(path):
    bad = [rule["record"] for rule in rules_of(path)
           if "record" in rule and not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_]+:[a-zA-Z0-9_]+", rule["record"])]
    assert not bad, bad


@pytest.mark.parametrize("path", RULE_FILES, ids=RULE_IDS)
def test_critical_alerts_do_not_page_on_one_sample(path):
    hasty = ["%s (for: %s)" % (rule["alert"], rule.get("for")) for rule in alerts_of(path)
             if rule["labels"]["severity"] == "critical" and seconds(rule.get("for")) < 30]
    assert not hasty, "critical alerts need `for:` of at least 30s: %s" % hasty


def test_host_down_pages_within_30_seconds():
    host_down = [rule for path in RULE_FILES for rule in alerts_of(path) if rule["alert"] == "HostDown"]
    assert len(host_down) == 1
    assert host_down[0]["labels"]["severity"] == "critical"
    assert 0 < seconds(host_down[0].get("for")) <= 30


@pytest.mark.parametrize("path", RULE_FILES, ids=RULE_IDS)
def test_every_alert_has_firing_and_silent_cases(path):
    cases = rule_test_cases()
    missing = []
    for rule in alerts_of(path):
        name = rule["alert"]
        if not any(alertname == name and fires for _, alertname, fires in cases):
            missing.append("%s: no alert_rule_test case where it fires (non-empty exp_alerts)" % name)
        if name not in ALWAYS_FIRING and not any(alertname == name and not fires for _, alertname, fires in cases):
            missing.append("%s: no alert_rule_test case where it stays silent (exp_alerts: [])" % name)
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("path", TEST_FILES, ids=TEST_IDS)
def test_test_cases_name_alerts_of_the_files_they_load(path):
    # promtool passes `exp_alerts: []` for a misspelt alert name, so a typo would pass as "silent".
    loaded = [os.path.normpath(os.path.join(os.path.dirname(path), rule_file)) for rule_file in load(path)["rule_files"]]
    known = {rule["alert"] for rule_file in loaded for rule in alerts_of(rule_file)}
    unknown = sorted({alertname for test_path, alertname, _ in rule_test_cases() if test_path == path} - known)
    assert not unknown, "alert names not defined in %s: %s" % (loaded, unknown)


def test_alert_names_are_unique_across_files():
    seen = {}
    for path in RULE_FILES:
        for rule in alerts_of(path):
            seen.setdefault(rule["alert"], []).append(os.path.basename(path))
    duplicates = {name: files for name, files in seen.items() if len(files) > 1}
    assert not duplicates, duplicates


def test_every_rule_file_is_loaded_by_a_test_file():
    loaded = {os.path.normpath(os.path.join(os.path.dirname(path), rule_file))
              for path in TEST_FILES for rule_file in load(path).get("rule_files") or []}
    untested = [os.path.basename(path) for path in RULE_FILES if os.path.normpath(path) not in loaded]
    assert not untested, "rule files no test file loads: %s" % untested


def test_runbook_sections_are_alerts():
    # Level-3 headings are alert sections; a leftover section for a removed or renamed alert is a dead end at night.
    # The SLO alerts are generated from the inventory (plugins/filter/slo.py), not shipped in files/rules.
    alerts = {rule["alert"] for path in RULE_FILES for rule in alerts_of(path)} | {name for name, _level, _pairs in slo.BURN_ALERTS}
    stale = [text for level, text in markdown_headings(RUNBOOK) if level == 3 and text not in alerts]
    assert not stale, "runbook sections without an alert: %s" % stale


# Negative controls: the checks above can fail.

BROKEN_RULES = """\
groups:
  - name: broken
    rules:
      - alert: Broken
        expr: rate(up[5m] > 0
"""

VALID_RULES = """\
groups:
  - name: valid
    rules:
      - alert: AlwaysUp
        expr: up == 1
        labels:
          severity: warning
"""

WRONG_EXPECTATION = """\
rule_files:
  - rules.yml
tests:
  - interval: 1m
    input_series:
      - series: 'up{job="node", instance="web1"}'
        values: '1x5'
    alert_rule_test:
      - eval_time: 5m
        alertname: AlwaysUp
        exp_alerts: []
"""


def test_promtool_check_rules_rejects_a_broken_rule_file(tmp_path):
    (tmp_path / "broken.yml").write_text(BROKEN_RULES)
    rc, out = run([tool("promtool"), "check", "rules", str(tmp_path / "broken.yml")], timeout=60)
    assert rc != 0, out


def test_promtool_test_rules_fails_on_a_wrong_expectation(tmp_path):
    (tmp_path / "rules.yml").write_text(VALID_RULES)
    (tmp_path / "wrong.test.yml").write_text(WRONG_EXPECTATION)
    rc, out = run([tool("promtool"), "check", "rules", str(tmp_path / "rules.yml")], timeout=60)
    assert rc == 0, out  # the rule itself is fine: only the expectation is wrong
    rc, out = run([tool("promtool"), "test", "rules", str(tmp_path / "wrong.test.yml")], timeout=60)
    assert rc != 0 and "AlwaysUp" in out, out


def test_static_checks_report_a_bad_alert():
    bad = {"alert": "disk_full", "expr": "vector(1)", "labels": {"severity": "page"},
           "annotations": {"summary": "x", "runbook_url": RUNBOOK_PREFIX + "no-such-section"}}
    problems = alert_problems(bad, {"hostdown"})
    assert len(problems) == 4, problems  # name, severity, missing description, unknown anchor
    good = {"alert": "HostDown", "labels": {"severity": "critical"},
            "annotations": {"summary": "s", "description": "d", "runbook_url": RUNBOOK_PREFIX + "hostdown"}}
    assert alert_problems(good, {"hostdown"}) == []


def test_github_slugs():
    assert github_slug("HostDown") == "hostdown"
    assert github_slug("Severities and routing") == "severities-and-routing"
    assert github_slug("What `for:` means, briefly!") == "what-for-means-briefly"
