#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vigil.observability contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: grafana_dashboard_info
short_description: Read Grafana dashboards back, by uid, by folder or all, as normalised JSON
version_added: 0.1.0
description:
  - Reads one dashboard by O(uid), the dashboards of the folder O(folder_uid), or every dashboard the credentials can
    see, through Grafana's search and dashboard HTTP APIs. Never changes anything.
  - The JSON is normalised the way M(vigil.observability.grafana_dashboard) compares it (without C(id), C(version)
    and C(iteration)), so it can be saved as a file and provisioned again unchanged.
author: vigil.observability maintainers (@vigil-observability)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vigil.observability.grafana
options:
  uid:
    description: Read this dashboard only. An unknown uid gives an empty list.
    type: str
  folder_uid:
    description: Read the dashboards directly in this folder. V(general) is the root level.
    type: str
  include_json:
    description:
      - Read each dashboard's JSON (one request per dashboard). When V(false), only the search (one request per
        5,000 dashboards) is made and RV(dashboards[].dashboard) is absent.
    type: bool
    default: true
  normalized:
    description: Drop the server-set fields (C(id), C(version), C(iteration)) from the JSON.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    details: The module only reads, in check mode too.
  diff_mode:
    support: none
  platform:
    platforms: posix
seealso:
  - module: vigil.observability.grafana_dashboard
"""

EXAMPLES = r"""
- name: Read the dashboards of the Vigil folder
  vigil.observability.grafana_dashboard_info:
    url: http://127.0.0.1:3000
    token: "{{ grafana_api_token }}"
    folder_uid: vigil
  register: vigil_dashboards

- name: Save one dashboard as a file to provision later
  ansible.builtin.copy:
    content: "{{ vigil_dashboards.dashboards[0].dashboard | to_nice_json }}"
    dest: files/dashboards/node.json
    mode: "0644"
  delegate_to: localhost
"""

RETURN = r"""
dashboards:
  description: The dashboards found, sorted by title.
  returned: always
  type: list
  elements: dict
  contains:
    uid:
      description: The dashboard's uid.
      type: str
      sample: vigil-node
    title:
      description: The dashboard's title.
      type: str
      sample: Node
    folder_uid:
      description: The folder's uid, empty at the root level.
      type: str
      sample: vigil
    url:
      description: The dashboard's path in the Grafana UI.
      type: str
      sample: /d/vigil-node/node
    version:
      description: The dashboard's version in Grafana.
      type: int
      returned: when O(include_json=true)
      sample: 3
    dashboard:
      description: The dashboard JSON.
      type: dict
      returned: when O(include_json=true)
"""

import urllib.parse

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vigil.observability.plugins.module_utils.grafana_api import (
    GrafanaAPIError,
    GrafanaClient,
    dashboard_what,
    grafana_argument_spec,
    normalize_dashboard,
)


def entry_from(answer, normalized):
    model = answer.get("dashboard") or {}
    meta = answer.get("meta") or {}
    return {"uid": model.get("uid"), "title": model.get("title"), "folder_uid": meta.get("folderUid") or "",
            "url": meta.get("url"), "version": meta.get("version", model.get("version")),
            "dashboard": normalize_dashboard(model) if normalized else model}


def run(module, client):
    p = module.params
    if p["uid"]:
        answer = client.get("/api/dashboards/uid/%s" % urllib.parse.quote(p["uid"], safe=""), dashboard_what(p["uid"]),
                            missing_ok=True)
        if answer is None:
            return []
        item = entry_from(answer, p["normalized"])
        if p["folder_uid"] and item["folder_uid"] != ("" if p["folder_uid"] == "general" else p["folder_uid"]):
            return []
        if not p["include_json"]:
            item.pop("dashboard")
            item.pop("version")
        return [item]
    query = {"type": "dash-db"}
    what = "dashboards"
    if p["folder_uid"]:
        query["folderUIDs"] = p["folder_uid"]
        what = "dashboards of folder uid %r" % p["folder_uid"]
    hits = client.search(what, **query)
    result = []
    for hit in sorted(hits, key=lambda h: (str(h.get("title")).lower(), h.get("uid"))):
        if not p["include_json"]:
            result.append({"uid": hit.get("uid"), "title": hit.get("title"), "folder_uid": hit.get("folderUid") or "",
                           "url": hit.get("url")})
            continue
        answer = client.get("/api/dashboards/uid/%s" % urllib.parse.quote(hit["uid"], safe=""),
                            dashboard_what(hit["uid"]), missing_ok=True)
        if answer is not None:  # deleted between the search and the read
            result.append(entry_from(answer, p["normalized"]))
    return result


def main():
    argument_spec = grafana_argument_spec()
    argument_spec.update(
        uid=dict(type="str"),
        folder_uid=dict(type="str"),
        include_json=dict(type="bool", default=True),
        normalized=dict(type="bool", default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        dashboards = run(module, GrafanaClient(module.params, check_mode=True))
    except GrafanaAPIError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, dashboards=dashboards)


if __name__ == "__main__":
    main()
