#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vigil.observability contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: grafana_admin_password
short_description: Make Grafana's admin password the given one, also on an existing installation
version_added: 0.1.0
description:
  - Grafana applies C([security] admin_password) of C(grafana.ini) only when it creates its database, so changing it
    later has no effect. This module makes the password take effect on an existing installation.
  - It first logs in (C(GET /api/user) with basic auth O(url_username):O(password)). When that works, nothing else
    happens (C(changed=false)).
  - When Grafana answers 401, it runs C(<grafana_cli> cli --homepath <homepath> --config <config> admin
    reset-admin-password --password-from-stdin) once, with the password on standard input (never on the command
    line, so it is not visible in the process list), then logs in again to prove the new password works.
  - Runs on the Grafana host itself. The command must run as the user that owns Grafana's database (usually
    C(grafana)); use O(run_as) when the task runs as root, or C(become_user).
author: vigil.observability maintainers (@vigil-observability)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  url:
    description: Base URL of the local Grafana, including any sub-path.
    type: str
    default: http://127.0.0.1:3000
  url_username:
    description: The admin user's login.
    type: str
    default: admin
  password:
    description: The password the admin user must have. Never shown in the output.
    type: str
    required: true
  validate_certs:
    description: Verify the TLS certificate of an C(https) O(url).
    type: bool
    default: true
  ca_path:
    description: CA bundle to verify the certificate of an C(https) O(url) with.
    type: path
  timeout:
    description: Seconds to wait for each HTTP request.
    type: int
    default: 10
  grafana_cli:
    description:
      - The C(grafana) server binary (name on the PATH or absolute path); the module runs its C(cli) subcommand.
    type: str
    default: grafana
  homepath:
    description: Grafana's home directory (C(--homepath)).
    type: path
    default: /usr/share/grafana
  config:
    description: Grafana's configuration file (C(--config)), which names the database to change.
    type: path
    default: /etc/grafana/grafana.ini
  run_as:
    description:
      - Run the reset command as this user with C(runuser -u <user> --) (the module must run as root then). Empty runs
        it as the user the module runs as.
    type: str
    default: ""
attributes:
  check_mode:
    support: full
    details: The login is tried; when it fails the result is C(changed=true) and nothing is run.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Only the admin user of the database named in O(config) is changed. With an external database (HA pairs), run the
    module on one host only (C(run_once)).
seealso:
  - name: Grafana CLI
    description: C(grafana cli admin reset-admin-password).
    link: https://grafana.com/docs/grafana/latest/cli/
"""

EXAMPLES = r"""
- name: Make the admin password from the vault take effect
  vigil.observability.grafana_admin_password:
    url: http://127.0.0.1:3000
    password: "{{ vault_grafana_admin_password }}"
    run_as: grafana
  no_log: true
"""

RETURN = r"""
reset:
  description: Whether the reset command was run (false when the login worked, and in check mode).
  returned: always
  type: bool
  sample: false
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vigil.observability.plugins.module_utils.grafana_api import GrafanaAPIError, GrafanaClient


def login_works(client):
    """True on 200 from /api/user, False on 401; raises GrafanaAPIError otherwise."""
    try:
        client.get("/api/user", "admin login %r" % client.username)
    except GrafanaAPIError as exc:
        if exc.status == 401:
            return False
        raise
    return True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", default="http://127.0.0.1:3000"),
            url_username=dict(type="str", default="admin"),
            password=dict(type="str", required=True, no_log=True),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            timeout=dict(type="int", default=10),
            grafana_cli=dict(type="str", default="grafana"),
            homepath=dict(type="path", default="/usr/share/grafana"),
            config=dict(type="path", default="/etc/grafana/grafana.ini"),
            run_as=dict(type="str", default=""),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not p["password"]:
        module.fail_json(msg="password is empty")
    try:
        client = GrafanaClient(dict(url=p["url"], token=None, url_username=p["url_username"], url_password=p["password"],
                                    validate_certs=p["validate_certs"], ca_path=p["ca_path"], timeout=p["timeout"],
                                    org_id=None))
        if login_works(client):
            module.exit_json(changed=False, reset=False)
        if module.check_mode:
            module.exit_json(changed=True, reset=False,
                             msg="the login as %r failed; the password would be reset" % p["url_username"])

        if os.path.sep in p["grafana_cli"]:
            binary = p["grafana_cli"]
            if not os.access(binary, os.X_OK):
                module.fail_json(msg="grafana_cli %s is not an executable file" % binary, reset=False)
        else:
            binary = module.get_bin_path(p["grafana_cli"], required=False)
            if not binary:
                module.fail_json(msg="grafana_cli %r is not on the PATH; set grafana_cli to the grafana binary"
                                     % p["grafana_cli"], reset=False)
        cmd = [binary, "cli", "--homepath", p["homepath"], "--config", p["config"],
               "admin", "reset-admin-password", "--password-from-stdin"]
        if p["url_username"] != "admin":
            module.warn("grafana cli resets the password of the server admin created at installation; url_username is "
                        "%r" % p["url_username"])
        if p["run_as"]:
            runuser = module.get_bin_path("runuser", required=False)
            if not runuser:
                module.fail_json(msg="run_as needs runuser (util-linux), which is not on the PATH", reset=False)
            cmd = [runuser, "-u", p["run_as"], "--"] + cmd
        rc, out, err = module.run_command(cmd, data=p["password"], binary_data=False)
        if rc != 0:
            text = client.scrub((err or out or "").strip())[-2000:]
            module.fail_json(msg="the login as %r at %s failed and `%s` failed (rc %d): %s" % (
                p["url_username"], client.base, " ".join(cmd), rc, text or "(no output)"), changed=False, reset=False)
        if not login_works(client):
            module.fail_json(msg="`%s` succeeded, but the login as %r at %s still fails: does --config %s name the "
                                 "database this Grafana uses, and is basic auth enabled?" % (
                                     " ".join(cmd), p["url_username"], client.base, p["config"]),
                             changed=True, reset=True)
    except GrafanaAPIError as exc:
        module.fail_json(msg=str(exc), reset=False)
    module.exit_json(changed=True, reset=True)


if __name__ == "__main__":
    main()
