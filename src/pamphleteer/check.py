"""Read finished PDFs back and report what a printer would reject.

The build runs these on every output before it replaces the previous file, so a
wrong size, a missing page or a font that is not ours never reaches ``dist/``.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from pamphleteer.pdf.marks import PT_PER_MM

TOLERANCE_MM = 0.1
PURE_K_BELOW_PT = 12  # smaller press text in four-colour black blurs with misregistration
_PURE_K = ("DeviceCMYK", (0.0, 0.0, 0.0, 1.0))
_TEXT_SHOWING = {"Tj", "TJ", "'", '"'}
_SUBSET_RE = re.compile(r"^[A-Z]{6}\+(.+)$")


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" | "warning"
    check: str
    file: str
    page: int | None
    message: str

    def __str__(self) -> str:
        page = f"page {self.page}: " if self.page else ""
        return f"{self.file}: {self.check}: {page}{self.message}"


@dataclass(frozen=True)
class Expected:
    """What an output must be: its trim, bleed, page count rule and allowed fonts."""

    trim_mm: tuple[float, float]
    bleed_mm: float
    page_rule: str  # "fixed" | "multiple-of-4" | "per-slogan"
    pages: int
    fonts: frozenset[str]


def normalize_font_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@functools.cache
def bundled_font_names(fonts_dir: Path) -> frozenset[str]:
    """Every name under which a font in ``fonts_dir`` may appear in a PDF, normalized."""
    from fontTools.ttLib import TTFont

    from pamphleteer.glyphs import font_files

    names = set()
    for path in font_files(fonts_dir):
        with TTFont(path, lazy=True) as font:
            records = font["name"].names
        by_id: dict[int, set[str]] = {}
        for record in records:
            by_id.setdefault(record.nameID, set()).add(normalize_font_name(str(record)))
        families = by_id.get(1, set()) | by_id.get(16, set())
        styles = by_id.get(2, set()) | by_id.get(17, set())
        names |= families | by_id.get(4, set()) | by_id.get(6, set())
        names |= {f + s for f in families for s in styles}
    return frozenset(names)


def _box_mm(page, key: str) -> tuple[float, float, float, float] | None:
    box = page.obj.get(key)
    if box is None:
        return None
    return tuple(float(v) / PT_PER_MM for v in box)


def _size(box) -> tuple[float, float]:
    return box[2] - box[0], box[3] - box[1]


def check_pdf(pdf: pikepdf.Pdf, name: str, expected: Expected) -> list[Finding]:
    """Boxes, page count and fonts of one output."""
    findings: list[Finding] = []

    def error(check: str, page: int | None, message: str) -> None:
        findings.append(Finding("error", check, name, page, message))

    count = len(pdf.pages)
    rule_ok = {
        "fixed": count == expected.pages,
        "per-slogan": count == expected.pages,
        "multiple-of-4": count % 4 == 0 and count > 0,
    }[expected.page_rule]
    if not rule_ok:
        wanted = "a multiple of 4" if expected.page_rule == "multiple-of-4" else expected.pages
        error("page-count", None, f"{count} pages, expected {wanted}")

    tw, th = expected.trim_mm
    b = expected.bleed_mm
    for number, page in enumerate(pdf.pages, 1):
        media, trim, bleed = (_box_mm(page, k) for k in ("/MediaBox", "/TrimBox", "/BleedBox"))
        if trim is None or bleed is None:
            error("boxes", number, "TrimBox or BleedBox missing")
            continue
        w, h = _size(trim)
        if abs(w - tw) > TOLERANCE_MM or abs(h - th) > TOLERANCE_MM:
            error("boxes", number, f"TrimBox {w:.1f}×{h:.1f} mm, expected {tw:g}×{th:g} mm")
        margins = [trim[0] - bleed[0], trim[1] - bleed[1], bleed[2] - trim[2], bleed[3] - trim[3]]
        if any(abs(m - b) > TOLERANCE_MM for m in margins):
            error("boxes", number, f"BleedBox is not trim + {b:g} mm on every side")
        if any(bleed[i] < media[i] - 1e-6 for i in (0, 1)) or any(
            bleed[i] > media[i] + 1e-6 for i in (2, 3)
        ):
            error("boxes", number, "BleedBox extends beyond the MediaBox")

    if expected.bleed_mm > 0:
        for number, size_pt, colour in _text_runs(pdf):
            if size_pt < PURE_K_BELOW_PT and colour != _PURE_K:
                space, values = colour
                error("text-colour", number,
                      f"{size_pt:.1f} pt text in {space} {' '.join(f'{v:g}' for v in values)}; "
                      "press text under 12 pt must be pure K: use var(--ink)")
                break

    for font_name in _embedded_fonts(pdf, name, error):
        match = _SUBSET_RE.match(font_name)
        if not match:
            error("fonts", None, f"font {font_name} is embedded whole, not subset")
            continue
        if normalize_font_name(match.group(1)) not in expected.fonts:
            error("fonts", None, f"font {font_name} is not one of the bundled fonts in fonts/")
    return findings


def _embedded_fonts(pdf: pikepdf.Pdf, name: str, error) -> list[str]:
    names = []
    seen = set()
    for page in pdf.pages:
        fonts = page.obj.get("/Resources", {}).get("/Font", {})
        for font in fonts.values():
            if font.objgen in seen:
                continue
            seen.add(font.objgen)
            descriptor_font = font.get("/DescendantFonts", [font])[0]
            descriptor = descriptor_font.get("/FontDescriptor")
            base = str(font.get("/BaseFont", "?"))[1:]
            if descriptor is None or not any(
                k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")
            ):
                error("fonts", None, f"font {base} is not embedded")
                continue
            names.append(base)
    return names


def _matrix(operands) -> list[float]:
    return [float(v) for v in operands]


def _times(m: list[float], n: list[float]) -> list[float]:
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return [a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s,
            e * p + f * r + t, e * q + f * s + u]


def _scale(m: list[float]) -> float:
    return math.sqrt(abs(m[0] * m[3] - m[1] * m[2]))


def _text_runs(pdf: pikepdf.Pdf) -> Iterator[tuple[int, float, tuple[str, tuple]]]:
    """Every run of text shown: (page, size in pt, (colour space, fill values)).

    Follows the graphics state through q/Q, cm and form XObjects, so the size is the
    one printed, whatever mix of font size and matrices drew it.
    """
    def walk(owner, resources, ctm, number):
        stack = []
        fill, space = ("DeviceGray", (0.0,)), "DeviceGray"
        size, tm = 0.0, [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
        for operands, operator in pikepdf.parse_content_stream(owner):
            op = str(operator)
            if op == "q":
                stack.append((ctm, fill, space))
            elif op == "Q" and stack:
                ctm, fill, space = stack.pop()
            elif op == "cm":
                ctm = _times(_matrix(operands), ctm)
            elif op == "cs":
                space = str(operands[0])[1:]
            elif op in ("sc", "scn") and all(not isinstance(v, pikepdf.Name) for v in operands):
                fill = (space, tuple(float(v) for v in operands))
            elif op in ("k", "rg", "g"):
                space = {"k": "DeviceCMYK", "rg": "DeviceRGB", "g": "DeviceGray"}[op]
                fill = (space, tuple(float(v) for v in operands))
            elif op == "Tf":
                size = float(operands[1])
            elif op == "Tm":
                tm = _matrix(operands)
            elif op in _TEXT_SHOWING:
                yield number, size * _scale(tm) * _scale(ctm), fill
            elif op == "Do":
                xobject = resources.get("/XObject", {}).get(str(operands[0]))
                if xobject is not None and xobject.get("/Subtype") == "/Form":
                    matrix = _matrix(xobject.get("/Matrix", [1, 0, 0, 1, 0, 0]))
                    yield from walk(xobject, xobject.get("/Resources", resources),
                                    _times(matrix, ctm), number)

    for number, page in enumerate(pdf.pages, 1):
        yield from walk(page, page.obj.get("/Resources", pikepdf.Dictionary()),
                        [1.0, 0.0, 0.0, 1.0, 0.0, 0.0], number)
