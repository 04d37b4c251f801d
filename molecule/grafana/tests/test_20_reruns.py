"""Re-runs of the role: secrets, the secret key across runs, refused repositories, backups.

These tests run playbooks (with the scenario's --skip-tags), so they use the
host directly and run in the order written.
"""

import pytest
from grafana_common import HOST, KEY, KEYRING, SECRETS, SOURCES, converge
from vigil_testinfra import molecule_hosts

FIXTURE_DB = ("python3 -c \"import sqlite3; c = sqlite3.connect('/var/lib/grafana/grafana.db'); "
              "c.execute('create table if not exists data_keys (name text, encrypted_data blob)'); "
              "c.execute(\\\"insert into data_keys values ('k', x'00ff')\\\"); c.commit()\"")
NEW_KEY = "S3ntinel-9e41-new-secret-key-0123456789abcdef"


@pytest.fixture(scope="module")
def node():
    return molecule_hosts((HOST,))[HOST]


def test_check_mode_on_the_converged_host_reports_no_change_keeps_the_key_and_prints_no_secret(node):
    """Check mode with -vvv --diff on the converged host: no change predicted, no secret shown.

    One run instead of two: Molecule's idempotence step has already re-run
    the converge for real, so this run proves check mode and the output.
    """
    key = node.file(KEY).content_string
    result = converge(verbosity=3, diff=True, check=True)
    assert result.returncode == 0 and "changed=0" in result.stdout, result.stdout[-3000:]
    assert not [s for s in SECRETS + [key] if s in result.stdout]
    assert node.file(KEY).content_string == key


def test_wrong_fingerprint_fails_before_anything_changes(node):
    before = node.file(KEYRING).sha256sum, node.file(SOURCES).sha256sum
    result = converge({"grafana_gpg_fingerprint": "B53AE77BADB630A683046005963FA27710458545"}, tags="grafana_install")
    assert result.returncode != 0
    assert "has the fingerprint(s)" in result.stdout and "but grafana_gpg_fingerprint is B53AE77B" in result.stdout, \
        result.stdout[-3000:]
    assert (node.file(KEYRING).sha256sum, node.file(SOURCES).sha256sum) == before


def test_a_key_file_with_an_unexpected_second_key_fails_before_anything_changes(node):
    """apt trusts every key of a Signed-By file: a second key next to the pinned one must be refused."""
    node.check_output("cat /srv/vigil-mirror/gpg.key /srv/vigil-mirror/other.key > /srv/vigil-mirror/two.key")
    before = node.file(KEYRING).sha256sum, node.file(SOURCES).sha256sum
    try:
        result = converge({"grafana_apt_gpg_url": "http://127.0.0.1:18787/two.key"}, tags="grafana_install")
    finally:
        node.run("rm -f /srv/vigil-mirror/two.key")
    assert result.returncode != 0
    assert "is in neither it nor grafana_gpg_other_fingerprints" in result.stdout, result.stdout[-3000:]
    assert (node.file(KEYRING).sha256sum, node.file(SOURCES).sha256sum) == before


def test_unreachable_repository_fails_clearly_before_anything_changes(node):
    """The real apt.grafana.com cannot be reached from here."""
    before = node.file(KEYRING).sha256sum, node.file(SOURCES).sha256sum
    result = converge({"grafana_apt_repo_url": "https://apt.grafana.com", "grafana_apt_gpg_url": "https://apt.grafana.com/gpg-full.key",
                       "grafana_gpg_fingerprint": "B53AE77BADB630A683046005963FA27710458545", "grafana_repository_timeout": 3},
                      tags="grafana_install")
    assert result.returncode != 0
    assert "cannot reach Grafana's package repository: https://apt.grafana.com/gpg-full.key" in result.stdout, result.stdout[-3000:]
    assert "https://apt.grafana.com/dists/stable/InRelease" in result.stdout
    assert "grafana_package_file" in result.stdout and "Nothing was changed" in result.stdout
    assert (node.file(KEYRING).sha256sum, node.file(SOURCES).sha256sum) == before


def test_changing_the_secret_key_under_data_fails(node):
    node.check_output(FIXTURE_DB)
    key = node.file(KEY).content_string
    result = converge({"grafana_secret_key": NEW_KEY}, tags="grafana_configure")
    assert result.returncode != 0
    assert "grafana_secret_key differs from the key in /etc/grafana/secrets/secret_key" in result.stdout, result.stdout[-3000:]
    assert "grafana_allow_rekey" in result.stdout and NEW_KEY not in result.stdout and key not in result.stdout
    assert node.file(KEY).content_string == key


def test_rekey_with_the_flag_backs_up_the_database_first_and_keeps_n(node):
    for attempt in range(2):
        new = NEW_KEY + str(attempt)
        result = converge({"grafana_secret_key": new, "grafana_allow_rekey": True}, tags="grafana_configure")
        assert result.returncode == 0, result.stdout[-3000:]
        assert new not in result.stdout
        assert node.file(KEY).content_string == new
    backups = node.check_output("ls /var/backups/grafana").split()
    assert len(backups) == 1, backups  # two backups made, grafana_backup_keep: 1
    assert node.file("/var/backups/grafana").mode == 0o700
    newest = "/var/backups/grafana/" + sorted(backups)[-1]
    assert node.file(newest).mode == 0o700
    for name in ("grafana.db", "grafana.ini", "plugins.tar.gz"):
        f = node.file(newest + "/" + name)
        assert f.exists and f.mode == 0o600 and f.user == "root", name
    check = node.check_output("python3 -c \"import sqlite3; print(sqlite3.connect('%s/grafana.db')"
                              ".execute('pragma integrity_check').fetchone()[0])\"" % newest)
    assert check == "ok"
    assert node.check_output("python3 -c \"import sqlite3; print(sqlite3.connect('%s/grafana.db')"
                             ".execute('select count(*) from data_keys').fetchone()[0])\"" % newest) != "0"
