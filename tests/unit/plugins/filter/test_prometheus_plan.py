"""The scrape plan the prometheus role builds from the inventory."""

import os

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.vigil.observability.plugins.filter import prometheus as p

EXPORTERS = [
    {"job": "prometheus", "group": "prometheus", "role": "prometheus", "port": 9090},
    {"job": "alertmanager", "group": "alertmanager", "role": "alertmanager", "port": 9093},
    {"job": "node", "group": "all", "role": "node_exporter", "port": 9100},
    {"job": "postgres", "group": "postgres", "role": "postgres_exporter", "port": 9187},
    {"job": "blackbox_exporter", "group": "blackbox", "role": "blackbox_exporter", "port": 9115},
    {"job": "pushgateway", "group": "pushgateway", "role": "pushgateway", "port": 9091, "honor_labels": True},
]


def inventory(**hosts):
    groups = {"all": list(hosts)}
    for name, hv in hosts.items():
        for group in hv.pop("_groups", []):
            groups.setdefault(group, []).append(name)
    return groups, hosts


def plan(groups, hostvars, self_host="prom", **kwargs):
    return p.prometheus_scrape_plan(groups, hostvars, EXPORTERS, self_host, **kwargs)


def targets(result, job):
    return {g["labels"]["instance"]: g for g in result["file_sd"]["%s.json" % job]}


def job(result, name):
    return next(c for c in result["scrape_configs"] if c["job_name"] == name)


def test_every_host_gets_a_node_target_labelled_with_its_inventory_name():
    """Addresses come from the inventory only (never facts, which --limit leaves out)."""
    groups, hv = inventory(
        prom={"_groups": ["prometheus"], "inventory_hostname": "prom",
              "ansible_facts": {"default_ipv4": {"address": "10.0.0.1"}}},
        web1={"ansible_host": "203.0.113.7"},
        web2={"vigil_address": "10.0.0.3", "ansible_host": "203.0.113.8"},
        web3={"node_exporter_web_listen_address": "10.0.0.4:9200"},
        web4={"node_exporter_web_listen_address": "0.0.0.0:9100", "vigil_address": "fd00::4"},
    )
    result = plan(groups, hv)
    assert result["problems"] == []
    node = targets(result, "node")
    assert {n: g["targets"] for n, g in node.items()} == {
        "prom": ["prom:9100"], "web1": ["203.0.113.7:9100"], "web2": ["10.0.0.3:9100"],
        "web3": ["10.0.0.4:9200"], "web4": ["[fd00::4]:9100"]}
    assert job(result, "node")["scheme"] == "http"
    assert "basic_auth" not in job(result, "node")


def test_tls_and_basic_auth_come_from_the_exporter_role_settings():
    groups, hv = inventory(
        prom={"_groups": ["prometheus"], "vigil_address": "10.0.0.1"},
        plain={"vigil_address": "10.0.0.2"},
        secure={"vigil_address": "10.0.0.3", "node_exporter_tls_cert": "PEM",
                "node_exporter_basic_auth_users": {"prometheus": "pw-secure"}},
        two_users={"vigil_address": "10.0.0.4", "node_exporter_basic_auth_users": {"prometheus": "pw-2", "ops": "x"},
                   "node_exporter_web_telemetry_path": "/node-metrics"},
    )
    result = plan(groups, hv, tls={"ca": True})
    assert result["problems"] == []
    jobs = {c["job_name"]: c for c in result["scrape_configs"] if c["job_name"].startswith("node")}
    assert sorted(jobs) == ["node", "node__2", "node__3"]
    for name, config in jobs.items():
        if name != "node":
            assert config["relabel_configs"] == [{"target_label": "job", "replacement": "node"}]
    by_instance = {}
    for name in jobs:
        for group in result["file_sd"]["%s.json" % name]:
            by_instance[group["labels"]["instance"]] = jobs[name]
    assert by_instance["plain"]["scheme"] == "http" and "basic_auth" not in by_instance["plain"]
    secure = by_instance["secure"]
    assert secure["scheme"] == "https"
    assert secure["tls_config"] == {"ca_file": "/etc/prometheus/tls/scrape_ca.pem"}
    assert secure["basic_auth"]["username"] == "prometheus"
    assert result["secrets"][os.path.basename(secure["basic_auth"]["password_file"])] == "pw-secure"
    assert "pw-secure" not in repr(result["scrape_configs"])
    assert by_instance["two_users"]["metrics_path"] == "/node-metrics"
    assert result["secrets"][os.path.basename(by_instance["two_users"]["basic_auth"]["password_file"])] == "pw-2"


