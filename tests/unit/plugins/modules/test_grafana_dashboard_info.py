"""grafana_dashboard_info against the fake Grafana: by uid, by folder, all; read-only, round trip."""

from ansible_collections.vigil.observability.tests.unit.plugins.modules.grafana_testlib import (
    VIEWER_TOKEN,
    load,
    run_module,
    simple_dashboard,
)

grafana_dashboard = load("modules.grafana_dashboard")
grafana_dashboard_info = load("modules.grafana_dashboard_info")


def run(params, **kwargs):
    return run_module(grafana_dashboard_info, params, **kwargs)


def seed(grafana):
    grafana.put_folder("vigil", "Vigil")
    grafana.put_dashboard(simple_dashboard("b", "Beta"), folder_uid="vigil")
    grafana.put_dashboard(simple_dashboard("a", "Alpha"), folder_uid="vigil")
    grafana.put_dashboard(simple_dashboard("root", "Root"))


def test_by_uid_folder_and_all(grafana, conn):
    seed(grafana)
    outcome, result = run(dict(conn, uid="a"))
    assert outcome == "exit", result
    assert result["changed"] is False
    [item] = result["dashboards"]
    assert item["uid"] == "a" and item["folder_uid"] == "vigil" and item["version"] == 1
    assert "id" not in item["dashboard"] and "version" not in item["dashboard"]
    outcome, result = run(dict(conn, folder_uid="vigil"))
    assert [d["uid"] for d in result["dashboards"]] == ["a", "b"]
    outcome, result = run(dict(conn, folder_uid="general"))
    assert [d["uid"] for d in result["dashboards"]] == ["root"]
    grafana.clear_log()
    outcome, result = run(dict(conn, include_json=False))
    assert [d["uid"] for d in result["dashboards"]] == ["a", "b", "root"]
    assert "dashboard" not in result["dashboards"][0] and grafana.count("GET") == 1
    outcome, result = run(dict(conn, uid="missing"))
    assert result["dashboards"] == []
    outcome, result = run(dict(conn, uid="a", normalized=False))
    assert result["dashboards"][0]["dashboard"]["version"] == 1
    assert grafana.mutating() == []


def test_viewer_can_read_and_round_trip_is_unchanged(grafana, conn):
    seed(grafana)
    outcome, result = run(dict(conn, token=VIEWER_TOKEN, uid="b"), check_mode=True)
    assert outcome == "exit", result
    model = result["dashboards"][0]["dashboard"]
    grafana.clear_log()
    outcome, result = run_module(grafana_dashboard, dict(conn, dashboard=model, folder_uid="vigil"))
    assert result["changed"] is False and grafana.mutating() == []
