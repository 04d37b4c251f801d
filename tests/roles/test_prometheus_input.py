"""Bad input to the prometheus role fails before the host is contacted.

As for node_exporter, each case runs the role against a host that cannot be
reached; a run that got past validation would end UNREACHABLE. The play
gives the host facts first (set_fact on the controller), so the checks that
need facts and the scrape plan built from the inventory also run without
contacting it. The positive control proves the harness notices a run that
passes.
"""

import os

import pytest
from ansible_collections.vigil.observability.tests.helpers import ROOT
from ansible_collections.vigil.observability.tests.roles.role_input import (
    assert_reached_the_host,
    assert_refused_before_the_host,
    play,
    run_cases,
    write_harness,
)

SENTINEL = "S3ntinel-bad-input-prom-41d7"
CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
KEY = "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----" % SENTINEL
FACTS = {
    "architecture": "x86_64", "distribution": "Debian", "distribution_major_version": "12", "os_family": "Debian",
    "service_mgr": "systemd", "default_ipv4": {"address": "10.9.9.9"},
    "mounts": [{"mount": "/", "fstype": "ext4", "size_total": 100 * 2 ** 30}],
}

API = {"name": "unified-api", "port": 8000}
CASES = [
    # (id, variables, text expected in the failure)
    ("state", {"prometheus_state": "gone"}, "prometheus_state"),
    ("install-method", {"prometheus_install_method": "docker"}, "prometheus_install_method"),
    ("listen-no-port", {"prometheus_web_listen_address": "10.0.0.5"}, "prometheus_web_listen_address must be host:port"),
    ("listen-wildcard", {"prometheus_web_listen_address": "0.0.0.0:9090"}, "prometheus_allow_wildcard_bind"),
    ("external-url", {"prometheus_web_external_url": "prometheus.example.com"}, "prometheus_web_external_url must be"),
    ("scrape-interval", {"prometheus_scrape_interval": "15x"}, "prometheus_scrape_interval must be a Prometheus duration"),
    ("timeout-longer", {"prometheus_scrape_interval": "10s", "prometheus_scrape_timeout": "1m"},
     "prometheus_scrape_timeout (1m) must not be longer than prometheus_scrape_interval (10s)"),
    ("evaluation-interval", {"prometheus_evaluation_interval": "often"}, "prometheus_evaluation_interval must be"),
    ("retention-time", {"prometheus_storage_retention_time": "30 days"}, "prometheus_storage_retention_time must be"),
    ("retention-size", {"prometheus_storage_retention_size": "50G"}, "prometheus_storage_retention_size must be auto"),
    ("retention-percent", {"prometheus_storage_retention_size_percent": 95},
     "prometheus_storage_retention_size_percent must be from 1 to 85"),
    ("stop-timeout", {"prometheus_stop_timeout": 10}, "prometheus_stop_timeout must be at least 30"),
    ("config-dir-relative", {"prometheus_config_dir": "etc/prometheus"}, "prometheus_config_dir must be an absolute path"),
    ("data-dir-root", {"prometheus_data_dir": "/var/lib"}, "prometheus_data_dir must be an absolute path of its own"),
    ("flags-dashes", {"prometheus_flags_extra": {"--query.timeout": "2m"}}, "prometheus_flags_extra keys are flag names"),
    ("flags-managed", {"prometheus_flags_extra": {"web.enable-lifecycle": True}}, "prometheus_flags_extra sets web.enable-lifecycle"),
    ("version-latest", {"prometheus_version": "latest"}, "prometheus_version must be a release version"),
    ("checksum", {"prometheus_checksums": {"amd64": "abc"}}, "prometheus_checksums values must be sha256"),
    ("timeouts", {"prometheus_reload_timeout": 0}, "prometheus_reload_timeout must be at least 1 second"),
    ("password-73-bytes", {"prometheus_basic_auth_users": {"prometheus": SENTINEL + "x" * (73 - len(SENTINEL))}},
     "the password of user 'prometheus' is 73 bytes long"),
    ("several-users-no-scrape-user", {"prometheus_basic_auth_users": {"alice": SENTINEL, "bob": SENTINEL}},
     "prometheus_basic_auth_users has several users"),
    ("tls-cert-without-key", {"prometheus_tls_cert": CERT}, "prometheus_tls_cert and prometheus_tls_key must be set together"),
    ("bcrypt-cost", {"prometheus_bcrypt_cost": 8}, "prometheus_bcrypt_cost must be from 10 to 31"),
    ("scrape-client-cert-alone", {"prometheus_scrape_tls_client_cert": CERT},
     "prometheus_scrape_tls_client_cert and prometheus_scrape_tls_client_key must be set together"),
    ("scrape-ca-not-pem", {"prometheus_scrape_tls_ca": "ca.pem"}, "prometheus_scrape_tls_ca must hold PEM"),
    ("external-label-name", {"prometheus_external_labels": {"my-cluster": "a"}}, "prometheus_external_labels names"),
    ("rule-file-missing", {"prometheus_rule_files": ["/nonexistent/rules.yml"]},
     "prometheus_rule_files /nonexistent/rules.yml do not exist"),
    ("rule-file-relative", {"prometheus_rule_files": ["rules/mine.yml"]}, "prometheus_rule_files must be absolute paths"),
    ("rule-file-names-repeat", {"prometheus_rule_files": [os.path.join(ROOT, "molecule", "node_exporter", "molecule.yml"),
                                                          os.path.join(ROOT, "molecule", "prometheus", "molecule.yml")]},
     "prometheus_rule_files must have distinct file names"),
    ("shipped-dir-missing", {"prometheus_shipped_rules_dir": "/nonexistent/rules"}, "is not a directory on the controller"),
    ("shipped-exclude-unknown", {"prometheus_shipped_rules_exclude": ["nosuch.yml"]}, "prometheus_shipped_rules_exclude names nosuch.yml"),
    ("rule-group-without-rules", {"prometheus_rule_groups": [{"name": "mine"}]}, "prometheus_rule_groups entries need a name and rules"),
    ("remote-write-without-url", {"prometheus_remote_write": [{"name": "thanos"}]}, "every prometheus_remote_write entry needs a url"),
    ("remote-write-relative-file", {"prometheus_remote_write": [{"url": "https://lt.example/api/v1/write",
                                                                 "tls_config": {"ca_file": "ca.pem"}}]},
     "prometheus_remote_write[0].tls_config.ca_file = ca.pem"),
    ("extra-job-without-name", {"prometheus_scrape_configs_extra": [{"static_configs": []}]},
     "every prometheus_scrape_configs_extra entry needs a job_name"),
]
# Checks of the scrape plan built from the inventory (and host facts). The
# plan of each host reads the variables of every host in the inventory, so
# these cases cannot share one run as hosts of their own: one run each.
PLAN_CASES = [
    # Service level objectives (plugins/filter/slo.py; every kind of bad declaration is in tests/unit/test_slo.py).
    ("slo-objective", {"vigil_services": [API], "vigil_slos": [{"service": "unified-api", "objective": 100,
                                                               "sli": {"availability": {}}}]},
     "vigil_slos[0] (unified-api-availability): objective must be a percentage between 0 and 100"),
    ("slo-threshold", {"vigil_services": [API], "vigil_slos": [{"service": "unified-api", "sli": {"latency": {"threshold": 0.3}}}]},
     "sli.latency.threshold 0.3 is not a bucket boundary of the histogram service unified-api exposes"),
    ("slo-setting", {"vigil_services": [API], "prometheus_slo_page_for": "soon",
                     "vigil_slos": [{"service": "unified-api", "sli": {"availability": {}}}]},
     "prometheus_slo_page_for must be a Prometheus duration such as 2m, got 'soon'"),
    ("service-unknown-key", {"vigil_services": [{"name": "unified-api", "port": 8000, "pth": "/metrics"}]},
     "vigil_services[0] on host unreachable has unknown keys pth"),
    ("service-port", {"vigil_services": [{"name": "unified-api", "port": "eighty"}]}, "port must be a number from 1 to 65535"),
    ("service-named-like-exporter", {"vigil_services": [{"name": "node", "port": 8000}]}, "is the job name of an exporter"),
    ("service-interval", {"vigil_services": [{"name": "unified-api", "port": 8000, "interval": "often"}]},
     "interval must be a Prometheus duration"),
    ("label-reserved", {"vigil_labels": {"instance": "x"}}, "sets the reserved label 'instance'"),
    ("exporter-several-users", {"node_exporter_basic_auth_users": {"alice": SENTINEL, "bob": SENTINEL}},
     "has several node_exporter_basic_auth_users (alice, bob)"),
    ("exporter-client-cert", {"node_exporter_tls_cert": CERT, "node_exporter_tls_client_auth_type": "RequireAndVerifyClientCert"},
     "set prometheus_scrape_tls_client_cert"),
    ("exporter-listen", {"node_exporter_web_listen_address": "somewhere"}, "node_exporter_web_listen_address must be host:port"),
    ("probes-without-prober", {"vigil_probes": ["https://api.example.com/health"]}, "no host of the blackbox_exporter group"),
    ("override-unknown-job", {"prometheus_job_overrides": {"nodes": {"scrape_interval": "30s"}}},
     "prometheus_job_overrides names job 'nodes'"),
    ("override-reserved", {"prometheus_job_overrides": {"node": {"metrics_path": "/x"}}}, "sets metrics_path"),
    ("extra-job-clash", {"prometheus_scrape_configs_extra": [{"job_name": "node", "static_configs": []}]},
     "prometheus_scrape_configs_extra job names must be unique"),
    ("exporters-shape", {"prometheus_exporters": [{"job": "node", "group": "all", "role": "node_exporter"}]},
     "prometheus_exporters[0] needs port"),
]


