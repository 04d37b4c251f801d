"""Every collection that the shipped content uses is declared in galaxy.yml.

`ansible-galaxy collection install vigil.observability` installs only the
collections that galaxy.yml declares as `dependencies`; a role that uses any
other collection works in this checkout (the `ansible` package carries it) and
breaks for a user who installs from Galaxy with ansible-core alone.

Scanned: every file under roles/ (YAML task, handler, vars, defaults, meta and
argument spec files, and templates), playbooks/ except playbooks/lab, plugins/,
meta/runtime.yml and the example inventories except inventories/lab (Jinja in
their variables, `ansible_connection`). The lab (playbooks/lab, inventories/lab)
is development tooling: it starts the lab's containers with community.docker,
which requirements.yml lists for a checkout; users do not run it and the tarball
does not ship it (galaxy.yml build_ignore). molecule/ and tests/ are the test
harness and are not scanned either.

A use is an FQCN `ns.coll.name` in a place where Ansible resolves it as a plugin
or role: a task's action key (or `action:`/`local_action:`), a module_defaults
key (`ns.coll.module` or `group/ns.coll.group`), a filter, test or lookup inside
Jinja (`{{ }}`, `{% %}`, and the bare expressions of `when:`, `changed_when:`,
`failed_when:`, `until:` and assert's `that:`), a role name (`roles:`,
include_role/import_role, meta dependencies), a `collections:` keyword, a
connection, become or strategy plugin name, a Python import from
`ansible_collections.ns.coll` or a doc fragment. Dotted strings elsewhere (labels
such as `vigil.lab.instance`, Prometheus flags such as `storage.tsdb.path`) are
data, not uses.
"""

import ast
import importlib.metadata
import os
import re
import warnings

import jinja2
import pytest
import yaml
from ansible_collections.vigil.observability.tests.helpers import ROOT
from jinja2 import nodes

BUILTIN = {"ansible.builtin", "ansible.legacy", "vigil.observability"}
EXCLUDED = ("playbooks/lab/", "inventories/lab/")
FQCN = re.compile(r"^([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\.[a-z_][a-z0-9_.]*$")
TASK_LISTS = ("tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always")
CONDITIONALS = ("when", "changed_when", "failed_when", "until")
PLUGIN_KEYWORDS = ("connection", "become_method", "strategy", "ansible_connection", "ansible_become_method")
ROLE_ACTIONS = ("include_role", "import_role")
LOOKUP_CALLS = ("lookup", "query", "q")
JINJA = jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])


class Unsafe(str):
    """A `!unsafe` string: Ansible never templates it."""


class Loader(yaml.SafeLoader):
    """Safe YAML that keeps Ansible's tags (`!unsafe`, `!vault`) as strings."""


Loader.add_constructor("!unsafe", lambda loader, node: Unsafe(loader.construct_scalar(node)))
Loader.add_constructor("!vault", lambda loader, node: Unsafe(loader.construct_scalar(node)))


def collection_of(name):
    """`ns.coll` of an FQCN (`group/` prefix allowed), or None for a short name."""
    match = FQCN.match(name.removeprefix("group/")) if isinstance(name, str) else None
    return "%s.%s" % match.groups() if match else None


