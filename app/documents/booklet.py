"""A5 pages imposed two-up on A4 landscape, in saddle-stitch order.

Printed double-sided (flip on the short edge), the sheets stacked, folded once and
stapled in the fold, they read as an A5 booklet. Pages are padded with blank ones to a
multiple of four: each sheet carries four.
"""

from __future__ import annotations

from io import BytesIO

import pikepdf

A4_LANDSCAPE = (841.89, 595.276)  # points


def booklet_order(pages: int) -> list[tuple[int | None, int | None]]:
    """The (left, right) page numbers, from 1, of each sheet side in printing order; None
    is a blank page. For 8 pages: (8, 1), (2, 7), (6, 3), (4, 5)."""
    padded = -(-pages // 4) * 4
    sides: list[tuple[int, int]] = []
    for sheet in range(padded // 4):
        sides.append((padded - 2 * sheet, 1 + 2 * sheet))  # front
        sides.append((2 + 2 * sheet, padded - 1 - 2 * sheet))  # back
    return [(a if a <= pages else None, b if b <= pages else None) for a, b in sides]


def impose_booklet(pdf: bytes) -> bytes:
    """The A5 ``pdf`` as a booklet: two pages side by side on each A4 landscape side."""
    width, height = A4_LANDSCAPE
    with pikepdf.open(BytesIO(pdf)) as source, pikepdf.new() as booklet:
        for left, right in booklet_order(len(source.pages)):
            side = booklet.add_blank_page(page_size=(width, height))
            for number, x in ((left, 0.0), (right, width / 2)):
                if number is None:
                    continue
                # Centred in its half: A5 is a millimetre narrower than half of A4.
                side.add_overlay(
                    source.pages[number - 1], pikepdf.Rectangle(x, 0, x + width / 2, height)
                )
        if "/Lang" in source.Root:
            booklet.Root.Lang = source.Root.Lang
        with booklet.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta.load_from_docinfo(source.docinfo)
        out = BytesIO()
        booklet.save(out)
        return out.getvalue()
