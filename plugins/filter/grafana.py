# Copyright: vigil.observability maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build grafana.ini, the datasource provisioning document and key checks for the grafana role.

Grafana has no configuration checker of its own (there is no `grafana
check-config`), so what can be checked is checked here, on the controller,
before any host is contacted: the shape and types of `grafana_ini`, the
options the role manages through its own variables, the listen address, and
the security settings of SEC-13 (anonymous access, sign-up, embedding,
gravatar, external snapshots, reporting and update checks, secure cookies
behind https). Every problem names the variable it comes from.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import re

from ansible.errors import AnsibleFilterError
from ansible.utils.vars import merge_hash
from ansible_collections.vigil.observability.plugins.plugin_utils._data import as_bool, plain
from ansible_collections.vigil.observability.plugins.plugin_utils._endpoints import hostvars_getter, is_wildcard, reach, reach_address

_PROTOCOLS = ("http", "https", "h2", "socket", "socket_h2")
_SAMESITE = ("lax", "strict", "none", "disabled")
_SECTION = re.compile(r"^[A-Za-z0-9_.:-]+$")
_OPTION = re.compile(r"^[A-Za-z0-9_.-]+$")

# Options the role sets from its own variables: setting them in grafana_ini
# would put a secret into grafana.ini or fight the role.
_MANAGED = {
    ("security", "admin_password"): "grafana_admin_password (from vault; the role writes it to a 0640 file)",
    ("security", "secret_key"): "grafana_secret_key (or leave it unset: the role generates one and keeps it)",
    ("database", "password"): "grafana_database_password (from vault; the role writes it to a 0640 file)",
}

# SEC-13: (section, option, safe value, explanation). Weakening one needs the
# option's name in grafana_allow_insecure_settings.
_HARDENED = (
    ("users", "allow_sign_up", False, "anyone who reaches Grafana could create an account"),
    ("security", "disable_gravatar", True, "avatars would be fetched from gravatar.com, leaking e-mail hashes"),
    ("security", "allow_embedding", False, "Grafana could be framed by other sites (clickjacking)"),
    ("snapshots", "external_enabled", False, "dashboards could be published to an external snapshot service"),
    ("analytics", "reporting_enabled", False, "usage data would be sent to Grafana Labs"),
    ("analytics", "check_for_updates", False, "Grafana would call grafana.com on every start"),
)
_HARDENED_HTTPS = (
    ("security", "cookie_secure", True, "the session cookie would also be sent over plain http"),
    ("security", "strict_transport_security", True, "browsers would not be told to keep to https"),
)


def _merge(base, override):
    """grafana_ini over defaults, as combine(recursive=True) does it: dicts merge key by key, other values replace."""
    return merge_hash(base or {}, override or {}, recursive=True, list_merge="replace")


def _ini_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    text = str(value)
    # go-ini cuts a value at ' #' or ' ;' (inline comment) and strips outer
    # spaces; triple quotes keep it whole.
    if text != text.strip() or "#" in text or ";" in text:
        return '"""%s"""' % text
    return text


def _render(config):
    lines = []
    for key, value in config.items():
        if not isinstance(value, dict):
            lines.append("%s = %s" % (key, _ini_value(value)))
    for key, value in config.items():
        if isinstance(value, dict) and value:
            if lines:
                lines.append("")
            lines.append("[%s]" % key)
            for option, option_value in value.items():
                lines.append("%s = %s" % (option, _ini_value(option_value)))
    return "\n".join(lines) + "\n"


