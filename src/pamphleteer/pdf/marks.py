"""Printer's boxes and crop marks.

Press pages arrive from the renderer as trim + bleed on each side. Each is placed on a
larger sheet with a white slug around it, clipped to the bleed, with TrimBox and
BleedBox set exactly and crop marks drawn in the slug, starting outside the bleed, so a
guillotine cut slightly off the line never shows a mark on the finished piece.
WeasyPrint's own ``marks: crop`` is not used: it draws inside its bleed area and caps
the BleedBox at 10 pt.
"""

from __future__ import annotations

from dataclasses import dataclass

import pikepdf

from pamphleteer.units import PT_PER_MM

MARK_LENGTH_MM = 5.0
MARK_WIDTH_PT = 0.25
SLUG_MARGIN_MM = 3.0  # white space beyond the marks' outer ends


@dataclass(frozen=True)
class Geometry:
    """Trim and bleed of a page, and where its crop marks go, in mm."""

    trim_w_mm: float
    trim_h_mm: float
    bleed_mm: float

    @property
    def mark_offset_mm(self) -> float:
        return max(self.bleed_mm, 3.0)

    @property
    def slug_mm(self) -> float:
        """Distance from the trim to the MediaBox edge: room for the marks."""
        return self.mark_offset_mm + MARK_LENGTH_MM + SLUG_MARGIN_MM


def _rect(x: float, y: float, w: float, h: float) -> pikepdf.Array:
    return pikepdf.Array([round(v, 4) for v in (x, y, x + w, y + h)])


def _marks_stream(g: Geometry) -> bytes:
    """Eight short lines in 100 % K, two at each corner, in the slug."""
    s, w, h = g.slug_mm * PT_PER_MM, g.trim_w_mm * PT_PER_MM, g.trim_h_mm * PT_PER_MM
    off, length = g.mark_offset_mm * PT_PER_MM, MARK_LENGTH_MM * PT_PER_MM
    ops = [f"q 0 0 0 1 K {MARK_WIDTH_PT} w 0 J"]
    for x in (s, s + w):
        for y, direction in ((s, -1), (s + h, 1)):
            ops.append(f"{x:.3f} {y + direction * off:.3f} m "
                       f"{x:.3f} {y + direction * (off + length):.3f} l S")
    for y in (s, s + h):
        for x, direction in ((s, -1), (s + w, 1)):
            ops.append(f"{x + direction * off:.3f} {y:.3f} m "
                       f"{x + direction * (off + length):.3f} {y:.3f} l S")
    ops.append("Q")
    return "\n".join(ops).encode()


def add_crop_marks(pdf: pikepdf.Pdf, g: Geometry) -> pikepdf.Pdf:
    """Grow every page by the slug, clip it to the bleed, set boxes, draw marks."""
    slug, bleed = g.slug_mm * PT_PER_MM, g.bleed_mm * PT_PER_MM
    trim_w, trim_h = g.trim_w_mm * PT_PER_MM, g.trim_h_mm * PT_PER_MM
    shift = slug - bleed
    marks = _marks_stream(g)
    for page in pdf.pages:
        bleed_w, bleed_h = trim_w + 2 * bleed, trim_h + 2 * bleed
        page.contents_add(
            pdf.make_stream(f"q 1 0 0 1 {shift:.4f} {shift:.4f} cm "
                            f"0 0 {bleed_w:.4f} {bleed_h:.4f} re W n\n".encode()),
            prepend=True,
        )
        page.contents_add(pdf.make_stream(b"\nQ\n" + marks))
        for annot in page.obj.get("/Annots", []):
            x1, y1, x2, y2 = (float(v) for v in annot.Rect)
            annot.Rect = pikepdf.Array([x1 + shift, y1 + shift, x2 + shift, y2 + shift])
        page.obj.MediaBox = _rect(0, 0, trim_w + 2 * slug, trim_h + 2 * slug)
        page.obj.BleedBox = _rect(slug - bleed, slug - bleed, bleed_w, bleed_h)
        page.obj.TrimBox = _rect(slug, slug, trim_w, trim_h)
        for key in ("/CropBox", "/ArtBox"):
            if key in page.obj:
                del page.obj[key]
    return pdf


def set_trim(pdf: pikepdf.Pdf, g: Geometry) -> pikepdf.Pdf:
    """Desk pages are the paper: TrimBox = BleedBox = MediaBox, said explicitly."""
    box = _rect(0, 0, g.trim_w_mm * PT_PER_MM, g.trim_h_mm * PT_PER_MM)
    for page in pdf.pages:
        page.obj.MediaBox = box
        page.obj.TrimBox = box
        page.obj.BleedBox = box
    return pdf
