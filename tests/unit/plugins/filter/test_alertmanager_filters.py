"""The filters behind the alertmanager role: configuration, cluster peers, redaction."""

from ansible_collections.vigil.observability.plugins.filter.alertmanager import (
    UNROUTED,
    alertmanager_cluster_peers,
    alertmanager_config,
)
from ansible_collections.vigil.observability.plugins.filter.results import failure_text, redact
from ansible_collections.vigil.observability.plugins.filter.systemd import systemd_flags

BASE = {"group_by": ["alertname"], "group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h",
        "escalation_severities": ["critical"], "escalation_after": "30m", "escalation_repeat_interval": "1h"}


def build(**settings):
    return alertmanager_config(dict(BASE, **settings))


def test_defaults_build_a_valid_tree_that_notifies_nobody():
    built = build()
    assert built["problems"] == [] and built["secrets"] == [] and not built["has_secrets"]
    config = built["config"]
    assert config["route"]["receiver"] == UNROUTED
    assert config["receivers"] == [{"name": UNROUTED}]
    assert config["route"]["routes"] == [{"matchers": ['alertname="Watchdog"'], "receiver": UNROUTED, "group_wait": "0s",
                                          "group_interval": "1m", "repeat_interval": "1m"}]


def test_a_severity_fans_out_with_continue_and_ends_with_the_escalation():
    built = build(receivers={"a": [{"type": "webhook", "url": "http://a"}], "b": [{"type": "webhook", "url": "http://b"}],
                             "esc": [{"type": "webhook", "url": "http://esc"}]},
                  severity_routes={"critical": {"receivers": ["a", "b"], "group_wait": "10s"},
                                   "warning": {"receivers": ["b"]}},
                  escalation_receiver="esc", escalation_after="20m")
    assert built["problems"] == []
    critical, warning = built["config"]["route"]["routes"][1:]
    assert critical == {"matchers": ['severity="critical"'], "group_wait": "10s", "routes": [
        {"receiver": "a", "continue": True}, {"receiver": "b", "continue": True},
        {"receiver": "esc", "group_wait": "20m", "repeat_interval": "1h"}]}
    # Warnings are not escalated, and a single receiver needs no continue.
    assert warning == {"matchers": ['severity="warning"'], "routes": [{"receiver": "b"}]}


def test_team_routes_come_before_severity_routes_and_fall_through():
    built = build(receivers={"chat": [{"type": "webhook", "url": "http://c"}], "db": [{"type": "webhook", "url": "http://d"}]},
                  team_routes=[{"team": "db", "severities": {"warning": {"receivers": ["db"]}}}],
                  severity_routes={"warning": {"receivers": ["chat"]}})
    routes = built["config"]["route"]["routes"]
    assert [r.get("matchers") for r in routes] == [['alertname="Watchdog"'], ['team="db"', 'severity="warning"'],
                                                   ['severity="warning"']]


def test_inline_secrets_are_listed_for_masking_and_file_references_are_kept():
    built = build(receivers={
        "p": [{"type": "pagerduty", "routing_key": "K1"}],
        "o": [{"type": "opsgenie", "api_key_file": "/etc/alertmanager/og.key"}],
        "s": [{"type": "slack", "api_url": "https://hooks/K2", "channel": "#x"}],
        "e": [{"type": "email", "to": "a@example.com", "smarthost": "m:25", "from": "b@example.com", "auth_password": "K3"}]},
        smtp={"auth_password": "K4"})
    assert built["problems"] == []
    assert built["secrets"] == ["K1", "K3", "K4", "https://hooks/K2"] and built["has_secrets"]
    receivers = dict((r["name"], r) for r in built["config"]["receivers"])
    assert receivers["o"]["opsgenie_configs"][0]["api_key_file"] == "/etc/alertmanager/og.key"
    assert receivers["p"]["pagerduty_configs"][0]["severity"] == (
        '{{ if eq .CommonLabels.severity "critical" }}critical{{ else if eq .CommonLabels.severity "info" }}info'
        '{{ else if eq .CommonLabels.severity "warning" }}warning{{ else }}warning{{ end }}')
    assert built["config"]["global"]["smtp_auth_password"] == "K4"


def test_native_extras_make_the_whole_configuration_secret():
    assert build(receivers_extra=[{"name": "x", "webhook_configs": [{"url": "http://x"}]}])["has_secrets"]
    assert build(global_extra={"http_config": {}})["has_secrets"]


