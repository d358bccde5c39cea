"""Editions: editions.csv checked as a whole, and each edition's panel as printed.

A local group's panel is on the flyer's foot, the poster's foot, the leaflet's back page
and the booklet's back cover; placards stay pure slogans. One build of three editions
(two in English, one of them with a very long name and place, and one in Spanish) serves
every test that reads PDFs: its QR codes are decoded from a 300 dpi rendering, its press
codes read back from the content stream, its text from the text layer.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import tomllib
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest

from helpers import CONTENT, ROOT, assert_clean_failure, run, squash
from pamphleteer.config import load_project
from pamphleteer.content import load_content
from pamphleteer.editions import load_editions
from pamphleteer.errors import ContentError
from pamphleteer.targets import plan
from pamphleteer.typeset import geometry, to_html

TARGETS = ("flyer-a6", "poster-a3", "leaflet-a4", "booklet-a5", "placard-a3-landscape")
PANELS = {"flyer-a6": 0, "poster-a3": 0, "leaflet-a4": 1, "booklet-a5": -1}  # its page
MIN_QR_MM = {"flyer-a6": 15.0, "poster-a3": 20.0, "leaflet-a4": 20.0, "booklet-a5": 20.0}
SAFE_MM = {"booklet-a5": 6.0}  # else 5 mm
VARIANTS = ("desk", "press", "mono")
DPI = 300
MM_PER_PT = 25.4 / 72
PURE_K = ("DeviceCMYK", (0.0, 0.0, 0.0, 1.0))
PAPER = ("DeviceCMYK", (0.0, 0.0, 0.0, 0.0))

HEADER = "id,group,date,time,place,contact,url,lang\n"
LONG_GROUP = ("Sheffield and South Yorkshire Committee of Solidarity with the Syrian "
              "Revolution and its Refugees")
LONG_PLACE = ("Upper Chapel Unitarian Meeting Hall, Norfolk Street, Sheffield City Centre, "
              "entrance by the side door on Chapel Walk")


@dataclasses.dataclass(frozen=True)
class Shown:
    """What an edition's panel must print: its texts as they read (captions, the date
    written out in its language) and the address its code holds."""

    texts: tuple[str, ...]
    url: str


EDITIONS = {
    "leeds": (
        "leeds,Leeds Syria Solidarity,2026-12-12,18:30,\"Leeds Central Library, Calverley "
        "Street\",leeds-syria@example.org,https://example.org/leeds,en",
        Shown(("Leeds Syria Solidarity", "When", "Saturday, December 12, 2026", "6:30 PM",
               "Where", "Leeds Central Library, Calverley Street", "Contact",
               "leeds-syria@example.org", "Scan for more", "example.org/leeds"),
              "https://example.org/leeds"),
    ),
    # A second English edition (its placards must be the first one's), with a name and a
    # place too long for any panel's box at its largest size, and no time or contact.
    "sheffield": (
        f"sheffield,{LONG_GROUP},2026-12-19,,\"{LONG_PLACE}\",,"
        "https://example.org/sheffield-and-south-yorkshire,en",
        Shown((LONG_GROUP, "Saturday, December 19, 2026", LONG_PLACE,
               "example.org/sheffield-and-south-yorkshire"),
              "https://example.org/sheffield-and-south-yorkshire"),
    ),
    "buenos-aires": (
        "buenos-aires,Comité de Solidaridad con Siria de Buenos Aires,2026-12-13,19:00,"
        "\"Plaza de Mayo, frente al Cabildo\",solidaridad.siria@example.org,"
        "https://example.org/buenos-aires,es",
        Shown(("Comité de Solidaridad con Siria de Buenos Aires", "Cuándo",
               "domingo, 13 de diciembre de 2026", "19:00", "Dónde",
               "Plaza de Mayo, frente al Cabildo", "Contacto",
               "solidaridad.siria@example.org", "Escanea para saber más",
               "example.org/buenos-aires"),
              "https://example.org/buenos-aires"),
    ),
}
CHECKED = ("leeds", "buenos-aires")  # editions of ordinary length: preflight passes --strict


def content_copy(folder: Path, csv: str) -> Path:
    """The sample content with an editions.csv of the test's own."""
    shutil.copytree(CONTENT, folder)
    (folder / "editions.csv").write_text(csv, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """Every edition of the test content, built once: desk and press of each target."""
    tmp = tmp_path_factory.mktemp("editions")
    content = content_copy(tmp / "content",
                           HEADER + "".join(row + "\n" for row, _ in EDITIONS.values()))
    out = tmp / "out"
    variants = [arg for v in VARIANTS for arg in ("--variant", v)]
    result = run("build", "--project", ROOT, "--content", content, "--all-editions",
                 *TARGETS, *variants, "--out", out)
    assert result.exit_code == 0, f"the editions' build failed:\n{result.output}"
    return out


def pdf_path(built: Path, edition: str, target: str, variant: str) -> Path:
    path = built / edition / f"{target}-{variant}.pdf"
    assert path.is_file(), f"{edition}/{path.name} was not built"
    return path


# --- editions.csv: every problem at once, one line, nothing built --------------------------

PROBLEM = re.compile(r"editions\.csv:(\d+): ([a-z]+|\(empty\)): ([^;]+); (.+?)"
                     r"(?=; \S*editions\.csv:\d+:|$)")
GOOD_ROW = "leeds,Leeds Syria Solidarity,2026-12-12,18:30,Central Library,,https://example.org,en"

BAD_CSV = {
    "missing-required-value": (
        HEADER + "leeds,Leeds Syria Solidarity,2026-12-12,18:30,,,,en\n", [(2, "place")]),
    "unknown-column": (
        "id,group,date,place,venue\nleeds,Leeds,2026-12-12,Library,Hall\n", [(1, "venue")]),
    "date-does-not-parse": (
        HEADER + "leeds,Leeds,2026-13-45,,Library,,,en\n", [(2, "date")]),
    "javascript-url": (
        HEADER + "leeds,Leeds,2026-12-12,,Library,,javascript:alert(1),en\n", [(2, "url")]),
    "duplicate-id": (
        HEADER + GOOD_ROW + "\n" + GOOD_ROW + "\n", [(3, "id")]),
    "language-the-folder-lacks": (
        HEADER + "leeds,Leeds,2026-12-12,,Library,,,fr\n", [(2, "lang")]),
    "every-row-problem-at-once": (
        HEADER + GOOD_ROW + "\n"
        + "york,York,2026-12-12,18:30,,,,en\n"
        + "hull,Hull,12/12/2026,,Docks,,,en\n"
        + "bath,Bath,2026-12-12,,Abbey,,javascript:alert(1),en\n"
        + GOOD_ROW + "\n"
        + "lyon,Lyon,2026-12-12,,Place Bellecour,,,fr\n",
        [(3, "place"), (4, "date"), (5, "url"), (6, "id"), (7, "lang")]),
    "every-header-problem-at-once": (
        "id,group,date,venue\nleeds,Leeds,2026-12-12,Hall\n", [(1, "venue"), (1, "place")]),
}


def assert_problems(message: str, expected: list[tuple[int, str]]) -> None:
    """Each expected (row, column) is reported as ``editions.csv:ROW: column: problem;
    fix``, and nothing else is."""
    found = PROBLEM.findall(message)
    assert sorted((int(row), column) for row, column, _, _ in found) == sorted(expected), (
        f"expected {expected}, reported: {message}")
    for row, column, problem, fix in found:
        assert problem.strip() and fix.strip(), f"row {row} {column}: no problem or no fix"


@pytest.mark.parametrize(("csv", "expected"), list(BAD_CSV.values()), ids=list(BAD_CSV))
def test_load_editions_reports_every_problem(tmp_path, csv, expected):
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "editions.csv").write_text(csv, encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_editions(folder, ["en", "es"])
    assert "\n" not in str(caught.value)
    assert_problems(str(caught.value), expected)


@pytest.mark.parametrize(("csv", "expected"), list(BAD_CSV.values()), ids=list(BAD_CSV))
def test_build_with_bad_editions_fails_cleanly_and_builds_nothing(tmp_path, csv, expected):
    content = content_copy(tmp_path / "content", csv)
    out = tmp_path / "out"
    result = run("build", "--project", ROOT, "--content", content, "--all-editions",
                 "placard-a3-landscape", "--variant", "desk", "--out", out)
    line = assert_clean_failure(result, 2)
    assert_problems(line, expected)
    assert not out.exists() or not any(out.rglob("*.pdf")), "an edition was built"


# --- the panel in the templates (no rendering) ---------------------------------------------


def html_of(target: str, edition=None, lang: str = "en") -> tuple[str, dict]:
    project = load_project(ROOT)
    content = dataclasses.replace(load_content(CONTENT, lang), edition=edition)
    t = plan(project, (target,), ("desk",))[0]
    read: dict = {}
    html = to_html(t, content, geometry(t, project), "", read=read)
    return html, read


def one_edition(tmp_path: Path, row: str):
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "editions.csv").write_text(HEADER + row + "\n", encoding="utf-8")
    return load_editions(folder, ["en"])[0]


