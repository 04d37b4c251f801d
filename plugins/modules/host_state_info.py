#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vigil.observability contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: host_state_info
short_description: Read the state of files, accounts, packages and systemd units in one call
version_added: 0.1.0
description:
  - Reports, in a single module call, what the roles of this collection manage on a host, so that a role can
    compare it with the desired state on the controller and skip the tasks that would change nothing.
  - It changes nothing. The roles still make every change with the usual modules (file, template, user, apt,
    systemd_service), so check mode and diff behave as usual; this module only saves the calls that would
    have found everything in place.
author: vigil.observability maintainers (@vigil-observability)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  paths:
    description: Paths to describe. Symbolic links are not followed.
    type: list
    elements: path
    default: []
  checksum_paths:
    description: Paths among O(paths) whose regular-file content gets a SHA-1 checksum.
    type: list
    elements: path
    default: []
  users:
    description: User names to look up in the passwd and shadow databases.
    type: list
    elements: str
    default: []
  groups:
    description: Group names to look up.
    type: list
    elements: str
    default: []
  packages:
    description: Debian package names to look up with C(dpkg-query). Ignored where dpkg is absent.
    type: list
    elements: str
    default: []
  units:
    description: systemd unit names whose load, enablement and activity state to report.
    type: list
    elements: str
    default: []
  list_dirs:
    description:
      - Directories whose entries to list (names only, sorted), so that a role can remove files it no longer
        manages. A missing directory lists as empty.
    type: list
    elements: path
    default: []
  mounts:
    description:
      - Paths whose file system to report (the mount point holding the path, or its nearest existing parent), as
        an entry of C(ansible_facts.mounts) would, so that a role needs no C(mounts) fact gathering.
    type: list
    elements: path
    default: []
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - The SHA-1 checksums match the C(checksum) that M(ansible.builtin.stat) and M(ansible.builtin.copy) use.
"""

EXAMPLES = r"""
- name: Read what node_exporter's role manages
  vigil.observability.host_state_info:
    paths: [/etc/node_exporter, /etc/systemd/system/node_exporter.service]
    checksum_paths: [/etc/systemd/system/node_exporter.service]
    users: [node_exporter]
    groups: [node_exporter]
    packages: [prometheus-node-exporter, python3-apt]
    units: [node_exporter.service]
  register: state
"""

RETURN = r"""
paths:
  description: One entry per requested path.
  returned: always
  type: dict
  sample:
    /etc/node_exporter: {exists: true, type: directory, mode: "0750", owner: root, group: node_exporter}
    /etc/systemd/system/prometheus-node-exporter.service: {exists: true, type: link, link_target: /dev/null}
users:
  description: One entry per requested user; C(exists=false) for unknown users.
  returned: always
  type: dict
  sample:
    node_exporter: {exists: true, uid: 998, gid: 998, group: node_exporter, comment: "", home: /nonexistent,
                    shell: /usr/sbin/nologin, password_locked: true}
groups:
  description: One entry per requested group.
  returned: always
  type: dict
  sample: {node_exporter: {exists: true, gid: 998}}
packages:
  description: Installed version of each requested package, or null when it is not installed.
  returned: always
  type: dict
  sample: {prometheus-node-exporter: "1.9.1-1", python3-apt: null}
units:
  description: systemd state of each requested unit.
  returned: always
  type: dict
  sample: {node_exporter.service: {load: loaded, enabled: enabled, active: active}}
mounts:
  description: The file system holding each path of O(mounts); empty when it cannot be told.
  returned: always
  type: dict
  sample:
    /var/lib/prometheus: {mount: /, device: /dev/sda1, fstype: ext4, size_total: 105089261568,
                          size_available: 70021394432}
listings:
  description: Sorted entry names of each directory in O(list_dirs); empty for a missing directory.
  returned: always
  type: dict
  sample: {/etc/prometheus/rules: [node.yml, vigil-generated.yml]}
"""

import grp
import hashlib
import os
import pwd
import re
import stat

from ansible.module_utils.basic import AnsibleModule

_TYPES = (
    (stat.S_ISDIR, "directory"),
    (stat.S_ISREG, "file"),
    (stat.S_ISLNK, "link"),
)


def _name(lookup, ident):
    try:
        return lookup(ident)[0]
    except KeyError:
        return str(ident)


def describe_path(path, with_checksum):
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return {"exists": False}
    kind = next((name for test, name in _TYPES if test(st.st_mode)), "other")
    info = {
        "exists": True,
        "type": kind,
        "mode": "%04o" % stat.S_IMODE(st.st_mode),
        "owner": _name(pwd.getpwuid, st.st_uid),
        "group": _name(grp.getgrgid, st.st_gid),
    }
    if kind == "link":
        info["link_target"] = os.readlink(path)
    if kind == "file" and with_checksum:
        digest = hashlib.sha1()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 16), b""):
                digest.update(block)
        info["checksum"] = digest.hexdigest()
    return info


def shadow_locked(name, shadow_file="/etc/shadow"):
    try:
        with open(shadow_file) as handle:
            for line in handle:
                fields = line.rstrip("\n").split(":")
                if fields[0] == name and len(fields) > 1:
                    return fields[1].startswith(("!", "*"))
    except OSError:
        return None
    return None


def describe_user(name):
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return {"exists": False}
    return {
        "exists": True,
        "uid": entry.pw_uid,
        "gid": entry.pw_gid,
        "group": _name(grp.getgrgid, entry.pw_gid),
        "comment": entry.pw_gecos,
        "home": entry.pw_dir,
        "shell": entry.pw_shell,
        "password_locked": shadow_locked(name),
    }


def describe_group(name):
    try:
        return {"exists": True, "gid": grp.getgrnam(name).gr_gid}
    except KeyError:
        return {"exists": False}


def _unescape(field):
    """A /proc/mounts field with its octal escapes (\\040 for a space) decoded."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def parse_mounts(text):
    """(mount point, device, fstype) of each line of /proc/mounts."""
    entries = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            entries.append((_unescape(fields[1]), _unescape(fields[0]), fields[2]))
    return entries


