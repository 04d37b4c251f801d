"""The harness of the bad-input matrices: run a role against a host that cannot be reached.

A run that got past the role's validation would try to contact the host
(SSH to a closed port on loopback) and end UNREACHABLE; a refused input
fails on the controller first.
"""

import json
import os
import subprocess

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
UNREACHABLE = {"ansible_host": "127.0.0.1", "ansible_port": 9, "ansible_user": "nobody", "ansible_connection": "ssh"}


def write_harness(path, role, host_vars=None, pre_tasks=None):
    """Write inventory.yml (one unreachable host) and play.yml (the role, after optional pre_tasks) into `path`."""
    inventory = {"all": {"hosts": {"unreachable": dict(UNREACHABLE, **(host_vars or {}))}}}
    (path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    play = {"name": "Apply %s" % role, "hosts": "unreachable", "gather_facts": False,
            "roles": [{"role": "vigil.observability.%s" % role}]}
    if pre_tasks:
        play["pre_tasks"] = pre_tasks
    (path / "play.yml").write_text(yaml.safe_dump([play], sort_keys=False))
    return path


def play(workdir, variables):
    """Run the harness with `variables` as extra vars; return (rc, output of -vvv)."""
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(ROOT, ".cache", "collections"),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_TIMEOUT": "3",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
    })
    cmd = ["ansible-playbook", "-vvv", "-i", str(workdir / "inventory.yml"), str(workdir / "play.yml"),
           "-e", json.dumps(variables)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    return proc.returncode, proc.stdout


def assert_reached_the_host(result, secret):
    """The positive control: validation let the run through, so it tried the host (and no secret showed)."""
    rc, out = result
    assert rc != 0
    assert "UNREACHABLE" in out, out[-3000:]
    assert secret not in out


def assert_refused_before_the_host(result, expected, secret):
    """The run failed on the controller, with `expected` in the message and no secret shown."""
    rc, out = result
    assert rc != 0, out[-3000:]
    assert "UNREACHABLE" not in out, "validation let the run reach the host:\n" + out[-3000:]
    assert expected in out, out[-3000:]
    assert secret not in out, "a secret was printed"