@pytest.mark.parametrize("target", [*PANELS, "placard-a3-landscape"])
def test_plain_kit_has_no_panel(target):
    html, read = html_of(target)
    assert 'class="edition' not in html and 'data-fit="group"' not in html
    assert not [name for name in read if name.startswith("edition")]


@pytest.mark.parametrize("target", PANELS)
def test_panel_without_address_has_no_code(tmp_path, target):
    edition = one_edition(tmp_path, "york,York Solidarity,2026-12-12,,The Minster,,,en")
    html, _ = html_of(target, edition)
    assert 'class="edition"' in html and "York Solidarity" in html
    assert 'class="qr"' not in html and "Scan for more" not in html


def test_placard_reads_nothing_of_the_edition(tmp_path):
    """What a template reads is what its output depends on: a placard that read the
    edition would be made again, and differ, in every edition."""
    edition = one_edition(tmp_path, EDITIONS["leeds"][0])
    _, placard = html_of("placard-a3-landscape", edition)
    _, flyer = html_of("flyer-a6", edition)
    assert not [name for name in placard if name.startswith("edition")]
    assert {"edition.group", "edition.date", "edition.place", "edition.url"} <= set(flyer)


def test_every_language_has_the_panel_captions():
    folder = ROOT / "layouts" / "_base" / "strings"
    for path in sorted(folder.glob("*.toml")):
        words = tomllib.loads(path.read_text(encoding="utf-8"))
        missing = [k for k in ("when", "where", "contact", "scan") if not words.get(k)]
        assert not missing, f"{path.name} has no {', '.join(missing)}"


