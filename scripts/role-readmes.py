#!/usr/bin/env python3
"""Write the generated part of each role's README.md from its meta/argument_specs.yml.

Every directory under roles/ gets a README.md (the Galaxy importer refuses a
collection with a role that has none). A README has a hand-written part, which
this script never changes once it exists, and a generated part, which it
rewrites:

    <!-- BEGIN hand-written -->
    introduction and example playbook
    <!-- END hand-written -->
    <!-- BEGIN generated from meta/argument_specs.yml -->
    one section per entry point: a table of its options, then each option
    <!-- END generated from meta/argument_specs.yml -->

A role without a README gets one with a placeholder hand-written part to fill.
With --check, nothing is written: the script names every README that is
missing or stale and exits 1 (tests/lint/test_role_readmes.py runs it).

Why a script of its own: ansible-docsmith also rewrites comments in the roles'
defaults/main.yml and owns whole marker blocks of its own syntax; aar-doc has
no check mode and pins typer and ruamel.yaml releases of its own. This needs
PyYAML only.
"""

import json
import os
import re
import sys
import textwrap

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HAND_BEGIN, HAND_END = "<!-- BEGIN hand-written -->", "<!-- END hand-written -->"
GEN_BEGIN = "<!-- BEGIN generated from meta/argument_specs.yml -->"
GEN_END = "<!-- END generated from meta/argument_specs.yml -->"
NOTE = ("<!-- Written by scripts/role-readmes.py from meta/argument_specs.yml: edit the argument specs, "
        "then run the script. -->")
# Ansible's documentation markup: C() code, O() option, V() value, E() environment variable, P() plugin,
# M() module, RV() return value, I() italics, B() bold, U() URL, L() link. A markup ends at the first
# unescaped closing parenthesis, as in antsibull-docs-parser.
MARKUP = re.compile(r"\b(RV|[CVOEPMIBUL])\(((?:[^)\\]|\\.)*)\)")
SHORT_DEFAULT = 60


def code(text):
    text = str(text)
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return "%s%s%s%s%s" % (fence, pad, text, pad, fence)


def plain(text):
    """Text outside code: angle brackets would be read as HTML."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markup(text):
    out, pos = [], 0
    for match in MARKUP.finditer(text):
        out.append(plain(text[pos:match.start()]))
        kind, value = match.group(1), re.sub(r"\\(.)", r"\1", match.group(2))
        if kind == "I":
            out.append("*%s*" % plain(value))
        elif kind == "B":
            out.append("**%s**" % plain(value))
        elif kind == "U":
            out.append("<%s>" % value)
        elif kind == "L":
            label, _, url = value.rpartition(",")
            out.append("[%s](%s)" % (plain(label.strip()), url.strip()))
        else:
            out.append(code(value))
        pos = match.end()
    out.append(plain(text[pos:]))
    return "".join(out)


def anchor(name):
    """GitHub's heading anchor for a heading that is only `name` in code."""
    return re.sub(r"[^a-z0-9_-]", "", name.lower().replace(" ", "-"))


def paragraphs(description):
    if description is None:
        return []
    items = [description] if isinstance(description, str) else description
    return [wrap(markup(" ".join(str(item).split()))) for item in items]


def wrap(text):
    return textwrap.fill(text, width=120, break_long_words=False, break_on_hyphens=False)


def type_of(spec):
    kind = spec.get("type", "str")
    if spec.get("elements"):
        kind = "%s of %s" % (kind, spec["elements"])
    return kind


def default_lines(spec):
    """(the default for the table, or None when it only fits below; its lines for the option's section)."""
    value = spec.get("default")
    if value is None:
        return ("", [])
    if isinstance(value, str):
        if "\n" in value:
            return (None, ["```"] + value.rstrip("\n").split("\n") + ["```"])
        inline = code(value) if value else code('""')
        return (inline if len(value) <= SHORT_DEFAULT else None, [inline])
    flat = json.dumps(value)
    if len(flat) <= SHORT_DEFAULT:
        return (code(flat), [code(flat)])
    dumped = yaml.safe_dump(value, width=100, sort_keys=False, default_flow_style=False)
    return (None, ["```yaml"] + dumped.rstrip("\n").split("\n") + ["```"])


def cell(text):
    return text.replace("|", "\\|")


