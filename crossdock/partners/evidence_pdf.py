"""Evidence text as a PDF: Stripe takes only files (PDF, JPEG, PNG) in its document
evidence fields (receipt, refund_policy, shipping_documentation, ...), so prose we hold
for them is typeset as a plain PDF before it is uploaded.

A deliberately small writer: Helvetica (a PDF base font, nothing embedded), WinAnsi
text, lines wrapped at a fixed width, as many pages as the text needs. Characters
outside Latin-1 print as "?": the base fonts have no glyphs for them.
"""

from __future__ import annotations

import textwrap

WIDTH = 95  # characters per line at 10 pt Helvetica on A4 with 50 pt margins
LINES_PER_PAGE = 64
PAGE = (595, 842)  # A4 in points


def _escape(line: str) -> str:
    latin = line.encode("latin-1", errors="replace").decode("latin-1")
    return latin.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _lines(title: str, text: str) -> list[str]:
    lines = [title, ""]
    for paragraph in text.splitlines() or [""]:
        lines += textwrap.wrap(paragraph, WIDTH) or [""]
    return lines


def _page_stream(lines: list[str]) -> bytes:
    body = ["BT", "/F1 10 Tf", "12 TL", f"50 {PAGE[1] - 60} Td"]
    body += [f"({_escape(line)}) Tj T*" for line in lines]
    body.append("ET")
    return "\n".join(body).encode("latin-1")


def text_pdf(title: str, text: str) -> bytes:
    """`text` under `title`, as a PDF document."""
    lines = _lines(title, text)
    pages = [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)]
    # Objects: 1 catalog, 2 page tree, 3 font, then (page, content) per page.
    kids = " ".join(f"{4 + 2 * n} 0 R" for n in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for n, page in enumerate(pages):
        stream = _page_stream(page)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE[0]} {PAGE[1]}] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * n} 0 R >>".encode()
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)
