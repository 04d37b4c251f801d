"""plugin_utils/_endpoints: the one rule for how a host reaches a daemon another role configures.

The Prometheus scrape plan, the Grafana datasources and API URL and the
Alertmanager cluster peers all go through it; the last tests check that they
agree on the cases where they used to differ (a daemon bound to loopback).
"""


import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.vigil.observability.plugins.filter.alertmanager import alertmanager_cluster_peers
from ansible_collections.vigil.observability.plugins.filter.grafana import grafana_config, grafana_datasources
from ansible_collections.vigil.observability.plugins.filter.prometheus import prometheus_scrape_plan
from ansible_collections.vigil.observability.plugins.plugin_utils._endpoints import (
    basic_auth_user,
    host_address,
    reach,
    reach_address,
)


def getter(values):
    return lambda key, default=None: values.get(key, default) if values.get(key) is not None else default


@pytest.mark.parametrize("bind, address, same_host, expected", [
    # Wildcards: the host's address from anywhere (TLS name, stable target) ...
    ("0.0.0.0", "10.0.0.5", False, "10.0.0.5"),
    ("0.0.0.0", "10.0.0.5", True, "10.0.0.5"),
    ("", "db1.example.com", False, "db1.example.com"),
    ("[::]", "fd00::5", False, "[fd00::5]"),
    ("::", "fd00::5", True, "[fd00::5]"),
    ("*", "10.0.0.5", False, "10.0.0.5"),
    # ... and loopback of the same family only on the host itself when its address is unknown.
    ("0.0.0.0", None, True, "127.0.0.1"),
    ("[::]", None, True, "[::1]"),
    ("0.0.0.0", None, False, None),
    # Loopback: only from the same host.
    ("127.0.0.1", "10.0.0.5", True, "127.0.0.1"),
    ("127.0.1.1", "10.0.0.5", True, "127.0.1.1"),
    ("[::1]", "10.0.0.5", True, "[::1]"),
    ("localhost", "10.0.0.5", True, "127.0.0.1"),
    ("127.0.0.1", "10.0.0.5", False, None),
    ("[::1]", "10.0.0.5", False, None),
    ("localhost", None, False, None),
    # Anything else: that address, from anywhere.
    ("10.0.0.7", "10.0.0.5", False, "10.0.0.7"),
    ("10.0.0.7", "10.0.0.5", True, "10.0.0.7"),
    ("[fd00::7]", None, False, "[fd00::7]"),
    ("127.example.com", None, False, "127.example.com"),
])
def test_reach_address(bind, address, same_host, expected):
    assert reach_address(bind, address, same_host) == expected


def test_host_address_prefers_vigil_address_then_ansible_host_then_the_name():
    assert host_address(getter({"vigil_address": "10.0.0.1", "ansible_host": "h", "inventory_hostname": "n"})) == "10.0.0.1"
    assert host_address(getter({"ansible_host": "h", "inventory_hostname": "n"})) == "h"
    assert host_address(getter({"inventory_hostname": "n"})) == "n"
    # A host that is not in hostvars at all is still named.
    assert host_address(getter({}), "web1") == "web1"


def test_reach_gives_scheme_credentials_and_client_cert():
    found, problem = reach(getter({"vigil_address": "10.0.0.9", "node_exporter_web_listen_address": "0.0.0.0:9200",
                                   "node_exporter_tls_cert": "PEM", "node_exporter_basic_auth_users": {"p": "s3cret"},
                                   "node_exporter_tls_client_auth_type": "RequireAndVerifyClientCert"}),
                           "web1", "node_exporter", 9100, client_host="prom1")
    assert problem is None
    assert found == {"host": "web1", "address": "10.0.0.9:9200", "scheme": "https", "url": "https://10.0.0.9:9200",
                     "username": "p", "password": "s3cret", "client_cert": True}


def test_reach_without_listen_address_uses_the_default_port_on_the_host_address():
    found, problem = reach(getter({"inventory_hostname": "web1"}), "web1", "node_exporter", 9100, client_host="prom1")
    assert problem is None and found["url"] == "http://web1:9100" and found["username"] == ""


def test_reach_with_auth_off_ignores_the_roles_users():
    found, problem = reach(getter({"x_basic_auth_users": {"a": "1", "b": "2"}}), "h", "x", 1, client_host="h", auth=False)
    assert problem is None and (found["username"], found["password"]) == ("", "")


@pytest.mark.parametrize("values, client_host, fragment", [
    ({"x_web_listen_address": "9100"}, "c", "x_web_listen_address must be host:port, got '9100'"),
    ({"x_web_listen_address": "127.0.0.1:9100"}, "c", "x listens on 127.0.0.1:9100 only (x_web_listen_address), which "
                                                      "cannot be reached from c"),
    ({"x_web_listen_address": "[::1]:9100"}, None, "cannot be reached from another host"),
    ({"x_basic_auth_users": ["a"]}, "c", "host h: x_basic_auth_users must be a dict"),
    ({"x_basic_auth_users": {"a": "1", "b": "2"}}, "c", "host h has several x_basic_auth_users (a, b); add one named 'u' "
                                                       "or set u_var to the one Client should use"),
])
def test_reach_problems_name_the_host_and_the_variable(values, client_host, fragment):
    found, problem = reach(getter(values), "h", "x", 9100, client_host=client_host, user="u", user_var="u_var",
                           client="Client")
    assert found is None and fragment in problem


