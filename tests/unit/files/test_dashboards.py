"""The shipped Grafana dashboards (files/dashboards): structure, the rules of docs/dashboards.md, PromQL that
promtool parses, metric names that docs/metrics.md documents, and thresholds that agree with the alert rules.

Whether the queries return data against a real Prometheus is checked by the Molecule scenario `prometheus`
(molecule/prometheus/tests/test_40_dashboards.py). promtool comes from `scripts/ensure-tools.sh`.
"""

import glob
import json
import os
import re

import pytest
import yaml
from ansible_collections.vigil.observability.tests.helpers import ROOT, run, tool

DASHBOARDS_DIR = os.path.join(ROOT, "files", "dashboards")
RULES_DIR = os.path.join(ROOT, "files", "rules")
METRICS_DOC = os.path.join(ROOT, "docs", "metrics.md")
DASHBOARDS_DOC = os.path.join(ROOT, "docs", "dashboards.md")
DASHBOARD_FILES = sorted(glob.glob(os.path.join(DASHBOARDS_DIR, "*.json")))
IDS = [os.path.basename(path) for path in DASHBOARD_FILES]
DATASOURCE_REF = {"type": "prometheus", "uid": "${datasource}"}
# Grafana's own built-in annotation query is the only other data source a dashboard may name.
BUILTIN_DATASOURCE = {"type": "grafana", "uid": "-- Grafana --"}
MIN_SCHEMA_VERSION = 39  # Grafana 11.0
PANEL_TYPES = {"timeseries", "stat", "table", "bargauge"}
# Values the Grafana built-ins take for the promtool check (any valid duration would do).
BUILTINS = {"__rate_interval": "1m", "__interval": "30s", "__range": "6h", "__interval_ms": "30000",
            "__range_s": "21600", "__range_ms": "21600000"}
PLACEHOLDER = "vigil_placeholder"
METRIC_TOKEN = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or",
                "unless", "inf", "nan", "atan2", "start", "end"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def load(path):
    with open(path) as handle:
        return json.load(handle)


DASHBOARDS = {os.path.basename(path): load(path) for path in DASHBOARD_FILES}


def panels_of(dashboard):
    """Every panel except rows, including panels nested in collapsed rows."""
    out = []
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            out.extend(panel.get("panels", []))
        else:
            out.append(panel)
    return out


def variables_of(dashboard):
    return dashboard.get("templating", {}).get("list", [])


def variable_query(variable):
    query = variable.get("query")
    return query.get("query", "") if isinstance(query, dict) else (query or "")


def substitute(expr, variables, builtins=None):
    """expr with Grafana's variables replaced: built-ins by durations, the dashboard's own by `values`.

    variables maps a variable name to the text to put in its place. Only names the dashboard (or Grafana)
    defines are replaced, so regex back-references such as label_replace's "$1" stay as they are.
    """
    values = dict(builtins if builtins is not None else BUILTINS)
    values.update(variables)

    def replace(match):
        name = match.group(1) or match.group(2) or match.group(3)
        return values[name] if name in values else match.group(0)

    return re.sub(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::\w+)?\]\]", replace, expr)


def variable_expressions(query):
    """The PromQL expressions inside a Prometheus template-variable query (label_values, query_result)."""
    query = query.strip()
    match = re.fullmatch(r"label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)", query, re.S)
    if match:
        return [match.group(1)]
    match = re.fullmatch(r"query_result\((.*)\)", query, re.S)
    if match:
        return [match.group(1)]
    if re.fullmatch(r"(label_values\(\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)|label_names\(.*\)|metrics\(.*\))", query, re.S):
        return []
    raise AssertionError("not a Prometheus template-variable query: %r" % query)


def expressions(name, dashboard):
    """(where, expression) for every panel target and template-variable query of a dashboard."""
    out = []
    for panel in panels_of(dashboard):
        for target in panel.get("targets", []):
            out.append(("%s: panel %r target %s" % (name, panel.get("title"), target.get("refId")),
                        target.get("expr", "")))
    for variable in variables_of(dashboard):
        if variable.get("type") == "query":
            for expr in variable_expressions(variable_query(variable)):
                out.append(("%s: variable %s" % (name, variable["name"]), expr))
    return out


