# -*- coding: utf-8 -*-
# Copyright: vigil.observability contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SHA-1 digests of files on the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: file_sha1
short_description: SHA-1 digest of files on the controller
version_added: 0.1.0
author: vigil.observability maintainers (@vigil-observability)
description:
  - Returns the SHA-1 digest of each file named, read on the controller, in the form
    M(ansible.builtin.stat) and M(vigil.observability.host_state_info) report for files on a host.
  - The role core uses it to tell, from its one read of the host, whether a binary unpacked from a release archive
    on the controller is already installed, without a copy task per binary that checksums it again.
options:
  _terms:
    description: Absolute paths of files on the controller.
    type: list
    elements: path
    required: true
"""

EXAMPLES = r"""
- name: Show the digest of an unpacked binary
  ansible.builtin.debug:
    msg: "{{ lookup('vigil.observability.file_sha1', '/var/cache/vigil/node_exporter/1.9.1/node_exporter') }}"
"""

RETURN = r"""
_raw:
  description: One 40-character hexadecimal SHA-1 digest per file, in the order given.
  type: list
  elements: str
"""

import hashlib

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.plugins.lookup import LookupBase


def file_sha1(path):
    """The SHA-1 digest of the file at ``path``, read in blocks."""
    digest = hashlib.sha1()
    with open(to_bytes(path, errors="surrogate_or_strict"), "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        digests = []
        for term in terms:
            try:
                digests.append(file_sha1(term))
            except OSError as exc:
                raise AnsibleLookupError("file_sha1: cannot read %s: %s" % (term, to_native(exc)))
        return digests
