"""Unit tests for the path_matches filter (plugins/filter/host_state.py), which compares a host_state_info entry."""

import hashlib

import pytest
from ansible_collections.vigil.observability.plugins.filter import host_state

ENTRY = {"exists": True, "type": "file", "mode": "0640", "owner": "root", "group": "node_exporter",
         "checksum": hashlib.sha1(b"content\n").hexdigest()}


@pytest.mark.parametrize("kwargs, expected", [
    ({}, True),
    ({"type": "file", "owner": "root", "group": "node_exporter", "mode": "0640", "content": "content\n"}, True),
    ({"mode": "640"}, True),
    ({"mode": "0644"}, False),
    ({"owner": "nobody"}, False),
    ({"group": "root"}, False),
    ({"type": "directory"}, False),
    ({"content": "content"}, False),
    ({"link_target": "/dev/null"}, False),
])
def test_path_matches(kwargs, expected):
    assert host_state.path_matches(ENTRY, **kwargs) is expected


@pytest.mark.parametrize("entry", [{"exists": False}, None, "text", {}])
def test_path_matches_never_matches_a_missing_or_unknown_entry(entry):
    assert host_state.path_matches(entry) is False
