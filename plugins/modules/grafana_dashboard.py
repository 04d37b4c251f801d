#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vigil.observability contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: grafana_dashboard
short_description: Create, update or delete Grafana dashboards from a dict, a JSON file or a whole directory
version_added: 0.1.0
description:
  - Manages dashboards through Grafana's HTTP API, identified by their uid, in the folder O(folder_uid).
  - The dashboard in Grafana and the desired one are compared after both are normalised (the server-set fields
    C(id), C(version) and C(iteration) and the C(__inputs), C(__requires) and C(__elements) sections of an export
    are ignored), together with the folder. Nothing is written when they match, so a re-run only reads.
  - An update sends the version that was read, with C(overwrite=false); when someone changed the dashboard in between,
    Grafana answers HTTP 412 and the module fails naming the dashboard, unless O(overwrite=true).
  - Dashboards exported for sharing (with C(__inputs) and C(${DS_PROMETHEUS})-style placeholders, as published on
    grafana.com) are mapped onto existing datasources with O(datasources), so community dashboards can be dropped
    into a directory as they are.
  - With O(path) naming a directory, every C(*.json) file in it (not recursive) is provisioned (bulk form) with one
    search request (C(GET /api/search?type=dash-db), paged as Grafana documents it), one read per dashboard that
    already exists and only the writes that are needed. O(prune=true) also deletes the dashboards of O(folder_uid)
    that are not in the directory.
