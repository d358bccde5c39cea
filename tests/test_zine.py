"""The one-sheet zine: eight pages, their imposition in mini-zine order, legible text.

The order is read back from the imposed sheet itself: each panel's text (pypdfium2's
text in a bounded rectangle) names the page that sits there, and its characters' angle
says whether it is turned.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest

from helpers import CONTENT, PT_PER_MM, copy_project, numbered_pdf, run
from pamphleteer.check.graphics import walk
from pamphleteer.check.limits import Deadline
from pamphleteer.config import load_project
from pamphleteer.content import blocks
from pamphleteer.pdf import impose, metadata
from pamphleteer.pipeline import Job, build

A7_PT = (74 * PT_PER_MM, 105 * PT_PER_MM)
#: The classic mini-zine: top row (turned 180°) and bottom row, left to right.
TOP, BOTTOM = [5, 4, 3, 2], [6, 7, 8, 1]
SHEETS = {"zine-a7-imposed-a4.pdf": ("zine-a7-desk.pdf", (297, 210)),
          "zine-eighth-letter-imposed-letter.pdf": ("zine-eighth-letter-desk.pdf",
                                                    (279.4, 215.9))}
SMALLEST_PT = 8.0  # preflight's floor for desk and screen files (7.5 pt is the brief's)


def zine_pages(pages: int) -> pikepdf.Pdf:
    """A7 pages that say their own number near the head, to read the order back."""
    return numbered_pdf(pages, A7_PT, at=(40, A7_PT[1] - 60), font_pt=30)


def panels(data: bytes) -> list[list[tuple[str, float]]]:
    """(text, angle of its first character in degrees) of each panel: top row, bottom
    row, each left to right, on the sheet's only page."""
    doc = pdfium.PdfDocument(data)
    assert len(doc) == 1
    page = doc[0]
    w, h = page.get_size()
    text = page.get_textpage()
    rows = []
    for top in (True, False):
        row = []
        for c in range(4):
            left, right = c * w / 4, (c + 1) * w / 4
            bottom = h / 2 if top else 0.0
            found = text.get_text_bounded(left, bottom, right, bottom + h / 2).strip()
            angle = None
            for i in range(text.count_chars()):
                x0, y0, x1, y1 = text.get_charbox(i)
                if left <= (x0 + x1) / 2 < right and bottom <= (y0 + y1) / 2 < bottom + h / 2 \
                        and text.get_text_range(i, 1).strip():
                    angle = math.degrees(pdfium_c.FPDFText_GetCharAngle(text.raw, i))
                    break
            row.append((found, angle))
        rows.append(row)
    text.close()
    page.close()
    doc.close()
    return rows


def saved(pdf: pikepdf.Pdf) -> bytes:
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def test_zine_order_on_the_sheet():
    top, bottom = panels(saved(impose.impose_zine(zine_pages(8), "a4")))
    assert [t for t, _ in top] == [f"P{n}" for n in TOP]
    assert [t for t, _ in bottom] == [f"P{n}" for n in BOTTOM]
    assert all(a == pytest.approx(180, abs=1) for _, a in top)  # the top row is turned
    assert all(a == pytest.approx(0, abs=1) or a == pytest.approx(360, abs=1)
               for _, a in bottom)


def test_zine_right_to_left_mirrors_each_row():
    """An Arabic zine is bound on the right: the front cover bottom left, its spine on
    its right."""
    top, bottom = panels(saved(impose.impose_zine(
        metadata.set_right_to_left(zine_pages(8)), "a4")))
    assert [t for t, _ in top] == [f"P{n}" for n in reversed(TOP)]
    assert [t for t, _ in bottom] == [f"P{n}" for n in reversed(BOTTOM)]


def test_zine_order_folds_into_a_booklet():
    """Paper-fold reasoning, as a check on ``zine_order``: folded along the long side,
    print outside, each column's top panel lies behind its bottom one; the spine is
    the folds between columns 1|2 and 3|4 of both rows, the middle fold the fore-edge.
    Leaves, front to back: the right column (doubled), the top row's middle pair, the
    left column (doubled), the bottom row's middle pair. Each leaf's front then back is
    the book's next two pages."""
    top, bottom = impose.zine_order()
    leaves = [(bottom[3], top[3]), (top[2], top[1]), (top[0], bottom[0]),
              (bottom[1], bottom[2])]
    assert [n for leaf in leaves for n in leaf] == list(range(1, 9))


