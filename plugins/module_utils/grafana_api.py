# -*- coding: utf-8 -*-
# Copyright: vigil.observability contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one Grafana HTTP API client of the collection's modules, plus the helpers they share.

- GrafanaClient: JSON requests over ansible.module_utils.urls (Request, one TLS context) with token or basic auth, TLS verification
  (ca_path), a timeout and the organisation header. Every failure becomes a GrafanaAPIError whose text names the URL
  (user information stripped), the object and the HTTP status, and never contains the token, the password or the
  Authorization header. In check mode the client refuses to send anything but GET.
- normalize_dashboard / dashboard_uid / map_shared_inputs: the dashboard comparison and the `__inputs` /
  `${DS_...}` mapping of dashboards exported for sharing.
- diff helpers.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import http.client
import json
import socket
import ssl
import urllib.error
import urllib.parse

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import Request, SSLValidationError, make_context

MUTATING = ("POST", "PUT", "PATCH", "DELETE")
# Hits per search page: the largest limit Grafana's search API accepts.
SEARCH_PAGE_SIZE = 5000
MASK = "********"

# Fields Grafana sets on a dashboard it stores, and sections of an export for sharing that only the importer reads.
DASHBOARD_SERVER_FIELDS = ("id", "version", "iteration")
DASHBOARD_EXPORT_FIELDS = ("__inputs", "__requires", "__elements")

# Roles usually needed for a 403, by the first segment of the API path.
ROLE_HINTS = {
    "dashboards": "the Editor role (or dashboards:write in the target folder) to write, Viewer to read",
    "search": "at least the Viewer role",
    "folders": "the Editor role (or folders:create / folders:write) to write, Viewer to read",
    "datasources": "the Admin role of the organisation (datasources:write / datasources:read)",
    "serviceaccounts": "the Admin role of the organisation (serviceaccounts:write / serviceaccounts:read)",
    "user": "a valid user",
}


def grafana_argument_spec():
    """The connection options of every Grafana API module (see the doc fragment vigil.observability.grafana)."""
    return dict(
        url=dict(type="str", required=True, fallback=(env_fallback, ["GRAFANA_URL"])),
        token=dict(type="str", no_log=True, fallback=(env_fallback, ["GRAFANA_TOKEN"])),
        url_username=dict(type="str", default="admin", fallback=(env_fallback, ["GRAFANA_USER"])),
        url_password=dict(type="str", no_log=True, fallback=(env_fallback, ["GRAFANA_PASSWORD"])),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        timeout=dict(type="int", default=10),
        org_id=dict(type="int"),
    )


class GrafanaAPIError(Exception):
    """A failed request. str() is the full message; status is the HTTP status (None without an answer)."""

    def __init__(self, msg, status=None, grafana_status=None, body=None):
        super(GrafanaAPIError, self).__init__(msg)
        self.msg = msg
        self.status = status
        # Grafana's own "status" field of an error body, for example "version-mismatch" or "name-exists".
        self.grafana_status = grafana_status
        self.body = body


