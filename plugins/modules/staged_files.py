#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vigil.observability contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: staged_files
short_description: Write a daemon's directories and files in one call, each file checked before it replaces the live one
version_added: 0.1.0
description:
  - Creates directories, writes files and removes stale ones in a single module call, in the order given, where
    M(ansible.builtin.file) and M(ansible.builtin.copy) would take one call (and several round trips) per path.
    The role core (C(roles/_common)) writes each daemon's configuration with it.
  - Each file whose content differs is written to a temporary file in its destination directory, given its owner,
    group and mode, checked with O(files[].validate) when set, and only then renamed over the live file
    (atomically). A file whose content already matches only gets its owner, group and mode corrected.
  - When a check refuses a file (or a write fails), every file this call already replaced is put back with its
    previous content, owner, group and mode, the files it added are removed, nothing is removed, and the module
    fails naming the file and the checker, with the checker's output.
  - Paths in O(remove) are removed only after every file has been written and passed its check.
author: vigil.observability maintainers (@vigil-observability)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  directories:
    description: Directories to create (with missing parents) or correct, before any file is written.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the directory.
        type: path
        required: true
      owner:
        description: Owner of the directory (default O(owner)).
        type: str
      group:
        description: Group of the directory (default O(group)).
        type: str
      mode:
        description: Mode of the directory, as an octal string such as C("0750").
        type: str
        default: "0755"
  files:
    description: Files to write, in this order (a checker that reads other files sees those written before it).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the file; its directory must exist or be in O(directories).
        type: path
        required: true
      content:
        description: The content of the file. Exactly one of O(files[].content) and O(files[].secret_content).
        type: str
      secret_content:
        description:
          - The content of a file that holds secrets (keys, password hashes). It is kept out of the task's output
            and the file gets no diff.
        type: str
      owner:
        description: Owner of the file (default O(owner)).
        type: str
      group:
        description: Group of the file (default O(group)).
        type: str
      mode:
        description: Mode of the file, as an octal string such as C("0640") (default O(mode)).
        type: str
      validate:
        description:
          - Command that checks the new file before it replaces the live one; C(%s) stands for the temporary
            file's path, as in M(ansible.builtin.copy). A non-zero exit refuses the file.
        type: str
      checker:
        description: Name of the checker in messages (default the command's first word).
        type: str
  owner:
    description: Owner of the directories and files that do not set their own.
    type: str
    default: root
  group:
    description: Group of the directories and files that do not set their own.
    type: str
    default: root
  mode:
    description: Mode of the files that do not set their own.
    type: str
    default: "0640"
  remove:
    description: Files or directories to remove once every file has passed its check. Missing ones are ignored.
    type: list
    elements: path
    default: []
attributes:
  check_mode:
    support: full
    description: Reports what would change, with diffs, without writing or running the checkers.
  diff_mode:
    support: full
    description: Returns a diff for each file whose content changes, except files given with O(files[].secret_content).
  platform:
    platforms: posix
notes:
  - The role core skips the call when its read of the host (M(vigil.observability.host_state_info)) already shows
    every path as wanted, so an unchanged run costs no call.
seealso:
  - module: ansible.builtin.copy
  - module: vigil.observability.host_state_info
"""

EXAMPLES = r"""
- name: Write Prometheus's rules and configuration, each checked by promtool first
  vigil.observability.staged_files:
    directories:
      - {path: /etc/prometheus/rules, group: prometheus, mode: "0750"}
    files:
      - path: /etc/prometheus/rules/node.yml
        content: "{{ lookup('ansible.builtin.file', 'node.yml') }}"
        group: prometheus
        validate: /usr/local/bin/promtool check rules %s
      - path: /etc/prometheus/prometheus.yml
        content: "{{ lookup('ansible.builtin.template', 'prometheus.yml.j2') }}"
        group: prometheus
        validate: /usr/local/bin/promtool check config %s
    remove: [/etc/prometheus/rules/old.yml]
"""

RETURN = r"""
written:
  description: Files whose content this call replaced or created, in order.
  returned: always
  type: list
  elements: str
  sample: [/etc/prometheus/prometheus.yml]
added:
  description: The files among RV(written) that did not exist before.
  returned: always
  type: list
  elements: str
attributes_changed:
  description: Files and directories whose owner, group or mode only were corrected, and directories created.
  returned: always
  type: list
  elements: str
removed:
  description: Paths of O(remove) that existed and were removed.
  returned: always
  type: list
  elements: str
failed_path:
  description: The file that was refused.
  returned: failure
  type: str
checker:
  description: The checker that refused RV(failed_path).
  returned: failure
  type: str
restored:
  description: Files put back (or removed again) after the refusal.
  returned: failure
  type: list
  elements: str
"""

import os
import shlex
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text


class Refused(Exception):
    def __init__(self, path, checker, rc=None, stdout="", stderr="", msg=""):
        super(Refused, self).__init__(msg)
        self.path, self.checker, self.rc, self.stdout, self.stderr, self.msg = path, checker, rc, stdout, stderr, msg


def read_bytes(path):
    """The content of a regular file, or None when there is none."""
    try:
        if not os.path.isfile(path) or os.path.islink(path):
            return None
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def checker_name(item):
    if item.get("checker"):
        return item["checker"]
    words = shlex.split(item.get("validate") or "") or ["the check"]
    return os.path.basename(words[0])


def with_defaults(item, params, mode):
    """The entry with the module's owner and group where it sets none."""
    return dict(item, owner=item["owner"] or params["owner"], group=item["group"] or params["group"], mode=mode)


class Stager(object):
    def __init__(self, module):
        self.module = module
        self.check = module.check_mode
        self.result = dict(changed=False, written=[], added=[], attributes_changed=[], removed=[])
        self.diffs = []
        self.undo = []  # (path, previous bytes or None, previous stat or None)

    def attrs(self, path, item):
        args = dict(path=path, owner=item["owner"], group=item["group"], mode=item["mode"], secontext=None,
                    attributes=None)
        return self.module.set_fs_attributes_if_different(args, False)

    def directory(self, item):
        path = item["path"]
        if os.path.isdir(path):
            if self.attrs(path, item):
                self.result["attributes_changed"].append(path)
            return
        if os.path.lexists(path):
            self.module.fail_json(msg="staged_files: %s exists and is not a directory" % path)
        self.result["attributes_changed"].append(path)
        self.diffs.append(dict(before_header=path, after_header=path, before={"path": path, "state": "absent"},
                               after={"path": path, "state": "directory"}))
        if not self.check:
            os.makedirs(path)
            self.attrs(path, item)

    def file(self, item):
        path = item["path"]
        secret = item.get("secret_content") is not None
        text = item["secret_content"] if secret else item["content"]
        new = to_bytes(text, errors="surrogate_or_strict")
        if os.path.isdir(path) and not os.path.islink(path):
            self.module.fail_json(msg="staged_files: %s is a directory, not a file" % path)
        old = read_bytes(path)
        if old == new:
            if self.check and not os.path.exists(path):
                pass
            elif self.attrs(path, item):
                self.result["attributes_changed"].append(path)
            return
        self.result["written"].append(path)
        if old is None:
            self.result["added"].append(path)
        if not secret:
            self.diffs.append(dict(before_header=path, after_header=path,
                                   before=to_text(old or b"", errors="surrogate_or_replace"), after=text))
        if self.check:
            return
        previous_stat = os.stat(path) if old is not None else None
        directory = os.path.dirname(path) or "."
        if not os.path.isdir(directory):
            raise Refused(path, "staged_files", msg="the directory %s does not exist" % directory)
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(new)
                handle.flush()
                os.fsync(handle.fileno())
            self.attrs(tmp, item)
            if item.get("validate"):
                if "%s" not in item["validate"]:
                    raise Refused(path, checker_name(item), msg="validate must contain %%s: %s" % item["validate"])
                try:
                    rc, out, err = self.module.run_command(item["validate"] % tmp, handle_exceptions=False)
                except OSError as exc:
                    command = item["validate"] % tmp
                    raise Refused(path, checker_name(item), msg="%s cannot run: %s" % (command, to_native(exc)))
                if rc != 0:
                    raise Refused(path, checker_name(item), rc, out, err,
                                  "%s refused the new %s (exit %d)" % (checker_name(item), path, rc))
            self.undo.append((path, old, previous_stat))
            self.module.atomic_move(tmp, path)
            tmp = None
            self.attrs(path, item)
        finally:
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)

    def remove(self, path):
        if not os.path.lexists(path):
            return
        self.result["removed"].append(path)
        self.diffs.append(dict(before_header=path, after_header=path, before={"path": path, "state": "present"},
                               after={"path": path, "state": "absent"}))
        if self.check:
            return
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)

    def rollback(self):
        """Put back every file this call replaced, newest first; remove the ones it added."""
        restored = []
        for path, old, st in reversed(self.undo):
            try:
                if old is None:
                    if os.path.lexists(path):
                        os.unlink(path)
                else:
                    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=os.path.dirname(path))
                    with os.fdopen(fd, "wb") as handle:
                        handle.write(old)
                    os.chown(tmp, st.st_uid, st.st_gid)
                    os.chmod(tmp, st.st_mode & 0o7777)
                    os.rename(tmp, path)
                restored.append(path)
            except OSError as exc:
                self.module.warn("staged_files: could not put back %s: %s" % (path, to_native(exc)))
        return restored


