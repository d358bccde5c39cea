"""HTML + CSS + fonts/ -> laid-out pages -> PDF bytes. The only module that imports WeasyPrint.

Two things make output independent of the machine and safe for untrusted content:
fontconfig is pointed at the project's ``fonts/`` folder alone (so no installed font can
sneak in as a fallback), and every resource a document asks for goes through
``contain.fetcher``, which serves files from the folders that document may reach (the
content's, its layout's and the fonts) and refuses the rest.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import io
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from pamphleteer import contain
from pamphleteer.errors import RenderError
from pamphleteer.fitcache import cache_root
from pamphleteer.units import PT_PER_PX

_FONTCONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <dir>{fonts}</dir>
  <cachedir>{cache}</cachedir>
</fontconfig>
"""

_weasyprint = None
SHEETS_KEPT = 32  # parsed style sheets kept: every layout's, and the latest documents'

MISSING_LIBRARIES = (
    "WeasyPrint cannot load a system library it lays out text with ({error}); install "
    "Pango and HarfBuzz: on Debian or Ubuntu 'apt-get install libpango-1.0-0 "
    "libpangoft2-1.0-0 libharfbuzz-subset0', on macOS 'brew install pango harfbuzz'"
)


def _engine(fonts_dir: Path):
    """Import WeasyPrint with fontconfig limited to ``fonts_dir``.

    Fontconfig reads its configuration once, when Pango first loads, so this must run
    before the import and the choice holds for the whole process.
    """
    global _weasyprint
    if _weasyprint is None:
        cache = cache_root()
        cache.mkdir(parents=True, exist_ok=True)
        conf = cache / f"fonts-{hashlib.sha256(bytes(fonts_dir)).hexdigest()[:16]}.conf"
        text = _FONTCONFIG.format(fonts=fonts_dir, cache=cache / "fontconfig")
        if not conf.exists() or conf.read_text() != text:
            with tempfile.NamedTemporaryFile("w", dir=cache, delete=False) as f:
                f.write(text)
            os.replace(f.name, conf)
        os.environ["FONTCONFIG_FILE"] = str(conf)
        try:  # WeasyPrint prints a banner to stdout before it fails: the line below says it
            with contextlib.redirect_stdout(io.StringIO()), _libraries_by_ldconfig():
                import weasyprint
        except OSError as e:  # cffi found no Pango or HarfBuzz: the machine lacks them
            error = " ".join(str(e).split())[:120]
            raise RenderError(MISSING_LIBRARIES.format(error=error)) from e

        _weasyprint = weasyprint
    return _weasyprint


@contextlib.contextmanager
def _libraries_by_ldconfig() -> Iterator[None]:
    """While WeasyPrint loads Pango and HarfBuzz: find a library by the loader's cache
    (``ldconfig -p``) alone, once per name. WeasyPrint tries several names for each
    library (Windows' and macOS' among them) and, on Linux, the standard search runs
    ldconfig, gcc and ld for every name that fails: some 200 processes, 0.4 s of every
    worker's start-up. A library that only gcc or ld would find is still found: each
    list holds the library's file name (libpango-1.0.so.0), which the loader takes as
    it is."""
    import ctypes.util

    search = getattr(ctypes.util, "_findSoname_ldconfig", None)
    if sys.platform != "linux" or search is None:
        yield
        return
    standard = ctypes.util.find_library
    ctypes.util.find_library = functools.cache(search)
    try:
        yield
    finally:
        ctypes.util.find_library = standard


@dataclass(frozen=True)
class Box:
    """A laid-out element's geometry in CSS px (1/96 in), with what it contains.

    ``text_width`` is how far its furthest line reaches from its start edge (the left,
    or the right in right-to-left text), indents and padding included: that is what
    must stay within the width it is given. ``widest``, ``length`` and ``leading`` are
    its widest line's width, its lines' widths added up and their heights added up.
    """

    id: str
    name: str  # the value of the attribute it was found by
    page: int
    x: float
    y: float
    width: float
    height: float
    lines: int
    text_width: float
    font_pt: float = 0.0
    widest: float = 0.0
    length: float = 0.0
    leading: float = 0.0
    laid_out: object = field(default=None, repr=False, compare=False)  # WeasyPrint's box