def placeholders(dashboard):
    return {v["name"]: PLACEHOLDER for v in variables_of(dashboard)}


def promtool_problems(checks, tmp_path):
    """Run `promtool check rules` over the expressions (where, expr); return one message per broken expression.

    All expressions go into one rule file first; only when promtool refuses it is each expression checked on
    its own, so that the message names the panel.
    """

    def check(items, path):
        rules = [{"record": "vigil_dashboard_check_%d" % index, "expr": expr} for index, (_, expr) in enumerate(items)]
        path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}, sort_keys=False))
        return run([tool("promtool"), "check", "rules", str(path)])

    rc, out = check(checks, tmp_path / "all.yml")
    if rc == 0:
        return []
    problems = []
    for index, (where, expr) in enumerate(checks):
        rc, out = check([(where, expr)], tmp_path / ("one-%d.yml" % index))
        if rc != 0:
            problems.append("%s: promtool refuses %r:\n%s" % (where, expr, out.strip()))
    assert problems, "promtool refused the file but no single expression:\n" + out
    return problems


def metric_names(expr):
    """Metric names an expression reads (label names, functions, keywords, strings and durations left out)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    text = re.sub(r"\{[^}]*\}", "{}", text)
    text = re.sub(r"\[[^\]]*\]", "[]", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in METRIC_TOKEN.finditer(text):
        token = match.group(0)
        rest = text[match.end():].lstrip()
        if token in PROMQL_WORDS or rest.startswith("("):
            continue
        if match.start() > 0 and (text[match.start() - 1].isdigit() or text[match.start() - 1] == "."):
            continue  # the exponent or unit of a number such as 1e3
        names.add(token)
    return names


def documented_metrics():
    with open(METRICS_DOC) as handle:
        text = handle.read()
    names = set()
    for code in re.findall(r"`([^`\n]+)`", text):
        names.update(METRIC_TOKEN.findall(code))
    return names


def recorded_series():
    names = set()
    for path in glob.glob(os.path.join(RULES_DIR, "*.yml")):
        with open(path) as handle:
            for group in yaml.safe_load(handle)["groups"]:
                names.update(rule["record"] for rule in group["rules"] if "record" in rule)
    return names


def is_known(name, known):
    return name in known or any(name.endswith(s) and name[: -len(s)] in known for s in HISTOGRAM_SUFFIXES)


def datasource_refs(node, path="$"):
    """(path, value) of every `datasource` field anywhere in a dashboard."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield path + "." + key, value
            yield from datasource_refs(value, path + "." + key)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from datasource_refs(value, "%s[%d]" % (path, index))


def threshold_values(panel):
    values = set()
    defaults = panel.get("fieldConfig", {}).get("defaults", {})
    blocks = [defaults.get("thresholds")]
    for override in panel.get("fieldConfig", {}).get("overrides", []):
        blocks += [p.get("value") for p in override.get("properties", []) if p.get("id") == "thresholds"]
    for block in blocks:
        for step in (block or {}).get("steps", []):
            if step.get("value") is not None:
                values.add(float(step["value"]))
    return values


