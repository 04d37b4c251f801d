"""Fire drills: real Prometheus, real Alertmanager cluster, stand-in receivers.

Each drill stops something, waits for the notifications the route tree
promises, and checks that every selected receiver got exactly one, that the
others got none, and that the right ones follow when the cause goes away.
The drills run in file order and leave the hosts as they found them.
"""

import json
import time

import pytest
from am import CRITICAL, PEERS, am_get, hosts, metric, notifications, wait_for

SELECTED = CRITICAL + ("secondary",)  # the escalation receiver, 20 s after the others
# After the last expected notification, wait this long before counting: a
# second or third peer would send a duplicate one or two peer timeouts (5 s
# each in this scenario) after the first, unless gossip told it the first one
# went.
SETTLE = 15
RUNBOOK = "https://github.com/vigil-observability/vigil.observability/blob/main/docs/runbook.md#hostdown"


def _all_have(alertname, instance, since, receivers, status):
    def check():
        seen = notifications(alertname, instance, since)
        missing = [r for r in receivers if status not in seen.get(r, [])]
        return not missing and seen
    return check


def _drill_host_down(target, since):
    """Stop node_exporter on `target` and check the firing, escalation and resolved notifications."""
    host = hosts()[target]
    host.run("systemctl stop node_exporter.service")
    try:
        wait_for(_all_have("HostDown", target, since, CRITICAL, "firing"), 150, "HostDown firing at %s" % (CRITICAL,))
        wait_for(_all_have("HostDown", target, since, ("secondary",), "firing"), 90, "the escalation to secondary")
        time.sleep(SETTLE)
        firing = notifications("HostDown", target, since)
    finally:
        host.run("systemctl start node_exporter.service")
    resolved_since = time.time()
    for receiver in SELECTED:
        assert firing.get(receiver) == ["firing"], "%s got %r, expected exactly one firing notification" % (
            receiver, firing.get(receiver))
    assert "db-chat" not in firing, "db-chat is not selected for HostDown but got %r" % firing["db-chat"]
    assert set(firing) == set(SELECTED), firing

    wait_for(_all_have("HostDown", target, since, SELECTED, "resolved"), 120, "HostDown resolved everywhere")
    time.sleep(SETTLE)
    final = notifications("HostDown", target, since)
    for receiver in SELECTED:
        # Exactly one firing notification before the resolve (checked above),
        # then resolved. Alertmanager's HA is at-least-once by design (REL-13):
        # a peer whose gossip lags sends the resolve a second time, and a peer
        # that flushes its group before Prometheus's resolve reaches it, but
        # after gossip brought the first peer's "resolved", sends the alert once
        # more as firing and then resolved. Both are allowed, as long as the
        # last word is "resolved" and no firing follows a firing.
        got = final[receiver]
        assert got[:2] == ["firing", "resolved"] and got[-1] == "resolved", "%s got %r" % (receiver, got)
        assert not [n for n in range(1, len(got)) if got[n - 1] == got[n] == "firing"], "%s got %r" % (receiver, got)
    assert set(final) == set(SELECTED), final
    return resolved_since


def _http(since, prefix):
    from am import sink_http
    return [e for e in sink_http() if e["time"] >= since and e["path"].startswith(prefix)]


@pytest.fixture(scope="module")
def drill_one():
    since = time.time()
    _drill_host_down("am3", since)
    return since


def test_host_down_reaches_each_selected_receiver_exactly_once(drill_one):
    """Drill 1: node_exporter stops on am3; all three peers up."""
    assert notifications("HostDown", "am3", drill_one)


def test_pagerduty_gets_a_valid_events_v2_trigger_and_resolve(drill_one):
    events = [e for e in _http(drill_one, "/pagerduty") if "HostDown" in e["raw"]]
    trigger, resolve = events[0]["body"], events[-1]["body"]
    assert trigger["routing_key"] == "S3ntinel-5d0c1a77-pd-routing-key"
    assert trigger["event_action"] == "trigger" and resolve["event_action"] == "resolve"
    assert trigger["dedup_key"] and trigger["dedup_key"] == resolve["dedup_key"]
    payload = trigger["payload"]
    assert payload["severity"] == "critical", payload
    assert payload["summary"].startswith("[FIRING:1] HostDown (critical): Host am3 is down"), payload["summary"]
    assert 0 < len(payload["summary"]) <= 1024 and payload["source"], payload
    assert payload["custom_details"]["runbook_url"] == RUNBOOK, payload["custom_details"]
    assert trigger["links"][0]["href"] == RUNBOOK, trigger.get("links")
    assert events[0]["content_type"].startswith("application/json")


