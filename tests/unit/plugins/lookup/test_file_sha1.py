"""Unit tests for the file_sha1 lookup and the checksum option of path_matches (the core's binary install)."""

import hashlib

import pytest
from ansible.errors import AnsibleLookupError
from ansible_collections.vigil.observability.plugins.filter.host_state import path_matches
from ansible_collections.vigil.observability.plugins.lookup.file_sha1 import LookupModule


def test_digests_are_those_stat_reports_in_the_order_given(tmp_path):
    small, large = tmp_path / "a", tmp_path / "b"
    small.write_bytes(b"node_exporter")
    large.write_bytes(b"\0\1" * (3 * 1024 * 1024))  # more than one read block
    assert LookupModule().run([str(large), str(small)]) == [
        hashlib.sha1(large.read_bytes()).hexdigest(), hashlib.sha1(b"node_exporter").hexdigest()]


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
