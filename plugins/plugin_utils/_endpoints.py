# Copyright: vigil.observability maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How one host reaches a daemon that a role of this collection configures on another (or the same) host.

Private to the collection: the Prometheus, Grafana and Alertmanager filters
read another role's variables from hostvars (``<role>_web_listen_address``,
``<role>_tls_cert``, ``<role>_basic_auth_users``) and turn them into a
target or a URL here, so that they all agree on one rule:

- a wildcard bind (``0.0.0.0``, ``[::]``, empty host, ``*``) listens on every
  address of its host, so it is reached at the host's address (vigil_address,
  else ansible_host, else the inventory hostname) from every host, its own
  included. That is the name its TLS certificate is issued for, and a target
  that does not depend on which host computes it. Only when the host's
  address is not known (grafana.ini alone) does its own host use loopback;
- a loopback bind (``127.0.0.0/8``, ``[::1]``, ``localhost``) is reached from
  its own host only, at that address (``localhost`` at ``127.0.0.1``: a Go
  daemon binds one address of a name, the IPv4 one). From another host it
  cannot be reached at all, which is reported instead of pointing the client
  at the client's own loopback or at an address nothing listens on;
- any other address is reached at that address.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleError

LISTEN = re.compile(r"^(\[[0-9A-Fa-f:.]*\]|[^\[\]:]*):([0-9]{1,5})$")
WILDCARD = ("", "0.0.0.0", "::", "[::]", "*")
LOOPBACK_NAMES = ("localhost", "::1", "[::1]")

_MISSING = object()


def host_var(hostvars_host, key, default=None):
    """One variable of a host from hostvars, templated; a value that cannot be templated counts as unset."""
    try:
        value = hostvars_host.get(key, _MISSING)
    except AnsibleError:
        return default
    return default if value is _MISSING or value is None else value


def hostvars_getter(hostvars, host):
    """A ``get(key, default)`` reading the variables of ``host`` (an unknown host has none)."""
    try:
        hv = hostvars[host] if host in hostvars else {}
    except KeyError:
        hv = {}

    def get(key, default=None):
        return host_var(hv, key, default)
    return get


def bracket(address):
    """An IPv6 address in brackets, for host:port and URLs; anything else as it is."""
    address = str(address)
    if ":" in address and not address.startswith("["):
        return "[%s]" % address
    return address


def host_address(get, host=None):
    """The address other hosts use to reach a host: vigil_address, else ansible_host, else its inventory name.

    Facts are deliberately not used: they are missing for hosts outside
    --limit, and targets must not change with the hosts a run happens to cover.
    """
    return str(get("vigil_address") or get("ansible_host") or get("inventory_hostname") or host or "")


def split_listen(value):
    """(host, port) of a host:port listen address, or None when it is not one."""
    match = LISTEN.match(str(value))
    if not match:
        return None
    return match.group(1), int(match.group(2))


def is_wildcard(address):
    return str(address) in WILDCARD


def is_loopback(address):
    address = str(address).lower()
    return address in LOOPBACK_NAMES or bool(re.match(r"^127\.[0-9]+\.[0-9]+\.[0-9]+$", address))


def reach_address(bind, address=None, same_host=True):
    """The address (bracketed when IPv6) at which a daemon bound to ``bind`` is reached, or None when it cannot be.

    address: the host's own address (host_address), or None when not known.
    same_host: whether the client runs on the daemon's host.
    """
    bind = str(bind if bind is not None else "")
    if is_wildcard(bind):
        if address:
            return bracket(address)
        if not same_host:
            return None
        return "[::1]" if ":" in bind else "127.0.0.1"
    if is_loopback(bind):
        if not same_host:
            return None
        return "127.0.0.1" if bind.lower() == "localhost" else bracket(bind)
    return bracket(bind)


def basic_auth_user(users, user, host, role, user_var, client):
    """(username, password, problem) for a client of ``role`` on ``host``, from its <role>_basic_auth_users.

    No users: no credentials. One user: that one. Several: the one named
    ``user``; without it, a problem naming the variable (``user_var``) that
    chooses it.
    """
    if not isinstance(users, dict):
        return "", "", "host %s: %s_basic_auth_users must be a dict" % (host, role)
    if not users:
        return "", "", None
    if len(users) == 1:
        username, password = next(iter(users.items()))
        return str(username), str(password), None
    if user in users:
        return str(user), str(users[user]), None
    return "", "", ("host %s has several %s_basic_auth_users (%s); add one named %r or set %s to the one %s should use"
                    % (host, role, ", ".join(sorted(map(str, users))), user, user_var, client))


def reach(get, host, role, default_port, client_host=None, user="", user_var="", client="the client", tls_var=None,
          auth=True):
    """How a client on ``client_host`` reaches the daemon of ``role`` on ``host``: (endpoint, problem).

    get: ``get(key, default)`` reading the variables of ``host``.
    client_host: the inventory name of the client's host; None when not known
    (a daemon bound to loopback then counts as unreachable).
    The endpoint (None with a problem) holds host, address (host:port),
    scheme (https when the role has a TLS certificate), url, username,
    password and client_cert (whether the daemon requires client certificates).
    auth: whether to take credentials from <role>_basic_auth_users (False: the
    caller has its own).
    """
    listen = get(role + "_web_listen_address")
    bind, port = "", default_port
    if listen:
        parts = split_listen(listen)
        if parts is None:
            return None, "host %s: %s_web_listen_address must be host:port, got %r" % (host, role, listen)
        bind, port = parts
    same_host = client_host is not None and client_host == host
    address = reach_address(bind, host_address(get, host), same_host)
    if address is None:
        where = ("from %s" % client_host) if client_host else "from another host"
        return None, ("host %s: %s listens on %s only (%s_web_listen_address), which cannot be reached %s; bind it to "
                      "an address of the host" % (host, role, listen, role, where))
    username = password = ""
    if auth:
        username, password, problem = basic_auth_user(get(role + "_basic_auth_users", {}) or {}, user, host, role,
                                                      user_var, client)
        if problem:
            return None, problem
    scheme = "https" if get(tls_var or (role + "_tls_cert")) else "http"
    client_cert = get(role + "_tls_client_auth_type", "") in ("RequireAndVerifyClientCert", "RequireAnyClientCert")
    hostport = "%s:%d" % (address, port)
    return {
        "host": host,
        "address": hostport,
        "scheme": scheme,
        "url": "%s://%s" % (scheme, hostport),
        "username": username,
        "password": password,
        "client_cert": client_cert,
    }, None
