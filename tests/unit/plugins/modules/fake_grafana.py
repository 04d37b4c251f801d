"""An in-process, stateful fake of Grafana's HTTP API for the module tests and the provisioning benchmark.

It is a stdlib http.server in a thread (HTTP, or HTTPS with a certificate made at test time by make_certificates)
and keeps dashboards, folders, datasources and service accounts in memory. It is not Grafana: it reproduces the
behaviours of Grafana's HTTP API documentation (Grafana 10/11, the legacy /api routes) that our modules rely on:

- Authentication: `Authorization: Bearer <service account token>` or basic auth; a missing or wrong credential gives
  401 {"message": "Unauthorized"} / {"message": "invalid API key"}. Roles Viewer < Editor < Admin; a request the role
  may not make gives 403 {"message": "You'll need additional permissions to perform this action. Permissions needed:
  <action>", "accessErrorId": ..., "title": "Access denied"}. X-Grafana-Org-Id is recorded.
- GET /api/health (no auth): {"database": "ok", "version": ..., "commit": ...}. GET /api/user: the signed-in user.
- Search API, GET /api/search: query (title substring), type dash-db|dash-folder, folderUIDs (repeatable; "general"
  is the root), dashboardUIDs, limit (default 1000, at most 5000; the page size) and page (from 1). Hits are sorted
  by title and carry id, uid, title, uri, url, slug, type, tags, isStarred, folderUid/folderTitle/folderUrl when the
  dashboard is in a folder.
- Dashboard API: GET /api/dashboards/uid/:uid -> {"dashboard": ..., "meta": {"version", "folderUid", ...}} or 404
  {"message": "Dashboard not found"}; POST /api/dashboards/db with {dashboard, folderUid, message, overwrite}: the
  stored JSON is the posted one with id, uid and version set by the server (version starts at 1 and grows by 1 on
  each save); an existing uid with a different version and overwrite false gives 412 {"status": "version-mismatch",
  "message": "The dashboard has been changed by someone else"}; another dashboard with the same title in the same
  folder gives 412 {"status": "name-exists", "message": "A dashboard with the same name in the folder already
  exists"}; an unknown folderUid gives 400; the answer is {"id", "uid", "url", "status": "success", "version",
  "slug"}. DELETE /api/dashboards/uid/:uid -> {"title", "message", "id"}.
- Folder API: GET /api/folders (children of parentUid, paged), GET /api/folders/:uid (with parentUid and parents),
  POST /api/folders {uid, title, parentUid}, PUT /api/folders/:uid {title, version, overwrite} (412 on a version
  mismatch), POST /api/folders/:uid/move {parentUid}, DELETE /api/folders/:uid (deletes the dashboards and
  subfolders in it).
- Data source API: GET /api/datasources, /api/datasources/uid/:uid, /api/datasources/name/:name; POST
  /api/datasources (409 when the name is taken); PUT and DELETE /api/datasources/uid/:uid. Secure values
  (secureJsonData) are stored but never returned: answers carry secureJsonFields {"key": true} instead; an update
  without secureJsonData keeps the stored secure values. GET /api/datasources/uid/:uid/health -> 200 {"status":
  "OK", "message": ...} or 400 {"status": "ERROR", "message": ...} (set health_errors[uid] to fail it).
- Service account API: GET /api/serviceaccounts/search (query, perpage, page) -> {totalCount, serviceAccounts, page,
  perPage}; POST /api/serviceaccounts (201); GET/PATCH/DELETE /api/serviceaccounts/:id; GET/POST
  /api/serviceaccounts/:id/tokens (the key only in the POST answer) and DELETE .../tokens/:tokenId. Created tokens
  authenticate with the service account's role.

Test hooks (not Grafana): requests (the request log: method, path, query, headers of each), count(), mutating(),
delay (seconds before answering), hooks, and POST /__fake__/admin-password that the fake grafana CLI of the
admin-password tests calls.
"""

import base64
import copy
import datetime
import http.server
import ipaddress
import json
import os
import re
import ssl
import threading
import time
import urllib.parse

ROLES = {"None": 0, "Viewer": 1, "Editor": 2, "Admin": 3}
MUTATING = ("POST", "PUT", "PATCH", "DELETE")