@dataclass(frozen=True)
class Painted:
    """An element to be painted into the PDF after layout: the value of the attribute it
    was found by, its page, its padding box in PDF points from the page's bottom left
    (x, y, width, height), and its text colour as the PDF sets it: ``rg`` or ``k`` with
    their components, and the alpha."""

    value: str
    page: int
    box: tuple[float, float, float, float]
    colour: tuple[str, tuple[float, ...], float]


@dataclass(frozen=True)
class _Sheet:
    """A parsed style sheet, the ``@counter-style`` rules it defines and the warnings
    its parse gave."""

    css: object
    counters: dict
    warnings: tuple[str, ...]


class _Warnings(logging.Handler):
    """Collect WeasyPrint's warnings: a stray one (unknown CSS, a failed image) is a bug."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _capture() -> Iterator[list[str]]:
    handler = _Warnings()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


class Renderer:
    """Lays out HTML and writes PDFs for one project; start-up is paid once per process."""

    def __init__(self, fonts_dir: Path):
        self.wp = _engine(fonts_dir)
        self.fonts_dir = fonts_dir.resolve()
        # One font configuration for every document: WeasyPrint makes a new one per
        # render otherwise, and each leaks its Pango font map (about 0.2 MiB a render,
        # so a build of 200 editions grew to 370 MiB).
        from weasyprint.text.fonts import FontConfiguration

        self.font_config = FontConfiguration()
        self._sheets: dict[tuple[str, tuple[Path, ...]], _Sheet] = {}

    def layout(self, html: str, base_url: Path, what: str, roots: tuple[Path, ...],
               stylesheets: list[Path] = (), css: tuple[str, ...] = ()):
        """Lay out ``html`` with the style sheets ``css`` (in cascade order); it may read
        files inside ``roots`` (and the fonts) only. WeasyPrint's warnings and refusals
        become ``RenderError``.

        A warning about CSS is traced back to the file of ``stylesheets`` and the line
        it comes from (``css`` joins them, so its own line numbers point nowhere useful).
        """
        from weasyprint.css.counters import CounterStyle

        roots = (*(r.resolve() for r in roots), self.fonts_dir)
        fetcher = contain.fetcher(self.wp, roots)
        with self._bugs_reported(what):
            try:
                sheets = [self._sheet(text, roots) for text in css]
                counters = CounterStyle()  # each sheet's @counter-style rules, merged
                for sheet in sheets:
                    counters.update(sheet.counters)
                with _capture() as warnings:
                    document = self.wp.HTML(
                        string=html, base_url=base_url.as_uri() + "/", url_fetcher=fetcher
                    ).render(font_config=self.font_config, counter_style=counters,
                             stylesheets=[sheet.css for sheet in sheets])
            except self.wp.urls.FatalURLFetchingError as e:
                raise contain.Refused(f"{what}: {e}") from e
        warnings = [w for sheet in sheets for w in sheet.warnings] + warnings
        if warnings:
            raise RenderError(f"{what}: {self._css_source(stylesheets, fetcher) or warnings[0]}")
        return document

    def _sheet(self, text: str, roots: tuple[Path, ...]) -> _Sheet:
        """``text`` parsed, once per process for the sheets that many documents share
        (a layout's): parsing is a tenth of a layout. Kept with the warnings its parse
        gave, so that every document set with a faulty sheet reports them."""
        from weasyprint.css.counters import CounterStyle

        key = (text, roots)
        sheet = self._sheets.pop(key, None)
        if sheet is None:
            counters = CounterStyle()
            with _capture() as warnings:
                parsed = self.wp.CSS(string=text, url_fetcher=contain.fetcher(self.wp, roots),
                                     font_config=self.font_config, counter_style=counters)
            sheet = _Sheet(parsed, counters, tuple(warnings))
            if len(self._sheets) >= SHEETS_KEPT:
                del self._sheets[next(iter(self._sheets))]  # the least recently used
        self._sheets[key] = sheet
        return sheet

    def _css_source(self, stylesheets, fetcher) -> str | None:
        """``file: message`` for the first stylesheet that WeasyPrint warns about alone."""
        for path in stylesheets:
            with _capture() as warnings:
                self.wp.CSS(string=path.read_text(encoding="utf-8"), url_fetcher=fetcher)
            if warnings:
                return f"{path}: {warnings[0]}"
        return None

    def parse(self, html: str):
        """``html`` as a layout parses it, not laid out: its root element (ElementTree)."""
        return self.wp.HTML(string=html).etree_element

    def pdf(self, document, what: str, **options) -> bytes:
        """The document as PDF, its QR codes drawn in (see ``editions.qr_html``)."""
        with self._bugs_reported(what):
            data = document.write_pdf(**options)
        if codes := painted(document, "data-qr"):
            from pamphleteer.pdf import qr

            data = qr.draw(data, codes)
        return data

    @staticmethod
    @contextlib.contextmanager
    def _bugs_reported(what: str) -> Iterator[None]:
        """WeasyPrint's own bugs, met with unusual CSS (a floated ::first-letter in
        columns, a CMYK gradient): name the output, never a traceback."""
        try:
            yield
        except (AssertionError, LookupError, NotImplementedError, TypeError, ValueError,
                ZeroDivisionError) as e:
            raise RenderError(
                f"{what}: the renderer failed ({type(e).__name__}: {str(e) or 'no message'}); "
                "undo the last change to the layout's CSS, or simplify it"
            ) from e


def _walk(box, parent=None) -> Iterator[tuple[object, object]]:
    yield box, parent
    for child in getattr(box, "children", None) or ():
        yield from _walk(child, box)


def _reach(box, line) -> float:
    """How far ``line`` reaches into ``box`` from the edge its text starts at.

    Right-to-left lines start at the box's right edge, and what is left over on a short
    line lies on their left: measured from the left, every line would seem to span the
    whole box.
    """
    if box.style["direction"] == "rtl":
        return box.position_x + box.margin_width() - line.position_x
    return line.position_x + line.width - box.position_x


def boxes(document, attribute: str) -> dict[str, Box]:
    """Geometry of every element that has ``attribute`` and an ``id``, by id.

    Also records each one's parent box as ``<id>@box``: that is the area a fitted text
    must fill.
    """
    found: dict[str, Box] = {}
    for number, page in enumerate(document.pages):
        for box, parent in _walk(page._page_box):
            element = getattr(box, "element", None)
            if element is None or element.get(attribute) is None:
                continue
            if type(box).__name__ in ("LineBox", "TextBox", "InlineBox"):
                continue
            ident = element.get("id")
            if not ident or ident in found:
                continue
            lines = [b for b, _ in _walk(box) if type(b).__name__ == "LineBox"]
            found[ident] = Box(
                ident, element.get(attribute), number, box.position_x, box.position_y,
                box.margin_width(), box.margin_height(), len(lines),
                max((_reach(box, line) for line in lines), default=0.0),
                box.style["font_size"] * PT_PER_PX,
                max((line.width for line in lines), default=0.0),
                sum(line.width for line in lines), sum(line.height for line in lines),
                box,
            )
            if parent is not None:
                found[ident + "@box"] = Box(
                    ident, element.get(attribute), number, parent.content_box_x(),
                    parent.content_box_y(), parent.width, parent.height, 0, 0.0,
                )
    return found


def painted(document, attribute: str) -> list[Painted]:
    """Every element with ``attribute``, as it is to be painted (see ``Painted``)."""
    found = []
    for number, page in enumerate(document.pages):
        height = page._page_box.margin_height()
        for box, _ in _walk(page._page_box):
            element = getattr(box, "element", None)
            if element is None or element.get(attribute) is None:
                continue
            colour = box.style["color"]
            operator, components = (
                ("k", colour.coordinates) if colour.space == "device-cmyk"
                else ("rg", colour.to("srgb").coordinates))
            x, y = box.padding_box_x(), box.padding_box_y()
            width, h = box.padding_width(), box.padding_height()
            found.append(Painted(
                element.get(attribute), number,
                (x * PT_PER_PX, (height - y - h) * PT_PER_PX, width * PT_PER_PX, h * PT_PER_PX),
                (operator, tuple(components), colour.alpha)))
    return found


def _paints_only(name: str) -> bool:
    """Properties that colour a box without moving anything in it."""
    return "color" in name or name.startswith(("background", "box_shadow", "opacity"))


def elements(root, attribute: str) -> dict[str, tuple[str, str]]:
    """Every element under ``root`` (``Renderer.parse``) that has ``attribute`` and an id:
    by id, the attribute's value and the element's HTML (as ``outer_html`` gives it)."""
    found: dict[str, tuple[str, str]] = {}
    for element in root.iter():
        value, ident = element.get(attribute), element.get("id")
        if value is not None and ident and ident not in found:
            found[ident] = (value, _serialized(element))
    return found


def overflowing(document, attribute: str) -> list[tuple[Box, Box]]:
    """Each element with ``attribute`` (see ``boxes``) whose text reaches out of its
    parent's box, the area it is given: (the element, the area)."""
    found = boxes(document, attribute)
    return [(box, area) for ident, box in found.items()
            if (area := found.get(ident + "@box")) is not None
            and (box.height > area.height + 1 or box.text_width > area.width + 1)]


