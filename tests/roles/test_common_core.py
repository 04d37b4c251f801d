"""The role core (roles/_common) refuses to run when no daemon role calls it, before the host is contacted."""

import subprocess

import pytest
import yaml
from ansible_collections.vigil.observability.tests.helpers import ROOT
from ansible_collections.vigil.observability.tests.roles.role_input import UNREACHABLE, _env

CASES = {
    # The role itself, as a user might list it: its argument specs require what a role passes.
    "as-a-role": ({"roles": [{"role": "vigil.observability._common"}]},
                  "missing required arguments: _common_role, _common_spec"),
    # Its orchestrator from a play, with the values a role would pass: no parent role.
    "stages-from-a-play": ({"tasks": [{"ansible.builtin.import_role": {"name": "vigil.observability._common",
                                                                        "tasks_from": "daemon.yml"},
                                       "vars": {"_common_role": "node_exporter", "_common_spec": {"hooks": {}}}}]},
                           "is not called directly"),
    # One stage without the values a role passes.
    "stage-without-values": ({"tasks": [{"ansible.builtin.import_role": {"name": "vigil.observability._common",
                                                                          "tasks_from": "preflight.yml"}}]},
                             "a role imports its stages with _common_role and _common_spec set"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_core_refuses_to_run_without_a_calling_role(tmp_path, case):
    play, message = CASES[case]
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": {"unreachable": UNREACHABLE}}}))
    (tmp_path / "play.yml").write_text(yaml.safe_dump([dict({"name": "Use the core directly", "hosts": "all",
                                                              "gather_facts": False}, **play)], sort_keys=False))
    proc = subprocess.run(["ansible-playbook", "-i", str(tmp_path / "inventory.yml"), str(tmp_path / "play.yml")],
                          cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert message in proc.stdout, proc.stdout[-3000:]
    assert "UNREACHABLE" not in proc.stdout, "the refusal must come before the host is contacted"
