"""Imposed sheets: page order for saddle stitching, sheet sizes, ticks, fonts embedded once."""

from __future__ import annotations

import io
import json

import pikepdf
import pypdfium2 as pdfium
import pytest

from helpers import IMPOSED, PT_PER_MM, numbered_pdf
from pamphleteer.pdf import impose


def halves_text(pdf: pikepdf.Pdf) -> list[tuple[str, str]]:
    """(left half, right half) text of every sheet side."""
    buffer = io.BytesIO()
    pdf.save(buffer)
    doc = pdfium.PdfDocument(buffer.getvalue())
    sides = []
    for page in doc:
        w, h = page.get_size()
        text = page.get_textpage()
        sides.append((text.get_text_bounded(0, 0, w / 2, h).strip(),
                      text.get_text_bounded(w / 2, 0, w, h).strip()))
        text.close()
        page.close()
    doc.close()
    return sides


@pytest.mark.parametrize("pages", [4, 8, 12, 16])
def test_saddle_stitch_order(pages):
    sides = halves_text(impose.impose_booklet(numbered_pdf(pages), "a4"))
    expected = []
    for s in range(1, pages // 4 + 1):
        expected.append((f"P{pages - 2 * s + 2}", f"P{2 * s - 1}"))
        expected.append((f"P{2 * s}", f"P{pages - 2 * s + 1}"))
    assert sides == expected


def test_booklet_needs_a_multiple_of_four():
    with pytest.raises(ValueError, match="multiple of 4"):
        impose.impose_booklet(numbered_pdf(6), "a4")


def test_creep_moves_inner_sheets_toward_the_spine():
    flat = impose.impose_booklet(numbered_pdf(8), "a4")
    crept = impose.impose_booklet(numbered_pdf(8), "a4", creep_mm=0.5)

    def x_of(pdf, side):
        ops = pikepdf.parse_content_stream(pdf.pages[side])
        return [float(o[0][4]) for o in ops if str(o[1]) == "cm"]

    assert x_of(crept, 0) == x_of(flat, 0)  # the outermost sheet does not move
    shift = 0.5 * PT_PER_MM
    left, right = x_of(flat, 2)[:2]
    assert x_of(crept, 2)[:2] == pytest.approx([left + shift, right - shift], abs=1e-3)


def test_grid_repeats_the_page_and_ticks_the_cuts():
    sheet = impose.impose_grid(numbered_pdf(1, (297.64, 419.53)), "a4", 2, 2)
    assert len(sheet.pages) == 1
    box = sheet.pages[0].mediabox
    assert [round(float(v) / PT_PER_MM) for v in box[2:]] == [210, 297]
    ops = pikepdf.parse_content_stream(sheet.pages[0])
    assert sum(str(o[1]) == "Do" for o in ops) == 4
    assert sum(str(o[1]) == "S" for o in ops) == 4  # two cut lines, a tick at each end


@pytest.mark.parametrize("file", sorted(IMPOSED))
def test_kit_imposed_sheets(kit, file):
    source, sheet_mm, pages_for = IMPOSED[file]
    with pikepdf.open(kit.pdf(source)) as src, pikepdf.open(kit.pdf(file)) as sheet:
        assert len(sheet.pages) == pages_for(len(src.pages))
        for page in sheet.pages:
            w, h = (float(v) / PT_PER_MM for v in page.mediabox[2:])
            assert (w, h) == pytest.approx(sheet_mm, abs=0.1)
            assert page.trimbox == page.mediabox
        fonts = {f.objgen for p in sheet.pages for x in p.Resources.XObject.values()
                 for f in x.Resources.get("/Font", {}).values()}
        source_fonts = {str(f.BaseFont) for p in src.pages
                        for f in p.Resources.get("/Font", {}).values()}
        assert len(fonts) == len(source_fonts)  # each font embedded once
    entry = {e["file"]: e for e in json.loads((kit.out_dir / "manifest.json").read_text())
             ["outputs"]}[file]
    assert entry["imposed_from"] == source
    duplex = "imposed" in file and not file.startswith("zine-")  # a zine prints one side
    assert entry["duplex"] == ("flip on short edge" if duplex else None)
