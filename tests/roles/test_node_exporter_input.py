"""Bad input to node_exporter fails before the host is contacted.

Each case runs the role from the collection against a host that cannot be
reached (SSH to a closed port on loopback). A run that got past validation
would try to contact it and end UNREACHABLE; a correctly refused input fails
on the controller with a message that names the variable and never shows a
secret. The positive control proves the harness notices a run that passes.
"""

import pytest
from ansible_collections.vigil.observability.tests.roles.role_input import (
    assert_reached_the_host,
    assert_refused_before_the_host,
    run_cases,
)

SENTINEL = "S3ntinel-bad-input-9e0b"
CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
KEY = "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----" % SENTINEL

CASES = [
    # (id, variables, text expected in the failure)
    ("state", {"node_exporter_state": "gone"}, "node_exporter_state"),
    ("install_method", {"node_exporter_install_method": "docker"}, "node_exporter_install_method"),
    ("listen-no-port", {"node_exporter_web_listen_address": "10.0.0.5"}, "node_exporter_web_listen_address must be host:port"),
    ("listen-port-range", {"node_exporter_web_listen_address": "10.0.0.5:70000"}, "expected 1 to 65535"),
    ("listen-wildcard", {"node_exporter_web_listen_address": "0.0.0.0:9100"}, "node_exporter_allow_wildcard_bind"),
    ("listen-empty-host", {"node_exporter_web_listen_address": ":9100"}, "node_exporter_allow_wildcard_bind"),
    ("listen-v6-wildcard", {"node_exporter_web_listen_address": "[::]:9100"}, "node_exporter_allow_wildcard_bind"),
    ("telemetry-path", {"node_exporter_web_telemetry_path": "metrics"}, "node_exporter_web_telemetry_path must start with /"),
    ("collectors-type", {"node_exporter_enabled_collectors": {"systemd": True}}, "node_exporter_enabled_collectors"),
    ("collector-both-ways", {"node_exporter_enabled_collectors": ["systemd"], "node_exporter_disabled_collectors": ["systemd"]},
     "are in both node_exporter_enabled_collectors and node_exporter_disabled_collectors"),
    ("collector-name", {"node_exporter_disabled_collectors": ["--no-collector.arp"]}, "take collector names"),
    ("textfile-relative", {"node_exporter_textfile_dir": "textfile"}, "node_exporter_textfile_dir must be an absolute path"),
    ("config-dir-relative", {"node_exporter_config_dir": "etc/ne"}, "node_exporter_config_dir must be an absolute path"),
    ("flags-dashes", {"node_exporter_flags_extra": {"--web.max-requests": 4}}, "node_exporter_flags_extra keys are flag names"),
    ("flags-managed", {"node_exporter_flags_extra": {"web.listen-address": ":1"}}, "node_exporter_flags_extra sets web.listen-address"),
    ("version-latest", {"node_exporter_version": "latest"}, "node_exporter_version must be a release version"),
    ("version-v", {"node_exporter_version": "v1.9.1"}, "node_exporter_version must be a release version"),
    ("checksum", {"node_exporter_checksums": {"amd64": "abc"}}, "node_exporter_checksums values must be sha256"),
    ("bcrypt-cost", {"node_exporter_bcrypt_cost": 4}, "node_exporter_bcrypt_cost must be from 10 to 31"),
    ("bcrypt-cost-type", {"node_exporter_bcrypt_cost": "high"}, "node_exporter_bcrypt_cost"),
    ("password-73-bytes", {"node_exporter_basic_auth_users": {"prometheus": SENTINEL + "x" * (73 - len(SENTINEL))}},
     "the password of user 'prometheus' is 73 bytes long"),
    ("password-empty", {"node_exporter_basic_auth_users": {"prometheus": ""}}, "must be a non-empty string"),
    ("user-colon", {"node_exporter_basic_auth_users": {"pro:metheus": SENTINEL}}, "must not contain ':'"),
    ("users-type", {"node_exporter_basic_auth_users": [SENTINEL]}, "node_exporter_basic_auth_users"),
    ("tls-cert-without-key", {"node_exporter_tls_cert": CERT}, "must be set together"),
    ("tls-key-without-cert", {"node_exporter_tls_key": KEY}, "must be set together"),
    ("tls-cert-not-pem", {"node_exporter_tls_cert": "not a cert", "node_exporter_tls_key": KEY}, "node_exporter_tls_cert must hold a PEM"),
    ("tls-key-not-pem", {"node_exporter_tls_cert": CERT, "node_exporter_tls_key": SENTINEL}, "node_exporter_tls_key must hold a PEM"),
    ("client-ca-without-tls", {"node_exporter_tls_client_ca": CERT}, "need node_exporter_tls_cert"),
    ("client-auth-without-ca", {"node_exporter_tls_cert": CERT, "node_exporter_tls_key": KEY,
                                "node_exporter_tls_client_auth_type": "RequireAndVerifyClientCert"}, "needs node_exporter_tls_client_ca"),
    ("tls-min-version", {"node_exporter_tls_min_version": "TLS10"}, "node_exporter_tls_min_version"),
    ("ready-timeout", {"node_exporter_ready_timeout": 0}, "node_exporter_ready_timeout must be at least 1"),
    ("unknown-type-bool", {"node_exporter_allow_wildcard_bind": "perhaps"}, "node_exporter_allow_wildcard_bind"),
]


CONTROL = {"node_exporter_basic_auth_users": {"prometheus": SENTINEL}}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """The control and every case, in one ansible-playbook run (role_input.run_cases)."""
    return run_cases(tmp_path_factory.mktemp("node_exporter_input"), "node_exporter",
                     dict({"control": CONTROL}, **{case[0]: case[1] for case in CASES}))


def test_valid_input_gets_as_far_as_contacting_the_host(results):
    """Positive control: with good input the role tries the host and is unreachable."""
    assert_reached_the_host(results["control"], SENTINEL)


@pytest.mark.parametrize("case_id, expected", [(c[0], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_fails_before_contacting_the_host(results, case_id, expected):
    assert_refused_before_the_host(results[case_id], expected, SENTINEL)
