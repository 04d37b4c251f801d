"""The Grafana modules against a real Grafana, when one is given.

Set GRAFANA_URL and either GRAFANA_TOKEN (a service account token with the Admin role) or GRAFANA_USER and
GRAFANA_PASSWORD, then run:

    GRAFANA_URL=http://127.0.0.1:3000 GRAFANA_TOKEN=glsa_... .venv/bin/python -m pytest -q tests/integration/test_grafana_live.py

Without them every test is skipped (and reported as skipped). The tests use uids and names with a random suffix
and delete what they created, also when they fail. They do not start Molecule.
"""

import os
import uuid

import pytest
from ansible_collections.vigil.observability.tests.unit.plugins.modules.grafana_testlib import (
    exported_dashboard,
    load,
    run_module,
    simple_dashboard,
)

URL = os.environ.get("GRAFANA_URL")
TOKEN = os.environ.get("GRAFANA_TOKEN")
USER = os.environ.get("GRAFANA_USER", "admin")
PASSWORD = os.environ.get("GRAFANA_PASSWORD")

pytestmark = pytest.mark.skipif(
    not URL or not (TOKEN or PASSWORD),
    reason="no real Grafana: set GRAFANA_URL and GRAFANA_TOKEN (or GRAFANA_USER and GRAFANA_PASSWORD) to run these",
)

grafana_dashboard = load("modules.grafana_dashboard")
grafana_dashboard_info = load("modules.grafana_dashboard_info")
grafana_datasource = load("modules.grafana_datasource")
grafana_folder = load("modules.grafana_folder")
grafana_service_account = load("modules.grafana_service_account")
grafana_admin_password = load("modules.grafana_admin_password")

SUFFIX = uuid.uuid4().hex[:8]


def conn():
    params = {"url": URL, "validate_certs": os.environ.get("GRAFANA_VALIDATE_CERTS", "true") != "false"}
    if os.environ.get("GRAFANA_CA_PATH"):
        params["ca_path"] = os.environ["GRAFANA_CA_PATH"]
    if TOKEN:
        params["token"] = TOKEN
    else:
        params.update(url_username=USER, url_password=PASSWORD)
    return params


def ok(module, params, **kwargs):
    outcome, result = run_module(module, dict(conn(), **params), **kwargs)
    assert outcome == "exit", result
    return result


@pytest.fixture
def folder():
    uid = "vigil-it-%s" % SUFFIX
    ok(grafana_folder, {"uid": uid, "title": "Vigil integration %s" % SUFFIX})
    yield uid
    run_module(grafana_folder, dict(conn(), uid=uid, state="absent"))


@pytest.fixture
def datasource():
    uid = "vigil-it-prom-%s" % SUFFIX
    yield uid
    run_module(grafana_datasource, dict(conn(), uid=uid, name="Vigil IT %s" % SUFFIX, state="absent"))


def test_dashboard_round_trip(folder, tmp_path):
    directory = tmp_path / "dashboards"
    directory.mkdir()
    import json

    for i in range(3):
        (directory / ("d%d.json" % i)).write_text(json.dumps(simple_dashboard("vigil-it-%s-%d" % (SUFFIX, i),
                                                                              "Vigil IT %s %d" % (SUFFIX, i))))
    (directory / "shared.json").write_text(json.dumps(exported_dashboard("vigil-it-%s-shared" % SUFFIX,
                                                                         "Vigil IT %s shared" % SUFFIX)))
    params = {"path": str(directory), "folder_uid": folder, "datasources": {"DS_PROMETHEUS": "prometheus"}}
    result = ok(grafana_dashboard, params)
    assert [d["action"] for d in result["dashboards"]] == ["created"] * 4
    # The real Grafana stores what we sent: the re-run and check mode see no change.
    result = ok(grafana_dashboard, params)
    assert result["changed"] is False, result
    result = ok(grafana_dashboard, params, check_mode=True, diff=True)
    assert result["changed"] is False
    info = ok(grafana_dashboard_info, {"folder_uid": folder})
    assert len(info["dashboards"]) == 4
    (directory / "d1.json").write_text(json.dumps(simple_dashboard("vigil-it-%s-1" % SUFFIX, "Vigil IT %s 1" % SUFFIX,
                                                                   panels=5)))
    result = ok(grafana_dashboard, params)
    assert [d["action"] for d in result["dashboards"]] == ["unchanged", "updated", "unchanged", "unchanged"]
    result = ok(grafana_dashboard, dict(params, state="absent"))
    assert result["changed"] is True


def test_version_conflict(folder):
    uid = "vigil-it-%s-conflict" % SUFFIX
    ok(grafana_dashboard, {"dashboard": simple_dashboard(uid, "Conflict %s" % SUFFIX), "folder_uid": folder})
    api = load("module_utils.grafana_api").GrafanaClient(dict(conn(), timeout=10, org_id=None, url_username=USER))
    current = api.get("/api/dashboards/uid/%s" % uid, "dashboard")
    # Someone saves in between: the version we would send is now stale.
    stale = dict(current["dashboard"], title="Conflict %s edited" % SUFFIX)
    api.request("POST", "/api/dashboards/db", "dashboard", payload={"dashboard": stale, "folderUid": folder})
    model = dict(current["dashboard"], title="Conflict %s ours" % SUFFIX)
    grafana_api = load("module_utils.grafana_api")
    with pytest.raises(grafana_api.GrafanaAPIError) as info:
        api.request("POST", "/api/dashboards/db", "dashboard uid %r" % uid,
                    payload={"dashboard": model, "folderUid": folder, "overwrite": False})
    assert info.value.status == 412 and info.value.grafana_status == "version-mismatch"


def test_nested_folder(folder):
    child = "vigil-it-%s-child" % SUFFIX
    result = ok(grafana_folder, {"uid": child, "title": "Child", "parent_uid": folder})
    assert result["changed"] is True
    assert ok(grafana_folder, {"uid": child, "title": "Child", "parent_uid": folder})["changed"] is False
    ok(grafana_folder, {"uid": child, "state": "absent"})


def test_datasource(datasource):
    params = {"uid": datasource, "name": "Vigil IT %s" % SUFFIX, "type": "prometheus",
              "datasource_url": "http://127.0.0.1:9090", "json_data": {"httpMethod": "POST"},
              "basic_auth_user": "u", "basic_auth_password": "sentinel-%s" % SUFFIX}
    result = ok(grafana_datasource, params)
    assert result["changed"] is True
    assert "sentinel-%s" % SUFFIX not in str(result)
    assert ok(grafana_datasource, params)["changed"] is False


def test_service_account(tmp_path):
    name = "vigil-it-%s" % SUFFIX
    token_file = tmp_path / "token"
    try:
        result = ok(grafana_service_account, {"name": name, "role": "Viewer", "token_name": "it",
                                              "token_file": str(token_file)})
        assert result["changed"] is True and token_file.exists()
        key = token_file.read_text().strip()
        assert key not in str(result)
        assert ok(grafana_service_account, {"name": name, "role": "Viewer", "token_name": "it",
                                            "token_file": str(token_file)})["changed"] is False
    finally:
        run_module(grafana_service_account, dict(conn(), name=name, state="absent"))


def test_admin_password_login_check():
    if TOKEN or not PASSWORD:
        pytest.skip("needs GRAFANA_PASSWORD (the admin password) to check the login")
    outcome, result = run_module(grafana_admin_password, {"url": URL, "url_username": USER, "password": PASSWORD,
                                                          "grafana_cli": "/nonexistent/grafana"}, check_mode=True)
    assert outcome == "exit" and result["changed"] is False, result
