"""Bad input to alertmanager fails before the host is contacted.

Each case runs the role from the collection against a host that cannot be
reached (SSH to a closed port on loopback). A run that got past validation
would try to contact it and end UNREACHABLE; a correctly refused input fails
on the controller with a message that names the variable and never shows a
secret. The positive controls prove the harness notices a run that passes.

Without facts the default listen address falls back to 127.0.0.1 (loopback,
where no basic auth is needed), so the authentication cases name a routable
address explicitly.
"""

import pytest
from ansible_collections.vigil.observability.tests.roles.role_input import (
    assert_reached_the_host,
    assert_refused_before_the_host,
    run_cases,
)

SENTINEL = "S3ntinel-bad-input-am-41d9"
USERS = {"prometheus": SENTINEL}
ROUTABLE = "10.0.0.5:9093"
RECEIVERS = {
    "pager": [{"type": "pagerduty", "routing_key": SENTINEL + "-pd"}],
    "ops": [{"type": "opsgenie", "api_key": SENTINEL + "-og", "responders": [{"type": "team", "name": "sre"}]}],
    "chat": [{"type": "slack", "api_url": "https://hooks.slack.com/services/" + SENTINEL, "channel": "#alerts"}],
    "mail": [{"type": "email", "to": "oncall@example.com"}],
    "hook": [{"type": "webhook", "url_file": "/etc/alertmanager/secrets/hook.url"}],
}
SMTP = {"smarthost": "smtp.example.com:587", "from": "am@example.com", "auth_username": "am", "auth_password": SENTINEL + "-smtp"}
GOOD = {
    "alertmanager_receivers": RECEIVERS,
    "alertmanager_smtp": SMTP,
    "alertmanager_severity_routes": {
        "critical": {"receivers": ["pager", "ops", "chat", "mail"], "group_wait": "10s"},
        "warning": {"receivers": [{"receiver": "chat", "active_time_intervals": ["business-hours"]}]},
    },
    "alertmanager_team_routes": [{"team": "db", "severities": {"warning": {"receivers": ["hook"]}}}],
    "alertmanager_escalation_receiver": "hook",
    "alertmanager_time_intervals": {"business-hours": [{"weekdays": ["monday:friday"]}]},
}


def with_good(**variables):
    return dict(GOOD, **variables)


