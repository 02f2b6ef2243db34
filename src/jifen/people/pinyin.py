"""Search keys for people pickers: a name's full pinyin ("zhangwei") and its initials
("zw"), stored on the employee so that a search is a plain prefix/contains match on every
database.

Choices (pypinyin, no tones, heteronyms off): pypinyin reads each character as it would in
running text, which gets some surnames wrong — 单 is "dan" in text and "shan" as a surname,
曾 "ceng"/"zeng", 解 "jie"/"xie". For a surname in ``SURNAME_READINGS`` (the first one or
two characters of the name) both readings are stored, the surname's first, as alternatives
separated by a space: 单伟 → pinyin "shanwei danwei", initials "sw dw". Given names keep
pypinyin's reading. Latin letters and digits are kept (lower-cased), everything else
(spaces, "·", punctuation) is dropped: "Alice Wang" → "alicewang", initials "aw"."""

from __future__ import annotations

import re

from pypinyin import Style, lazy_pinyin

# Surnames whose reading differs from the character's everyday reading (compound surnames
# first so that they win over their first character).
SURNAME_READINGS: dict[str, list[str]] = {
    "尉迟": ["yu", "chi"], "万俟": ["mo", "qi"], "长孙": ["zhang", "sun"],
    "单": ["shan"], "曾": ["zeng"], "仇": ["qiu"], "解": ["xie"], "区": ["ou"],
    "朴": ["piao"], "查": ["zha"], "乐": ["yue"], "覃": ["qin"], "盖": ["ge"],
    "缪": ["miao"], "翟": ["zhai"], "召": ["shao"], "种": ["chong"], "秘": ["bi"],
    "繁": ["po"], "句": ["gou"], "宓": ["mi"], "重": ["chong"],
    "教": ["jiao"], "折": ["she"], "隗": ["wei"], "尉": ["yu"], "阚": ["kan"],
    "谌": ["chen"], "车": ["che"], "任": ["ren"], "华": ["hua"], "沈": ["shen"],
}

KEY_LENGTH = 255
_KEEP = re.compile(r"[^0-9a-z]+")


def _syllables(text: str) -> list[str]:
    """Each Chinese character's pinyin; a run of other characters as one lower-cased,
    cleaned item (empty ones dropped)."""
    out = []
    for piece in lazy_pinyin(text, style=Style.NORMAL, errors="default"):
        cleaned = _KEEP.sub(" ", piece.lower()).split()
        out.extend(cleaned)
    return out


def _readings(name: str) -> list[list[str]]:
    """The name's readings as syllable lists: the surname reading first when it differs."""
    default = _syllables(name)
    for surname, reading in SURNAME_READINGS.items():
        if name.startswith(surname):
            alternative = reading + _syllables(name[len(surname):])
            if alternative != default:
                return [alternative, default]
            break
    return [default]


def search_keys(name: str) -> tuple[str, str]:
    """(full pinyin, initials) of ``name``, each a space-separated list of alternatives."""
    name = (name or "").strip()
    readings = _readings(name)
    full = " ".join(dict.fromkeys("".join(r) for r in readings if r))
    initials = " ".join(dict.fromkeys("".join(s[0] for s in r) for r in readings if r))
    return full[:KEY_LENGTH], initials[:KEY_LENGTH]


def normalise_query(query: str) -> str:
    """A typed query as the keys are written: lower case, letters and digits only."""
    return _KEEP.sub("", (query or "").lower())