def dashboard_problems(name, dashboard):
    """Everything in one dashboard that breaks the rules of docs/dashboards.md (empty when it is fine)."""
    problems = []
    stem = os.path.splitext(name)[0]
    if dashboard.get("uid") != "vigil-" + stem:
        problems.append("%s: uid must be vigil-%s (the file name), got %r" % (name, stem, dashboard.get("uid")))
    if not str(dashboard.get("title", "")).startswith("Vigil / "):
        problems.append("%s: title must start with 'Vigil / '" % name)
    if "vigil" not in dashboard.get("tags", []) or len(dashboard.get("tags", [])) < 2:
        problems.append("%s: tags must be 'vigil' and at least one more" % name)
    if not dashboard.get("description"):
        problems.append("%s: the dashboard needs a description" % name)
    if int(dashboard.get("schemaVersion", 0)) < MIN_SCHEMA_VERSION:
        problems.append("%s: schemaVersion must be at least %d" % (name, MIN_SCHEMA_VERSION))
    if "__inputs" in dashboard or "__requires" in dashboard:
        problems.append("%s: shipped dashboards are not exports for sharing (__inputs/__requires)" % name)
    if dashboard.get("id") is not None:
        problems.append("%s: id must be null (Grafana assigns it)" % name)
    if not any(link.get("type") == "dashboards" and "vigil" in link.get("tags", []) for link in dashboard.get("links", [])):
        problems.append("%s: needs the dashboards link to tag 'vigil'" % name)

    variables = variables_of(dashboard)
    if not variables or variables[0].get("name") != "datasource" or variables[0].get("type") != "datasource" \
            or variables[0].get("query") != "prometheus":
        problems.append("%s: the first template variable must be 'datasource' of type datasource, query prometheus"
                        % name)
    names = [v.get("name") for v in variables]
    if len(names) != len(set(names)):
        problems.append("%s: duplicate template variables %s" % (name, names))
    for variable in variables[1:]:
        if variable.get("type") == "query" and variable.get("datasource") != DATASOURCE_REF:
            problems.append("%s: variable %s must query %s" % (name, variable.get("name"), DATASOURCE_REF))
        if not variable.get("description"):
            problems.append("%s: variable %s needs a description" % (name, variable.get("name")))
    for path, value in datasource_refs(dashboard):
        if value not in (DATASOURCE_REF, BUILTIN_DATASOURCE) and not path.startswith("$.templating.list[0]"):
            problems.append("%s: %s is %r; every query must use %s, never a fixed data source" % (
                name, path, value, DATASOURCE_REF))

    top = dashboard.get("panels", [])
    if not top or top[0].get("type") != "row":
        problems.append("%s: panels must start with a row" % name)
    ids = [p.get("id") for p in top] + [p.get("id") for p in panels_of(dashboard) if p not in top]
    if len(ids) != len(set(ids)) or None in ids:
        problems.append("%s: panel ids must be unique integers" % name)
    cells = {}
    for panel in top:
        pos = panel.get("gridPos", {})
        if not all(isinstance(pos.get(k), int) for k in ("x", "y", "w", "h")) or pos["x"] + pos["w"] > 24:
            problems.append("%s: panel %r: gridPos must fit in 24 columns: %r" % (name, panel.get("title"), pos))
            continue
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                if (x, y) in cells:
                    problems.append("%s: panels %r and %r overlap" % (name, cells[(x, y)], panel.get("title")))
                    break
                cells[(x, y)] = panel.get("title")
            else:
                continue
            break

    defined = set(names) | set(BUILTINS)
    for panel in panels_of(dashboard):
        title = panel.get("title")
        where = "%s: panel %r" % (name, title)
        if not title:
            problems.append("%s: a panel (id %s) has no title" % (name, panel.get("id")))
        if panel.get("type") not in PANEL_TYPES:
            problems.append("%s: type %r is not one of %s" % (where, panel.get("type"), sorted(PANEL_TYPES)))
        if len(panel.get("description", "")) < 20:
            problems.append("%s: needs a description that says what it shows" % where)
        if panel.get("datasource") != DATASOURCE_REF:
            problems.append("%s: datasource must be %s" % (where, DATASOURCE_REF))
        if not panel.get("fieldConfig", {}).get("defaults", {}).get("unit"):
            problems.append("%s: needs a unit (fieldConfig.defaults.unit)" % where)
        targets = panel.get("targets") or []
        if not targets:
            problems.append("%s: has no query" % where)
        refs = [t.get("refId") for t in targets]
        if None in refs or "" in refs or len(refs) != len(set(refs)):
            problems.append("%s: every target needs its own refId, got %s" % (where, refs))
        for target in targets:
            expr = target.get("expr", "")
            if not expr.strip():
                problems.append("%s: target %s has no expression" % (where, target.get("refId")))
            used = {m.group(1) or m.group(2) for m in re.finditer(r"\$\{(\w+)[^}]*\}|\$([a-zA-Z_]\w*)", expr)}
            if used - defined:
                problems.append("%s: uses undefined variables %s" % (where, sorted(used - defined)))
            unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
            for function, window in re.findall(r"\b(rate|irate|increase)\s*\([^\[]*\[([^\]]*)\]", unquoted):
                if window not in ("$__rate_interval", "$__range"):
                    problems.append("%s: %s over [%s]; use [$__rate_interval] (or [$__range] for totals over the "
                                    "time range)" % (where, function, window))
    return problems