def style_signature(box: Box) -> str:
    """Every layout-relevant computed style value of an element and all it contains.

    Two elements with the same HTML, signature and box lay out alike, whatever CSS
    produced them: the press and desk copies of a text share it (only their colours
    differ), so a fit measured for one serves the other. Each element counts once, however
    many lines its text was broken across: how the sketch broke it follows from the rest.
    """
    parts, seen = [], set()
    for inner, _ in _walk(box.laid_out):
        if type(inner).__name__ in ("LineBox", "TextBox"):
            continue
        if inner.element is not None:
            if (inner.element, inner.element_tag) in seen:
                continue  # the same element again, on another line
            seen.add((inner.element, inner.element_tag))
        parts.append(f"{type(inner).__name__} {inner.element_tag}")
        parts.extend(f"{name}={value!r}" for name, value in _layout_values(inner.style))
    return "\n".join(parts)


@functools.cache
def _layout_properties() -> tuple[str, ...]:
    from weasyprint.css.properties import INITIAL_VALUES

    return tuple(n for n in sorted(INITIAL_VALUES) if not _paints_only(n))


def _layout_values(style) -> Iterator[tuple[str, object]]:
    """Every computed value of ``style`` that can move something: all but paint."""
    for name in _layout_properties():
        try:
            yield name, style[name]
        except KeyError:  # logical properties resolve through physical ones
            continue


