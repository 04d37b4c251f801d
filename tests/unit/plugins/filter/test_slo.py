"""The SLO generator (plugins/filter/slo.py): checks of the declarations, the rules it writes, and their behaviour.

The behaviour is tested with promtool: tests/rules/slo/declarations.yml is
rendered with the role's default settings and tests/rules/slo/slo.test.yml
runs against the result (a fast burn pages, a slow burn opens a ticket, a
healthy service stays silent, for each SLI kind).
"""

import os

import pytest
import yaml
from ansible_collections.vigil.observability.plugins.filter import slo
from ansible_collections.vigil.observability.tests.helpers import ROOT, run, tool

SLO_TESTS = os.path.join(ROOT, "tests", "rules", "slo")
SERVICES = {"unified-api": {"latency_buckets": None}, "memory-api": {"latency_buckets": None},
            "knowledge-graph": {"latency_buckets": [0.1, 0.3, 1.0, 3.0]}}
ISSUE_EXAMPLE = [
    {"service": "unified-api", "objective": 99.9, "window": "30d", "sli": {"availability": {}}},
    {"service": "unified-api", "objective": 99.0, "sli": {"latency": {"threshold": 0.5}}},
    {"service": "memory-api", "objective": 99.5,
     "sli": {"events": {"good": 'memory_operations_total{job="memory-api",result="ok"}',
                        "total": 'memory_operations_total{job="memory-api"}'}}},
]


def declarations():
    with open(os.path.join(SLO_TESTS, "declarations.yml")) as handle:
        return yaml.safe_load(handle)["vigil_slos"]


def rules_by_name(groups):
    return dict(((group["name"], rule.get("record") or rule.get("alert")), rule)
                for group in groups for rule in group["rules"])


# -- good declarations ---------------------------------------------------------

def test_the_issue_example_is_valid_and_gives_two_groups_per_slo():
    assert slo.slo_problems(ISSUE_EXAMPLE, SERVICES) == []
    groups = slo.slo_rules(ISSUE_EXAMPLE)
    assert [g["name"] for g in groups] == [
        "vigil.slo.unified-api-availability", "vigil.slo.unified-api-availability.period",
        "vigil.slo.unified-api-latency", "vigil.slo.unified-api-latency.period",
        "vigil.slo.memory-api-events", "vigil.slo.memory-api-events.period"]


def test_every_standard_window_and_the_slo_window_are_recorded():
    groups = slo.slo_rules(ISSUE_EXAMPLE[:1])
    records = [rule["record"] for group in groups for rule in group["rules"] if "record" in rule]
    for window in ("5m", "30m", "1h", "2h", "6h", "1d", "3d"):
        assert "slo:sli_error:ratio_rate%s" % window in records
        assert "slo:burn_rate:ratio_rate%s" % window in records
    for name in ("slo:sli_error:ratio_period", "slo:error_budget_remaining:ratio", "slo:objective:ratio",
                 "slo:error_budget:ratio", "slo:time_period:days", "slo:uptime:ratio_period"):
        assert name in records, name
    period = rules_by_name(groups)[("vigil.slo.unified-api-availability.period", "slo:sli_error:ratio_period")]
    assert "[30d]" in period["expr"]


def test_long_windows_read_the_recorded_rates_not_the_counters():
    rules = rules_by_name(slo.slo_rules(ISSUE_EXAMPLE[:1]))
    for window in ("1d", "3d"):
        expr = rules[("vigil.slo.unified-api-availability", "slo:sli_error:ratio_rate%s" % window)]["expr"]
        assert "http_requests_total" not in expr and "slo:sli_bad:rate5m" in expr
    expr = rules[("vigil.slo.unified-api-availability", "slo:sli_error:ratio_rate6h")]["expr"]
    assert 'http_requests_total{job="unified-api", code=~"5.."}[6h]' in expr


