"""The default kit, built once: every output's pages, boxes, marks, margins, text and fonts."""

from __future__ import annotations

import os
import re
import stat

import pikepdf
import pytest
from fontTools.ttLib import TTFont

from helpers import (
    BLEED_MM,
    DESK_EDGE_MM,
    FONTS,
    IMPOSED,
    MIN_SLUG_MM,
    PT_PER_MM,
    RISO_FILES,
    SOCIAL_TARGET_FILES,
    STICKER_FILES,
    TILED,
    TOL_MM,
    expected_outputs,
    ids,
    package_version,
    pdf_texts,
    read_article,
    read_slogans,
    render_pages,
    social_files,
    squash,
)

ALL = expected_outputs()
PRESS = [o for o in ALL if o.press]
UNTRIMMED = [o for o in ALL if not o.press]  # desk, mono and screen: the page is the paper
DESK = [o for o in ALL if o.variant in ("desk", "mono")]  # printers that stop short of the edge
SCREEN = [o for o in ALL if o.variant == "screen"]
ARTICLE_OUTPUTS = expected_outputs(("leaflet", "booklet"))
SLOGAN_COUNT = len(read_slogans())

WHITE = 250  # every channel at least this: paper, not ink


def boxes_mm(page) -> dict[str, tuple[float, ...]]:
    return {key: tuple(float(v) / PT_PER_MM for v in page.obj[key])
            for key in ("/MediaBox", "/TrimBox", "/BleedBox")}


def near(a: tuple[float, ...], b: tuple[float, ...], tol: float = TOL_MM) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def test_kit_has_exactly_the_expected_outputs(kit):
    built = {name for name, o in kit.outputs.items() if o.error is None}
    failed = {name: o.error for name, o in kit.outputs.items() if o.error}
    assert not failed, f"outputs failed: {failed}"
    assert built == ({o.file for o in ALL} | set(IMPOSED) | set(TILED) | STICKER_FILES
                     | SOCIAL_TARGET_FILES | RISO_FILES)
    on_disk = {p.name for p in kit.out_dir.glob("*.pdf")}
    assert on_disk == ({o.file for o in ALL} | set(IMPOSED) | set(TILED) | STICKER_FILES
                       | RISO_FILES)
    assert not [p.name for p in kit.out_dir.iterdir() if p.name.endswith(".tmp")], "temp files left"


@pytest.mark.parametrize("exp", ALL, ids=ids(ALL))
def test_page_count(kit, exp):
    with pikepdf.open(kit.pdf(exp.file)) as pdf:
        count = len(pdf.pages)
    if exp.page_rule == "multiple-of-4":
        assert count > 0 and count % 4 == 0, f"{count} pages, not a multiple of 4"
    elif exp.page_rule == "per-slogan":
        assert count == SLOGAN_COUNT
    else:
        assert count == exp.page_rule


@pytest.mark.parametrize("exp", PRESS, ids=ids(PRESS))
def test_press_boxes(kit, exp):
    w, h = exp.trim_mm
    with pikepdf.open(kit.pdf(exp.file)) as pdf:
        for number, page in enumerate(pdf.pages, 1):
            b = boxes_mm(page)
            trim, bleed, media = b["/TrimBox"], b["/BleedBox"], b["/MediaBox"]
            where = f"page {number}: {b}"
            assert near((trim[2] - trim[0], trim[3] - trim[1]), (w, h)), where
            assert near(bleed, (trim[0] - BLEED_MM, trim[1] - BLEED_MM,
                                trim[2] + BLEED_MM, trim[3] + BLEED_MM)), where
            slug = (trim[0] - media[0], trim[1] - media[1], media[2] - trim[2],
                    media[3] - trim[3])
            assert min(slug) >= MIN_SLUG_MM - TOL_MM, f"{where}: slug {slug} mm"
            assert "/CropBox" not in page.obj or near(
                tuple(float(v) / PT_PER_MM for v in page.obj.CropBox), media), where


@pytest.mark.parametrize("exp", UNTRIMMED, ids=ids(UNTRIMMED))
def test_desk_boxes_are_the_paper(kit, exp):
    paper = (0.0, 0.0, *exp.trim_mm)
    with pikepdf.open(kit.pdf(exp.file)) as pdf:
        for number, page in enumerate(pdf.pages, 1):
            b = boxes_mm(page)
            for key, box in b.items():
                # origin may be anywhere; the size and the boxes' agreement matter
                shifted = (0.0, 0.0, box[2] - box[0], box[3] - box[1])
                assert near(shifted, paper), f"page {number}: {key} {box}, paper {paper}"
            assert near(b["/TrimBox"], b["/MediaBox"]), f"page {number}: {b}"
            assert near(b["/BleedBox"], b["/MediaBox"]), f"page {number}: {b}"