def flatten(options, prefix=""):
    for name in options or {}:
        spec = options[name] or {}
        yield prefix + name, spec
        yield from flatten(spec.get("options"), prefix + name + ".")


def option_section(name, spec):
    lines = ["#### %s" % code(name), ""]
    facts = ["Type: %s" % code(type_of(spec))]
    if spec.get("required"):
        facts.append("Required: yes")
    if spec.get("aliases"):
        facts.append("Aliases: %s" % ", ".join(code(a) for a in spec["aliases"]))
    if spec.get("choices"):
        facts.append("Choices: %s" % ", ".join(code(c if c != "" else '""') for c in spec["choices"]))
    if spec.get("no_log"):
        facts.append("Secret: never logged (`no_log`); keep it in Ansible Vault")
    _, block = default_lines(spec)
    if len(block) == 1:
        facts.append("Default: %s" % block[0])
    lines += ["- %s" % fact for fact in facts]
    if block and len(block) > 1:
        lines += ["- Default:", ""] + ["  " + line if line else "" for line in block]
    lines.append("")
    for paragraph in paragraphs(spec.get("description")):
        lines += [paragraph, ""]
    return lines


def entry_point_section(role, entry, spec):
    title = "Entry point `%s`" % entry if entry != "main" else "Role variables"
    lines = ["## %s" % title, ""]
    if entry != "main":
        lines += ["Used with `tasks_from: %s.yml`." % entry, ""]
    if spec.get("short_description"):
        lines += [wrap(markup(" ".join(str(spec["short_description"]).split()))), ""]
    for paragraph in paragraphs(spec.get("description")):
        lines += [paragraph, ""]
    options = list(flatten(spec.get("options")))
    if not options:
        return lines + ["This entry point takes no options.", ""]
    lines += ["| Option | Type | Required | Default |", "| --- | --- | --- | --- |"]
    for name, option in options:
        short, _ = default_lines(option)
        default = short if short is not None else "see [below](#%s)" % anchor(name)
        secret = " (secret)" if option.get("no_log") else ""
        lines.append("| [%s](#%s)%s | %s | %s | %s |" % (
            cell(code(name)), anchor(name), secret, cell(type_of(option)), "yes" if option.get("required") else "no",
            cell(default)))
    lines.append("")
    for name, option in options:
        lines += option_section(name, option)
    return lines


def generated(role):
    path = os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")
    if not os.path.exists(path):
        body = ["This role has no `meta/argument_specs.yml`."]
    else:
        with open(path) as handle:
            specs = (yaml.safe_load(handle) or {}).get("argument_specs") or {}
        # main first, then the other entry points by name.
        body = []
        for entry in sorted(specs, key=lambda e: (e != "main", e)):
            body += entry_point_section(role, entry, specs[entry] or {})
    while body and body[-1] == "":
        body.pop()
    return "\n".join([GEN_BEGIN, NOTE, ""] + body + [GEN_END])


def new_readme(role):
    return "\n".join([
        "# vigil.observability.%s" % role, "", HAND_BEGIN,
        "TODO: what the role deploys, how it installs it, its security defaults, and a minimal example playbook.",
        HAND_END, "", GEN_BEGIN, GEN_END, ""])


def render(role, current):
    text = current if current is not None else new_readme(role)
    for marker in (HAND_BEGIN, HAND_END, GEN_BEGIN, GEN_END):
        if text.count(marker) != 1:
            raise SystemExit("roles/%s/README.md: needs the marker %s exactly once" % (role, marker))
    head, rest = text.split(GEN_BEGIN)
    tail = rest.split(GEN_END)[1]
    return head + generated(role) + tail


def roles():
    base = os.path.join(ROOT, "roles")
    return sorted(d for d in os.listdir(base) if os.path.isdir(os.path.join(base, d)))


def main(argv):
    check = "--check" in argv
    stale = []
    for role in roles():
        path = os.path.join(ROOT, "roles", role, "README.md")
        current = open(path).read() if os.path.exists(path) else None
        wanted = render(role, current)
        if wanted == current:
            continue
        stale.append(os.path.relpath(path, ROOT))
        if not check:
            with open(path, "w") as handle:
                handle.write(wanted)
    if check and stale:
        print("stale or missing (run scripts/role-readmes.py): " + ", ".join(stale))
        return 1
    for path in stale:
        print("wrote " + path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