def test_burn_rate_alerts_follow_the_sre_workbook():
    rules = rules_by_name(slo.slo_rules(ISSUE_EXAMPLE[:1]))
    page = rules[("vigil.slo.unified-api-availability", "SLOFastBurn")]
    ticket = rules[("vigil.slo.unified-api-availability", "SLOSlowBurn")]
    # 99.9 %: a budget of 0.001; 14.4x, 6x, 3x and 1x of it.
    assert "ratio_rate1h{slo=\"unified-api-availability\"} > 0.0144" in page["expr"]
    assert "ratio_rate5m{slo=\"unified-api-availability\"} > 0.0144" in page["expr"]
    assert "ratio_rate6h{slo=\"unified-api-availability\"} > 0.006" in page["expr"]
    assert "ratio_rate30m{slo=\"unified-api-availability\"} > 0.006" in page["expr"]
    assert "ratio_rate1d{slo=\"unified-api-availability\"} > 0.003" in ticket["expr"]
    assert "ratio_rate2h{slo=\"unified-api-availability\"} > 0.003" in ticket["expr"]
    assert "ratio_rate3d{slo=\"unified-api-availability\"} > 0.001" in ticket["expr"]
    assert "ratio_rate6h{slo=\"unified-api-availability\"} > 0.001" in ticket["expr"]
    assert (page["labels"]["severity"], page["labels"]["slo_alert"], page["for"]) == ("critical", "page", "2m")
    assert (ticket["labels"]["severity"], ticket["labels"]["slo_alert"], ticket["for"]) == ("warning", "ticket", "15m")
    assert page["annotations"]["runbook_url"].endswith("docs/runbook.md#slofastburn")


def test_settings_change_severities_and_durations():
    settings = {"page_severity": "page", "ticket_severity": "info", "page_for": "0s", "ticket_for": "1h",
                "runbook_url": "https://wiki.example.com/runbook"}
    assert slo.slo_problems(ISSUE_EXAMPLE, SERVICES, settings) == []
    rules = rules_by_name(slo.slo_rules(ISSUE_EXAMPLE[:1], settings))
    page = rules[("vigil.slo.unified-api-availability", "SLOFastBurn")]
    assert (page["labels"]["severity"], page["for"]) == ("page", "0s")
    assert page["annotations"]["runbook_url"] == "https://wiki.example.com/runbook#slofastburn"


def test_defaults_follow_the_stated_targets():
    groups = slo.slo_rules([{"service": "unified-api", "sli": {"availability": {}}},
                            {"service": "unified-api", "sli": {"latency": {}}}])
    rules = rules_by_name(groups)
    assert rules[("vigil.slo.unified-api-availability.period", "slo:objective:ratio")]["expr"] == "vector(0.999)"
    assert rules[("vigil.slo.unified-api-latency.period", "slo:objective:ratio")]["expr"] == "vector(0.95)"
    assert 'le=~"0[.]5"' in rules[("vigil.slo.unified-api-latency", "slo:sli_bad:rate5m")]["expr"]


@pytest.mark.parametrize("threshold, expected", [(1, ["1", "1.0"]), (0.5, ["0.5"]), (2.5, ["2.5"]), (10, ["10", "10.0"])])
def test_le_values_cover_go_and_python_clients(threshold, expected):
    assert slo.le_values(threshold) == expected


def test_labels_reach_every_rule_and_page_false_drops_the_page():
    entry = {"service": "memory-api", "sli": {"availability": {}}, "labels": {"team": "memory"}, "page": False}
    assert slo.slo_problems([entry], SERVICES) == []
    groups = slo.slo_rules([entry])
    assert all(rule["labels"]["team"] == "memory" for group in groups for rule in group["rules"])
    alerts = [rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule]
    assert alerts == ["SLOSlowBurn"]


def test_a_selector_narrows_the_counters():
    entry = {"service": "unified-api", "sli": {"availability": {"selector": 'route!="/healthz"', "bad_codes": "5..|429"}}}
    assert slo.slo_problems([entry], SERVICES) == []
    expr = rules_by_name(slo.slo_rules([entry]))[("vigil.slo.unified-api-availability", "slo:sli_bad:rate5m")]["expr"]
    assert 'http_requests_total{job="unified-api", code=~"5..|429", route!="/healthz"}[5m]' in expr


