"""grafana_folder against the fake Grafana: create, nested, rename, move, delete, check mode and diff."""

from ansible_collections.vigil.observability.tests.unit.plugins.modules.grafana_testlib import (
    TOKEN,
    assert_no_secret,
    load,
    run_module,
    simple_dashboard,
)

grafana_folder = load("modules.grafana_folder")


def run(params, **kwargs):
    return run_module(grafana_folder, params, **kwargs)


def test_create_then_rerun_only_reads(grafana, conn):
    outcome, result = run(dict(conn, uid="vigil", title="Vigil"), diff=True)
    assert outcome == "exit", result
    assert result["changed"] is True and result["action"] == "created"
    assert result["folder"]["uid"] == "vigil" and result["folder"]["parent_uid"] == ""
    assert result["diff"] == {"before": {}, "after": {"uid": "vigil", "title": "Vigil", "parent_uid": ""}}
    assert grafana.folders["vigil"]["title"] == "Vigil"
    grafana.clear_log()
    outcome, result = run(dict(conn, uid="vigil", title="Vigil"))
    assert result["changed"] is False and result["action"] == "unchanged"
    assert grafana.mutating() == [] and grafana.count("GET") == 1
    assert_no_secret(result, TOKEN)


def test_nested_create_rename_and_move(grafana, conn):
    run(dict(conn, uid="vigil", title="Vigil"))
    run(dict(conn, uid="team", title="Team"))
    outcome, result = run(dict(conn, uid="db", title="Databases", parent_uid="vigil"))
    assert outcome == "exit", result
    assert grafana.folders["db"]["parentUid"] == "vigil"
    post = [r for r in grafana.requests if r["method"] == "POST"][-1]["body"]
    assert post == {"uid": "db", "title": "Databases", "parentUid": "vigil"}
    grafana.clear_log()
    outcome, result = run(dict(conn, uid="db", title="Databases", parent_uid="vigil"))
    assert result["changed"] is False and grafana.mutating() == []

    # Rename: PUT with the version read.
    outcome, result = run(dict(conn, uid="db", title="PostgreSQL", parent_uid="vigil"), diff=True)
    assert result["action"] == "updated"
    put = [r for r in grafana.requests if r["method"] == "PUT"][-1]["body"]
    assert put == {"title": "PostgreSQL", "version": 1, "overwrite": False}
    assert result["diff"]["before"]["title"] == "Databases" and result["diff"]["after"]["title"] == "PostgreSQL"

    # Move: POST /api/folders/:uid/move.
    grafana.clear_log()
    outcome, result = run(dict(conn, uid="db", parent_uid="team"))
    assert result["changed"] is True and result["action"] == "moved"
    assert [(r["method"], r["path"], r["body"]) for r in grafana.mutating()] == [
        ("POST", "/api/folders/db/move", {"parentUid": "team"})]
    assert grafana.folders["db"]["parentUid"] == "team" and grafana.folders["db"]["title"] == "PostgreSQL"
    # To the root level.
    outcome, result = run(dict(conn, uid="db"))
    assert result["action"] == "moved" and grafana.folders["db"]["parentUid"] == ""


def test_missing_parent_is_named(grafana, conn):
    outcome, result = run(dict(conn, uid="db", title="Databases", parent_uid="nope"))
    assert outcome == "fail"
    assert "folder uid 'db'" in result["msg"] and "parent folder uid 'nope' does not exist" in result["msg"]
    assert grafana.mutating() == []


def test_create_needs_a_title(grafana, conn):
    outcome, result = run(dict(conn, uid="vigil"))
    assert outcome == "fail" and "title is needed" in result["msg"]


def test_check_mode(grafana, conn):
    outcome, result = run(dict(conn, uid="vigil", title="Vigil"), check_mode=True, diff=True)
    assert result["changed"] is True and result["action"] == "created"
    assert result["diff"]["after"]["title"] == "Vigil"
    grafana.put_folder("vigil", "Old")
    grafana.put_folder("team", "Team")
    outcome, result = run(dict(conn, uid="vigil", title="Vigil", parent_uid="team"), check_mode=True)
    assert result["changed"] is True and result["folder"]["title"] == "Vigil" and result["folder"]["parent_uid"] == "team"
    outcome, result = run(dict(conn, uid="vigil", state="absent"), check_mode=True)
    assert result["changed"] is True and result["action"] == "deleted"
    assert grafana.mutating() == []
    assert grafana.folders["vigil"]["title"] == "Old"


def test_delete_takes_the_dashboards_with_it(grafana, conn):
    grafana.put_folder("vigil", "Vigil")
    grafana.put_folder("sub", "Sub", parent_uid="vigil")
    grafana.put_dashboard(simple_dashboard("a", "A"), folder_uid="sub")
    outcome, result = run(dict(conn, uid="vigil", state="absent"))
    assert outcome == "exit", result
    assert result["changed"] is True and grafana.folders == {} and grafana.dashboards == {}
    outcome, result = run(dict(conn, uid="vigil", state="absent"))
    assert result["changed"] is False


def test_folder_cannot_be_its_own_parent(grafana, conn):
    outcome, result = run(dict(conn, uid="a", title="A", parent_uid="a"))
    assert outcome == "fail" and "itself" in result["msg"]
