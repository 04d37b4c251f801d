"""Bad input to the postgres_exporter role fails before the host is contacted.

As for node_exporter, each case runs the role against a host that cannot be
reached; a run that got past validation would end UNREACHABLE. The sentinel
is the database password (and a basic auth password): no failure may print it.
The positive control proves the harness notices a run that passes.
"""

import pytest
from ansible_collections.vigil.observability.tests.roles.role_input import (
    assert_reached_the_host,
    assert_refused_before_the_host,
    run_cases,
)

SENTINEL = "S3ntinel-bad-input-pgx-7c02"
CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
GOOD = {"postgres_exporter_db_password": SENTINEL}

CASES = [
    # (id, variables, text expected in the failure)
    ("state", {"postgres_exporter_state": "gone"}, "postgres_exporter_state"),
    ("install-method", {"postgres_exporter_install_method": "docker"}, "postgres_exporter_install_method"),
    ("password-missing", {"postgres_exporter_db_password": ""}, "postgres_exporter_db_password must be set"),
    ("password-white-space", {"postgres_exporter_db_password": SENTINEL + "\n"},
     "postgres_exporter_db_password must not start or end with white space"),
    ("user-superuser", {"postgres_exporter_db_user": "postgres"}, "postgres_exporter_db_user must be a dedicated login"),
    ("user-not-a-name", {"postgres_exporter_db_user": "exporter; DROP ROLE x"},
     "postgres_exporter_db_user must be a plain PostgreSQL role name"),
    ("host-with-credentials", {"postgres_exporter_db_host": "user:pw@db1", "postgres_exporter_manage_login": False},
     "postgres_exporter_db_host must be a host name or IP address"),
    ("port", {"postgres_exporter_db_port": 70000}, "postgres_exporter_db_port must be a number from 1 to 65535"),
    ("sslmode", {"postgres_exporter_db_sslmode": "prefer"}, "postgres_exporter_db_sslmode"),
    ("manage-login-remote", {"postgres_exporter_db_host": "db1.example.com"},
     "postgres_exporter_manage_login creates the login in the PostgreSQL cluster of the host itself"),
    ("databases-comma", {"postgres_exporter_databases": ["app,billing"]}, "postgres_exporter_databases takes database names"),
    ("setup-without-collecting", {"postgres_exporter_stat_statements_setup": True},
     "postgres_exporter_stat_statements_setup needs postgres_exporter_stat_statements"),
    ("statements-limit", {"postgres_exporter_stat_statements_limit": 0},
     "postgres_exporter_stat_statements_limit must be from 1 to 1000"),
    ("queries-dir-missing", {"postgres_exporter_queries_dir": "/nonexistent/queries"},
     "postgres_exporter_queries_dir \"/nonexistent/queries\" has no queries.yml"),
    ("queries-extra-shape", {"postgres_exporter_queries_extra": {"pg_mine": {"query": "SELECT 1"}}},
     "postgres_exporter_queries_extra entries need a query and metrics"),
    ("listen-wildcard", {"postgres_exporter_web_listen_address": "0.0.0.0:9187"}, "postgres_exporter_allow_wildcard_bind"),
    ("listen-no-port", {"postgres_exporter_web_listen_address": "10.0.0.5"},
     "postgres_exporter_web_listen_address must be host:port"),
    ("telemetry-path", {"postgres_exporter_web_telemetry_path": "metrics"}, "postgres_exporter_web_telemetry_path must start with /"),
    ("config-dir-etc", {"postgres_exporter_config_dir": "/etc"}, "postgres_exporter_config_dir must be an absolute path of its own"),
    ("flags-dashes", {"postgres_exporter_flags_extra": {"--log.level": "warn"}}, "postgres_exporter_flags_extra keys are flag names"),
    ("flags-managed", {"postgres_exporter_flags_extra": {"auto-discover-databases": True}},
     "postgres_exporter_flags_extra sets auto-discover-databases"),
    ("version-latest", {"postgres_exporter_version": "latest"}, "postgres_exporter_version must be a release version"),
    ("checksum", {"postgres_exporter_checksums": {"amd64": "abc"}}, "postgres_exporter_checksums values must be sha256"),
    ("ready-timeout", {"postgres_exporter_ready_timeout": 0}, "postgres_exporter_ready_timeout must be at least 1"),
    ("web-password-73-bytes", {"postgres_exporter_basic_auth_users": {"prometheus": SENTINEL + "x" * (73 - len(SENTINEL))}},
     "the password of user 'prometheus' is 73 bytes long"),
    ("tls-cert-without-key", {"postgres_exporter_tls_cert": CERT},
     "postgres_exporter_tls_cert and postgres_exporter_tls_key must be set together"),
    ("bcrypt-cost", {"postgres_exporter_bcrypt_cost": 8}, "postgres_exporter_bcrypt_cost must be from 10 to 31"),
]


CONTROL = dict(GOOD, **{
    "postgres_exporter_basic_auth_users": {"prometheus": SENTINEL},
    "postgres_exporter_stat_statements": True,
    "postgres_exporter_stat_statements_setup": True,
    "postgres_exporter_databases": ["postgres", "app"],
})


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """The control and every case, in one ansible-playbook run (role_input.run_cases)."""
    return run_cases(tmp_path_factory.mktemp("postgres_exporter_input"), "postgres_exporter",
                     dict({"control": CONTROL}, **{case[0]: dict(GOOD, **case[1]) for case in CASES}))


def test_valid_input_gets_as_far_as_contacting_the_host(results):
    """Positive control: with good input (statements, two databases, basic auth) the role tries the host."""
    assert_reached_the_host(results["control"], SENTINEL)


@pytest.mark.parametrize("case_id, expected", [(c[0], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_fails_before_contacting_the_host(results, case_id, expected):
    assert_refused_before_the_host(results[case_id], expected, SENTINEL)
