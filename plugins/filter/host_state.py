# -*- coding: utf-8 -*-
# Copyright: vigil.observability contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare what host_state_info read with the desired state of a path."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os

from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.vigil.observability.plugins.plugin_utils._digest import cached_digest


def path_matches(entry, type=None, owner=None, group=None, mode=None, content=None, link_target=None,  # noqa: A002
                 checksum=None):
    """True when a host_state_info path entry already has every given attribute.

    ``content`` is compared by SHA-1, as ansible.builtin.copy and template do;
    ``checksum`` is such a SHA-1 digest given directly (of a file on the
    controller, for instance).
    Only a full match returns True; anything unknown returns False so that the
    real module runs and decides.
    """
    if not isinstance(entry, dict) or not entry.get("exists"):
        return False
    wanted = {"type": type, "owner": owner, "group": group, "link_target": link_target}
    for key, value in wanted.items():
        if value is not None and entry.get(key) != value:
            return False
    if mode is not None and entry.get("mode") != "%04o" % int(str(mode), 8):
        return False
    if checksum is not None and entry.get("checksum") != checksum:
        return False
    if content is not None:
        if entry.get("checksum") != hashlib.sha1(to_bytes(content, errors="surrogate_or_strict")).hexdigest():
            return False
    return True


def files_plan(files, host, group=None, prune_dirs=None, directories=None):
    """What writing ``files`` changes on a host that host_state_info read as ``host``.

    ``files`` is a list of ``{path, content or secret_content[, owner, group,
    mode]}``, as vigil.observability.staged_files takes them; owner, group and
    mode default to root, ``group`` and 0640. ``directories`` is a list of
    ``{path, mode[, owner, group]}`` (owner root, group ``group``). Returns
    ``changing`` (the paths whose file differs, in the order given), ``added``
    (those of them that do not exist yet), ``stale`` (entries of ``prune_dirs``
    that no file claims, to be removed) and ``directories`` (the paths of
    ``directories`` that are missing or differ).
    """
    paths = host.get("paths", {}) if isinstance(host, dict) else {}
    listings = host.get("listings", {}) if isinstance(host, dict) else {}
    changing, added = [], []
    for item in files or []:
        entry = paths.get(item["path"])
        content = item["content"] if item.get("content") is not None else item["secret_content"]
        if not path_matches(entry, type="file", owner=item.get("owner", "root"), group=item.get("group", group),
                            mode=item.get("mode", "0640"), content=content):
            changing.append(item["path"])
            if not (isinstance(entry, dict) and entry.get("exists")):
                added.append(item["path"])
    claimed = set(item["path"] for item in files or [])
    stale = []
    for directory in prune_dirs or []:
        for name in listings.get(directory) or []:
            path = directory.rstrip("/") + "/" + name
            if path not in claimed:
                stale.append(path)
    dirs = [d["path"] for d in directories or []
            if not path_matches(paths.get(d["path"]), type="directory", owner=d.get("owner", "root"),
                                group=d.get("group", group), mode=d.get("mode", "0755"))]
    return {"changing": changing, "added": added, "stale": stale, "directories": dirs}


def stale_binaries(binaries, host, source_dir):
    """The install paths among ``binaries`` whose file on the host differs from ``source_dir``/<name> here.

    A binary is current when host_state_info read it (with its checksum) as a
    root-owned 0755 file with the SHA-1 of the file of the same name in
    ``source_dir`` on the controller; a binary whose source is not there (not
    unpacked yet) counts as stale. The digests of the sources are kept beside
    them (the file_digest lookup's cache).
    """
    paths = host.get("paths", {}) if isinstance(host, dict) else {}
    stale = []
    for path in binaries or []:
        source = os.path.join(source_dir, os.path.basename(path))
        if not os.path.isfile(source) or not path_matches(paths.get(path), type="file", owner="root", group="root",
                                                          mode="0755", checksum=cached_digest(source)):
            stale.append(path)
    return stale


class FilterModule(object):
    """host_state_info comparison filters."""

    def filters(self):
        return {"path_matches": path_matches, "files_plan": files_plan, "stale_binaries": stale_binaries}