def test_a_service_with_its_own_buckets_accepts_its_own_boundaries():
    entry = {"service": "knowledge-graph", "sli": {"latency": {"threshold": 0.3}}}
    assert slo.slo_problems([entry], SERVICES) == []


def test_generated_rules_pass_promtool_lint(tmp_path):
    slos = ISSUE_EXAMPLE[2:] + declarations() + [
        {"service": "knowledge-graph", "name": "kg-latency", "sli": {"latency": {"threshold": 0.3, "selector": 'code!~"5.."'}},
         "window": "4w", "labels": {"team": "graph"}},
        {"service": "unified-api", "name": "unified-api-7d", "window": "7d", "sli": {"availability": {"bad_codes": "5.."}}},
    ]
    assert slo.slo_problems(slos, SERVICES) == []
    path = tmp_path / "vigil-slos.yml"
    path.write_text(yaml.safe_dump({"groups": slo.slo_rules(slos)}, sort_keys=False))
    rc, out = run([tool("promtool"), "check", "rules", "--lint=all", "--lint-fatal", str(path)], timeout=60)
    assert rc == 0, out


def test_alerts_meet_the_house_rules_for_alerts():
    """Severity, summary, description and a runbook anchor that exists (tests/unit/files/test_rules.py)."""
    from ansible_collections.vigil.observability.tests.unit.files.test_rules import (
        RUNBOOK,
        alert_problems,
        github_slug,
        markdown_headings,
    )

    anchors = set(github_slug(heading) for _level, heading in markdown_headings(RUNBOOK))
    for group in slo.slo_rules(ISSUE_EXAMPLE):
        for rule in group["rules"]:
            if "alert" in rule:
                assert alert_problems(rule, anchors) == []


# -- bad declarations ------------------------------------------------------------