def test_zine_needs_eight_pages():
    with pytest.raises(ValueError, match="8 pages"):
        impose.impose_zine(zine_pages(4), "a4")


def test_zine_marks_fold_dashed_cut_solid():
    sheet = impose.impose_zine(zine_pages(8), "a4")
    ops = pikepdf.parse_content_stream(sheet.pages[0])
    dashes = [list(o[0][0]) for o in ops if str(o[1]) == "d"]
    assert [2, 2] in [[float(v) for v in d] for d in dashes]  # fold lines are dashed
    assert sum(str(o[1]) == "Do" for o in ops) == 8


# --- the built zine ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def zine(tmp_path_factory) -> Path:
    """Every zine output of the default content, built once."""
    project = load_project(Path(__file__).resolve().parents[1])
    out = tmp_path_factory.mktemp("zine")
    outputs = build(Job(project=project, content_dir=CONTENT, out_dir=out, targets=("zine",)))
    failed = [o.error for o in outputs if o.error]
    assert not failed, failed
    return out


def test_zine_pages_and_sizes(zine):
    for size, (w_mm, h_mm) in {"a7": (74, 105), "eighth-letter": (69.85, 107.95)}.items():
        for variant in ("press", "desk", "screen", "mono"):
            with pikepdf.open(zine / f"zine-{size}-{variant}.pdf") as pdf:
                assert len(pdf.pages) == 8
                for page in pdf.pages:
                    box = [float(v) / PT_PER_MM for v in page.trimbox]
                    assert box[2] - box[0] == pytest.approx(w_mm, abs=0.1)
                    assert box[3] - box[1] == pytest.approx(h_mm, abs=0.1)


@pytest.mark.parametrize("file", sorted(SHEETS))
def test_zine_sheet_reads_back_in_order(zine, file):
    """Each panel holds the page zine order puts there: the cover (headline) bottom
    right, the back (byline) next to it, each inner page with its folio."""
    source, sheet_mm = SHEETS[file]
    with pikepdf.open(zine / file) as sheet:
        assert len(sheet.pages) == 1
        w, h = (float(v) / PT_PER_MM for v in sheet.pages[0].mediabox[2:])
        assert (w, h) == pytest.approx(sheet_mm, abs=0.1)
    top, bottom = panels((zine / file).read_bytes())
    page = {n: text for n, (text, _) in zip(TOP + BOTTOM, top + bottom, strict=True)}
    assert "AL ASSAD" in page[1] and "BOMBING" in page[1]
    assert "MIGUEL LAMAS" in page[8].upper() and "Izquierda Socialista" in page[8]
    for n in range(2, 8):  # the folio closes each inner page
        assert page[n].split()[-1] == str(n), (n, page[n][-80:])
    assert all(a == pytest.approx(180, abs=1) for _, a in top)
    entry = {e["file"]: e for e in json.loads((zine / "manifest.json").read_text())
             ["outputs"]}[file]
    assert entry["imposed_from"] == source
    assert entry["duplex"] is None


def test_zine_text_stays_legible(zine):
    """No text under preflight's desk floor (the body fits at 8 pt or more), as
    printed: sizes read as preflight reads them, through every matrix, the imposed
    sheet's too."""
    for file in sorted(zine.glob("zine-*.pdf")):
        with pikepdf.open(file) as pdf:
            sizes = [t.size_pt for page in walk(pdf, Deadline(60)) for t in page.texts
                     if t.codes]
        assert min(sizes) >= SMALLEST_PT - 0.05, file.name


def test_zine_passes_strict_preflight(zine):
    result = run("check", "--strict", zine)
    assert result.exit_code == 0, result.output


