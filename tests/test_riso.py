"""The risograph variant: a greyscale page per drum, read back from the PDFs.

What a riso shop expects (see /work/shared/PRINT.md, "Risograph"): one master per drum in
print order, black meaning full ink; nothing within 5 mm of the paper's edge; no flat
area past 85 %; the dark ink overprints the colour; paper up to A3 or tabloid.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest
from PIL import ImageChops, ImageFilter

from helpers import (
    CONTENT,
    RISO_FILES,
    ROOT,
    assert_clean_failure,
    copy_project,
    pdf_texts,
    read_slogans,
    render_pages,
    run,
    squash,
)
from pamphleteer.check import Expected
from pamphleteer.check import run as preflight

TARGETS = ("leaflet-a4", "poster", "placard-a3-landscape", "booklet-a5")
INKS = ("black", "bright-red")
EDGE_MM = 5.0
MAX_TINT = 0.85
DPI = 100
PAPER = 245  # a grey at least this light: no ink
BRIGHT_RED, BLUE = (241, 80, 96), (0, 120, 191)  # Riso's display colours


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("riso") / "proj")


def build(project: Path, out: Path, *targets: str, variants=("riso", "desk")):
    result = run("build", "--project", project, "--content", CONTENT, "--out", out,
                 *targets, *(a for v in variants for a in ("--variant", v)), "--json")
    assert result.exit_code == 0, result.output
    return {e["file"]: e["status"] for e in map(json.loads, result.stdout.splitlines())
            if e.get("file")}


@pytest.fixture(scope="module")
def out(project, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("riso-out")
    build(project, out, *TARGETS)
    return out


def riso_files(out: Path) -> list[Path]:
    return sorted(out.glob("*-riso.pdf"))


def labels(path: Path) -> list[str]:
    document = pdfium.PdfDocument(path)
    try:
        return [document.get_page_label(i) for i in range(len(document))]
    finally:
        document.close()


def greys(path: Path, dpi: float = DPI):
    return [image.convert("L") for image in render_pages(path, dpi)]


def test_files_for_the_sizes_a_riso_takes(out):
    made = {p.name for p in riso_files(out)}
    assert made == {f for f in RISO_FILES if f.startswith(TARGETS)}
    assert {"poster-a3-riso.pdf", "poster-tabloid-riso.pdf"} <= made
    assert not {"poster-a2-riso.pdf", "poster-18x24in-riso.pdf"} & made
    assert (out / "poster-a2-desk.pdf").is_file()  # the size is built, just not for a riso


def test_a_page_per_drum_labelled_with_its_ink(out):
    manifest = {e["file"]: e for e in json.loads((out / "manifest.json").read_text())["outputs"]}
    for path in riso_files(out):
        with pikepdf.open(out / path.name.replace("-riso", "-desk")) as desk:
            design = len(desk.pages)
        with pikepdf.open(path) as pdf:
            assert len(pdf.pages) == design * len(INKS), path.name
        assert labels(path) == [f"{n}-{ink}" for n in range(1, design + 1) for ink in INKS]
        entry = manifest[path.name]
        assert (entry["variant"], entry["inks"], entry["pages"]) == ("riso", list(INKS),
                                                                      design * len(INKS))


_COLOUR_OPS = {"rg", "RG", "k", "K"}  # RGB and CMYK operators
_COLOUR_SPACES = re.compile(r"/(DeviceRGB|DeviceCMYK|ICCBased|CalRGB|CalGray|Lab|DeviceN|"
                            r"Separation|Indexed)\b")


def test_every_separation_is_pure_grey(out):
    for path in riso_files(out):
        with pikepdf.open(path) as pdf:
            drawn = [*pdf.pages, *(o for o in pdf.objects if isinstance(o, pikepdf.Stream)
                                   and o.get("/Subtype") == "/Form")]
            for content in drawn:
                operators = {str(op) for _, op in pikepdf.parse_content_stream(content)}
                assert not operators & _COLOUR_OPS, path.name
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image":
                    assert obj.get("/ColorSpace") == "/DeviceGray", path.name
                elif isinstance(obj, pikepdf.Dictionary | pikepdf.Array):
                    assert not _COLOUR_SPACES.search(repr(obj)), (path.name, repr(obj)[:200])
        for image in render_pages(path, 30):
            assert all(len(set(c)) == 1 for _, c in image.getcolors(1 << 20)), path.name


def test_nothing_inked_within_5_mm_of_the_edge(out):
    for path in riso_files(out):
        for number, grey in enumerate(greys(path), 1):
            margin = int((EDGE_MM - 0.3) * DPI / 25.4)  # a pixel's slack at the margin
            w, h = grey.size
            for box in ((0, 0, w, margin), (0, h - margin, w, h), (0, 0, margin, h),
                        (w - margin, 0, w, h)):
                assert grey.crop(box).getextrema()[0] >= PAPER, (path.name, number, box)


def test_no_flat_area_darker_than_85_percent(out):
    """Averaged over 5 mm squares, which a line of text never fills: the flat areas.
    (Preflight allows type up to 1 cm squares; the default kit keeps within 5 mm.)"""
    radius = round(2.5 * DPI / 25.4)
    for path in riso_files(out):
        for number, grey in enumerate(greys(path), 1):
            darkest = 1 - grey.filter(ImageFilter.BoxBlur(radius)).getextrema()[0] / 255
            assert darkest <= MAX_TINT, (path.name, number, darkest)


def test_text_is_full_ink(out):
    """Small type is never screened: the black drum's body text reaches 100 %."""
    grey = greys(out / "leaflet-a4-riso.pdf")[2]  # page 2, black drum: the article
    assert grey.getextrema()[0] < 20