def strip_userinfo(url):
    """The URL without user:password@ (for messages), and the (user, password) it carried or (None, None)."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url, (None, None)
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, _sep, password = userinfo.partition(":")
    clean = urllib.parse.urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return clean, (urllib.parse.unquote(user) or None, urllib.parse.unquote(password) if _sep else None)


def _reason(exc):
    """The innermost reason of a urllib error."""
    while isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        if not isinstance(exc.reason, BaseException):
            return exc
        exc = exc.reason
    return exc


class GrafanaClient:
    def __init__(self, params, check_mode=False):
        url = params["url"]
        if not url:
            raise GrafanaAPIError("url is empty: set url (or the GRAFANA_URL environment variable) to Grafana's base URL")
        self.base, (url_user, url_pass) = strip_userinfo(url.rstrip("/"))
        scheme = urllib.parse.urlsplit(self.base).scheme
        if scheme not in ("http", "https"):
            raise GrafanaAPIError("url %s: expected an http:// or https:// URL of Grafana" % self.base)
        self.token = params.get("token") or None
        self.username = params.get("url_username") or "admin"
        self.password = params.get("url_password")
        if not self.password and url_pass:
            self.username, self.password = url_user or self.username, url_pass
        if not self.token and not self.password:
            raise GrafanaAPIError("%s: no credentials: set token (a service account token, or GRAFANA_TOKEN) or "
                                  "url_password (basic auth, or GRAFANA_PASSWORD)" % self.base)
        self.validate_certs = params.get("validate_certs", True)
        self.ca_path = params.get("ca_path") or None
        self.timeout = params.get("timeout") or 10
        self.org_id = params.get("org_id")
        self.check_mode = check_mode
        self.secrets = [s for s in (self.token, self.password) if s]
        for secret in list(self.secrets):
            # The forms a secret could take in a header or URL.
            self.secrets.append(urllib.parse.quote(secret, safe=""))
            self.secrets.append(base64.b64encode(("%s:%s" % (self.username, secret)).encode()).decode())
        self.requests = 0
        self._context = None

    def tls_context(self):
        """One TLS context for all requests: ansible's urls would load the system's CA store for every request."""
        if self._context is None:
            try:
                self._context = make_context(cafile=self.ca_path, validate_certs=self.validate_certs)
            except (OSError, ssl.SSLError, ValueError) as exc:
                raise GrafanaAPIError("ca_path %s: cannot load it as PEM CA certificates: %s" % (self.ca_path, exc))
        return self._context

    # --- messages -------------------------------------------------------------

    def scrub(self, text):
        """text with every form of the token and password replaced by a mask."""
        text = "" if text is None else str(text)
        for secret in sorted(set(self.secrets), key=len, reverse=True):
            if secret and len(secret) >= 3:
                text = text.replace(secret, MASK)
        return text

    def url_for(self, path, query=None):
        url = self.base + path
        if query:
            url += "?" + urllib.parse.urlencode(query, doseq=True)
        return url

    def _http_message(self, method, url, what, code, reason, body):
        grafana_message, grafana_status = "", None
        if isinstance(body, dict):
            grafana_message = str(body.get("message") or body.get("error") or "")
            grafana_status = body.get("status") if isinstance(body.get("status"), str) else None
        elif body:
            grafana_message = str(body)[:300]
        head = "%s: %s %s: HTTP %s %s" % (what, method, url, code, reason or http.client.responses.get(code, ""))
        section = urllib.parse.urlsplit(url).path[len(urllib.parse.urlsplit(self.base).path):].split("/")
        area = section[2] if len(section) > 2 else ""
        if code == 401:
            if self.token:
                hint = ("Grafana refused the credentials (the token); check that the token is valid, not expired, and "
                        "that its service account is not disabled")
            else:
                hint = "Grafana refused the credentials (url_username %r with url_password); check them" % self.username
        elif code == 403:
            hint = "permission denied: this needs %s" % ROLE_HINTS.get(area, "more permissions")
            if self.org_id:
                hint += " in organisation %s" % self.org_id
        elif code == 404:
            hint = "not found (is url %s the base URL of Grafana, including any sub-path?)" % self.base
        elif code == 412 and grafana_status == "version-mismatch":
            hint = ("version conflict: it was changed in Grafana since it was read; run again to compare with the new "
                    "version, or set overwrite: true to replace it")
        elif code == 412:
            hint = "precondition failed (another object has the same name or uid)"
        elif code == 409:
            hint = "conflict: another object with this name or uid exists"
        else:
            hint = ""
        parts = [head]
        if hint:
            parts.append(hint)
        if grafana_message:
            parts.append("Grafana said: %s" % grafana_message)
        return self.scrub(": ".join(parts)), grafana_status

    def _transport_message(self, method, url, what, exc):
        reason = _reason(exc)
        if isinstance(reason, (ssl.SSLCertVerificationError, SSLValidationError)) or (
                isinstance(reason, ssl.SSLError) and "CERTIFICATE_VERIFY_FAILED" in str(reason)):
            detail = getattr(reason, "verify_message", None) or str(reason)
            if "hostname" in detail.lower() or "match" in detail.lower():
                hint = ("the certificate does not match the host name in url; use the name the certificate was "
                        "issued for")
            else:
                hint = ("the certificate is not signed by a trusted CA; set ca_path to the CA certificate that "
                        "signed it (validate_certs: false only for a test instance)")
            msg = "%s: %s %s: TLS certificate verification failed (%s): %s" % (what, method, url, detail, hint)
        elif isinstance(reason, ConnectionRefusedError):
            msg = "%s: %s %s: connection refused: is Grafana running and listening on that address and port?" % (
                what, method, url)
        elif isinstance(reason, (socket.timeout, TimeoutError)) or "timed out" in str(reason):
            msg = "%s: %s %s: timed out after %s seconds (raise timeout if Grafana is slow to answer)" % (
                what, method, url, self.timeout)
        elif isinstance(reason, socket.gaierror):
            msg = "%s: %s %s: cannot resolve the host name: %s" % (what, method, url, reason)
        elif isinstance(reason, ssl.SSLError):
            msg = "%s: %s %s: TLS error: %s (is url https:// for an http listener, or the other way round?)" % (
                what, method, url, reason)
        else:
            msg = "%s: %s %s: %s" % (what, method, url, str(reason) or reason.__class__.__name__)
        return self.scrub(msg)

    # --- requests -------------------------------------------------------------

    def request(self, method, path, what, payload=None, query=None, expected=(200,), missing_ok=False):
        """Send one request; returns the decoded JSON body (None for an empty body, or for a 404 when missing_ok).

        what names the object in messages, for example "dashboard uid 'vigil-node'".
        """
        if self.check_mode and method in MUTATING:
            raise GrafanaAPIError("%s: internal error: %s %s attempted in check mode" % (what, method, path))
        url = self.url_for(path, query)
        headers = {"Accept": "application/json"}
        data = None
        if payload is not None:
            data = json.dumps(payload)
            headers["Content-Type"] = "application/json"
        if self.org_id:
            headers["X-Grafana-Org-Id"] = str(self.org_id)
        auth = {}
        if self.token:
            headers["Authorization"] = "Bearer %s" % self.token
        else:
            auth = dict(url_username=self.username, url_password=self.password, force_basic_auth=True)
        self.requests += 1
        try:
            response = Request().open(method, url, data=data, headers=headers, validate_certs=self.validate_certs,
                                      ca_path=self.ca_path, timeout=self.timeout, use_netrc=False,
                                      http_agent="vigil.observability", follow_redirects="safe",
                                      context=self.tls_context(), **auth)
            try:
                code = response.getcode()
                raw = response.read()
            finally:
                response.close()
        except urllib.error.HTTPError as exc:
            code = exc.code
            try:
                raw = exc.read()
            except Exception:
                raw = b""
            body = _decode(raw)
            if code == 404 and missing_ok:
                return None
            if code in expected:
                return body
            msg, grafana_status = self._http_message(method, url, what, code, exc.reason, body)
            raise GrafanaAPIError(msg, status=code, grafana_status=grafana_status,
                                  body=body if isinstance(body, dict) else None)
        except (urllib.error.URLError, OSError, http.client.HTTPException, UrlsConnectionError, ValueError) as exc:
            raise GrafanaAPIError(self._transport_message(method, url, what, exc))
        body = _decode(raw)
        if code not in expected:
            msg, grafana_status = self._http_message(method, url, what, code, "", body)
            raise GrafanaAPIError(msg, status=code, grafana_status=grafana_status)
        if raw and body is None:
            raise GrafanaAPIError(self.scrub("%s: %s %s: HTTP %s but the answer is not JSON (is url %s Grafana?)" % (
                what, method, url, code, self.base)), status=code)
        return body

    def get(self, path, what, query=None, missing_ok=False):
        return self.request("GET", path, what, query=query, missing_ok=missing_ok)

    def search(self, what, **query):
        """Every hit of /api/search for the query, following Grafana's paging (limit is the page size, page from 1)."""
        page_size = SEARCH_PAGE_SIZE
        hits = []
        page = 1
        while True:
            q = dict(query, limit=page_size, page=page)
            batch = self.get("/api/search", what, query=q) or []
            if not isinstance(batch, list):
                raise GrafanaAPIError("%s: GET %s: expected a list of search hits" % (what, self.url_for("/api/search", q)))
            hits.extend(batch)
            if len(batch) < page_size:
                return hits
            page += 1


