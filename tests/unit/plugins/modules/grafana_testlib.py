"""Shared helpers of the Grafana module tests: run a module in-process against the fake Grafana."""

import importlib
import json
from unittest import mock

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.vigil.observability.tests.unit.plugins.modules.fake_grafana import FakeGrafana

TOKEN = "glsa_SENTINEL_token_4f1c2e9a"          # noqa: S105 (test sentinel)
VIEWER_TOKEN = "glsa_SENTINEL_viewer_77aa01"    # noqa: S105
EDITOR_TOKEN = "glsa_SENTINEL_editor_99bb02"    # noqa: S105
ADMIN_PASSWORD = "SENTINEL-admin-pw-3e8d"       # noqa: S105


PACKAGE = "ansible_collections.vigil.observability.plugins"


def load(name):
    """A module of the collection, for example load("modules.grafana_dashboard") or load("module_utils.grafana_api")."""
    return importlib.import_module("%s.%s" % (PACKAGE, name))


class ExitJson(Exception):
    pass


class FailJson(Exception):
    pass


def _exit_json(self, **kwargs):
    raise ExitJson(kwargs)


def _fail_json(self, **kwargs):
    raise FailJson(kwargs)


def run_module(module, params, check_mode=False, diff=False):
    """Run module.main() with params; returns ("exit" | "fail", result dict)."""
    args = dict(params, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), \
            mock.patch.object(basic.AnsibleModule, "exit_json", _exit_json), \
            mock.patch.object(basic.AnsibleModule, "fail_json", _fail_json):
        try:
            module.main()
        except ExitJson as exc:
            return "exit", exc.args[0]
        except FailJson as exc:
            return "fail", exc.args[0]
    raise AssertionError("the module neither exited nor failed")


def assert_no_secret(result, *secrets):
    """No secret appears anywhere in the (JSON-serialised) result."""
    text = json.dumps(result, default=str)
    for secret in secrets:
        assert secret not in text, "secret %r found in %s" % (secret, text[:2000])


def exported_dashboard(uid="node-exporter-shared", title="Node Exporter (shared)"):
    """A dashboard as grafana.com serves one: "Export for sharing externally" with __inputs and ${DS_...}."""
    return {
        "__inputs": [
            {"name": "DS_PROMETHEUS", "label": "Prometheus", "description": "", "type": "datasource",
             "pluginId": "prometheus", "pluginName": "Prometheus"},
            {"name": "VAR_JOB", "type": "constant", "label": "job", "value": "node", "description": ""},
        ],
        "__elements": {},
        "__requires": [
            {"type": "grafana", "id": "grafana", "name": "Grafana", "version": "10.4.1"},
            {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
            {"type": "panel", "id": "timeseries", "name": "Time series", "version": ""},
        ],
        "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                                  "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
                                  "name": "Annotations & Alerts", "type": "dashboard"}]},
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [],
        "panels": [
            {"datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"},
             "fieldConfig": {"defaults": {"unit": "percentunit"}, "overrides": []},
             "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0}, "id": 1, "title": "CPU busy",
             "type": "timeseries",
             "targets": [{"datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"},
                          "expr": "1 - avg(rate(node_cpu_seconds_total{mode=\"idle\",job=\"${job}\"}[5m]))",
                          "refId": "A"}]},
            {"datasource": "${DS_PROMETHEUS}", "gridPos": {"h": 8, "w": 12, "x": 12, "y": 0}, "id": 2,
             "title": "Memory available", "type": "timeseries",
             "targets": [{"expr": "node_memory_MemAvailable_bytes{job=\"${job}\"}", "refId": "A"}]},
        ],
        "refresh": "30s",
        "schemaVersion": 39,
        "tags": ["linux"],
        "templating": {"list": [
            {"current": {"selected": False, "text": "Prometheus", "value": "${DS_PROMETHEUS}"},
             "hide": 0, "includeAll": False, "name": "datasource", "options": [], "query": "prometheus",
             "type": "datasource"},
            {"hide": 2, "name": "job", "query": "${VAR_JOB}", "type": "constant",
             "current": {"value": "${VAR_JOB}", "text": "${VAR_JOB}"}, "options": [{"value": "${VAR_JOB}"}]},
        ]},
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": "browser",
        "title": title,
        "uid": uid,
        "version": 3,
        "weekStart": "",
    }


def simple_dashboard(uid, title=None, panels=3, expr="up"):
    """A plain dashboard (what our files/dashboards hold) with a few time series panels."""
    return {
        "uid": uid,
        "title": title or "Dashboard %s" % uid,
        "tags": ["vigil"],
        "timezone": "utc",
        "schemaVersion": 39,
        "refresh": "1m",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}]},
        "panels": [
            {"id": i + 1, "type": "timeseries", "title": "Panel %d" % (i + 1),
             "datasource": {"type": "prometheus", "uid": "${datasource}"},
             "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i // 2) * 8},
             "targets": [{"expr": "%s{panel=\"%d\"}" % (expr, i), "refId": "A"}]}
            for i in range(panels)
        ],
    }


# --- fixtures: tests/unit/plugins/conftest.py wraps these in the fixtures `grafana` and `conn` ----------


def started_grafana():
    """A started fake Grafana: admin/ADMIN_PASSWORD, and TOKEN (Admin), EDITOR_TOKEN and VIEWER_TOKEN."""
    fake = FakeGrafana(admin_password=ADMIN_PASSWORD,
                       tokens={TOKEN: "Admin", EDITOR_TOKEN: "Editor", VIEWER_TOKEN: "Viewer"})
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def connection(fake):
    """The connection options of the modules for the fake, with the Admin token."""
    return {"url": fake.url(), "token": TOKEN}
