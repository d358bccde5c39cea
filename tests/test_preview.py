"""``pamphleteer preview``: a PNG proof per PDF page, and a contact sheet drawn to scale."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from helpers import CONTENT, run

DPI = 30
#: A small kit: the largest and smallest pieces, press and desk, an imposed sheet and a
#: tiled poster.
TARGETS = ("poster-a3", "flyer-a6")
FILES = ("flyer-a6-4up-a4.pdf", "flyer-a6-desk.pdf", "flyer-a6-mono.pdf",
         "flyer-a6-press.pdf", "flyer-a6-riso.pdf", "flyer-a6-screen.pdf",
         "poster-a3-desk.pdf", "poster-a3-mono.pdf", "poster-a3-press.pdf",
         "poster-a3-riso.pdf", "poster-a3-screen.pdf", "poster-a3-tiled-a4.pdf")


@pytest.fixture(scope="module")
def out(project_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("preview")
    result = run("preview", *TARGETS, "--project", project_dir, "--content", CONTENT,
                 "--out", out, "--dpi", DPI, "--sheet")
    assert result.exit_code == 0, result.output
    return out


def _pngs(out: Path, file: str) -> list[Path]:
    return sorted((out / "proofs" / file[:-4]).glob("page-*.png"))


@pytest.mark.parametrize("file", FILES)
def test_one_proof_per_page_at_the_dpi(out, file):
    with pikepdf.open(out / file) as pdf:
        sizes = [(float(p.mediabox[2] - p.mediabox[0]), float(p.mediabox[3] - p.mediabox[1]))
                 for p in pdf.pages]
    pngs = _pngs(out, file)
    assert [p.name for p in pngs] == [f"page-{n:03d}.png" for n in range(1, len(sizes) + 1)]
    for png, (w_pt, h_pt) in zip(pngs, sizes, strict=True):
        with Image.open(png) as image:
            assert image.size == pytest.approx((w_pt * DPI / 72, h_pt * DPI / 72), abs=1.01)


@pytest.mark.parametrize("file", ["flyer-a6-riso.pdf", "poster-a3-riso.pdf"])
def test_a_riso_file_has_a_composite_per_design_page(out, file):
    """The drums of each page printed over each other in their inks: the kit's accent
    block shows bright red (241, 80, 96) at 85 %, the black text stays black."""
    with pikepdf.open(out / file) as pdf:
        design_pages = len(pdf.pages) // 2
    composites = sorted((out / "proofs" / file[:-4]).glob("composite-*.png"))
    assert [p.name for p in composites] == [f"composite-{n:03d}.png"
                                            for n in range(1, design_pages + 1)]
    with Image.open(composites[0]) as image:
        colours = {colour for _, colour in image.getcolors(1 << 20)}
    assert any(max(c) < 60 and max(c) - min(c) < 8 for c in colours)  # black text
    assert any(abs(r - 243) <= 3 and abs(g - 107) <= 3 and abs(b - 120) <= 3
               for r, g, b in colours)  # bright red at 85 %: 255 - 0.85 × (255 - ink)


def test_a_second_run_leaves_the_proofs_alone(out, project_dir):
    before = {p: p.stat().st_mtime_ns for p in (out / "proofs").rglob("page-*.png")}
    result = run("preview", *TARGETS, "--project", project_dir, "--content", CONTENT,
                 "--out", out, "--dpi", DPI)
    assert result.exit_code == 0, result.output
    assert {p: p.stat().st_mtime_ns for p in (out / "proofs").rglob("page-*.png")} == before


def _bands(mask: list[bool]) -> list[tuple[int, int]]:
    """Runs of True in ``mask``, as (start, end) with end exclusive."""
    bands, start = [], None
    for i, on in enumerate([*mask, False]):
        if on and start is None:
            start = i
        elif not on and start is not None:
            bands.append((start, i))
            start = None
    return bands


def test_contact_sheet_tiles_are_to_scale_and_labelled(out):
    sheet = Image.open(out / "proofs" / "contact-sheet.png").convert("RGB")
    background = sheet.getpixel((0, 0))
    pixels = sheet.load()

    def ink(x0, x1, y0, y1) -> bool:
        return any(pixels[x, y] != background for x in range(x0, x1) for y in range(y0, y1))

    rows = _bands([ink(0, sheet.width, y, y + 1) for y in range(sheet.height)])
    # Headings and labels are text, well under 60 px tall; pages are taller.
    page_rows = [(y0, y1) for y0, y1 in rows if y1 - y0 > 60]
    tiles = []
    for _top, y1 in page_rows:
        columns = _bands([ink(x, x + 1, y1 - 3, y1) for x in range(sheet.width)])
        tiles += [(x0, x1, y1) for x0, x1 in columns]
    assert len(tiles) == len(FILES)

    widths = sorted(x1 - x0 for x0, x1, _ in tiles)
    # Smallest: the A6 flyer (105 mm wide); largest: the A3 poster (297 mm).
    assert widths[-1] / widths[0] == pytest.approx(297 / 105, rel=0.03)
    for x0, x1, bottom in tiles:
        assert ink(x0, x1, bottom + 2, bottom + 40), f"no label under the tile at x={x0}"
