"""Preflight: read finished PDFs back and report what a printer would reject.

The build runs every rule on every output before it replaces the previous file, so a
wrong size, a missing page or a font that is not ours never reaches ``dist/``; and
``pamphleteer check`` runs them on an output folder or any PDF. The rules live in
``rules`` (one per check ID); ``graphics`` reads the drawing they judge, within the bounds
of ``limits``, since a PDF from elsewhere may be built to crash or hang its reader.
"""

from __future__ import annotations

import functools
import io
import math
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pikepdf

from pamphleteer.check import graphics
from pamphleteer.check.limits import (
    MAX_IMAGE_PIXELS,
    MAX_INFLATED_BYTES,
    TIME_LIMIT_S,
    Deadline,
    Malformed,
    TimeUp,
    inflated_size,
)
from pamphleteer.check.rules import RULES, box_mm, normalize_font_name, reported_within_mm
from pamphleteer.units import PT_PER_MM

CHECKS = tuple(RULES)
NEAR_TRIM_MARGIN_MM = 0.05  # far beyond the rounding of pdfium's boxes (floats, in pt)
UNREADABLE = "boxes"  # the check that reports a file that does not read as a PDF


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

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Expected:
    """What a file must be. Unknown things (a PDF from elsewhere) are left ``None``."""

    variant: str  # "press" | "desk" | "screen" | "mono" | "riso" (a name of targets.VARIANTS)
    trim_mm: tuple[float, float] | None = None
    bleed_mm: float = 0.0
    page_rule: str | None = None  # one of layouts.PAGE_RULES
    pages: int | None = None
    safe_mm: float = 5.0
    viewing_cm: float = 30.0  # reading distance; posters and placards are seen from afar
    ink_limit: float = 300.0  # total area coverage, per cent
    pdfx: str | None = None  # the PDF/X version the file must declare
    cut: bool = False  # every page must carry a CutContour die line (die-cut stickers)
    tiles: bool = False  # pages show clipped parts of a larger page (a tiled poster)


@dataclass(frozen=True)
class Survey:
    """What reading every stream found, before any rule decodes one."""

    corrupt: list[str]  # the streams whose compressed data is broken
    too_large: str | None  # what would take all the memory there is to decode, if any


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


