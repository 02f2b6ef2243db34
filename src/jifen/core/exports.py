"""Helpers for spreadsheets we hand out (xlsx and csv)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from django.http import Http404, HttpResponse

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula (=, +, -, @ …) gets a leading
    apostrophe, so an employee's message like ``=HYPERLINK(…)`` stays text when HR opens the
    export. Numbers, and text that is just a number such as "-5", are left alone."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_STARTS):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in row]


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def spreadsheet_response(
    *,
    fmt: str,
    filename: str,
    header: list[Any],
    rows: Iterable[list[Any]],
    sheet_title: str = "Sheet1",
    widths: list[int] | None = None,
) -> HttpResponse:
    """``rows`` under ``header`` as a download: xlsx (bold, frozen header row; column
    ``widths`` if given) or csv (UTF-8 with a BOM, so Excel reads Chinese). Every cell goes
    through ``safe_cell``. ``filename`` is without its extension."""
    if fmt not in CONTENT_TYPES:
        raise Http404
    if fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        book = Workbook()
        sheet = book.active
        sheet.title = str(sheet_title)[:31]
        sheet.append([str(h) for h in header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for index, width in enumerate(widths or [], start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        for row in rows:
            sheet.append(safe_row(row))
        out = io.BytesIO()
        book.save(out)
        body = out.getvalue()
    else:
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow([str(h) for h in header])
        writer.writerows(safe_row(row) for row in rows)
        body = ("\ufeff" + text.getvalue()).encode("utf-8")
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
