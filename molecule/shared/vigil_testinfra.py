"""Helpers shared by the testinfra suites of every scenario."""

import os
import subprocess


def scenario_dir():
    return os.environ["MOLECULE_SCENARIO_DIRECTORY"]


def run_playbook(playbook="converge.yml", extra_vars=None, limit=None, verbosity=0, diff=False, check=False,
                 inventories=(), extra_args=()):
    """Run a playbook of this scenario against Molecule's inventory (extra_args: more ansible-playbook arguments).

    Returns the CompletedProcess with stdout and stderr combined in .stdout.
    """
    import json

    cmd = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], os.path.join(scenario_dir(), playbook)]
    for inventory in inventories:
        cmd += ["-i", inventory]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if limit:
        cmd += ["--limit", limit]
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    if diff:
        cmd.append("--diff")
    if check:
        cmd.append("--check")
    cmd += list(extra_args)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)


def main_pid(host, unit):
    return int(host.check_output("systemctl show -p MainPID --value %s" % unit))


def journal(host, unit, lines=50):
    return host.run("journalctl -u %s --no-pager -n %d" % (unit, lines)).stdout


def assert_service_up(host, unit):
    """Assert a unit is active and enabled, showing its journal when not."""
    service = host.service(unit)
    assert service.is_running, "%s is not running:\n%s" % (unit, journal(host, unit))
    assert service.is_enabled, "%s is not enabled" % unit


def unit_exposure(host, unit_path):
    """Overall exposure score of a unit file from systemd-analyze (offline)."""
    import re

    out = host.check_output("systemd-analyze security --offline=true %s 2>&1" % unit_path)
    # "→ Overall exposure level for node_exporter.service: 1.4 OK 🙂"
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", out)
    assert match, "no exposure score in systemd-analyze output:\n" + out[-1000:]
    return float(match.group(1)), match.group(0)


def molecule_hosts(names=("debian12", "debian13")):
    """The scenario's hosts as testinfra hosts, by inventory name."""
    import testinfra

    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    return {n: testinfra.get_host("ansible://%s?ansible_inventory=%s" % (n, inventory)) for n in names}


def assert_runs_as_locked_system_user(host, unit, user):
    """The unit's process runs as `user`, a system account with the nologin shell and a locked password."""
    assert host.check_output("ps -o user= -p %d" % main_pid(host, unit)) == user
    account = host.user(user)
    assert account.shell == "/usr/sbin/nologin" and account.uid < 1000, (account.shell, account.uid)
    shadow = host.check_output("getent shadow %s" % user).split(":")[1]
    assert shadow.startswith(("!", "*")), "password of %s is not locked" % user


def assert_listens_only_on(host, address, port):
    """A listener on address:port and none on the wildcard addresses for that port."""
    sockets = [str(s) for s in host.socket.get_listening_sockets()]
    assert "tcp://%s:%d" % (address, port) in sockets, sockets
    assert "tcp://0.0.0.0:%d" % port not in sockets and "tcp://:::%d" % port not in sockets, sockets


def assert_exporter_removed(host, component, package, port):
    """What an exporter role installs is gone after state=absent: unit, masked package unit, binary, package,
    user, group, configuration directory and listener."""
    where = host.backend.host
    for path in ("/etc/systemd/system/%s.service" % component, "/etc/systemd/system/%s.service" % package,
                 "/usr/local/bin/%s" % component, "/etc/%s" % component):
        assert not host.file(path).exists, "%s: %s is left" % (where, path)
    assert not host.package(package).is_installed, "%s: %s is installed" % (where, package)
    assert not host.user(component).exists and not host.group(component).exists, "%s: %s account is left" % (where, component)
    assert host.run("ss -Htln 'sport = :%d'" % port).stdout.strip() == "", "%s: port %d still open" % (where, port)


def host_address(host):
    """The host's IPv4 address on eth0."""
    return host.check_output("ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1")


def curl_exporter(host, port, path="/metrics", user=None, password=None, tls_name=None):
    """GET a path from an exporter on the host, from inside the host; returns (status, body).

    With tls_name, HTTPS to that name (resolved to the host's address) verified against the scenario's test CA.
    """
    import shlex

    ip = host_address(host)
    if tls_name:
        host.run("mkdir -p /tmp/vigil-test")
        with open(os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "tls", "ca.crt")) as handle:
            ca = handle.read()
        host.run("cat > /tmp/vigil-test/ca.crt << 'EOF'\n%s\nEOF" % ca)
        base = "--cacert /tmp/vigil-test/ca.crt --resolve %s:%d:%s https://%s:%d" % (tls_name, port, ip, tls_name, port)
    else:
        base = "http://%s:%d" % (ip, port)
    auth = "-u %s" % shlex.quote("%s:%s" % (user, password)) if user else ""
    cmd = "curl -sS -o /tmp/vigil-body -w '%%{http_code}' %s %s%s; echo; cat /tmp/vigil-body" % (auth, base, path)
    status, _, body = host.run(cmd).stdout.partition("\n")
    return int(status or 0), body
