"""The shared Grafana client: error messages (401, 403, 404, refused, timeout, TLS), secrets kept out of them."""

import socket

import pytest
from ansible_collections.vigil.observability.tests.unit.plugins.modules.fake_grafana import FakeGrafana, make_certificates
from ansible_collections.vigil.observability.tests.unit.plugins.modules.grafana_testlib import (
    ADMIN_PASSWORD,
    TOKEN,
    VIEWER_TOKEN,
    assert_no_secret,
    load,
    run_module,
    simple_dashboard,
)

grafana_api = load("module_utils.grafana_api")
GrafanaAPIError = grafana_api.GrafanaAPIError
GrafanaClient = grafana_api.GrafanaClient
grafana_dashboard = load("modules.grafana_dashboard")
grafana_folder = load("modules.grafana_folder")


WHAT = "dashboard uid 'vigil-node'"


def client(**params):
    base = {"token": None, "url_username": "admin", "url_password": None, "validate_certs": True, "ca_path": None,
            "timeout": 5, "org_id": None}
    base.update(params)
    return GrafanaClient(base)


def fail_of(params, module=grafana_dashboard):
    if module is grafana_dashboard:
        params = dict(params, dashboard=simple_dashboard("vigil-node", "Node"))
    outcome, result = run_module(module, params)
    assert outcome == "fail", result
    return result


def assert_names(msg, url, what=WHAT):
    assert what in msg, msg
    assert url in msg, msg


# --- HTTP statuses ---------------------------------------------------------------------


def test_401_with_a_token(grafana, conn):
    result = fail_of(dict(conn, token=TOKEN + "-wrong"))
    msg = result["msg"]
    assert_names(msg, grafana.url() + "/api/dashboards/uid/vigil-node")
    assert "HTTP 401" in msg and "refused the credentials (the token)" in msg
    assert_no_secret(result, TOKEN)


def test_401_with_basic_auth_never_shows_the_password(grafana):
    result = fail_of({"url": grafana.url(), "url_password": "wrong-" + ADMIN_PASSWORD})
    assert "HTTP 401" in result["msg"] and "url_username 'admin'" in result["msg"]
    assert_no_secret(result, ADMIN_PASSWORD)


def test_basic_auth_and_env_fallback(grafana, monkeypatch):
    monkeypatch.setenv("GRAFANA_URL", grafana.url())
    monkeypatch.setenv("GRAFANA_PASSWORD", ADMIN_PASSWORD)
    outcome, result = run_module(grafana_dashboard, {"dashboard": simple_dashboard("a", "A")})
    assert outcome == "exit", result
    assert "a" in grafana.dashboards
    assert_no_secret(result, ADMIN_PASSWORD)


def test_userinfo_in_url_is_used_and_stripped(grafana):
    url = grafana.url().replace("://", "://admin:%s@" % ADMIN_PASSWORD)
    outcome, result = run_module(grafana_dashboard, {"url": url, "dashboard": simple_dashboard("a", "A")})
    assert outcome == "exit", result
    bad = grafana.url().replace("://", "://admin:wrong-%s@" % ADMIN_PASSWORD)
    result = fail_of({"url": bad})
    assert "HTTP 401" in result["msg"] and grafana.url() + "/api/" in result["msg"]
    assert "@" not in result["msg"]
    assert_no_secret(result, ADMIN_PASSWORD)


def test_403_names_the_role(grafana, conn):
    result = fail_of(dict(conn, token=VIEWER_TOKEN))
    msg = result["msg"]
    assert_names(msg, grafana.url() + "/api/dashboards/db")
    assert "HTTP 403" in msg and "Editor role" in msg and "dashboards:write" in msg
    result = fail_of(dict(conn, token=VIEWER_TOKEN, uid="f1", title="F"), module=grafana_folder)
    assert "folder uid 'f1'" in result["msg"] and "HTTP 403" in result["msg"]
    assert_no_secret(result, VIEWER_TOKEN)


def test_404_hints_at_the_base_url(grafana, conn):
    result = fail_of(dict(conn, url=grafana.url() + "/not-grafana"))
    msg = result["msg"]
    assert_names(msg, grafana.url() + "/not-grafana/api/dashboards/db")
    assert "HTTP 404" in msg and "base URL of Grafana" in msg


def test_connection_refused(conn):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = "http://127.0.0.1:%d" % port
    result = fail_of(dict(conn, url=url))
    assert_names(result["msg"], url + "/api/dashboards/uid/vigil-node")
    assert "connection refused" in result["msg"]
    assert_no_secret(result, TOKEN)


