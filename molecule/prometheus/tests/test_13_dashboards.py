"""Dashboard accuracy: every query of every dashboard in files/dashboards returns data from a real Prometheus.

Both servers of the scenario are asked: prom (Prometheus 2.42 from the release archive) and app (Debian 13's
2.53). What they scrape:
- real exporters: node_exporter on every host, postgres_exporter (Debian 12's 0.11.1, through the role) with
  PostgreSQL 15 and a small load on db, and the two Prometheus servers themselves;
- the stand-in service `unified-api` (files/fake_api.py), which emits the service and business contract of
  docs/metrics.md with made-up traffic. Panels over those metrics prove that the queries match the contract
  as the stand-in implements it, not that a real application fills them.

Each template variable is resolved with its own query (all values, as Grafana's "All" multi-selection sends
them), Grafana's built-ins get fixed durations, and each panel target runs through /api/v1/query. A target
passes when it returns at least one sample with a finite value. The targets that legitimately have no data on
this quiet system are listed in ALLOWED_EMPTY with the reason. This runs before test_20 (which upgrades prom
and restarts it) and test_30 (which removes app's Prometheus).
"""

import glob
import json
import math
import os
import re
import time

import pytest
from prom_api import Prometheus

testinfra_hosts = ["prom", "app"]

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def load(path):
    with open(path) as handle:
        return json.load(handle)


DASHBOARDS = {os.path.basename(p): load(p) for p in sorted(glob.glob(os.path.join(ROOT, "files", "dashboards", "*.json")))}
# Grafana's built-ins: $__rate_interval is at least 4 scrape intervals (5 s here, 10 s for unified-api);
# $__range stands for a time range the scenario's data covers.
BUILTINS = {"__rate_interval": "1m", "__interval": "15s", "__range": "10m", "__interval_ms": "15000",
            "__range_s": "600", "__range_ms": "600000"}
# (dashboard uid, panel title, refId) -> why the target may return nothing here.
ALLOWED_EMPTY = {
    ("vigil-alerting", "Firing alerts", "A"):
        "the table leaves out Watchdog, and on a quiet system no other alert has to fire (here "
        "MonitoringTargetDown for the alertmanager job may or may not have fired yet)",
    ("vigil-alerting", "Notifications by integration", "A"):
        "no Alertmanager runs in this scenario (app and db form the alertmanager group only so that Prometheus "
        "has Alertmanagers to send to), so there are no alertmanager_* metrics",
    ("vigil-alerting", "Notifications by integration", "B"): "as for target A: no Alertmanager runs here",
    ("vigil-slo", "Uptime from the probes", "A"):
        "no blackbox probe is labelled with service=\"unified-api\" here (no blackbox_exporter runs in this scenario)",
    ("vigil-slo", "SLO summary", "H"): "the probe uptime column, as for \"Uptime from the probes\"",
    ("vigil-slo", "Firing SLO alerts", "A"): "on a quiet system no SLO alert has to fire",
}
# Metrics of the service and business contract, and selections of declared services: targets with them are
# answered by the stand-in service.
STAND_IN = re.compile(r"\b(http_|job:http_|job_le:http_|memory_|memories_|active_users|feature_usage_total|"
                      r"vigil:business_events)|\$service\b|service!=\"\"")


def panels_of(dashboard):
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def substitute(expr, values):
    def replace(match):
        name = match.group(1) or match.group(2) or match.group(3)
        return values[name] if name in values else match.group(0)

    return re.sub(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::\w+)?\]\]", replace, expr)


def regex_value(values):
    """What Grafana puts in `=~"$var"` for several values: regex characters escaped with a backslash that is
    itself escaped for the PromQL string (as Grafana's Prometheus data source does), joined by |."""
    return "|".join(re.sub(r"[\\$^*{}\[\]'+?.()|]", lambda m: "\\\\" + m.group(0), v) for v in values)


def is_stand_in(expr):
    return bool(STAND_IN.search(expr))


def dashboards_with(stand_in):
    return [name for name, d in sorted(DASHBOARDS.items())
            if any(is_stand_in(t["expr"]) == stand_in for p in panels_of(d) for t in p["targets"])]


def has_data(result):
    for series in result:
        samples = [series["value"]] if "value" in series else series.get("values", [])
        if any(math.isfinite(float(value)) for _, value in samples):
            return True
    return False


@pytest.fixture(scope="module")
def prom(host):
    server = Prometheus(host, host.backend.host)
    # The rate windows need a few scrapes of every job, and postgres_exporter must see the load's statements.
    server.wait_for('up{job="postgres"} == 1', timeout=120)
    server.wait_for('count_over_time(up{job="unified-api"}[1m]) >= 4', timeout=120)
    server.wait_for('count_over_time(pg_stat_statements_calls_total{datname="vigil_app"}[1m]) >= 4', timeout=120)
    return server


