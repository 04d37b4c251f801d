"""Behaviour of the deployed blackbox_exporter on each host (read-only checks, run first)."""

import os
import re
import shlex

import bcrypt
import yaml
from bbx import PROBER, SENTINEL, UNIT, UNIT_PATH, WEB, address, get, main_pid, name, probe, samples
from cryptography import x509
from vigil_testinfra import assert_listens_only_on, assert_runs_as_locked_system_user, assert_service_up, unit_exposure

ROOT = os.environ.get("MOLECULE_PROJECT_DIRECTORY", os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PKI = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", ""), "tls")
CAP_NET_RAW = 1 << 13


def capabilities(host):
    status = host.check_output("cat /proc/%d/status" % main_pid(host))
    return {key: int(value, 16) for key, value in re.findall(r"^(Cap\w+):\s+([0-9a-f]+)$", status, re.M)}


def test_service_active_and_enabled(host):
    assert_service_up(host, UNIT)


def test_runs_as_unprivileged_system_user(host):
    assert_runs_as_locked_system_user(host, UNIT, "blackbox_exporter")


def test_listens_only_where_configured(host):
    assert_listens_only_on(host, address(host) if name(host) == PROBER else "127.0.0.1", 9115)


def test_install_method(host):
    exec_start = host.check_output("systemctl show -p ExecStart --value %s" % UNIT)
    if name(host) == PROBER:
        assert host.file("/usr/local/bin/blackbox_exporter").mode == 0o755
        assert not host.package("prometheus-blackbox-exporter").is_installed
        assert "/usr/local/bin/blackbox_exporter" in exec_start
    else:
        assert host.package("prometheus-blackbox-exporter").is_installed
        assert "/usr/bin/prometheus-blackbox-exporter" in exec_start
        assert host.file("/etc/systemd/system/prometheus-blackbox-exporter.service").linked_to == "/dev/null"
        assert not host.service("prometheus-blackbox-exporter").is_running


def test_configuration_files_are_not_world_readable(host):
    for path in ("/etc/blackbox_exporter/blackbox.yml", "/etc/blackbox_exporter/web.yml"):
        f = host.file(path)
        assert (f.user, f.group, f.mode) == ("root", "blackbox_exporter", 0o640), path
    assert host.file("/etc/blackbox_exporter").mode == 0o750
    assert host.run("find /etc/blackbox_exporter -perm -o=r -type f").stdout == ""


def test_modules_served(host):
    modules = yaml.safe_load(host.file("/etc/blackbox_exporter/blackbox.yml").content_string)["modules"]
    expected = {"http_2xx", "tcp_connect", "https_testca"} | ({"icmp"} if name(host) == PROBER else set())
    assert set(modules) == expected


def test_capabilities_only_with_icmp(host):
    caps = capabilities(host)
    if name(host) == PROBER:  # icmp module configured
        assert caps["CapEff"] == CAP_NET_RAW and caps["CapBnd"] == CAP_NET_RAW and caps["CapAmb"] == CAP_NET_RAW, caps
    else:
        assert caps["CapEff"] == 0 and caps["CapBnd"] == 0, caps


def test_unit_hardening_score(host):
    """Exposure <= 2.0 without the icmp module; with it (CAP_NET_RAW) the score is recorded for the README."""
    score, line = unit_exposure(host, UNIT_PATH)
    scores = {"as deployed": score}
    if name(host) == PROBER:  # icmp configured: the same unit without the capability must stay within 2.0
        host.check_output("sed -e 's/^CapabilityBoundingSet=CAP_NET_RAW$/CapabilityBoundingSet=/' "
                          "-e 's/^AmbientCapabilities=CAP_NET_RAW$/AmbientCapabilities=/' %s > /tmp/bbx-noicmp.service"
                          % UNIT_PATH)
        scores["without icmp"] = unit_exposure(host, "/tmp/bbx-noicmp.service")[0]
        assert scores["without icmp"] < score
        assert score <= 2.5, line
    else:
        assert score <= 2.0, line
    # Recorded next to the JUnit results, for the README's figures.
    results = os.path.join(ROOT, ".cache", "test-results")
    os.makedirs(results, exist_ok=True)
    with open(os.path.join(results, "blackbox_exporter-exposure-%s.txt" % name(host)), "w") as out:
        out.write("%s\n" % scores)
    assert all(value <= 2.0 for key, value in scores.items() if key == "without icmp" or name(host) == WEB), scores
    props = host.service(UNIT).systemd_properties
    assert props["NoNewPrivileges"] == "yes" and props["ProtectSystem"] == "strict"


def test_probe_requires_credentials_off_loopback(host):
    if name(host) != PROBER:
        return
    status, _ = get(host, "/probe", auth=False, params={"target": "http://bbx-web:8080/", "module": "http_2xx"})
    assert status == 401, "unauthenticated /probe answered %s" % status
    for path in ("/metrics", "/config", "/"):
        assert get(host, path, auth=False)[0] == 401, path
    assert get(host, "/probe", password="wrong", params={"target": "http://bbx-web:8080/"})[0] == 401
    assert get(host, "/metrics")[0] == 200


def test_loopback_exporter_is_not_reachable_from_the_network(host):
    if name(host) != PROBER:
        return
    out = host.run("curl -sS -m 5 -o /dev/null -w '%{http_code}' http://bbx-web:9115/metrics")
    assert out.stdout.strip() == "000", "the loopback exporter on bbx-web answered from the network"


def test_http_service_up_and_closed_port_down(host):
    web = "bbx-web" if name(host) == PROBER else "127.0.0.1"
    assert probe(host, "http://%s:8080/" % web)[0]["probe_success"] == 1
    values, _ = probe(host, "%s:8080" % web, "tcp_connect")
    assert values["probe_success"] == 1
    values, _ = probe(host, "%s:1" % web, "tcp_connect")
    assert values["probe_success"] == 0
    values, _ = probe(host, "http://%s:1/" % web)
    assert values["probe_success"] == 0


def test_https_certificate_is_verified_and_its_expiry_reported(host):
    # The certificate names bbx-web, which both hosts resolve on the scenario's network.
    # http_2xx verifies against the system CAs, which do not know the test CA.
    values, _ = probe(host, "https://bbx-web:8443/")
    assert values["probe_success"] == 0
    values, body = probe(host, "https://bbx-web:8443/", "https_testca")
    assert values["probe_success"] == 1, body
    with open(os.path.join(PKI, "web.crt"), "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    not_after = cert.not_valid_after_utc
    assert values["probe_ssl_earliest_cert_expiry"] == not_after.timestamp()


def test_icmp_probe(host):
    if name(host) != PROBER:
        return
    values, body = probe(host, "bbx-web", "icmp")
    assert values["probe_success"] == 1, body


def rule_probe_metrics():
    """Every probe_* metric name the shipped availability rules use, and those the metrics contract names."""
    with open(os.path.join(ROOT, "files", "rules", "availability.yml")) as handle:
        rules = [rule for group in yaml.safe_load(handle)["groups"] for rule in group["rules"]]
    names = {n for rule in rules for n in re.findall(r"\b(probe_[a-zA-Z0-9_]+)", rule["expr"])}
    with open(os.path.join(ROOT, "docs", "metrics.md")) as handle:
        contract = handle.read()
    section = contract[contract.index("blackbox exporter"):]
    section = section[:section.index("\n\n")]
    return names, set(re.findall(r"`(probe_[a-zA-Z0-9_]+)`", section))


def test_every_probe_metric_the_rules_use_is_in_a_real_probe(host):
    """On both exporter versions: Debian 12's 0.23 (archive) and Debian 13's package."""
    from_rules, from_contract = rule_probe_metrics()
    assert {"probe_success", "probe_ssl_earliest_cert_expiry"} <= from_rules, from_rules
    _, body = probe(host, "https://bbx-web:8443/", "https_testca")
    exposed = set(samples(body))
    missing = (from_rules | from_contract) - exposed
    assert not missing, "metrics used by the rules or the contract but not in a real probe: %s" % sorted(missing)


def test_only_a_bcrypt_hash_is_stored(host):
    config = yaml.safe_load(host.file("/etc/blackbox_exporter/web.yml").content_string) or {}
    if name(host) != PROBER:
        assert "basic_auth_users" not in config
        return
    hashed = config["basic_auth_users"]["prometheus"]
    assert hashed.startswith(("$2b$10$", "$2y$10$", "$2a$10$"))
    assert bcrypt.checkpw(SENTINEL.encode(), hashed.encode())


def test_sentinel_password_appears_nowhere_on_the_host(host):
    pid = main_pid(host)
    for where, cmd in {"unit": "systemctl cat %s" % UNIT, "process arguments": "tr '\\0' ' ' < /proc/%d/cmdline" % pid,
                       "journal": "journalctl --no-pager"}.items():
        assert SENTINEL not in host.check_output(cmd), "sentinel password found in the %s" % where
    found = host.run("grep -rlsF %s /etc /usr/local /var/lib /root /tmp" % shlex.quote(SENTINEL))
    assert found.stdout.strip() == "", "sentinel password found in files: %s" % found.stdout
