#!/usr/bin/env python3
"""Checks that the project's licence statements agree and that the machine-readable Debian
copyright file (packaging/debian/copyright, DEP-5: https://www.debian.org/doc/packaging-manuals/
copyright-format/1.0/) covers every shipped file:

  - the file parses as DEP-5: a header paragraph with Format, then Files and License paragraphs;
  - every licence a Files paragraph names has its text (inline or in a stand-alone License
    paragraph), and every stand-alone License paragraph is used;
  - every Files pattern matches at least one file of the source tree (no stale entries);
  - every shipped data file (resources/samples, resources/models, resources/labels) is covered by
    a paragraph of its own, not only by the catch-all "Files: *" (data has its own licence);
  - LICENSE, the AppStream project_license and the copyright file's "Files: *" name the same
    licence (GPL-3.0-or-later, written GPL-3+ in DEP-5).

  packaging/check_licence.py SOURCE_DIR        (ctest: licence)
Exits 1 with one line per problem.
"""
import fnmatch
import os
import re
import sys
import xml.etree.ElementTree as ET

SPDX = "GPL-3.0-or-later"
DEP5_NAME = "GPL-3+"


def paragraphs(text):
    """RFC 822-style paragraphs: a list of dicts field -> value (continuation lines joined by \n)."""
    out, cur, last = [], {}, None
    for line in text.splitlines():
        if not line.strip():
            if cur:
                out.append(cur)
            cur, last = {}, None
        elif line[0] in " \t":
            if last is None:
                raise ValueError(f"continuation line without a field: {line!r}")
            cur[last] += "\n" + line.strip()
        else:
            if ":" not in line:
                raise ValueError(f"not a field: {line!r}")
            key, value = line.split(":", 1)
            if key in cur:
                raise ValueError(f"field {key} twice in one paragraph")
            cur[key], last = value.strip(), key
    if cur:
        out.append(cur)
    return out


def licence_names(expr):
    return [n.strip() for n in re.split(r"\s+(?:and|or)\s+", expr.split("\n")[0]) if n.strip()]


def main(src):
    problems = []
    path = os.path.join(src, "packaging", "debian", "copyright")
    try:
        paras = paragraphs(open(path, encoding="utf-8").read())
    except (OSError, ValueError) as e:
        return [f"{path}: {e}"]
    header, rest = paras[0], paras[1:]
    if not header.get("Format", "").startswith("https://www.debian.org/doc/packaging-manuals/copyright-format/1.0"):
        problems.append(f"{path}: the first paragraph lacks the DEP-5 Format field")
    files_paras = [p for p in rest if "Files" in p]
    licence_paras = {p["License"].split("\n")[0].strip(): p for p in rest if "Files" not in p and "License" in p}
    for p in rest:
        if "Files" not in p and "License" not in p:
            problems.append(f"{path}: a paragraph with neither Files nor License: {sorted(p)}")
    used = set()
    for p in files_paras:
        for field in ("Copyright", "License"):
            if not p.get(field):
                problems.append(f"{path}: Files: {p['Files'].split()[0]} has no {field}")
        inline = "\n" in p.get("License", "")
        for name in licence_names(p.get("License", "")):
            used.add(name)
            if not inline and name not in licence_paras:
                problems.append(f"{path}: licence {name} (Files: {p['Files'].split()[0]}) has no text")
    for name in licence_paras:
        if name not in used:
            problems.append(f"{path}: stand-alone License: {name} is not used by any Files paragraph")

    tree = []
    for d, dirs, names in os.walk(src):
        dirs[:] = [x for x in dirs if not x.startswith(".") and not x.startswith("build")]
        tree += [os.path.relpath(os.path.join(d, n), src) for n in names if ".tmp-" not in n]
    patterns = [(p, pat) for p in files_paras for pat in p["Files"].split()]
    for p, pat in patterns:
        if not any(fnmatch.fnmatchcase(f, pat) for f in tree):
            problems.append(f"{path}: Files pattern {pat} matches no file of the source tree")

    def stanza(f):  # DEP-5: the last matching paragraph wins
        match = None
        for p, pat in patterns:
            if fnmatch.fnmatchcase(f, pat):
                match = p
        return match

    shipped = [f for f in tree if re.match(r"resources/(samples|models|labels)/", f)]
    if not shipped:
        problems.append(f"{src}/resources: no shipped data files found")
    for f in sorted(shipped):
        p = stanza(f)
        if p is None or p["Files"].strip() == "*":
            problems.append(f"{path}: {f} is shipped but only covered by 'Files: *' (give its source and licence)")

    catch_all = [p for p in files_paras if p["Files"].strip() == "*"]
    if len(catch_all) != 1 or licence_names(catch_all[0].get("License", "")) != [DEP5_NAME]:
        problems.append(f"{path}: 'Files: *' must be licensed {DEP5_NAME}")
    lic = open(os.path.join(src, "LICENSE"), encoding="utf-8").read()
    if SPDX not in lic or "GNU GENERAL PUBLIC LICENSE\n                       Version 3" not in lic:
        problems.append(f"{src}/LICENSE: does not state {SPDX} with the GPL version 3 text")
    metainfo = os.path.join(src, "packaging", "org.featurescope.FeatureScope.metainfo.xml")
    project_licence = ET.parse(metainfo).getroot().findtext("project_license")
    if project_licence != SPDX:
        problems.append(f"{metainfo}: project_license is {project_licence!r}, expected {SPDX}")
    return problems


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: check_licence.py SOURCE_DIR")
    found = main(sys.argv[1])
    for line in found:
        print("licence: " + line, file=sys.stderr)
    if found:
        sys.exit(1)
    print("licence: OK")
