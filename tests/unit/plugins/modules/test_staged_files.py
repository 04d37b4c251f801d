"""Unit tests for the staged_files module: order, checks before replace, rollback, removal, check mode, diff."""

import grp
import os
import pwd

import pytest
from ansible_collections.vigil.observability.plugins.modules import staged_files
from ansible_collections.vigil.observability.tests.unit.plugins.modules.grafana_testlib import run_module as run

ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


@pytest.fixture
def run_module():
    """Run staged_files in-process; the result dict, with failed=True when the module failed."""
    def _run(args, check=False, diff=True):
        outcome, result = run(staged_files, args, check_mode=check, diff=diff)
        return dict(result, failed=True) if outcome == "fail" else result

    return _run


def entry(path, content=None, secret=None, validate=None, mode="0640"):
    item = {"path": str(path), "owner": ME, "group": MY_GROUP, "mode": mode}
    if secret is not None:
        item["secret_content"] = secret
    else:
        item["content"] = content
    if validate:
        item["validate"] = validate
    return item


def test_directories_and_files_are_written_in_one_call(tmp_path, run_module):
    conf = tmp_path / "etc" / "daemon"
    result = run_module({
        "directories": [{"path": str(conf), "owner": ME, "group": MY_GROUP, "mode": "0750"}],
        "files": [entry(conf / "a.yml", "a: 1\n"), entry(conf / "b.yml", "b: 2\n", mode="0600")],
    })
    assert result["changed"] is True
    assert result["written"] == [str(conf / "a.yml"), str(conf / "b.yml")]
    assert result["added"] == result["written"]
    assert (conf / "a.yml").read_text() == "a: 1\n"
    assert oct(os.stat(conf).st_mode & 0o777) == "0o750"
    assert oct(os.stat(conf / "b.yml").st_mode & 0o777) == "0o600"
    assert not [p for p in os.listdir(conf) if p.startswith(".")], "no temporary file is left behind"


def test_a_second_call_changes_nothing(tmp_path, run_module):
    args = {"files": [entry(tmp_path / "a.yml", "a: 1\n")]}
    run_module(args)
    again = run_module(args)
    assert again["changed"] is False
    assert again["written"] == [] and again["attributes_changed"] == []


def test_a_mode_change_alone_does_not_rewrite_the_file(tmp_path, run_module):
    path = tmp_path / "a.yml"
    run_module({"files": [entry(path, "a: 1\n")]})
    inode = os.stat(path).st_ino
    result = run_module({"files": [entry(path, "a: 1\n", mode="0644")]})
    assert result["changed"] is True
    assert result["attributes_changed"] == [str(path)] and result["written"] == []
    assert os.stat(path).st_ino == inode
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"


def test_the_checker_sees_the_new_file_and_files_written_before_it(tmp_path, run_module):
    rules = tmp_path / "rules.yml"
    config = tmp_path / "config.yml"
    # The config's checker reads the rule file written before it in the same call.
    check = "sh -c 'grep -q new %s && grep -q new " + str(rules) + "'"
    result = run_module({"files": [entry(rules, "new rules\n"), entry(config, "new config\n", validate=check)]})
    assert result.get("failed") is not True, result
    assert config.read_text() == "new config\n"


def test_a_refused_file_puts_back_everything_this_call_replaced(tmp_path, run_module):
    first = tmp_path / "first.yml"
    second = tmp_path / "second.yml"
    added = tmp_path / "added.yml"
    stale = tmp_path / "stale.yml"
    first.write_text("old first\n")
    os.chmod(first, 0o604)
    second.write_text("old second\n")
    stale.write_text("stale\n")
    result = run_module({
        "files": [entry(first, "new first\n"), entry(added, "added\n"),
                  entry(second, "broken\n", validate="sh -c 'echo bad line 3 >&2; exit 1' %s")],
        "remove": [str(stale)],
    })
    assert result["failed"] is True
    assert result["failed_path"] == str(second)
    assert result["checker"] == "sh"
    assert "bad line 3" in result["stderr"]
    assert first.read_text() == "old first\n"
    assert oct(os.stat(first).st_mode & 0o777) == "0o604", "the previous mode is put back too"
    assert second.read_text() == "old second\n"
    assert not added.exists()
    assert stale.exists(), "nothing is removed when a file is refused"
    assert sorted(result["restored"]) == sorted([str(first), str(added)])
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]


def test_the_checker_is_named_in_the_failure(tmp_path, run_module):
    item = entry(tmp_path / "a.yml", "x\n", validate="false %s")
    item["checker"] = "promtool check config"
    result = run_module({"files": [item]})
    assert result["failed"] is True
    assert result["checker"] == "promtool check config"
    assert "promtool check config refused the new" in result["msg"]


def test_a_checker_that_cannot_run_refuses_and_puts_back(tmp_path, run_module):
    first = tmp_path / "first.yml"
    first.write_text("old\n")
    result = run_module({"files": [entry(first, "new\n"),
                                   entry(tmp_path / "b.yml", "x\n", validate="/nonexistent/checker %s")]})
    assert result["failed"] is True and "cannot run" in result["msg"]
    assert result["failed_path"] == str(tmp_path / "b.yml") and result["checker"] == "checker"
    assert first.read_text() == "old\n" and not (tmp_path / "b.yml").exists()


def test_validate_without_placeholder_is_refused(tmp_path, run_module):
    result = run_module({"files": [entry(tmp_path / "a.yml", "x\n", validate="true")]})
    assert result["failed"] is True and "%s" in result["msg"]
    assert not (tmp_path / "a.yml").exists()


def test_stale_paths_are_removed_after_the_files(tmp_path, run_module):
    stale_file = tmp_path / "old.yml"
    stale_dir = tmp_path / "tls"
    stale_file.write_text("x")
    stale_dir.mkdir()
    (stale_dir / "key.pem").write_text("k")
    result = run_module({"files": [entry(tmp_path / "new.yml", "y\n")],
                         "remove": [str(stale_file), str(stale_dir), str(tmp_path / "missing")]})
    assert result["removed"] == [str(stale_file), str(stale_dir)]
    assert not stale_file.exists() and not stale_dir.exists()


def test_check_mode_reports_without_writing_or_checking(tmp_path, run_module):
    path = tmp_path / "a.yml"
    path.write_text("old\n")
    result = run_module({"directories": [{"path": str(tmp_path / "new"), "owner": ME, "group": MY_GROUP}],
                         "files": [entry(path, "new\n", validate="false %s")], "remove": []}, check=True)
    assert result["changed"] is True and result.get("failed") is not True
    assert path.read_text() == "old\n"
    assert not (tmp_path / "new").exists()
    assert {"before": "old\n", "after": "new\n"}.items() <= result["diff"][1].items()


def test_secret_files_get_no_diff(tmp_path, run_module):
    result = run_module({"files": [entry(tmp_path / "key.pem", secret="-----BEGIN PRIVATE KEY-----\n"),
                                   entry(tmp_path / "plain.yml", "plain\n")]})
    assert result["written"] == [str(tmp_path / "key.pem"), str(tmp_path / "plain.yml")]
    assert [d["after_header"] for d in result["diff"]] == [str(tmp_path / "plain.yml")]
    assert (tmp_path / "key.pem").read_text() == "-----BEGIN PRIVATE KEY-----\n"


def test_a_directory_in_place_of_a_file_fails_clearly(tmp_path, run_module):
    (tmp_path / "conf.yml").mkdir()
    result = run_module({"files": [entry(tmp_path / "conf.yml", "x\n")]})
    assert result["failed"] is True and "is a directory" in result["msg"]
