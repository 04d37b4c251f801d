"""Every role documents every variable, and its specs match its defaults."""

import glob
import os

import pytest
import yaml

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
ROLES = sorted(os.path.basename(os.path.dirname(os.path.dirname(p)))
               for p in glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml")))
SECRET_WORDS = ("password", "_key", "token", "secret", "basic_auth_users")


def load(role, *path):
    with open(os.path.join(ROOT, "roles", role, *path)) as handle:
        return yaml.safe_load(handle) or {}


def test_every_role_has_argument_specs():
    roles = sorted(d for d in os.listdir(os.path.join(ROOT, "roles")) if not d.startswith("_"))
    assert roles and roles == ROLES


@pytest.mark.parametrize("role", ROLES)
def test_specs_and_defaults_name_the_same_variables(role):
    options = load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults = load(role, "defaults", "main.yml")
    assert sorted(options) == sorted(defaults)


@pytest.mark.parametrize("role", ROLES)
def test_spec_defaults_equal_role_defaults(role):
    options = load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults = load(role, "defaults", "main.yml")
    for name, spec in options.items():
        assert spec.get("default") == defaults[name], name


@pytest.mark.parametrize("role", ROLES)
def test_every_option_is_typed_prefixed_and_described(role):
    options = load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    for name, spec in options.items():
        assert name.startswith(role + "_"), "%s is not prefixed with %s_" % (name, role)
        assert spec.get("type"), "%s has no type" % name
        if spec["type"] == "list":
            assert spec.get("elements"), "%s is a list without elements" % name
        description = spec.get("description")
        assert description and all(line.strip().endswith((".", ")")) for line in description), \
            "%s needs a description in full sentences" % name


@pytest.mark.parametrize("role", ROLES)
def test_secret_options_are_no_log(role):
    options = load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    for name, spec in options.items():
        if any(word in name for word in SECRET_WORDS) and not name.endswith(("_cost", "_file", "_dir")):
            assert spec.get("no_log") is True, "%s looks secret but is not no_log" % name
