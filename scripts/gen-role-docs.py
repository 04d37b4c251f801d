#!/usr/bin/env python3
"""Write each role's variables table into README.md from its argument specs.

The table sits between `<!-- BEGIN VARIABLES role -->` and
`<!-- END VARIABLES role -->`. With --check, exit 1 when README.md is out of
date instead of writing it (tests/unit/test_docs.py runs that).
"""
import glob
import json
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def markup(text):
    text = re.sub(r"[CO]\(([^)]*)\)", r"`\1`", text)
    text = re.sub(r"V\(([^)]*)\)", r"`\1`", text)
    return text.replace("|", "\\|").replace("\n", " ")


def default_text(value):
    if value is None:
        return ""
    if isinstance(value, str):
        shown = value if value else '""'
    else:
        shown = json.dumps(value)
    return "`%s`" % shown.replace("|", "\\|").replace("\n", " ")


def table(role):
    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")) as handle:
        options = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    lines = ["| Variable | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for name in sorted(options):
        spec = options[name]
        kind = spec["type"] + ("[%s]" % spec["elements"] if spec.get("elements") else "")
        if spec.get("choices"):
            kind += " (%s)" % ", ".join(str(c) if c != "" else '""' for c in spec["choices"])
        if spec.get("no_log"):
            kind += ", secret"
        description = " ".join(markup(d) for d in spec["description"])
        lines.append("| `%s` | %s | %s | %s |" % (name, kind, default_text(spec.get("default")), description))
    return "\n".join(lines)


def render(readme):
    roles = sorted(os.path.basename(os.path.dirname(os.path.dirname(p)))
                   for p in glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml")))
    for role in roles:
        begin, end = "<!-- BEGIN VARIABLES %s -->" % role, "<!-- END VARIABLES %s -->" % role
        if begin not in readme:
            raise SystemExit("README.md has no %s marker" % begin)
        pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
        block = "%s\n%s\n%s" % (begin, table(role), end)
        readme = pattern.sub(lambda _m, block=block: block, readme)
    return readme


def main():
    path = os.path.join(ROOT, "README.md")
    with open(path) as handle:
        current = handle.read()
    wanted = render(current)
    if "--check" in sys.argv:
        if wanted != current:
            print("README.md variables tables are out of date: run scripts/gen-role-docs.py")
            return 1
        return 0
    with open(path, "w") as handle:
        handle.write(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
