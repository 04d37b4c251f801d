# Copyright: vigil.observability maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generic helpers of the collection's filters for the data they are given (private to the collection)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.parsing.convert_bool import boolean


def plain(value):
    """Plain dicts and lists (Ansible hands lazily templated containers to filters; they do not deep-copy)."""
    if isinstance(value, dict):
        return dict((key, plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def as_bool(value):
    """True or False for a value Ansible reads as a boolean (true, yes, on, 1, ... in any case), None otherwise."""
    try:
        return boolean(value, strict=True)
    except TypeError:
        return None


def shape_problem(item, where, allowed, expected):
    """Why a declared dict is malformed (not a dict, or unknown keys), or None."""
    if not isinstance(item, dict):
        return "%s must be %s" % (where, expected)
    unknown = set(item) - allowed
    if unknown:
        return "%s has unknown keys %s; expected %s" % (where, ", ".join(sorted(unknown)), ", ".join(sorted(allowed)))
    return None