def _px(image, media_pt, x_pt, y_pt):
    """PDF user space (pt) -> pixel position in a rendering of the MediaBox."""
    x0, y0, x1, y1 = media_pt
    sx, sy = image.width / (x1 - x0), image.height / (y1 - y0)
    return (x_pt - x0) * sx, (y1 - y_pt) * sy


def _darkest(image, box) -> int:
    """Darkest channel value in a pixel box (left, top, right, bottom), clipped to the image."""
    left, top, right, bottom = (round(v) for v in box)
    left, top = max(left, 0), max(top, 0)
    right, bottom = min(right, image.width), min(bottom, image.height)
    if right <= left or bottom <= top:
        return 255
    return min(low for low, _ in image.crop((left, top, right, bottom)).getextrema())


@pytest.mark.parametrize("exp", PRESS, ids=ids(PRESS))
def test_press_crop_marks_and_clean_slug(kit, exp):
    """Marks in the slug at every corner; beyond the BleedBox nothing but the marks."""
    path = kit.pdf(exp.file)
    with pikepdf.open(path) as pdf:
        pages = [(tuple(float(v) for v in p.obj.MediaBox),
                  tuple(float(v) for v in p.obj.TrimBox),
                  tuple(float(v) for v in p.obj.BleedBox)) for p in pdf.pages]
    images = render_pages(path, dpi=50)
    band = 1.5 * PT_PER_MM  # half-width of the strip along a trim line that marks may use
    for number, (image, (media, trim, bleed)) in enumerate(zip(images, pages, strict=True), 1):
        def px(x, y, image=image, media=media):
            return _px(image, media, x, y)

        # Bleed box in pixels, grown by one pixel for anti-aliasing.
        bl, bt = px(bleed[0], bleed[3])
        br, bb = px(bleed[2], bleed[1])
        bl, bt, br, bb = bl - 1, bt - 1, br + 1, bb + 1
        tx = [px(x, 0)[0] for x in (trim[0], trim[2])]
        ty = [px(0, y)[1] for y in (trim[3], trim[1])]  # top, bottom in pixels
        b = band * image.width / (media[2] - media[0])
        W, H = image.width, image.height

        # 1. A mark on both trim lines at each of the four corners, outside the bleed.
        for x in tx:
            for top, bottom in ((0, bt), (bb, H)):  # above and below the bleed
                assert _darkest(image, (x - b, top, x + b, bottom)) < 128, (
                    f"page {number}: no vertical crop mark at x={x:.0f}px, rows {top:.0f}-"
                    f"{bottom:.0f}")
        for y in ty:
            for left, right in ((0, bl), (br, W)):  # left and right of the bleed
                assert _darkest(image, (left, y - b, right, y + b)) < 128, (
                    f"page {number}: no horizontal crop mark at y={y:.0f}px, cols {left:.0f}-"
                    f"{right:.0f}")

        # 2. Outside the bleed, away from the trim lines' extensions: paper only.
        gaps_x = [(0, tx[0] - b), (tx[0] + b, tx[1] - b), (tx[1] + b, W)]
        gaps_y = [(0, ty[0] - b), (ty[0] + b, ty[1] - b), (ty[1] + b, H)]
        for x0, x1 in gaps_x:
            for rows in ((0, bt), (bb, H)):
                assert _darkest(image, (x0, rows[0], x1, rows[1])) >= WHITE, (
                    f"page {number}: ink in the slug at cols {x0:.0f}-{x1:.0f}, rows {rows}")
        for y0, y1 in gaps_y:
            for cols in ((0, bl), (br, W)):
                assert _darkest(image, (cols[0], y0, cols[1], y1)) >= WHITE, (
                    f"page {number}: ink in the slug at rows {y0:.0f}-{y1:.0f}, cols {cols}")


@pytest.mark.parametrize("exp", DESK, ids=ids(DESK))
def test_desk_outer_strip_is_blank(kit, exp):
    """A desk printer cannot print the outer 5 mm: nothing (text or background) goes there."""
    strip_mm = DESK_EDGE_MM - 0.5
    for number, image in enumerate(render_pages(kit.pdf(exp.file), dpi=50), 1):
        s = int(strip_mm * image.width / exp.trim_mm[0])
        W, H = image.width, image.height
        for name, box in {"top": (0, 0, W, s), "bottom": (0, H - s, W, H),
                          "left": (0, 0, s, H), "right": (W - s, 0, W, H)}.items():
            assert _darkest(image, box) >= WHITE, (
                f"page {number}: something printed within {strip_mm} mm of the {name} edge")