GOOD_AVAILABILITY = {"service": "unified-api", "sli": {"availability": {}}}
BAD = [
    ("not-a-list", {"service": "x"}, "vigil_slos must be a list"),
    ("entry-not-dict", ["unified-api"], "vigil_slos[0] must be a dict with service, objective and sli"),
    ("objective-zero", [dict(GOOD_AVAILABILITY, objective=0)],
     "vigil_slos[0] (unified-api-availability): objective must be a percentage between 0 and 100"),
    ("objective-hundred", [dict(GOOD_AVAILABILITY, objective=100)],
     "objective must be a percentage between 0 and 100 (exclusive), such as 99.9, got 100"),
    ("objective-fraction-above", [dict(GOOD_AVAILABILITY, objective=150)], "got 150"),
    ("objective-negative", [dict(GOOD_AVAILABILITY, objective=-1)], "got -1"),
    ("objective-text", [dict(GOOD_AVAILABILITY, objective="high")], "got 'high'"),
    ("objective-bool", [dict(GOOD_AVAILABILITY, objective=True)], "got True"),
    ("threshold-not-bucket", [{"service": "unified-api", "sli": {"latency": {"threshold": 0.3}}}],
     "vigil_slos[0] (unified-api-latency): sli.latency.threshold 0.3 is not a bucket boundary of the histogram service "
     "unified-api exposes (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)"),
    ("threshold-not-own-bucket", [{"service": "knowledge-graph", "sli": {"latency": {"threshold": 0.5}}}],
     "threshold 0.5 is not a bucket boundary of the histogram service knowledge-graph exposes (0.1, 0.3, 1, 3)"),
    ("threshold-text", [{"service": "unified-api", "sli": {"latency": {"threshold": "fast"}}}],
     "sli.latency.threshold must be a number of seconds such as 0.5, got 'fast'"),
    ("threshold-zero", [{"service": "unified-api", "sli": {"latency": {"threshold": 0}}}], "got 0"),
    ("unknown-kind", [{"service": "unified-api", "sli": {"throughput": {}}}],
     "vigil_slos[0] (unified-api-throughput): unknown SLI kind 'throughput' (use one of availability, latency, events)"),
    ("two-kinds", [{"service": "unified-api", "sli": {"availability": {}, "latency": {}}}],
     "sli must be a dict with exactly one of availability, latency, events"),
    ("no-sli", [{"service": "unified-api"}], "vigil_slos[0]: sli must be a dict with exactly one of"),
    ("sli-not-dict", [{"service": "unified-api", "sli": {"availability": "yes"}}], "sli.availability must be a dict, got 'yes'"),
    ("duplicate-implicit-name", [GOOD_AVAILABILITY, dict(GOOD_AVAILABILITY, objective=99)],
     "vigil_slos[1] (unified-api-availability): name 'unified-api-availability' is already used by vigil_slos[0]"),
    ("duplicate-explicit-name", [dict(GOOD_AVAILABILITY, name="api"), {"service": "memory-api", "name": "api",
                                                                        "sli": {"availability": {}}}],
     "vigil_slos[1] (api): name 'api' is already used by vigil_slos[0]"),
    ("bad-name", [dict(GOOD_AVAILABILITY, name="Unified API")], "name 'Unified API' must be lower-case letters"),
    ("no-service", [{"sli": {"availability": {}}}], "vigil_slos[0] needs service"),
    ("service-not-declared", [{"service": "ghost-api", "sli": {"availability": {}}}],
     "vigil_slos[0] (ghost-api-availability): service 'ghost-api' is not declared in vigil_services on any host"),
    ("unknown-key", [dict(GOOD_AVAILABILITY, objetive=99.9)], "has unknown keys objetive"),
    ("unknown-sli-key", [{"service": "unified-api", "sli": {"latency": {"threshold": 0.5, "percentile": 95}}}],
     "sli.latency has unknown keys percentile"),
    ("window-format", [dict(GOOD_AVAILABILITY, window="30 days")], "window must be a duration such as 30d or 4w, got '30 days'"),
    ("window-short", [dict(GOOD_AVAILABILITY, window="2h")], "window 2h must be from 1d to 400d"),
    ("window-retention", [dict(GOOD_AVAILABILITY, window="90d")],
     "window 90d is longer than prometheus_storage_retention_time (30d)"),
    ("label-reserved", [dict(GOOD_AVAILABILITY, labels={"severity": "critical"})], "label name 'severity' is not allowed"),
    ("label-name", [dict(GOOD_AVAILABILITY, labels={"my-team": "x"})], "label name 'my-team' is not allowed"),
    ("labels-not-dict", [dict(GOOD_AVAILABILITY, labels=["team"])], "labels must be a dict"),
    ("page-not-bool", [dict(GOOD_AVAILABILITY, page="no")], "page must be true or false, got 'no'"),
    ("selector", [{"service": "unified-api", "sli": {"availability": {"selector": "route=/healthz"}}}],
     "sli.availability.selector must be label matchers such as route!=\"/healthz\", got 'route=/healthz'"),
    ("bad-codes", [{"service": "unified-api", "sli": {"availability": {"bad_codes": ""}}}],
     "sli.availability.bad_codes must be a regular expression of status codes"),
    ("events-no-total", [{"service": "memory-api", "sli": {"events": {"good": "a_total"}}}],
     "sli.events needs total and exactly one of good or bad"),
    ("events-good-and-bad", [{"service": "memory-api", "sli": {"events": {"good": "a_total", "bad": "b_total", "total": "c_total"}}}],
     "sli.events needs total and exactly one of good or bad, got bad, good, total"),
    ("events-range", [{"service": "memory-api", "sli": {"events": {"good": "a_total[5m]", "total": "c_total"}}}],
     "sli.events.good must be a counter selector without a range or rate()"),
    ("events-rate", [{"service": "memory-api", "sli": {"events": {"bad": "rate(b_total[5m])", "total": "c_total"}}}],
     "sli.events.bad must be a counter selector without a range or rate()"),
    ("events-empty", [{"service": "memory-api", "sli": {"events": {"good": "", "total": "c_total"}}}],
     "sli.events.good must be a PromQL counter selector"),
]