class Uses:
    """Collections used, each with the places (file: what) that use it."""

    def __init__(self):
        self.places = {}

    def add(self, name, where, what):
        coll = collection_of(name)
        if coll:
            self.places.setdefault(coll, []).append("%s: %s %s" % (where, what, name))

    def jinja(self, text, where, expression=False):
        if isinstance(text, Unsafe) or not isinstance(text, str):
            return
        if not expression and "{{" not in text and "{%" not in text:
            return
        source = "{{ (%s) }}" % text if expression else text
        try:
            with warnings.catch_warnings():
                # Jinja warns about regex escapes such as '\.' in string literals; Ansible accepts them.
                warnings.simplefilter("ignore", DeprecationWarning)
                tree = JINJA.parse(source)
        except jinja2.TemplateSyntaxError as error:
            raise AssertionError("%s: cannot parse as Jinja (%s): %r" % (where, error, text[:200])) from None
        for node in tree.find_all(nodes.Filter):
            self.add(node.name, where, "filter")
        for node in tree.find_all(nodes.Test):
            self.add(node.name, where, "test")
        for node in tree.find_all(nodes.Call):
            if (isinstance(node.node, nodes.Name) and node.node.name in LOOKUP_CALLS and node.args
                    and isinstance(node.args[0], nodes.Const)):
                self.add(node.args[0].value, where, "lookup")

    def data(self, value, where):
        """Any YAML data: only Jinja in its strings, and plugin-selecting variables."""
        if isinstance(value, dict):
            for key, item in value.items():
                if key in PLUGIN_KEYWORDS and isinstance(item, str):
                    self.add(item, where, key)
                self.data(item, where)
        elif isinstance(value, list):
            for item in value:
                self.data(item, where)
        else:
            self.jinja(value, where)

    def module_defaults(self, value, where):
        for entry in value if isinstance(value, list) else [value]:
            if isinstance(entry, dict):
                for key, item in entry.items():
                    self.add(key, where, "module_defaults")
                    self.data(item, where)
            else:
                self.jinja(entry, where)

    def conditional(self, value, where):
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                self.jinja(item, where, expression="{{" not in item)

    def role(self, entry, where):
        name = entry.get("role", entry.get("name")) if isinstance(entry, dict) else entry
        if isinstance(name, str):
            self.add(name, where, "role")
            self.jinja(name, where)
        if isinstance(entry, dict):
            self.block(entry, where, skip=("role", "name"))

    def block(self, value, where, skip=()):
        """Keywords shared by plays, blocks, tasks and role entries."""
        for key, item in value.items():
            if key in skip:
                continue
            if key == "module_defaults":
                self.module_defaults(item, where)
            elif key in CONDITIONALS:
                self.conditional(item, where)
            elif key == "collections":
                for name in item or []:
                    self.add(name + ".x", where, "collections keyword")
            elif key in TASK_LISTS:
                self.tasks(item, where)
            elif key == "roles":
                for entry in item or []:
                    self.role(entry, where)
            elif key in PLUGIN_KEYWORDS and isinstance(item, str):
                self.add(item, where, key)
            else:
                self.data(item, where)

    def task(self, task, where):
        if not isinstance(task, dict):
            return
        if any(key in task for key in ("block", "rescue", "always")):
            self.block(task, where)
            return
        for key, args in task.items():
            if key in ("action", "local_action"):
                module = args.get("module") if isinstance(args, dict) else str(args).split()[0]
                self.add(module, where, "module")
            elif collection_of(key):
                self.add(key, where, "module")
                short = key.rsplit(".", 1)[-1]
                if short in ROLE_ACTIONS and isinstance(args, dict):
                    self.role(args.get("name"), where)
                if short == "assert" and isinstance(args, dict):
                    self.conditional(args.get("that", []), where)
        self.block(task, where)

    def tasks(self, value, where):
        for task in value or []:
            self.task(task, where)

    def playbook(self, plays, where):
        for play in plays or []:
            if isinstance(play, dict):
                for key in ("import_playbook", "ansible.builtin.import_playbook"):
                    if key in play:
                        self.add(play[key], where, "playbook")
                self.block(play, where)

    def python(self, path, where):
        with open(path) as handle:
            tree = ast.parse(handle.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                modules = []
            for module in modules:
                parts = module.split(".")
                if parts[0] == "ansible_collections" and len(parts) >= 3:
                    self.add(".".join(parts[1:3]) + ".x", where, "python import of " + module + " as")
            if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id == "DOCUMENTATION" and isinstance(node.value, ast.Constant)):
                doc = yaml.load(node.value.value, Loader=Loader) or {}
                fragments = doc.get("extends_documentation_fragment", [])
                for fragment in [fragments] if isinstance(fragments, str) else fragments:
                    self.add(fragment, where, "doc fragment")

    def runtime(self, meta, where):
        for members in (meta.get("action_groups") or {}).values():
            for member in members or []:
                if isinstance(member, str):
                    self.add(member, where, "action_groups member")
        for plugins in (meta.get("plugin_routing") or {}).values():
            for routing in (plugins or {}).values():
                if isinstance(routing, dict) and isinstance(routing.get("redirect"), str):
                    self.add(routing["redirect"], where, "plugin_routing redirect")