def _decode(raw):
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw)
    except ValueError:
        return None


def finish(module, work):
    """Run work() (which returns the module's result) and exit: GrafanaAPIError fails the module with its message,
    and the diff is returned only when Ansible asked for one."""
    try:
        result = work()
    except GrafanaAPIError as exc:
        module.fail_json(msg=str(exc))
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


# --- dashboards ------------------------------------------------------------------


def dashboard_what(uid, title=None, source=None):
    what = "dashboard uid %r" % uid if uid else "dashboard %r" % (title or "(no title)")
    if source:
        what += " (%s)" % source
    return what


def normalize_dashboard(dashboard):
    """A copy of dashboard without the fields the server sets and the sections only an importer reads."""
    result = copy.deepcopy(dashboard) if isinstance(dashboard, dict) else {}
    for key in DASHBOARD_SERVER_FIELDS + DASHBOARD_EXPORT_FIELDS:
        result.pop(key, None)
    return result


class InputsError(ValueError):
    pass


def map_shared_inputs(dashboard, datasources, source=None):
    """Resolve the `__inputs` of a dashboard exported for sharing; returns a new dashboard.

    Each input of type datasource (name such as DS_PROMETHEUS, pluginId such as prometheus) is looked up in
    datasources by its name first, then by its plugin id; the value is a datasource uid. Every "${DS_...}" in the
    dashboard then becomes that uid, and a "datasource": "${DS_...}" string becomes {"type": plugin, "uid": uid}.
    Inputs of type constant get their value. Raises InputsError naming the inputs that could not be mapped.
    """
    inputs = dashboard.get("__inputs") or []
    datasources = datasources or {}
    values = {}
    plugins = {}
    missing = []
    for item in inputs:
        if not isinstance(item, dict) or not item.get("name"):
            continue
        name = item["name"]
        kind = item.get("type")
        if kind == "datasource":
            plugin = item.get("pluginId") or ""
            uid = datasources.get(name, datasources.get(plugin))
            if not uid:
                missing.append("%s (plugin %s%s)" % (name, plugin or "?",
                                                     ", label %r" % item["label"] if item.get("label") else ""))
                continue
            values[name] = str(uid)
            plugins[name] = plugin
        elif kind == "constant":
            values[name] = "" if item.get("value") is None else str(item.get("value"))
    if missing:
        raise InputsError("%s: the dashboard was exported for sharing and needs a datasource for %s: map each in "
                          "datasources (by input name or plugin id) to the uid of a datasource, for example "
                          "datasources: {%s: <uid>}" % (source or dashboard_what(dashboard.get("uid"), dashboard.get("title")),
                                                        ", ".join(missing), missing[0].split(" ")[0]))
    if not values:
        return copy.deepcopy(dashboard)

    def substitute(text):
        for name, value in values.items():
            text = text.replace("${%s}" % name, value)
        return text

    def walk(node):
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "datasource" and isinstance(value, str) and value.startswith("${") and value.endswith("}") \
                        and value[2:-1] in plugins:
                    name = value[2:-1]
                    out[key] = {"type": plugins[name], "uid": values[name]}
                else:
                    out[key] = walk(value)
            return out
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, str):
            return substitute(node)
        return node

    return walk(dashboard)


def dashboard_differences(before, after):
    """Top-level keys whose values differ between two normalised dashboards (for messages and return values)."""
    keys = sorted(set(before) | set(after))
    return [key for key in keys if before.get(key) != after.get(key)]


# --- diffs -----------------------------------------------------------------------


def diff_pair(before, after, before_header=None, after_header=None):
    """A diff dict for exit_json(diff=...): Ansible renders dicts as sorted JSON."""
    diff = {"before": before if before is not None else {}, "after": after if after is not None else {}}
    if before_header:
        diff["before_header"] = before_header
    if after_header:
        diff["after_header"] = after_header
    return diff


def subset_differs(current, desired):
    """Keys of desired (a dict) whose value differs from current's; None values in desired are ignored."""
    return sorted(key for key, value in desired.items() if value is not None and current.get(key) != value)