def test_the_black_drum_carries_the_slogans(out):
    texts = pdf_texts(out / "poster-a3-riso.pdf")
    for slogan in read_slogans():
        assert squash(slogan) in squash(texts[0]), slogan  # page 1-black


def _char_boxes(path: Path, page: int, word: str) -> list[tuple[float, float, float, float]]:
    """Each character box of ``word`` on ``page`` (0-based), in pixels at DPI from the
    top left."""
    document = pdfium.PdfDocument(path)
    try:
        textpage = document[page].get_textpage()
        height = document[page].get_height()
        text = textpage.get_text_range()
        start = text.index(word)
        scale = DPI / 72
        boxes = []
        for i in range(start, start + len(word)):
            left, bottom, right, top = textpage.get_charbox(i)
            boxes.append((left * scale, (height - top) * scale, right * scale,
                          (height - bottom) * scale))
        return boxes
    finally:
        document.close()


def test_reversed_type_knocks_out_of_the_accent(out):
    """The poster's headline, paper on the accent: the accent drum is bare under its
    letters (paper shows), inked around them; the black drum prints nothing there."""
    path = out / "poster-a3-riso.pdf"
    black, accent = greys(path)
    boxes = _char_boxes(path, 1, "BOMBING")
    for box in boxes:
        letter = accent.crop(tuple(round(v) for v in box))
        assert letter.getextrema()[1] >= PAPER  # paper inside the letter
        assert black.crop(tuple(round(v) for v in box)).getextrema()[0] >= PAPER
    x0, _, x1, y1 = boxes[0][0], boxes[0][1], boxes[-1][2], boxes[0][3]
    below = accent.crop((round(x0), round(y1) + 4, round(x1), round(y1) + 12))
    assert below.getextrema()[1] < PAPER  # the accent block around it is inked


def test_black_overprints_the_accent(tmp_path):
    """Black type on the accent: the accent drum is inked under the letters too, so a
    drum landing off by a fraction of a millimetre leaves no white rim."""
    project = copy_project(tmp_path / "proj")
    css = project / "layouts" / "poster" / "style.css"
    # in black, at the 85 % of type so large that its strokes are flat areas
    css.write_text(css.read_text() + "\n.head { color: var(--ink-solid); }\n")
    build(project, tmp_path / "out", "poster-a3", variants=("riso",))
    path = tmp_path / "out" / "poster-a3-riso.pdf"
    black, accent = greys(path)
    for box in _char_boxes(path, 0, "BOMBING"):
        box = tuple(round(v) for v in box)
        assert black.crop(box).getextrema()[0] < 60  # the letter, in black
        assert accent.crop(box).getextrema()[1] < PAPER  # the accent under it, unbroken


