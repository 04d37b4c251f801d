"""What the role leaves on the host without the Grafana binary (package and run steps skipped by tag).

No Grafana runs here: these tests check the rendered configuration, the
secret-bearing files, the drop-in and the repository setup, not Grafana's
behaviour.
"""

import configparser
import io

import pytest
import yaml
from grafana_common import INI, KEY, KEYRING, SECRETS, SOURCES

SECRET_FILES = ["/etc/grafana/grafana.ini", "/etc/grafana/secrets/admin_password", "/etc/grafana/secrets/secret_key",
                "/etc/grafana/provisioning/datasources/vigil.yml"]
DIRS = ["/etc/grafana", "/etc/grafana/secrets", "/etc/grafana/provisioning", "/etc/grafana/provisioning/datasources",
        "/etc/grafana/dashboards", "/etc/grafana/dashboards/vigil"]


def ini(host):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(host.file(INI).content_string)
    return parser


@pytest.mark.parametrize("section, option, value", [
    ("server", "http_addr", "127.0.0.1"),
    ("auth.anonymous", "enabled", "false"),
    ("users", "allow_sign_up", "false"),
    ("security", "disable_gravatar", "true"),
    ("security", "allow_embedding", "false"),
    ("snapshots", "external_enabled", "false"),
    ("analytics", "reporting_enabled", "false"),
    ("analytics", "check_for_updates", "false"),
    # root_url is https in this scenario.
    ("security", "cookie_secure", "true"),
    ("security", "cookie_samesite", "strict"),
    ("security", "strict_transport_security", "true"),
    ("security", "admin_password", "$__file{/etc/grafana/secrets/admin_password}"),
    ("security", "secret_key", "$__file{/etc/grafana/secrets/secret_key}"),
])
def test_grafana_ini_has_the_hardened_settings(host, section, option, value):
    assert ini(host).get(section, option) == value


def test_grafana_ini_keeps_user_options_and_holds_no_role_secret(host):
    parser = ini(host)
    assert parser.get("server", "root_url") == "https://grafana.example.com/"
    # A value with '#' and ';' is quoted so go-ini does not cut it as a comment.
    assert parser.get("auth.generic_oauth", "client_secret") == '"""S3ntinel-9e41-oauth # with ; comment characters"""'
    text = host.file(INI).content_string
    assert not [s for s in SECRETS if s in text]
    assert host.file(KEY).content_string not in text


@pytest.mark.parametrize("path", SECRET_FILES)
def test_secret_files_are_0640_root_grafana_and_readable_by_grafana(host, path):
    f = host.file(path)
    assert f.is_file and f.user == "root" and f.group == "grafana" and f.mode == 0o640, (f.user, f.group, oct(f.mode))
    assert host.run("runuser -u grafana -- test -r %s" % path).rc == 0
    assert host.run("runuser -u nobody -- test -r %s" % path).rc != 0


@pytest.mark.parametrize("path", DIRS)
def test_config_directories_are_0750_root_grafana(host, path):
    d = host.file(path)
    assert d.is_directory and d.user == "root" and d.group == "grafana" and d.mode == 0o750, (d.user, d.group, oct(d.mode))


def test_nothing_under_etc_grafana_is_world_readable(host):
    assert host.check_output("find /etc/grafana -perm -o=r -type f") == ""


def test_secret_files_hold_the_values_without_newline(host):
    assert host.file("/etc/grafana/secrets/admin_password").content_string == "S3ntinel-9e41-grafana-admin"
    key = host.file(KEY).content_string
    assert len(key) == 48 and key.isalnum()


def test_drop_in_hardens_grafana_server(host):
    text = host.file("/etc/systemd/system/grafana-server.service.d/vigil-hardening.conf").content_string
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read_string(text)
    service = parser["Service"]
    expected = {"User": "grafana", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
                "ReadWritePaths": "/var/lib/grafana /var/log/grafana", "ProtectHome": "yes", "PrivateTmp": "yes",
                "PrivateDevices": "yes", "RestrictSUIDSGID": "yes", "LockPersonality": "yes", "CapabilityBoundingSet": "",
                "UMask": "0027", "MemoryDenyWriteExecute": "no"}
    assert {k: service.get(k) for k in expected} == expected


def test_apt_source_names_the_keyring_and_apt_verifies_the_repository(host):
    sources = host.file(SOURCES).content_string
    assert "URIs: http://127.0.0.1:18787/apt" in sources and "Signed-By: %s" % KEYRING in sources
    shown = host.check_output("gpg --show-keys --with-colons %s" % KEYRING)
    fingerprint = [line.split(":")[9] for line in shown.splitlines() if line.startswith("fpr:")][0]
    assert len(fingerprint) == 40
    update = host.run("apt-get update -o Dir::Etc::sourcelist=%s -o Dir::Etc::sourceparts=- "
                      "-o APT::Get::List-Cleanup=0" % SOURCES)
    assert update.rc == 0, update.stdout + update.stderr
    assert "NO_PUBKEY" not in update.stderr and "not signed" not in update.stderr
    assert host.run("ls /var/lib/apt/lists/ | grep -q '127.0.0.1:18787_apt_dists_stable_InRelease'").rc == 0


def test_a_repository_signed_by_another_key_is_refused_by_apt(host):
    """The same sources file with the other key as Signed-By: apt must refuse the repository."""
    host.check_output("cp /srv/vigil-mirror/other.key /tmp/other.asc && sed 's#%s#/tmp/other.asc#' %s > /tmp/other.sources"
                      % (KEYRING, SOURCES))
    update = host.run("apt-get update -o Dir::Etc::sourcelist=/tmp/other.sources -o Dir::Etc::sourceparts=- "
                      "-o APT::Get::List-Cleanup=0 -o Dir::State::Lists=/tmp/other-lists")
    host.run("rm -f /tmp/other.asc /tmp/other.sources")
    assert update.rc != 0 or "NO_PUBKEY" in update.stderr or "not signed" in update.stderr, update.stderr


def test_datasources_follow_the_inventory(host):
    doc = yaml.safe_load(io.StringIO(host.file("/etc/grafana/provisioning/datasources/vigil.yml").content_string))
    by_uid = {d["uid"]: d for d in doc["datasources"]}
    assert set(by_uid) == {"vigil-prometheus", "vigil-alertmanager", "vigil-loki"}
    prom = by_uid["vigil-prometheus"]
    assert prom["url"] == "https://10.20.30.40:9090" and prom["isDefault"] is True
    assert prom["basicAuthUser"] == "grafana" and prom["secureJsonData"]["basicAuthPassword"] == "S3ntinel-9e41-prom"
    am = by_uid["vigil-alertmanager"]
    assert am["url"] == "http://10.20.30.41:9093" and am["type"] == "alertmanager"
    assert am["basicAuthUser"] == "prometheus" and am["jsonData"]["implementation"] == "prometheus"


def test_dashboards_are_copied_root_grafana_0640(host):
    files = host.check_output("ls /etc/grafana/dashboards/vigil").split()
    assert files, "no dashboard copied"
    for name in files:
        f = host.file("/etc/grafana/dashboards/vigil/" + name)
        assert name.endswith(".json") and f.user == "root" and f.group == "grafana" and f.mode == 0o640
