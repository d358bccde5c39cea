"""Small text drawn straight into a PDF (a tile's label, a map's caption) in a bundled
font, embedded as a subset, so preflight's font checks pass and the words copy out.

The font becomes a simple TrueType font in WinAnsiEncoding: labels are short and in
English, so the 8-bit Windows Latin set holds every character they use.
"""

from __future__ import annotations

import hashlib
import io
import string
from pathlib import Path

import pikepdf

from pamphleteer.errors import RenderError

ENCODING = "cp1252"  # WinAnsiEncoding, as Python names it
NONSYMBOLIC = 1 << 5  # FontDescriptor flag: the standard Latin characters, by name


class Lettering:
    """One bundled TrueType face, to measure and draw text in; ``font`` embeds it."""

    def __init__(self, path: Path):
        from fontTools.ttLib import TTFont

        self.path = path
        with TTFont(path, lazy=True) as font:
            if "glyf" not in font:
                raise RenderError(f"{path}: tiled posters label their sheets in a TrueType "
                                  "(.ttf) font, and this is not one; add a .ttf to fonts/")
            self.units = font["head"].unitsPerEm
            cmap, metrics = font.getBestCmap(), font["hmtx"].metrics
            self.advance = {ch: metrics[cmap[ord(ch)]][0] for ch in map(chr, cmap)
                            if _code(ch) is not None}
        self.used: set[str] = set()

    def width(self, text: str, size_pt: float) -> float:
        return sum(self.advance.get(ch, 0) for ch in text) * size_pt / self.units

    def show(self, text: str, x: float, y: float, size_pt: float, name: str = "/F1") -> str:
        """Operators that draw ``text`` with its baseline starting at (``x``, ``y``)."""
        missing = sorted({ch for ch in text if ch not in self.advance})
        if missing:
            raise RenderError(f"{self.path.name} has no {missing[0]!r} for a tile's label; "
                              "use a font that has it")
        self.used.update(text)
        return (f"BT {name} {size_pt:g} Tf {x:.3f} {y:.3f} Td "
                f"<{text.encode(ENCODING).hex()}> Tj ET")  # hex: the content stays ASCII

    def font(self, pdf: pikepdf.Pdf) -> pikepdf.Dictionary:
        """The face as a font resource of ``pdf``, subset to the characters shown."""
        from fontTools import subset
        from fontTools.ttLib import TTFont

        chars = "".join(sorted(self.used | {" "}))
        with TTFont(self.path, recalcTimestamp=False) as face:
            options = subset.Options()
            options.notdef_outline = True
            options.name_IDs = ["*"]
            options.layout_features = []
            options.drop_tables += ["Silf", "Silt", "Glat", "Gloc", "Feat", "Sill"]  # Graphite
            subsetter = subset.Subsetter(options)
            subsetter.populate(text=chars)
            subsetter.subset(face)
            buffer = io.BytesIO()
            face.save(buffer)
            head, hhea = face["head"], face["hhea"]
            cap = getattr(face.get("OS/2"), "sCapHeight", 0) or hhea.ascent
            ps_name = face["name"].getDebugName(6) or self.path.stem
        data = buffer.getvalue()
        # A subset's name has a six-letter tag: the same characters give the same tag.
        tag = "".join(string.ascii_uppercase[b % 26]
                      for b in hashlib.sha256(chars.encode() + data).digest()[:6])
        base = pikepdf.Name(f"/{tag}+{ps_name}")
        scale = 1000 / self.units
        codes = [c for c in (_code(ch) for ch in chars) if c is not None]
        first, last = min(codes), max(codes)
        widths = [0] * (last - first + 1)
        for ch in chars:
            widths[_code(ch) - first] = round(self.advance[ch] * scale)
        file = pdf.make_stream(data)
        file.Length1 = len(data)
        descriptor = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.FontDescriptor, FontName=base, Flags=NONSYMBOLIC,
            FontBBox=[round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)],
            ItalicAngle=0, Ascent=round(hhea.ascent * scale),
            Descent=round(hhea.descent * scale), CapHeight=round(cap * scale),
            StemV=80, FontFile2=file))
        return pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.TrueType, BaseFont=base,
            FirstChar=first, LastChar=last, Widths=widths,
            Encoding=pikepdf.Name.WinAnsiEncoding, FontDescriptor=descriptor))


def _code(ch: str) -> int | None:
    """The character's WinAnsi code, or None if it has none."""
    try:
        data = ch.encode(ENCODING)
    except UnicodeEncodeError:
        return None
    return data[0] if len(data) == 1 and data[0] >= 32 else None