CASES = [
    # (id, variables, text expected in the failure)
    ("state", {"alertmanager_state": "gone"}, "alertmanager_state"),
    ("install-method", {"alertmanager_install_method": "docker"}, "alertmanager_install_method"),
    ("open-api", {"alertmanager_web_listen_address": ROUTABLE},
     "alertmanager_basic_auth_users is empty but alertmanager_web_listen_address (10.0.0.5:9093) is not a loopback"),
    ("listen-wildcard", {"alertmanager_web_listen_address": "0.0.0.0:9093", "alertmanager_basic_auth_users": USERS},
     "alertmanager_allow_wildcard_bind"),
    ("receivers-not-dict", {"alertmanager_receivers": [{"name": "pager"}]}, "alertmanager_receivers"),
    ("receiver-name", with_good(alertmanager_receivers=dict(RECEIVERS, **{"bad name": [{"type": "webhook", "url": "http://x"}]})),
     "alertmanager_receivers['bad name']: receiver names must match"),
    ("receiver-empty", with_good(alertmanager_receivers=dict(RECEIVERS, empty=[])),
     "alertmanager_receivers['empty'] must be a non-empty list of integrations"),
    ("integration-type", with_good(alertmanager_receivers=dict(RECEIVERS, teams=[{"type": "msteams", "url": "http://x"}])),
     "alertmanager_receivers['teams'][0]: type must be one of email, opsgenie, pagerduty, slack, webhook, got 'msteams'"),
    ("integration-unknown-key", with_good(alertmanager_receivers=dict(RECEIVERS, pager=[
        {"type": "pagerduty", "routing_key": SENTINEL, "service_key": SENTINEL}])),
     "alertmanager_receivers['pager'][0] (pagerduty): unknown keys service_key"),
    ("pagerduty-no-key", with_good(alertmanager_receivers=dict(RECEIVERS, pager=[{"type": "pagerduty"}])),
     "alertmanager_receivers['pager'][0] (pagerduty) needs exactly one of routing_key (from vault) and routing_key_file"),
    ("pagerduty-both-keys", with_good(alertmanager_receivers=dict(RECEIVERS, pager=[
        {"type": "pagerduty", "routing_key": SENTINEL, "routing_key_file": "/etc/pd.key"}])),
     "needs exactly one of routing_key (from vault) and routing_key_file"),
    ("pagerduty-severity-map", with_good(alertmanager_receivers=dict(RECEIVERS, pager=[
        {"type": "pagerduty", "routing_key": SENTINEL, "severity_map": {"critical": "sev1"}}])),
     "severity_map must map severity label values to one of critical, error, warning, info"),
    ("opsgenie-priority-map", with_good(alertmanager_receivers=dict(RECEIVERS, ops=[
        {"type": "opsgenie", "api_key": SENTINEL, "priority_map": {"critical": "urgent"}}])),
     "priority_map must map severity label values to one of P1, P2, P3, P4, P5"),
    ("opsgenie-responders", with_good(alertmanager_receivers=dict(RECEIVERS, ops=[
        {"type": "opsgenie", "api_key": SENTINEL, "responders": [{"type": "squad", "name": "sre"}]}])),
     "responders must be a list of {type: team|teams|user|escalation|schedule"),
    ("slack-no-channel", with_good(alertmanager_receivers=dict(RECEIVERS, chat=[{"type": "slack", "api_url": "https://x/" + SENTINEL}])),
     "alertmanager_receivers['chat'][0] (slack) needs channel"),
    ("secret-file-relative", with_good(alertmanager_receivers=dict(RECEIVERS, hook=[{"type": "webhook", "url_file": "hook.url"}])),
     "url_file must be an absolute path on the host, got 'hook.url'"),
    ("email-no-smarthost", with_good(alertmanager_smtp={}),
     "alertmanager_receivers['mail'][0] (email) has no smarthost: set alertmanager_smtp.smarthost"),
    ("email-no-to", with_good(alertmanager_receivers=dict(RECEIVERS, mail=[{"type": "email"}])),
     "alertmanager_receivers['mail'][0] (email) needs to"),
    ("smtp-smarthost", with_good(alertmanager_smtp=dict(SMTP, smarthost="smtp.example.com")),
     "alertmanager_smtp.smarthost must be host:port"),
    ("smtp-unknown-key", with_good(alertmanager_smtp=dict(SMTP, password=SENTINEL)), "alertmanager_smtp: unknown keys password"),
    ("route-unknown-receiver", with_good(alertmanager_severity_routes={"critical": {"receivers": ["pagr"]}}),
     "alertmanager_severity_routes.critical.receivers[0] names receiver 'pagr', which is not defined"),
    ("route-bad-key", with_good(alertmanager_severity_routes={"critical": {"receiver": "pager"}}),
     "alertmanager_severity_routes.critical must be a dict with keys from"),
    ("route-duration", with_good(alertmanager_severity_routes={"critical": {"receivers": ["pager"], "group_wait": "10 s"}}),
     "alertmanager_severity_routes.critical.group_wait must be a duration such as 30s or 4h, got '10 s'"),
    ("route-interval-undefined", with_good(alertmanager_severity_routes={"warning": {"receivers": ["chat"],
                                                                                     "mute_time_intervals": ["nights"]}}),
     "names time interval 'nights', which alertmanager_time_intervals does not define"),
    ("group-by", with_good(alertmanager_group_by=["alert-name"]), "alertmanager_group_by must be a list of label names"),
    ("group-wait", with_good(alertmanager_group_wait="soon"), "alertmanager_group_wait must be a duration"),
    ("team-without-name", with_good(alertmanager_team_routes=[{"severities": {}}]),
     "alertmanager_team_routes[0] must be a dict with team (a name) and severities"),
    ("team-unknown-receiver", with_good(alertmanager_team_routes=[{"team": "db", "severities": {"critical": {"receivers": ["dba"]}}}]),
     "alertmanager_team_routes[0].severities.critical.receivers[0] names receiver 'dba'"),
    ("escalation-unknown", with_good(alertmanager_escalation_receiver="boss"),
     "alertmanager_escalation_receiver names receiver 'boss', which is not defined"),
    ("escalation-after", with_good(alertmanager_escalation_after="half an hour"),
     "alertmanager_escalation_after must be a duration such as 30m"),
    ("watchdog-unknown", with_good(alertmanager_watchdog_receiver="deadmansnitch"),
     "alertmanager_watchdog_receiver names receiver 'deadmansnitch'"),
    ("default-unknown", with_good(alertmanager_default_receiver="nobody"),
     "alertmanager_default_receiver names receiver 'nobody'"),
    ("inhibit-rule", with_good(alertmanager_inhibit_rules_extra=[{"equal": ["instance"]}]),
     "alertmanager_inhibit_rules_extra[0] needs source_matchers and target_matchers"),
    ("time-intervals-shape", with_good(alertmanager_time_intervals={"business-hours": {"weekdays": ["monday"]}}),
     "alertmanager_time_intervals must be a dict of name -> list"),
    ("extra-receiver-duplicate", with_good(alertmanager_receivers_extra=[{"name": "pager"}]),
     "alertmanager_receivers_extra[0]: receiver 'pager' is already defined"),
    ("template-file", {"alertmanager_template_files": ["/tmp/custom.txt"]},
     "alertmanager_template_files must be paths on the controller of notification templates ending in .tmpl"),
    ("cluster-listen", {"alertmanager_cluster_listen_address": "0.0.0.0:9094"},
     "alertmanager_cluster_listen_address must be an IPv4 address and port such as 10.0.0.5:9094"),
    ("peer-timeout", {"alertmanager_cluster_peer_timeout": "15"}, "alertmanager_cluster_peer_timeout must be a duration"),
    ("external-url", {"alertmanager_web_external_url": "alertmanager.example.com"},
     "alertmanager_web_external_url must be the http(s) URL"),
    ("data-dir-relative", {"alertmanager_data_dir": "var/lib/am"}, "alertmanager_config_dir and alertmanager_data_dir must be absolute"),
    ("flags-managed", {"alertmanager_flags_extra": {"cluster.peer": "x:9094"}}, "alertmanager_flags_extra sets cluster.peer"),
    ("version-latest", {"alertmanager_version": "latest"}, "alertmanager_version must be a release version"),
    ("checksum", {"alertmanager_checksums": {"amd64": "abc"}}, "alertmanager_checksums values must be sha256"),
    ("password-73-bytes", {"alertmanager_basic_auth_users": {"prometheus": SENTINEL + "x" * (73 - len(SENTINEL))}},
     "the password of user 'prometheus' is 73 bytes long"),
]