def scan_file(uses, root, rel):
    path = os.path.join(root, rel)
    parts = rel.split("/")
    if rel.endswith(".py"):
        if parts[0] == "plugins":
            uses.python(path, rel)
        return
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if parts[0] == "roles" and len(parts) > 2 and parts[2] == "templates":
        uses.jinja(text, rel)
        return
    if not rel.endswith((".yml", ".yaml")):
        return
    data = yaml.load(text, Loader=Loader)
    if parts[0] == "playbooks":
        uses.playbook(data, rel)
    elif parts[0] == "inventories":
        uses.data(data, rel)
    elif parts[0] == "meta":
        uses.runtime(data or {}, rel)
    elif parts[0] == "roles" and parts[2] in ("tasks", "handlers"):
        uses.tasks(data, rel)
    elif parts[0] == "roles" and parts[2:] == ["meta", "main.yml"]:
        for entry in (data or {}).get("dependencies") or []:
            uses.role(entry, rel)
        for name in (data or {}).get("collections") or []:
            uses.add(name + ".x", rel, "collections keyword")
    elif parts[0] == "roles" and parts[2] != "files":
        uses.data(data, rel)


def shipped_files(root):
    for top in ("roles", "playbooks", "plugins", "meta", "inventories"):
        for directory, dirs, files in os.walk(os.path.join(root, top)):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                rel = os.path.relpath(os.path.join(directory, name), root).replace(os.sep, "/")
                if not rel.startswith(EXCLUDED):
                    yield rel


def scan(root=ROOT):
    uses = Uses()
    for rel in shipped_files(root):
        scan_file(uses, root, rel)
    return uses


def galaxy(root=ROOT):
    with open(os.path.join(root, "galaxy.yml")) as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def uses():
    return scan()


@pytest.fixture(scope="module")
def declared():
    return galaxy().get("dependencies") or {}


def test_every_used_collection_is_declared_in_galaxy_yml(uses, declared):
    missing = {coll: places for coll, places in uses.places.items() if coll not in BUILTIN and coll not in declared}
    assert not missing, "used but not declared in galaxy.yml dependencies (add them with a version range):\n" + "\n".join(
        "%s:\n  %s" % (coll, "\n  ".join(places[:10])) for coll, places in sorted(missing.items()))


def test_every_declared_collection_is_used(uses, declared):
    unused = sorted(set(declared) - set(uses.places))
    assert not unused, "declared in galaxy.yml dependencies but used nowhere: %s" % unused


def test_dependency_ranges_are_bounded_and_met_by_the_ansible_package(declared):
    from ansible.galaxy.dependency_resolution.versioning import meets_requirements

    bundled = str(importlib.metadata.distribution("ansible").locate_file("ansible_collections"))
    for coll, spec in declared.items():
        assert re.fullmatch(r">=\d+\.\d+\.\d+,<\d+\.\d+\.\d+", str(spec)), (
            "%s: %r: give a range `>=X.Y.Z,<N.0.0` (a lower bound that was tested and the next major)" % (coll, spec))
        manifest = os.path.join(bundled, *coll.split("."), "MANIFEST.json")
        assert os.path.exists(manifest), "%s is not in the `ansible` package, so no test here installs it" % coll
        version = yaml.safe_load(open(manifest))["collection_info"]["version"]
        assert meets_requirements(version, spec), "%s %s from the `ansible` package is outside %s" % (coll, version, spec)


