"""pdf.marks on a tiny hand-made PDF: boxes by the numbers, clipping and marks by the pixels."""

from __future__ import annotations

import io

import pikepdf
import pytest

from helpers import MIN_SLUG_MM, PT_PER_MM, render_pages
from pamphleteer.pdf.marks import Geometry, add_crop_marks, set_trim

TRIM = (100.0, 150.0)  # mm


def page_pdf(bleed_mm: float, annot: bool = False) -> pikepdf.Pdf:
    """One page of trim + 2 × bleed, painted mid grey far past its edges (so clipping shows),
    with a black 5 mm square in its lower-left corner (so placement shows)."""
    w = (TRIM[0] + 2 * bleed_mm) * PT_PER_MM
    h = (TRIM[1] + 2 * bleed_mm) * PT_PER_MM
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(w, h))
    square = 5 * PT_PER_MM
    page.contents_add(pdf.make_stream(
        f"0.5 g -500 -500 {w + 1000:.3f} {h + 1000:.3f} re f "
        f"0 g 0 0 {square:.3f} {square:.3f} re f".encode()))
    if annot:
        page.obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link,
            Rect=pikepdf.Array([10, 20, 30, 40]), Border=pikepdf.Array([0, 0, 0]),
        ))]))
    return pdf


def mm(box) -> list[float]:
    return [float(v) / PT_PER_MM for v in box]


def roundtrip(pdf: pikepdf.Pdf) -> bytes:
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("bleed", [3.0, 0.0, 5.0], ids=["bleed3", "bleed0", "bleed5"])
def test_boxes(bleed):
    pdf = add_crop_marks(page_pdf(bleed), Geometry(*TRIM, bleed))
    page = pdf.pages[0]
    media, trim, bleed_box = mm(page.obj.MediaBox), mm(page.obj.TrimBox), mm(page.obj.BleedBox)
    assert trim[2] - trim[0] == pytest.approx(TRIM[0], abs=0.01)
    assert trim[3] - trim[1] == pytest.approx(TRIM[1], abs=0.01)
    assert bleed_box == pytest.approx(
        [trim[0] - bleed, trim[1] - bleed, trim[2] + bleed, trim[3] + bleed], abs=0.01)
    slug = [trim[0] - media[0], trim[1] - media[1], media[2] - trim[2], media[3] - trim[3]]
    assert min(slug) >= MIN_SLUG_MM - 0.01
    assert max(slug) - min(slug) == pytest.approx(0, abs=0.01), "trim not centred on the sheet"
    assert "/CropBox" not in page.obj and "/ArtBox" not in page.obj


def test_annotations_move_with_the_page():
    bleed = 3.0
    pdf = add_crop_marks(page_pdf(bleed, annot=True), Geometry(*TRIM, bleed))
    page = pdf.pages[0]
    shift = float(page.obj.BleedBox[0])  # the old page's origin is now the BleedBox corner
    assert [float(v) for v in page.obj.Annots[0].Rect] == pytest.approx(
        [10 + shift, 20 + shift, 30 + shift, 40 + shift], abs=1e-3)


@pytest.mark.parametrize("bleed", [3.0, 5.0], ids=["bleed3", "bleed5"])
def test_rendered_marks_clip_and_placement(tmp_path, bleed):
    pdf = add_crop_marks(page_pdf(bleed), Geometry(*TRIM, bleed))
    page = pdf.pages[0]
    media = [float(v) for v in page.obj.MediaBox]
    trim = [float(v) for v in page.obj.TrimBox]
    bleed_box = [float(v) for v in page.obj.BleedBox]
    path = tmp_path / "marks.pdf"
    path.write_bytes(roundtrip(pdf))
    dpi = 100
    [image] = render_pages(path, dpi=dpi)
    image = image.convert("L")
    s = dpi / 72

    def px(x, y):
        return round((x - media[0]) * s), round((media[3] - y) * s)

    def grey(x, y):
        return image.getpixel(px(x, y))

    one_mm = PT_PER_MM
    # The page's content shows inside the bleed, placed with its origin at the bleed corner.
    assert grey(bleed_box[0] + 2.5 * one_mm, bleed_box[1] + 2.5 * one_mm) < 40, "square moved"
    assert 100 < grey((trim[0] + trim[2]) / 2, (trim[1] + trim[3]) / 2) < 160
    assert 100 < grey(bleed_box[2] - 0.5 * one_mm, bleed_box[3] - 0.5 * one_mm) < 160
    # ...and is clipped there: 1 mm outside the bleed, off the trim lines, is paper.
    for x, y in [(bleed_box[0] - one_mm, (trim[1] + trim[3]) / 2),
                 (bleed_box[2] + one_mm, (trim[1] + trim[3]) / 2),
                 ((trim[0] + trim[2]) / 2, bleed_box[1] - one_mm),
                 ((trim[0] + trim[2]) / 2, bleed_box[3] + one_mm),
                 (bleed_box[0] - one_mm, bleed_box[1] - one_mm),
                 (media[0] + 0.5, media[1] + 0.5), (media[2] - 0.5, media[3] - 0.5)]:
        assert grey(x, y) == 255, f"painted outside the bleed at {x:.1f},{y:.1f} pt"
    # Eight marks: on the trim lines, in the slug, starting outside the bleed.
    mid = bleed + 1.5  # mm from the trim: just outside the bleed
    for x in (trim[0], trim[2]):
        for y in (trim[1] - mid * one_mm, trim[3] + mid * one_mm):
            assert min(image.getpixel((px(x, y)[0] + d, px(x, y)[1])) for d in (-1, 0, 1)) < 128
    for y in (trim[1], trim[3]):
        for x in (trim[0] - mid * one_mm, trim[2] + mid * one_mm):
            assert min(image.getpixel((px(x, y)[0], px(x, y)[1] + d)) for d in (-1, 0, 1)) < 128


def test_set_trim_makes_every_box_the_paper():
    pdf = set_trim(page_pdf(0.0), Geometry(*TRIM, 0.0))
    page = pdf.pages[0]
    paper = pytest.approx([0, 0, *TRIM], abs=0.01)
    assert mm(page.obj.MediaBox) == paper
    assert mm(page.obj.TrimBox) == paper
    assert mm(page.obj.BleedBox) == paper