def _give_facts():
    facts = {"ansible_" + name: "{{ test_facts.%s }}" % name for name in FACTS}
    return [{"name": "Give the host facts without contacting it", "ansible.builtin.set_fact": dict(facts, cacheable=True)}]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return write_harness(tmp_path_factory.mktemp("prometheus_input"), "prometheus", host_vars={"test_facts": FACTS},
                         pre_tasks=_give_facts())


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """The settings cases, each a host of its own, in one ansible-playbook run (role_input.run_cases)."""
    return run_cases(tmp_path_factory.mktemp("prometheus_settings_input"), "prometheus",
                     {case[0]: case[1] for case in CASES}, host_vars={"test_facts": FACTS}, pre_tasks=_give_facts())


def test_valid_input_gets_as_far_as_contacting_the_host(workdir):
    """Positive control: with good input (and a service, labels, users) the role tries the host and is unreachable."""
    assert_reached_the_host(play(workdir, {
        "prometheus_basic_auth_users": {"prometheus": SENTINEL},
        "node_exporter_basic_auth_users": {"prometheus": SENTINEL},
        "vigil_services": [{"name": "unified-api", "port": 8000, "labels": {"team": "memory"}}],
        "vigil_labels": {"dc": "par1"},
        "vigil_slos": [{"service": "unified-api", "sli": {"availability": {}}, "labels": {"team": "memory"}},
                       {"service": "unified-api", "objective": 99, "sli": {"latency": {"threshold": 1}}}],
    }), SENTINEL)


@pytest.mark.parametrize("case_id, expected", [(c[0], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_fails_before_contacting_the_host(results, case_id, expected):
    assert_refused_before_the_host(results[case_id], expected, SENTINEL)


@pytest.mark.parametrize("variables, expected", [c[1:] for c in PLAN_CASES], ids=[c[0] for c in PLAN_CASES])
def test_bad_scrape_plan_input_fails_before_contacting_the_host(workdir, variables, expected):
    assert_refused_before_the_host(play(workdir, variables), expected, SENTINEL)
