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

import re

from ansible.errors import AnsibleFilterError

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


class FilterModule(object):
    """Exporter-toolkit web configuration filters."""

    def filters(self):
        return {
            "bcrypt_users": bcrypt_users,
            "bcrypt_password_problems": password_problems,
        }