def test_basic_auth_user_picks_the_named_user_among_several():
    assert basic_auth_user({"a": "1", "grafana": "2"}, "grafana", "h", "x", "v", "Grafana") == ("grafana", "2", None)
    assert basic_auth_user({}, "grafana", "h", "x", "v", "Grafana") == ("", "", None)


# -- the filters agree -------------------------------------------------------------------------------------------------

EXPORTERS = [{"job": "prometheus", "group": "prometheus", "role": "prometheus", "port": 9090}]


def groups_and_hostvars(listen):
    hostvars = {
        "mon": {"inventory_hostname": "mon", "vigil_address": "10.0.0.1", "prometheus_web_listen_address": listen},
        "dash": {"inventory_hostname": "dash", "vigil_address": "10.0.0.2"},
    }
    groups = {"all": ["mon", "dash"], "prometheus": ["mon"], "grafana": ["dash"]}
    return groups, hostvars


def datasource_settings(host):
    return {"host": host, "prometheus": {"group": "prometheus", "port": 9090}, "alertmanager": {"enabled": False},
            "elasticsearch": {"enabled": False}, "jaeger": {"enabled": False}}


@pytest.mark.parametrize("listen, url", [("0.0.0.0:9090", "http://10.0.0.1:9090"), ("10.0.0.11:9090", "http://10.0.0.11:9090")])
def test_prometheus_and_grafana_reach_a_reachable_prometheus_at_the_same_address(listen, url):
    groups, hostvars = groups_and_hostvars(listen)
    plan = prometheus_scrape_plan(groups, hostvars, EXPORTERS, "mon")
    assert plan["problems"] == []
    assert plan["file_sd"]["prometheus.json"][0]["targets"] == [url.split("//")[1]]
    ds = grafana_datasources(groups, hostvars, datasource_settings("dash"))
    assert ds["problems"] == [] and ds["datasources"][0]["url"] == url


def test_a_prometheus_on_loopback_is_reached_on_its_own_host_only():
    groups, hostvars = groups_and_hostvars("127.0.0.1:9090")
    # Prometheus scrapes itself at loopback, as before.
    plan = prometheus_scrape_plan(groups, hostvars, EXPORTERS, "mon")
    assert plan["problems"] == [] and plan["file_sd"]["prometheus.json"][0]["targets"] == ["127.0.0.1:9090"]
    # A Grafana on the same host uses loopback too (it used to get 10.0.0.1, where nothing listens) ...
    ds = grafana_datasources(groups, hostvars, datasource_settings("mon"))
    assert ds["problems"] == [] and ds["datasources"][0]["url"] == "http://127.0.0.1:9090"
    # ... and a Grafana elsewhere, or on a host it is not told, gets a problem instead of a dead URL.
    for host in ("dash", None):
        ds = grafana_datasources(groups, hostvars, datasource_settings(host))
        assert ds["datasources"] == [] and "prometheus listens on 127.0.0.1:9090 only" in ds["problems"][0]


def test_an_exporter_on_loopback_on_another_host_is_a_problem_not_a_scrape_of_prometheus_own_loopback():
    hostvars = {"mon": {"inventory_hostname": "mon"},
                "web": {"inventory_hostname": "web", "node_exporter_web_listen_address": "127.0.0.1:9100"}}
    groups = {"all": ["mon", "web"]}
    plan = prometheus_scrape_plan(groups, hostvars, [{"job": "node", "group": "all", "role": "node_exporter",
                                                      "port": 9100}], "mon")
    assert plan["file_sd"]["node.json"] == [{"targets": ["mon:9100"], "labels": {"instance": "mon"}}]
    assert plan["problems"] == ["host web: node_exporter listens on 127.0.0.1:9100 only (node_exporter_web_listen_address), "
                                "which cannot be reached from mon; bind it to an address of the host"]


@pytest.mark.parametrize("http_addr, api_url", [("", "http://127.0.0.1:3000"), ("0.0.0.0", "http://127.0.0.1:3000"),
                                                ("::", "http://[::1]:3000"), ("localhost", "http://127.0.0.1:3000"),
                                                ("10.0.0.2", "http://10.0.0.2:3000"), ("fd00::2", "http://[fd00::2]:3000")])
def test_grafana_api_url_from_the_grafana_host_itself(http_addr, api_url):
    built = grafana_config({"ini": {"server": {"http_addr": http_addr}}, "allow_wildcard_bind": True})
    assert built["problems"] == [] and built["api_url"] == api_url


def test_cluster_peers_cannot_gossip_over_loopback():
    groups = {"am": ["a", "b"]}
    hostvars = {"a": {"inventory_hostname": "a"}, "b": {"inventory_hostname": "b", "vigil_address": "10.0.0.3"}}
    assert alertmanager_cluster_peers(groups, hostvars, "a", "am") == ["10.0.0.3:9094"]
    hostvars["b"]["alertmanager_cluster_listen_address"] = "127.0.0.1:9094"
    with pytest.raises(AnsibleFilterError, match="host b gossips on 127.0.0.1:9094 only"):
        alertmanager_cluster_peers(groups, hostvars, "a", "am")
