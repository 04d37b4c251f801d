"""Every role documents every variable, and its specs match its defaults."""

import glob
import os

import pytest
import yaml
from ansible_collections.vigil.observability.tests.helpers import ROOT

ALL_ROLES = sorted(os.path.basename(os.path.dirname(os.path.dirname(p)))
                   for p in glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml")))
# The public roles; roles/_common is the internal core, whose options are the
# values a role hands it (no defaults, no role prefix): checked apart below.
ROLES = [role for role in ALL_ROLES if not role.startswith("_")]
SECRET_WORDS = ("password", "_key", "token", "secret", "basic_auth_users")


def load(role, *path):
    with open(os.path.join(ROOT, "roles", role, *path)) as handle:
        return yaml.safe_load(handle) or {}


def test_every_role_has_argument_specs():
    roles = sorted(os.listdir(os.path.join(ROOT, "roles")))
    assert roles and "_common" in roles and roles == ALL_ROLES


def _described(name, spec):
    assert spec.get("type"), "%s has no type" % name
    if spec["type"] == "list":
        assert spec.get("elements"), "%s is a list without elements" % name
    description = spec.get("description")
    assert isinstance(description, list) and description, "%s needs a description (a list of sentences)" % name
    assert all(line.strip().endswith((".", ")")) for line in description), \
        "%s needs a description in full sentences" % name


def test_core_documents_every_value_a_role_hands_it():
    options = load("_common", "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert load("_common", "defaults", "main.yml") == {}
    spec = options["_common_spec"]
    _described("_common_spec", spec)
    for name, sub in spec["options"].items():
        _described("_common_spec." + name, sub)
    # Every key a role's spec sets is documented.
    for role in ROLES:
        role_vars = load(role, "vars", "main.yml")
        handed = role_vars.get("_%s_spec" % role)
        if handed is not None:
            assert sorted(set(handed) - set(spec["options"])) == [], role


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
        _described(name, spec)


@pytest.mark.parametrize("role", ROLES)
def test_secret_options_are_no_log(role):
    options = load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    for name, spec in options.items():
        if any(word in name for word in SECRET_WORDS) and not name.endswith(("_cost", "_file", "_dir")):
            assert spec.get("no_log") is True, "%s looks secret but is not no_log" % name
