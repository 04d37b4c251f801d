"""grafana_dashboard against the fake Grafana: single and bulk forms, idempotence, check mode, conflicts, sharing."""

import copy
import json
import os

from ansible_collections.vigil.observability.tests.unit.plugins.modules.grafana_testlib import (
    EDITOR_TOKEN,
    TOKEN,
    assert_no_secret,
    exported_dashboard,
    load,
    run_module,
    simple_dashboard,
)

grafana_api = load("module_utils.grafana_api")
grafana_dashboard = load("modules.grafana_dashboard")


def run(params, **kwargs):
    return run_module(grafana_dashboard, params, **kwargs)


def write_json(path, data):
    with open(path, "w") as f:
        json.dump(data, f)
    return str(path)


# --- single form ---------------------------------------------------------------------


def test_create_then_rerun_only_reads(grafana, conn):
    outcome, result = run(dict(conn, dashboard=simple_dashboard("vigil-node", "Node")))
    assert outcome == "exit", result
    assert result["changed"] is True
    assert result["dashboards"] == [{"uid": "vigil-node", "title": "Node", "folder_uid": "", "action": "created",
                                     "version": 1}]
    stored = grafana.dashboards["vigil-node"]
    assert stored["dashboard"]["panels"] == simple_dashboard("vigil-node")["panels"]
    assert grafana.count("POST", "/api/dashboards/db") == 1
    # A new dashboard is posted with overwrite=false and no id.
    post = [r for r in grafana.requests if r["method"] == "POST"][0]["body"]
    assert post["overwrite"] is False and post["dashboard"]["id"] is None and post["folderUid"] == ""

    grafana.clear_log()
    outcome, result = run(dict(conn, dashboard=simple_dashboard("vigil-node", "Node")))
    assert outcome == "exit", result
    assert result["changed"] is False
    assert result["dashboards"][0]["action"] == "unchanged"
    assert result["dashboards"][0]["version"] == 1
    assert grafana.mutating() == []
    assert grafana.count("GET") == 1


def test_server_set_fields_and_export_sections_are_ignored(grafana, conn):
    desired = simple_dashboard("vigil-node", "Node")
    grafana.put_dashboard(dict(desired, id=77, version=12, iteration=1712345678))
    # The file still carries the id, version and iteration of the instance it was exported from.
    outcome, result = run(dict(conn, dashboard=dict(desired, id=3, version=1, iteration=1, __requires=[])))
    assert outcome == "exit", result
    assert result["changed"] is False
    assert grafana.mutating() == []


def test_update_sends_the_version_read_and_reports_the_keys(grafana, conn):
    grafana.put_dashboard(simple_dashboard("vigil-node", "Node"))
    grafana.put_dashboard(simple_dashboard("vigil-node", "Node"))  # version 2 on the server
    desired = simple_dashboard("vigil-node", "Node", panels=4)
    outcome, result = run(dict(conn, dashboard=desired, commit_message="more panels"))
    assert outcome == "exit", result
    assert result["changed"] is True
    entry = result["dashboards"][0]
    assert entry["action"] == "updated" and entry["changed_keys"] == ["panels"] and entry["version"] == 3
    post = [r for r in grafana.requests if r["method"] == "POST"][0]["body"]
    assert post["dashboard"]["version"] == 2 and post["overwrite"] is False and post["message"] == "more panels"
    assert len(grafana.dashboards["vigil-node"]["dashboard"]["panels"]) == 4


def test_moving_to_another_folder_is_a_change(grafana, conn):
    grafana.put_folder("vigil", "Vigil")
    grafana.put_dashboard(simple_dashboard("vigil-node", "Node"))
    outcome, result = run(dict(conn, dashboard=simple_dashboard("vigil-node", "Node"), folder_uid="vigil"))
    assert outcome == "exit", result
    assert result["dashboards"][0]["changed_keys"] == ["folder_uid"]
    assert grafana.dashboards["vigil-node"]["folderUid"] == "vigil"
    outcome, result = run(dict(conn, dashboard=simple_dashboard("vigil-node", "Node"), folder_uid="vigil"))
    assert result["changed"] is False