def flow_signature(document, offset: float) -> str:
    """A digest of how ``document`` sets its flow: each page's content box, and every
    box in normal flow (not absolutely positioned, nor inside such a box) with its
    type, its place from the trim (``offset``: the bleed, in px, where the page has
    one), its size, its text and its layout-relevant computed style.

    Two copies with the same signature at one body size have the same page areas and
    the same flow styled alike, so they flow alike at every size, and the body size
    found for one (``Typesetter.body_fit``) is the other's. That holds as long as the
    variants' own rules size nothing in the flow (the layouts' rule: a variant changes
    paint and margins), which could match at one body size and differ at another.
    Positioned boxes (backgrounds that reach into the bleed on press and stop at
    ``--edge`` on desk) move nothing else.
    """
    digest, styles = hashlib.sha256(), {}
    for page in document.pages:
        page_box = page._page_box
        digest.update(f"page {page_box.width:.2f} {page_box.height:.2f}\n".encode())
        stack = [c for c in page_box.children if type(c).__name__ != "MarginBox"]
        while stack:
            box = stack.pop()
            style = box.style
            if style["position"] in ("absolute", "fixed"):
                continue
            if id(style) not in styles:
                values = " ".join(repr(value) for _, value in _layout_values(style))
                styles[id(style)] = hashlib.sha256(values.encode()).hexdigest()
            digest.update(
                f"{type(box).__name__} {box.position_x - offset:.2f} "
                f"{box.position_y - offset:.2f} {_length(box.width):.2f} "
                f"{_length(box.height):.2f} {getattr(box, 'text', '')!r} "
                f"{styles[id(style)]}\n".encode())
            stack.extend(reversed(getattr(box, "children", None) or ()))
    return digest.hexdigest()


