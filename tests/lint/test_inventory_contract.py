"""docs/inventory.md, the inventory contract between the roles, against the code it describes.

- Every variable the page lists as read from another role's hosts exists in
  the owning role's meta/argument_specs.yml, with the type the page gives
  (or its owner is marked planned and has no role yet).
- Every variable the scrape plan and the Grafana datasources read from an
  exporter's or server's hosts (``role + "_<suffix>"`` in the filters) is on
  the page, when the role has it.
- Every ``vigil_*`` name used under roles/, plugins/ and playbooks/ is on the
  page, and the page named as its reference mentions it.
- Every default scrape job of the prometheus role names a role of roles/,
  with that role's default port, and the page's table of them is the defaults.
"""

import glob
import os
import re

import pytest
import yaml
from ansible_collections.vigil.observability.tests.helpers import ROOT

DOC = os.path.join(ROOT, "docs", "inventory.md")
ROLES = sorted(d for d in os.listdir(os.path.join(ROOT, "roles"))
               if not d.startswith(("_", ".")) and os.path.isdir(os.path.join(ROOT, "roles", d)))
# A word that starts with vigil_, not an attribute (spec.vigil_needs) and not a computed name (__vigil_lab_up).
VIGIL_NAME = re.compile(r"(?<![\w.])vigil_[a-z][a-z0-9_]*")
# Names that look like variables but are not inventory variables of the collection.
NOT_VARIABLES = {
    "vigil_dashboards": "a register name in the EXAMPLES of plugins/modules/grafana_dashboard_info.py",
}
# The type words of the page, as argument_specs types.
TYPES = {"str": "str", "dict": "dict", "list": "list", "bool": "bool", "int": "int"}


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _section(text, heading):
    match = re.search(r"^## %s\n(.*?)(?=^## |\Z)" % re.escape(heading), text, re.M | re.S)
    assert match, "docs/inventory.md has no section %r" % heading
    return match.group(1)


def _table(text):
    """The rows of the first Markdown table in `text`, as lists of cell strings."""
    rows = []
    for line in text.splitlines():
        if re.match(r"^\|[-| ]+\|$", line):
            continue
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            break
    return rows[1:]


def _name(cell):
    match = re.match(r"^`([^`]+)`$", cell)
    assert match, "expected a `name` cell, got %r" % cell
    return match.group(1)