def test_missing_folder_is_named(grafana, conn):
    outcome, result = run(dict(conn, dashboard=simple_dashboard("vigil-node"), folder_uid="nope"))
    assert outcome == "fail"
    assert "dashboard uid 'vigil-node'" in result["msg"] and "folder_uid 'nope'" in result["msg"]
    assert "HTTP 400" in result["msg"]


def test_uid_option_overrides_the_json(grafana, conn, tmp_path):
    path = write_json(tmp_path / "d.json", simple_dashboard("from-file", "From file"))
    outcome, result = run(dict(conn, path=path, uid="overridden"))
    assert outcome == "exit", result
    assert set(grafana.dashboards) == {"overridden"}
    assert result["dashboards"][0]["source"] == path


def test_file_holding_an_api_answer_is_accepted(grafana, conn, tmp_path):
    path = write_json(tmp_path / "d.json", {"dashboard": simple_dashboard("wrapped", "Wrapped"), "meta": {}})
    outcome, result = run(dict(conn, path=path))
    assert outcome == "exit", result
    assert "wrapped" in grafana.dashboards


def test_delete_and_delete_again(grafana, conn):
    grafana.put_dashboard(simple_dashboard("vigil-node", "Node"))
    outcome, result = run(dict(conn, uid="vigil-node", state="absent"))
    assert outcome == "exit", result
    assert result["changed"] is True and result["dashboards"][0]["action"] == "deleted"
    assert grafana.dashboards == {}
    grafana.clear_log()
    outcome, result = run(dict(conn, uid="vigil-node", state="absent"))
    assert result["changed"] is False and result["dashboards"][0]["action"] == "unchanged"
    assert grafana.mutating() == []


def test_check_mode_create_update_delete_send_nothing(grafana, conn):
    outcome, result = run(dict(conn, dashboard=simple_dashboard("a", "A")), check_mode=True, diff=True)
    assert outcome == "exit", result
    assert result["changed"] is True and result["dashboards"][0]["action"] == "created"
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["dashboard"]["uid"] == "a"
    grafana.put_dashboard(simple_dashboard("a", "A"))
    outcome, result = run(dict(conn, dashboard=simple_dashboard("a", "A", expr="down")), check_mode=True, diff=True)
    assert result["changed"] is True and result["dashboards"][0]["action"] == "updated"
    assert result["diff"]["before"]["dashboard"]["panels"][0]["targets"][0]["expr"] == 'up{panel="0"}'
    assert result["diff"]["after"]["dashboard"]["panels"][0]["targets"][0]["expr"] == 'down{panel="0"}'
    assert "version" not in result["diff"]["before"]["dashboard"]
    outcome, result = run(dict(conn, uid="a", state="absent"), check_mode=True)
    assert result["changed"] is True and result["dashboards"][0]["action"] == "deleted"
    assert grafana.mutating() == []
    assert grafana.dashboards["a"]["version"] == 1


def test_no_diff_when_diff_mode_is_off(grafana, conn):
    outcome, result = run(dict(conn, dashboard=simple_dashboard("a", "A")))
    assert "diff" not in result


def test_version_conflict_fails_naming_the_dashboard_then_overwrite(grafana, conn):
    grafana.put_dashboard(simple_dashboard("vigil-node", "Node"))

    def someone_saves_in_the_ui(method, path):
        if method == "POST" and path == "/api/dashboards/db":
            grafana.hooks.clear()
            grafana.put_dashboard(simple_dashboard("vigil-node", "Node", expr="edited_in_ui"))

    grafana.hooks.append(someone_saves_in_the_ui)
    outcome, result = run(dict(conn, dashboard=simple_dashboard("vigil-node", "Node", panels=5)))
    assert outcome == "fail"
    msg = result["msg"]
    assert msg.startswith("dashboard uid 'vigil-node': POST %s/api/dashboards/db: HTTP 412" % grafana.url())
    assert "version conflict" in msg and "overwrite: true" in msg
    assert "changed by someone else" in msg
    assert result["changed"] is False
    assert grafana.dashboards["vigil-node"]["dashboard"]["panels"][0]["targets"][0]["expr"].startswith("edited_in_ui")

    grafana.hooks.append(someone_saves_in_the_ui)
    outcome, result = run(dict(conn, dashboard=simple_dashboard("vigil-node", "Node", panels=5), overwrite=True))
    assert outcome == "exit", result
    assert len(grafana.dashboards["vigil-node"]["dashboard"]["panels"]) == 5