@pytest.mark.parametrize("name", IDS)
def test_dashboard_follows_the_rules_of_docs_dashboards_md(name):
    assert dashboard_problems(name, DASHBOARDS[name]) == []


def test_seven_dashboards_with_unique_uids_and_titles():
    assert len(DASHBOARDS) >= 7, IDS
    uids = [d["uid"] for d in DASHBOARDS.values()]
    titles = [d["title"] for d in DASHBOARDS.values()]
    assert len(set(uids)) == len(uids) and len(set(titles)) == len(titles), (uids, titles)
    assert {"vigil-overview", "vigil-api-performance", "vigil-database", "vigil-business", "vigil-node",
            "vigil-alerting"} <= set(uids)


def test_links_between_dashboards_point_at_shipped_uids():
    uids = {d["uid"] for d in DASHBOARDS.values()}
    text = json.dumps(list(DASHBOARDS.values()))
    linked = set(re.findall(r"/d/([a-zA-Z0-9_-]+)", text))
    assert linked and linked <= uids, linked - uids


@pytest.mark.parametrize("name", IDS)
def test_every_expression_parses_with_promtool(name, tmp_path):
    checks = [(where, substitute(expr, placeholders(DASHBOARDS[name]))) for where, expr in expressions(name, DASHBOARDS[name])]
    assert checks
    assert promtool_problems(checks, tmp_path) == []


def test_promtool_check_names_a_broken_expression(tmp_path):
    """The check above can fail: an unbalanced parenthesis is refused, and the message names the panel."""
    broken = {"uid": "vigil-broken", "templating": {"list": [
        {"name": "instance", "type": "query", "query": 'label_values(up{job="node"}, instance)'}]}, "panels": [
        {"type": "timeseries", "title": "Fine", "targets": [{"refId": "A", "expr": 'up{instance=~"$instance"}'}]},
        {"type": "timeseries", "title": "Broken", "targets": [
            {"refId": "B", "expr": 'sum by (job) (rate(http_requests_total[$__rate_interval])'}]}]}
    checks = [(where, substitute(expr, placeholders(broken))) for where, expr in expressions("broken.json", broken)]
    problems = promtool_problems(checks, tmp_path)
    assert len(problems) == 1 and "panel 'Broken' target B" in problems[0], problems


def test_substitution_replaces_only_defined_variables():
    expr = 'label_replace(rate(x{job=~"$service", i="${instance}"}[$__rate_interval]), "a", "$1", "b", "(.*)")'
    assert substitute(expr, {"service": "api", "instance": "db"}) == \
        'label_replace(rate(x{job=~"api", i="db"}[1m]), "a", "$1", "b", "(.*)")'
    assert substitute('up{job="[[job:text]]"}[$__range]', {"job": "x"}) == 'up{job="x"}[6h]'


def test_variable_queries_are_understood():
    assert variable_expressions('label_values(up{job="node"}, instance)') == ['up{job="node"}']
    assert variable_expressions("query_result(topk(5, up))") == ["topk(5, up)"]
    assert variable_expressions("label_values(job)") == []
    with pytest.raises(AssertionError):
        variable_expressions("up{job=}")