@pytest.mark.parametrize("slos, expected", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_declarations_are_refused_naming_the_entry(slos, expected):
    problems = slo.slo_problems(slos, SERVICES, retention="30d")
    assert any(expected in problem for problem in problems), problems


BAD_SETTINGS = [
    ("window", {"window": "month"}, "prometheus_slo_window must be a duration such as 30d, got 'month'"),
    ("objective", {"latency": {"objective": 100}}, "prometheus_slo_objectives.latency must be a percentage"),
    ("threshold", {"latency": {"threshold": -1}}, "prometheus_slo_latency_threshold must be a number of seconds"),
    ("page-for", {"page_for": "soon"}, "prometheus_slo_page_for must be a Prometheus duration such as 2m, got 'soon'"),
    ("period-interval", {"period_interval": "0s"}, "prometheus_slo_period_interval must be a Prometheus duration"),
    ("severity", {"ticket_severity": ""}, "prometheus_slo_ticket_severity must be a severity"),
]


@pytest.mark.parametrize("settings, expected", [c[1:] for c in BAD_SETTINGS], ids=[c[0] for c in BAD_SETTINGS])
def test_bad_settings_are_refused_naming_the_variable(settings, expected):
    problems = slo.slo_problems([GOOD_AVAILABILITY], SERVICES, settings)
    assert any(expected in problem for problem in problems), problems


def test_no_declarations_no_problems_no_rules():
    assert slo.slo_problems([], SERVICES) == [] and slo.slo_rules([]) == []


# -- behaviour (promtool) ------------------------------------------------------

def _expectations(test_file, groups):
    """slo.test.yml with each expected alert's annotations filled in from the generated rule."""
    alerts = dict(((rule["alert"], rule["labels"]["slo"]), rule) for group in groups for rule in group["rules"] if "alert" in rule)
    with open(test_file) as handle:
        spec = yaml.safe_load(handle)
    for test in spec["tests"]:
        for case in test.get("alert_rule_test") or []:
            for alert in case.get("exp_alerts") or []:
                rule = alerts[(case["alertname"], alert["exp_labels"]["slo"])]
                ratio = alert.pop("bad_ratio")
                alert["exp_annotations"] = dict(
                    (key, value.replace("{{ $value | humanizePercentage }}", ratio)) for key, value in rule["annotations"].items())
    return spec


def test_promtool_fast_burn_pages_slow_burn_tickets_healthy_stays_silent(tmp_path):
    slos = declarations()
    assert slo.slo_problems(slos, SERVICES) == []
    groups = slo.slo_rules(slos)
    (tmp_path / "vigil-slos.yml").write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    (tmp_path / "slo.test.yml").write_text(yaml.safe_dump(_expectations(os.path.join(SLO_TESTS, "slo.test.yml"), groups),
                                                          sort_keys=False))
    rc, out = run([tool("promtool"), "test", "rules", str(tmp_path / "slo.test.yml")], timeout=120)
    assert rc == 0, out
    assert "SUCCESS" in out


def test_promtool_notices_a_wrong_expectation(tmp_path):
    """The harness is not vacuous: the healthy series expected to page fails."""
    slos = declarations()
    groups = slo.slo_rules(slos)
    spec = _expectations(os.path.join(SLO_TESTS, "slo.test.yml"), groups)
    healthy = next(test for test in spec["tests"] if test["name"] == "A healthy service stays silent")
    healthy["alert_rule_test"][0]["exp_alerts"] = [{"exp_labels": {"slo": "unified-api-availability", "service": "unified-api",
                                                                   "team": "memory", "severity": "critical", "slo_alert": "page"}}]
    (tmp_path / "vigil-slos.yml").write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    (tmp_path / "slo.test.yml").write_text(yaml.safe_dump(spec, sort_keys=False))
    rc, out = run([tool("promtool"), "test", "rules", str(tmp_path / "slo.test.yml")], timeout=120)
    assert rc != 0 and "SLOFastBurn" in out, out


def test_every_alert_kind_has_firing_and_silent_cases():
    with open(os.path.join(SLO_TESTS, "slo.test.yml")) as handle:
        spec = yaml.safe_load(handle)
    seen = set()
    for test in spec["tests"]:
        for case in test.get("alert_rule_test") or []:
            seen.add((case["alertname"], bool(case.get("exp_alerts"))))
    assert seen == {("SLOFastBurn", True), ("SLOFastBurn", False), ("SLOSlowBurn", True), ("SLOSlowBurn", False)}

