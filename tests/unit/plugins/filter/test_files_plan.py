"""Unit tests for the files_plan filter (the core's staged configuration files, roles/_common/tasks/files.yml)."""

import hashlib

from ansible_collections.vigil.observability.plugins.filter.host_state import files_plan


def entry(content, owner="root", group="prometheus", mode="0640"):
    return {"exists": True, "type": "file", "owner": owner, "group": group, "mode": mode,
            "checksum": hashlib.sha1(content.encode()).hexdigest()}


HOST = {
    "paths": {
        "/etc/p/prometheus.yml": entry("global: {}\n"),
        "/etc/p/rules/a.yml": entry("groups: []\n"),
        "/etc/p/rules/b.yml": {"exists": False},
        "/etc/p/secrets/token": entry("s3cret", mode="0600"),
    },
    "listings": {"/etc/p/rules": ["a.yml", "old.yml"], "/etc/p/secrets": ["token"]},
}


def test_unchanged_files_are_left_alone():
    files = [{"path": "/etc/p/prometheus.yml", "content": "global: {}\n"},
             {"path": "/etc/p/rules/a.yml", "content": "groups: []\n"}]
    assert files_plan(files, HOST, group="prometheus") == {"changing": [], "added": [], "stale": [], "directories": []}


def test_changed_content_owner_group_or_mode_is_a_change_and_a_missing_file_is_added():
    files = [{"path": "/etc/p/prometheus.yml", "content": "global: {scrape_interval: 1m}\n"},
             {"path": "/etc/p/rules/a.yml", "content": "groups: []\n", "group": "root"},
             {"path": "/etc/p/rules/b.yml", "content": "groups: []\n"},
             {"path": "/etc/p/secrets/token", "content": "s3cret"}]
    plan = files_plan(files, HOST, group="prometheus")
    assert plan["changing"] == ["/etc/p/prometheus.yml", "/etc/p/rules/a.yml", "/etc/p/rules/b.yml",
                                "/etc/p/secrets/token"]
    assert plan["added"] == ["/etc/p/rules/b.yml"]


def test_a_file_the_state_read_did_not_cover_is_written():
    plan = files_plan([{"path": "/etc/p/unknown.yml", "content": "x"}], HOST, group="prometheus")
    assert plan["changing"] == ["/etc/p/unknown.yml"] and plan["added"] == ["/etc/p/unknown.yml"]


def test_entries_no_file_claims_in_pruned_directories_are_stale():
    files = [{"path": "/etc/p/rules/a.yml", "content": "groups: []\n"}]
    plan = files_plan(files, HOST, group="prometheus", prune_dirs=["/etc/p/rules", "/etc/p/secrets", "/etc/p/none"])
    assert plan["stale"] == ["/etc/p/rules/old.yml", "/etc/p/secrets/token"]


def test_directories_not_pruned_keep_their_other_entries():
    assert files_plan([], HOST, group="prometheus")["stale"] == []


def test_secret_content_is_compared_like_content():
    files = [{"path": "/etc/p/secrets/token", "secret_content": "s3cret", "mode": "0600"},
             {"path": "/etc/p/rules/a.yml", "secret_content": "changed\n"}]
    assert files_plan(files, HOST, group="prometheus")["changing"] == ["/etc/p/rules/a.yml"]


def test_directories_that_are_missing_or_differ_are_listed():
    host = {"paths": {"/etc/p": {"exists": True, "type": "directory", "owner": "root", "group": "prometheus",
                                 "mode": "0750"},
                      "/etc/p/tls": {"exists": True, "type": "directory", "owner": "root", "group": "root",
                                     "mode": "0750"},
                      "/var/lib/p": {"exists": False}}}
    dirs = [{"path": "/etc/p", "mode": "0750"}, {"path": "/etc/p/tls", "mode": "0750"},
            {"path": "/var/lib/p", "mode": "0700", "owner": "prometheus"}]
    assert files_plan([], host, group="prometheus", directories=dirs)["directories"] == ["/etc/p/tls", "/var/lib/p"]


def test_stale_binaries_compares_with_the_unpacked_files(tmp_path):
    from ansible_collections.vigil.observability.plugins.filter.host_state import stale_binaries
    (tmp_path / "prometheus").write_bytes(b"prom")
    (tmp_path / "promtool").write_bytes(b"tool")
    current = {"exists": True, "type": "file", "owner": "root", "group": "root", "mode": "0755",
               "checksum": hashlib.sha1(b"prom").hexdigest()}
    host = {"paths": {"/usr/local/bin/prometheus": current,
                      "/usr/local/bin/promtool": dict(current, checksum=hashlib.sha1(b"old").hexdigest()),
                      "/usr/local/bin/other": dict(current)}}
    binaries = ["/usr/local/bin/prometheus", "/usr/local/bin/promtool", "/usr/local/bin/other"]
    # promtool differs; other has no unpacked source, so it cannot be told current.
    assert stale_binaries(binaries, host, str(tmp_path)) == ["/usr/local/bin/promtool", "/usr/local/bin/other"]
    assert stale_binaries(binaries[:1], {"paths": {"/usr/local/bin/prometheus": dict(current, mode="0775")}},
                          str(tmp_path)) == ["/usr/local/bin/prometheus"]
