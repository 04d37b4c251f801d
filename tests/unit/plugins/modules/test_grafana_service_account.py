"""grafana_service_account against the fake Grafana: account, token written once to a 0600 file, never logged."""

import os
import stat

from ansible_collections.vigil.observability.tests.unit.plugins.modules.grafana_testlib import (
    EDITOR_TOKEN,
    TOKEN,
    assert_no_secret,
    load,
    run_module,
)

grafana_service_account = load("modules.grafana_service_account")


def run(params, **kwargs):
    return run_module(grafana_service_account, params, **kwargs)


def keys(grafana):
    return [t["key"] for a in grafana.service_accounts.values() for t in a["_tokens"]]


def test_account_create_rerun_update_delete(grafana, conn):
    outcome, result = run(dict(conn, name="vigil", role="Editor"), diff=True)
    assert outcome == "exit", result
    assert result["changed"] is True and result["action"] == "created"
    assert result["service_account"]["role"] == "Editor" and result["service_account"]["id"]
    assert result["diff"]["after"] == {"name": "vigil", "role": "Editor", "disabled": False}
    grafana.clear_log()
    outcome, result = run(dict(conn, name="vigil", role="Editor"))
    assert result["changed"] is False and grafana.mutating() == []
    outcome, result = run(dict(conn, name="vigil", role="Admin", disabled=True), diff=True)
    assert result["action"] == "updated"
    assert grafana.mutating()[-1]["method"] == "PATCH" and grafana.mutating()[-1]["body"] == {"role": "Admin",
                                                                                             "isDisabled": True}
    assert result["diff"]["before"]["role"] == "Editor" and result["diff"]["after"]["role"] == "Admin"
    outcome, result = run(dict(conn, name="vigil", state="absent"))
    assert result["changed"] is True and grafana.service_accounts == {}
    outcome, result = run(dict(conn, name="vigil", state="absent"))
    assert result["changed"] is False


def test_similar_names_are_not_confused(grafana, conn):
    run(dict(conn, name="vigil-ci"))
    outcome, result = run(dict(conn, name="vigil"))
    assert result["action"] == "created" and len(grafana.service_accounts) == 2


def test_token_written_0600_once_and_never_returned(grafana, conn, tmp_path):
    token_file = str(tmp_path / "token")
    params = dict(conn, name="vigil", role="Editor", token_name="ansible", token_file=token_file)
    outcome, result = run(params, diff=True)
    assert outcome == "exit", result
    assert result["token_action"] == "created" and "token" not in result
    [key] = keys(grafana)
    with open(token_file) as f:
        assert f.read().strip() == key
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    assert_no_secret(result, key, TOKEN)
    # The token works against the fake with the account's role.
    outcome, result = run(dict(conn, token=key, name="other"))
    assert outcome == "fail" and "HTTP 403" in result["msg"]   # Editor may not manage service accounts
    assert_no_secret(result, key)

    grafana.clear_log()
    outcome, result = run(params)
    assert result["changed"] is False and result["token_action"] == "unchanged"
    assert grafana.mutating() == [] and keys(grafana) == [key]


def test_return_token_only_when_asked(grafana, conn):
    outcome, result = run(dict(conn, name="ci", token_name="ci", token_seconds_to_live=3600, return_token=True))
    assert outcome == "exit", result
    [key] = keys(grafana)
    assert result["token"] == key
    post = [r for r in grafana.mutating() if r["path"].endswith("/tokens")][0]["body"]
    assert post == {"name": "ci", "secondsToLive": 3600}


def test_existing_token_with_lost_file_fails_clearly(grafana, conn, tmp_path):
    token_file = tmp_path / "token"
    params = dict(conn, name="vigil", token_name="ansible", token_file=str(token_file))
    run(params)
    token_file.unlink()
    outcome, result = run(params)
    assert outcome == "fail"
    assert "token 'ansible'" in result["msg"] and "token_state: absent" in result["msg"]
    outcome, result = run(dict(params, token_state="absent"))
    assert result["changed"] is True and result["token_action"] == "deleted" and keys(grafana) == []
    outcome, result = run(params)
    assert result["token_action"] == "created" and token_file.exists()


def test_check_mode(grafana, conn, tmp_path):
    token_file = tmp_path / "token"
    outcome, result = run(dict(conn, name="vigil", token_name="ansible", token_file=str(token_file)),
                          check_mode=True, diff=True)
    assert outcome == "exit", result
    assert result["changed"] is True and result["action"] == "created" and result["token_action"] == "created"
    assert not token_file.exists() and grafana.mutating() == [] and grafana.service_accounts == {}
    run(dict(conn, name="vigil", token_name="ansible", token_file=str(token_file)))
    outcome, result = run(dict(conn, name="vigil", role="Admin", token_name="ansible", token_state="absent"),
                          check_mode=True)
    assert result["changed"] is True and result["token_action"] == "deleted"
    assert len(grafana.mutating()) == 2 and len(keys(grafana)) == 1


def test_editor_gets_a_clear_403(grafana, conn):
    outcome, result = run(dict(conn, token=EDITOR_TOKEN, name="vigil"))
    assert outcome == "fail"
    assert "service account 'vigil'" in result["msg"] and "HTTP 403" in result["msg"] and "Admin role" in result["msg"]
    assert_no_secret(result, EDITOR_TOKEN)