def test_job_variant_names_do_not_depend_on_host_order():
    hosts = {"a": {"vigil_address": "10.0.0.2", "node_exporter_tls_cert": "PEM"}, "b": {"vigil_address": "10.0.0.3"}}
    first = plan({"all": ["a", "b"]}, hosts, self_host="a")
    second = plan({"all": ["b", "a"]}, hosts, self_host="a")
    assert first["file_sd"] == second["file_sd"]


def test_the_server_scrapes_itself_with_its_own_effective_settings():
    groups, hv = inventory(prom={"vigil_address": "10.0.0.1"})
    result = plan(groups, hv, self_vars={"prometheus_web_listen_address": "10.0.0.1:9091", "prometheus_tls_cert": "PEM",
                                         "prometheus_basic_auth_users": {"admin": "a", "prometheus": "self-pw"}})
    assert targets(result, "prometheus")["prom"]["targets"] == ["10.0.0.1:9091"]
    assert job(result, "prometheus")["scheme"] == "https"
    assert "self-pw" in result["secrets"].values()


def test_services_get_their_own_jobs_with_inventory_labels():
    groups, hv = inventory(
        prom={"_groups": ["prometheus"], "vigil_address": "10.0.0.1"},
        api1={"vigil_address": "10.0.0.5", "vigil_labels": {"dc": "par1"}, "vigil_services": [
            {"name": "unified-api", "port": 8000, "labels": {"team": "memory"}, "interval": "30s",
             "business_events": {"memory_created": "memories_created_total"}},
            {"name": "memory-api", "port": 8001, "path": "/internal/metrics"}]},
        api2={"vigil_address": "10.0.0.6", "vigil_services": [{"name": "unified-api", "port": 8000, "labels": {"team": "memory"},
                                                                 "interval": "30s"}]},
    )
    result = plan(groups, hv)
    assert result["problems"] == []
    unified = targets(result, "unified-api")
    assert unified["api1"] == {"targets": ["10.0.0.5:8000"],
                               "labels": {"dc": "par1", "team": "memory", "instance": "api1", "service": "unified-api"}}
    assert unified["api2"]["targets"] == ["10.0.0.6:8000"]
    assert job(result, "unified-api")["scrape_interval"] == "30s"
    assert job(result, "memory-api")["metrics_path"] == "/internal/metrics"
    assert result["rule_groups"] == [{"name": "vigil-business-events", "rules": [{
        "record": "vigil:business_events:rate5m",
        "expr": 'sum by (job, service) (rate(memories_created_total{job="unified-api"}[5m]))',
        "labels": {"event": "memory_created"}}]}]


def test_probes_go_through_every_blackbox_host():
    groups, hv = inventory(
        prom={"_groups": ["prometheus"], "vigil_address": "10.0.0.1",
              "vigil_probes": ["https://api.example.com/health", {"target": "db:5432", "module": "tcp_connect"}]},
        bb={"_groups": ["blackbox"], "vigil_address": "10.0.0.9", "blackbox_exporter_basic_auth_users": {"prometheus": "bb"},
            "vigil_probes": ["https://api.example.com/health"]},
    )
    result = plan(groups, hv)
    assert result["problems"] == []
    probes = result["file_sd"]["blackbox.json"]
    assert [(g["labels"]["instance"], g["labels"]["__param_module"], g["targets"]) for g in probes] == [
        ("db:5432", "tcp_connect", ["10.0.0.9:9115"]), ("https://api.example.com/health", "http_2xx", ["10.0.0.9:9115"])]
    assert job(result, "blackbox")["metrics_path"] == "/probe"
    assert job(result, "blackbox")["basic_auth"]["username"] == "prometheus"
    assert targets(result, "blackbox_exporter")["bb"]["targets"] == ["10.0.0.9:9115"]


