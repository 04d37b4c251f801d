"""Read-only checks of both Prometheus servers (prom: archive, TLS, basic auth; app: Debian package)."""

import re
import time

import pytest
import yaml
from prom_api import Prometheus
from vigil_testinfra import assert_service_up, main_pid, unit_exposure

testinfra_hosts = ["prom", "app"]
INVENTORY_HOSTS = ["app", "db", "prom"]


@pytest.fixture(scope="module")
def prom(host):
    return Prometheus(host, host.backend.host)


def test_service_runs_unprivileged_and_hardened(host):
    assert_service_up(host, "prometheus.service")
    user = host.check_output("ps -o user= -p %d" % main_pid(host, "prometheus.service"))
    assert user == "prometheus"
    assert host.user("prometheus").shell == "/usr/sbin/nologin"
    assert host.user("prometheus").password in ("!", "!*", "*") or host.user("prometheus").password.startswith("!")
    score, line = unit_exposure(host, "/etc/systemd/system/prometheus.service")
    assert score <= 2.0, line
    unit = host.file("/etc/systemd/system/prometheus.service").content_string
    assert re.search(r'--storage\.tsdb\.retention\.time="?2d"?', unit), unit
    if host.backend.host == "prom":
        assert re.search(r'--storage\.tsdb\.retention\.size="?2GB"?', unit), unit
    else:
        # auto: 80 % of the file system holding the data directory, as the role's state read measures it
        # (statvfs; the container's overlay root is not among Ansible's mount facts, but it is a file system).
        block, blocks = (int(n) for n in host.check_output("stat -f -c '%S %b' /var/lib/prometheus").split())
        expected = "%dMB" % int(block * blocks * 80 / 100 / 1048576)
        assert re.search(r'--storage\.tsdb\.retention\.size="?%s"?' % expected, unit), (expected, unit)
    assert "--web.enable-admin-api" not in unit and "--web.enable-lifecycle" not in unit
    props = host.service("prometheus.service").systemd_properties
    assert props["TimeoutStopUSec"] == "10min"
    assert props["ExecReload"].count("kill -HUP") == 1 or "-HUP" in props["ExecReload"]


def test_files_are_owned_by_root_and_readable_by_the_group_only(host):
    for path in ("/etc/prometheus", "/etc/prometheus/rules", "/etc/prometheus/file_sd", "/etc/prometheus/secrets"):
        f = host.file(path)
        assert (f.user, f.group, f.mode) == ("root", "prometheus", 0o750), path
    f = host.file("/etc/prometheus/prometheus.yml")
    assert (f.user, f.group, f.mode) == ("root", "prometheus", 0o640)
    # Debian's package ships README files under consoles/ and console_libraries/.
    assert host.run("find /etc/prometheus -perm -o=r -type f -not -name README.consoles").stdout == ""
    data = host.file("/var/lib/prometheus/data")
    assert (data.user, data.mode) == ("prometheus", 0o750)


def test_deployed_configuration_passes_promtool_and_uses_absolute_paths(host):
    promtool = "/usr/local/bin/promtool" if host.backend.host == "prom" else "/usr/bin/promtool"
    result = host.run("%s check config /etc/prometheus/prometheus.yml" % promtool)
    assert result.rc == 0, result.stdout + result.stderr
    config = yaml.safe_load(host.file("/etc/prometheus/prometheus.yml").content_string)
    paths = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key.endswith("_file") or key in ("files", "rule_files"):
                    paths.extend(value if isinstance(value, list) else [value])
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    assert paths and all(p.startswith("/") for p in paths), paths
    assert "S3ntinel" not in host.file("/etc/prometheus/prometheus.yml").content_string


def test_every_inventory_host_is_scraped_under_its_inventory_name(prom):
    result = prom.wait_for('up{job="node"} == 1', lambda r: len(r) == len(INVENTORY_HOSTS))
    assert sorted(r["metric"]["instance"] for r in result) == INVENTORY_HOSTS
    labels = {r["metric"]["instance"]: r["metric"] for r in prom.query('up{job="node"}')}
    assert labels["prom"]["role"] == "monitor"  # vigil_labels from the inventory


def test_prometheus_servers_scrape_each_other(prom):
    result = prom.wait_for('up{job="prometheus"} == 1', lambda r: len(r) == 2)
    assert sorted(r["metric"]["instance"] for r in result) == ["app", "prom"]


def test_declared_service_has_its_own_job_with_inventory_labels(prom):
    result = prom.wait_for('up{job="unified-api"} == 1')
    assert result[0]["metric"]["instance"] == "app"
    assert result[0]["metric"]["team"] == "memory"
    assert result[0]["metric"]["service"] == "unified-api"
    targets = prom.api("/api/v1/targets", state="active")["activeTargets"]
    api = [t for t in targets if t["labels"]["job"] == "unified-api"]
    assert api and api[0]["scrapeInterval"] == "10s"  # prometheus_job_overrides


def test_business_event_rate_is_recorded(prom):
    """The generated recording rule holds the declared counter's rate (the service creates one memory a second)."""
    result = prom.wait_for('vigil:business_events:rate5m{event="memory_created"} > 0', timeout=90)
    assert result[0]["metric"]["service"] == "unified-api" and result[0]["metric"]["job"] == "unified-api"
    # rate() over 5m understates a series younger than 5m, so check the rule against the same expression at one
    # of the rule's own evaluation times, old enough that every scrape before it has been ingested.
    time.sleep(25)
    samples = prom.query('vigil:business_events:rate5m{event="memory_created"}[1m]', time_=time.time() - 20)[0]["values"]
    stamp, recorded = samples[-1]
    direct = prom.query('sum by (job, service) (rate(memories_created_total{job="unified-api"}[5m]))', time_=stamp)
    assert abs(float(direct[0]["value"][1]) - float(recorded)) <= 0.01 * float(recorded), (direct, recorded)


def test_every_rule_file_is_loaded_and_healthy(host, prom):
    groups = prom.api("/api/v1/rules")["groups"]
    files = {g["file"].rsplit("/", 1)[-1] for g in groups}
    deployed = set(host.check_output("ls /etc/prometheus/rules").split())
    assert files == deployed
    assert "vigil-generated.yml" in files
    broken = [(g["name"], r["name"], r.get("lastError")) for g in groups for r in g["rules"] if r["health"] == "err"]
    assert broken == []


def test_every_alertmanager_of_the_group_is_configured(prom):
    managers = prom.api("/api/v1/alertmanagers")
    urls = sorted(m["url"] for m in managers["activeAlertmanagers"])
    assert len(urls) == 2 and all(u.endswith(":9093/api/v2/alerts") for u in urls), urls


def test_admin_and_lifecycle_apis_are_off(prom):
    assert prom.post("/-/reload").status_code == 403
    assert prom.post("/-/quit").status_code == 403
    response = prom.post("/api/v1/admin/tsdb/snapshot")
    assert response.status_code >= 400 and "admin APIs disabled" in response.text


def test_configuration_was_loaded(prom):
    assert prom.metric("prometheus_config_last_reload_successful") == 1