# --- the built panels ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Code:
    """A decoded QR code: its text and its symbol's box on the page, in PDF points
    (x0, y0, x1, y1), quiet zone excluded."""

    text: str
    box: tuple[float, float, float, float]
    quiet: bool  # four modules of light all round

    @property
    def width_mm(self) -> float:
        return (self.box[2] - self.box[0]) * MM_PER_PT


def modules(url: str) -> int:
    """How many modules across the symbol of ``url`` is (quiet zone excluded)."""
    import segno

    return segno.make(url, error="m").symbol_size(border=0)[0]


def page_of(document: pdfium.PdfDocument, index: int) -> pdfium.PdfPage:
    """A page by index, counting from the end when negative (pdfium does not)."""
    return document[index % len(document)]


def read_code(path: Path, page_index: int) -> Code:
    import zxingcpp

    document = pdfium.PdfDocument(path)
    try:
        page = page_of(document, page_index)
        left, _, _, top = page.get_mediabox()
        image = page.render(scale=DPI / 72, grayscale=True).to_pil()
    finally:
        document.close()
    found = [b for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(found) == 1, f"{path.name} page {page_index}: {len(found)} QR codes found"
    corners = found[0].position
    xs = [p.x for p in (corners.top_left, corners.top_right, corners.bottom_left,
                        corners.bottom_right)]
    ys = [p.y for p in (corners.top_left, corners.top_right, corners.bottom_left,
                        corners.bottom_right)]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    module = (x1 - x0) / modules(found[0].text)
    ring = 4 * module - 1.0  # the quiet zone, less a pixel of rounding
    edge = 2  # the symbol's own edge pixels (anti-aliased; the corners found are inclusive)
    pixels = image.load()
    quiet = all(pixels[x, y] > 200
                for x in range(round(x0 - ring), round(x1 + ring) + 1)
                for y in range(round(y0 - ring), round(y1 + ring) + 1)
                if not (x0 - edge <= x <= x1 + edge and y0 - edge <= y <= y1 + edge))
    pt = 72 / DPI
    return Code(found[0].text, (left + x0 * pt, top - y1 * pt, left + x1 * pt, top - y0 * pt),
                quiet)


PANEL_CASES = [(e, t, v) for e in EDITIONS for t in PANELS for v in VARIANTS]
PANEL_IDS = [f"{e}-{t}-{v}" for e, t, v in PANEL_CASES]


@pytest.mark.parametrize(("edition", "target", "variant"), PANEL_CASES, ids=PANEL_IDS)
def test_qr_code_holds_the_address_large_enough(built, edition, target, variant):
    code = read_code(pdf_path(built, edition, target, variant), PANELS[target])
    assert code.text == EDITIONS[edition][1].url
    assert code.width_mm >= MIN_QR_MM[target], (
        f"the code is {code.width_mm:.1f} mm across, under {MIN_QR_MM[target]:g} mm")
    assert code.quiet, "the code has no clear quiet zone of four modules"


# A small reader of painted rectangles and their fill colour, following q/Q, cm and form
# XObjects: enough for WeasyPrint's boxes (each background is a rectangle it fills).


def _matrix(m, n):
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s,
            e * p + f * r + t, e * q + f * s + u)


