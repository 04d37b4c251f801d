"""Unit tests for the host_state_info module (its path_matches filter: tests/unit/plugins/filter/test_host_state.py)."""

import hashlib
import os
import pwd

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.vigil.observability.plugins.modules import host_state_info


class ExitJson(Exception):
    pass


class FailJson(Exception):
    pass


@pytest.fixture
def run_module(monkeypatch):
    def _run(args, commands=None):
        def exit_json(self, **kwargs):
            raise ExitJson(kwargs)

        def fail_json(self, **kwargs):
            raise FailJson(kwargs)

        calls = []

        def run_command(self, cmd, **kwargs):
            calls.append(cmd)
            for key, answer in (commands or {}).items():
                if key in cmd[0] or key in " ".join(cmd):
                    return answer
            return 0, "", ""

        monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
        monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
        monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
        monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: "/usr/bin/" + name)
        with patch_module_args(dict(args, _ansible_check_mode=True)), pytest.raises(ExitJson) as result:
            host_state_info.main()
        return result.value.args[0], calls

    return _run


def test_paths_are_described_without_following_links(tmp_path, run_module):
    target = tmp_path / "file"
    target.write_text("hello\n")
    os.chmod(target, 0o640)
    link = tmp_path / "link"
    link.symlink_to("/dev/null")
    result, _ = run_module({"paths": [str(target), str(link), str(tmp_path), str(tmp_path / "none")],
                            "checksum_paths": [str(target)]})
    assert result["changed"] is False
    paths = result["paths"]
    me = pwd.getpwuid(os.getuid()).pw_name
    assert paths[str(target)] == {"exists": True, "type": "file", "mode": "0640", "owner": me,
                                  "group": paths[str(target)]["group"],
                                  "checksum": hashlib.sha1(b"hello\n").hexdigest()}
    assert paths[str(link)]["type"] == "link" and paths[str(link)]["link_target"] == "/dev/null"
    assert paths[str(tmp_path)]["type"] == "directory" and "checksum" not in paths[str(tmp_path)]
    assert paths[str(tmp_path / "none")] == {"exists": False}


def test_users_and_groups(run_module):
    me = pwd.getpwuid(os.getuid())
    result, _ = run_module({"users": [me.pw_name, "no-such-user-vigil"], "groups": ["no-such-group-vigil"]})
    assert result["users"][me.pw_name]["uid"] == me.pw_uid
    assert result["users"][me.pw_name]["shell"] == me.pw_shell
    assert result["users"]["no-such-user-vigil"] == {"exists": False}
    assert result["groups"]["no-such-group-vigil"] == {"exists": False}


def test_packages_and_units_are_read_with_one_command_each(run_module):
    dpkg_out = "prometheus-node-exporter\tinstalled\t1.9.1-1\npython3-apt\tnot-installed\t\n"
    show_out = ("LoadState=loaded\nUnitFileState=enabled\nActiveState=active\n\n"
                "LoadState=not-found\nUnitFileState=\nActiveState=inactive\n")
    result, calls = run_module(
        {"packages": ["prometheus-node-exporter", "python3-apt"], "units": ["a.service", "b.service"]},
        commands={"dpkg-query": (0, dpkg_out, ""), "systemctl": (0, show_out, "")},
    )
    assert result["packages"] == {"prometheus-node-exporter": "1.9.1-1", "python3-apt": None}
    assert result["units"]["a.service"] == {"load": "loaded", "enabled": "enabled", "active": "active"}
    assert result["units"]["b.service"] == {"load": "not-found", "enabled": "unknown", "active": "inactive"}
    assert len(calls) == 2


def test_failing_systemctl_reports_unknown(run_module):
    result, _ = run_module({"units": ["a.service"]}, commands={"systemctl": (1, "", "no bus")})
    assert result["units"]["a.service"] == {"load": "unknown", "enabled": "unknown", "active": "unknown"}


def test_shadow_lock_detection(tmp_path):
    shadow = tmp_path / "shadow"
    shadow.write_text("locked:!:1::::::\nstar:*:1::::::\nopen:$6$abc:1::::::\n")
    assert host_state_info.shadow_locked("locked", str(shadow)) is True
    assert host_state_info.shadow_locked("star", str(shadow)) is True
    assert host_state_info.shadow_locked("open", str(shadow)) is False
    assert host_state_info.shadow_locked("ghost", str(shadow)) is None


def test_list_dirs_lists_entries_sorted_and_a_missing_directory_as_empty(tmp_path, run_module):
    (tmp_path / "b.yml").write_text("")
    (tmp_path / "a.yml").write_text("")
    (tmp_path / "sub").mkdir()
    result, _ = run_module({"list_dirs": [str(tmp_path), str(tmp_path / "missing")]})
    assert result["listings"] == {str(tmp_path): ["a.yml", "b.yml", "sub"], str(tmp_path / "missing"): []}
    assert result["changed"] is False


def test_mounts_are_parsed_with_escapes_and_the_longest_mount_point_wins(tmp_path):
    text = ("/dev/sda1 / ext4 rw 0 0\n"
            "srv:/export /var/lib/prometheus nfs4 rw 0 0\n"
            "/dev/sdb1 /mnt/with\\040space xfs rw 0 0\n")
    entries = host_state_info.parse_mounts(text)
    assert ("/mnt/with space", "/dev/sdb1", "xfs") in entries
    # A path that does not exist yet is told by its nearest existing parent.
    nfs = host_state_info.describe_mount(str(tmp_path / "data" / "not-yet"),
                                         [("/", "/dev/sda1", "ext4"), (str(tmp_path), "srv:/export", "nfs4")])
    assert (nfs["mount"], nfs["fstype"]) == (str(tmp_path), "nfs4")
    root = host_state_info.describe_mount(str(tmp_path / "missing" / "deeper"), [("/", "/dev/sda1", "ext4")])
    assert root["mount"] == "/" and root["fstype"] == "ext4" and root["size_total"] > 0


def test_mounts_are_reported_for_each_path(tmp_path, run_module):
    result, _ = run_module({"mounts": [str(tmp_path)]})
    assert result["mounts"][str(tmp_path)]["mount"].startswith("/")
    assert result["mounts"][str(tmp_path)]["size_total"] > 0