def test_every_alertmanager_of_the_group_is_alerted():
    groups, hv = inventory(
        prom={"_groups": ["prometheus"], "vigil_address": "10.0.0.1"},
        am1={"_groups": ["alertmanager"], "vigil_address": "10.0.0.11"},
        am2={"_groups": ["alertmanager"], "vigil_address": "10.0.0.12"},
        am3={"_groups": ["alertmanager"], "vigil_address": "10.0.0.13", "alertmanager_tls_cert": "PEM",
             "alertmanager_basic_auth_users": {"prometheus": "am-pw"}},
    )
    result = plan(groups, hv)
    managers = result["alertmanagers"]
    assert [m["static_configs"][0]["targets"] for m in managers] == [["10.0.0.11:9093", "10.0.0.12:9093"], ["10.0.0.13:9093"]]
    assert managers[1]["scheme"] == "https" and managers[1]["basic_auth"]["username"] == "prometheus"
    assert "am-pw" in result["secrets"].values()
    scraped = [g["labels"]["instance"] for name, groups in result["file_sd"].items() if name.startswith("alertmanager")
               for g in groups]
    assert sorted(scraped) == ["am1", "am2", "am3"]


def test_job_overrides_and_honor_labels():
    groups, hv = inventory(prom={"vigil_address": "10.0.0.1"}, pg={"_groups": ["pushgateway"], "vigil_address": "10.0.0.2"})
    result = plan(groups, hv, job_overrides={"node": {"scrape_interval": "1m", "sample_limit": 10000}})
    assert job(result, "node")["scrape_interval"] == "1m"
    assert job(result, "pushgateway")["honor_labels"] is True


def test_every_path_in_the_plan_is_absolute():
    groups, hv = inventory(
        prom={"_groups": ["prometheus"], "vigil_address": "10.0.0.1"},
        web={"vigil_address": "10.0.0.2", "node_exporter_tls_cert": "PEM", "node_exporter_basic_auth_users": {"u": "p"},
             "node_exporter_tls_client_auth_type": "RequireAndVerifyClientCert"},
    )
    result = plan(groups, hv, tls={"ca": True, "client_cert": True})
    paths = p.config_paths(result["scrape_configs"]) + p.config_paths(result["alertmanagers"])
    assert paths and all(path.startswith("/") for _, path in paths)


@pytest.mark.parametrize("hostvars, expected", [
    ({"vigil_services": [{"name": "api", "port": 8000, "pth": "/"}]}, "has unknown keys pth"),
    ({"vigil_services": [{"name": "api", "port": 0}]}, "port must be a number from 1 to 65535"),
    ({"vigil_services": [{"name": "api", "port": True}]}, "port must be a number from 1 to 65535"),
    ({"vigil_services": [{"name": "node", "port": 8000}]}, "is the job name of an exporter"),
    ({"vigil_services": [{"name": "bad name", "port": 8000}]}, "name must match"),
    ({"vigil_services": [{"name": "api", "port": 8000, "scheme": "ftp"}]}, "scheme must be http or https"),
    ({"vigil_services": [{"name": "api", "port": 8000, "business_events": {"memory created": "x_total"}}]}, "business_events entry"),
    ({"vigil_services": {"name": "api"}}, "vigil_services on host h must be a list"),
    ({"vigil_labels": {"__meta": "x"}}, "must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __"),
    ({"vigil_labels": {"job": "x"}}, "sets the reserved label 'job'"),
    ({"vigil_probes": [{"target": "https://x", "module": "http 2xx"}]}, "module must be a blackbox module name"),
    ({"vigil_probes": [{"url": "https://x"}]}, "has unknown keys url"),
    ({"node_exporter_web_listen_address": "9100"}, "node_exporter_web_listen_address must be host:port"),
    ({"node_exporter_basic_auth_users": {"a": "1", "b": "2"}}, "has several node_exporter_basic_auth_users (a, b)"),
    ({"node_exporter_basic_auth_users": ["a"]}, "node_exporter_basic_auth_users must be a dict"),
    ({"node_exporter_tls_cert": "PEM", "node_exporter_tls_client_auth_type": "RequireAndVerifyClientCert"},
     "set prometheus_scrape_tls_client_cert"),
])
def test_inventory_problems_name_the_host_and_variable(hostvars, expected):
    result = plan({"all": ["h"]}, {"h": dict(hostvars, vigil_address="10.0.0.2")}, self_host="h")
    assert any(expected in problem for problem in result["problems"]), result["problems"]


