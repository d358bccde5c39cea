"""Right-to-left kits (issue 11): the Arabic translation of the sample, set right to left.

One build of the Arabic placard, poster, leaflet and booklet (every variant), read back:
the text in reading order, lines starting at the right, columns and spreads running from
the right, the booklet bound on the right, fitted texts as large as their boxes allow.
"""

from __future__ import annotations

import collections
import ctypes
import statistics
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as raw
import pytest

from helpers import CONTENT, PT_PER_MM, ROOT, VARIANTS, numbered_pdf, pdf_texts, run
from pamphleteer.pdf import impose, metadata
from test_copyfit import CLOSE, FIT_RULE, _overflows
from test_impose import halves_text

TARGETS = ("placard-a3-landscape", "poster-a3", "leaflet-a4", "booklet-a5")
#: What bidi-aware extractors may add around runs: marks, embeddings, isolates.
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                                       "\u2066\u2067\u2068\u2069"))
TOL_PT = 2.0  # a glyph's side bearing: how far its ink may sit from where its line ends


def plain(text: str) -> str:
    """Text as a reader would compare it: no bidi controls, whitespace collapsed."""
    return " ".join(text.translate(BIDI_CONTROLS).split())


def arabic_slogans() -> list[str]:
    lines = (CONTENT / "slogans.ar.md").read_text(encoding="utf-8").splitlines()
    return [line[2:].strip() for line in lines if line.startswith("- ")]


@pytest.fixture(scope="module")
def arabic(tmp_path_factory) -> Path:
    """The Arabic outputs of TARGETS, every variant, built once with the CLI."""
    out = tmp_path_factory.mktemp("rtl")
    result = run("build", "--project", ROOT, "--lang", "ar", "--out", out, *TARGETS)
    assert result.exit_code == 0, result.output
    return out / "ar"


# --- reading pages back --------------------------------------------------------------------


def _chars(page) -> list[tuple[str, float, float, float, float, float, float]]:
    """Each drawn character: (char, left, bottom, right, top, baseline y, font size)."""
    textpage = page.get_textpage()
    chars = []
    x, y = ctypes.c_double(), ctypes.c_double()
    for i in range(textpage.count_chars()):
        ch = textpage.get_text_range(i, 1)
        if not ch.strip():
            continue
        raw.FPDFText_GetCharOrigin(textpage.raw, i, x, y)
        size = round(raw.FPDFText_GetFontSize(textpage.raw, i), 2)
        chars.append((ch, *textpage.get_charbox(i), round(y.value, 1), size))
    textpage.close()
    return chars


def body_lines(path: Path, index: int, columns: int) -> list[list[tuple[float, float, float]]]:
    """The body text's lines on one page, per column from the right, top to bottom:
    (left, right, baseline) in pt.

    The body is the commonest font size on the page; a line is the body's characters on
    one baseline and in one column (left or right of the page's middle, with two).
    """
    document = pdfium.PdfDocument(path)
    try:
        page = document[index]
        middle = page.get_width() / 2
        chars = _chars(page)
        page.close()
    finally:
        document.close()
    body = collections.Counter(c[6] for c in chars).most_common(1)[0][0]
    lines: dict[tuple[int, float], list[tuple[float, float]]] = collections.defaultdict(list)
    for _, left, _, right, _, baseline, size in chars:
        if size == body:
            column = 0 if columns == 1 or (left + right) / 2 > middle else 1
            lines[column, baseline].append((left, right))
    return [[(min(left for left, _ in line), max(right for _, right in line), baseline)
             for (c, baseline), line in sorted(lines.items(), key=lambda kv: -kv[0][1])
             if c == column]
            for column in range(columns)]