def main():
    module = AnsibleModule(
        argument_spec=dict(
            directories=dict(type="list", elements="dict", default=[], options=dict(
                path=dict(type="path", required=True),
                owner=dict(type="str"),
                group=dict(type="str"),
                mode=dict(type="str", default="0755"),
            )),
            files=dict(type="list", elements="dict", default=[], options=dict(
                path=dict(type="path", required=True),
                content=dict(type="str"),
                secret_content=dict(type="str", no_log=True),
                owner=dict(type="str"),
                group=dict(type="str"),
                mode=dict(type="str"),
                validate=dict(type="str"),
                checker=dict(type="str"),
            ), mutually_exclusive=[("content", "secret_content")], required_one_of=[("content", "secret_content")]),
            remove=dict(type="list", elements="path", default=[]),
            owner=dict(type="str", default="root"),
            group=dict(type="str", default="root"),
            mode=dict(type="str", default="0640"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    stager = Stager(module)
    for item in params["directories"]:
        stager.directory(with_defaults(item, params, mode=item["mode"]))
    try:
        for item in params["files"]:
            stager.file(with_defaults(item, params, mode=item["mode"] or params["mode"]))
    except (Refused, OSError) as exc:
        restored = stager.rollback()
        if isinstance(exc, Refused):
            module.fail_json(msg=exc.msg, failed_path=exc.path, checker=exc.checker, rc=exc.rc,
                             stdout=exc.stdout, stderr=exc.stderr, restored=restored)
        module.fail_json(msg="staged_files: cannot write %s: %s" % (exc.filename, to_native(exc.strerror)),
                         failed_path=exc.filename, checker="staged_files", restored=restored)
    for path in module.params["remove"]:
        stager.remove(path)
    result = stager.result
    result["changed"] = bool(result["written"] or result["attributes_changed"] or result["removed"])
    if module._diff:
        result["diff"] = stager.diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