def test_requirements_yml_repeats_galaxy_dependencies(declared):
    with open(os.path.join(ROOT, "requirements.yml")) as handle:
        listed = {entry["name"]: entry.get("version", "*") for entry in yaml.safe_load(handle)["collections"]}
    for coll, spec in declared.items():
        assert listed.get(coll) == spec, "requirements.yml must list %s with version %r, as galaxy.yml does" % (
            coll, spec)


def test_scan_reads_the_real_tree(uses):
    """The scanner is not blind: it sees this collection's own filters and roles, and ansible.builtin modules."""
    own = "\n".join(uses.places["vigil.observability"])
    for what in ("filter vigil.observability.", "role vigil.observability.", "module vigil.observability."):
        assert what in own, what
    assert any(" module ansible.builtin." in place for place in uses.places["ansible.builtin"])
    assert any(" lookup ansible.builtin." in place for place in uses.places["ansible.builtin"])


CASES = {
    "module": ("tasks", [{"name": "x", "community.general.ini_file": {"path": "/x"}}], "community.general"),
    "action": ("tasks", [{"name": "x", "action": "community.general.ini_file path=/x"}], "community.general"),
    "group": ("tasks", [{"module_defaults": {"group/community.postgresql.all": {"login_db": "x"}},
                         "block": [{"ansible.builtin.debug": {"msg": "x"}}]}], "community.postgresql"),
    "filter": ("tasks", [{"ansible.builtin.set_fact": {"x": "{{ y | community.crypto.gpg_fingerprint }}"}}],
               "community.crypto"),
    "test in when": ("tasks", [{"ansible.builtin.debug": {}, "when": "x is community.general.a_module"}],
                     "community.general"),
    "lookup in loop": ("tasks", [{"ansible.builtin.debug": {}, "loop": "{{ query('community.general.x', 'a') }}"}],
                       "community.general"),
    "assert that": ("tasks", [{"ansible.builtin.assert": {"that": ["a | ansible.utils.ipaddr"]}}], "ansible.utils"),
    "include_role": ("tasks", [{"ansible.builtin.include_role": {"name": "geerlingguy.mysql.mysql"}}],
                     "geerlingguy.mysql"),
    "play roles": ("playbook", [{"hosts": "all", "roles": [{"role": "prometheus.prometheus.node_exporter"}]}],
                   "prometheus.prometheus"),
    "connection": ("playbook", [{"hosts": "all", "connection": "community.docker.docker"}], "community.docker"),
    "vars jinja": ("data", {"x": "{{ lookup('community.hashi_vault.hashi_vault', 'a') }}"}, "community.hashi_vault"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_scanner_finds(case):
    kind, data, expected = CASES[case]
    uses = Uses()
    getattr(uses, kind)(data, "case")
    assert expected in uses.places, uses.places


def test_scanner_ignores_dotted_data():
    uses = Uses()
    uses.tasks([{"community.docker.docker_container": {"labels": {"vigil.lab.instance": "lab"}},
                 "vars": {"flags": {"storage.tsdb.path": "/x"}, "text": Unsafe("{{ a | x.y.z }}")}}], "case")
    uses.data({"storage.tsdb.retention.time": "15d", "msg": "see vigil.lab.instance"}, "case")
    assert set(uses.places) == {"community.docker"}, uses.places


def test_scanner_reads_plugin_imports(tmp_path):
    plugin = tmp_path / "plugins" / "modules" / "m.py"
    plugin.parent.mkdir(parents=True)
    plugin.write_text('DOCUMENTATION = """\nextends_documentation_fragment: [community.postgresql.postgres]\n"""\n'
                      "from ansible_collections.community.general.plugins.module_utils import x\n")
    uses = Uses()
    scan_file(uses, str(tmp_path), "plugins/modules/m.py")
    assert set(uses.places) == {"community.postgresql", "community.general"}, uses.places