def test_problems_name_the_variable():
    problems = build(receivers={"p": [{"type": "pagerduty"}]}, severity_routes={"critical": {"receivers": ["q"]}},
                     escalation_receiver="r", watchdog_receiver="w", default_receiver="d")["problems"]
    assert sorted(problems) == sorted([
        "alertmanager_receivers['p'][0] (pagerduty) needs exactly one of routing_key (from vault) and routing_key_file "
        "(a file on the host)",
        "alertmanager_watchdog_receiver names receiver 'w', which is not defined in alertmanager_receivers",
        "alertmanager_severity_routes.critical.receivers[0] names receiver 'q', which is not defined in "
        "alertmanager_receivers (defined: p)",
        "alertmanager_escalation_receiver names receiver 'r', which is not defined in alertmanager_receivers",
        "alertmanager_default_receiver names receiver 'd', which is not defined in alertmanager_receivers",
    ])


def test_cluster_peers_come_from_the_inventory():
    groups = {"alertmanager": ["am1", "am2", "am3"], "solo": ["one"]}
    hostvars = {"am1": {"inventory_hostname": "am1"},
                "am2": {"inventory_hostname": "am2", "ansible_host": "10.0.0.2"},
                "am3": {"inventory_hostname": "am3", "vigil_address": "am3.internal",
                        "alertmanager_cluster_listen_address": "10.0.1.3:9095"},
                "one": {"inventory_hostname": "one"}}
    assert alertmanager_cluster_peers(groups, hostvars, "am1", "alertmanager") == ["10.0.0.2:9094", "10.0.1.3:9095"]
    assert alertmanager_cluster_peers(groups, hostvars, "am3", "alertmanager") == ["10.0.0.2:9094", "am1:9094"]
    # Alone in its group, or outside it: no peers, gossip off.
    assert alertmanager_cluster_peers(groups, hostvars, "one", "solo") == []
    assert alertmanager_cluster_peers(groups, hostvars, "one", "alertmanager") == []


def test_redact_masks_every_secret_longest_first():
    assert redact("url https://hooks/K2 key K2", ["K2", "https://hooks/K2", ""]) == "url <secret> key <secret>"
    assert redact(None, ["x"]) == ""


def test_failure_text_reads_loops_and_single_results():
    assert failure_text({"msg": "failed to validate", "stdout": "Checking x FAILED: bad", "stderr": ""}) == \
        "failed to validate\nChecking x FAILED: bad"
    looped = {"results": [{"changed": True}, {"failed": True, "msg": "failed to validate", "stdout": "template: oops"}]}
    assert failure_text(looped) == "failed to validate\ntemplate: oops"


def test_systemd_flags_repeat_list_values():
    assert systemd_flags({"cluster.peer": ["a:9094", "b:9094"], "cluster.listen-address": ""}) == [
        '--cluster.listen-address=""', '--cluster.peer="a:9094"', '--cluster.peer="b:9094"']


def test_team_routes_take_the_timings_of_their_severity():
    built = build(receivers={"p": [{"type": "webhook", "url": "http://p"}], "d": [{"type": "webhook", "url": "http://d"}]},
                  severity_routes={"critical": {"receivers": ["p"], "group_wait": "10s", "repeat_interval": "1h"}},
                  team_routes=[{"team": "db", "severities": {"critical": {"receivers": ["d"], "repeat_interval": "2h"}}}])
    team = built["config"]["route"]["routes"][1]
    assert team["matchers"] == ['team="db"', 'severity="critical"']
    assert (team["group_wait"], team["repeat_interval"]) == ("10s", "2h")


def test_the_escalation_keeps_the_time_intervals_of_its_route():
    built = build(receivers={"p": [{"type": "webhook", "url": "http://p"}], "e": [{"type": "webhook", "url": "http://e"}]},
                  severity_routes={"critical": {"receivers": ["p"], "mute_time_intervals": ["nights"]}},
                  escalation_receiver="e", time_intervals={"nights": [{"times": [{"start_time": "22:00", "end_time": "24:00"}]}]})
    assert built["problems"] == []
    children = built["config"]["route"]["routes"][1]["routes"]
    assert children == [{"receiver": "p", "mute_time_intervals": ["nights"], "continue": True},
                        {"receiver": "e", "group_wait": "30m", "repeat_interval": "1h", "mute_time_intervals": ["nights"]}]
