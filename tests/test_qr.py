"""QR codes drawn into the PDF after layout (``pdf.qr``): read back with a real decoder,
in the colour their box asks for, sharp on screen, and only on the drum that prints
the ink."""

from __future__ import annotations

import io
import math

import pikepdf
import pypdfium2 as pdfium
import pytest
import zxingcpp

from helpers import ROOT, run
from pamphleteer.pdf import qr
from pamphleteer.render import Painted

URL = "https://example.org/leeds"
PAGE_PT = 200.0
BOX = (40.0, 60.0, 85.0, 85.0)  # x, y from the page's bottom left, width, height: pt


def blank_pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(PAGE_PT, PAGE_PT))
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def drawn(colour=("rg", (0.0, 0.0, 0.0), 1.0), box=BOX) -> bytes:
    return qr.draw(blank_pdf(), [Painted(URL, 0, box, colour)])


def content(data: bytes) -> list[tuple[str, list]]:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return [(str(op), [o for o in operands])
                for operands, op in pikepdf.parse_content_stream(pdf.pages[0])]


def render(data: bytes, scale: float):
    return pdfium.PdfDocument(data)[0].render(scale=scale, grayscale=True).to_pil()


def test_the_code_reads_back_as_its_text_filling_its_box():
    scale = 4.0
    [found] = zxingcpp.read_barcodes(render(drawn(), scale))
    assert found.text == URL
    modules = len(qr.modules(URL))
    module = BOX[2] / modules
    corners = found.position
    xs = [p.x / scale for p in (corners.top_left, corners.bottom_right)]
    ys = [PAGE_PT - p.y / scale for p in (corners.top_left, corners.bottom_right)]
    # the symbol proper starts after the quiet zone, on every side
    quiet = qr.QUIET_MODULES * module
    assert xs[0] == pytest.approx(BOX[0] + quiet, abs=module / 2)
    assert xs[1] == pytest.approx(BOX[0] + BOX[2] - quiet, abs=module / 2)
    assert ys[0] == pytest.approx(BOX[1] + BOX[3] - quiet, abs=module / 2)
    assert ys[1] == pytest.approx(BOX[1] + quiet, abs=module / 2)


def test_the_code_takes_its_boxs_colour_as_the_pdf_sets_it():
    cmyk = content(drawn(("k", (0.0, 0.0, 0.0, 1.0), 1.0)))
    assert ("k", [0, 0, 0, 1]) in cmyk
    assert not any(op in ("rg", "g") for op, _ in cmyk)
    rgb = content(drawn(("rg", (0.2, 0.4, 0.6), 1.0)))
    assert [[float(v) for v in operands] for op, operands in rgb if op == "rg"] == [
        [0.2, 0.4, 0.6]]


def test_a_colour_with_no_opacity_draws_nothing_and_one_with_some_draws_through_it():
    assert content(drawn(("rg", (0.0, 0.0, 0.0), 0.0))) == content(blank_pdf())
    data = drawn(("rg", (0.0, 0.0, 0.0), 0.5))
    names = [operands[0] for op, operands in content(data) if op == "gs"]
    assert len(names) == 1
    with pikepdf.open(io.BytesIO(data)) as pdf:
        state = pdf.pages[0].Resources.ExtGState[names[0]]
        assert float(state.ca) == 0.5


def test_the_code_is_sharp_on_screen_at_any_zoom():
    """Each run of modules is a rectangle filled on its own, as WeasyPrint fills a box:
    pdfium (Chrome's and Android's viewer, where a phone shows a shared PDF) sets a lone
    rectangle on whole pixels, so the code stays two tones, ink and paper, at any zoom.
    One path of all the modules comes out anti-aliased, grey at every edge."""
    for box in (BOX, (40.3, 60.7, 64.3, 64.3)):
        data = drawn(box=box)
        x, y, width, height = box
        for scale in (1.3, 2.1, 3.7, 4.17):
            pixels = render(data, scale).load()
            tones = {pixels[px, py]
                     for px in range(math.floor(x * scale), math.ceil((x + width) * scale))
                     for py in range(math.floor((PAGE_PT - y - height) * scale),
                                     math.ceil((PAGE_PT - y) * scale))}
            assert tones == {0, 255}, f"{box} at {scale:g}×: {len(tones) - 2} grey tones"


@pytest.fixture(scope="module")
def riso(tmp_path_factory):
    out = tmp_path_factory.mktemp("riso")
    result = run("build", "--project", ROOT, "--edition", "leeds", "leaflet-a4",
                 "--variant", "riso", "--out", out)
    assert result.exit_code == 0, result.output
    return out / "leeds" / "leaflet-a4-riso.pdf"


def test_a_risograph_prints_the_code_on_the_drum_of_the_text_alone(riso):
    """The leaflet's panel is on its second page: the black drum's master carries the
    code, the accent drum's has nothing there (paper, since the code's box knocks the
    accent out)."""
    document = pdfium.PdfDocument(riso)
    labels = ["2-black", "2-bright-red"]
    with pikepdf.open(riso) as pdf:
        numbers = {str(entry.P): index
                   for index, entry in zip(pdf.Root.PageLabels.Nums[::2],
                                           pdf.Root.PageLabels.Nums[1::2], strict=True)}
    black, red = (document[int(numbers[label])].render(scale=300 / 72, grayscale=True)
                  .to_pil() for label in labels)
    [found] = zxingcpp.read_barcodes(black)
    assert found.text == URL
    assert zxingcpp.read_barcodes(red) == []
