#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vigil.observability contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: grafana_folder
short_description: Create, rename, move or delete a Grafana folder, nested folders included
version_added: 0.1.0
description:
  - Manages one dashboard folder through Grafana's folder HTTP API, identified by its uid.
  - Nested folders (Grafana 10 and later with the C(nestedFolders) feature, on by default from Grafana 11) are
    created under O(parent_uid); a folder found under another parent is moved with C(POST /api/folders/<uid>/move).
  - A title that differs is changed with C(PUT /api/folders/<uid>), sending the version that was read.
author: vigil.observability maintainers (@vigil-observability)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vigil.observability.grafana
options:
  uid:
    description: The folder's uid (at most 40 characters, letters, digits, C(-) and C(_)).
    type: str
    required: true
  title:
    description:
      - The folder's title, required to create it. When not set, the title of an existing folder is left alone.
    type: str
  parent_uid:
    description:
      - The uid of the parent folder. Empty means the root level. The parent must exist (create it first, in a
        task before this one).
    type: str
    default: ""
  state:
    description:
      - V(present) creates, renames or moves the folder. V(absent) deletes it.
      - Deleting a folder deletes the dashboards and the folders in it too (Grafana does that); Grafana refuses
        when alert rules are stored in it.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Only GET requests are sent.
  diff_mode:
    support: full
    details: Before and after of uid, title and parent_uid.
  platform:
    platforms: posix
seealso:
  - module: vigil.observability.grafana_dashboard
  - name: Grafana folder HTTP API
    description: The API this module uses.
    link: https://grafana.com/docs/grafana/latest/developers/http_api/folder/
"""

EXAMPLES = r"""
- name: Create the Vigil folder
  vigil.observability.grafana_folder:
    url: http://127.0.0.1:3000
    token: "{{ grafana_api_token }}"
    uid: vigil
    title: Vigil

- name: Create a nested folder under it
  vigil.observability.grafana_folder:
    url: http://127.0.0.1:3000
    token: "{{ grafana_api_token }}"
    uid: vigil-databases
    title: Databases
    parent_uid: vigil

- name: Delete a folder and the dashboards in it
  vigil.observability.grafana_folder:
    url: http://127.0.0.1:3000
    token: "{{ grafana_api_token }}"
    uid: old-team
    state: absent
"""

RETURN = r"""
folder:
  description: The folder after the run (in check mode, as it would be). Empty after a deletion.
  returned: always
  type: dict
  contains:
    uid:
      description: The folder's uid.
      type: str
      sample: vigil
    title:
      description: The folder's title.
      type: str
      sample: Vigil
    parent_uid:
      description: The uid of the parent folder; empty at the root level.
      type: str
      sample: ""
    id:
      description: Grafana's numeric id of the folder (absent for a folder created in check mode).
      type: int
      sample: 12
    url:
      description: The folder's path in the Grafana UI.
      type: str
      sample: /dashboards/f/vigil/vigil
  sample: {uid: vigil, title: Vigil, parent_uid: "", id: 12, url: /dashboards/f/vigil/vigil}
action:
  description: What was done (or, in check mode, would be done).
  returned: always
  type: str
  choices: [created, updated, moved, unchanged, deleted]
  sample: unchanged
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vigil.observability.plugins.module_utils.grafana_api import (
    GrafanaAPIError,
    GrafanaClient,
    finish,
    diff_pair,
    grafana_argument_spec,
)


def summary(folder):
    if not folder:
        return {}
    result = {"uid": folder.get("uid"), "title": folder.get("title"), "parent_uid": folder.get("parentUid") or ""}
    for key in ("id", "url"):
        if folder.get(key) is not None:
            result[key] = folder[key]
    return result


def run(module, client):
    params = module.params
    uid, title, parent = params["uid"], params["title"], params["parent_uid"] or ""
    what = "folder uid %r" % uid
    current = client.get("/api/folders/%s" % uid, what, missing_ok=True)
    before = summary(current)

    def compared(folder):
        return {k: folder.get(k) for k in ("uid", "title", "parent_uid")} if folder else {}

    if params["state"] == "absent":
        if current is None:
            return dict(changed=False, action="unchanged", folder={})
        if not module.check_mode:
            client.request("DELETE", "/api/folders/%s" % uid, what, missing_ok=True)
        return dict(changed=True, action="deleted", folder={}, diff=diff_pair(compared(before), {}))

    if parent == uid:
        raise GrafanaAPIError("%s: parent_uid is the folder itself" % what)
    if parent and (current is None or (current.get("parentUid") or "") != parent):
        if client.get("/api/folders/%s" % parent, "parent folder uid %r" % parent, missing_ok=True) is None:
            raise GrafanaAPIError("%s: parent folder uid %r does not exist in Grafana; create it first" % (what, parent))

    if current is None:
        if not title:
            raise GrafanaAPIError("%s: does not exist, and title is needed to create it" % what)
        after = {"uid": uid, "title": title, "parent_uid": parent}
        if not module.check_mode:
            payload = {"uid": uid, "title": title}
            if parent:
                payload["parentUid"] = parent
            after = summary(client.request("POST", "/api/folders", what, payload=payload))
        return dict(changed=True, action="created", folder=after, diff=diff_pair({}, compared(after)))

    actions = []
    after = dict(before)
    if title and title != current.get("title"):
        actions.append("updated")
        after["title"] = title
        if not module.check_mode:
            answer = client.request("PUT", "/api/folders/%s" % uid, what,
                                    payload={"title": title, "version": current.get("version"), "overwrite": False})
            after.update({k: v for k, v in summary(answer).items() if k != "parent_uid"})
    if (current.get("parentUid") or "") != parent:
        actions.append("moved")
        after["parent_uid"] = parent
        if not module.check_mode:
            client.request("POST", "/api/folders/%s/move" % uid, what, payload={"parentUid": parent})
    if not actions:
        return dict(changed=False, action="unchanged", folder=before)
    return dict(changed=True, action=actions[0], folder=after, diff=diff_pair(compared(before), compared(after)))


def main():
    argument_spec = grafana_argument_spec()
    argument_spec.update(
        uid=dict(type="str", required=True),
        title=dict(type="str"),
        parent_uid=dict(type="str", default=""),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    finish(module, lambda: run(module, GrafanaClient(module.params, check_mode=module.check_mode)))


if __name__ == "__main__":
    main()
