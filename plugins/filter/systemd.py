# -*- coding: utf-8 -*-
# Copyright: vigil.observability contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for writing systemd unit files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def systemd_quote(value):
    """Quote one command-line argument for ExecStart= in a unit file.

    systemd splits ExecStart= on white space, expands ``%`` specifiers and
    ``$`` variables; the result here reaches the program as exactly ``value``.
    """
    if isinstance(value, bool):
        value = "true" if value else "false"
    text = str(value)
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return '"%s"' % text


def systemd_flags(flags):
    """Render a dictionary of long flags as ExecStart= arguments.

    ``{"web.max-requests": 40, "collector.foo": true}`` becomes
    ``["--collector.foo", "--web.max-requests=\\"40\\""]`` (sorted by name); a value
    of ``true`` gives a bare flag, ``false`` or ``null`` leaves the flag out and
    a list repeats the flag once per item (``--cluster.peer=a --cluster.peer=b``).
    """
    args = []
    for name in sorted(flags or {}):
        value = flags[name]
        if value is None or value is False:
            continue
        if value is True:
            args.append("--%s" % name)
        elif isinstance(value, (list, tuple)):
            args.extend("--%s=%s" % (name, systemd_quote(item)) for item in value)
        else:
            args.append("--%s=%s" % (name, systemd_quote(value)))
    return args


class FilterModule(object):
    """systemd unit filters."""

    def filters(self):
        return {"systemd_quote": systemd_quote, "systemd_flags": systemd_flags}
