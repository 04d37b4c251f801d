"""Bad input to grafana fails before the host is contacted.

Each case runs the role from the collection against a host that cannot be
reached (SSH to a closed port on loopback). A run that got past validation
would try to contact it and end UNREACHABLE; a correctly refused input fails
on the controller with a message that names the variable and never shows a
secret. The positive controls prove the harness notices a run that passes.
"""

import pytest
from ansible_collections.vigil.observability.tests.roles.role_input import (
    assert_reached_the_host,
    assert_refused_before_the_host,
    play,
    run_cases,
    write_harness,
)

SENTINEL = "S3ntinel-bad-input-grafana-7c2e"
GOOD = {
    "grafana_admin_password": SENTINEL + "-admin",
    "grafana_datasources_extra": [{"name": "Loki", "type": "loki", "uid": "loki", "url": "http://loki:3100",
                                   "secureJsonData": {"basicAuthPassword": SENTINEL + "-loki"}}],
}
PG = {"grafana_database_type": "postgres", "grafana_database_host": "db.example.com:5432",
      "grafana_database_password": SENTINEL + "-db", "grafana_database_ssl_mode": "require"}


def with_good(**variables):
    return dict(GOOD, **variables)


CASES = [
    # (id, variables, text expected in the failure)
    ("state", with_good(grafana_state="gone"), "grafana_state"),
    ("install-method", with_good(grafana_install_method="docker"), "grafana_install_method"),
    ("admin-password-empty", {"grafana_admin_password": ""}, "grafana_admin_password is empty"),
    ("admin-password-admin", {"grafana_admin_password": "admin"}, "grafana_admin_password is Grafana's default password"),
    ("secret-key-default", with_good(grafana_secret_key="SW2YcwTIb9zpOOhoPsMm"),
     "grafana_secret_key is Grafana's well-known default key"),
    ("secret-key-short", with_good(grafana_secret_key=SENTINEL[:20]), "grafana_secret_key is too short (20 characters)"),
    ("anonymous-admin", with_good(grafana_allow_anonymous=True,
                                  grafana_ini={"auth.anonymous": {"enabled": True, "org_role": "Admin"}}),
     "enables anonymous access with org_role Admin"),
    ("anonymous-without-opt-in", with_good(grafana_ini={"auth.anonymous": {"enabled": "true"}}),
     "anonymous access is off unless grafana_allow_anonymous is set to true"),
    ("wildcard-bind", with_good(grafana_ini={"server": {"http_addr": "0.0.0.0"}}),
     "grafana_ini['server']['http_addr'] is '0.0.0.0', which listens on every interface"),
    ("wildcard-bind-empty", with_good(grafana_ini={"server": {"http_addr": ""}}), "grafana_allow_wildcard_bind"),
    ("sign-up", with_good(grafana_ini={"users": {"allow_sign_up": True}}),
     "grafana_ini['users']['allow_sign_up'] = true weakens Grafana"),
    ("embedding", with_good(grafana_ini={"security": {"allow_embedding": "true"}}), "grafana_allow_insecure_settings"),
    ("snapshots", with_good(grafana_ini={"snapshots": {"external_enabled": True}}),
     "grafana_ini['snapshots']['external_enabled'] = true weakens Grafana"),
    ("reporting", with_good(grafana_ini={"analytics": {"reporting_enabled": True}}), "reporting_enabled"),
    ("cookie-insecure-behind-https", with_good(grafana_ini={"server": {"root_url": "https://grafana.example.com/"},
                                                            "security": {"cookie_secure": False}}),
     "grafana_ini['security']['cookie_secure'] = false weakens Grafana"),
    ("samesite-lax-behind-https", with_good(grafana_ini={"server": {"root_url": "https://grafana.example.com/"},
                                                         "security": {"cookie_samesite": "lax"}}),
     "grafana_ini['security']['cookie_samesite'] = lax behind https"),
    ("bool-type", with_good(grafana_ini={"users": {"allow_sign_up": "maybe"}}),
     "grafana_ini['users']['allow_sign_up'] must be true or false, got 'maybe'"),
    ("nested-value", with_good(grafana_ini={"server": {"domain": {"name": "x"}}}),
     "grafana_ini['server']['domain'] must be a string, number or boolean, got dict"),
    ("ini-not-dict", with_good(grafana_ini=["server"]), "grafana_ini"),
    ("port", with_good(grafana_ini={"server": {"http_port": 70000}}), "grafana_ini['server']['http_port'] must be a port number"),
    ("protocol", with_good(grafana_ini={"server": {"protocol": "ftp"}}), "grafana_ini['server']['protocol'] must be one of"),
    ("https-without-cert", with_good(grafana_ini={"server": {"protocol": "https"}}), "set grafana_ini['server']['cert_file']"),
    ("root-url", with_good(grafana_ini={"server": {"root_url": "grafana.example.com"}}),
     "grafana_ini['server']['root_url'] must be the http(s) URL"),
    ("managed-admin-password", with_good(grafana_ini={"security": {"admin_password": SENTINEL}}),
     "grafana_ini['security']['admin_password'] is set by the role: use grafana_admin_password"),
    ("managed-secret-key", with_good(grafana_ini={"security": {"secret_key": SENTINEL + "x" * 32}}),
     "grafana_ini['security']['secret_key'] is set by the role: use grafana_secret_key"),
    ("managed-database-password", with_good(grafana_ini={"database": {"password": SENTINEL}}),
     "use grafana_database_password"),
    ("version-latest", with_good(grafana_version="latest"), "grafana_version must be a released version"),
    ("fingerprint", with_good(grafana_gpg_fingerprint="963FA27710458545"), "grafana_gpg_fingerprint must be the 40"),
    ("other fingerprints", with_good(grafana_gpg_other_fingerprints=["0E22EB88E39E12277A7760AE9E439B102CF3C0C6", "8C8C34C524098CB6"]),
     "grafana_gpg_other_fingerprints must list 40-hexadecimal-digit"),
    ("repo-url", with_good(grafana_apt_repo_url="apt.grafana.com"), "grafana_apt_repo_url"),
    ("package-file-empty", with_good(grafana_install_method="package_file"),
     "grafana_install_method is package_file but grafana_package_file is empty"),
    ("package-file-missing", with_good(grafana_install_method="package_file",
                                       grafana_package_file="/nonexistent/grafana_12.4.2_amd64.deb",
                                       grafana_package_checksum="sha256:" + "0" * 64),
     "grafana_package_file /nonexistent/grafana_12.4.2_amd64.deb is not a file on the controller"),
    ("package-file-no-checksum", with_good(grafana_install_method="package_file",
                                           grafana_package_file="https://dl.example.com/grafana_12.4.2_amd64.deb"),
     "grafana_package_checksum must be the package file's digest"),
    ("package-file-kind", with_good(grafana_install_method="package_file",
                                    grafana_package_file="https://dl.example.com/grafana.tar.gz",
                                    grafana_package_checksum="sha256:" + "0" * 64),
     "grafana_package_file must name a .deb or .rpm file"),
    ("postgres-host", with_good(**dict(PG, grafana_database_host="db.example.com")),
     "grafana_database_host must be the PostgreSQL server as host:port"),
    ("postgres-password", with_good(**dict(PG, grafana_database_password="")), "grafana_database_password is empty"),
    ("postgres-verify-without-ca", with_good(**dict(PG, grafana_database_ssl_mode="verify-full")),
     "set grafana_database_ca_cert_path"),
    ("backup-keep", with_good(grafana_backup_keep=0), "grafana_backup_keep must be at least 1"),
    ("insecure-settings-name", with_good(grafana_allow_insecure_settings=["allow_sign_up"]),
     "grafana_allow_insecure_settings entries are section.option names"),
    ("datasource-extra-no-uid", with_good(grafana_datasources_extra=[{"name": "Loki", "type": "loki"}]),
     "grafana_datasources_extra[0] needs name, type and uid"),
    ("datasource-extra-uid-taken", with_good(grafana_datasources_extra=GOOD["grafana_datasources_extra"] + [
        {"name": "Loki 2", "type": "loki", "uid": "loki"}]),
     "grafana_datasources_extra[1]: uid 'loki' is already used by grafana_datasources_extra[0]"),
    ("dashboards-extra-shape", with_good(grafana_dashboards_extra=[{"src": "/tmp"}]),
     "grafana_dashboards_extra entries must be dicts with src"),
    ("dashboards-dir-missing", with_good(grafana_dashboards_dir="/nonexistent/dashboards"),
     "dashboard directories not found on the controller: /nonexistent/dashboards"),
    ("folder-uid", with_good(grafana_dashboards_folder_uid="bad uid"), "dashboard folder uids"),
]


