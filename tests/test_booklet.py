"""The booklet's body fit: the text grows to fill the sheets it needs at the smallest size."""

from __future__ import annotations

import collections
import re
from pathlib import Path

import pikepdf
import pytest

from helpers import CONTENT, copy_project, read_article, read_slogans, run, write_content

TARGET = ("booklet-a5", "--variant", "desk", "--jobs", "1")
FILE = "booklet-a5-desk.pdf"


def body_size(path: Path) -> float:
    """The commonest font size on the article's first full page (page 3), as pdfium reads
    it: in the PDF's own units, enough to compare two builds of one layout."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    document = pdfium.PdfDocument(path)
    try:
        textpage = document[2].get_textpage()
        sizes = collections.Counter(round(raw.FPDFText_GetFontSize(textpage.raw, i), 2)
                                    for i in range(textpage.count_chars()))
        textpage.close()
        return sizes.most_common(1)[0][0]
    finally:
        document.close()


def build(project: Path, content: Path, out: Path) -> tuple[int, float | None]:
    result = run("build", "--project", project, "--content", content, "--out", out, *TARGET)
    assert result.exit_code == 0, result.output
    with pikepdf.open(out / FILE) as pdf:
        pages = len(pdf.pages)
    return pages, body_size(out / FILE) if pages > 4 else None


def body_range(project: Path, size: float | None = None) -> tuple[float, float]:
    """The booklet's body range in layout.toml; with ``size``, hold the body at it."""
    toml = project / "layouts" / "booklet" / "layout.toml"
    text = toml.read_text(encoding="utf-8")
    head, table = text.split("[body_fit]\n")
    low = float(re.search(r"^min_pt = ([\d.]+)", table, re.MULTILINE).group(1))
    high = float(re.search(r"^max_pt = ([\d.]+)", table, re.MULTILINE).group(1))
    if size is not None:
        table = re.sub(r"^(min|max)_pt = [\d.]+", rf"\1_pt = {size:.2f}", table, flags=re.MULTILINE)
        toml.write_text(f"{head}[body_fit]\n{table}", encoding="utf-8")
    return low, high


def test_short_article_is_four_pages(tmp_path, project_dir):
    """Cover, one page of text, one slogan page, the back: the text needs one sheet."""
    content = write_content(tmp_path / "c", {"title": "Stop the bombing"},
                            body="Not one more bomb on Aleppo.\n", slogans=["One", "Two"])
    pages, _ = build(project_dir, content, tmp_path / "out")
    assert pages == 4


@pytest.mark.parametrize("repeat", [1, 3], ids=["sample", "three-times-as-long"])
def test_body_grows_within_the_sheets_the_smallest_size_needs(tmp_path, repeat):
    """Built as it is and with the body held at its smallest size, the booklet has the
    same number of pages: the type grew only as far as those sheets allow, and it grew.
    The sample reaches the largest size; three times its body stops below it, and a
    step larger would take another sheet."""
    project = copy_project(tmp_path / "proj")
    front, _ = read_article(CONTENT)
    body = (CONTENT / "article.md").read_text(encoding="utf-8").split("---\n", 2)[2]
    content = write_content(tmp_path / "c", front, body="\n".join([body] * repeat),
                            slogans=read_slogans(CONTENT))
    pages, fitted = build(project, content, tmp_path / "fitted")
    low, high = body_range(project, size=body_range(project)[0])
    smallest_pages, smallest = build(project, content, tmp_path / "smallest")
    assert pages == smallest_pages and pages % 4 == 0
    fitted_pt = fitted * low / smallest  # pdfium's units are the PDF's, not pt
    assert low < fitted_pt <= high + 0.01
    if repeat == 1:
        assert (pages, round(fitted_pt, 2)) == (8, high)
    else:
        assert fitted_pt < high
        body_range(project, size=fitted_pt + 0.3)
        assert build(project, content, tmp_path / "larger")[0] > pages


# --- an edition's booklet: the plain pages and its back cover, laid out alone -----------

EDITIONS_CSV = """id,group,date,time,place,contact,url,lang
leeds,Leeds Syria Solidarity,2026-12-12,18:30,Central Library,leeds@example.org,https://example.org/leeds,en
york,York for Syria,2026-12-19,,Minster Gates,,https://example.org/york,en
marseille-ar,التضامن مع سوريا في مرسيليا,2026-12-14,17:00,ساحة الحرية، مرسيليا,,https://example.org/marseille,ar
"""


@pytest.fixture(scope="module")
def editions_content(tmp_path_factory) -> Path:
    import shutil

    folder = tmp_path_factory.mktemp("editions") / "content"
    shutil.copytree(CONTENT, folder)
    (folder / "editions.csv").write_text(EDITIONS_CSV, encoding="utf-8")
    return folder


def pages_as_drawn(path: Path) -> list[tuple[bytes, str]]:
    """Each page's pixels (at 100 dpi) and text."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    try:
        return [(page.render(scale=100 / 72).to_pil().convert("RGB").tobytes(),
                 page.get_textpage().get_text_range()) for page in document]
    finally:
        document.close()


@pytest.mark.parametrize("edition", ["leeds", "marseille-ar"])
def test_an_editions_booklet_is_the_one_laid_out_whole(tmp_path, monkeypatch,
                                                       editions_content, edition):
    """An edition's booklet is the plain booklet's pages with its back cover laid out
    on its own: page for page, pixel for pixel and word for word the booklet laid out
    whole, in every variant made that way (riso's drums included), left to right and
    right to left."""
    from pamphleteer import pipeline

    def built(out: Path) -> Path:
        result = run("build", "booklet-a5", "--content", editions_content, "--edition",
                     edition, "--jobs", "1", "--out", out,
                     *(a for v in ("press", "desk", "mono", "riso") for a in ("--variant", v)))
        assert result.exit_code == 0, result.output
        return out / edition

    alone = built(tmp_path / "alone")
    monkeypatch.setattr(pipeline, "_last_page_alone", lambda *_: False)
    whole = built(tmp_path / "whole")
    for variant in ("press", "desk", "mono", "riso"):
        name = f"booklet-a5-{variant}.pdf"
        assert pages_as_drawn(alone / name) == pages_as_drawn(whole / name), name
        with pikepdf.open(alone / name) as a, pikepdf.open(whole / name) as w:
            assert len(a.pages) == len(w.pages) == (16 if variant == "riso" else 8)


def test_a_later_edition_lays_out_its_back_cover_alone(tmp_path, monkeypatch,
                                                       editions_content):
    """Once an edition of a language has made the plain booklet, another lays out one
    page of its own (and its fitted texts' probes), not the article again."""
    from pamphleteer import render

    def build(edition: str) -> None:
        result = run("build", "booklet-a5", "--content", editions_content, "--edition",
                     edition, "--variant", "desk", "--jobs", "1", "--out", tmp_path / edition)
        assert result.exit_code == 0, result.output

    build("leeds")
    laid_out, layout = [], render.Renderer.layout

    def recorded(self, html, base, what, *args, **kwargs):
        document = layout(self, html, base, what, *args, **kwargs)
        laid_out.append((what, len(document.pages)))
        return document

    monkeypatch.setattr(render.Renderer, "layout", recorded)
    build("york")
    assert ("booklet-a5-desk.pdf", 1) in laid_out
    assert all(pages == 1 for what, pages in laid_out if "copyfit" not in what), laid_out