def test_timeout(grafana, conn):
    grafana.delay = 2.5
    result = fail_of(dict(conn, timeout=1))
    assert_names(result["msg"], grafana.url() + "/api/dashboards/uid/vigil-node")
    assert "timed out after 1 seconds" in result["msg"]


def test_not_grafana_answer(conn):
    import http.server
    import threading

    class Html(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            data = b"<html>hello</html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Html)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = "http://127.0.0.1:%d" % server.server_address[1]
        result = fail_of(dict(conn, url=url))
        assert "not JSON" in result["msg"] and url in result["msg"]
    finally:
        server.shutdown()
        server.server_close()


def test_no_credentials_and_bad_url():
    with pytest.raises(GrafanaAPIError, match="no credentials"):
        client(url="http://127.0.0.1:1")
    with pytest.raises(GrafanaAPIError, match="http:// or https://"):
        client(url="127.0.0.1:3000", token=TOKEN)


# --- TLS ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    good = make_certificates(str(tmp_path_factory.mktemp("tls")), names=("localhost", "127.0.0.1"))
    other = make_certificates(str(tmp_path_factory.mktemp("tls-other")), names=("grafana.example",))
    return good, other


def test_https_unknown_ca_fails_unless_ca_path(certificates, conn):
    (ca, cert, key), _other = certificates
    with FakeGrafana(tokens={TOKEN: "Admin"}, tls=(cert, key)) as fake:
        params = dict(conn, url=fake.url())
        result = fail_of(params)
        assert_names(result["msg"], fake.url() + "/api/dashboards/uid/vigil-node")
        assert "TLS certificate verification failed" in result["msg"] and "ca_path" in result["msg"]
        assert fake.mutating() == []
        outcome, result = run_module(grafana_dashboard, dict(params, ca_path=ca, dashboard=simple_dashboard("a", "A")))
        assert outcome == "exit", result
        assert "a" in fake.dashboards
        # By name too (the certificate is for localhost and 127.0.0.1).
        outcome, result = run_module(grafana_dashboard, dict(params, url=fake.url("localhost"), ca_path=ca,
                                                             dashboard=simple_dashboard("a", "A")))
        assert outcome == "exit" and result["changed"] is False


def test_https_hostname_mismatch(certificates, conn):
    _good, (ca, cert, key) = certificates
    with FakeGrafana(tokens={TOKEN: "Admin"}, tls=(cert, key)) as fake:
        result = fail_of(dict(conn, url=fake.url(), ca_path=ca))
        assert_names(result["msg"], fake.url())
        assert "does not match the host name" in result["msg"]
        assert fake.mutating() == []
        outcome, result = run_module(grafana_dashboard, dict(conn, url=fake.url(), validate_certs=False,
                                                             dashboard=simple_dashboard("a", "A")))
        assert outcome == "exit", result


def test_https_against_http_listener(grafana, conn):
    result = fail_of(dict(conn, url=grafana.url().replace("http://", "https://")))
    assert "TLS" in result["msg"] and WHAT in result["msg"]


# --- secrets and the check-mode guard -----------------------------------------------------


def test_exception_text_never_holds_the_token(grafana):
    api = client(url=grafana.url(), token=TOKEN + "-bad")
    with pytest.raises(GrafanaAPIError) as info:
        api.get("/api/dashboards/uid/x", "dashboard uid 'x'")
    assert info.value.status == 401
    for text in (str(info.value), repr(info.value), info.value.msg):
        assert TOKEN not in text


def test_scrub_masks_every_form_of_a_secret():
    api = client(url="http://127.0.0.1:1", url_password="p@ss word")
    text = api.scrub("a p@ss word b p%40ss%20word c YWRtaW46cEBzcyB3b3Jk")
    assert "p@ss" not in text and "p%40ss" not in text and "YWRtaW46" not in text


def test_check_mode_client_refuses_writes(grafana):
    api = GrafanaClient({"url": grafana.url(), "token": TOKEN}, check_mode=True)
    with pytest.raises(GrafanaAPIError, match="check mode"):
        api.request("POST", "/api/folders", "folder uid 'x'", payload={"uid": "x", "title": "x"})
    assert grafana.requests == []


def test_strip_userinfo():
    assert grafana_api.strip_userinfo("https://u:p%40@h:3000/g") == ("https://h:3000/g", ("u", "p@"))
    assert grafana_api.strip_userinfo("http://h") == ("http://h", (None, None))


def test_unreadable_ca_path_is_named(conn, tmp_path):
    bad = tmp_path / "not-a-ca.pem"
    bad.write_text("hello")
    result = fail_of(dict(conn, url="https://127.0.0.1:1", ca_path=str(bad)))
    assert "ca_path %s" % bad in result["msg"]
