"""grafana_admin_password against the fake Grafana and a fake `grafana cli` that records its argv and stdin."""

import json
import socket
import stat
import sys

import pytest
from ansible_collections.vigil.observability.tests.unit.plugins.modules.grafana_testlib import (
    ADMIN_PASSWORD,
    assert_no_secret,
    load,
    run_module,
)

grafana_admin_password = load("modules.grafana_admin_password")


NEW_PASSWORD = "SENTINEL-new-admin-pw-6b7f"  # noqa: S105

FAKE_CLI = """#!%s
# A stand-in for the grafana binary: records argv and stdin, then sets the fake's admin password.
import json, os, sys, urllib.request
data = sys.stdin.read()
with open(os.environ["FAKE_CLI_LOG"], "a") as log:
    log.write(json.dumps({"argv": sys.argv, "stdin": data}) + "\\n")
if os.environ.get("FAKE_CLI_RC"):
    sys.stderr.write("Error: could not open database\\n")
    sys.exit(int(os.environ["FAKE_CLI_RC"]))
if not os.environ.get("FAKE_CLI_NOOP"):
    body = json.dumps({"password": data.rstrip("\\n")}).encode()
    request = urllib.request.Request(os.environ["FAKE_GRAFANA_URL"] + "/__fake__/admin-password", data=body,
                                     method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request).read()
print("Admin password changed successfully")
"""


@pytest.fixture
def cli(tmp_path, grafana, monkeypatch):
    path = tmp_path / "grafana"
    path.write_text(FAKE_CLI % sys.executable)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "cli.log"
    monkeypatch.setenv("FAKE_CLI_LOG", str(log))
    monkeypatch.setenv("FAKE_GRAFANA_URL", grafana.url())

    def calls():
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]

    return str(path), calls


def run(grafana, cli_path, password, **kwargs):
    params = {"url": grafana.url(), "password": password, "grafana_cli": cli_path,
              "homepath": "/usr/share/grafana", "config": "/etc/grafana/grafana.ini"}
    check_mode = kwargs.pop("check_mode", False)
    params.update(kwargs)
    return run_module(grafana_admin_password, params, check_mode=check_mode)


def test_login_works_so_nothing_is_reset(grafana, cli):
    path, calls = cli
    outcome, result = run(grafana, path, ADMIN_PASSWORD)
    assert outcome == "exit", result
    assert result == {"changed": False, "reset": False}
    assert calls() == []
    assert [(r["method"], r["path"]) for r in grafana.requests] == [("GET", "/api/user")]
    assert_no_secret(result, ADMIN_PASSWORD)


def test_login_fails_so_exactly_one_reset_with_the_password_on_stdin(grafana, cli):
    path, calls = cli
    outcome, result = run(grafana, path, NEW_PASSWORD)
    assert outcome == "exit", result
    assert result["changed"] is True and result["reset"] is True
    assert len(calls()) == 1
    call = calls()[0]
    assert call["argv"][1:] == ["cli", "--homepath", "/usr/share/grafana", "--config", "/etc/grafana/grafana.ini",
                                "admin", "reset-admin-password", "--password-from-stdin"]
    assert NEW_PASSWORD not in " ".join(call["argv"])
    assert call["stdin"].rstrip("\n") == NEW_PASSWORD
    assert grafana.users["admin"]["password"] == NEW_PASSWORD
    # Login, reset, login again.
    assert [r["path"] for r in grafana.requests] == ["/api/user", "/__fake__/admin-password", "/api/user"]
    assert_no_secret(result, NEW_PASSWORD, ADMIN_PASSWORD)
    # The next run only logs in.
    outcome, result = run(grafana, path, NEW_PASSWORD)
    assert result["changed"] is False and len(calls()) == 1


def test_check_mode_runs_nothing(grafana, cli):
    path, calls = cli
    outcome, result = run(grafana, path, NEW_PASSWORD, check_mode=True)
    assert outcome == "exit", result
    assert result["changed"] is True and result["reset"] is False
    assert calls() == []
    assert grafana.users["admin"]["password"] == ADMIN_PASSWORD
    assert_no_secret(result, NEW_PASSWORD)


def test_failing_cli_is_reported_without_the_password(grafana, cli, monkeypatch):
    path, calls = cli
    monkeypatch.setenv("FAKE_CLI_RC", "1")
    outcome, result = run(grafana, path, NEW_PASSWORD)
    assert outcome == "fail"
    assert "rc 1" in result["msg"] and "could not open database" in result["msg"]
    assert len(calls()) == 1
    assert_no_secret(result, NEW_PASSWORD)


def test_reset_that_does_not_take_fails(grafana, cli, monkeypatch):
    path, calls = cli
    monkeypatch.setenv("FAKE_CLI_NOOP", "1")
    outcome, result = run(grafana, path, NEW_PASSWORD)
    assert outcome == "fail"
    assert "still fails" in result["msg"] and "/etc/grafana/grafana.ini" in result["msg"]
    assert len(calls()) == 1
    assert_no_secret(result, NEW_PASSWORD)


def test_missing_cli_and_unreachable_grafana(grafana, cli, tmp_path):
    outcome, result = run(grafana, str(tmp_path / "nope"), NEW_PASSWORD)
    assert outcome == "fail" and "not an executable file" in result["msg"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = "http://127.0.0.1:%d" % sock.getsockname()[1]
    outcome, result = run(grafana, cli[0], NEW_PASSWORD, url=closed)
    assert outcome == "fail" and "connection refused" in result["msg"] and closed + "/api/user" in result["msg"]
    assert cli[1]() == []
    assert_no_secret(result, NEW_PASSWORD)