BOOKLETS = [o for o in ALL if o.page_rule == "multiple-of-4"]


@pytest.mark.parametrize("exp", BOOKLETS, ids=ids(BOOKLETS))
def test_booklet_has_no_blank_page(kit, exp):
    """The pages a multiple of 4 leaves spare carry slogans: no page of a booklet is blank
    within its trim (marks outside it do not count)."""
    with pikepdf.open(kit.pdf(exp.file)) as pdf:
        boxes = [(boxes_mm(page)["/MediaBox"], boxes_mm(page)["/TrimBox"]) for page in pdf.pages]
    images = render_pages(kit.pdf(exp.file), dpi=20)
    for number, (image, (media, trim)) in enumerate(zip(images, boxes, strict=True), 1):
        media_pt, trim_pt = ([v * PT_PER_MM for v in box] for box in (media, trim))
        left, top = _px(image, media_pt, trim_pt[0], trim_pt[3])
        right, bottom = _px(image, media_pt, trim_pt[2], trim_pt[1])
        assert _darkest(image, (left + 1, top + 1, right - 1, bottom - 1)) < WHITE, (
            f"page {number} of {len(images)} is blank")


# --- text -----------------------------------------------------------------------------------


@pytest.mark.parametrize("exp", ARTICLE_OUTPUTS, ids=ids(ARTICLE_OUTPUTS))
def test_whole_article_in_text_layer(kit, exp):
    front, paragraphs = read_article()
    lines = [line for page in pdf_texts(kit.pdf(exp.file)) for line in page.splitlines()]
    # The text layer is in painting order, not reading order: folios (lines of digits),
    # running heads (the title) and absolutely placed blocks (a headline band, painted
    # after the flow) can fall between the two halves of a paragraph broken across pages.
    text = "".join(s for s in map(squash, lines) if not s.isdigit())
    for interloper in (front["title"], front["headline"]):
        text = text.replace(squash(interloper), "")
    position = 0
    for number, paragraph in enumerate(paragraphs, 1):
        found = text.find(squash(paragraph), position)
        assert found >= 0, (
            f"body paragraph {number} missing or out of order: {paragraph[:80]!r}…")
        position = found + len(squash(paragraph))
    for key in ("standfirst", "author", "source"):
        assert squash(front[key]) in text, f"front matter {key} missing: {front[key]!r}"


PLACARDS = expected_outputs(("placard",))
POSTERS = expected_outputs(("poster",))


@pytest.mark.parametrize("exp", PLACARDS, ids=ids(PLACARDS))
def test_placard_page_per_slogan(kit, exp):
    slogans = [squash(s) for s in read_slogans()]
    pages = [squash(t) for t in pdf_texts(kit.pdf(exp.file))]
    assert len(pages) == len(slogans)
    for i, (page, slogan) in enumerate(zip(pages, slogans, strict=True)):
        assert slogan in page, f"page {i + 1} lacks slogan {i + 1}: {page!r}"
        others = [j + 1 for j, s in enumerate(slogans) if j != i and s in page and s not in slogan]
        assert not others, f"page {i + 1} also shows slogans {others}"


@pytest.mark.parametrize("exp", POSTERS, ids=ids(POSTERS))
def test_poster_has_every_slogan(kit, exp):
    text = squash("".join(pdf_texts(kit.pdf(exp.file))))
    missing = [s for s in read_slogans() if squash(s) not in text]
    assert not missing


# --- fonts ----------------------------------------------------------------------------------


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _bundled_names() -> set[str]:
    """Names a bundled font may carry in a PDF: PostScript name, full name, family (+style)."""
    names = set()
    for path in sorted(FONTS.rglob("*")):
        if path.suffix.lower() not in (".ttf", ".otf"):
            continue
        with TTFont(path, lazy=True) as font:
            get = {i: (font["name"].getDebugName(i) or "") for i in (1, 2, 4, 6, 16, 17)}
        family = get[16] or get[1]
        style = get[17] or get[2]
        names |= {_norm(get[4]), _norm(get[6]), _norm(family), _norm(get[1]),
                  _norm(family + style), _norm(get[1] + get[2])}
    names.discard("")
    return names


BUNDLED = _bundled_names()


def test_bundled_fonts_found():
    assert {"charissilregular", "bebasneuebold"} <= BUNDLED