def test_inks_are_a_setting_and_rebuild_the_riso_files_alone(tmp_path):
    project = copy_project(tmp_path / "proj")
    out = tmp_path / "out"
    build(project, out, "poster-a3")
    config = project / "pamphleteer.toml"
    config.write_text(config.read_text() + '\n[riso]\ninks = ["black", "blue"]\n')
    status = build(project, out, "poster-a3")
    assert status == {"poster-a3-riso.pdf": "built", "poster-a3-desk.pdf": "unchanged",
                      "poster-a3-tiled-a4.pdf": "unchanged"}
    assert labels(out / "poster-a3-riso.pdf") == ["1-black", "1-blue"]
    result = run("preview", "poster-a3", "--project", project, "--content", CONTENT,
                 "--out", out, "--variant", "riso", "--dpi", 30)
    assert result.exit_code == 0, result.output
    composite = out / "proofs" / "poster-a3-riso" / "composite-001.png"
    from PIL import Image

    with Image.open(composite) as image:
        colours = {c for _, c in image.getcolors(1 << 20)}
    blue = tuple(round(255 - 0.847 * (255 - c)) for c in BLUE)
    assert any(all(abs(a - b) <= 3 for a, b in zip(c, blue, strict=True)) for c in colours)
    red = tuple(round(255 - 0.847 * (255 - c)) for c in BRIGHT_RED)
    assert not any(all(abs(a - b) <= 3 for a, b in zip(c, red, strict=True)) for c in colours)


def test_one_ink_prints_the_accent_as_a_tint(tmp_path):
    project = copy_project(tmp_path / "proj")
    config = project / "pamphleteer.toml"
    config.write_text(config.read_text() + '\n[riso]\ninks = ["teal"]\n')
    build(project, tmp_path / "out", "poster-a3", variants=("riso",))
    path = tmp_path / "out" / "poster-a3-riso.pdf"
    assert labels(path) == ["1-teal"]
    (grey,) = greys(path)
    tones = {c for _, c in grey.getcolors(1 << 20)}
    assert min(tones) < 20 and any(110 < t < 145 for t in tones)  # text; the accent at 50 %


@pytest.mark.parametrize(("inks", "problem"), [
    ('["black", "brigth-red"]', r'riso\.inks\[1\]: "brigth-red" is not a Riso ink name; '
                                r'did you mean "bright-red"\?'),
    ('["black", "red", "blue"]', r"riso\.inks: 3 items, not up to 2"),
    ('["blue", "blue"]', r"riso\.inks: names an ink twice"),
], ids=["misspelt", "three", "twice"])
def test_bad_inks_are_one_line_naming_the_file_and_line(tmp_path, inks, problem):
    project = copy_project(tmp_path / "proj")
    config = project / "pamphleteer.toml"
    lines = len(config.read_text().splitlines())
    config.write_text(config.read_text() + f"\n[riso]\ninks = {inks}\n")
    result = run("build", "--project", project, "--out", tmp_path / "out", "poster-a3")
    line = assert_clean_failure(result, 2)
    assert re.search(rf"pamphleteer\.toml:{lines + 3}: {problem}", line), line


def _with(path: Path, content: bytes) -> bytes:
    """The file with ``content`` drawn on its first page."""
    import io

    with pikepdf.open(path) as pdf:
        pdf.pages[0].contents_add(pdf.make_stream(content), prepend=True)  # in PDF's units
        buffer = io.BytesIO()
        pdf.save(buffer)
        return buffer.getvalue()


@pytest.mark.parametrize(("content", "check", "message"), [
    (b"q 1 0 0 rg 100 100 10 10 re f Q", "black-only",
     "DeviceRGB colour in a riso drum's master"),
    (b"q 0 0 0 1 k 100 100 10 10 re f Q", "black-only",
     "DeviceCMYK colour in a riso drum's master"),
    (b"q 0.5 g 2 2 30 30 re f Q", "riso-ink", "ink within 5 mm of the paper's bottom and "
                                              "left edge"),
    (b"q 0 g 100 100 60 60 re f Q", "riso-ink", "a flat area of 100% ink"),
], ids=["rgb", "cmyk", "edge", "solid"])
def test_preflight_fails_a_riso_file(out, content, check, message):
    path = out / "poster-a3-riso.pdf"
    size = (297, 420)
    expected = Expected(variant="riso", trim_mm=size, pages=2, page_rule="fixed")
    assert not [f for f in preflight(path.read_bytes(), path.name, expected)
                if f.severity == "error"]
    errors = [f for f in preflight(_with(path, content), path.name, expected)
              if f.severity == "error"]
    assert [(f.check, f.page) for f in errors] == [(check, 1)], errors
    assert message in errors[0].message