def test_slack_message_carries_summary_and_runbook(drill_one):
    message = [e for e in _http(drill_one, "/slack/S3ntinel") if "HostDown" in e["raw"]][0]["body"]
    assert message["channel"] == "#alerts"
    attachment = message["attachments"][0]
    assert attachment["title"] == "[FIRING:1] HostDown (critical): Host am3 is down", attachment["title"]
    assert attachment["title_link"] == RUNBOOK
    assert "Host am3 is down" in attachment["text"] and "Runbook: " + RUNBOOK in attachment["text"], attachment["text"]
    assert attachment["color"] == "danger"


def test_opsgenie_alert_has_key_priority_and_responders(drill_one):
    created = [e for e in _http(drill_one, "/opsgenie") if "HostDown" in e["raw"]][0]
    assert created["path"] == "/opsgenie/v2/alerts"
    assert created["authorization"] == "GenieKey S3ntinel-5d0c1a77-og-api-key"
    body = created["body"]
    assert body["priority"] == "P1" and body["responders"] == [{"type": "team", "name": "sre"}], body
    assert body["message"].startswith("[FIRING:1] HostDown") and RUNBOOK in body["description"]
    closed = [e for e in _http(drill_one, "/opsgenie/v2/alerts/") if e["path"].endswith("close?identifierType=alias")]
    assert len(closed) == 1 and body["alias"] in closed[0]["path"], closed


def test_webhook_carries_the_alert_labels(drill_one):
    firing = [e["body"] for e in _http(drill_one, "/webhook/audit") if "HostDown" in e["raw"]][0]
    alert = firing["alerts"][0]
    assert firing["status"] == "firing" and firing["receiver"] == "audit"
    assert alert["labels"]["alertname"] == "HostDown" and alert["labels"]["instance"] == "am3"
    assert alert["labels"]["severity"] == "critical" and alert["annotations"]["runbook_url"] == RUNBOOK


def test_email_arrives_with_summary_and_runbook(drill_one):
    from am import sink_mail
    mails = [m for m in sink_mail() if m["time"] >= drill_one and "HostDown" in m["data"]]
    firing = mails[0]
    assert firing["to"] == ["<oncall@example.com>"] and firing["from"].startswith("<alertmanager@example.com>")
    assert "Subject: [FIRING:1] HostDown (critical): Host am3 is down" in firing["data"]
    body = firing["data"].replace("=\r\n", "").replace("=\n", "")
    assert RUNBOOK.replace("=", "=3D") in body or RUNBOOK in body, body[:2000]


def test_dedup_holds_with_a_peer_down():
    """Drill 2: Alertmanager stopped on am1, node_exporter stopped on am2."""
    am1 = hosts()["am1"]
    am1.run("systemctl stop alertmanager.service")
    try:
        wait_for(lambda: metric(hosts()["am2"], "alertmanager_cluster_members") == 2, 60, "am1 to leave the cluster")
        _drill_host_down("am2", time.time())
    finally:
        am1.run("systemctl start alertmanager.service")
        wait_for(lambda: all(metric(hosts()[p], "alertmanager_cluster_members") == 3 for p in PEERS), 90,
                 "am1 to rejoin the cluster")


def _set_drill(value):
    am1 = hosts()["am1"]
    path = "/var/lib/node_exporter/textfile_collector/drill.prom"
    if value is None:
        am1.run("rm -f %s" % path)
    else:
        am1.run("printf 'vigil_drill %d\\n' > %s.tmp && chmod 0644 %s.tmp && mv %s.tmp %s" % (value, path, path, path, path))


def test_an_inhibited_alert_stays_silent_while_its_inhibitor_fires():
    """Drill 3: DrillSignal fires as warning and critical; the critical one inhibits the warning."""
    since = time.time()

    def warnings():
        return [e for e in _http(since, "/slack/S3ntinel") if "Drill warning" in e["raw"]]

    _set_drill(2)
    try:
        wait_for(_all_have("DrillSignal", "am1", since, CRITICAL, "firing"), 90, "the critical DrillSignal")
        # Both alerts are in Alertmanager, the warning one marked inhibited ...
        _, body = am_get(hosts()["am3"], "/api/v2/alerts?filter=alertname%3D%22DrillSignal%22")
        states = sorted((a["labels"]["severity"], a["status"]["state"]) for a in json.loads(body))
        assert states == [("critical", "active"), ("warning", "suppressed")], states
        inhibitors = [a for a in json.loads(body) if a["labels"]["severity"] == "warning"][0]["status"]["inhibitedBy"]
        assert inhibitors, "the warning is suppressed but not by an inhibition"
        # ... and chat, which the warning route selects, hears nothing of it
        # for longer than its group_wait and group_interval (2 s and 10 s).
        time.sleep(15)
        assert warnings() == [], warnings()
        # The inhibitor resolves: the warning is delivered now.
        _set_drill(1)
        wait_for(warnings, 90, "the warning once the critical alert resolved")
    finally:
        _set_drill(None)
    wait_for(lambda: [e for e in warnings() if "RESOLVED" in e["raw"]], 90, "the warning to resolve")
