# -*- coding: utf-8 -*-
# Copyright: vigil.observability contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare what host_state_info read with the desired state of a path."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from ansible.module_utils.common.text.converters import to_bytes


def path_matches(entry, type=None, owner=None, group=None, mode=None, content=None, link_target=None):  # noqa: A002
    """True when a host_state_info path entry already has every given attribute.

    ``content`` is compared by SHA-1, as ansible.builtin.copy and template do.
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
    if content is not None:
        if entry.get("checksum") != hashlib.sha1(to_bytes(content, errors="surrogate_or_strict")).hexdigest():
            return False
    return True


class FilterModule(object):
    """host_state_info comparison filters."""

    def filters(self):
        return {"path_matches": path_matches}
