#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vigil.observability contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: grafana_service_account
short_description: Manage a Grafana service account and one of its tokens, writing a new token to a file
version_added: 0.1.0
description:
  - Creates, updates (role, disabled) or deletes a service account, found by its name, through
    C(/api/serviceaccounts).
  - With O(token_name), also makes sure the account has a token of that name. Grafana shows a token's key only once,
    in the answer that creates it; the module writes it to O(token_file) on the host it runs on (mode 0600, written
    atomically) and returns it only when O(return_token=true).
  - A token that already exists is left alone; its key cannot be read back. When O(token_file) is missing but the token
    exists, the module fails and says how to replace the token (delete it with O(token_state=absent), then run again).
  - Grafana removed API keys in Grafana 11 in favour of service accounts and their tokens.
author: vigil.observability maintainers (@vigil-observability)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vigil.observability.grafana
options:
  name:
    description: The service account's name, unique in the organisation.
    type: str
    required: true
  role:
    description: The organisation role of the account.
    type: str
    choices: [Viewer, Editor, Admin, None]
    default: Viewer
  disabled:
    description: Whether the account is disabled (its tokens then stop working).
    type: bool
    default: false
  state:
    description: V(present) creates or updates the account; V(absent) deletes it with its tokens.
    type: str
    choices: [present, absent]
    default: present
  token_name:
    description: The name of a token of the account to manage. No token is managed when not set.
    type: str
  token_state:
    description: V(present) creates the token when the account has none of that name; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  token_seconds_to_live:
    description: Lifetime of a new token in seconds; V(0) means it does not expire.
    type: int
    default: 0
  token_file:
    description:
      - File on the host the module runs on to write a newly created token to (mode 0600, owned by the user the
        module runs as; its directory must exist). Recommended, because the key cannot be read back later.
    type: path
  return_token:
    description:
      - Return a newly created token's key as RV(token). The task then needs C(no_log) to keep the key out of the
        output and logs; prefer O(token_file).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Only GET requests are sent and no file is written.
  diff_mode:
    support: full
    details: Before and after of name, role and disabled, and of the token's presence (never its key).
  platform:
    platforms: posix
notes:
  - Managing service accounts needs the organisation's Admin role (C(serviceaccounts:write)).
seealso:
  - name: Grafana service account HTTP API
    description: The API this module uses.
    link: https://grafana.com/docs/grafana/latest/developers/http_api/serviceaccount/
"""

EXAMPLES = r"""
- name: A service account for provisioning, with its token in a file only root can read
  vigil.observability.grafana_service_account:
    url: http://127.0.0.1:3000
    url_username: admin
    url_password: "{{ vault_grafana_admin_password }}"
    name: vigil-provisioning
    role: Editor
    token_name: ansible
    token_file: /etc/grafana/provisioning-token

- name: Token returned to the play (hide it)
  vigil.observability.grafana_service_account:
    url: http://127.0.0.1:3000
    url_password: "{{ vault_grafana_admin_password }}"
    name: ci
    role: Viewer
    token_name: ci
    token_seconds_to_live: 86400
    return_token: true
  register: ci_account
  no_log: true

- name: Remove the account and its tokens
  vigil.observability.grafana_service_account:
    url: http://127.0.0.1:3000
    url_password: "{{ vault_grafana_admin_password }}"
    name: ci
    state: absent
"""

RETURN = r"""
service_account:
  description: The service account after the run (empty after a deletion).
  returned: always
  type: dict
  contains:
    id:
      description: Grafana's numeric id of the account (absent when created in check mode).
      type: int
      sample: 2
    name:
      description: The account's name.
      type: str
      sample: vigil-provisioning
    role:
      description: The account's organisation role.
      type: str
      sample: Editor
    disabled:
      description: Whether the account is disabled.
      type: bool
      sample: false
action:
  description: What was done to the account.
  returned: always
  type: str
  choices: [created, updated, unchanged, deleted]
  sample: unchanged
token_action:
  description: What was done to the token.
  returned: when O(token_name) is set
  type: str
  choices: [created, unchanged, deleted]
  sample: created
token:
  description: The key of a token created by this run.
  returned: when a token was created and O(return_token=true)
  type: str
  sample: glsa_...
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vigil.observability.plugins.module_utils.grafana_api import (
    GrafanaAPIError,
    GrafanaClient,
    finish,
    diff_pair,
    grafana_argument_spec,
)


def summary(account):
    if not account:
        return {}
    return {"id": account.get("id"), "name": account.get("name"), "role": account.get("role"),
            "disabled": bool(account.get("isDisabled"))}


