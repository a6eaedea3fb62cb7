"""The evidence PDF the Stripe disputes client uploads: a well-formed PDF a reader opens."""

from __future__ import annotations

import re

from crossdock.partners.evidence_pdf import LINES_PER_PAGE, text_pdf


def objects_at_their_offsets(pdf: bytes) -> bool:
    """Every xref entry points at the `N 0 obj` it names, and startxref at the xref."""
    start = int(re.search(rb"startxref\n(\d+)", pdf).group(1))  # type: ignore[union-attr]
    assert pdf[start:].startswith(b"xref")
    offsets = [int(o) for o in re.findall(rb"(\d{10}) 00000 n", pdf)]
    return all(pdf[o:].startswith(f"{n} 0 obj".encode()) for n, o in enumerate(offsets, 1))


def test_text_is_typeset_escaped_in_a_well_formed_pdf() -> None:
    pdf = text_pdf("Receipt", "Paid (in full) on 2 November \\ thanks")

    assert pdf.startswith(b"%PDF-1.4") and pdf.endswith(b"%%EOF\n")
    assert b"(Paid \\(in full\\) on 2 November \\\\ thanks) Tj" in pdf
    assert objects_at_their_offsets(pdf)


def test_long_text_takes_as_many_pages_as_it_needs() -> None:
    pdf = text_pdf("Log", "\n".join(f"line {n}" for n in range(2 * LINES_PER_PAGE)))

    assert b"/Count 3" in pdf  # the title and a blank line push two lines onto a third
    assert objects_at_their_offsets(pdf)


def test_characters_the_base_font_lacks_print_as_question_marks() -> None:
    assert b"(Tokyo ?? / Z\xfcrich) Tj" in text_pdf("Address", "Tokyo 東京 / Zürich")
