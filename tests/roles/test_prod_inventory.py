"""The example production inventory (inventories/prod) and site.yml's inventory check.

The README's production path is: `make venv` (which creates .venv and links
the checkout as .cache/collections/ansible_collections/vigil/observability),
then, from the repository root,
`.venv/bin/ansible-playbook playbooks/site.yml -i inventories/prod`, with the
collection found through ansible.cfg's `collections_path` alone. The tests
here run exactly that, with ANSIBLE_COLLECTIONS_PATH and ANSIBLE_CONFIG
removed from the environment, and without a vault password or the vaulted
files (the vault references are only templated at run time).

Then the inventory's values go through the roles' own checks: each play of
site.yml runs its role against the prod inventory with every host made
unreachable (role_input.UNREACHABLE) and the facts given on the controller,
so that everything the roles check before they first contact a host (the
argument specs, the preflight asserts, the scrape plan, the SLO and
Alertmanager configuration filters, Grafana's settings) runs on the real
inventory. A host that passes ends UNREACHABLE; one that fails a check fails
with the role's message. The vault files are the inventory's
vault.yml.example files, unencrypted, and the certificates are made for the
run.
"""

import datetime
import ipaddress
import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml
from ansible_collections.vigil.observability.tests.helpers import ROOT
from ansible_collections.vigil.observability.tests.roles.role_input import CALLBACK_PLUGINS, UNREACHABLE, _env

PROD = os.path.join(ROOT, "inventories", "prod")
SITE = os.path.join(ROOT, "playbooks", "site.yml")
ANSIBLE_PLAYBOOK = os.path.join(ROOT, ".venv", "bin", "ansible-playbook")
FACTS = {
    "architecture": "x86_64", "distribution": "Debian", "distribution_major_version": "12", "os_family": "Debian",
    "distribution_release": "bookworm", "service_mgr": "systemd", "default_ipv4": {"address": "192.0.2.250"},
    "mounts": [{"mount": "/", "fstype": "ext4", "size_total": 100 * 2 ** 30}],
}
PLAY_HEADER = re.compile(r"^\s*play #(\d+) \(([^)]*)\): (.*?)\tTAGS: \[.*\]$")
HOSTS_LINE = re.compile(r"^\s*hosts \((\d+)\):$")


