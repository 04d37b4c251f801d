"""The harness of the bad-input matrices: run a role against a host that cannot be reached.

A run that got past the role's validation would try to contact the host
(SSH to a closed port on loopback) and end UNREACHABLE; a refused input
fails on the controller first.

`run_cases` runs a whole matrix in one ansible-playbook run: each case is an
inventory host of its own (all pointing at the same closed port) with the
case's variables as host variables, and the callback in callback_plugins/
records each host's failures. One run instead of one per case saves about
1.5 s of CPU per case (some 300 cases in all) while the Molecule scenarios
run beside the unit tests. Roles whose checks read other hosts' variables
(prometheus builds its scrape plan from the whole inventory) keep `play`,
one run per case.
"""

import json
import os
import re
import subprocess

import yaml
from ansible_collections.vigil.observability.tests.helpers import ROOT

# The callback that records each case host's failures (callback_plugins/case_results.py).
CALLBACK_PLUGINS = os.path.join(ROOT, "tests", "roles", "callback_plugins")
UNREACHABLE = {"ansible_host": "127.0.0.1", "ansible_port": 9, "ansible_user": "nobody", "ansible_connection": "ssh"}


def _write_play(path, role, hosts, pattern, pre_tasks=None):
    """Write inventory.yml (`hosts`: name -> variables) and play.yml (the role on `pattern`) into `path`."""
    (path / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    play_ = {"name": "Apply %s" % role, "hosts": pattern, "gather_facts": False,
             "roles": [{"role": "vigil.observability.%s" % role}]}
    if pre_tasks:
        play_["pre_tasks"] = pre_tasks
    (path / "play.yml").write_text(yaml.safe_dump([play_], sort_keys=False))
    return path


def write_harness(path, role, host_vars=None, pre_tasks=None):
    """Write inventory.yml (one unreachable host) and play.yml (the role, after optional pre_tasks) into `path`."""
    return _write_play(path, role, {"unreachable": dict(UNREACHABLE, **(host_vars or {}))}, "unreachable", pre_tasks)


def _env(**extra):
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(ROOT, ".cache", "collections"),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_TIMEOUT": "3",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
    }, **extra)
    return env


def play(workdir, variables):
    """Run the harness with `variables` as extra vars; return (rc, output of -vvv)."""
    cmd = ["ansible-playbook", "-vvv", "-i", str(workdir / "inventory.yml"), str(workdir / "play.yml"),
           "-e", json.dumps(variables)]
    proc = subprocess.run(cmd, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=300)
    return proc.returncode, proc.stdout


class CaseResult:
    """One case of a `run_cases` run: did its host fail, was it unreachable, and the text of its failures."""

    def __init__(self, record, output):
        self.unreachable = record.get("unreachable", False)
        self.failed = bool(record.get("failed"))
        self.text = "\n".join(_strings(record.get("failed", [])))
        self.output = output  # the whole run's -vvv output: every case's secrets are checked in it

    def __repr__(self):
        return "CaseResult(failed=%s, unreachable=%s):\n%s" % (self.failed, self.unreachable, self.text[-3000:])


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def run_cases(path, role, cases, host_vars=None, pre_tasks=None):
    """Run every case of `cases` ({id: variables}) in one ansible-playbook run; return {id: CaseResult}.

    Each case is a host of its own with the case's variables as host
    variables (on top of `host_vars`), all unreachable in the same way.
    """
    names = dict((case_id, "case%03d-%s" % (number, re.sub(r"[^A-Za-z0-9_-]", "-", case_id)))
                 for number, case_id in enumerate(cases))
    hosts = dict((names[case_id], dict(UNREACHABLE, **dict(host_vars or {}, **variables))) for case_id, variables in cases.items())
    _write_play(path, role, hosts, "all", pre_tasks)
    results = path / "results.json"
    env = _env(ANSIBLE_CALLBACK_PLUGINS=CALLBACK_PLUGINS,
               ANSIBLE_CALLBACKS_ENABLED="case_results", VIGIL_CASE_RESULTS=str(results), ANSIBLE_FORKS="20")
    cmd = ["ansible-playbook", "-vvv", "-i", str(path / "inventory.yml"), str(path / "play.yml")]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=600)
    assert results.exists(), "the case run recorded nothing:\n" + proc.stdout[-3000:]
    records = json.loads(results.read_text())
    return dict((case_id, CaseResult(records.get(names[case_id], {}), proc.stdout)) for case_id in cases)


def _unpack(result):
    if isinstance(result, CaseResult):
        return result.failed or result.unreachable, result.unreachable, result.text, result.output, repr(result)
    rc, out = result
    return rc != 0, "UNREACHABLE" in out, out, out, out[-3000:]


def assert_reached_the_host(result, secret):
    """The positive control: validation let the run through, so it tried the host (and no secret showed)."""
    failed, unreachable, text, output, shown = _unpack(result)
    assert failed, shown
    assert unreachable, shown
    assert secret not in text and secret not in output, "a secret was printed"


def assert_refused_before_the_host(result, expected, secret):
    """The run failed on the controller, with `expected` in the message and no secret shown."""
    failed, unreachable, text, output, shown = _unpack(result)
    assert failed, shown
    assert not unreachable, "validation let the run reach the host:\n" + shown
    assert expected in text, shown
    assert secret not in text and secret not in output, "a secret was printed"