def test_same_title_in_the_folder_is_a_clear_failure(grafana, conn):
    grafana.put_dashboard(simple_dashboard("other-uid", "Node"))
    outcome, result = run(dict(conn, dashboard=simple_dashboard("vigil-node", "Node")))
    assert outcome == "fail"
    assert "dashboard uid 'vigil-node'" in result["msg"] and "HTTP 412" in result["msg"]
    assert "same name" in result["msg"]


def test_dashboard_without_uid_fails_before_any_request(grafana, conn):
    model = simple_dashboard("x", "No uid")
    del model["uid"]
    outcome, result = run(dict(conn, dashboard=model))
    assert outcome == "fail"
    assert "has no uid" in result["msg"] and "No uid" in result["msg"]
    assert grafana.requests == []


def test_bad_json_file_is_named(grafana, conn, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"uid": "x", "title": ')
    outcome, result = run(dict(conn, path=str(path)))
    assert outcome == "fail" and str(path) in result["msg"] and "not valid JSON" in result["msg"]


def test_sub_path_url(conn):
    from ansible_collections.vigil.observability.tests.unit.plugins.modules.fake_grafana import FakeGrafana

    with FakeGrafana(tokens={TOKEN: "Admin"}, sub_path="/grafana") as fake:
        params = dict(conn, url=fake.url() + "/")
        assert params["url"].endswith("/grafana/")
        outcome, result = run(dict(params, dashboard=simple_dashboard("a", "A")))
        assert outcome == "exit", result
        assert "a" in fake.dashboards
        assert fake.requests[0]["path"] == "/api/dashboards/uid/a"


def test_org_header_is_sent(grafana, conn):
    run(dict(conn, dashboard=simple_dashboard("a", "A"), org_id=2))
    assert {r["org"] for r in grafana.requests} == {"2"}


def test_editor_token_is_enough(grafana, conn):
    outcome, result = run(dict(conn, token=EDITOR_TOKEN, dashboard=simple_dashboard("a", "A")))
    assert outcome == "exit", result


# --- dashboards exported for sharing -----------------------------------------------------


def test_shared_export_is_mapped_onto_the_datasource(grafana, conn, tmp_path):
    path = write_json(tmp_path / "node-exporter.json", exported_dashboard())
    params = dict(conn, path=path, datasources={"DS_PROMETHEUS": "prom-main"})
    outcome, result = run(params)
    assert outcome == "exit", result
    stored = grafana.dashboards["node-exporter-shared"]["dashboard"]
    text = json.dumps(stored)
    assert "${DS_PROMETHEUS}" not in text and "${VAR_JOB}" not in text
    assert "__inputs" not in stored and "__requires" not in stored
    panels = stored["panels"]
    assert panels[0]["datasource"] == {"type": "prometheus", "uid": "prom-main"}
    assert panels[0]["targets"][0]["datasource"] == {"type": "prometheus", "uid": "prom-main"}
    # The legacy string form becomes a reference by uid.
    assert panels[1]["datasource"] == {"type": "prometheus", "uid": "prom-main"}
    assert stored["templating"]["list"][0]["current"]["value"] == "prom-main"
    assert stored["templating"]["list"][1]["query"] == "node"
    # Dashboard variables such as ${job} are left to Grafana.
    assert 'job=\\"${job}\\"' in json.dumps(panels[0]["targets"][0]["expr"])

    grafana.clear_log()
    outcome, result = run(params)
    assert result["changed"] is False and grafana.mutating() == []


def test_shared_export_mapped_by_plugin_id(grafana, conn):
    outcome, result = run(dict(conn, dashboard=exported_dashboard(), datasources={"prometheus": "p1"}))
    assert outcome == "exit", result
    assert grafana.dashboards["node-exporter-shared"]["dashboard"]["panels"][0]["datasource"]["uid"] == "p1"


def test_shared_export_without_mapping_names_the_input(grafana, conn, tmp_path):
    path = write_json(tmp_path / "node-exporter.json", exported_dashboard())
    outcome, result = run(dict(conn, path=path, datasources={"loki": "x"}))
    assert outcome == "fail"
    assert path in result["msg"] and "DS_PROMETHEUS" in result["msg"] and "plugin prometheus" in result["msg"]
    assert "datasources" in result["msg"]
    assert grafana.requests == []


def test_map_shared_inputs_does_not_change_its_argument():
    exported = exported_dashboard()
    kept = copy.deepcopy(exported)
    grafana_api.map_shared_inputs(exported, {"DS_PROMETHEUS": "x"})
    assert exported == kept


# --- bulk form -------------------------------------------------------------------------


def make_directory(path, count=5, **kwargs):
    path.mkdir(exist_ok=True)
    for i in range(count):
        write_json(path / ("d%02d.json" % i), simple_dashboard("bulk-%02d" % i, "Bulk %02d" % i, **kwargs))
    (path / "README.md").write_text("not a dashboard")
    return str(path)


def test_bulk_cold_then_rerun(grafana, conn, tmp_path):
    grafana.put_folder("vigil", "Vigil")
    directory = make_directory(tmp_path / "dash")
    params = dict(conn, path=directory, folder_uid="vigil")
    outcome, result = run(params)
    assert outcome == "exit", result
    assert [d["action"] for d in result["dashboards"]] == ["created"] * 5
    assert grafana.count("GET", "/api/search") == 1
    assert grafana.count("GET", "/api/dashboards/") == 0   # new dashboards need no read
    assert grafana.count("POST") == 5
    search = [r for r in grafana.requests if r["path"] == "/api/search"][0]["query"]
    assert search["type"] == ["dash-db"] and search["limit"] == ["5000"] and search["page"] == ["1"]
    assert {item["folderUid"] for item in grafana.dashboards.values()} == {"vigil"}

    grafana.clear_log()
    outcome, result = run(params)
    assert result["changed"] is False
    assert [d["action"] for d in result["dashboards"]] == ["unchanged"] * 5
    assert grafana.mutating() == []
    assert grafana.count("GET", "/api/search") == 1 and grafana.count("GET") == 6


def test_bulk_writes_only_what_changed(grafana, conn, tmp_path):
    directory = make_directory(tmp_path / "dash")
    run(dict(conn, path=directory))
    write_json(tmp_path / "dash" / "d03.json", simple_dashboard("bulk-03", "Bulk 03", panels=6))
    grafana.clear_log()
    outcome, result = run(dict(conn, path=directory), diff=True)
    assert outcome == "exit", result
    assert [d["action"] for d in result["dashboards"]] == ["unchanged"] * 3 + ["updated", "unchanged"]
    assert [r["body"]["dashboard"]["uid"] for r in grafana.mutating()] == ["bulk-03"]
    assert list(result["diff"]["after"]) == ["bulk-03"]


def test_bulk_check_mode(grafana, conn, tmp_path):
    directory = make_directory(tmp_path / "dash")
    outcome, result = run(dict(conn, path=directory), check_mode=True, diff=True)
    assert outcome == "exit", result
    assert result["changed"] is True and len(result["dashboards"]) == 5
    assert sorted(result["diff"]["after"]) == ["bulk-%02d" % i for i in range(5)]
    assert grafana.mutating() == [] and grafana.dashboards == {}


def test_bulk_search_pages(grafana, conn, tmp_path, monkeypatch):
    monkeypatch.setattr(grafana_api, "SEARCH_PAGE_SIZE", 2)
    directory = make_directory(tmp_path / "dash")
    run(dict(conn, path=directory))
    grafana.clear_log()
    outcome, result = run(dict(conn, path=directory))
    assert result["changed"] is False
    pages = [r["query"]["page"][0] for r in grafana.requests if r["path"] == "/api/search"]
    assert pages == ["1", "2", "3"]
    assert grafana.mutating() == []


def test_bulk_prune_deletes_only_extras_of_the_folder(grafana, conn, tmp_path):
    grafana.put_folder("vigil", "Vigil")
    grafana.put_folder("team", "Team")
    grafana.put_dashboard(simple_dashboard("stale", "Stale"), folder_uid="vigil")
    grafana.put_dashboard(simple_dashboard("theirs", "Theirs"), folder_uid="team")
    grafana.put_dashboard(simple_dashboard("root", "Root"))
    directory = make_directory(tmp_path / "dash", count=2)
    outcome, result = run(dict(conn, path=directory, folder_uid="vigil", prune=True), check_mode=True)
    assert [(d["uid"], d["action"]) for d in result["dashboards"]][-1] == ("stale", "deleted")
    assert grafana.mutating() == []
    outcome, result = run(dict(conn, path=directory, folder_uid="vigil", prune=True))
    assert outcome == "exit", result
    assert set(grafana.dashboards) == {"bulk-00", "bulk-01", "theirs", "root"}


def test_bulk_prune_needs_a_folder(grafana, conn, tmp_path):
    outcome, result = run(dict(conn, path=make_directory(tmp_path / "dash"), prune=True))
    assert outcome == "fail" and "prune needs folder_uid" in result["msg"]
    assert grafana.requests == []


def test_bulk_duplicate_uid_names_both_files(grafana, conn, tmp_path):
    directory = make_directory(tmp_path / "dash", count=2)
    write_json(tmp_path / "dash" / "zz.json", simple_dashboard("bulk-00", "Another title"))
    outcome, result = run(dict(conn, path=directory))
    assert outcome == "fail"
    assert "d00.json" in result["msg"] and "zz.json" in result["msg"] and "bulk-00" in result["msg"]
    assert grafana.requests == []


def test_bulk_absent_deletes_the_directory_dashboards(grafana, conn, tmp_path):
    directory = make_directory(tmp_path / "dash", count=3)
    run(dict(conn, path=directory))
    grafana.put_dashboard(simple_dashboard("keep", "Keep"))
    outcome, result = run(dict(conn, path=directory, state="absent"))
    assert outcome == "exit", result
    assert set(grafana.dashboards) == {"keep"}
    outcome, result = run(dict(conn, path=directory, state="absent"))
    assert result["changed"] is False


def test_bulk_with_shared_exports_and_uid_rejected(grafana, conn, tmp_path):
    directory = make_directory(tmp_path / "dash", count=1)
    write_json(tmp_path / "dash" / "shared.json", exported_dashboard())
    outcome, result = run(dict(conn, path=directory, datasources={"DS_PROMETHEUS": "prom"}))
    assert outcome == "exit", result
    assert grafana.dashboards["node-exporter-shared"]["dashboard"]["panels"][0]["datasource"]["uid"] == "prom"
    outcome, result = run(dict(conn, path=directory, uid="x"))
    assert outcome == "fail" and "directory" in result["msg"]


def test_bulk_failure_reports_what_was_done(grafana, conn, tmp_path):
    directory = make_directory(tmp_path / "dash", count=3)
    grafana.put_dashboard(simple_dashboard("squatter", "Bulk 01"))  # same title as bulk-01, other uid
    outcome, result = run(dict(conn, path=directory))
    assert outcome == "fail"
    assert "dashboard uid 'bulk-01'" in result["msg"] and "d01.json" in result["msg"]
    assert result["changed"] is True
    assert [d["uid"] for d in result["dashboards"]] == ["bulk-00"]


def test_token_never_in_results(grafana, conn, tmp_path):
    directory = make_directory(tmp_path / "dash", count=2)
    for check_mode in (True, False):
        outcome, result = run(dict(conn, path=directory), check_mode=check_mode, diff=True)
        assert_no_secret(result, TOKEN)
    outcome, result = run(dict(conn, token=TOKEN + "x", path=directory))
    assert outcome == "fail" and "HTTP 401" in result["msg"]
    assert_no_secret(result, TOKEN)
    assert os.path.isdir(directory)