def assert_set_from_the_right(lines: list[tuple[float, float, float]], where: str,
                              ends: bool = False) -> int:
    """Every line ends (in reading order: starts) at the column's right edge, or one
    indent in from it when it opens a paragraph. The last line of each paragraph (the
    line before an indented one; with ``ends``, the column's last line too) is set from
    the right edge and stops short of the left edge: not justified, not set from the
    left. Returns how many such last lines end flush right (the others are one-line
    paragraphs, indented)."""
    edge = statistics.median(r for _, r, _ in lines)  # most lines end at the edge
    left_edge = min(left for left, _, _ in lines)
    indents = [edge - r for _, r, _ in lines if edge - r > TOL_PT]
    assert indents, f"{where}: no paragraph is indented"
    indent = statistics.median(indents)
    assert 4 < indent < 30, f"{where}: indent {indent:.1f} pt"
    opens = []
    for _, right, _ in lines:
        flush, indented = abs(edge - right) <= TOL_PT, abs(edge - indent - right) <= TOL_PT
        assert flush or indented, f"{where}: a line ends {edge - right:.1f} pt from the edge"
        opens.append(indented)
    last = [lines[i] for i in range(len(lines) - 1) if opens[i + 1]]
    last += lines[-1:] if ends else []
    for left, _, _ in last:
        assert left - left_edge > 3 * TOL_PT, (
            f"{where}: a paragraph's last line reaches the left edge")
    return sum(abs(edge - r) <= TOL_PT for _, r, _ in last)


def text_in(path: Path, index: int, left: float, bottom: float, right: float,
            top: float) -> str:
    document = pdfium.PdfDocument(path)
    try:
        page = document[index]
        textpage = page.get_textpage()
        text = textpage.get_text_bounded(left, bottom, right, top)
        textpage.close()
        page.close()
        return plain(text)
    finally:
        document.close()


# --- reading order -------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_placard_slogans_read_in_reading_order(arabic, variant):
    """Each placard's text, as pdfium extracts it, is its slogan as written: letters,
    ligatures (lam-alef), Latin words and punctuation in reading order."""
    pages = pdf_texts(arabic / f"placard-a3-landscape-{variant}.pdf")
    assert [plain(p) for p in pages] == arabic_slogans()


@pytest.mark.parametrize("variant", VARIANTS)
def test_poster_slogans_read_in_reading_order(arabic, variant):
    [text] = pdf_texts(arabic / f"poster-a3-{variant}.pdf")
    text = plain(text)
    at = [text.find(s) for s in arabic_slogans()]
    assert -1 not in at, "a slogan is missing from the poster"
    assert at == sorted(at), "the poster's slogans are out of order"


def test_latin_words_and_digits_keep_their_order(arabic):
    """Latin words and digits inside Arabic text read as written, among their Arabic
    neighbours (pdfium's text), and a run of Latin words is drawn left to right in its
    order (pdfium's own bidi reorders the words of such a run, so it is read from the
    page: its letters from left to right)."""
    path = arabic / "leaflet-a4-desk.pdf"
    text = plain(" ".join(pdf_texts(path)))
    for phrase in ("ونحو 300,000 شخص", "في حلف NATO، وبالتالي", "تقاتل تنظيم ISIS هناك"):
        assert phrase in text
    document = pdfium.PdfDocument(path)
    try:
        latin = collections.defaultdict(list)
        for index, page in enumerate(document):
            for ch, left, *_, baseline, _ in _chars(page):
                if ch.isascii() and ch.isalpha():
                    latin[index, baseline].append((left, ch))
            page.close()
    finally:
        document.close()
    runs = ["".join(ch for _, ch in sorted(line)) for line in latin.values()]
    assert "MIGUELLAMAS" in runs and "IzquierdaSocialista" in runs, runs


def test_arabic_faces_with_a_latin_fallback(arabic):
    """Naskh for text, Kufi for display, Charis for the Latin words; never Bebas, whose
    display stack would have handed Arabic to whatever font fontconfig found."""
    with pikepdf.open(arabic / "leaflet-a4-desk.pdf") as pdf:
        from pamphleteer.pdf import fonts

        names = {str(f.BaseFont).split("+")[-1] for f in fonts(pdf)}
    assert {"Noto-Naskh-Arabic", "Noto-Kufi-Arabic-Bold", "Charis-SIL"} <= names
    assert not any("Bebas" in n for n in names), names