class Subject:
    """One PDF under inspection. Costly readings (the drawing, the text layer, a
    rendering) are made once, when the first rule asks for them."""

    def __init__(self, data: bytes, name: str, expected: Expected,
                 fonts: frozenset[str] | None, deadline: Deadline):
        self.data, self.name, self.expected, self.fonts = data, name, expected, fonts
        self.deadline = deadline
        self.pdf = pikepdf.open(io.BytesIO(data))
        self.findings: list[Finding] = []
        self.check = ""

    def error(self, page: int | None, message: str) -> None:
        self.findings.append(Finding("error", self.check, self.name, page, message))

    def warn(self, page: int | None, message: str) -> None:
        self.findings.append(Finding("warning", self.check, self.name, page, message))

    @functools.cached_property
    def survey(self) -> Survey:
        """Every Flate stream inflated a piece at a time and thrown away, and every
        image's size read, before a rule decodes any: a few kilobytes may inflate to
        gigabytes, and a broken font or profile that no rule reads still spoils the print."""
        corrupt, too_large = [], []
        for obj in self.deadline.each(self.pdf.objects):
            if not isinstance(obj, pikepdf.Stream):
                continue
            what = f"object {obj.objgen[0]}"
            width, height = obj.get("/Width"), obj.get("/Height")
            if (obj.get("/Subtype") == "/Image" and isinstance(width, int)
                    and isinstance(height, int) and width * height > MAX_IMAGE_PIXELS):
                too_large.append(f"an image of {width}×{height} px ({what})")
            filters = obj.get("/Filter")
            if isinstance(filters, pikepdf.Array):
                filters = filters[0] if len(filters) else None
            if filters not in ("/FlateDecode", "/Fl"):
                continue
            try:
                size = inflated_size(obj.read_raw_bytes(), self.deadline)
            except pikepdf.PdfError:
                size = None
            if size is None:
                corrupt.append(what)
            elif size > MAX_INFLATED_BYTES:
                too_large.append(f"a stream that inflates to over "
                                 f"{MAX_INFLATED_BYTES // 2**20} MB ({what})")
        return Survey(corrupt, too_large[0] if too_large else None)

    def _decodable(self) -> None:
        """Raise ``Malformed`` if decoding the file could take all the memory there is."""
        if self.survey.too_large:
            raise Malformed(f"{self.survey.too_large} is too large to read safely")

    @functools.cached_property
    def pages(self) -> list[graphics.Page]:
        self._decodable()
        return list(graphics.walk(self.pdf, self.deadline))

    @functools.cached_property
    def _pdfium(self):
        import pypdfium2

        self._decodable()
        # PDFium refuses a document without pages; there is nothing in it to read anyway
        return pypdfium2.PdfDocument(self.data) if len(self.pdf.pages) else []

    def damage(self) -> list[str]:
        """What is broken in the file: its corrupt streams, and what qpdf repaired as it
        read the objects (all of them, by now). Another reader may repair it otherwise."""
        corrupt = [f"the compressed data of {what} is corrupt" for what in self.survey.corrupt]
        return [_qpdf_message(w) for w in self.pdf.get_warnings()] + corrupt

    def _trim(self, index: int) -> tuple[float, float, float, float]:
        page = self.pdf.pages[index]
        return box_mm(page, "/TrimBox") or box_mm(page, "/MediaBox")

    @functools.cached_property
    def char_boxes(self) -> list[tuple[tuple, str, list[tuple[int, tuple]]]]:
        """Per page: the trim, the page's text, and the index and box (in mm) of every
        visible character in that text; none on a page where no character comes as far
        inside the trim as a rule reports (``rules.reported_within_mm``), or past it.
        Measuring each character is most of the cost, and pdfium rules out most pages
        at once (``_near_trim``), those whose text has one character per character."""
        reach_mm = reported_within_mm(self.expected)
        result = []
        for index, page in self.deadline.each(enumerate(self._pdfium)):
            textpage = page.get_textpage()
            count = textpage.count_chars()
            text = textpage.get_text_range()
            trim, chars = self._trim(index), []
            if len(text) == count:
                near = self._near_trim(textpage, text, trim, reach_mm)
            else:  # characters beyond 16 bits: one call each, in order; and every one measured
                text = "".join(textpage.get_text_range(i, 1) or " " for i in range(count))
                near = True
            if near:
                for i, ch in self.deadline.each(enumerate(text)):
                    if ch.isspace():
                        continue
                    box = tuple(v / PT_PER_MM for v in textpage.get_charbox(i))
                    if box[2] > box[0] and box[3] > box[1]:
                        chars.append((i, box))
            result.append((trim, text, chars))
        return result

    def _near_trim(self, textpage, text: str, trim: tuple, reach_mm: float) -> bool:
        """Whether a visible character of the page may lie within ``reach_mm`` inside
        ``trim`` (mm), or past it; ``text`` has one character per character of the page.
        pdfium counts the characters whose box overlaps a rectangle (FPDFText_GetBoundedText,
        in C): here each half-plane beyond the trim drawn in by ``reach_mm``, and a little
        more for the rounding of its single-precision boxes. Its count leaves out a
        character without a code point, which shows as U+FFFE in the text: those few are
        measured here."""
        import pypdfium2.raw as pdfium_c

        if not math.isfinite(reach_mm):
            return True
        inset = (reach_mm + NEAR_TRIM_MARGIN_MM) * PT_PER_MM
        x0, y0, x1, y1 = (v * PT_PER_MM for v in trim)
        x0, y0, x1, y1, inf = x0 + inset, y0 + inset, x1 - inset, y1 - inset, math.inf
        half_planes = ((-inf, -inf, x0, inf), (x1, -inf, inf, inf),  # left, right
                       (-inf, -inf, inf, y0), (-inf, y1, inf, inf))  # bottom, top
        if any(pdfium_c.FPDFText_GetBoundedText(textpage.raw, left, top, right, bottom,
                                                    None, 0)
               for left, bottom, right, top in half_planes):
            return True
        for match in self.deadline.each(re.finditer("\ufffe", text)):
            left, bottom, right, top = textpage.get_charbox(match.start())
            if left < x0 or bottom < y0 or right > x1 or top > y1:
                return True
        return False

    def renderings(self, dpi: int) -> Iterator[tuple[tuple, object, object]]:
        """Per unrotated page: the trim, an RGB image of the page, and mm -> pixel. (A
        press file's pages are never rotated; a rotated one would need another mapping.)"""
        for index, page in self.deadline.each(enumerate(self._pdfium)):
            if page.get_rotation():
                continue
            # first the boxes: box_mm refuses a page too large to render
            trim, media = self._trim(index), box_mm(self.pdf.pages[index], "/MediaBox")
            image = page.render(scale=dpi / 72).to_pil()
            if image.mode != "RGB":  # it is, as pypdfium2 renders on white; convert() would
                image = image.convert("RGB")  # copy it all the same
            px_per_mm = dpi / 25.4
            # the size as ints: PIL's properties cost more than the rest of to_px, which
            # bleed calls thousands of times a page
            last_col, last_row = image.width - 1, image.height - 1

            def to_px(x: float, y: float, media=media, last_col=last_col, last_row=last_row,
                      px_per_mm=px_per_mm) -> tuple[int, int]:
                col = round((x - media[0]) * px_per_mm)
                row = round((media[3] - y) * px_per_mm)
                return min(max(col, 0), last_col), min(max(row, 0), last_row)

            yield trim, image, to_px

    def pdfx_version(self) -> str | None:
        """The PDF/X standard the file claims, if it also carries a PDF/X output intent."""
        from pamphleteer.pdf.pdfx import pdfx_version

        intents = self.pdf.Root.get("/OutputIntents", [])
        if not any(i.get("/S") == "/GTS_PDFX" and "/DestOutputProfile" in i for i in intents):
            return None
        return pdfx_version(self.pdf)

    def close(self) -> None:
        self.pdf.close()
        if self.__dict__.get("_pdfium"):
            self._pdfium.close()


