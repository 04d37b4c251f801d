# -*- coding: utf-8 -*-
# Copyright: vigil.observability contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Point an upstream download URL at a mirror (vigil_mirror_url)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.six.moves.urllib.parse import urlsplit


def mirror_url(url, mirror=""):
    """``https://host/path`` as ``<mirror>/host/path`` when a mirror is set, else unchanged.

    A mirror reproduces each upstream host as a top-level directory, so one
    base URL serves the release archives, repositories and keys of every role.
    """
    if not mirror:
        return url
    parts = urlsplit(str(url))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise AnsibleFilterError("mirror_url: %r is not an http(s) URL of an upstream host" % (url,))
    if urlsplit(str(mirror)).scheme not in ("http", "https", "file"):
        raise AnsibleFilterError("vigil_mirror_url must be an http://, https:// or file:// URL, got %r" % (mirror,))
    rest = parts.path + ("?" + parts.query if parts.query else "")
    return str(mirror).rstrip("/") + "/" + parts.netloc + rest


class FilterModule(object):
    """Mirror filters."""

    def filters(self):
        return {"mirror_url": mirror_url}
