"""The Chinese catalogue (the default UI language) is complete and safe to format."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import jifen

PO = Path(jifen.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%(?:\([a-zA-Z_]+\))?[-+ #0]*\d*(?:\.\d+)?[sdfrx%]")


def entries() -> list[dict]:
    """Each entry of the .po as {"flags": str, "msgid": str, "msgid_plural": str|None,
    "msgstr": str} (msgstr[0] for plurals)."""
    found = []
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, list[str]] = {}
        flags, current = "", None
        for line in block.strip().splitlines():
            if line.startswith("#,"):
                flags += line
            elif match := re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[0\])?) (".*")$',
                                   line):
                current = match.group(1).replace("[0]", "")
                fields[current] = [match.group(2)]
            elif line.startswith('"') and current:
                fields[current].append(line)
            elif line.startswith("msgstr["):
                current = None
        if "msgid" not in fields:
            continue
        text = {k: "".join(ast.literal_eval(part) for part in v) for k, v in fields.items()}
        if text["msgid"]:
            found.append({"flags": flags, "msgid": text["msgid"],
                          "msgid_plural": text.get("msgid_plural"),
                          "msgstr": text.get("msgstr", "")})
    return found


def test_every_message_has_a_chinese_translation_that_is_not_a_guess():
    catalogue = entries()
    assert len(catalogue) > 500
    assert [e["msgid"] for e in catalogue if not e["msgstr"]] == []
    assert [e["msgid"] for e in catalogue if "fuzzy" in e["flags"]] == []


def test_translations_keep_the_placeholders_of_their_message():
    """A placeholder missing from, or added to, a translation raises at render time."""
    wrong = []
    for e in catalogue_with_placeholders():
        expected = {tuple(sorted(PLACEHOLDER.findall(e["msgid"])))}
        if e["msgid_plural"]:
            expected.add(tuple(sorted(PLACEHOLDER.findall(e["msgid_plural"]))))
        if tuple(sorted(PLACEHOLDER.findall(e["msgstr"]))) not in expected:
            wrong.append(e["msgid"])
    assert wrong == []


def catalogue_with_placeholders() -> list[dict]:
    return [e for e in entries() if "%" in e["msgid"] or "%" in e["msgstr"]]
