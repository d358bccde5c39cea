"""The mono variant: black ink only, for a copier or laser printer, read back from the
PDFs of the default kit (and of an article with a colour photo): no colour anywhere,
light pages, nothing at the paper's edge, all the text, and preflight that knows it."""

from __future__ import annotations

import pikepdf
import pytest
from PIL import Image, ImageStat

from helpers import (
    KIT,
    ROOT,
    content_operators,
    expected_outputs,
    ids,
    pdf_names,
    pdf_texts,
    read_slogans,
    render_pages,
    run,
    squash,
    write_content,
)

MONO = expected_outputs(variants=("mono",))
#: Mean ink per page, from a rendering: a copier smears and slows on more. Placards'
#: letters are large, and may carry more.
MAX_COVERAGE = {"placard": 0.30}
DEFAULT_MAX_COVERAGE = 0.20
COVERAGE_DPI = 50
COLOUR_SPACES = {"/DeviceRGB", "/DeviceCMYK", "/ICCBased", "/CalRGB", "/Lab", "/Separation",
                 "/DeviceN"}
COLOUR_OPERATORS = {"rg", "RG", "k", "K"}
#: Layouts that print every slogan. (Every paragraph of the article, in the leaflet and
#: booklet, and the page counts are test_kit's, which reads every variant.)
ALL_SLOGANS = ("leaflet", "booklet", "poster", "placard", "zine")


def coverage(image: Image.Image) -> float:
    """Mean ink of a rendering: 0 for blank paper, 1 for solid black."""
    return 1 - ImageStat.Stat(image.convert("L")).mean[0] / 255


def test_every_layout_with_a_desk_file_has_a_mono_file(kit):
    made = {name for name in kit.outputs if name.endswith("-mono.pdf")}
    assert made == {o.file for o in MONO}
    assert {o.layout for o in MONO} == set(KIT)  # not stickers, not social cards


@pytest.mark.parametrize("exp", MONO, ids=ids(MONO))
def test_no_colour_anywhere(kit, exp):
    with pikepdf.open(kit.pdf(exp.file)) as pdf:
        declared = pdf_names(pdf) & COLOUR_SPACES
        painted = content_operators(pdf) & COLOUR_OPERATORS
    assert not declared, f"colour spaces in the file: {sorted(declared)}"
    assert not painted, f"colour operators in the content: {sorted(painted)}"


@pytest.mark.parametrize("exp", MONO, ids=ids(MONO))
def test_every_page_is_light_enough_for_a_copier(kit, exp):
    limit = MAX_COVERAGE.get(exp.layout, DEFAULT_MAX_COVERAGE)
    pages = render_pages(kit.pdf(exp.file), dpi=COVERAGE_DPI)
    heavy = {n: f"{coverage(p):.1%}" for n, p in enumerate(pages, 1) if coverage(p) > limit}
    assert not heavy, f"pages over {limit:.0%} ink: {heavy}"


@pytest.mark.parametrize("exp", MONO, ids=ids(MONO))
def test_page_is_the_paper(kit, exp):
    with pikepdf.open(kit.pdf(exp.file)) as pdf:
        for number, page in enumerate(pdf.pages, 1):
            media = [float(v) * 25.4 / 72 for v in page.mediabox]
            trim = [float(v) * 25.4 / 72 for v in page.trimbox]
            size = (media[2] - media[0], media[3] - media[1])
            assert size == pytest.approx(exp.trim_mm, abs=0.1), f"page {number}: {size}"
            assert trim == pytest.approx(media, abs=0.1), f"page {number}: trim {trim}"


@pytest.mark.parametrize("exp", [o for o in MONO if o.layout in ALL_SLOGANS],
                         ids=ids([o for o in MONO if o.layout in ALL_SLOGANS]))
def test_every_slogan_is_in_the_text_layer(kit, exp):
    text = squash("".join(pdf_texts(kit.pdf(exp.file))))
    missing = [s for s in read_slogans() if squash(s) not in text]
    assert not missing


def test_mono_files_pass_strict_preflight(kit):
    files = [kit.pdf(o.file) for o in MONO]
    result = run("check", "--strict", *files)
    assert result.exit_code == 0, result.output


def test_preflight_fails_a_mono_file_with_colour(kit, tmp_path):
    """The desk file is the mono file's design in colour: named as mono, it is refused."""
    coloured = tmp_path / "poster-a3-mono.pdf"
    coloured.write_bytes(kit.pdf("poster-a3-desk.pdf").read_bytes())
    result = run("check", coloured)
    assert result.exit_code == 1
    assert "black-only: page 1: DeviceRGB" in result.output


def test_preflight_fails_a_single_rgb_fill_in_a_mono_file(kit, tmp_path):
    path = tmp_path / "flyer-a6-mono.pdf"
    with pikepdf.open(kit.pdf("flyer-a6-mono.pdf")) as pdf:
        pdf.pages[0].contents_add(pdf.make_stream(b"q 1 0 0 rg 20 20 5 5 re f Q"))
        pdf.save(path)
    result = run("check", path)
    assert "black-only: page 1: DeviceRGB colour in a black-only (mono) file" in result.output


@pytest.fixture(scope="module")
def with_photo(tmp_path_factory):
    """The A4 leaflet, mono, of an article with a colour photo whose left half is black
    and right half the kit's red."""
    tmp = tmp_path_factory.mktemp("mono-photo")
    content = write_content(tmp / "c", body="Text.\n\n![A crowd](crowd.png)\n\nMore.\n",
                            slogans=["One", "Two", "Three"])
    photo = Image.new("RGB", (1200, 800), (200, 16, 46))
    photo.paste((0, 0, 0), (0, 0, 600, 800))
    photo.save(content / "crowd.png")
    result = run("build", "--content", content, "--out", tmp / "out", "leaflet-a4",
                 "--variant", "mono")
    assert result.exit_code == 0, result.output
    return tmp / "out" / "leaflet-a4-mono.pdf"


def test_a_photo_ends_8_bit_grey_with_its_shadows_lifted(with_photo):
    with pikepdf.open(with_photo) as pdf:
        images = {x.objgen: x for page in pdf.pages  # each page that shows it names it
                  for x in page.obj.Resources.get("/XObject", {}).values()
                  if x.get("/Subtype") == pikepdf.Name.Image}
        assert len(images) == 1
        [image] = images.values()
        assert image.ColorSpace == pikepdf.Name.DeviceGray and image.BitsPerComponent == 8
        picture = pikepdf.PdfImage(image).as_pil_image()
    black, red = picture.getpixel((100, 400)), picture.getpixel((1100, 400))
    assert 30 <= black <= 45, f"black printed at {black}: a copier smears solid black"
    assert black < red < 200, f"the red is {red}: it must stay a distinct mid-dark grey"


def test_right_to_left_mono(tmp_path):
    """Arabic in mono: built, no colour, light, the slogans in the text layer."""
    result = run("build", "--project", ROOT, "--lang", "ar", "--variant", "mono",
                 "--out", tmp_path, "leaflet-a4", "booklet-a5", "poster-a3")
    assert result.exit_code == 0, result.output
    slogans = read_slogans(name="slogans.ar.md")
    for name in ("leaflet-a4-mono.pdf", "booklet-a5-mono.pdf", "poster-a3-mono.pdf"):
        path = tmp_path / "ar" / name
        with pikepdf.open(path) as pdf:
            assert not pdf_names(pdf) & COLOUR_SPACES, name
        assert max(coverage(p) for p in render_pages(path)) <= DEFAULT_MAX_COVERAGE, name
        text = squash("".join(pdf_texts(path)))
        assert all(squash(s) in text for s in slogans), name