author: vigil.observability maintainers (@vigil-observability)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vigil.observability.grafana
options:
  dashboard:
    description:
      - The dashboard model as a dict, as exported from Grafana (Share, Export, with or without "Export for sharing
        externally"). Exactly one of O(dashboard) and O(path) is needed for O(state=present).
    type: dict
  path:
    description:
      - A dashboard JSON file, or a directory whose C(*.json) files are all provisioned (bulk form).
      - A file may hold the dashboard model itself, or an object with the model under C(dashboard) (the answer of
        C(GET /api/dashboards/uid/<uid>)).
    type: path
  uid:
    description:
      - The dashboard's uid (at most 40 characters); overrides the uid in the JSON. Single form only.
      - Every dashboard needs a uid, in the JSON or here, so that it can be found again on the next run.
      - With O(state=absent) the uid alone is enough.
    type: str
  folder_uid:
    description:
      - The uid of the folder the dashboards belong in (create it with M(vigil.observability.grafana_folder)).
        Empty means the root level (General). A dashboard found in another folder is moved here.
    type: str
    default: ""
  datasources:
    description:
      - For dashboards exported for sharing, the datasource uid to use for each datasource input, keyed by the
        input's name (such as V(DS_PROMETHEUS)) or by its plugin id (such as V(prometheus)); the name wins.
      - Every C(${DS_...}) placeholder then becomes that uid, and a C(datasource) given as the string C(${DS_...})
        becomes an object with the plugin as C(type) and the uid as C(uid). Inputs of type C(constant) get their
        exported value.
      - The module fails, naming the input, when an input has no entry here.
    type: dict
    default: {}
  overwrite:
    description:
      - When V(false), an update fails with a clear message if the dashboard was changed in Grafana after it was
        read (HTTP 412 version-mismatch), or if another dashboard has the same title in the folder (412
        name-exists).
      - When V(true), the dashboard is written regardless and replaces the other one.
    type: bool
    default: false
  commit_message:
    description:
      - The version message stored with each version written (shown in the dashboard's version history).
      - Named as in M(community.grafana.grafana_dashboard); C(message) cannot be an option name, Ansible reserves it.
    type: str
    default: Provisioned by vigil.observability.grafana_dashboard
  state:
    description:
      - V(present) creates or updates; V(absent) deletes the dashboard (the uid of O(uid), O(dashboard) or O(path);
        for a directory, every dashboard of the directory that exists).
    type: str
    choices: [present, absent]
    default: present
  prune:
    description:
      - Bulk form only. Also delete the dashboards in O(folder_uid) whose uid is not in the directory. Needs a
        non-empty O(folder_uid), so that the root level is never pruned.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Only GET requests are sent; the result says what would be created, updated or deleted.
  diff_mode:
    support: full
    details: Before and after of each dashboard that changes (normalised JSON and folder uid).
  platform:
    platforms: posix
seealso:
  - module: vigil.observability.grafana_folder
  - module: vigil.observability.grafana_dashboard_info
  - name: Grafana dashboard HTTP API
    description: The API this module uses.
    link: https://grafana.com/docs/grafana/latest/developers/http_api/dashboard/
"""

EXAMPLES = r"""
- name: Provision every dashboard of a directory into the Vigil folder
  vigil.observability.grafana_dashboard:
    url: http://127.0.0.1:3000
    token: "{{ grafana_api_token }}"
    path: /var/lib/vigil/dashboards
    folder_uid: vigil
    datasources:
      DS_PROMETHEUS: prometheus
    prune: true

- name: Import a dashboard exported for sharing from grafana.com
  vigil.observability.grafana_dashboard:
    url: https://grafana.example.com
    url_username: admin
    url_password: "{{ vault_grafana_admin_password }}"
    ca_path: /etc/ssl/certs/internal-ca.pem
    path: files/dashboards/node-exporter-full.json
    uid: node-exporter-full
    folder_uid: infrastructure
    datasources:
      prometheus: prometheus-main

- name: Write a small dashboard given inline, replacing edits made in the UI
  vigil.observability.grafana_dashboard:
    url: http://127.0.0.1:3000
    token: "{{ grafana_api_token }}"
    overwrite: true
    dashboard:
      uid: vigil-smoke
      title: Smoke test
      panels: []
      schemaVersion: 39

- name: Delete a dashboard
  vigil.observability.grafana_dashboard:
    url: http://127.0.0.1:3000
    token: "{{ grafana_api_token }}"
    uid: vigil-smoke
    state: absent
"""

RETURN = r"""
dashboards:
  description: One entry per dashboard handled, in the order of the files (sorted by name) then the pruned ones.
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
      description: The folder the dashboard is in after the run (empty for the root level).
      type: str
      sample: vigil
    action:
      description: What was done (or, in check mode, would be done).
      type: str
      choices: [created, updated, unchanged, deleted]
      sample: unchanged
    changed_keys:
      description: For V(updated), the top-level keys of the dashboard that differ, plus C(folder_uid) when it moves.
      type: list
      elements: str
      returned: when action is updated
      sample: [panels, folder_uid]
    version:
      description: The version Grafana reports after the write, or the current one when unchanged.
      type: int
      returned: when known (not for deletions, not for writes in check mode)
      sample: 4
    source:
      description: The file the dashboard came from.
      type: str
      returned: when O(path) is used
      sample: /var/lib/vigil/dashboards/node.json
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vigil.observability.plugins.module_utils.grafana_api import (
    GrafanaAPIError,
    GrafanaClient,
    InputsError,
    dashboard_differences,
    dashboard_what,
    diff_pair,
    grafana_argument_spec,
    map_shared_inputs,
    normalize_dashboard,
)


class Failure(Exception):
    pass


def load_file(path):
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise Failure("%s: cannot read: %s" % (path, exc.strerror or exc))
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise Failure("%s: not UTF-8 text: %s" % (path, exc))
    except ValueError as exc:
        raise Failure("%s: not valid JSON: %s" % (path, exc))
    if isinstance(data, dict) and isinstance(data.get("dashboard"), dict) and "panels" not in data:
        data = data["dashboard"]
    if not isinstance(data, dict):
        raise Failure("%s: expected a JSON object (a dashboard model), got %s" % (path, type(data).__name__))
    return data


class Dashboards:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.client = GrafanaClient(module.params, check_mode=module.check_mode)
        self.folder_uid = module.params["folder_uid"] or ""
        self.results = []
        self.diff_before = {}
        self.diff_after = {}

    # --- desired state --------------------------------------------------------

    def desired(self, model, source, uid_override=None):
        """The normalised desired dashboard, with its uid; raises Failure."""
        try:
            model = map_shared_inputs(model, self.params["datasources"], source=source)
        except InputsError as exc:
            raise Failure(str(exc))
        uid = uid_override or model.get("uid")
        if not uid or not isinstance(uid, str):
            raise Failure("%s: the dashboard has no uid: add a \"uid\" to the JSON%s, so that it can be found again on "
                          "the next run" % (source or dashboard_what(None, model.get("title")),
                                            "" if self.params["path"] and os.path.isdir(self.params["path"]) else " or set uid"))
        if len(uid) > 40:
            raise Failure("%s: uid %r is longer than the 40 characters Grafana allows" % (source or dashboard_what(uid), uid))
        if self.params["state"] == "present" and not str(model.get("title") or "").strip():
            raise Failure("%s: the dashboard has no title" % (source or dashboard_what(uid)))
        desired = normalize_dashboard(model)
        desired["uid"] = uid
        return desired

    # --- one dashboard ------------------------------------------------------------

    def reconcile(self, desired, current, source=None):
        """Create or update one dashboard; current is the GET answer or None. Appends to self.results."""
        uid = desired["uid"]
        what = dashboard_what(uid, source=source)
        entry = {"uid": uid, "title": desired.get("title"), "folder_uid": self.folder_uid}
        if source:
            entry["source"] = source
        after = {"folder_uid": self.folder_uid, "dashboard": desired}
        if current is None:
            entry["action"] = "created"
            version = None
            before = None
        else:
            meta = current.get("meta") or {}
            model = current.get("dashboard") or {}
            current_folder = meta.get("folderUid") or ""
            before = {"folder_uid": current_folder, "dashboard": normalize_dashboard(model)}
            version = meta.get("version", model.get("version"))
            changed_keys = dashboard_differences(before["dashboard"], desired)
            if current_folder != self.folder_uid:
                changed_keys.append("folder_uid")
            if not changed_keys:
                entry.update(action="unchanged", version=version)
                self.results.append(entry)
                return
            entry.update(action="updated", changed_keys=changed_keys)
        self.diff_before[uid] = before
        self.diff_after[uid] = after
        if not self.check_mode:
            model = dict(desired)
            if current is not None:
                model["id"] = (current.get("dashboard") or {}).get("id")
                model["version"] = version
            else:
                model["id"] = None
            payload = {"dashboard": model, "folderUid": self.folder_uid, "overwrite": self.params["overwrite"],
                       "message": self.params["commit_message"]}
            try:
                answer = self.client.request("POST", "/api/dashboards/db", what, payload=payload) or {}
            except GrafanaAPIError as exc:
                if exc.status == 400 and self.folder_uid and "folder" in str(exc).lower():
                    raise Failure("%s (does folder_uid %r exist? create it with grafana_folder first)" % (
                        exc, self.folder_uid))
                raise
            entry["version"] = answer.get("version")
        self.results.append(entry)

    def delete(self, uid, title, source=None):
        entry = {"uid": uid, "title": title, "folder_uid": None, "action": "deleted"}
        if source:
            entry["source"] = source
        self.diff_before[uid] = {"uid": uid, "title": title}
        self.diff_after[uid] = None
        if not self.check_mode:
            self.client.request("DELETE", "/api/dashboards/uid/%s" % uid, dashboard_what(uid, source=source),
                                missing_ok=True)
        self.results.append(entry)

    # --- forms ----------------------------------------------------------------------

    def single(self):
        params = self.params
        source = None
        if params["dashboard"] is not None:
            model = params["dashboard"]
        elif params["path"]:
            source = params["path"]
            model = load_file(source)
        else:
            model = {"uid": params["uid"]}
        desired = self.desired(model, source, uid_override=params["uid"])
        uid = desired["uid"]
        current = self.client.get("/api/dashboards/uid/%s" % uid, dashboard_what(uid, source=source), missing_ok=True)
        if params["state"] == "absent":
            if current is None:
                self.results.append({"uid": uid, "title": desired.get("title"), "folder_uid": None,
                                     "action": "unchanged"})
            else:
                self.delete(uid, (current.get("dashboard") or {}).get("title"), source)
            return
        self.reconcile(desired, current, source)

    def bulk(self):
        params = self.params
        directory = params["path"]
        if params["uid"]:
            raise Failure("uid is for a single dashboard; path %s is a directory, whose files carry their own uids"
                          % directory)
        if params["prune"] and not self.folder_uid:
            raise Failure("prune needs folder_uid: pruning the root level (General) could delete dashboards that "
                          "are not ours")
        try:
            names = sorted(n for n in os.listdir(directory) if n.endswith(".json")
                           and os.path.isfile(os.path.join(directory, n)))
        except OSError as exc:
            raise Failure("%s: cannot list the directory: %s" % (directory, exc.strerror or exc))
        desired = []
        by_uid = {}
        by_title = {}
        for name in names:
            source = os.path.join(directory, name)
            item = self.desired(load_file(source), source)
            uid = item["uid"]
            if uid in by_uid:
                raise Failure("%s and %s have the same uid %r; each dashboard needs its own uid" % (
                    by_uid[uid], source, uid))
            by_uid[uid] = source
            title = str(item.get("title") or "").lower()
            if params["state"] == "present" and title in by_title:
                raise Failure("%s and %s have the same title %r; Grafana refuses two dashboards with the same title in "
                              "one folder" % (by_title[title], source, item.get("title")))
            by_title[title] = source
            desired.append((item, source))

        hits = self.client.search("dashboards (search)", type="dash-db")
        existing = {}
        for hit in hits:
            if hit.get("uid"):
                existing[hit["uid"]] = hit

        for item, source in desired:
            uid = item["uid"]
            if params["state"] == "absent":
                if uid in existing:
                    self.delete(uid, existing[uid].get("title"), source)
                else:
                    self.results.append({"uid": uid, "title": item.get("title"), "folder_uid": None,
                                         "action": "unchanged", "source": source})
                continue
            current = None
            if uid in existing:
                current = self.client.get("/api/dashboards/uid/%s" % uid, dashboard_what(uid, source=source),
                                          missing_ok=True)
            self.reconcile(item, current, source)

        if params["prune"] and params["state"] == "present":
            for uid, hit in existing.items():
                if uid not in by_uid and (hit.get("folderUid") or "") == self.folder_uid:
                    self.delete(uid, hit.get("title"))

    def run(self):
        params = self.params
        if params["state"] == "present" and params["dashboard"] is None and not params["path"]:
            raise Failure("state=present needs dashboard or path")
        if params["prune"] and not (params["path"] and os.path.isdir(params["path"])):
            raise Failure("prune is for the bulk form only (path naming a directory)")
        if params["path"] and os.path.isdir(params["path"]):
            self.bulk()
        else:
            if params["path"] and not os.path.exists(params["path"]):
                raise Failure("path %s does not exist" % params["path"])
            self.single()

    def result(self):
        changed = any(r["action"] != "unchanged" for r in self.results)
        result = {"changed": changed, "dashboards": self.results}
        if self.module._diff:
            single = len(self.diff_before) == 1 and not (self.params["path"] and os.path.isdir(self.params["path"]))
            if single:
                uid = next(iter(self.diff_before))
                result["diff"] = diff_pair(self.diff_before[uid], self.diff_after[uid],
                                           "dashboard uid %r in Grafana" % uid, "dashboard uid %r desired" % uid)
            else:
                result["diff"] = diff_pair({k: v for k, v in self.diff_before.items() if v is not None},
                                           {k: v for k, v in self.diff_after.items() if v is not None},
                                           "dashboards in Grafana", "dashboards desired")
        return result


def main():
    argument_spec = grafana_argument_spec()
    argument_spec.update(
        dashboard=dict(type="dict"),
        path=dict(type="path"),
        uid=dict(type="str"),
        folder_uid=dict(type="str", default=""),
        datasources=dict(type="dict", default={}),
        overwrite=dict(type="bool", default=False),
        commit_message=dict(type="str", default="Provisioned by vigil.observability.grafana_dashboard"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        prune=dict(type="bool", default=False),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("dashboard", "path")],
        required_one_of=[("dashboard", "path", "uid")],
        supports_check_mode=True,
    )
    worker = None
    try:
        worker = Dashboards(module)
        worker.run()
    except (GrafanaAPIError, Failure) as exc:
        done = worker.results if worker else []
        # Writes that went through before the failure are changes.
        changed = not module.check_mode and any(r["action"] != "unchanged" for r in done)
        module.fail_json(msg=str(exc), changed=changed, dashboards=done)
    module.exit_json(**worker.result())


if __name__ == "__main__":
    main()