def filled_rects(page) -> list[tuple[tuple[float, float, float, float], tuple]]:
    """Every filled rectangle on the page: its box in page space and its fill colour."""
    spaces = {"/DeviceCMYK": "DeviceCMYK", "/DeviceRGB": "DeviceRGB", "/DeviceGray": "DeviceGray"}
    found = []

    def walk(owner, resources, ctm):
        stack, fill, path = [], ("DeviceGray", (0.0,)), []
        space = "DeviceGray"
        for operands, op in pikepdf.parse_content_stream(owner):
            op = str(op)
            if op == "q":
                stack.append((ctm, fill, space))
            elif op == "Q":
                ctm, fill, space = stack.pop()
            elif op == "cm":
                ctm = _matrix(tuple(float(v) for v in operands), ctm)
            elif op == "cs":
                space = spaces.get(str(operands[0]), str(operands[0]))
            elif op in ("sc", "scn"):
                fill = (space, tuple(float(v) for v in operands if not isinstance(v, pikepdf.Name)))
            elif op in ("k", "rg", "g"):
                fill = ({"k": "DeviceCMYK", "rg": "DeviceRGB", "g": "DeviceGray"}[op],
                        tuple(float(v) for v in operands))
            elif op == "re":
                x, y, w, h = (float(v) for v in operands)
                path.append((x, y, x + w, y + h))
            elif op in ("f", "F", "f*", "B", "B*", "b", "b*"):
                for x0, y0, x1, y1 in path:
                    points = [(x0, y0), (x1, y0), (x0, y1), (x1, y1)]
                    a, b, c, d, e, f = ctm
                    xs = [a * x + c * y + e for x, y in points]
                    ys = [b * x + d * y + f for x, y in points]
                    found.append(((min(xs), min(ys), max(xs), max(ys)), fill))
                path = []
            elif op in ("n", "S", "s"):
                path = []
            elif op == "Do":
                xobject = resources.get("/XObject", {}).get(str(operands[0]))
                if xobject is not None and xobject.get("/Subtype") == "/Form":
                    inner = tuple(float(v) for v in xobject.get("/Matrix", [1, 0, 0, 1, 0, 0]))
                    walk(xobject, xobject.get("/Resources", resources), _matrix(inner, ctm))

    walk(page, page.Resources, (1.0, 0.0, 0.0, 1.0, 0.0, 0.0))
    return found


@pytest.mark.parametrize("target", PANELS)
def test_press_qr_code_is_pure_k_on_paper(built, target):
    path = pdf_path(built, "leeds", target, "press")
    code = read_code(path, PANELS[target])
    module = (code.box[2] - code.box[0]) / modules(code.text)
    x0, y0, x1, y1 = (code.box[0] - 4.5 * module, code.box[1] - 4.5 * module,
                      code.box[2] + 4.5 * module, code.box[3] + 4.5 * module)
    with pikepdf.open(path) as pdf:
        rects = filled_rects(pdf.pages[PANELS[target]])
    inside = [(box, fill) for box, fill in rects
              if x0 <= box[0] and box[2] <= x1 and y0 <= box[1] and box[3] <= y1]
    dark = [fill for _, fill in inside if fill == PURE_K]
    assert len(dark) > 20, f"{len(dark)} pure K boxes in the code"
    other = {fill for _, fill in inside if fill not in (PURE_K, PAPER)}
    assert not other, f"the code is drawn in {other}, not pure K on paper"


TEXT_CASES = [(e, t) for e in EDITIONS for t in PANELS]


def page_text(path: Path, index: int) -> str:
    document = pdfium.PdfDocument(path)
    try:
        textpage = page_of(document, index).get_textpage()
        return textpage.get_text_range()
    finally:
        document.close()


@pytest.mark.parametrize(("edition", "target"), TEXT_CASES,
                         ids=[f"{e}-{t}" for e, t in TEXT_CASES])
