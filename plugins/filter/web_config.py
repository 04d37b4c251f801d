# -*- coding: utf-8 -*-
# Copyright: vigil.observability contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for exporter-toolkit web configurations (basic auth with bcrypt).

The exporter toolkit (node_exporter, Prometheus, Alertmanager, ...) accepts
only bcrypt hashes in ``basic_auth_users``.  These filters hash on the
controller with the ``bcrypt`` library directly: Ansible's
``password_hash('bcrypt')`` goes through passlib, and passlib 1.7.4 cannot
hash at all with bcrypt >= 4.1.

A fresh bcrypt hash uses a random salt, so hashing on every run would rewrite
the web configuration every time.  ``bcrypt_users`` therefore keeps a hash
already deployed on the host when it still verifies against the desired
password and was made with the requested cost; only a changed password (or
cost) produces a new hash.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible.errors import AnsibleFilterError
from ansible_collections.vigil.observability.plugins.plugin_utils._endpoints import split_listen

try:
    import bcrypt

    HAS_BCRYPT = True
except ImportError:  # pragma: no cover - exercised only without bcrypt
    HAS_BCRYPT = False

BCRYPT_MAX_BYTES = 72
MIN_COST = 10
MAX_COST = 31
_HASH_RE = re.compile(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$")


def password_problems(users, variable="basic_auth_users"):
    """Return human-readable problems with a users dictionary.

    Messages name the variable and the user, never the password, so they can
    be shown even when the task that checks them carries secrets.
    """
    problems = []
    if users is None:
        return problems
    if not isinstance(users, dict):
        return ["%s must be a dictionary of user name to password" % variable]
    for user, password in users.items():
        if not isinstance(user, str) or not user:
            problems.append("%s has an empty or non-string user name" % variable)
            continue
        if ":" in user:
            problems.append("%s: user name %r must not contain ':'" % (variable, user))
        if not isinstance(password, str) or password == "":
            problems.append("%s: the password of user %r must be a non-empty string" % (variable, user))
            continue
        size = len(password.encode("utf-8"))
        if size > BCRYPT_MAX_BYTES:
            problems.append(
                "%s: the password of user %r is %d bytes long; bcrypt uses at most %d bytes, "
                "so choose a password of %d bytes or fewer" % (variable, user, size, BCRYPT_MAX_BYTES, BCRYPT_MAX_BYTES)
            )
    return problems


def hash_cost(hashed):
    """Return the cost factor of a bcrypt hash, or None when it is not one."""
    match = _HASH_RE.match(hashed or "")
    return int(match.group(1)) if match else None


def bcrypt_users(users, existing=None, cost=12, variable="basic_auth_users"):
    """Return {user: bcrypt hash}, reusing hashes in ``existing`` that still verify."""
    if not HAS_BCRYPT:
        raise AnsibleFilterError(
            "%s: the 'bcrypt' Python library is needed on the controller to hash passwords; "
            "install it with 'pip install bcrypt'" % variable
        )
    problems = password_problems(users, variable)
    if problems:
        raise AnsibleFilterError("; ".join(problems))
    try:
        cost = int(cost)
    except (TypeError, ValueError):
        raise AnsibleFilterError("bcrypt cost must be an integer from %d to %d" % (MIN_COST, MAX_COST))
    if not MIN_COST <= cost <= MAX_COST:
        raise AnsibleFilterError("bcrypt cost must be from %d to %d, got %d" % (MIN_COST, MAX_COST, cost))
    existing = existing if isinstance(existing, dict) else {}

    result = {}
    for user, password in (users or {}).items():
        secret = password.encode("utf-8")
        current = existing.get(user)
        if isinstance(current, str) and hash_cost(current) == cost:
            try:
                if bcrypt.checkpw(secret, current.encode("ascii")):
                    result[user] = current
                    continue
            except ValueError:
                pass  # not a hash bcrypt can read: make a new one
        result[user] = bcrypt.hashpw(secret, bcrypt.gensalt(rounds=cost)).decode("ascii")
    return result


_PRIVATE_KEY_RE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
_VERIFYING_AUTH_TYPES = ("RequireAndVerifyClientCert", "VerifyClientCertIfGiven")


def web_settings_problems(settings, role):
    """Problems with a role's exporter-toolkit web settings (listen address, TLS, basic auth).

    ``settings`` holds the role's values without the ``<role>_`` prefix:
    web_listen_address, allow_wildcard_bind, tls_cert, tls_key, tls_client_ca,
    tls_client_auth_type, basic_auth_users and bcrypt_cost. Messages name the
    role's variables and never show a password or key.
    """
    problems = []
    listen = str(settings.get("web_listen_address", ""))
    parts = split_listen(listen)
    if parts is None:
        problems.append("%s_web_listen_address must be host:port (for example 10.0.0.5:9100 or [::1]:9100), got %s"
                        % (role, json.dumps(listen)))
    else:
        host, port = parts
        if not 1 <= port <= 65535:
            problems.append("%s_web_listen_address has port %d, expected 1 to 65535" % (role, port))
        if host in ("", "0.0.0.0", "[::]") and not settings.get("allow_wildcard_bind"):
            problems.append("%s_web_listen_address %s listens on every interface; give the address the clients use, "
                            "or set %s_allow_wildcard_bind to true" % (role, json.dumps(listen), role))
    cert = settings.get("tls_cert") or ""
    key = settings.get("tls_key") or ""
    client_ca = settings.get("tls_client_ca") or ""
    auth_type = settings.get("tls_client_auth_type") or ""
    if bool(cert) != bool(key):
        problems.append("%s_tls_cert and %s_tls_key must be set together" % (role, role))
    if cert and "-----BEGIN CERTIFICATE-----" not in cert:
        problems.append("%s_tls_cert must hold a PEM certificate (-----BEGIN CERTIFICATE-----)" % role)
    if key and not _PRIVATE_KEY_RE.search(key):
        problems.append("%s_tls_key must hold a PEM private key (-----BEGIN ... PRIVATE KEY-----)" % role)
    if not (cert or key) and (client_ca or auth_type):
        problems.append("%s_tls_client_ca and %s_tls_client_auth_type need %s_tls_cert and %s_tls_key" % ((role,) * 4))
    if auth_type in _VERIFYING_AUTH_TYPES and not client_ca:
        problems.append("%s_tls_client_auth_type %s needs %s_tls_client_ca" % (role, auth_type, role))
    try:
        cost = int(settings.get("bcrypt_cost", 12))
    except (TypeError, ValueError):
        cost = 0
    if not MIN_COST <= cost <= MAX_COST:
        problems.append("%s_bcrypt_cost must be from %d to %d, got %s" % (role, MIN_COST, MAX_COST, settings.get("bcrypt_cost")))
    problems.extend(password_problems(settings.get("basic_auth_users"), "%s_basic_auth_users" % role))
    return problems


def web_config_document(settings, tls_dir, password_hashes=None):
    """The exporter-toolkit web configuration for a role's settings, as data to render with to_nice_yaml.

    TLS files are expected in ``tls_dir`` as cert.pem, key.pem and client_ca.pem.
    """
    config = {}
    if settings.get("tls_cert"):
        tls = {"cert_file": tls_dir + "/cert.pem", "key_file": tls_dir + "/key.pem",
               "min_version": settings.get("tls_min_version") or "TLS12"}
        if settings.get("tls_client_ca"):
            tls["client_ca_file"] = tls_dir + "/client_ca.pem"
        if settings.get("tls_client_auth_type"):
            tls["client_auth_type"] = settings["tls_client_auth_type"]
        config["tls_server_config"] = tls
    if settings.get("http_headers"):
        config["http_server_config"] = {"headers": dict(settings["http_headers"])}
    if settings.get("basic_auth_users"):
        config["basic_auth_users"] = dict(password_hashes or {})
    return config


class FilterModule(object):
    """Exporter-toolkit web configuration filters."""

    def filters(self):
        return {
            "bcrypt_users": bcrypt_users,
            "bcrypt_password_problems": password_problems,
            "web_settings_problems": web_settings_problems,
            "web_config_document": web_config_document,
        }
