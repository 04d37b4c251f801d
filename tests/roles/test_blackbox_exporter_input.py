"""Bad input to blackbox_exporter fails before the host is contacted.

Each case runs the role from the collection against a host that cannot be
reached (SSH to a closed port on loopback). A run that got past validation
would try to contact it and end UNREACHABLE; a correctly refused input fails
on the controller with a message that names the variable and never shows a
secret. The positive controls prove the harness notices a run that passes,
including the two ways to run without basic auth (loopback, explicit opt-out).

Without facts the default listen address falls back to 127.0.0.1, so the
cases about authentication name a routable address explicitly (with facts,
the role repeats the check against the host's own address).
"""

import pytest
from ansible_collections.vigil.observability.tests.roles.role_input import (
    assert_reached_the_host,
    assert_refused_before_the_host,
    run_cases,
)

SENTINEL = "S3ntinel-bad-input-bbx-7c3e"
CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
KEY = "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----" % SENTINEL
USERS = {"prometheus": SENTINEL}
ROUTABLE = "10.0.0.5:9115"

CASES = [
    # (id, variables, text expected in the failure)
    ("state", {"blackbox_exporter_state": "gone"}, "blackbox_exporter_state"),
    ("install-method", {"blackbox_exporter_install_method": "docker"}, "blackbox_exporter_install_method"),
    ("listen-no-port", {"blackbox_exporter_web_listen_address": "10.0.0.5", "blackbox_exporter_basic_auth_users": USERS},
     "blackbox_exporter_web_listen_address must be host:port"),
    ("listen-wildcard", {"blackbox_exporter_web_listen_address": "0.0.0.0:9115", "blackbox_exporter_basic_auth_users": USERS},
     "blackbox_exporter_allow_wildcard_bind"),
    ("open-relay", {"blackbox_exporter_web_listen_address": ROUTABLE},
     "blackbox_exporter_basic_auth_users is empty but blackbox_exporter_web_listen_address (10.0.0.5:9115) is not a loopback"),
    ("open-relay-wildcard", {"blackbox_exporter_web_listen_address": "0.0.0.0:9115", "blackbox_exporter_allow_wildcard_bind": True},
     "blackbox_exporter_basic_auth_users is empty"),
    ("opt-out-not-bool", {"blackbox_exporter_allow_unauthenticated": "perhaps"}, "blackbox_exporter_allow_unauthenticated"),
    ("modules-type", {"blackbox_exporter_modules": ["http_2xx"]}, "blackbox_exporter_modules"),
    ("no-modules", {"blackbox_exporter_modules": {}}, "define no module"),
    ("module-name", {"blackbox_exporter_modules_extra": {"http-post": {"prober": "http"}}},
     "module names in blackbox_exporter_modules and blackbox_exporter_modules_extra must match"),
    ("module-not-dict", {"blackbox_exporter_modules_extra": {"ssh_banner": "tcp"}},
     "blackbox_exporter modules ssh_banner must be dictionaries"),
    ("module-unknown-prober", {"blackbox_exporter_modules_extra": {"ftp_banner": {"prober": "ftp"}}},
     "blackbox_exporter modules ftp_banner need a prober, one of http, tcp, icmp, dns, grpc"),
    ("module-without-prober", {"blackbox_exporter_modules_extra": {"http_post": {"http": {"method": "POST"}}}},
     "blackbox_exporter modules http_post need a prober"),
    ("module-timeout", {"blackbox_exporter_modules_extra": {"slow": {"prober": "http", "timeout": "5 seconds"}}},
     "have a timeout that is not a duration"),
    ("module-relative-file", {"blackbox_exporter_modules_extra": {
        "https_ca": {"prober": "http", "http": {"tls_config": {"ca_file": "certs/ca.pem"}}}}},
     "modules.https_ca.http.tls_config.ca_file = certs/ca.pem"),
    ("config-dir-relative", {"blackbox_exporter_config_dir": "etc/blackbox"}, "blackbox_exporter_config_dir must be an absolute path"),
    ("flags-dashes", {"blackbox_exporter_flags_extra": {"--log.level": "debug"}}, "blackbox_exporter_flags_extra keys are flag names"),
    ("flags-managed", {"blackbox_exporter_flags_extra": {"config.file": "/tmp/x.yml"}}, "blackbox_exporter_flags_extra sets config.file"),
    ("version-latest", {"blackbox_exporter_version": "latest"}, "blackbox_exporter_version must be a release version"),
    ("checksum", {"blackbox_exporter_checksums": {"amd64": "abc"}}, "blackbox_exporter_checksums values must be sha256"),
    ("reload-timeout", {"blackbox_exporter_reload_timeout": 0}, "blackbox_exporter_reload_timeout must be at least 1 second"),
    ("password-73-bytes", {"blackbox_exporter_basic_auth_users": {"prometheus": SENTINEL + "x" * (73 - len(SENTINEL))}},
     "the password of user 'prometheus' is 73 bytes long"),
    ("password-empty", {"blackbox_exporter_web_listen_address": ROUTABLE, "blackbox_exporter_basic_auth_users": {"prometheus": ""}},
     "must be a non-empty string"),
    ("tls-cert-without-key", {"blackbox_exporter_tls_cert": CERT}, "must be set together"),
    ("tls-key-not-pem", {"blackbox_exporter_tls_cert": CERT, "blackbox_exporter_tls_key": SENTINEL},
     "blackbox_exporter_tls_key must hold a PEM"),
    ("bcrypt-cost", {"blackbox_exporter_bcrypt_cost": 4}, "blackbox_exporter_bcrypt_cost must be from 10 to 31"),
]


CONTROLS = {
    # basic auth on a routable address, a user module with a CA file, TLS on the listener
    "control": {
        "blackbox_exporter_web_listen_address": ROUTABLE,
        "blackbox_exporter_basic_auth_users": USERS,
        "blackbox_exporter_tls_cert": CERT,
        "blackbox_exporter_tls_key": KEY,
        "blackbox_exporter_modules_extra": {
            "https_internal": {"prober": "http", "timeout": "5s",
                               "http": {"tls_config": {"ca_file": "/usr/local/share/ca-certificates/internal.crt"}}}},
    },
    "loopback": {"blackbox_exporter_web_listen_address": "127.0.0.1:9115"},
    "loopback-v6": {"blackbox_exporter_web_listen_address": "[::1]:9115"},
    "explicit-opt-out": {"blackbox_exporter_web_listen_address": ROUTABLE, "blackbox_exporter_allow_unauthenticated": True},
}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """The controls and every case, in one ansible-playbook run (role_input.run_cases)."""
    return run_cases(tmp_path_factory.mktemp("blackbox_exporter_input"), "blackbox_exporter",
                     dict(CONTROLS, **{case[0]: case[1] for case in CASES}))


def test_valid_input_gets_as_far_as_contacting_the_host(results):
    """Positive control: basic auth on a routable address, a user module with a CA file, TLS on the listener."""
    assert_reached_the_host(results["control"], SENTINEL)


@pytest.mark.parametrize("case_id", ["loopback", "loopback-v6", "explicit-opt-out"])
def test_no_basic_auth_is_accepted_on_loopback_or_with_the_opt_out(results, case_id):
    assert_reached_the_host(results[case_id], SENTINEL)


@pytest.mark.parametrize("case_id, expected", [(c[0], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_fails_before_contacting_the_host(results, case_id, expected):
    assert_refused_before_the_host(results[case_id], expected, SENTINEL)