def describe_mount(path, entries):
    """The mounts entry (mount, device, fstype, sizes) of the file system holding ``path``."""
    existing = os.path.realpath(path)
    while not os.path.exists(existing) and existing != "/":
        existing = os.path.dirname(existing)
    best = None
    for mount, device, fstype in entries:
        inside = existing == mount or existing.startswith(mount.rstrip("/") + "/")
        if inside and (best is None or len(mount) >= len(best[0])):
            best = (mount, device, fstype)
    if best is None:
        return {}
    info = {"mount": best[0], "device": best[1], "fstype": best[2]}
    try:
        st = os.statvfs(existing)
        info.update(size_total=st.f_frsize * st.f_blocks, size_available=st.f_frsize * st.f_bavail)
    except OSError:
        pass
    return info


def parse_dpkg(output, names):
    """Map package names to installed versions from dpkg-query output."""
    found = dict((name, None) for name in names)
    for line in output.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[0] in found and parts[1] == "installed":
            found[parts[0]] = parts[2]
    return found


def parse_systemctl_show(output, units):
    """Map unit names to their states from `systemctl show` output (blocks separated by blank lines)."""
    states = {}
    blocks = output.strip().split("\n\n") if output.strip() else []
    for unit, block in zip(units, blocks):
        props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        states[unit] = {
            "load": props.get("LoadState", "unknown"),
            "enabled": props.get("UnitFileState", "") or "unknown",
            "active": props.get("ActiveState", "unknown"),
        }
    for unit in units:
        states.setdefault(unit, {"load": "unknown", "enabled": "unknown", "active": "unknown"})
    return states


def main():
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type="list", elements="path", default=[]),
            checksum_paths=dict(type="list", elements="path", default=[]),
            users=dict(type="list", elements="str", default=[]),
            groups=dict(type="list", elements="str", default=[]),
            packages=dict(type="list", elements="str", default=[]),
            units=dict(type="list", elements="str", default=[]),
            list_dirs=dict(type="list", elements="path", default=[]),
            mounts=dict(type="list", elements="path", default=[]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    checksum_paths = set(params["checksum_paths"])
    result = dict(changed=False)
    try:
        result["paths"] = dict((p, describe_path(p, p in checksum_paths)) for p in params["paths"])
    except OSError as exc:
        module.fail_json(msg="host_state_info: cannot read %s: %s" % (exc.filename, exc.strerror))
    result["users"] = dict((u, describe_user(u)) for u in params["users"])
    result["groups"] = dict((g, describe_group(g)) for g in params["groups"])

    result["packages"] = dict((p, None) for p in params["packages"])
    dpkg = module.get_bin_path("dpkg-query")
    if params["packages"] and dpkg:
        rc, out, err = module.run_command([dpkg, "-W", "-f=${Package}\t${db:Status-Status}\t${Version}\n"] + params["packages"])
        result["packages"] = parse_dpkg(out, params["packages"])

    result["units"] = {}
    systemctl = module.get_bin_path("systemctl")
    if params["units"]:
        if systemctl:
            rc, out, err = module.run_command([systemctl, "show", "-p", "LoadState,UnitFileState,ActiveState", "--"] + params["units"])
            result["units"] = parse_systemctl_show(out if rc == 0 else "", params["units"])
        else:
            result["units"] = parse_systemctl_show("", params["units"])
    result["listings"] = {}
    for directory in params["list_dirs"]:
        try:
            result["listings"][directory] = sorted(os.listdir(directory))
        except FileNotFoundError:
            result["listings"][directory] = []
        except OSError as exc:
            module.fail_json(msg="host_state_info: cannot list %s: %s" % (directory, exc.strerror))
    result["mounts"] = {}
    if params["mounts"]:
        try:
            with open("/proc/mounts") as handle:
                entries = parse_mounts(handle.read())
        except OSError:
            entries = []
        result["mounts"] = dict((p, describe_mount(p, entries)) for p in params["mounts"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
