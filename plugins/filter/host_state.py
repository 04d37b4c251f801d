# -*- coding: utf-8 -*-
# Copyright: vigil.observability contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare what host_state_info read with the desired state of a path."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from ansible.module_utils.common.text.converters import to_bytes


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


def files_plan(files, host, group=None, prune_dirs=None):
    """What writing ``files`` changes on a host that host_state_info read as ``host``.

    ``files`` is a list of ``{path, content[, owner, group, mode]}``; owner,
    group and mode default to root, ``group`` and 0640. Returns ``changing``
    (the paths whose file differs, in the order given), ``added`` (those of
    them that do not exist yet) and ``stale`` (entries of ``prune_dirs`` that
    no file claims, to be removed).
    """
    paths = host.get("paths", {}) if isinstance(host, dict) else {}
    listings = host.get("listings", {}) if isinstance(host, dict) else {}
    changing, added = [], []
    for item in files or []:
        entry = paths.get(item["path"])
        if not path_matches(entry, type="file", owner=item.get("owner", "root"), group=item.get("group", group),
                            mode=item.get("mode", "0640"), content=item["content"]):
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
    return {"changing": changing, "added": added, "stale": stale}


class FilterModule(object):
    """host_state_info comparison filters."""

    def filters(self):
        return {"path_matches": path_matches, "files_plan": files_plan}
