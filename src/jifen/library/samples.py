"""Small valid documents made in code, for the demo company and the tests: a PDF written
by hand (pages of lines in Helvetica, a coloured band), a DOCX and a PPTX of the fewest
parts Office opens, and an XLSX through openpyxl."""

from __future__ import annotations

import io
import re
import zipfile
from xml.sax.saxutils import escape

from jifen.core.exports import xlsx_bytes


def _pdf_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[list[str]], *, colour: tuple[float, float, float] = (0.2, 0.4, 0.8)
             ) -> bytes:
    """A PDF of A4 pages, each a coloured header band and the given lines (Latin-1 text:
    the standard Helvetica font has no Chinese)."""
    objects: list[bytes] = []
    page_ids = []
    font_id = 3
    first_page = 4
    for index, lines in enumerate(pages or [[""]]):
        content = [f"{colour[0]} {colour[1]} {colour[2]} rg 0 762 595 80 re f",
                   "BT /F1 22 Tf 1 1 1 rg 40 790 Td (" + _pdf_text(lines[0] if lines else "")
                   + ") Tj ET"]
        y = 720
        for line in lines[1:]:
            content.append(f"BT /F1 12 Tf 0 0 0 rg 40 {y} Td ({_pdf_text(line)}) Tj ET")
            y -= 20
        content.append(f"BT /F1 9 Tf 0.5 0.5 0.5 rg 520 30 Td (- {index + 1} -) Tj ET")
        stream = "\n".join(content).encode("latin-1", "replace")
        page_id = first_page + index * 2
        page_ids.append(page_id)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font "
            f"<< /F1 {font_id} 0 R >> >> /Contents {page_id + 1} 0 R >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream
                       + b"\nendstream")
    kids = " ".join(f"{i} 0 R" for i in page_ids)
    head = [b"<< /Type /Catalog /Pages 2 0 R >>",
            f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode(),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    everything = head + objects
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(everything, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(everything) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(everything) + 1} /Root 1 0 R >>\n"
              f"startxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
         'relationships/officeDocument" Target="{target}"/></Relationships>')


def make_docx(title: str, paragraphs: list[str]) -> bytes:
    """A Word document: a title and paragraphs (Chinese is fine)."""
    body = "".join(f"<w:p><w:r><w:t xml:space=\"preserve\">{escape(p)}</w:t></w:r></w:p>"
                   for p in [title, *paragraphs])
    document = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/'
                f'2006/main"><w:body>{body}</w:body></w:document>')
    types = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
             'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/word/document.xml" ContentType="application/vnd.'
             'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    return _zip({"[Content_Types].xml": types,
                 "_rels/.rels": _RELS.format(target="word/document.xml"),
                 "word/document.xml": document})


def make_pptx(title: str) -> bytes:
    """The parts that make a ZIP a PowerPoint file by its content (one empty presentation;
    enough for the content check and the demo's file list)."""
    types = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
             'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/ppt/presentation.xml" ContentType="application/vnd.'
             'openxmlformats-officedocument.presentationml.presentation.main+xml"/></Types>')
    presentation = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                    '<p:presentation xmlns:p="http://schemas.openxmlformats.org/'
                    'presentationml/2006/main"/>')
    return _zip({"[Content_Types].xml": types,
                 "_rels/.rels": _RELS.format(target="ppt/presentation.xml"),
                 "ppt/presentation.xml": presentation,
                 "docProps/title.txt": title})


def make_xlsx(title: str, header: list[str], rows: list[list[object]]) -> bytes:
    return xlsx_bytes(header, rows,
                      sheet_title=re.sub(r"[\\/*?:\[\]]", " ", title)[:31].strip() or "Sheet1")


def make_zip(files: dict[str, bytes | str]) -> bytes:
    return _zip(files)


def _zip(files: dict[str, bytes | str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data.encode() if isinstance(data, str) else data)
    return out.getvalue()