def resolve_variables(prom, dashboard):
    """Each template variable's values, from its own query, with the variables before it already resolved."""
    values = dict(BUILTINS)
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "datasource":
            continue
        query = substitute(variable["query"], values)
        match = re.fullmatch(r"label_values\((.*),\s*(\w+)\s*\)", query, re.S)
        assert match, "%s: variable %s: unsupported query %r" % (dashboard["uid"], variable["name"], query)
        found = prom.api("/api/v1/label/%s/values" % match.group(2), **{"match[]": match.group(1)})
        assert found, "%s: variable %s: %s returned no value on %s" % (dashboard["uid"], variable["name"], query, prom.name)
        values[variable["name"]] = regex_value(found)
    return values


def failing_targets(prom, uid, targets, values):
    failures = []
    for panel, target in targets:
        expr = substitute(target["expr"], values)
        try:
            result = prom.query(expr)
        except Exception as error:  # noqa: BLE001 - the message must name the panel whatever went wrong
            failures.append((panel, target, expr, "query failed: %s" % error))
            continue
        if not has_data(result):
            failures.append((panel, target, expr, "no data: %r" % result[:3]))
    return failures


def check(prom, name, stand_in):
    """Run the dashboard's targets of one kind (stand-in or not); return the failure messages."""
    dashboard = DASHBOARDS[name]
    uid = dashboard["uid"]
    targets = [(p, t) for p in panels_of(dashboard) for t in p["targets"]
               if is_stand_in(t["expr"]) == stand_in and (uid, p["title"], t["refId"]) not in ALLOWED_EMPTY]
    assert targets
    values = resolve_variables(prom, dashboard)
    failures = failing_targets(prom, uid, targets, values)
    deadline = time.time() + 45  # a series that appears with the next scrapes or rule evaluations
    while failures and time.time() < deadline:
        time.sleep(5)
        failures = failing_targets(prom, uid, [(p, t) for p, t, _, _ in failures], values)
    return ["%s (%s) on %s: panel %r target %s: %s\n  expression: %s" % (
        name, uid, prom.name, p["title"], t["refId"], why, expr) for p, t, expr, why in failures]


def test_allowed_empty_targets_exist():
    """Every exception names a target that exists, so a renamed panel cannot hide behind a stale entry."""
    present = {(d["uid"], p["title"], t["refId"]) for d in DASHBOARDS.values() for p in panels_of(d) for t in p["targets"]}
    assert set(ALLOWED_EMPTY) <= present, set(ALLOWED_EMPTY) - present


@pytest.mark.parametrize("name", dashboards_with(stand_in=False))
def test_panels_over_exporters_and_prometheus_return_data(prom, name):
    """Panels over node_exporter, postgres_exporter, Prometheus's own metrics and its alerts."""
    failures = check(prom, name, stand_in=False)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", dashboards_with(stand_in=True))
def test_service_and_business_panels_return_data_from_the_stand_in_service(prom, name):
    """Panels over the service and business contract, answered by the stand-in unified-api (fake_api.py)."""
    failures = check(prom, name, stand_in=True)
    assert not failures, "\n".join(failures)


def test_variable_values_are_real(prom):
    """The variables resolve to the scenario's own hosts, databases and services."""
    node = resolve_variables(prom, DASHBOARDS["node.json"])
    assert set(node["instance"].split("|")) == {"app", "db", "prom"}, node
    database = resolve_variables(prom, DASHBOARDS["database.json"])
    assert database["instance"] == "db" and "vigil_app" in database["datname"].split("|"), database
    api = resolve_variables(prom, DASHBOARDS["api-performance.json"])
    assert api["service"] == "unified-api" and "/v1/memories/\\\\{id\\\\}" in api["route"].split("|"), api


def test_every_node_exporter_reports_its_clock(prom):
    """The Clock offset panel and the clock alerts read node_timex_*: the timex collector works on every host."""
    result = prom.query('node_scrape_collector_success{job="node", collector="timex"}')
    assert sorted((r["metric"]["instance"], r["value"][1]) for r in result) == [
        ("app", "1"), ("db", "1"), ("prom", "1")], result


def test_panels_show_the_stand_in_traffic_correctly(prom):
    """Spot checks of values, not just presence: the stand-in serves about 21.97 requests a second with 0.77 %
    5xx, and its P95 is far below the slow import route's."""
    # The 5-minute rule understates a series younger than 5 minutes; a 1-minute rate does not.
    rate = float(prom.query('sum(rate(http_requests_total{job="unified-api"}[1m]))')[0]["value"][1])
    assert 19 < rate < 24, rate
    ratio = float(prom.query('job:http_requests_5xx:ratio_rate5m{job="unified-api"}')[0]["value"][1])
    assert 0.005 < ratio < 0.01, ratio
    p95 = {r["metric"]["route"]: float(r["value"][1]) for r in prom.query(
        'histogram_quantile(0.95, sum by (route, le) (rate(http_request_duration_seconds_bucket{job="unified-api"}[1m])))')}
    assert p95["/v1/memories/import"] > 0.5 > p95["/v1/memories/{id}"], p95