def _check_shape(user, problems):
    if not isinstance(user, dict):
        problems.append("grafana_ini must be a dict of section names to dicts of options, got %s" % type(user).__name__)
        return False
    ok = True
    for section, options in user.items():
        where = "grafana_ini[%r]" % section
        if isinstance(options, dict):
            if not _SECTION.match(str(section)):
                problems.append("%s: section names are letters, digits and _ . : -" % where)
                ok = False
            for option, value in options.items():
                if not _OPTION.match(str(option)):
                    problems.append("%s: option name %r is not a Grafana option name (letters, digits, _ . -)" % (where, option))
                    ok = False
                elif isinstance(value, (dict, list)):
                    problems.append("%s[%r] must be a string, number or boolean, got %s; Grafana options are single values "
                                    "(write lists the way Grafana documents them, usually comma- or space-separated)"
                                    % (where, option, type(value).__name__))
                    ok = False
                elif isinstance(value, str) and ("\n" in value or "\r" in value):
                    problems.append("%s[%r] contains a line break, which grafana.ini cannot hold" % (where, option))
                    ok = False
        elif isinstance(options, list):
            problems.append("%s must be a dict of options (or a single value of the default section), got list" % where)
            ok = False
        elif isinstance(options, str) and "\n" in options:
            problems.append("%s contains a line break, which grafana.ini cannot hold" % where)
            ok = False
    return ok


def _is_https(config):
    server = config.get("server", {})
    root_url = str(server.get("root_url", ""))
    return root_url.lower().startswith("https://") or str(server.get("protocol", "http")) in ("https", "h2")


def grafana_config(settings):
    """Merge grafana_ini over the role's safe defaults, check it and render grafana.ini.

    settings: ini (grafana_ini), defaults (the role's defaults, a dict of
    sections), secure_defaults (set under https: cookie_secure, ...),
    allow_anonymous, allow_wildcard_bind, allow_insecure (list of
    "section.option"), api_url (explicit, may be empty).
    """
    if not isinstance(settings, dict):
        raise AnsibleFilterError("grafana_config expects a dict of settings")
    settings = plain(settings)
    problems = []
    user = settings.get("ini") or {}
    defaults = settings.get("defaults") or {}
    allow_insecure = [str(item) for item in settings.get("allow_insecure") or []]
    if not _check_shape(user, problems):
        return {"config": {}, "text": "", "problems": problems, "https": False, "api_url": "", "paths": {}}

    for (section, option), variable in _MANAGED.items():
        if option in (user.get(section) or {}):
            problems.append("grafana_ini[%r][%r] is set by the role: use %s" % (section, option, variable))

    merged = _merge(defaults, user)
    https = _is_https(merged)
    if https:
        merged = _merge(_merge(defaults, settings.get("secure_defaults") or {}), user)

    server = merged.get("server", {})
    protocol = str(server.get("protocol", "http"))
    if protocol not in _PROTOCOLS:
        problems.append("grafana_ini['server']['protocol'] must be one of %s, got %r" % (", ".join(_PROTOCOLS), protocol))
    port = server.get("http_port", 3000)
    try:
        port_ok = 1 <= int(str(port)) <= 65535
    except ValueError:
        port_ok = False
    if not port_ok:
        problems.append("grafana_ini['server']['http_port'] must be a port number (1-65535), got %r" % (port,))
    address = str(server.get("http_addr", ""))
    if is_wildcard(address) and protocol not in ("socket", "socket_h2") and not settings.get("allow_wildcard_bind"):
        problems.append(
            "grafana_ini['server']['http_addr'] is %r, which listens on every interface; set it to one address of the "
            "host (the default is 127.0.0.1, behind a reverse proxy) or set grafana_allow_wildcard_bind to true when a "
            "firewall confines port %s" % (address, port))
    if protocol in ("https", "h2") and not (server.get("cert_file") and server.get("cert_key")):
        problems.append("grafana_ini['server']['protocol'] is %s: set grafana_ini['server']['cert_file'] and "
                        "grafana_ini['server']['cert_key'] (paths on the host)" % protocol)
    root_url = str(server.get("root_url", ""))
    if root_url and not re.match(r"^(https?://[^/\s]+|%\(protocol\)s://)", root_url):
        problems.append("grafana_ini['server']['root_url'] must be the http(s) URL people use to reach Grafana, "
                        "got %r" % root_url)
    if protocol in ("socket", "socket_h2") and not settings.get("api_url"):
        problems.append("grafana_ini['server']['protocol'] is %s: set grafana_api_url to a URL the role can reach "
                        "Grafana's HTTP API on" % protocol)

    anonymous = merged.get("auth.anonymous", {})
    anonymous_on = as_bool(anonymous.get("enabled", False))
    if anonymous_on is None:
        problems.append("grafana_ini['auth.anonymous']['enabled'] must be true or false, got %r" % (anonymous.get("enabled"),))
    elif anonymous_on:
        if str(anonymous.get("org_role", "Viewer")).strip().lower() == "admin":
            problems.append("grafana_ini['auth.anonymous'] enables anonymous access with org_role Admin: anyone who "
                            "reaches Grafana would administer it; this is never allowed (use Viewer)")
        if not settings.get("allow_anonymous"):
            problems.append("grafana_ini['auth.anonymous']['enabled'] is true: anonymous access is off unless "
                            "grafana_allow_anonymous is set to true as well")

    checks = _HARDENED + (_HARDENED_HTTPS if https else ())
    for section, option, safe, why in checks:
        value = (merged.get(section) or {}).get(option, safe)
        parsed = as_bool(value)
        name = "%s.%s" % (section, option)
        if parsed is None:
            problems.append("grafana_ini[%r][%r] must be true or false, got %r" % (section, option, value))
        elif parsed != safe and name not in allow_insecure:
            problems.append("grafana_ini[%r][%r] = %s weakens Grafana (%s); add %r to grafana_allow_insecure_settings "
                            "if that is intended" % (section, option, str(parsed).lower(), why, name))
    security = merged.get("security", {})
    samesite = str(security.get("cookie_samesite", "lax")).lower()
    if samesite not in _SAMESITE:
        problems.append("grafana_ini['security']['cookie_samesite'] must be one of %s, got %r" % (", ".join(_SAMESITE), samesite))
    elif https and samesite != "strict" and "security.cookie_samesite" not in allow_insecure:
        problems.append("grafana_ini['security']['cookie_samesite'] = %s behind https weakens Grafana (cross-site requests "
                        "would carry the session); add 'security.cookie_samesite' to grafana_allow_insecure_settings if "
                        "that is intended" % samesite)
    if str(security.get("admin_user", "admin")).strip() == "":
        problems.append("grafana_ini['security']['admin_user'] must not be empty")

    api_url = str(settings.get("api_url") or "")
    if not api_url:
        # The role's API calls run on the Grafana host itself.
        host = reach_address(address, None, same_host=True)
        scheme = "https" if protocol in ("https", "h2") else "http"
        path = ""
        if as_bool(server.get("serve_from_sub_path", False)) and root_url:
            match = re.match(r"^[a-z%()]+://[^/]+(/.*)?$", root_url)
            path = (match.group(1) or "") if match else ""
        api_url = "%s://%s:%s%s" % (scheme, host, port, path.rstrip("/"))
    return {
        "config": merged,
        "text": _render(merged) if not problems else "",
        "problems": problems,
        "https": https,
        "api_url": api_url,
        "paths": merged.get("paths", {}),
        "admin_user": str(security.get("admin_user", "admin")),
        "database": merged.get("database", {}),
    }


