"""A typeset page -> one greyscale master per risograph drum, interleaved in print order.

Each drum is laid out from the same final document (fits, body size and pages decided
once, by ``typeset``), with only the drum's tones set over the layout's colours (``riso``):
paint changes nothing in the layout, so every drum's pages have the same geometry to
the point and text stays text. The copy is typeset in the first drum's tones from the
start, so its final layout is that drum's master; only the others are laid out again.
The pages are interleaved (page 1 on each drum, then page 2 …), labelled ``1-black``,
``1-bright-red`` … as the shop feeds them, and every colour is made DeviceGray, where
black is full ink on that drum.
"""

from __future__ import annotations

import contextlib
import io

import pikepdf

from pamphleteer import riso
from pamphleteer.errors import RenderError


def first_tones(inks: tuple[str, ...]) -> str:
    """The paint a riso copy is typeset in (``Typesetter.paint``): its first drum's, whose
    master ``separate`` then takes from the final layout."""
    return riso.drums(inks)[0].css


def separate(renderer, typesetter, document, inks: tuple[str, ...]) -> bytes:
    """The separations of ``typesetter``'s final ``document``, set with the first drum's
    tones (``Typesetter.paint``), for the drums ``inks``: a page per drum per page."""
    from pamphleteer.pdf.grey import to_grey

    what, drums = typesetter.what, riso.drums(inks)
    with contextlib.ExitStack() as open_files:
        masters = []
        for index, drum in enumerate(drums):
            master = document if index == 0 else typesetter.relayout(drum.css)
            rendered = renderer.pdf(master, what)
            masters.append(open_files.enter_context(pikepdf.open(io.BytesIO(rendered))))
        counts = {len(m.pages) for m in masters}
        if len(counts) > 1:  # paint alone cannot move text: a layout that does is a bug
            raise RenderError(f"{what}: the drums came out with {sorted(counts)} pages; "
                              "the layout's colours change its layout: keep colour rules "
                              "to paint")
        pages = counts.pop()
        pdf = masters[0]  # the first drum's file keeps the document's metadata and outline
        for index in range(pages):
            for offset, other in enumerate(masters[1:], 1):
                pdf.pages.insert(index * len(drums) + offset, other.pages[index])
        labels = [riso.page_label(page, drum.ink) for page in range(1, pages + 1)
                  for drum in drums]
        pdf.Root.PageLabels = pikepdf.Dictionary(Nums=pikepdf.Array(
            [v for i, label in enumerate(labels)
             for v in (i, pikepdf.Dictionary(P=pikepdf.String(label)))]))
        buffer = io.BytesIO()
        to_grey(pdf).save(buffer, deterministic_id=True)  # reproducible, as every output
    return buffer.getvalue()