def test_check_strict_passes(out):
    result = run("check", "--strict", *riso_files(out))
    assert result.exit_code == 0, result.output


def test_the_page_is_the_paper(out):
    """No bleed and no marks: a riso prints on the sheet it is fed, never to its edge."""
    for path in riso_files(out):
        with pikepdf.open(path) as pdf:
            for page in pdf.pages:
                assert [float(v) for v in page.trimbox] == [float(v) for v in page.mediabox]


def test_reproducible(out, project, tmp_path):
    """Built again, byte for byte the same file: as every output (see README)."""
    build(project, tmp_path, "poster-a3", variants=("riso",))
    assert (tmp_path / "poster-a3-riso.pdf").read_bytes() == \
        (out / "poster-a3-riso.pdf").read_bytes()


def _drums(root: Path, name: str):
    """``name``'s riso copy typeset once in the markers, and its separations: each drum
    with the layouts made for it (none when it came from the one layout), and each as
    that drum's own layout of the final document, made grey."""
    from pamphleteer import riso
    from pamphleteer.config import load_project
    from pamphleteer.content import load_content
    from pamphleteer.pdf.grey import to_grey
    from pamphleteer.render import Renderer
    from pamphleteer.separations import marker_paint, separate
    from pamphleteer.targets import plan
    from pamphleteer.typeset import Typesetter, geometry

    project = load_project(root)
    renderer, content = Renderer(project.fonts_dir), load_content(CONTENT, "en")
    [target] = plan(project, (name,), ("riso",))
    typesetter = Typesetter(renderer, target, content, geometry(target, project),
                            paint=marker_paint(project.inks))
    _, document = typesetter.typeset()
    relayouts, relayout = [], typesetter.relayout
    typesetter.relayout = lambda paint: relayouts.append(paint) or relayout(paint)
    separations = separate(renderer.pdf(document, target.file),
                           lambda paint: renderer.pdf(typesetter.relayout(paint), target.file),
                           target.file, project.inks)
    alone = []
    for drum in riso.drums(project.inks):
        buffer = io.BytesIO()
        with pikepdf.open(io.BytesIO(renderer.pdf(relayout(drum.css), target.file))) as pdf:
            to_grey(pdf).save(buffer)
        alone.append(buffer.getvalue())
    return separations, relayouts, alone


def _same_drums(separations: bytes, alone: list[bytes]) -> None:
    drums = [pdfium.PdfDocument(data) for data in alone]
    pages = pdfium.PdfDocument(separations)
    assert len(pages) == len(drums) * len(drums[0])
    for index in range(len(pages)):
        drum, page = index % len(drums), index // len(drums)
        ours, theirs = (p.render(scale=50 / 72).to_pil().convert("L")
                        for p in (pages[index], drums[drum][page]))
        assert ImageChops.difference(ours, theirs).getbbox() is None, (
            f"page {page + 1}, drum {drum + 1} differs from that drum laid out alone")
        assert squash(pages[index].get_textpage().get_text_range()) == \
            squash(drums[drum][page].get_textpage().get_text_range()), "the text layer"


@pytest.mark.parametrize("name", ["leaflet-a4", "booklet-a5", "zine-a7", "placard-a3-landscape"])
def test_every_drum_comes_from_the_one_layout(name):
    """A riso copy is laid out once, each colour role in a marker colour; each drum's
    master is those pages in the drum's tones, a role it does not print at zero
    opacity (so its text layer stays). They come out as the final document laid out
    in each drum's tones, pixel for pixel, with no layout made for a drum."""
    separations, relayouts, alone = _drums(ROOT, name)
    assert relayouts == []
    _same_drums(separations, alone)


def test_a_page_the_repainting_cannot_read_is_laid_out_per_drum(tmp_path):
    """An element with an opacity is drawn as a form XObject, which the repainting of
    markers does not read: such a copy is laid out again in each drum's tones, as
    before, with the same result."""
    root = copy_project(tmp_path / "proj")
    style = root / "layouts" / "poster" / "style.css"
    style.write_text(style.read_text() + "\n.variant-riso .slogans { opacity: 0.9; }\n")
    separations, relayouts, alone = _drums(root, "poster-a3")
    assert len(relayouts) == 2
    _same_drums(separations, alone)
