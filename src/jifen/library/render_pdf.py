"""Render the first pages of a PDF to PNG — run as a separate process by
``jifen.library.documents.render_previews`` (``python -I render_pdf.py IN OUTDIR PAGES``),
under a time limit and a memory limit, so a PDF that crashes or hangs pdfium takes down
only this process. Imports nothing of jifen: it must run with ``-I`` (isolated)."""

import sys


def main(source: str, outdir: str, pages: int) -> int:
    # Imported here: the child process loads pdfium only once it runs, under its limits.
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(source)
    try:
        count = len(document)
        for index in range(min(pages, count)):
            page = document[index]
            width, height = page.get_size()
            # About 800 px wide whatever the paper size; never more than 2,000 px high.
            scale = min(800 / max(width, 1), 2000 / max(height, 1), 4)
            image = page.render(scale=scale).to_pil()
            image.save(f"{outdir}/page-{index + 1}.png", "PNG", optimize=True)
            page.close()
    finally:
        document.close()
    print(count)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