def _length(value) -> float:
    return value if isinstance(value, float | int) else 0.0


def outer_html(box: Box) -> str:
    """Serialized HTML of a found element (to clone it into probes)."""
    return _serialized(box.laid_out.element)


def _serialized(element) -> str:
    element = copy.copy(element)
    element.tail = None
    return ElementTree.tostring(element, encoding="unicode", method="html")


def page_anchors(document) -> list[set[str]]:
    """The element ids on each page, to find pages a layout marked (e.g. padding pages)."""
    return [set(page.anchors) for page in document.pages]


def _ink(box) -> tuple[float, float, float, float]:
    """The rectangle a text box actually inks (x0, y0, x1, y1, in px).

    Its layout box is as tall as the font's ascent plus descent, which for some fonts is
    far taller than any letter: a large slogan set partly in the fallback text face
    would look as if it reached into the margins when its letters do not.
    """
    from weasyprint.text.ffi import FROM_UNITS, ffi, pango

    layout = box.pango_layout
    active = hasattr(layout, "layout")  # WeasyPrint frees laid-out lines until drawn
    if not active:
        layout.reactivate(box.style)
    try:
        line, _ = layout.get_first_line()
        ink = ffi.new("PangoRectangle *")
        pango.pango_layout_line_get_extents(line, ink, ffi.NULL)
    finally:
        if not active:
            layout.deactivate()
    x = box.position_x + ink.x * FROM_UNITS
    y = box.position_y + box.baseline + ink.y * FROM_UNITS
    return x, y, x + ink.width * FROM_UNITS, y + ink.height * FROM_UNITS


def text_outside(document, inset: float) -> Iterator[tuple[int, str, float]]:
    """Text inked closer than ``inset`` px to a page edge: (page, text, distance).

    Catches what a layout lets slip into the margins or off the page: overflowing
    columns, a long word, a running head set too close to the trim.
    """
    for number, page in enumerate(document.pages, 1):
        page_box = page._page_box
        width, height = page_box.margin_width(), page_box.margin_height()
        for box, _ in _walk(page_box):
            if type(box).__name__ != "TextBox" or not box.text.strip():
                continue
            x0, y0, x1, y1 = _ink(box)
            distance = min(x0, y0, width - x1, height - y1)
            if distance < inset - 0.5:
                yield number, box.text.strip()[:40], distance


def fallbacks(document, families: dict[str, frozenset[int]]) -> Iterator[tuple[int, str, str, str]]:
    """Characters that none of their text's ``font-family`` can draw: (page, character,
    text, the first family). Pango would quietly take another bundled font for them."""
    from pamphleteer.glyphs import drawable

    for number, page in enumerate(document.pages, 1):
        for box, _ in _walk(page._page_box):
            if type(box).__name__ != "TextBox":
                continue
            stack = [f.lower() for f in box.style["font_family"]]
            covered = frozenset().union(*(families.get(f, frozenset()) for f in stack))
            for ch in box.text:
                if not drawable(ch, covered):
                    yield number, ch, box.text.strip(), box.style["font_family"][0]
                    break
