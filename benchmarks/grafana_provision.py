#!/usr/bin/env python3
"""Provisioning benchmark for the grafana_dashboard module (bulk form).

Writes 100 generated dashboards (10 panels each, with templating, thresholds and two queries per panel: about the
size of the dashboards in files/dashboards) to a temporary directory and provisions them into a folder of the
in-process fake Grafana (tests/unit/fake_grafana.py; no real Grafana runs here) with the module run in-process,
first cold (empty Grafana) and then again unchanged. For each run it prints the seconds and the HTTP requests per
dashboard, reads (GET) and writes (POST, PUT, PATCH, DELETE) separately.

Exit status: 0 when the unchanged re-run made no write and at most one read per dashboard plus the single search
(one request per 5,000 dashboards), 1 otherwise.

    .venv/bin/python benchmarks/grafana_provision.py [--dashboards 100] [--panels 10]
"""

import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".cache", "collections"))

from ansible_collections.vigil.observability.tests.unit.plugins.modules.fake_grafana import FakeGrafana  # noqa: E402
from ansible_collections.vigil.observability.tests.unit.plugins.modules.grafana_testlib import (  # noqa: E402
    TOKEN,
    load,
    run_module,
)

grafana_dashboard = load("modules.grafana_dashboard")

FOLDER = "vigil-bench"


def panel(index, dashboard):
    return {
        "id": index + 1,
        "type": "timeseries",
        "title": "Requests %d of service %d" % (index, dashboard),
        "description": "Request rate and error ratio per route for service %d." % dashboard,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 12, "x": (index % 2) * 12, "y": (index // 2) * 8},
        "fieldConfig": {
            "defaults": {
                "unit": "reqps",
                "color": {"mode": "palette-classic"},
                "custom": {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "spanNulls": False},
                "thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": None},
                                                              {"color": "red", "value": 80}]},
            },
            "overrides": [],
        },
        "options": {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["mean", "max"]},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
        "targets": [
            {"refId": "A", "datasource": {"type": "prometheus", "uid": "${datasource}"},
             "expr": 'sum by (route) (rate(http_server_request_duration_seconds_count{job="svc-%d",'
                     'route=~"$route"}[$__rate_interval]))' % dashboard,
             "legendFormat": "{{route}}"},
            {"refId": "B", "datasource": {"type": "prometheus", "uid": "${datasource}"},
             "expr": 'sum(rate(http_server_request_duration_seconds_count{job="svc-%d",status=~"5.."}'
                     '[$__rate_interval])) / sum(rate(http_server_request_duration_seconds_count{job="svc-%d"}'
                     '[$__rate_interval]))' % (dashboard, dashboard),
             "legendFormat": "error ratio"},
        ],
    }


def dashboard(number, panels):
    return {
        "uid": "bench-%03d" % number,
        "title": "Benchmark service %03d" % number,
        "tags": ["vigil", "benchmark"],
        "timezone": "utc",
        "schemaVersion": 39,
        "editable": False,
        "graphTooltip": 1,
        "refresh": "1m",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [
            {"name": "datasource", "type": "datasource", "query": "prometheus", "current": {}, "hide": 0},
            {"name": "route", "type": "query", "datasource": {"type": "prometheus", "uid": "${datasource}"},
             "query": 'label_values(http_server_request_duration_seconds_count{job="svc-%d"}, route)' % number,
             "includeAll": True, "multi": True, "refresh": 2, "current": {}},
        ]},
        "annotations": {"list": []},
        "panels": [panel(i, number) for i in range(panels)],
    }


def provision(grafana, directory):
    grafana.clear_log()
    params = {"url": grafana.url(), "token": TOKEN, "path": directory, "folder_uid": FOLDER}
    start = time.perf_counter()
    outcome, result = run_module(grafana_dashboard, params)
    seconds = time.perf_counter() - start
    if outcome != "exit":
        raise SystemExit("grafana_dashboard failed: %s" % result.get("msg"))
    reads = grafana.count("GET")
    writes = len(grafana.mutating())
    searches = grafana.count("GET", "/api/search")
    return seconds, reads, writes, searches, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dashboards", type=int, default=100)
    parser.add_argument("--panels", type=int, default=10)
    args = parser.parse_args()
    n = args.dashboards

    with tempfile.TemporaryDirectory() as directory, FakeGrafana(tokens={TOKEN: "Admin"}) as grafana:
        sizes = []
        for i in range(n):
            text = json.dumps(dashboard(i, args.panels), indent=2)
            sizes.append(len(text))
            with open(os.path.join(directory, "bench-%03d.json" % i), "w") as f:
                f.write(text)
        grafana.put_folder(FOLDER, "Vigil benchmark")
        print("grafana_dashboard bulk provisioning against the in-process fake Grafana (not a real Grafana)")
        print("%d dashboards, %d panels each, %.1f KiB JSON each on average" % (n, args.panels, sum(sizes) / n / 1024))
        print("%-10s %9s %11s %12s %13s %9s %9s" % ("run", "seconds", "ms/dash", "reads/dash", "writes/dash",
                                                   "searches", "changed"))
        runs = {}
        for name in ("cold", "unchanged"):
            seconds, reads, writes, searches, result = provision(grafana, directory)
            changed = sum(1 for d in result["dashboards"] if d["action"] != "unchanged")
            runs[name] = (reads, writes, searches)
            print("%-10s %9.2f %11.1f %12.2f %13.2f %9d %9d" % (name, seconds, seconds * 1000 / n, reads / n,
                                                             writes / n, searches, changed))
        reads, writes, searches = runs["unchanged"]
        limit = n + searches
        ok = writes == 0 and reads <= limit and searches == (n // 5000) + 1
        print("unchanged re-run: %d writes (limit 0), %d reads (limit %d = one per dashboard + %d search): %s" % (
            writes, reads, limit, searches, "OK" if ok else "FAILED"))
        cold_reads, cold_writes, _ = runs["cold"]
        print("cold run: %d reads (only the search: new dashboards need no read), %d writes" % (cold_reads, cold_writes))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
