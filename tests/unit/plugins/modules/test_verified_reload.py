"""Unit tests for the verified_reload module.

The module runs against a real HTTP(S) server on loopback that plays the
service: it serves the two reload gauges and changes them when the faked
`systemctl reload` arrives, a moment later, as the real services do. Its
reload_check helpers are tested in tests/unit/plugins/module_utils/test_reload_check.py.
"""

import base64
import datetime
import http.server
import math
import ssl
import threading
import time

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.vigil.observability.plugins.modules import verified_reload

PREFIX = "alertmanager_config"
OK = PREFIX + "_last_reload_successful"
TS = PREFIX + "_last_reload_success_timestamp_seconds"
UNIT = "alertmanager.service"
PASSWORD = "s3cret-sentinel-pw"
JOURNAL = ["Jan 01 00:00:00 host alertmanager[1]: level=ERROR msg=\"Loading configuration file failed\"",
           "Jan 01 00:00:01 host alertmanager[1]: level=INFO msg=\"still running on the previous configuration\""]


# --- the module against a fake service ----------------------------------------

class FakeService:
    """What the service's /metrics shows, and what a reload does to it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ok, self.ts = 1, 1.7e9
        self.page = None            # fixed page instead of the gauges
        self.on_reload = "succeed"  # succeed | fail | ignore
        self.reload_delay = 0.3     # the service handles SIGHUP asynchronously
        self.errors_after_reload = 0
        self.credentials = None     # (user, password) the server requires
        self.requests = []          # Authorization header of each request
        self.reloads = 0

    def body(self):
        with self.lock:
            if self.page is not None:
                return self.page
            # Scientific notation, as Go's client libraries write large values.
            return "# TYPE %s gauge\n%s %d\n# TYPE %s gauge\n%s %.15e\n" % (OK, OK, self.ok, TS, TS, self.ts)

    def reload(self):
        self.reloads += 1

        def apply():
            with self.lock:
                if self.on_reload == "succeed":
                    self.ok, self.ts = 1, float(math.floor(time.time()))
                elif self.on_reload == "fail":
                    self.ok = 0

        threading.Timer(self.reload_delay, apply).start()


def make_handler(service):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            auth = self.headers.get("Authorization")
            service.requests.append(auth)
            if service.credentials:
                token = base64.b64encode(("%s:%s" % service.credentials).encode()).decode()
                if auth != "Basic " + token:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="metrics"')
                    self.end_headers()
                    return
            if service.reloads and service.errors_after_reload > 0:
                service.errors_after_reload -= 1
                self.send_response(503)
                self.end_headers()
                return
            data = service.body().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler


def serve(service, tls_context=None):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(service))
    if tls_context:
        server.socket = tls_context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


class ExitJson(Exception):
    pass


class FailJson(Exception):
    pass


@pytest.fixture
def service():
    return FakeService()


@pytest.fixture
def server(service):
    server = serve(service)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def run_module(monkeypatch, service, server):
    """Run the module; returns (outcome, result, commands run). outcome is "exit" or "fail"."""
    url = "http://127.0.0.1:%d/metrics" % server.server_address[1]

    def _run(check_mode=False, systemctl=(0, "", ""), **args):
        calls = []

        def exit_json(self, **kwargs):
            raise ExitJson(kwargs)

        def fail_json(self, **kwargs):
            raise FailJson(kwargs)

        def run_command(self, cmd, **kwargs):
            calls.append(cmd)
            if cmd[1:2] == ["reload"]:
                if systemctl[0] == 0:
                    service.reload()
                return systemctl
            if cmd[0].endswith("journalctl"):
                return 0, "\n".join(JOURNAL) + "\n", ""
            return 1, "", "unexpected command"

        monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
        monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
        monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
        monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: "/usr/bin/" + name)
        params = dict({"unit": UNIT, "url": url, "metric_prefix": PREFIX}, **args)
        with patch_module_args(dict(params, _ansible_check_mode=check_mode)):
            try:
                verified_reload.main()
            except ExitJson as exc:
                return "exit", exc.args[0], calls
            except FailJson as exc:
                return "fail", exc.args[0], calls
        raise AssertionError("the module neither exited nor failed")

    _run.url = url
    return _run


def reload_calls(calls):
    return [cmd for cmd in calls if cmd[1:2] == ["reload"]]


def test_success(run_module, service):
    outcome, result, calls = run_module(timeout=10)
    assert outcome == "exit", result
    assert result["changed"] is True and result["reloaded"] is True
    assert result["last_reload_success_timestamp"] > 1.7e9
    assert 0.2 < result["elapsed"] < 5
    assert reload_calls(calls) == [["/usr/bin/systemctl", "reload", UNIT]]
    assert not [cmd for cmd in calls if "journalctl" in cmd[0]]


def test_success_in_the_second_of_the_previous_reload_is_still_seen(run_module, service):
    """The service reports whole seconds and last reloaded in this very second:
    the module waits for the next second, so the new timestamp is larger."""
    before = service.ts = float(math.floor(time.time()))
    service.reload_delay = 0.0
    outcome, result, _ = run_module(timeout=2)
    assert outcome == "exit", result
    assert result["last_reload_success_timestamp"] > before


def test_success_with_basic_auth(run_module, service):
    service.credentials = ("monitor", PASSWORD)
    outcome, result, _ = run_module(timeout=10, url_username="monitor", url_password=PASSWORD)
    assert outcome == "exit", result
    # Sent with the first request, not after a 401 challenge.
    assert service.requests and all(auth and auth.startswith("Basic ") for auth in service.requests)


def test_no_basic_auth_without_a_user_name(run_module, service):
    outcome, result, _ = run_module(timeout=10, url_password=PASSWORD)
    assert outcome == "exit", result
    assert service.requests and all(auth is None for auth in service.requests)


def test_http_errors_after_the_reload_are_retried(run_module, service):
    service.errors_after_reload = 2
    outcome, result, _ = run_module(timeout=10)
    assert outcome == "exit", result
    assert service.errors_after_reload == 0


def test_failure_shows_the_journal_and_never_the_password(run_module, service):
    service.credentials = ("monitor", PASSWORD)
    service.on_reload = "fail"
    outcome, result, calls = run_module(timeout=10, url_username="monitor", url_password=PASSWORD, journal_lines=7)
    assert outcome == "fail"
    assert result["msg"].startswith("%s did not take the new configuration: %s is 0 after the reload" % (UNIT, OK))
    assert result["reason"] == OK + " is 0 after the reload"
    assert result["journal"] == JOURNAL
    assert all(line in result["msg"] for line in JOURNAL)
    assert result["changed"] is True and result["reloaded"] is False
    assert ["/usr/bin/journalctl", "-u", UNIT, "--no-pager", "-n", "7"] in calls
    assert PASSWORD not in repr(result)


def test_timeout(run_module, service):
    service.on_reload = "ignore"
    start = time.monotonic()
    outcome, result, calls = run_module(timeout=2)
    assert outcome == "fail"
    assert 1.5 < time.monotonic() - start < 6
    assert result["msg"].startswith("%s did not take the new configuration: reload not reported within 2 s" % UNIT)
    assert "already 0" not in result["msg"]
    assert result["journal"] == JOURNAL and JOURNAL[0] in result["msg"]
    assert len(reload_calls(calls)) == 1


def test_second_failure_after_an_earlier_failed_reload_ends_as_a_timeout(run_module, service):
    service.ok = 0
    service.on_reload = "fail"
    outcome, result, _ = run_module(timeout=2)
    assert outcome == "fail"
    assert "reload not reported within 2 s (%s was already 0 before this reload" % OK in result["msg"]


def test_timeout_names_the_last_read_error(run_module, service):
    service.on_reload = "ignore"
    service.errors_after_reload = 1000
    outcome, result, _ = run_module(timeout=2, journal_lines=0)
    assert outcome == "fail"
    assert result["reason"] == "reload not reported within 2 s; the last read of %s failed: HTTP 503 Service Unavailable" % run_module.url
    assert result["journal"] == [] and "journal" not in result["msg"]


def test_check_mode_sends_and_reads_nothing(run_module, service):
    outcome, result, calls = run_module(check_mode=True)
    assert outcome == "exit"
    assert result["changed"] is True and result["reloaded"] is False
    assert calls == [] and service.requests == [] and service.reloads == 0


def test_missing_gauges_fail_before_any_signal(run_module, service):
    service.page = "# TYPE up gauge\nup 1\n%s 1\n" % OK
    outcome, result, calls = run_module()
    assert outcome == "fail"
    assert TS in result["msg"] and OK not in result["msg"].split(" not found")[0]
    assert run_module.url in result["msg"] and "nothing was reloaded" in result["msg"]
    assert result["changed"] is False
    assert calls == [] and service.reloads == 0


def test_unreadable_metrics_fail_before_any_signal(run_module, service):
    service.credentials = ("monitor", PASSWORD)
    outcome, result, calls = run_module(url_username="monitor", url_password="wrong-" + PASSWORD)
    assert outcome == "fail"
    assert result["msg"] == "cannot read %s before reloading %s: HTTP 401 Unauthorized" % (run_module.url, UNIT)
    assert calls == [] and service.reloads == 0
    assert PASSWORD not in repr(result)


def test_failed_systemctl_reload_fails_with_its_stderr(run_module, service):
    outcome, result, calls = run_module(systemctl=(1, "", "Failed to reload alertmanager.service: Unit not active."))
    assert outcome == "fail"
    assert result["msg"].startswith("systemctl reload %s failed (rc 1): Failed to reload alertmanager.service: Unit not active."
                                    % UNIT)
    assert result["journal"] == JOURNAL
    assert service.reloads == 0


def test_timeout_below_one_second_is_refused(run_module, service):
    outcome, result, calls = run_module(timeout=0)
    assert outcome == "fail" and "timeout must be at least 1 second" in result["msg"]
    assert calls == [] and service.requests == []


# --- HTTPS -------------------------------------------------------------------

@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (certificate file, key file)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    work = tmp_path_factory.mktemp("tls")
    cert_file, key_file = work / "cert.pem", work / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


@pytest.fixture
def https_url(service, certificate):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server = serve(service, context)
    yield "https://127.0.0.1:%d/metrics" % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_https_verified_with_ca_path(run_module, service, https_url, certificate):
    outcome, result, _ = run_module(url=https_url, ca_path=certificate[0], timeout=10)
    assert outcome == "exit", result


def test_https_unknown_issuer_fails_before_any_signal_unless_validation_is_off(run_module, service, https_url):
    outcome, result, calls = run_module(url=https_url)
    assert outcome == "fail"
    assert result["msg"].startswith("cannot read %s before reloading %s: " % (https_url, UNIT))
    assert "certificate" in result["msg"].lower()
    assert calls == [] and service.reloads == 0
    outcome, result, _ = run_module(url=https_url, validate_certs=False, timeout=10)
    assert outcome == "exit", result