def run(data: bytes, name: str, expected: Expected, fonts: frozenset[str] | None = None,
        only: tuple[str, ...] = CHECKS, seconds: float = TIME_LIMIT_S) -> list[Finding]:
    """Every finding of the rules ``only`` on the PDF ``data``, found within ``seconds``.

    Whatever the file holds, this returns findings: a file that does not open is one;
    one the rules cannot read (malformed content, a broken stream, a form that draws
    itself) is a finding of the rule that tripped on it, and the other rules still run;
    one that takes longer than ``seconds`` is a finding of the rule that ran out of time,
    and the rest are not run.
    """
    import pypdfium2

    try:
        subject = Subject(data, name, expected, fonts, Deadline(seconds))
    except pikepdf.PasswordError:
        return [Finding("error", UNREADABLE, name, None, "the PDF is password-protected; "
                        "printers need it open: save it without a password")]
    except pikepdf.PdfError as e:
        return [Finding("error", UNREADABLE, name, None,
                        f"not a readable PDF ({_qpdf_message(e)}); rebuild it")]
    unreadable = set()  # what tripped one rule would trip every rule that reads the same
    try:
        for check_id in only:
            subject.check = check_id
            try:
                RULES[check_id](subject)
            except (pikepdf.PdfError, pypdfium2.PdfiumError, ArithmeticError, AttributeError,
                    IndexError, KeyError, TypeError, ValueError) as e:
                reason = str(e) if isinstance(e, Malformed) else f"{type(e).__name__}: {e}"
                if reason not in unreadable:
                    unreadable.add(reason)
                    subject.error(None, f"could not be checked, the file is malformed "
                                  f"({reason}); rebuild it")
        subject.check = UNREADABLE
        if damage := subject.damage():
            more = f"{len(damage)} problems, the first: " if len(damage) > 1 else ""
            subject.error(None, f"the file is damaged ({more}{damage[0]}); a printer's "
                          "software may read it otherwise, or not at all: rebuild it")
    except TimeUp:
        subject.error(None, f"not checked in full: checking took longer than {seconds:g} s, "
                      "the limit for one file; it is too large or too complex (or made to "
                      "hang a reader): simplify or rebuild it")
    finally:
        subject.close()
    return subject.findings


def _qpdf_message(message) -> str:
    """What qpdf says is wrong, without the name pikepdf gives the data it read (an
    address in memory)."""
    return re.sub(r"^stream <[^>]*>:? ?", "", str(message))
