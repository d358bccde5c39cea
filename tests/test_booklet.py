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