def _font_programs(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    """Every font that carries glyphs: simple fonts, and the descendants of Type0 fonts."""
    found, seen = [], set()
    for obj in pdf.objects:
        if not (isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/Font"):
            continue
        font = obj.DescendantFonts[0] if obj.get("/Subtype") == "/Type0" else obj
        key = font.objgen if font.is_indirect else id(font)
        if font.get("/Subtype") in ("/CIDFontType0", "/CIDFontType2") and font is obj:
            continue  # a descendant, reached through its Type0 parent
        if key not in seen:
            seen.add(key)
            found.append(font)
    return found


@pytest.mark.parametrize("exp", ALL, ids=ids(ALL))
def test_fonts_embedded_subset_and_bundled(kit, exp, system_font_families):
    system = {_norm(f) for f in system_font_families} - {_norm("Charis SIL"),
                                                         _norm("Bebas Neue")}
    with pikepdf.open(kit.pdf(exp.file)) as pdf:
        fonts = _font_programs(pdf)
        assert fonts, "no fonts at all"
        for font in fonts:
            base = str(font.get("/BaseFont", ""))[1:]
            descriptor = font.get("/FontDescriptor")
            assert descriptor is not None, f"{base}: no font descriptor (a base-14 font?)"
            assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, (
                f"{base} is not embedded")
            match = re.fullmatch(r"[A-Z]{6}\+(.+)", base)
            assert match, f"{base} is not subset"
            name = _norm(match.group(1))
            assert name in BUNDLED, f"{base} is not one of fonts/: {sorted(BUNDLED)}"
            assert not any(s in name for s in system if s), f"{base} is a system font"


# --- the manifest ---------------------------------------------------------------------------


def test_manifest_matches_files(kit):
    import hashlib
    import json

    version = package_version()
    manifest = json.loads((kit.out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["generator"] == f"pamphleteer {version}"
    assert manifest["content"] == "content/aleppo"
    entries = {e["file"]: e for e in manifest["outputs"]}
    assert set(entries) == ({o.file for o in ALL} | set(IMPOSED) | set(TILED) | STICKER_FILES
                            | RISO_FILES | social_files(len(read_slogans())))
    for name, entry in entries.items():
        assert entry["sha256"] == hashlib.sha256((kit.out_dir / name).read_bytes()).hexdigest()
    for exp in ALL:
        entry, path = entries[exp.file], kit.out_dir / exp.file
        data = path.read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), exp.file
        assert entry["bytes"] == len(data), exp.file
        with pikepdf.open(path) as pdf:
            assert entry["pages"] == len(pdf.pages), exp.file
        assert (entry["layout"], entry["size"], entry["variant"]) == (
            exp.layout, exp.size, exp.variant)
        assert [round(v, 3) for v in entry["trim_mm"]] == [round(v, 3) for v in exp.trim_mm]
        assert entry["bleed_mm"] == (BLEED_MM if exp.press else 0), exp.file


@pytest.mark.parametrize("exp", SCREEN, ids=ids(SCREEN))
def test_screen_files_are_tagged_pdf_ua(kit, exp):
    """Screen files are read on phones and by screen readers: PDF/UA-1's structure tree,
    language and title, and RGB only (no press colour)."""
    front, _ = read_article()
    with pikepdf.open(kit.pdf(exp.file)) as pdf:
        root = pdf.Root
        assert "/StructTreeRoot" in root and root.MarkInfo.Marked
        assert str(root.Lang) == front["lang"]
        assert root.ViewerPreferences.DisplayDocTitle
        assert str(pdf.docinfo["/Title"]) == front["title"]
        with pdf.open_metadata() as xmp:
            assert xmp.get("pdfuaid:part") == "1"
        for page in pdf.pages:
            for operands, operator in pikepdf.parse_content_stream(page):
                assert str(operator) not in ("k", "K"), "CMYK colour in a screen file"
                assert "/DeviceCMYK" not in map(str, operands), "CMYK colour in a screen file"
    assert kit.pdf(exp.file).stat().st_size < 60_000, "screen files are for sharing: keep small"


def test_outputs_are_readable_like_any_new_file(kit):
    """Outputs get the permissions the umask gives any new file, not mkstemp's private 0600:
    a kit is made to be handed on (copied to a share, served, mailed)."""
    umask = os.umask(0)
    os.umask(umask)
    wanted = 0o666 & ~umask
    modes = {p.name: stat.S_IMODE(p.stat().st_mode)
             for p in [*kit.out_dir.glob("*.pdf"), kit.out_dir / "manifest.json"]}
    wrong = {name: oct(mode) for name, mode in modes.items() if mode != wanted}
    assert not wrong, f"expected {oct(wanted)}: {wrong}"