class Reply(Exception):
    def __init__(self, status, body):
        super().__init__(status)
        self.status = status
        self.body = body


def forbidden(action):
    return Reply(403, {"accessErrorId": "ACE0123456789", "title": "Access denied",
                       "message": "You'll need additional permissions to perform this action. Permissions needed: %s"
                                  % action})


def slugify(title):
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "dashboard"


class FakeGrafana:
    def __init__(self, admin_password="admin-password-0", tokens=None, sub_path="", tls=None, version="11.3.0"):
        """tokens: {token: role}; sub_path such as "/grafana"; tls: (cert_path, key_path) for HTTPS."""
        self.lock = threading.RLock()
        self.users = {"admin": {"password": admin_password, "role": "Admin", "id": 1}}
        self.tokens = dict(tokens or {})
        self.sub_path = sub_path.rstrip("/")
        self.tls = tls
        self.version = version
        self.requests = []
        self.delay = 0.0
        self.next_id = 100
        self.dashboards = {}   # uid -> {"dashboard": dict, "folderUid": str, "version": int, "id": int}
        self.folders = {}      # uid -> {"id", "uid", "title", "parentUid", "version"}
        self.datasources = {}  # uid -> dict (with the private "_secure")
        self.service_accounts = {}  # id -> dict (with the private "_tokens": [ {id, name, key, ...} ])
        self.health_errors = {}
        # Callables (method, path) run before a request is answered, to change the state behind a module's back.
        self.hooks = []
        self.server = None

    # --- life cycle -------------------------------------------------------------

    def start(self):
        handler = make_handler(self)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self.server.server_address[1]

    def url(self, host="127.0.0.1"):
        return "%s://%s:%d%s" % ("https" if self.tls else "http", host, self.port, self.sub_path)

    # --- request log ----------------------------------------------------------

    def count(self, method=None, prefix=None):
        return len([r for r in self.requests if (method is None or r["method"] == method)
                    and (prefix is None or r["path"].startswith(prefix))])

    def mutating(self):
        return [r for r in self.requests if r["method"] in MUTATING and not r["path"].startswith("/__fake__")]

    def clear_log(self):
        with self.lock:
            self.requests = []

    def new_id(self):
        self.next_id += 1
        return self.next_id

    # --- state helpers for tests --------------------------------------------------

    def put_dashboard(self, dashboard, folder_uid=""):
        """Store a dashboard directly (as if saved through the UI); returns the stored copy."""
        with self.lock:
            uid = dashboard["uid"]
            old = self.dashboards.get(uid)
            version = old["version"] + 1 if old else 1
            did = old["id"] if old else self.new_id()
            stored = dict(copy.deepcopy(dashboard), id=did, uid=uid, version=version)
            self.dashboards[uid] = {"dashboard": stored, "folderUid": folder_uid or "", "version": version, "id": did}
            return stored

    def put_folder(self, uid, title, parent_uid=""):
        with self.lock:
            self.folders[uid] = {"id": self.new_id(), "uid": uid, "title": title, "parentUid": parent_uid or "",
                                 "version": 1}

    def set_password(self, login, password):
        with self.lock:
            self.users[login]["password"] = password

    # --- authentication -----------------------------------------------------------

    def authenticate(self, headers):
        """The role of the caller and its login; raises a 401 Reply."""
        auth = headers.get("Authorization") or ""
        if auth.startswith("Bearer "):
            token = auth[len("Bearer "):]
            if token in self.tokens:
                return self.tokens[token], "sa-token"
            for account in self.service_accounts.values():
                for item in account["_tokens"]:
                    if item["key"] == token:
                        if account["isDisabled"]:
                            raise Reply(401, {"message": "invalid API key"})
                        return account["role"], account["login"]
            raise Reply(401, {"message": "invalid API key"})
        if auth.startswith("Basic "):
            try:
                login, _sep, password = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                raise Reply(401, {"message": "Unauthorized"}) from None
            user = self.users.get(login)
            if user and user["password"] == password:
                return user["role"], login
            raise Reply(401, {"message": "Invalid username or password"})
        raise Reply(401, {"message": "Unauthorized"})

    @staticmethod
    def need(role, minimum, action):
        if ROLES.get(role, 0) < ROLES[minimum]:
            raise forbidden(action)

    # --- routing --------------------------------------------------------------------

    def handle(self, method, raw_path, headers, body):
        parsed = urllib.parse.urlsplit(raw_path)
        path = parsed.path
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        if self.sub_path:
            if not path.startswith(self.sub_path + "/"):
                raise Reply(404, {"message": "Not found"})
            path = path[len(self.sub_path):]
        with self.lock:
            self.requests.append({"method": method, "path": path, "query": query,
                                  "org": headers.get("X-Grafana-Org-Id"), "body": body})
        if self.delay:
            time.sleep(self.delay)
        for hook in list(self.hooks):
            hook(method, path)
        if path == "/__fake__/admin-password" and method == "POST":
            self.set_password("admin", body["password"])
            return 200, {"message": "ok"}
        if path == "/api/health" and method == "GET":
            return 200, {"commit": "fake", "database": "ok", "version": self.version}
        role, login = self.authenticate(headers)
        with self.lock:
            return self.route(method, path.rstrip("/") or "/", query, body, role, login)

    def route(self, method, path, query, body, role, login):
        parts = path.strip("/").split("/")
        if parts[:1] != ["api"] or len(parts) < 2:
            raise Reply(404, {"message": "Not found"})
        area, rest = parts[1], parts[2:]
        if area == "user" and not rest and method == "GET":
            if login == "sa-token" or login.startswith("sa-"):
                raise Reply(404, {"message": "user not found"})
            user = self.users[login]
            return 200, {"id": user["id"], "login": login, "email": "%s@localhost" % login, "name": login,
                         "isGrafanaAdmin": login == "admin", "orgId": 1}
        if area == "search" and not rest and method == "GET":
            self.need(role, "Viewer", "dashboards:read")
            return 200, self.search(query)
        if area == "dashboards":
            return self.route_dashboards(method, rest, body, role)
        if area == "folders":
            return self.route_folders(method, rest, query, body, role)
        if area == "datasources":
            return self.route_datasources(method, rest, body, role)
        if area == "serviceaccounts":
            return self.route_service_accounts(method, rest, query, body, role)
        raise Reply(404, {"message": "Not found"})

    # --- search ---------------------------------------------------------------------

    def search(self, query):
        def first(name, default=""):
            return (query.get(name) or [default])[0]

        try:
            limit = int(first("limit", "1000"))
        except ValueError:
            limit = 1000
        limit = min(max(limit, 1), 5000)
        try:
            page = max(int(first("page", "1")), 1)
        except ValueError:
            page = 1
        kind = first("type")
        text = first("query").lower()
        folder_uids = set(query.get("folderUIDs", []))
        dashboard_uids = set(query.get("dashboardUIDs", []))
        hits = []
        if kind in ("", "dash-folder"):
            for folder in self.folders.values():
                hits.append({"id": folder["id"], "uid": folder["uid"], "title": folder["title"],
                             "uri": "db/" + slugify(folder["title"]),
                             "url": "/dashboards/f/%s/%s" % (folder["uid"], slugify(folder["title"])),
                             "slug": "", "type": "dash-folder", "tags": [], "isStarred": False,
                             "_folder": folder["parentUid"]})
        if kind in ("", "dash-db"):
            for uid, item in self.dashboards.items():
                title = item["dashboard"].get("title", "")
                hit = {"id": item["id"], "uid": uid, "title": title, "uri": "db/" + slugify(title),
                       "url": "/d/%s/%s" % (uid, slugify(title)), "slug": "", "type": "dash-db",
                       "tags": item["dashboard"].get("tags", []), "isStarred": False, "_folder": item["folderUid"]}
                if item["folderUid"]:
                    folder = self.folders[item["folderUid"]]
                    hit.update(folderId=folder["id"], folderUid=folder["uid"], folderTitle=folder["title"],
                               folderUrl="/dashboards/f/%s/%s" % (folder["uid"], slugify(folder["title"])))
                hits.append(hit)
        selected = []
        for hit in hits:
            if text and text not in hit["title"].lower():
                continue
            if folder_uids and (hit["_folder"] or "general") not in folder_uids:
                continue
            if dashboard_uids and hit["uid"] not in dashboard_uids:
                continue
            selected.append({k: v for k, v in hit.items() if k != "_folder"})
        selected.sort(key=lambda h: (h["title"].lower(), h["uid"]))
        return selected[(page - 1) * limit:page * limit]

    # --- dashboards ---------------------------------------------------------------

    def route_dashboards(self, method, rest, body, role):
        if rest == ["db"] and method == "POST":
            self.need(role, "Editor", "dashboards:write")
            return 200, self.save_dashboard(body or {})
        if len(rest) == 2 and rest[0] == "uid":
            uid = rest[1]
            item = self.dashboards.get(uid)
            if method == "GET":
                self.need(role, "Viewer", "dashboards:read")
                if not item:
                    raise Reply(404, {"message": "Dashboard not found", "status": "not-found"})
                folder = self.folders.get(item["folderUid"])
                title = item["dashboard"].get("title", "")
                meta = {"type": "db", "canSave": ROLES[role] >= 2, "canEdit": ROLES[role] >= 2,
                        "canAdmin": role == "Admin", "canStar": True, "canDelete": ROLES[role] >= 2,
                        "slug": slugify(title), "url": "/d/%s/%s" % (uid, slugify(title)), "expires": "0001-01-01T00:00:00Z",
                        "created": "2024-01-01T00:00:00Z", "updated": "2024-01-01T00:00:00Z", "updatedBy": "admin",
                        "createdBy": "admin", "version": item["version"], "hasAcl": False, "isFolder": False,
                        "folderId": folder["id"] if folder else 0, "folderUid": item["folderUid"],
                        "folderTitle": folder["title"] if folder else "General",
                        "folderUrl": "/dashboards/f/%s/" % item["folderUid"] if folder else "",
                        "provisioned": False, "provisionedExternalId": ""}
                return 200, {"dashboard": copy.deepcopy(item["dashboard"]), "meta": meta}
            if method == "DELETE":
                self.need(role, "Editor", "dashboards:delete")
                if not item:
                    raise Reply(404, {"message": "Dashboard not found", "status": "not-found"})
                del self.dashboards[uid]
                title = item["dashboard"].get("title", "")
                return 200, {"title": title, "message": "Dashboard %s deleted" % title, "id": item["id"]}
        raise Reply(404, {"message": "Not found"})

    def save_dashboard(self, body):
        dashboard = body.get("dashboard")
        if not isinstance(dashboard, dict):
            raise Reply(400, {"message": "bad request data"})
        title = (dashboard.get("title") or "").strip()
        if not title:
            raise Reply(400, {"message": "Dashboard title cannot be empty", "status": "empty-name"})
        folder_uid = body.get("folderUid") or ""
        if folder_uid and folder_uid not in self.folders:
            raise Reply(400, {"message": "folder not found", "status": "not-found"})
        overwrite = bool(body.get("overwrite"))
        uid = dashboard.get("uid") or "gen%08d" % self.new_id()
        if len(uid) > 40:
            raise Reply(400, {"message": "uid too long, max 40 characters", "status": "bad-uid"})
        existing = self.dashboards.get(uid)
        if existing and not overwrite and int(dashboard.get("version") or 0) != existing["version"]:
            raise Reply(412, {"message": "The dashboard has been changed by someone else", "status": "version-mismatch"})
        for other_uid, other in list(self.dashboards.items()):
            if other_uid != uid and other["folderUid"] == folder_uid and \
                    other["dashboard"].get("title", "").lower() == title.lower():
                if not overwrite:
                    raise Reply(412, {"message": "A dashboard with the same name in the folder already exists",
                                      "status": "name-exists"})
                del self.dashboards[other_uid]
        version = existing["version"] + 1 if existing else 1
        did = existing["id"] if existing else self.new_id()
        stored = dict(copy.deepcopy(dashboard), id=did, uid=uid, version=version)
        self.dashboards[uid] = {"dashboard": stored, "folderUid": folder_uid, "version": version, "id": did}
        return {"id": did, "uid": uid, "url": "/d/%s/%s" % (uid, slugify(title)), "status": "success",
                "version": version, "slug": slugify(title)}

    # --- folders --------------------------------------------------------------------

    def folder_body(self, folder):
        parents = []
        parent = folder["parentUid"]
        while parent:
            item = self.folders[parent]
            parents.insert(0, self.folder_body(dict(item, parentUid="")) | {"parentUid": item["parentUid"]})
            parent = item["parentUid"]
        body = {"id": folder["id"], "uid": folder["uid"], "orgId": 1, "title": folder["title"],
                "url": "/dashboards/f/%s/%s" % (folder["uid"], slugify(folder["title"])), "hasAcl": False,
                "canSave": True, "canEdit": True, "canAdmin": True, "canDelete": True, "createdBy": "admin",
                "created": "2024-01-01T00:00:00Z", "updatedBy": "admin", "updated": "2024-01-01T00:00:00Z",
                "version": folder["version"]}
        if folder["parentUid"]:
            body["parentUid"] = folder["parentUid"]
            body["parents"] = parents
        return body

    def route_folders(self, method, rest, query, body, role):
        body = body or {}
        if not rest:
            if method == "GET":
                self.need(role, "Viewer", "folders:read")
                parent = (query.get("parentUid") or [""])[0]
                limit = int((query.get("limit") or ["1000"])[0])
                page = int((query.get("page") or ["1"])[0])
                items = sorted((f for f in self.folders.values() if f["parentUid"] == parent), key=lambda f: f["title"])
                return 200, [{"id": f["id"], "uid": f["uid"], "title": f["title"]}
                             for f in items[(page - 1) * limit:page * limit]]
            if method == "POST":
                self.need(role, "Editor", "folders:create")
                uid = body.get("uid") or "f%08d" % self.new_id()
                title = (body.get("title") or "").strip()
                if not title:
                    raise Reply(400, {"message": "folder title cannot be empty"})
                if uid in self.folders:
                    raise Reply(409, {"message": "a folder with the same uid already exists"})
                parent = body.get("parentUid") or ""
                if parent and parent not in self.folders:
                    raise Reply(404, {"message": "folder not found"})
                if any(f["parentUid"] == parent and f["title"].lower() == title.lower() for f in self.folders.values()):
                    raise Reply(409, {"message": "a folder with the same name already exists in the current location"})
                self.folders[uid] = {"id": self.new_id(), "uid": uid, "title": title, "parentUid": parent, "version": 1}
                return 200, self.folder_body(self.folders[uid])
        uid = rest[0]
        folder = self.folders.get(uid)
        if folder is None:
            self.need(role, "Viewer", "folders:read")
            raise Reply(404, {"message": "folder not found", "status": "not-found"})
        if len(rest) == 1:
            if method == "GET":
                self.need(role, "Viewer", "folders:read")
                return 200, self.folder_body(folder)
            if method == "PUT":
                self.need(role, "Editor", "folders:write")
                if not body.get("overwrite") and int(body.get("version") or 0) != folder["version"]:
                    raise Reply(412, {"message": "the folder has been changed by someone else",
                                      "status": "version-mismatch"})
                if body.get("title"):
                    folder["title"] = body["title"]
                folder["version"] += 1
                return 200, self.folder_body(folder)
            if method == "DELETE":
                self.need(role, "Editor", "folders:delete")
                doomed = {uid}
                grew = True
                while grew:
                    more = {f["uid"] for f in self.folders.values() if f["parentUid"] in doomed} - doomed
                    grew = bool(more)
                    doomed |= more
                for d_uid in [d for d, item in self.dashboards.items() if item["folderUid"] in doomed]:
                    del self.dashboards[d_uid]
                for f_uid in doomed:
                    del self.folders[f_uid]
                return 200, {"message": "Folder deleted", "id": folder["id"], "title": folder["title"]}
        if rest[1:] == ["move"] and method == "POST":
            self.need(role, "Editor", "folders:write")
            parent = body.get("parentUid") or ""
            if parent and parent not in self.folders:
                raise Reply(404, {"message": "folder not found"})
            walk = parent
            while walk:
                if walk == uid:
                    raise Reply(400, {"message": "cannot move a folder into one of its own subfolders"})
                walk = self.folders[walk]["parentUid"]
            folder["parentUid"] = parent
            folder["version"] += 1
            return 200, self.folder_body(folder)
        raise Reply(404, {"message": "Not found"})

    # --- datasources ----------------------------------------------------------------

    @staticmethod
    def datasource_body(ds):
        body = {k: copy.deepcopy(v) for k, v in ds.items() if not k.startswith("_")}
        body["secureJsonFields"] = {key: True for key in ds["_secure"]}
        return body

    def route_datasources(self, method, rest, body, role):
        self.need(role, "Admin", "datasources:read" if method == "GET" else "datasources:write")
        body = body or {}
        if not rest:
            if method == "GET":
                return 200, [self.datasource_body(ds) for ds in self.datasources.values()]
            if method == "POST":
                name = body.get("name")
                if not name or not body.get("type"):
                    raise Reply(400, {"message": "Validation error, need to specify name and type"})
                if any(ds["name"] == name for ds in self.datasources.values()):
                    raise Reply(409, {"message": "data source with the same name already exists"})
                uid = body.get("uid") or "ds%06d" % self.new_id()
                if uid in self.datasources:
                    raise Reply(409, {"message": "data source with the same uid already exists"})
                ds = self.store_datasource(uid, body, {}, None)
                return 200, {"datasource": self.datasource_body(ds), "id": ds["id"], "message": "Datasource added",
                             "name": name}
        if len(rest) >= 2 and rest[0] == "name" and method == "GET":
            name = urllib.parse.unquote(rest[1])
            for ds in self.datasources.values():
                if ds["name"] == name:
                    return 200, self.datasource_body(ds)
            raise Reply(404, {"message": "Data source not found"})
        if len(rest) >= 2 and rest[0] == "uid":
            uid = rest[1]
            ds = self.datasources.get(uid)
            if ds is None:
                raise Reply(404, {"message": "Data source not found"})
            if rest[2:] == ["health"] and method == "GET":
                if uid in self.health_errors:
                    raise Reply(400, {"status": "ERROR", "message": self.health_errors[uid]})
                return 200, {"status": "OK", "message": "Successfully queried the %s API." % ds["type"]}
            if rest[2:]:
                raise Reply(404, {"message": "Not found"})
            if method == "GET":
                return 200, self.datasource_body(ds)
            if method == "PUT":
                if not body.get("name") or not body.get("type"):
                    raise Reply(400, {"message": "Validation error, need to specify name and type"})
                if any(o["name"] == body["name"] and o["uid"] != uid for o in self.datasources.values()):
                    raise Reply(409, {"message": "data source with the same name already exists"})
                ds = self.store_datasource(uid, body, ds["_secure"], ds)
                return 200, {"datasource": self.datasource_body(ds), "id": ds["id"], "message": "Datasource updated",
                             "name": ds["name"]}
            if method == "DELETE":
                del self.datasources[uid]
                return 200, {"message": "Data source deleted", "id": ds["id"]}
        raise Reply(404, {"message": "Not found"})

    def store_datasource(self, uid, body, secure, old):
        secure = dict(secure)
        secure.update(body.get("secureJsonData") or {})
        if body.get("isDefault"):
            for other in self.datasources.values():
                other["isDefault"] = False
        ds = {"id": old["id"] if old else self.new_id(), "uid": uid, "orgId": 1, "name": body["name"],
              "type": body["type"], "typeName": body["type"].title(), "typeLogoUrl": "public/img/x.svg",
              "access": body.get("access") or "proxy", "url": body.get("url") or "", "user": body.get("user") or "",
              "database": body.get("database") or "", "basicAuth": bool(body.get("basicAuth")),
              "basicAuthUser": body.get("basicAuthUser") or "", "withCredentials": bool(body.get("withCredentials")),
              "isDefault": bool(body.get("isDefault")), "jsonData": copy.deepcopy(body.get("jsonData") or {}),
              "version": (old["version"] + 1) if old else 1, "readOnly": False, "_secure": secure}
        self.datasources[uid] = ds
        return ds

    # --- service accounts -----------------------------------------------------------

    @staticmethod
    def account_body(account):
        body = {k: v for k, v in account.items() if not k.startswith("_")}
        body["tokens"] = len(account["_tokens"])
        return body

    def route_service_accounts(self, method, rest, query, body, role):
        self.need(role, "Admin", "serviceaccounts:read" if method == "GET" else "serviceaccounts:write")
        body = body or {}
        if rest == ["search"] and method == "GET":
            text = (query.get("query") or [""])[0].lower()
            perpage = int((query.get("perpage") or ["1000"])[0])
            page = int((query.get("page") or ["1"])[0])
            found = sorted((a for a in self.service_accounts.values() if text in a["name"].lower()),
                           key=lambda a: a["name"])
            return 200, {"totalCount": len(found), "page": page, "perPage": perpage,
                         "serviceAccounts": [self.account_body(a) for a in found[(page - 1) * perpage:page * perpage]]}
        if not rest and method == "POST":
            name = (body.get("name") or "").strip()
            if not name:
                raise Reply(400, {"message": "Required service account name"})
            if any(a["name"] == name for a in self.service_accounts.values()):
                raise Reply(400, {"message": "service account already exists", "messageId": "serviceaccounts.ErrAlreadyExists"})
            sid = self.new_id()
            self.service_accounts[sid] = {"id": sid, "uid": "sa%06d" % sid, "name": name, "login": "sa-1-" + slugify(name),
                                          "orgId": 1, "isDisabled": bool(body.get("isDisabled")),
                                          "role": body.get("role") or "Viewer", "avatarUrl": "/avatar/x",
                                          "_tokens": []}
            return 201, self.account_body(self.service_accounts[sid])
        try:
            sid = int(rest[0])
        except (ValueError, IndexError):
            raise Reply(404, {"message": "Not found"}) from None
        account = self.service_accounts.get(sid)
        if account is None:
            raise Reply(404, {"message": "service account not found"})
        if len(rest) == 1:
            if method == "GET":
                return 200, self.account_body(account)
            if method == "PATCH":
                for key in ("name", "role", "isDisabled"):
                    if key in body and body[key] is not None:
                        account[key] = body[key]
                return 200, {"id": sid, "name": account["name"], "message": "Service account updated",
                             "serviceaccount": self.account_body(account)}
            if method == "DELETE":
                del self.service_accounts[sid]
                return 200, {"message": "Service account deleted"}
        if rest[1:2] == ["tokens"]:
            if len(rest) == 2 and method == "GET":
                return 200, [{k: v for k, v in t.items() if k != "key"} for t in account["_tokens"]]
            if len(rest) == 2 and method == "POST":
                name = body.get("name") or ""
                if any(t["name"] == name for t in account["_tokens"]):
                    raise Reply(409, {"message": "service account token with given name already exists in the organization"})
                tid = self.new_id()
                ttl = body.get("secondsToLive") or 0
                now = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
                key = "glsa_fake%s_%08x" % (tid, abs(hash((name, tid))) & 0xffffffff)
                account["_tokens"].append({"id": tid, "name": name, "key": key, "created": now.isoformat(),
                                           "lastUsedAt": None, "hasExpired": False,
                                           "expiration": (now + datetime.timedelta(seconds=ttl)).isoformat() if ttl else None,
                                           "secondsUntilExpiration": ttl or None})
                return 200, {"id": tid, "name": name, "key": key}
            if len(rest) == 3 and method == "DELETE":
                tid = int(rest[2])
                before = len(account["_tokens"])
                account["_tokens"] = [t for t in account["_tokens"] if t["id"] != tid]
                if len(account["_tokens"]) == before:
                    raise Reply(404, {"message": "service account token not found"})
                return 200, {"message": "Service account token deleted"}
        raise Reply(404, {"message": "Not found"})


def make_handler(fake):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                status, reply = 400, {"message": "bad request data"}
            else:
                try:
                    status, reply = fake.handle(self.command, self.path, self.headers, body)
                except Reply as exc:
                    status, reply = exc.status, exc.body
            data = json.dumps(reply).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer  # noqa: N815 (http.server's names)

        def log_message(self, *args):
            pass

    return Handler


def make_certificates(directory, names=("localhost", "127.0.0.1")):
    """A CA and a server certificate for names, signed by it; returns (ca_path, cert_path, key_path)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vigil test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    alt = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = tuple(os.path.join(directory, n) for n in ("ca.crt", "server.crt", "server.key"))
    with open(paths[0], "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths[1], "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths[2], "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return paths
