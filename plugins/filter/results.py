# Copyright: vigil.observability maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for reporting a failed task without its secrets."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def redact(text, secrets, mask="<secret>"):
    """`text` with every non-empty string of `secrets` replaced by `mask` (longest first)."""
    text = "" if text is None else str(text)
    for secret in sorted(set(str(s) for s in secrets or [] if s), key=len, reverse=True):
        text = text.replace(secret, mask)
    return text


def failure_text(result):
    """The message, stdout and stderr of a failed task result (or of the failed items of a loop)."""
    if not isinstance(result, dict):
        return ""
    items = [r for r in result.get("results", []) if isinstance(r, dict) and r.get("failed")] or [result]
    lines = []
    for item in items:
        for key in ("msg", "stdout", "stderr"):
            value = item.get(key)
            if value and str(value).strip() and str(value).strip() not in lines:
                lines.append(str(value).strip())
    return "\n".join(lines)


class FilterModule(object):
    def filters(self):
        return {"redact": redact, "failure_text": failure_text}