# --- right to left on the page -------------------------------------------------------------


def test_leaflet_lines_start_at_the_right(arabic):
    path = arabic / "leaflet-a4-desk.pdf"
    flush = 0
    for index in range(2):
        for side, lines in zip(("right", "left"), body_lines(path, index, 2), strict=True):
            flush += assert_set_from_the_right(lines, f"leaflet page {index + 1}, {side} column",
                                               ends=(index, side) == (1, "left"))
    assert flush >= 3, "too few paragraphs end on a line of their own to judge"


def test_booklet_lines_start_at_the_right(arabic):
    path = arabic / "booklet-a5-desk.pdf"
    flush = sum(assert_set_from_the_right(body_lines(path, index, 1)[0],
                                          f"booklet page {index + 1}")
                for index in (2, 3))  # page 2 holds the opening paragraph alone
    assert flush >= 2, "too few paragraphs end on a line of their own to judge"


def test_leaflet_columns_and_slogans_run_from_the_right(arabic):
    """The article starts at the top of the right-hand column; the first slogan of the
    band is the right-hand one of its first row."""
    path = arabic / "leaflet-a4-desk.pdf"
    right, left = body_lines(path, 0, 2)
    for column, opens in ((right, True), (left, False)):
        left_x, right_x, baseline = column[0]
        first = text_in(path, 0, left_x, baseline - 2, right_x, baseline + 8)
        assert first.startswith("في الأسبوع الأول من أغسطس") == opens, first
    document = pdfium.PdfDocument(path)
    w, h = document[1].get_size()
    document.close()
    band = h * 0.38  # the slogans' band, across the foot of page 2
    slogans = arabic_slogans()
    assert text_in(path, 1, w / 2, 0, w, band).startswith(slogans[0])
    assert text_in(path, 1, 0, 0, w / 2, band).startswith(slogans[1])


def test_booklet_heads_and_folios_on_the_outer_side(arabic):
    """Bound on the right, the booklet's page 2 is a right-hand page and page 3 a
    left-hand one: each has its folio and running head on its outer side."""
    document = pdfium.PdfDocument(arabic / "booklet-a5-desk.pdf")
    try:
        for index, outer in ((1, "right"), (2, "left"), (3, "right")):
            page = document[index]
            w, h = page.get_size()
            margins = [c for c in _chars(page) if c[5] < 16 * PT_PER_MM
                       or c[5] > h - 16 * PT_PER_MM]
            page.close()
            assert margins, f"page {index + 1}: no folio or running head"
            for ch, left, _, right, *_ in margins:
                centre = (left + right) / 2
                side = "right" if centre > w / 2 else "left"
                assert side == outer, f"page {index + 1}: {ch!r} on the {side}"
            folio = [c for c in margins if c[5] < h / 2]
            assert "".join(c[0] for c in folio) == str(index + 1)
    finally:
        document.close()


# --- binding on the right ------------------------------------------------------------------


def test_right_to_left_files_say_so(arabic):
    for path in sorted(arabic.glob("*.pdf")):
        if "-imposed-" in path.name or "-tiled-" in path.name:  # sheets, not reading order
            continue
        with pikepdf.open(path) as pdf:
            assert metadata.reads_right_to_left(pdf), path.name


