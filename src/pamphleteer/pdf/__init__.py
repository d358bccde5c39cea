"""PDF post-processing steps, one per module, each taking a ``pikepdf.Pdf`` and returning it."""

from __future__ import annotations

from collections.abc import Iterator

import pikepdf


def fonts(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    """Every font the pages use, once each, however many pages share it."""
    seen = set()
    for page in pdf.pages:
        for font in page.obj.get("/Resources", {}).get("/Font", {}).values():
            if font.objgen not in seen:
                seen.add(font.objgen)
                yield font