def _user_env(**extra):
    """The environment of a user who followed the README: no ANSIBLE_* settings of ours, only ansible.cfg."""
    env = dict((key, value) for key, value in os.environ.items()
               if key not in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS", "ANSIBLE_CONFIG"))
    env.update({"ANSIBLE_NOCOLOR": "1"}, **extra)
    return env


def _playbook(args, cwd=ROOT, env=None, timeout=300):
    if not os.access(ANSIBLE_PLAYBOOK, os.X_OK):
        pytest.fail("%s is missing; run `make venv`" % ANSIBLE_PLAYBOOK)
    proc = subprocess.run([ANSIBLE_PLAYBOOK] + args, cwd=cwd, env=env or _user_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return proc.returncode, proc.stdout


def _site_plays():
    with open(SITE) as handle:
        return yaml.safe_load(handle)


def test_make_venv_links_the_checkout_as_the_collection():
    link = os.path.join(ROOT, ".cache", "collections", "ansible_collections", "vigil", "observability")
    assert os.path.isdir(link), "%s is missing; run `make venv` (scripts/link-collection.sh)" % link
    assert os.path.samefile(link, ROOT)


def test_site_syntax_check_passes_on_the_prod_inventory_with_only_ansible_cfg():
    rc, out = _playbook(["playbooks/site.yml", "-i", "inventories/prod", "--syntax-check"])
    assert rc == 0, out
    assert "Unable to parse" not in out, out


def test_the_syntax_check_fails_when_the_collection_cannot_be_found(tmp_path):
    """The control of the test above: without ansible.cfg's collections_path the roles do not resolve."""
    empty = tmp_path / "collections"
    empty.mkdir()
    env = _user_env(HOME=str(tmp_path), ANSIBLE_COLLECTIONS_PATH=str(empty), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")
    rc, out = _playbook([SITE, "-i", PROD, "--syntax-check"], cwd=str(tmp_path), env=env)
    assert rc != 0, out
    assert "vigil.observability.node_exporter" in out, out


def test_ansible_cfg_collections_path_is_relative_to_the_file_not_the_working_directory(tmp_path):
    """With ANSIBLE_CONFIG pointing at the checkout's ansible.cfg, a run from elsewhere finds the collection too."""
    env = _user_env(ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), HOME=str(tmp_path))
    rc, out = _playbook([SITE, "-i", PROD, "--syntax-check"], cwd=str(tmp_path), env=env)
    assert rc == 0, out


def test_every_play_lists_hosts_of_the_prod_inventory():
    rc, out = _playbook(["playbooks/site.yml", "-i", "inventories/prod", "--list-hosts"])
    assert rc == 0, out
    assert "Unable to parse" not in out and "Could not match supplied host pattern" not in out, out
    plays, current = [], None
    for line in out.splitlines():
        header = PLAY_HEADER.match(line)
        if header:
            current = {"name": header.group(3), "pattern": header.group(2), "hosts": None}
            plays.append(current)
            continue
        count = HOSTS_LINE.match(line)
        if count and current is not None:
            current["hosts"] = int(count.group(1))
    assert [p["name"] for p in plays] == [p["name"] for p in _site_plays()], out
    empty = ["%s (hosts: %s)" % (p["name"], p["pattern"]) for p in plays if not p["hosts"]]
    assert not empty, "plays of site.yml without hosts in inventories/prod: %s" % "; ".join(empty)


# -- site.yml's inventory check -------------------------------------------------------------------


def test_site_fails_on_an_inventory_without_hosts(tmp_path):
    empty = tmp_path / "empty.yml"
    empty.write_text("")
    missing = os.path.join(str(tmp_path), "no-such-inventory")
    for source in (str(empty), missing):
        rc, out = _playbook(["playbooks/site.yml", "-i", source])
        assert rc != 0, out
        assert "The inventory %s has no hosts" % source in out, out
        assert "Deploy node_exporter" not in out, out


def test_site_warns_about_an_empty_component_group_and_goes_on(tmp_path):
    """No grafana group: the run says which play does nothing, and does not fail."""
    hosts = {"h1": dict(UNREACHABLE)}
    inventory = {"all": {"hosts": hosts, "children": dict(
        (group, {"hosts": {"h1": None}}) for group in ("prometheus", "alertmanager", "postgres", "blackbox"))}}
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(inventory))
    # --tags always: the check play, and of the roles only their argument checks, which run on the controller.
    rc, out = _playbook(["playbooks/site.yml", "-i", str(path), "--tags", "always"])
    assert rc == 0, out
    assert re.search(r"h1 +: ok=\d+ +changed=0 +unreachable=0 +failed=0", out), out
    warnings = re.findall(r"WARNING: group (\S+) has no hosts", out)
    assert warnings == ["grafana"], out
    assert '"Deploy Grafana on the grafana group" will do nothing' in " ".join(out.split()), out

    rc, out = _playbook(["playbooks/site.yml", "-i", str(path), "--tags", "always",
                         "-e", "vigil_site_require_groups=true"])
    assert rc != 0, out
    assert "vigil_site_require_groups is set and these groups have no hosts" in out, out


def test_the_check_names_every_component_play_of_site():
    """The check's group -> play map is the plays of site.yml (but node_exporter's, which takes every host)."""
    plays = _site_plays()
    check = plays[0]
    assert check["hosts"] == "localhost" and check["gather_facts"] is False and check["tags"] == ["always"]
    assert check["vars"]["__vigil_site_plays"] == dict((p["hosts"], p["name"]) for p in plays[1:] if p["hosts"] != "all")


def test_site_check_runs_with_any_tags(tmp_path):
    empty = tmp_path / "empty.yml"
    empty.write_text("")
    rc, out = _playbook(["playbooks/site.yml", "-i", str(empty), "--tags", "grafana"])
    assert rc != 0 and "has no hosts" in out, out


# -- the roles' own checks on the prod inventory ----------------------------------------------------


def _certificates(pki, inventory):
    """A CA and one certificate per host (SANs: vigil_address and ansible_host), like .pki/README.md asks for."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def pem_key(key):
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    now = datetime.datetime.now(datetime.UTC)
    later = now + datetime.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vigil test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(later)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True).sign(ca_key, hashes.SHA256()))
    (pki / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for name, hv in inventory.items():
        key = ec.generate_private_key(ec.SECP256R1())
        sans = [x509.DNSName(hv["ansible_host"]), x509.IPAddress(ipaddress.ip_address(hv["vigil_address"]))]
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hv["ansible_host"])])
        cert = (x509.CertificateBuilder().subject_name(subject)
                .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(later)
                .add_extension(x509.SubjectAlternativeName(sans), critical=False).sign(ca_key, hashes.SHA256()))
        (pki / ("%s.crt" % name)).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (pki / ("%s.key" % name)).write_bytes(pem_key(key))


def _prod_hosts():
    """Every host of inventories/prod/hosts.yml with its inline variables."""
    def walk(group, found):
        for name, hv in (group.get("hosts") or {}).items():
            found.setdefault(name, {}).update(hv or {})
        for child in (group.get("children") or {}).values():
            walk(child or {}, found)
        return found

    with open(os.path.join(PROD, "hosts.yml")) as handle:
        return walk(yaml.safe_load(handle)["all"], {})


@pytest.fixture(scope="module")
def prod_copy(tmp_path_factory):
    """inventories/prod as a user completes it: vault.yml from each vault.yml.example, certificates in .pki/."""
    target = tmp_path_factory.mktemp("prod") / "prod"
    shutil.copytree(PROD, target)
    examples = sorted(target.glob("group_vars/*/vault.yml.example"))
    assert examples, "no group_vars/*/vault.yml.example in inventories/prod"
    for example in examples:
        shutil.copy(example, example.with_name("vault.yml"))
    _certificates(target / ".pki", _prod_hosts())
    return target


def test_every_vault_reference_has_an_example_value_in_its_group():
    """Each vault_* a group's variables use is defined in that group's (or all's) vault.yml.example."""
    missing = []
    for main in sorted(os.listdir(os.path.join(PROD, "group_vars"))):
        directory = os.path.join(PROD, "group_vars", main)
        used = set()
        for name in os.listdir(directory):
            if name.endswith(".yml"):
                with open(os.path.join(directory, name)) as handle:
                    used.update(re.findall(r"\bvault_[a-z0-9_]+", handle.read()))
        defined = set()
        for group in set((main, "all")):
            example = os.path.join(PROD, "group_vars", group, "vault.yml.example")
            if os.path.exists(example):
                with open(example) as handle:
                    defined.update((yaml.safe_load(handle) or {}).keys())
        missing.extend("%s: %s" % (main, name) for name in sorted(used - defined))
    assert not missing, "vault references without an example value: %s" % ", ".join(missing)


def _preflight_play(play):
    """One play of site.yml as the harness runs it: no fact gathering (facts given), no batches."""
    facts = dict(("ansible_" + name, "{{ test_facts.%s }}" % name) for name in FACTS)
    return [{
        "name": play["name"], "hosts": play["hosts"], "gather_facts": False,
        "vars": {"test_facts": FACTS},
        "pre_tasks": [{"name": "Give the host facts without contacting it",
                       "ansible.builtin.set_fact": dict(facts, cacheable=True)}],
        "roles": play["roles"],
    }]


def _run_play(workdir, inventory, index, play, extra=None):
    path = workdir / ("play%d.yml" % index)
    path.write_text(yaml.safe_dump(_preflight_play(play), sort_keys=False))
    results = workdir / ("results%d.json" % index)
    env = _env(ANSIBLE_CALLBACK_PLUGINS=CALLBACK_PLUGINS,
               ANSIBLE_CALLBACKS_ENABLED="case_results", VIGIL_CASE_RESULTS=str(results), ANSIBLE_FORKS="20")
    # Extra variables win over the inventory: every connection goes to a closed port on loopback, without
    # privilege escalation. The addresses the roles use come from vigil_address, which stays as it is.
    overrides = dict(UNREACHABLE, ansible_become=False, **(extra or {}))
    cmd = [ANSIBLE_PLAYBOOK, "-i", str(inventory), str(path), "-e", json.dumps(overrides)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=600)
    records = json.loads(results.read_text()) if results.exists() else None
    return play["name"], proc.returncode, proc.stdout, records


def test_the_prod_inventory_passes_every_role_check_before_a_host_is_contacted(prod_copy, tmp_path):
    plays = [play for play in _site_plays() if play.get("roles")]
    hosts = _prod_hosts()
    with ThreadPoolExecutor(max_workers=len(plays)) as pool:
        runs = list(pool.map(lambda item: _run_play(tmp_path, prod_copy, *item), enumerate(plays)))
    problems = []
    reached = set()
    for name, _rc, out, records in runs:
        if records is None:
            problems.append("%s: the run recorded nothing:\n%s" % (name, out[-3000:]))
            continue
        for host, record in sorted(records.items()):
            # A host that fails a check stops there; one that passes them all stops at its first contact.
            if not record["unreachable"] or len(record["failed"]) != 1:
                problems.append("%s on %s: %s" % (name, host, json.dumps(record["failed"])[-2000:]))
            else:
                reached.add((name, host))
    assert not problems, "\n".join(problems)
    expected = set()
    groups = {"all": set(hosts)}
    with open(os.path.join(PROD, "hosts.yml")) as handle:
        tree = yaml.safe_load(handle)["all"]

    def collect(children):
        for group, body in (children or {}).items():
            members = set((body or {}).get("hosts") or {})
            collect((body or {}).get("children"))
            for child in ((body or {}).get("children") or {}):
                members |= groups.get(child, set())
            groups[group] = members

    collect(tree.get("children"))
    for play in plays:
        expected |= set((play["name"], host) for host in groups.get(play["hosts"], set()))
    assert reached == expected, "hosts that did not get as far as being contacted: %s" % sorted(expected - reached)


def test_the_harness_notices_a_value_the_roles_refuse(prod_copy, tmp_path):
    """The control of the test above: the same run with one bad SLO fails on the Prometheus hosts, before contact."""
    play = next(play for play in _site_plays() if play["hosts"] == "prometheus")
    bad = {"vigil_slos": [{"service": "unified-api", "sli": {"latency": {"threshold": 0.3}}}]}
    name, _rc, out, records = _run_play(tmp_path, prod_copy, 0, play, extra=bad)
    assert records, out[-3000:]
    assert sorted(records) == ["prom1", "prom2"], records
    for record in records.values():
        assert not record["unreachable"], record
        assert "is not a bucket boundary" in json.dumps(record["failed"]), record