CONTROLS = {
    # every receiver kind, severity and team routes, escalation, time intervals, basic auth
    "control": with_good(alertmanager_web_listen_address=ROUTABLE, alertmanager_basic_auth_users=USERS),
    "loopback": {"alertmanager_web_listen_address": "127.0.0.1:9093"},
    "explicit-opt-out": {"alertmanager_web_listen_address": ROUTABLE, "alertmanager_allow_unauthenticated": True},
}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """The controls and every case, in one ansible-playbook run (role_input.run_cases)."""
    return run_cases(tmp_path_factory.mktemp("alertmanager_input"), "alertmanager",
                     dict(CONTROLS, **{case[0]: case[1] for case in CASES}))


def test_valid_input_gets_as_far_as_contacting_the_host(results):
    """Positive control: every receiver kind, severity and team routes, escalation, time intervals, basic auth."""
    assert_reached_the_host(results["control"], SENTINEL)


@pytest.mark.parametrize("case_id", ["loopback", "explicit-opt-out"])
def test_no_basic_auth_is_accepted_on_loopback_or_with_the_opt_out(results, case_id):
    assert_reached_the_host(results[case_id], SENTINEL)


@pytest.mark.parametrize("case_id, expected", [(c[0], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_fails_before_contacting_the_host(results, case_id, expected):
    assert_refused_before_the_host(results[case_id], expected, SENTINEL)