def test_metric_names_are_extracted_from_expressions():
    expr = ('sum by (job, le) (rate(http_request_duration_seconds_bucket{route=~"a|b"}[$__rate_interval]))'
            ' / on (instance) group_left count(node_cpu_seconds_total{mode="idle"}) * 1e3 or vector(0)'
            ' - job:http_requests:rate5m offset 5m')
    assert metric_names(expr) == {"http_request_duration_seconds_bucket", "node_cpu_seconds_total",
                                  "job:http_requests:rate5m"}


@pytest.mark.parametrize("name", IDS)
def test_every_metric_is_documented_in_docs_metrics_md_or_recorded_by_a_shipped_rule(name):
    known = documented_metrics() | recorded_series()
    unknown = {}
    for where, expr in expressions(name, DASHBOARDS[name]):
        for metric in metric_names(expr):
            if not is_known(metric, known):
                unknown.setdefault(metric, where)
    assert unknown == {}, "not in docs/metrics.md nor recorded by files/rules: %s" % unknown


def test_documentation_check_can_fail():
    known = documented_metrics() | recorded_series()
    assert is_known("http_request_duration_seconds_bucket", known)
    assert is_known("job:http_requests:rate5m", known)
    assert not is_known("http_request_duration_seconds_bucketz", known)
    assert not is_known("memory_made_up_total", known)


# Recording rule -> alerts reading it with `<series> > <threshold>`; a panel that plots the series must mark
# those thresholds, so a red cell on a dashboard means the same as the alert.
ALERT_THRESHOLDS = {
    "job:http_request_duration_seconds:p95_5m": ["ServiceLatencyP95High"],
    "job:http_requests_5xx:ratio_rate5m": ["ServiceErrorRateHigh", "ServiceErrorRateCritical"],
    "instance:node_cpu_utilisation:rate5m": ["NodeCPUHighUsage"],
    "instance:node_memory_utilisation:ratio": ["NodeMemoryHighUtilization"],
    "instance:pg_connections:ratio": ["PostgresConnectionsHigh", "PostgresConnectionsExhausted"],
}


def alert_thresholds():
    alerts = {}
    for path in glob.glob(os.path.join(RULES_DIR, "*.yml")):
        with open(path) as handle:
            for group in yaml.safe_load(handle)["groups"]:
                alerts.update({r["alert"]: r["expr"] for r in group["rules"] if "alert" in r})
    out = {}
    for series, names in ALERT_THRESHOLDS.items():
        for alert in names:
            match = re.search(re.escape(series) + r"\s*>\s*([0-9.]+)", alerts[alert])
            assert match, "%s no longer compares %s with a threshold" % (alert, series)
            out.setdefault(series, set()).add(float(match.group(1)))
    return out


def test_panels_mark_the_thresholds_of_the_alerts_on_the_series_they_show():
    expected = alert_thresholds()
    assert expected["job:http_request_duration_seconds:p95_5m"] == {0.5}
    problems, seen = [], set()
    for name, dashboard in DASHBOARDS.items():
        for panel in panels_of(dashboard):
            exprs = " ".join(t.get("expr", "") for t in panel.get("targets", []))
            for series, values in expected.items():
                if re.search(re.escape(series) + r"(?![\w:])", exprs):
                    seen.add(series)
                    if not values <= threshold_values(panel):
                        problems.append("%s: panel %r shows %s but marks thresholds %s, not the alerts' %s" % (
                            name, panel["title"], series, sorted(threshold_values(panel)), sorted(values)))
    assert problems == []
    assert seen == set(expected), "no panel shows %s" % (set(expected) - seen)


def test_docs_dashboards_md_lists_every_dashboard_and_panel():
    with open(DASHBOARDS_DOC) as handle:
        doc = handle.read()
    missing = []
    for dashboard in DASHBOARDS.values():
        if "`%s`" % dashboard["uid"] not in doc:
            missing.append(dashboard["uid"])
        missing += ["%s: %s" % (dashboard["uid"], p["title"]) for p in panels_of(dashboard) if p["title"] not in doc]
    assert missing == []