def test_panel_prints_the_details(built, edition, target):
    text = squash(page_text(pdf_path(built, edition, target, "desk"), PANELS[target]))
    missing = [t for t in EDITIONS[edition][1].texts if squash(t) not in text]
    assert not missing, f"not in the text of the panel's page: {missing}"


@pytest.mark.parametrize("variant", VARIANTS)
def test_placards_are_the_same_in_every_edition_of_a_language(built, variant):
    name = f"placard-a3-landscape-{variant}.pdf"
    assert (built / "leeds" / name).read_bytes() == (built / "sheffield" / name).read_bytes()


def chars_of(textpage, wanted: str) -> list[int]:
    """The indexes of the characters that print ``wanted`` on the page (as ``squash``
    compares them: across line breaks and hyphens, in any case)."""
    count = textpage.count_chars()
    kept = [(i, squash(textpage.get_text_range(i, 1))) for i in range(count)]
    kept = [(i, s) for i, s in kept if s]
    joined = "".join(s for _, s in kept)
    start = joined.find(squash(wanted))
    assert start >= 0, f"{wanted!r} is not on the page"
    indexes, at = [], 0
    for i, s in kept:
        if start <= at < start + len(squash(wanted)):
            indexes.append(i)
        at += len(s)
    return indexes


@pytest.mark.parametrize("target", PANELS)
def test_long_group_and_place_are_fitted_not_clipped(built, target):
    """Set smaller than a short name, and every character on the page, inside the safe
    zone and clear of the QR code."""
    import pypdfium2.raw as raw

    sizes = {}
    for edition in ("leeds", "sheffield"):
        path = pdf_path(built, edition, target, "desk")
        code = read_code(path, PANELS[target])
        document = pdfium.PdfDocument(path)
        try:
            page = page_of(document, PANELS[target])
            left, bottom, right, top = page.get_mediabox()
            safe = SAFE_MM.get(target, 5.0) / MM_PER_PT
            textpage = page.get_textpage()
            group = chars_of(textpage, EDITIONS[edition][1].texts[0])
            sizes[edition] = raw.FPDFText_GetFontSize(textpage.raw, group[0])
            if edition == "leeds":
                continue
            for wanted in (LONG_GROUP, LONG_PLACE):
                for i in chars_of(textpage, wanted):
                    x0, y0, x1, y1 = textpage.get_charbox(i)  # left, bottom, right, top
                    char = textpage.get_text_range(i, 1)
                    assert (left + safe <= x0 and x1 <= right - safe
                            and bottom + safe <= y0 and y1 <= top - safe), (
                        f"{char!r} of {wanted[:20]!r}… is outside the safe zone")
                    assert (x1 <= code.box[0] or x0 >= code.box[2] or y1 <= code.box[1]
                            or y0 >= code.box[3]), f"{char!r} of {wanted[:20]!r}… is under the code"
        finally:
            document.close()
    assert sizes["sheffield"] < sizes["leeds"], f"the long name is not set smaller: {sizes}"


@pytest.mark.parametrize("edition", CHECKED)
def test_preflight_passes_strict_on_each_edition(built, edition):
    result = run("check", "--project", ROOT, "--strict", built / edition)
    assert result.exit_code == 0, result.output


def test_no_layout_lays_out_the_qr_codes_modules(monkeypatch):
    """The code is an empty box in every layout, the final one included: its modules,
    a few hundred boxes, made each layout several times as long, and are drawn into the
    PDF instead (``pdf.qr``; the code is read back from the page in the tests above)."""
    from pamphleteer import render
    from pamphleteer.typeset import Typesetter

    project = load_project(ROOT)
    folder = project.content_dir
    edition = load_editions(folder, ["en", "es", "ar"])[0]
    content = dataclasses.replace(load_content(folder), edition=edition)
    renderer = render.Renderer(project.fonts_dir)
    laid_out = []
    layout = renderer.layout
    monkeypatch.setattr(renderer, "layout", lambda html, *a, **k: (
        laid_out.append(html), layout(html, *a, **k))[1])
    [target] = plan(project, ("poster-a3",), ("desk",))
    Typesetter(renderer, target, content, geometry(target, project)).typeset()
    documents = [h for h in laid_out if 'class="qr"' in h]  # not copyfit's probes
    assert len(documents) >= 2
    empty = re.compile(r'<span class="qr" [^>]*data-qr="https://example\.org/leeds"></span>')
    assert all(len(empty.findall(h)) == 1 for h in documents)
