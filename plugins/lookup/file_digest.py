# -*- coding: utf-8 -*-
# Copyright: vigil.observability contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Digests of files on the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: file_digest
short_description: SHA-1 or SHA-256 digest of files on the controller
version_added: 0.1.0
author: vigil.observability maintainers (@vigil-observability)
description:
  - Returns the digest of each file named, read on the controller. With the default C(sha1), in the form
    M(ansible.builtin.stat) and M(vigil.observability.host_state_info) report for files on a host; with C(sha256),
    in the form of a release's checksum file.
  - The role core uses it to tell, from its one read of the host, whether a binary unpacked from a release archive
    on the controller is already installed, and whether a release archive in the controller's cache still matches
    its checksum, without a module call for either.
options:
  _terms:
    description: Absolute paths of files on the controller.
    type: list
    elements: path
    required: true
  algorithm:
    description: The digest to compute.
    type: str
    default: sha1
    choices: [sha1, sha256, sha512]
  cache:
    description:
      - Keep each digest in a file beside the one read (C(<path>.<algorithm>), with the file's size and modification
        time), and use it instead of reading the file again while both still match. For files in a cache directory
        of one's own, such as the role core's download cache; the directory must be writable.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Show the digest of an unpacked binary
  ansible.builtin.debug:
    msg: "{{ lookup('vigil.observability.file_digest', '/var/cache/vigil/node_exporter/1.9.1/node_exporter') }}"

- name: Show the SHA-256 of a cached release archive
  ansible.builtin.debug:
    msg: >-
      {{ lookup('vigil.observability.file_digest', '/var/cache/vigil/node_exporter/1.9.1/node_exporter-1.9.1.linux-amd64.tar.gz',
                algorithm='sha256') }}
"""

RETURN = r"""
_raw:
  description: One lower-case hexadecimal digest per file, in the order given.
  type: list
  elements: str
"""

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.lookup import LookupBase
from ansible_collections.vigil.observability.plugins.plugin_utils._digest import cached_digest, file_digest


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        algorithm = self.get_option("algorithm")
        compute = cached_digest if self.get_option("cache") else file_digest
        digests = []
        for term in terms:
            try:
                digests.append(compute(term, algorithm))
            except OSError as exc:
                raise AnsibleLookupError("file_digest: cannot read %s: %s" % (term, to_native(exc)))
        return digests