def test_right_to_left_sheets_mirror_left_to_right_ones():
    """Sheet s carries 2s−1 | N−2s+2 outside and N−2s+1 | 2s inside: the mirror of a
    left-to-right booklet's sheets (PRINT.md, right-to-left booklets)."""
    for pages in (4, 8, 12):
        pdf = metadata.set_right_to_left(numbered_pdf(pages))
        expected = []
        for s in range(1, pages // 4 + 1):
            expected.append((f"P{2 * s - 1}", f"P{pages - 2 * s + 2}"))
            expected.append((f"P{pages - 2 * s + 1}", f"P{2 * s}"))
        assert halves_text(impose.impose_booklet(pdf, "a4")) == expected


def test_arabic_booklet_is_imposed_bound_on_the_right(arabic):
    """Sheet 1's left half carries page 1 (the cover), its right half the back cover;
    every half of every side carries the reading page the mirrored order names (told
    apart by their letters: extractors order a half and a page's runs differently)."""
    def letters(text: str) -> str:
        return "".join(sorted("".join(text.translate(BIDI_CONTROLS).split())))

    pages = [letters(t) for t in pdf_texts(arabic / "booklet-a5-desk.pdf")]
    n = len(pages)
    with pikepdf.open(arabic / "booklet-a5-imposed-a4.pdf") as sheets:
        halves = [tuple(letters(t) for t in side) for side in halves_text(sheets)]
    expected = []
    for s in range(1, n // 4 + 1):
        expected.append((pages[2 * s - 2], pages[n - 2 * s + 1]))
        expected.append((pages[n - 2 * s], pages[2 * s - 1]))
    assert halves[0][0] == pages[0], "sheet 1's left half is not the cover"
    assert halves == expected


# --- fits ----------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["placard-a3-landscape", "poster-a3"])
def test_arabic_fits_fill_their_boxes(target):
    """Every fitted Arabic text is above its minimum, within its box, and would not fit
    3 % larger: copyfit measures right-to-left lines as well as left-to-right ones."""
    from pamphleteer import render
    from pamphleteer.config import load_project
    from pamphleteer.content import load_content
    from pamphleteer.targets import plan
    from pamphleteer.typeset import Typesetter, geometry

    project = load_project(ROOT)
    [t] = plan(project, (target,), ("desk",))
    typesetter = Typesetter(render.Renderer(project.fonts_dir), t,
                            load_content(project.content_dir, "ar"), geometry(t, project))
    document = typesetter.layout()
    fit_css = typesetter.fit_css(document)
    sizes = {m[0]: float(m[1]) for m in FIT_RULE.findall(fit_css)}
    assert sizes, fit_css
    specs = {i: t.layout.fits[b.name]
             for i, b in render.boxes(document, "data-fit").items() if not i.endswith("@box")}

    for ident, (h, box_h, w, box_w) in _overflows(typesetter, fit_css).items():
        assert sizes[ident] > specs[ident].min_pt, f"{ident} at its minimum"
        assert h <= box_h + 1 and w <= box_w + 1, f"{ident} overflows at {sizes[ident]} pt"

    bigger = fit_css + "\n" + "\n".join(
        f"#{i} {{ font-size: {min(s * CLOSE, specs[i].max_pt):.2f}pt !important; "
        "max-width: none !important; }" for i, s in sizes.items())
    roomy = [i for i, (h, box_h, w, box_w) in _overflows(typesetter, bigger).items()
             if sizes[i] * CLOSE <= specs[i].max_pt and h <= box_h + 0.5 and w <= box_w + 0.5]
    assert not roomy, f"still fit 3 % larger, so the fit left room: {roomy} ({sizes})"


def test_placard_ink_stays_inside_the_frame(arabic):
    """However large, each slogan's letters stay inside the accent frame, clear of it
    by most of the margin (desk: frame 11 mm from 5 mm in, then an 11 mm margin)."""
    document = pdfium.PdfDocument(arabic / "placard-a3-landscape-desk.pdf")
    try:
        for index, page in enumerate(document, 1):
            w, h = page.get_size()
            chars = _chars(page)
            page.close()
            inside = 25 * PT_PER_MM  # 27 mm to the slogan's area, less 2 mm of ink
            for ch, left, bottom, right, top, _, _ in chars:
                assert min(left, bottom, w - right, h - top) >= inside, (
                    f"placard {index}: {ch!r} reaches into the frame")
    finally:
        document.close()


def test_check_strict_passes(arabic):
    result = run("check", "--project", ROOT, "--strict", arabic)
    assert result.exit_code == 0, result.output
