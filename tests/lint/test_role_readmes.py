"""Every role has a README whose variables part is generated from its current meta/argument_specs.yml."""

import os
import shutil
import subprocess
import sys

import pytest
from ansible_collections.vigil.observability.tests.helpers import ROOT

SCRIPT = os.path.join(ROOT, "scripts", "role-readmes.py")
ROLES = sorted(d for d in os.listdir(os.path.join(ROOT, "roles")) if os.path.isdir(os.path.join(ROOT, "roles", d)))
HAND_BEGIN, HAND_END = "<!-- BEGIN hand-written -->", "<!-- END hand-written -->"


def check(root):
    proc = subprocess.run([sys.executable, os.path.join(root, "scripts", "role-readmes.py"), "--check"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc.returncode, proc.stdout


def test_generated_parts_match_the_argument_specs():
    rc, out = check(ROOT)
    assert rc == 0, out


@pytest.mark.parametrize("role", ROLES)
def test_readme_has_a_hand_written_introduction_and_example(role):
    path = os.path.join(ROOT, "roles", role, "README.md")
    assert os.path.exists(path), "%s has no README.md (the Galaxy importer refuses the collection)" % role
    text = open(path).read()
    hand = text.split(HAND_BEGIN)[1].split(HAND_END)[0]
    assert "TODO" not in hand, "roles/%s/README.md: write the hand-written part" % role
    assert "```yaml" in hand and "vigil.observability.%s" % role in hand, (
        "roles/%s/README.md: the hand-written part needs an example that uses the role" % role)
    intro = hand.split("```")[0]
    assert len(intro.split()) >= 40, "roles/%s/README.md: the introduction is too short" % role


def test_check_names_a_stale_readme_and_a_missing_one(tmp_path):
    """The check is not blind: a changed argument spec or a missing README makes it fail."""
    role = "node_exporter"
    (tmp_path / "scripts").mkdir()
    shutil.copy(SCRIPT, tmp_path / "scripts")
    for name in (role, "newrole"):
        (tmp_path / "roles" / name / "meta").mkdir(parents=True)
        shutil.copy(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml"),
                    tmp_path / "roles" / name / "meta")
    shutil.copy(os.path.join(ROOT, "roles", role, "README.md"), tmp_path / "roles" / role)
    assert check(str(tmp_path)) == (1, "stale or missing (run scripts/role-readmes.py): roles/newrole/README.md\n")
    subprocess.run([sys.executable, str(tmp_path / "scripts" / "role-readmes.py")], check=True,
                   stdout=subprocess.DEVNULL)
    assert check(str(tmp_path))[0] == 0
    specs = tmp_path / "roles" / role / "meta" / "argument_specs.yml"
    specs.write_text(specs.read_text().replace("default: /usr/local/bin", "default: /opt/bin"))
    rc, out = check(str(tmp_path))
    assert rc == 1 and "roles/%s/README.md" % role in out, out
