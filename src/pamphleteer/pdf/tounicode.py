"""Right-to-left text that copies out right: each glyph's letters in the order drawn.

A right-to-left line is drawn from its left end, so its glyphs follow one another
backwards, and text extractors (pdfium, poppler, pdf.js, PyMuPDF…) read them in that
order and reverse the line's characters to get the reading order back. A glyph that
stands for several letters, as Arabic lam-alef (لا) does, is mapped by WeasyPrint to
its letters in reading order: reversed with the rest, they come out backwards (ال),
and "العلاقات" copies as "العالقات". Mapping such a glyph to its letters in drawn
order, like the glyphs around it, makes that reversal give the reading order.
"""

from __future__ import annotations

import re
import unicodedata

import pikepdf

from pamphleteer.pdf import fonts

_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_PAIR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
_RIGHT_TO_LEFT = {"R", "AL"}


def drawn_order(text: str) -> str:
    """The letters of one right-to-left glyph in the order they are drawn; any other
    glyph's as they are (a Latin ligature is drawn left to right)."""
    classes = [unicodedata.bidirectional(ch) for ch in text]
    if (len(text) > 1 and _RIGHT_TO_LEFT.intersection(classes)
            and all(c in _RIGHT_TO_LEFT or c == "NSM" for c in classes)):
        return text[::-1]
    return text


def _pair(match: re.Match) -> bytes:
    code, target = match.groups()
    try:
        text = bytes.fromhex(target.decode()).decode("utf-16-be")
    except ValueError:
        return match.group(0)
    drawn = drawn_order(text)
    if drawn == text:
        return match.group(0)
    return b"<" + code + b"> <" + drawn.encode("utf-16-be").hex().encode() + b">"


def map_in_drawn_order(pdf: pikepdf.Pdf) -> pikepdf.Pdf:
    """Rewrite every font's ToUnicode so right-to-left glyphs name their letters in
    drawn order; a font with none is left byte for byte as it was."""
    for font in fonts(pdf):
        cmap = font.get("/ToUnicode")
        if not isinstance(cmap, pikepdf.Stream):
            continue
        data = cmap.read_bytes()
        new = _BFCHAR.sub(lambda m: b"beginbfchar" + _PAIR.sub(_pair, m.group(1))
                          + b"endbfchar", data)
        if new != data:
            cmap.write(new)
    return pdf
