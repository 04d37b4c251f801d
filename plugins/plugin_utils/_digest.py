# -*- coding: utf-8 -*-
# Copyright: vigil.observability contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Digests of files on the controller, optionally kept beside them (the file_digest lookup, the stale_binaries filter)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import tempfile

from ansible.module_utils.common.text.converters import to_bytes


def file_digest(path, algorithm="sha1"):
    """The digest of the file at ``path``, read in blocks."""
    digest = hashlib.new(algorithm)
    with open(to_bytes(path, errors="surrogate_or_strict"), "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_digest(path, algorithm="sha1"):
    """``file_digest``, kept in ``<path>.<algorithm>`` with the file's size and mtime, and reused while they match."""
    st = os.stat(path)
    stamp = "%d %d" % (st.st_size, st.st_mtime_ns)
    sidecar = "%s.%s" % (path, algorithm)
    try:
        with open(sidecar) as handle:
            digest, _sep, kept = handle.read().strip().partition(" ")
        if kept == stamp and digest:
            return digest
    except (OSError, ValueError):
        pass
    digest = file_digest(path, algorithm)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".digest.", dir=os.path.dirname(path) or ".")
        with os.fdopen(fd, "w") as handle:
            handle.write("%s %s\n" % (digest, stamp))
        os.rename(tmp, sidecar)
    except OSError:
        pass
    return digest
