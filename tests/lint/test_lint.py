"""Static checks: yamllint, ansible-lint (production profile) and the changelog."""

from ansible_collections.vigil.observability.tests.helpers import run, tool


def test_yamllint():
    rc, out = run([tool("yamllint"), "--strict", "."])
    assert rc == 0, out


def test_ansible_lint_production_profile():
    rc, out = run([tool("ansible-lint"), "--profile", "production", "--offline"], timeout=900)
    assert rc == 0, out[-6000:]


def test_changelog_fragments():
    rc, out = run([tool("antsibull-changelog"), "lint"])
    assert rc == 0 and out.strip() == "", out


def test_ruff_python_lint():
    rc, out = run([tool("ruff"), "check", "--output-format", "concise", "."])
    assert rc == 0, out
