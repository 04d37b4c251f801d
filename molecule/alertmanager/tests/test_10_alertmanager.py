"""Read-only checks of the converged hosts: install, hardening, cluster, auth, routes."""

import json

import pytest
from am import AM_PASSWORD, AM_USER, PEERS, am_get, am_json, hosts, metric
from vigil_testinfra import assert_runs_as_locked_system_user, assert_service_up, host_address, unit_exposure

ALL_AM = PEERS + ("alerts",)


@pytest.mark.parametrize("name", ALL_AM)
def test_alertmanager_runs_as_its_own_locked_user(name):
    host = hosts()[name]
    assert_service_up(host, "alertmanager.service")
    assert_runs_as_locked_system_user(host, "alertmanager.service", "alertmanager")
    # The distribution's own unit never runs next to the role's.
    if host.package("prometheus-alertmanager").is_installed:
        assert not host.service("prometheus-alertmanager.service").is_running


@pytest.mark.parametrize("name", ALL_AM)
def test_configuration_is_readable_only_by_the_service(name):
    host = hosts()[name]
    for path in ("/etc/alertmanager/alertmanager.yml", "/etc/alertmanager/web.yml",
                 "/etc/alertmanager/templates/vigil.tmpl"):
        f = host.file(path)
        assert (f.user, f.group, f.mode) == ("root", "alertmanager", 0o640), (path, f.user, f.group, oct(f.mode))
    for path in ("/etc/alertmanager", "/etc/alertmanager/templates"):
        d = host.file(path)
        assert (d.user, d.group, d.mode) == ("root", "alertmanager", 0o750), (path, oct(d.mode))
    data = host.file("/var/lib/alertmanager")
    assert (data.user, data.group, data.mode) == ("alertmanager", "alertmanager", 0o750)
    # Nothing under /etc/alertmanager is readable by others.
    assert host.check_output("find /etc/alertmanager -perm -o=r -o -perm -o=w") == ""


@pytest.mark.parametrize("name", ("am1", "am3"))
def test_unit_is_hardened(name):
    score, line = unit_exposure(hosts()[name], "/etc/systemd/system/alertmanager.service")
    assert score <= 2.0, line


@pytest.mark.parametrize("name", PEERS)
def test_every_peer_sees_a_cluster_of_three(name):
    host = hosts()[name]
    assert metric(host, "alertmanager_cluster_enabled") == 1
    assert metric(host, "alertmanager_cluster_members") == 3
    status = am_json(host, "/api/v2/status")
    assert status["cluster"]["status"] == "ready", status["cluster"]
    assert sorted(p["name"] for p in status["cluster"]["peers"]) and len(status["cluster"]["peers"]) == 3


@pytest.mark.parametrize("name", PEERS)
def test_gossip_listens_on_the_inventory_address_only(name):
    host = hosts()[name]
    ip = host_address(host)
    tcp = host.check_output("ss -Htln 'sport = :9094' | awk '{print $4}'").split()
    udp = host.check_output("ss -Hun -l 'sport = :9094' | awk '{print $4}'").split()
    assert tcp == ["%s:9094" % ip] and udp == ["%s:9094" % ip], (tcp, udp)
    web = host.check_output("ss -Htln 'sport = :9093' | awk '{print $4}'").split()
    assert web == ["%s:9093" % ip], web


def test_a_single_instance_has_gossip_off():
    host = hosts()["alerts"]
    assert metric(host, "alertmanager_cluster_enabled") == 0
    assert host.check_output("ss -Htuln 'sport = :9094'") == ""
    cmdline = host.check_output("tr '\\0' ' ' < /proc/%s/cmdline" % host.check_output(
        "systemctl show -p MainPID --value alertmanager.service"))
    assert "--cluster.listen-address=" in cmdline and "--cluster.peer=" not in cmdline, cmdline


@pytest.mark.parametrize("name", ("am1", "alerts"))
def test_every_path_needs_credentials(name):
    host = hosts()[name]
    for path in ("/", "/metrics", "/-/ready", "/-/healthy", "/api/v2/status", "/api/v2/silences", "/api/v2/alerts"):
        assert am_get(host, path, user=None)[0] == 401, path
        assert am_get(host, path, user=AM_USER, password="wrong")[0] == 401, path
        assert am_get(host, path)[0] == 200, path


def test_prometheus_sends_to_every_peer_and_scrapes_them():
    alerts = hosts()["alerts"]
    out = json.loads(alerts.check_output("curl -sS http://%s:9090/api/v1/alertmanagers" % host_address(alerts)))
    active = sorted(a["url"] for a in out["data"]["activeAlertmanagers"])
    assert active == ["http://%s:9093/api/v2/alerts" % p for p in PEERS], active
    # The single instance on alerts is not in the alertmanager group: Prometheus does not alert it.
    targets = json.loads(alerts.check_output("curl -sS http://%s:9090/api/v1/targets" % host_address(alerts)))
    am_targets = sorted(t["labels"]["instance"] for t in targets["data"]["activeTargets"] if t["labels"]["job"] == "alertmanager")
    assert am_targets == list(PEERS)
    assert all(t["health"] == "up" for t in targets["data"]["activeTargets"] if t["labels"]["job"] == "alertmanager")


@pytest.mark.parametrize("labels,receivers", [
    ("alertname=HostDown severity=critical instance=db1", "pager,opsgenie,chat,mail,audit,secondary"),
    ("alertname=DiskFilling severity=warning", "chat"),
    ("alertname=ReplicationLag severity=warning team=db", "db-chat"),
    ("alertname=PostgresDown severity=critical team=db", "db-chat,secondary"),
    ("alertname=Watchdog severity=none", "vigil-unrouted"),
    ("alertname=Something severity=info", "vigil-unrouted"),
])
def test_the_live_route_tree_selects_the_receivers(labels, receivers):
    """amtool against the configuration Alertmanager runs, on each kind of peer."""
    for name in ("am1", "am2", "am3"):
        host = hosts()[name]
        amtool = "/usr/local/bin/amtool" if name == "am2" else "/usr/bin/amtool"
        out = host.check_output("%s config routes test --config.file=/etc/alertmanager/alertmanager.yml %s 2>/dev/null"
                                % (amtool, labels))
        assert out.strip() == receivers, (name, labels, out)


def test_password_is_not_given_to_alertmanager_in_clear():
    host = hosts()["am1"]
    web = host.file("/etc/alertmanager/web.yml").content_string
    assert AM_PASSWORD not in web and "$2" in web