def _options(role):
    specs = yaml.safe_load(_read(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")))
    return specs["argument_specs"]["main"]["options"]


def _role_defaults(role):
    return yaml.safe_load(_read(os.path.join(ROOT, "roles", role, "defaults", "main.yml"))) or {}


CROSS = _table(_section(_read(DOC), "Host variables read across roles"))
GLOBALS = _table(_section(_read(DOC), "The `vigil_*` variables"))


def test_the_tables_were_read():
    assert len(CROSS) >= 20 and len(GLOBALS) >= 7


@pytest.mark.parametrize("row", CROSS, ids=[row[0].strip("`") for row in CROSS])
def test_each_variable_read_across_roles_exists_in_its_owner_role(row):
    variable, owner, _readers, _source, type_word, _meaning = row
    variable = _name(variable)
    planned = owner.startswith("planned: ")
    owner = _name(owner[len("planned: "):] if planned else owner)
    assert variable.startswith(owner + "_"), "%s does not carry the prefix of its owner %s" % (variable, owner)
    if planned:
        assert owner not in ROLES, "roles/%s exists now: drop 'planned' for %s and check it" % (owner, variable)
        return
    assert owner in ROLES, "owner %s of %s is not a role of roles/" % (owner, variable)
    options = _options(owner)
    assert variable in options, "%s is not in roles/%s/meta/argument_specs.yml" % (variable, owner)
    assert options[variable].get("type") == TYPES[type_word], \
        "%s is %s in the argument specs, %s on the page" % (variable, options[variable].get("type"), type_word)


def _suffixes():
    """The <role>_<suffix> host variables the filters and their shared helpers read for whichever role they are given."""
    found = set()
    for path in glob.glob(os.path.join(ROOT, "plugins", "filter", "*.py")) + \
            glob.glob(os.path.join(ROOT, "plugins", "plugin_utils", "*.py")):
        found.update(re.findall(r'role \+ "(_[a-z_]+)"', _read(path)))
    return found


def test_every_variable_the_filters_read_from_other_hosts_is_on_the_page():
    listed = dict((_name(row[0]), row[2]) for row in CROSS)
    exporters = [entry["role"] for entry in _role_defaults("prometheus")["prometheus_exporters"]]
    found = _suffixes()
    # What decides a URL and its credentials; the scrape plan also reads the client-certificate policy and the path.
    reach = {"_web_listen_address", "_tls_cert", "_basic_auth_users"}
    assert reach <= found, "the filters no longer read %s" % ", ".join(sorted(reach - found))
    readers = [("prometheus", found, exporters), ("grafana", reach, ["prometheus", "alertmanager"])]
    missing = []
    for reader, suffixes, roles in readers:
        for role in roles:
            for suffix in sorted(suffixes):
                variable = role + suffix
                if variable in _options(role) and reader not in listed.get(variable, ""):
                    missing.append("%s (read by %s)" % (variable, reader))
    assert not missing, "docs/inventory.md does not list: %s" % ", ".join(missing)


def _vigil_names():
    found = {}
    for top in ("roles", "plugins", "playbooks"):
        for path in glob.glob(os.path.join(ROOT, top, "**", "*"), recursive=True):
            if os.path.isfile(path) and not path.endswith((".pyc", ".png", ".json")):
                for name in VIGIL_NAME.findall(_read(path)):
                    found.setdefault(name, os.path.relpath(path, ROOT))
    return found


def test_the_page_lists_every_vigil_name_used_by_roles_plugins_and_playbooks():
    listed = set(_name(row[0]) for row in GLOBALS)
    used = _vigil_names()
    assert "vigil_services" in used and "vigil_slos" in used, "the scan found nothing"
    unlisted = sorted("%s (%s)" % (name, path) for name, path in used.items()
                      if name not in listed and name not in NOT_VARIABLES)
    assert not unlisted, "vigil_* names used but not in docs/inventory.md: %s" % ", ".join(unlisted)
    stale = sorted(listed - set(used))
    assert not stale, "docs/inventory.md lists vigil_* names nothing uses: %s" % ", ".join(stale)


@pytest.mark.parametrize("row", GLOBALS, ids=[row[0].strip("`") for row in GLOBALS])
def test_each_vigil_variable_is_described_where_the_page_says(row):
    name = _name(row[0])
    match = re.match(r"^\[[^\]]+\]\(([^)#]+)(#[^)]*)?\)$", row[-1])
    assert match, "%s: the reference cell must be one link, got %r" % (name, row[-1])
    target = os.path.normpath(os.path.join(os.path.dirname(DOC), match.group(1)))
    assert os.path.isfile(target), "%s: %s does not exist" % (name, target)
    assert name in _read(target), "%s is not mentioned in %s" % (name, os.path.relpath(target, ROOT))


def test_no_role_sets_a_default_for_a_vigil_variable():
    offenders = ["%s: %s" % (role, key) for role in ROLES for key in _role_defaults(role) if key.startswith("vigil_")]
    assert not offenders


@pytest.mark.parametrize("source", ["defaults", "argument_specs"])
def test_every_default_scrape_job_names_a_role_that_exists(source):
    if source == "defaults":
        jobs = _role_defaults("prometheus")["prometheus_exporters"]
    else:
        jobs = _options("prometheus")["prometheus_exporters"]["default"]
    problems = []
    for entry in jobs:
        role = entry["role"]
        if role not in ROLES:
            problems.append("job %s names role %s, which is not in roles/" % (entry["job"], role))
            continue
        listen = str(_role_defaults(role).get(role + "_web_listen_address", ""))
        port = re.search(r":(\d+)$", listen)
        if not port or int(port.group(1)) != entry["port"]:
            problems.append("job %s: port %s, but %s_web_listen_address defaults to %r"
                            % (entry["job"], entry["port"], role, listen))
    assert not problems, "; ".join(problems)


def test_the_page_shows_the_default_scrape_jobs():
    rows = _table(_section(_read(DOC), "The default scrape jobs"))
    shown = [(_name(job), _name(group), _name(role), int(port)) for job, group, role, port in rows]
    defaults = [(e["job"], e["group"], e["role"], e["port"])
                for e in _role_defaults("prometheus")["prometheus_exporters"]]
    assert shown == defaults