def test_zine_points_to_the_full_text_when_too_long(tmp_path):
    """An article too long for eight pages at 8 pt: its first paragraphs, as many as
    fit, then where to read it all; still eight pages, the text never under 8 pt."""
    project = copy_project(tmp_path / "proj")
    content = tmp_path / "long"
    content.mkdir()
    article = (CONTENT / "article.md").read_text(encoding="utf-8")
    head, body = article.split("\n---\n", 1)
    (content / "article.md").write_text(f"{head}\n---\n{body * 4}", encoding="utf-8")
    (content / "slogans.md").write_text((CONTENT / "slogans.md").read_text(encoding="utf-8"),
                                        encoding="utf-8")
    outputs = build(Job(project=load_project(project), content_dir=content,
                        out_dir=tmp_path / "out", targets=("zine-a7",), variants=("desk",)))
    assert not [o.error for o in outputs if o.error]
    doc = pdfium.PdfDocument(tmp_path / "out" / "zine-a7-desk.pdf")
    assert len(doc) == 8
    pages = [doc[i].get_textpage().get_text_range() for i in range(8)]
    assert "In the first week of August" in " ".join(pages[1:3])  # the article starts
    inner = " ".join(pages[1:7])
    assert "THE FULL TEXT" in inner.upper() and "Izquierda Socialista" in inner
    assert inner.upper().index("THE FULL TEXT") > inner.index("In the first week")


def test_blocks_split_a_fragment_between_top_level_elements():
    html = ("<p>a <em>b</em></p>\n<blockquote>\n<p>x</p>\n<p>y</p>\n</blockquote>\n"
            "<ul>\n<li>1</li>\n</ul>\n<hr />\n<h2>Sub</h2>\n<p>z<br>w</p>")
    assert blocks(html) == ["<p>a <em>b</em></p>", "<blockquote>\n<p>x</p>\n<p>y</p>\n"
                            "</blockquote>", "<ul>\n<li>1</li>\n</ul>", "<hr />",
                            "<h2>Sub</h2>", "<p>z<br>w</p>"]


def test_zine_short_article_leaves_pages_to_slogans(tmp_path):
    """One paragraph: the pages it leaves each carry a slogan, in order, before the
    back; still eight pages."""
    project = copy_project(tmp_path / "proj")
    content = tmp_path / "short"
    content.mkdir()
    head = (CONTENT / "article.md").read_text(encoding="utf-8").split("\n---\n", 1)[0]
    head = "\n".join(line for line in head.splitlines() if not line.startswith("standfirst:"))
    (content / "article.md").write_text(f"{head}\n---\nOne short paragraph.\n",
                                        encoding="utf-8")
    (content / "slogans.md").write_text("- Bread\n- Roses\n", encoding="utf-8")
    outputs = build(Job(project=load_project(project), content_dir=content,
                        out_dir=tmp_path / "out", targets=("zine-a7",), variants=("desk",)))
    assert not [o.error for o in outputs if o.error]
    doc = pdfium.PdfDocument(tmp_path / "out" / "zine-a7-desk.pdf")
    pages = [" ".join(doc[i].get_textpage().get_text_range().split()) for i in range(len(doc))]
    assert len(pages) == 8
    assert "One short paragraph." in pages[1]
    assert pages[2:7] == ["BREAD", "ROSES", "BREAD", "ROSES", "BREAD"]
    assert "BREAD" in pages[7] and "ROSES" in pages[7]


def test_zine_in_arabic_opens_on_the_right(tmp_path):
    """Right to left: each row mirrored on the sheet, the cover bottom left."""
    project = load_project(Path(__file__).resolve().parents[1])
    outputs = build(Job(project=project, content_dir=CONTENT, out_dir=tmp_path, lang="ar",
                        targets=("zine-a7",), variants=("desk",)))
    assert not [o.error for o in outputs if o.error]
    top, bottom = panels((tmp_path / "zine-a7-imposed-a4.pdf").read_bytes())
    page = {n: text for n, (text, _) in zip(TOP[::-1] + BOTTOM[::-1], top + bottom,
                                            strict=True)}
    assert "القصف" in page[1]  # the headline: "... stop the bombing!"
    assert "Izquierda Socialista" in page[8]
    for n in range(2, 8):
        assert page[n].split()[-1] == str(n), (n, page[n][-80:])