def grafana_ini_section(text, section):
    """The options of one section of an ini text (as read from a host), or {} when absent."""
    result, current = {}, None
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            continue
        if current == section and "=" in line:
            key, value = line.split("=", 1)
            value = value.strip()
            if value.startswith('"""') and value.endswith('"""') and len(value) >= 6:
                value = value[3:-3]
            result[key.strip()] = value
    return result


# -- OpenPGP ------------------------------------------------------------------

def _dearmor(text):
    """The binary packets of every armored block in text, concatenated.

    Every block counts: a key file with a second block would make apt trust a
    second key, so the fingerprint check must see it.
    """
    lines = text.strip().splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")]
    if not starts:
        raise ValueError("no '-----BEGIN PGP PUBLIC KEY BLOCK-----' line")
    data = b""
    for start in starts:
        body, in_headers = [], True
        for line in lines[start + 1:]:
            if line.startswith("-----END PGP"):
                break
            if in_headers:
                if not line.strip():
                    in_headers = False
                    continue
                if ":" in line:
                    continue
                in_headers = False
            if line.startswith("="):  # CRC-24 checksum line
                continue
            body.append(line.strip())
        try:
            data += base64.b64decode("".join(body), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("the armored key is not valid base64")
    return data


def _packets(data):
    """Yield (tag, body) for each OpenPGP packet (RFC 4880 section 4.2)."""
    pos = 0
    while pos < len(data):
        header = data[pos]
        if not header & 0x80:
            raise ValueError("not an OpenPGP packet at byte %d" % pos)
        if header & 0x40:  # new format
            tag = header & 0x3F
            first = data[pos + 1]
            if first < 192:
                length, pos = first, pos + 2
            elif first < 224:
                length, pos = ((first - 192) << 8) + data[pos + 2] + 192, pos + 3
            elif first == 255:
                length, pos = int.from_bytes(data[pos + 2:pos + 6], "big"), pos + 6
            else:
                raise ValueError("partial body lengths do not occur in key packets")
        else:  # old format
            tag, kind = (header >> 2) & 0x0F, header & 0x03
            size = {0: 1, 1: 2, 2: 4}.get(kind)
            if size is None:
                raise ValueError("indeterminate packet length")
            length, pos = int.from_bytes(data[pos + 1:pos + 1 + size], "big"), pos + 1 + size
        if pos + length > len(data):
            raise ValueError("truncated packet")
        yield tag, data[pos:pos + length]
        pos += length


def openpgp_fingerprints(key):
    """The fingerprints (upper-case hex) of the primary keys in an ASCII-armored OpenPGP public key.

    v4 keys: SHA-1 over 0x99, the two-byte length and the public-key packet
    body (RFC 4880 section 12.2); v6 keys: SHA-256 over 0x9B, a four-byte
    length and the body (RFC 9580). Raises on anything that is not a key.
    """
    try:
        data = _dearmor(str(key))
        fingerprints = []
        for tag, body in _packets(data):
            if tag != 6:  # public-key packet (subkeys are tag 14)
                continue
            version = body[0]
            if version == 4:
                digest = hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest()  # noqa: S324 (the format)
            elif version == 6:
                digest = hashlib.sha256(b"\x9b" + len(body).to_bytes(4, "big") + body).hexdigest()
            else:
                raise ValueError("unsupported key version %d" % version)
            fingerprints.append(digest.upper())
        if not fingerprints:
            raise ValueError("no public key in it")
        return fingerprints
    except (ValueError, IndexError) as exc:
        raise AnsibleFilterError("openpgp_fingerprints: not an OpenPGP public key: %s" % exc)


# -- datasources --------------------------------------------------------------

def _endpoint(groups, hostvars, group, role, default_port, user_name, problems, client_host, tls_var=None, auth=True):
    """How Grafana (on client_host) reaches `role` on the first host of `group`, or None."""
    members = sorted(groups.get(group) or [])
    if not members:
        return None
    host = members[0]
    found, problem = reach(hostvars_getter(hostvars, host), host, role, default_port, client_host=client_host,
                           user=user_name, user_var="grafana_datasource_user", client="Grafana", tls_var=tls_var,
                           auth=auth)
    if problem:
        problems.append(problem)
        return None
    return found


def grafana_datasources(groups, hostvars, settings):
    """The datasources of the provisioning file, from the inventory groups and the role's settings.

    settings: user, tls_ca, extra, host (the inventory name of the Grafana host,
    so that a daemon bound to loopback on that same host is reached there; a
    daemon on loopback elsewhere cannot be reached, which is a problem) and
    one dict per datasource kind (prometheus, alertmanager, elasticsearch,
    jaeger). Returns {datasources: [...], problems: [...], secrets: [...]}.
    """
    settings = plain(settings)
    problems, secrets, result = [], [], []
    user_name = str(settings.get("user") or "grafana")
    grafana_host = settings.get("host") or None
    ca = str(settings.get("tls_ca") or "")

    def add(kind, name, uid, ds_type, endpoint, json_data, is_default=False):
        if not endpoint:
            return
        entry = {"name": name, "uid": uid, "type": ds_type, "access": "proxy", "url": endpoint["url"],
                 "isDefault": is_default, "editable": False, "jsonData": dict(json_data)}
        secure = {}
        if endpoint.get("username"):
            entry["basicAuth"] = True
            entry["basicAuthUser"] = endpoint["username"]
            secure["basicAuthPassword"] = endpoint["password"]
            secrets.append(endpoint["password"])
        if ca and endpoint["url"].startswith("https://"):
            entry["jsonData"]["tlsAuthWithCACert"] = True
            secure["tlsCACert"] = ca
        if secure:
            entry["secureJsonData"] = secure
        result.append(entry)

    def explicit(url, username="", password=""):
        if not url:
            return None
        if not re.match(r"^https?://[^/\s]+", str(url)):
            problems.append("a datasource URL must be an http(s) URL, got %r" % (url,))
            return None
        return {"url": str(url).rstrip("/"), "username": str(username or ""), "password": str(password or "")}

    for kind in ("prometheus", "alertmanager", "elasticsearch", "jaeger"):
        conf = settings.get(kind) or {}
        if not conf.get("enabled", True):
            continue
        endpoint = explicit(conf.get("url"), conf.get("username"), conf.get("password"))
        if endpoint is None and not conf.get("url"):
            # Elasticsearch and Jaeger credentials are Grafana's own settings, not the roles' basic auth users.
            own = kind in ("prometheus", "alertmanager")
            endpoint = _endpoint(groups, hostvars, conf.get("group", kind), kind, conf.get("port"), user_name, problems,
                                 grafana_host, tls_var=None if own else kind + "_tls_cert", auth=own)
            if endpoint is not None and kind == "elasticsearch":
                if conf.get("scheme"):
                    endpoint["url"] = re.sub(r"^https?", str(conf["scheme"]), endpoint["url"])
                endpoint["username"] = str(conf.get("username") or "")
                endpoint["password"] = str(conf.get("password") or "")
        if kind == "prometheus":
            add(kind, "Prometheus", "vigil-prometheus", "prometheus", endpoint,
                {"httpMethod": "POST", "timeInterval": str(conf.get("scrape_interval") or "15s")}, is_default=True)
        elif kind == "alertmanager":
            add(kind, "Alertmanager", "vigil-alertmanager", "alertmanager", endpoint,
                {"implementation": "prometheus", "handleGrafanaManagedAlerts": False})
        elif kind == "elasticsearch":
            add(kind, "Elasticsearch", "vigil-elasticsearch", "elasticsearch", endpoint,
                {"index": str(conf.get("index") or "logs-*"), "timeField": str(conf.get("time_field") or "@timestamp")})
        else:
            add(kind, "Jaeger", "vigil-jaeger", "jaeger", endpoint, {})

    extra = settings.get("extra") or []
    if not isinstance(extra, list):
        problems.append("grafana_datasources_extra must be a list of datasources in Grafana's provisioning format")
        extra = []
    seen = dict((ds["uid"], "the role's %s datasource" % ds["name"]) for ds in result)
    names = set(ds["name"] for ds in result)
    for index, ds in enumerate(extra):
        where = "grafana_datasources_extra[%d]" % index
        if not isinstance(ds, dict) or not ds.get("name") or not ds.get("type") or not ds.get("uid"):
            problems.append("%s needs name, type and uid (a fixed uid keeps dashboards pointing at it)" % where)
            continue
        if ds["uid"] in seen:
            problems.append("%s: uid %r is already used by %s" % (where, ds["uid"], seen[ds["uid"]]))
            continue
        if ds["name"] in names:
            problems.append("%s: name %r is already used by another datasource" % (where, ds["name"]))
            continue
        seen[ds["uid"]] = where
        names.add(ds["name"])
        for value in (ds.get("secureJsonData") or {}).values():
            secrets.append(str(value))
        entry = dict(ds)
        if any(d.get("isDefault") for d in result) and entry.get("isDefault"):
            for other in result:
                other["isDefault"] = False
        result.append(entry)
    return {"datasources": result, "problems": problems, "secrets": [s for s in secrets if s]}


class FilterModule(object):
    def filters(self):
        return {
            "grafana_config": grafana_config,
            "grafana_ini_section": grafana_ini_section,
            "grafana_datasources": grafana_datasources,
            "openpgp_fingerprints": openpgp_fingerprints,
        }