def write_token(path, key):
    """Write key to path atomically with mode 0600; raises OSError."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".grafana-token-", dir=directory)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def find(client, name, what):
    page = 1
    while True:
        answer = client.get("/api/serviceaccounts/search", what,
                            query={"query": name, "perpage": 1000, "page": page}) or {}
        accounts = answer.get("serviceAccounts") or []
        for account in accounts:
            if account.get("name") == name:
                return account
        if len(accounts) < 1000:
            return None
        page += 1


def run(module, client):
    p = module.params
    check = module.check_mode
    what = "service account %r" % p["name"]
    result = {}
    current = find(client, p["name"], what)

    def compared(account):
        return {k: v for k, v in summary(account).items() if k != "id"}

    if p["state"] == "absent":
        if current is None:
            return dict(changed=False, action="unchanged", service_account={})
        if not check:
            client.request("DELETE", "/api/serviceaccounts/%s" % current["id"], what, missing_ok=True)
        return dict(changed=True, action="deleted", service_account={}, diff=diff_pair(compared(current), {}))

    want = {"name": p["name"], "role": p["role"], "isDisabled": p["disabled"]}
    before = compared(current)
    if current is None:
        account = dict(want)
        if not check:
            account = client.request("POST", "/api/serviceaccounts", what, payload=want, expected=(200, 201)) or want
        result.update(changed=True, action="created")
    else:
        patch = {k: v for k, v in want.items() if k != "name" and current.get(k) != v}
        account = dict(current, **patch)
        if patch:
            if not check:
                answer = client.request("PATCH", "/api/serviceaccounts/%s" % current["id"], what, payload=patch) or {}
                account = answer.get("serviceaccount") or account
            result.update(changed=True, action="updated")
        else:
            result.update(changed=False, action="unchanged")
    after = compared(account)

    if p["token_name"]:
        token_what = "%s token %r" % (what, p["token_name"])
        tokens = []
        if account.get("id") is not None:
            tokens = client.get("/api/serviceaccounts/%s/tokens" % account["id"], token_what) or []
        existing = next((t for t in tokens if t.get("name") == p["token_name"]), None)
        before["token"] = p["token_name"] if existing else None
        if p["token_state"] == "absent":
            after["token"] = None
            if existing:
                if not check:
                    client.request("DELETE", "/api/serviceaccounts/%s/tokens/%s" % (account["id"], existing["id"]),
                                   token_what, missing_ok=True)
                result.update(changed=True, token_action="deleted")
            else:
                result["token_action"] = "unchanged"
        else:
            after["token"] = p["token_name"]
            if existing:
                if p["token_file"] and not os.path.exists(p["token_file"]):
                    raise GrafanaAPIError(
                        "%s: exists, but token_file %s does not, and Grafana shows a token's key only when it is "
                        "created: delete the token (token_state: absent) and run again to get a new one, or restore "
                        "the file" % (token_what, p["token_file"]))
                result["token_action"] = "unchanged"
            else:
                result.update(changed=True, token_action="created")
                if not check:
                    payload = {"name": p["token_name"]}
                    if p["token_seconds_to_live"]:
                        payload["secondsToLive"] = p["token_seconds_to_live"]
                    answer = client.request("POST", "/api/serviceaccounts/%s/tokens" % account["id"], token_what,
                                            payload=payload) or {}
                    key = answer.get("key")
                    if not key:
                        raise GrafanaAPIError("%s: Grafana's answer holds no key" % token_what)
                    client.secrets.append(key)
                    if p["token_file"]:
                        try:
                            write_token(p["token_file"], key)
                        except OSError as exc:
                            # The key is lost with the failure: say so, and how to recover.
                            raise GrafanaAPIError("%s: created, but writing token_file %s failed: %s; delete the "
                                                  "token (token_state: absent) and run again" % (
                                                      token_what, p["token_file"], exc.strerror or exc))
                    if p["return_token"]:
                        result["token"] = key

    result["service_account"] = summary(account)
    if result["changed"]:
        result["diff"] = diff_pair(before if current is not None else {}, after)
    return result


def main():
    argument_spec = grafana_argument_spec()
    argument_spec.update(
        name=dict(type="str", required=True),
        role=dict(type="str", choices=["Viewer", "Editor", "Admin", "None"], default="Viewer"),
        disabled=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        token_name=dict(type="str", no_log=False),
        token_state=dict(type="str", choices=["present", "absent"], default="present"),
        token_seconds_to_live=dict(type="int", default=0, no_log=False),
        token_file=dict(type="path", no_log=False),
        return_token=dict(type="bool", default=False, no_log=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    finish(module, lambda: run(module, GrafanaClient(module.params, check_mode=module.check_mode)))


if __name__ == "__main__":
    main()
