"""Behaviour of the deployed node_exporter on each host (read-only checks, run first)."""

import os
import shlex
import time

import bcrypt
from vigil_testinfra import (
    assert_listens_only_on,
    assert_runs_as_locked_system_user,
    assert_service_up,
    curl_exporter,
    host_address,
    main_pid,
    unit_exposure,
)

UNIT = "node_exporter.service"
UNIT_PATH = "/etc/systemd/system/node_exporter.service"
SENTINEL = "S3ntinel-5d1f0c7a-node-exporter"
TLS_HOSTS = {"debian12"}
PKI = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", ""), "tls")


def _name(host):
    return host.backend.get_hostname()


def _address(host):
    return host_address(host)


def _curl(host, path="/metrics", user=None, password=None):
    """Fetch a path from the exporter from inside the host; returns (status, body)."""
    return curl_exporter(host, 9100, path, user, password, tls_name="node.test" if _name(host) in TLS_HOSTS else None)


def _metrics(host):
    status, body = _curl(host, user="prometheus", password=SENTINEL)
    assert status == 200, "GET /metrics with credentials gave %s" % status
    return body


def test_service_active_and_enabled(host):
    assert_service_up(host, UNIT)


def test_runs_as_unprivileged_system_user(host):
    assert_runs_as_locked_system_user(host, UNIT, "node_exporter")


def test_listens_only_on_the_configured_address(host):
    assert_listens_only_on(host, _address(host), 9100)


def test_install_method(host):
    if _name(host) == "debian12":
        assert host.file("/usr/local/bin/node_exporter").mode == 0o755
        assert not host.package("prometheus-node-exporter").is_installed
        assert "/usr/local/bin/node_exporter" in host.check_output("systemctl show -p ExecStart --value %s" % UNIT)
    else:
        assert host.package("prometheus-node-exporter").is_installed
        assert not host.file("/usr/local/bin/node_exporter").exists
        assert host.file("/etc/systemd/system/prometheus-node-exporter.service").linked_to == "/dev/null"
        assert not host.service("prometheus-node-exporter").is_running


def test_requires_credentials(host):
    for path in ("/metrics", "/"):
        status, _ = _curl(host, path)
        assert status == 401, "GET %s without credentials gave %s" % (path, status)
    status, _ = _curl(host, user="prometheus", password="wrong-password")
    assert status == 401
    status, _ = _curl(host, user="prometheus", password=SENTINEL)
    assert status == 200


def test_collectors(host):
    body = _metrics(host)
    assert 'node_scrape_collector_success{collector="systemd"} 1' in body
    assert 'node_scrape_collector_success{collector="processes"} 1' in body
    assert 'collector="arp"' not in body, "disabled collector arp still reports"
    assert "node_systemd_unit_state{" in body
    assert 'node_scrape_collector_success{collector="cpu"} 1' in body
    # The clock alerts (NodeClockSkewDetected, NodeClockNotSynchronising)
    # read node_timex_*: the unit must let the collector call adjtimex.
    assert 'node_scrape_collector_success{collector="timex"} 1' in body
    assert "node_timex_sync_status " in body


def test_textfile_metric_exported(host):
    stamp = int(time.time()) % 100000
    host.run(
        "printf '# HELP vigil_textfile_probe Test metric.\\n# TYPE vigil_textfile_probe gauge\\n"
        "vigil_textfile_probe %d\\n' > /var/lib/node_exporter/textfile_collector/vigil.prom" % stamp
    )
    try:
        assert "vigil_textfile_probe %d" % stamp in _metrics(host)
    finally:
        host.run("rm -f /var/lib/node_exporter/textfile_collector/vigil.prom")


def test_unit_hardening_score(host):
    score, line = unit_exposure(host, UNIT_PATH)
    assert score <= 2.0, line
    props = host.service(UNIT).systemd_properties
    assert props["NoNewPrivileges"] == "yes"
    assert props["ProtectSystem"] == "strict"
    assert props["PrivateTmp"] == "yes"


def test_secret_files_modes(host):
    web = host.file("/etc/node_exporter/web.yml")
    assert (web.user, web.group, web.mode) == ("root", "node_exporter", 0o640)
    assert host.file("/etc/node_exporter").mode == 0o750
    assert host.run("find /etc/node_exporter -perm -o=r -type f").stdout == ""
    if _name(host) in TLS_HOSTS:
        key = host.file("/etc/node_exporter/tls/key.pem")
        assert (key.user, key.group, key.mode) == ("root", "node_exporter", 0o640)


def test_only_a_bcrypt_hash_is_stored(host):
    import yaml

    config = yaml.safe_load(host.file("/etc/node_exporter/web.yml").content_string)
    hashed = config["basic_auth_users"]["prometheus"]
    assert hashed.startswith(("$2b$10$", "$2y$10$", "$2a$10$"))
    assert bcrypt.checkpw(SENTINEL.encode(), hashed.encode())


def test_sentinel_password_appears_nowhere_on_the_host(host):
    pid = main_pid(host, UNIT)
    places = {
        "unit": "systemctl cat %s" % UNIT,
        "unit environment": "systemctl show -p Environment %s" % UNIT,
        "process arguments": "tr '\\0' ' ' < /proc/%d/cmdline" % pid,
        "journal": "journalctl --no-pager",
    }
    for where, cmd in places.items():
        assert SENTINEL not in host.check_output(cmd), "sentinel password found in the %s" % where
    found = host.run(
        "grep -rlsF %s / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev" % shlex.quote(SENTINEL)
    )
    assert found.stdout.strip() == "", "sentinel password found in files: %s" % found.stdout