@pytest.fixture(scope="module")
def ha_workdir(tmp_path_factory):
    """Two hosts in group grafana: with PostgreSQL they are an HA pair."""
    import yaml

    path = write_harness(tmp_path_factory.mktemp("grafana_ha_input"), "grafana")
    inventory = yaml.safe_load((path / "inventory.yml").read_text())
    host = inventory["all"]["hosts"]["unreachable"]
    inventory["all"]["children"] = {"grafana": {"hosts": {"unreachable": {}, "peer": dict(host)}}}
    (path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    return path


CONTROLS = {
    # extra datasources with secrets, an opted-in anonymous Viewer, https cookies
    "control": with_good(
        grafana_allow_anonymous=True, grafana_secret_key=SENTINEL + "-" + "k" * 32,
        grafana_ini={"auth.anonymous": {"enabled": True, "org_role": "Viewer"},
                     "server": {"root_url": "https://grafana.example.com/", "domain": "grafana.example.com"},
                     "auth.generic_oauth": {"enabled": True, "client_secret": SENTINEL + "-oauth"}}),
    "wildcard-opt-in": with_good(grafana_ini={"server": {"http_addr": "0.0.0.0"}}, grafana_allow_wildcard_bind=True),
    "insecure-opt-in": with_good(grafana_ini={"users": {"allow_sign_up": True}},
                                 grafana_allow_insecure_settings=["users.allow_sign_up"]),
    "postgres-single": with_good(**dict(PG, grafana_database_ssl_mode="verify-full",
                                        grafana_database_ca_cert_path="/etc/ssl/pg-ca.pem")),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """The controls and every case, in one ansible-playbook run (role_input.run_cases)."""
    return run_cases(tmp_path_factory.mktemp("grafana_input"), "grafana",
                     dict(CONTROLS, **{case[0]: case[1] for case in CASES}))


def test_valid_input_gets_as_far_as_contacting_the_host(results):
    """Positive control: extra datasources with secrets, an opted-in anonymous Viewer, https cookies."""
    assert_reached_the_host(results["control"], SENTINEL)


@pytest.mark.parametrize("case_id", ["wildcard-opt-in", "insecure-opt-in", "postgres-single"])
def test_explicit_opt_ins_are_accepted(results, case_id):
    assert_reached_the_host(results[case_id], SENTINEL)


@pytest.mark.parametrize("case_id, expected", [(c[0], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_fails_before_contacting_the_host(results, case_id, expected):
    assert_refused_before_the_host(results[case_id], expected, SENTINEL)


def test_ha_pair_needs_an_explicit_secret_key(ha_workdir):
    assert_refused_before_the_host(play(ha_workdir, with_good(**PG)), "grafana_secret_key must be set explicitly", SENTINEL)


def test_ha_pair_with_a_secret_key_is_accepted(ha_workdir):
    assert_reached_the_host(play(ha_workdir, with_good(grafana_secret_key=SENTINEL + "-" + "k" * 32, **PG)), SENTINEL)
