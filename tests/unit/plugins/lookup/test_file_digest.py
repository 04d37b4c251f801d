"""Unit tests for the file_digest lookup and the checksum option of path_matches (the core's binary install)."""

import hashlib

import pytest
import yaml
from ansible.constants import config
from ansible.errors import AnsibleLookupError
from ansible_collections.vigil.observability.plugins.filter.host_state import path_matches
from ansible_collections.vigil.observability.plugins.lookup import file_digest


def LookupModule():  # noqa: N802 - the plugin with its documented options, as the plugin loader sets it up
    plugin = file_digest.LookupModule()
    plugin._load_name = "vigil.observability.file_digest"
    config.initialize_plugin_configuration_definitions(
        "lookup", plugin._load_name, yaml.safe_load(file_digest.DOCUMENTATION)["options"])
    return plugin


def test_digests_are_those_stat_reports_in_the_order_given(tmp_path):
    small, large = tmp_path / "a", tmp_path / "b"
    small.write_bytes(b"node_exporter")
    large.write_bytes(b"\0\1" * (3 * 1024 * 1024))  # more than one read block
    assert LookupModule().run([str(large), str(small)]) == [
        hashlib.sha1(large.read_bytes()).hexdigest(), hashlib.sha1(b"node_exporter").hexdigest()]


def test_sha256_is_that_of_a_release_checksum_file(tmp_path):
    archive = tmp_path / "node_exporter-1.9.1.linux-amd64.tar.gz"
    archive.write_bytes(b"archive")
    assert LookupModule().run([str(archive)], algorithm="sha256") == [hashlib.sha256(b"archive").hexdigest()]


def test_the_cache_is_used_while_size_and_mtime_match_and_renewed_when_not(tmp_path):
    binary = tmp_path / "prometheus"
    binary.write_bytes(b"one")
    first = LookupModule().run([str(binary)], cache=True)
    assert first == [hashlib.sha1(b"one").hexdigest()]
    sidecar = tmp_path / "prometheus.sha1"
    assert sidecar.read_text().split()[0] == first[0]
    # A forged sidecar with the current stamp is believed (that is the point of the cache) ...
    stamp = sidecar.read_text().split(" ", 1)[1]
    sidecar.write_text("f" * 40 + " " + stamp)
    assert LookupModule().run([str(binary)], cache=True) == ["f" * 40]
    # ... until the file changes.
    binary.write_bytes(b"two!")
    assert LookupModule().run([str(binary)], cache=True) == [hashlib.sha1(b"two!").hexdigest()]
    assert LookupModule().run([str(binary)]) == [hashlib.sha1(b"two!").hexdigest()]


def test_a_missing_file_fails_naming_it(tmp_path):
    with pytest.raises(AnsibleLookupError, match="cannot read .*/missing"):
        LookupModule().run([str(tmp_path / "missing")])


@pytest.mark.parametrize("checksum, expected", [("0" * 40, True), ("1" * 40, False)])
def test_path_matches_compares_a_given_checksum(checksum, expected):
    entry = {"exists": True, "type": "file", "owner": "root", "group": "root", "mode": "0755", "checksum": "0" * 40}
    assert path_matches(entry, type="file", owner="root", mode="0755", checksum=checksum) is expected


def test_path_matches_without_a_checksum_read_never_matches_a_checksum():
    entry = {"exists": True, "type": "file", "owner": "root", "group": "root", "mode": "0755"}
    assert path_matches(entry, checksum="0" * 40) is False