def test_conflicting_business_event_definitions_are_refused():
    groups, hv = inventory(
        a={"vigil_address": "10.0.0.2", "vigil_services": [{"name": "api", "port": 1, "business_events": {"e": "a_total"}}]},
        b={"vigil_address": "10.0.0.3", "vigil_services": [{"name": "api", "port": 1, "business_events": {"e": "b_total"}}]},
    )
    assert any("is counted by" in x for x in plan(groups, hv, self_host="a")["problems"])


@pytest.mark.parametrize("exporters, expected", [
    ("nope", "prometheus_exporters must be a list"),
    ([{"job": "node", "group": "all", "role": "node_exporter"}], "needs port"),
    ([{"job": "node", "group": "all", "role": "node_exporter", "port": 9100, "extra": 1}], "unknown keys extra"),
    ([{"job": "n", "group": "all", "role": "a", "port": 1}, {"job": "n", "group": "all", "role": "b", "port": 2}], "repeats job 'n'"),
    ([{"job": "node", "group": "all", "role": "node_exporter", "port": 99999}], "port must be 1 to 65535"),
])
def test_bad_exporter_lists(exporters, expected):
    result = p.prometheus_scrape_plan({"all": ["h"]}, {"h": {}}, exporters, "h")
    assert any(expected in x for x in result["problems"]), result["problems"]


def test_groups_must_be_a_dict():
    with pytest.raises(AnsibleFilterError):
        p.prometheus_scrape_plan(["h"], {}, EXPORTERS, "h")


def test_unknown_job_override_is_refused():
    result = plan({"all": ["h"]}, {"h": {"vigil_address": "10.0.0.2"}}, self_host="h", job_overrides={"nodes": {}})
    assert any("names job 'nodes'" in x for x in result["problems"])


@pytest.mark.parametrize("value, seconds", [("15s", 15), ("1h30m", 5400), ("500ms", 0.5), ("2w", 1209600), ("1y", 31536000)])
def test_duration_seconds(value, seconds):
    assert p.duration_seconds(value) == seconds


@pytest.mark.parametrize("value", ["15", "1.5h", "15x", "", "1h 30m"])
def test_duration_seconds_refuses_non_durations(value):
    with pytest.raises(AnsibleFilterError):
        p.duration_seconds(value)


def test_mount_of_picks_the_longest_mount_point():
    mounts = [{"mount": "/", "fstype": "ext4"}, {"mount": "/var", "fstype": "xfs"}, {"mount": "/var/lib/prom", "fstype": "nfs"}]
    assert p.mount_of(mounts, "/var/lib/prometheus/data")["fstype"] == "xfs"
    assert p.mount_of(mounts, "/var/lib/prom/data")["fstype"] == "nfs"
    assert p.mount_of(mounts, "/etc")["fstype"] == "ext4"
    assert p.mount_of([], "/etc") == {}


def test_secret_fields_moves_inline_secrets_into_files():
    result = p.secret_fields([
        {"url": "https://a", "basic_auth": {"username": "u", "password": "s3cret"}},
        {"url": "https://b", "authorization": {"credentials": "tok"}},
        {"url": "https://c"},
    ], "/etc/prometheus/secrets", "remote_write")
    assert result["config"][0]["basic_auth"] == {"username": "u", "password_file": "/etc/prometheus/secrets/remote_write-1.password"}
    assert result["config"][1]["authorization"] == {"credentials_file": "/etc/prometheus/secrets/remote_write-2.credentials"}
    assert result["config"][2] == {"url": "https://c"}
    assert result["secrets"] == {"remote_write-1.password": "s3cret", "remote_write-2.credentials": "tok"}
    assert "s3cret" not in repr(result["config"])


def test_config_paths_finds_files_and_globs():
    found = p.config_paths({"rule_files": ["/a/*.yml"], "x": [{"tls_config": {"ca_file": "ca.pem"}}],
                            "file_sd_configs": [{"files": ["/b/*.json"]}]})
    assert sorted(path for _, path in found) == ["/a/*.yml", "/b/*.json", "ca.pem"]
    assert ["config.x[0].tls_config.ca_file", "ca.pem"] in found
