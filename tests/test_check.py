"""Preflight (`pamphleteer check`): each check catches its deliberately broken case, and
the default kit passes them all.

Broken files are made two ways: by building from broken inputs (an image too small for
its column, a hairline in a layout) where the build is what must refuse, and by editing
a good output with pikepdf (a box moved, text pushed past the trim, RGB ink in a press
file) where the file is what is wrong, as a file from elsewhere would be.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from helpers import (
    CONTENT,
    PT_PER_MM,
    assert_clean_failure,
    copy_project,
    run,
    write_content,
)

CHECK_IDS = ("boxes", "bleed", "fonts", "glyphs", "overflow", "safe-zone", "text-size",
             "image-ppi", "colour", "page-count", "hairlines", "accessibility",
             "active-content", "cut-contour", "riso-ink", "black-only")


def findings(*paths: Path, strict: bool = False) -> tuple[int, list[dict]]:
    """Run `pamphleteer check --json` and return its exit code and findings."""
    args = ["check", "--json", *(["--strict"] if strict else []), *paths]
    result = run(*args)
    assert "Traceback" not in result.output
    report = json.loads(result.stdout)
    return result.exit_code, report["findings"]


def found(items: list[dict], check: str, severity: str = "error") -> list[dict]:
    return [f for f in items if f["check"] == check and f["severity"] == severity]


@pytest.fixture
def copy_of(kit, tmp_path):
    """A copy of one kit output next to the kit's manifest, so check judges it by its
    declared size and rules; returns the copy's path."""
    def copy(name: str) -> Path:
        shutil.copy(kit.out_dir / "manifest.json", tmp_path / "manifest.json")
        return Path(shutil.copy(kit.pdf(name), tmp_path / name))
    return copy


def first_text(pdf: pikepdf.Pdf) -> tuple[str, bytes]:
    """A font resource name and a string it shows on page 1: to draw more text in it."""
    page = pdf.pages[0]
    font = None
    for operands, operator in pikepdf.parse_content_stream(page):
        if str(operator) == "Tf":
            font = str(operands[0])
        elif str(operator) == "TJ" and font:
            strings = [p for p in operands[0] if isinstance(p, pikepdf.String)]
            return font, bytes(strings[0])
        elif str(operator) == "Tj" and font:
            return font, bytes(operands[0])
    raise AssertionError("no text on page 1")


def draw(path: Path, stream: bytes, *, text_font: bool = False) -> None:
    """Append drawing to page 1 of ``path``; ``{font}`` and ``{text}`` in the stream
    name a font of the page and a string it can show."""
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        page = pdf.pages[0]
        if text_font:
            font, text = first_text(pdf)
            stream = stream.replace(b"{font}", font.encode()).replace(
                b"{text}", b"<" + (text * 8).hex().encode() + b">")
        page.contents_add(pdf.make_stream(b"\nq " + stream + b" Q\n"))
        pdf.save(path)


def trim_pt(path: Path) -> tuple[float, ...]:
    with pikepdf.open(path) as pdf:
        return tuple(float(v) for v in pdf.pages[0].trimbox)


# --- the default kit ------------------------------------------------------------------


def test_every_check_is_known():
    from pamphleteer.check import CHECKS

    assert set(CHECKS) == set(CHECK_IDS)


def test_default_kit_passes_strict(kit):
    code, items = findings(kit.out_dir, strict=True)
    assert items == []
    assert code == 0


def test_report_line_names_severity_file_page_and_fix(copy_of):
    path = copy_of("flyer-a6-desk.pdf")
    draw(path, b"BT {font} 12 Tf 1 0 0 1 1 200 Tm {text} Tj ET", text_font=True)
    result = run("check", path)
    assert result.exit_code == 1
    [line] = [ln for ln in result.stdout.splitlines() if "safe-zone" in ln]
    assert line.startswith(f"error: {path}: safe-zone: page 1: text ")
    assert "widen the layout's margins" in line


# --- one broken case per check --------------------------------------------------------


def test_boxes_wrong_trim(copy_of):
    path = copy_of("poster-a3-desk.pdf")
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.pages[0].obj.TrimBox = pikepdf.Array([0, 0, 210 * PT_PER_MM, 297 * PT_PER_MM])
        pdf.save(path)
    code, items = findings(path)
    [f] = found(items, "boxes")
    assert "declared size is 297×420 mm" in f["message"] and f["page"] == 1
    assert code == 1


def test_boxes_mixed_page_sizes(copy_of):
    path = copy_of("leaflet-a4-desk.pdf")
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        box = pikepdf.Array([0, 0, 297 * PT_PER_MM, 210 * PT_PER_MM])
        for key in ("/MediaBox", "/TrimBox", "/BleedBox"):
            pdf.pages[1].obj[key] = box
        pdf.save(path)
    _, items = findings(path)
    assert any("differ in size or orientation" in f["message"] for f in found(items, "boxes"))


def test_bleed_background_stopping_at_the_trim(copy_of):
    """The placard's frame runs into the bleed; paint the bleed white along the top,
    as a layout that forgot var(--bleed) would leave it."""
    path = copy_of("placard-a3-landscape-press.pdf")
    x0, y0, x1, y1 = trim_pt(path)
    draw(path, f"1 g {x0 - 20:.2f} {y1:.2f} {x1 - x0 + 40:.2f} 20 re f".encode())
    _, items = findings(path)
    [f] = found(items, "bleed")
    assert "top edge" in f["message"] and f["page"] == 1


def test_fonts_not_embedded(copy_of):
    path = copy_of("flyer-a6-desk.pdf")
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        page = pdf.pages[0]
        page.Resources.Font["/Fx"] = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name.Helvetica))
        page.contents_add(pdf.make_stream(b"BT /Fx 12 Tf 100 100 Td (Hi) Tj ET"))
        pdf.save(path)
    _, items = findings(path)
    assert any("Helvetica is not embedded" in f["message"] for f in found(items, "fonts"))


@pytest.mark.parametrize("shown, notdef", [
    (b"<0000> Tj", True),
    # as WeasyPrint shows a word: hex strings, spacings and empty literal strings
    (b"[ <0035> -30 () -30.5 <0000> -29 () ] TJ", True),
    (b"[ <0035> -30 () -30.5 <0029> -29 () ] TJ", False),
    (b"[ <01000001> ] TJ", False),  # glyphs 256 and 1: zero bytes, but no zero glyph
    (b"[ (\\000\\000) 10 <0035> ] TJ", True),  # a literal string, read item by item
    (b"[ <0035> <000> ] TJ", True),  # an odd hex string ends in an implied 0
])
def test_glyphs_notdef(copy_of, shown, notdef):
    path = copy_of("flyer-a6-desk.pdf")
    draw(path, b"BT {font} 12 Tf 1 0 0 1 100 100 Tm " + shown + b" ET", text_font=True)
    _, items = findings(path)
    messages = [f["message"] for f in found(items, "glyphs")]
    assert len(messages) == notdef
    assert all("empty box (.notdef)" in m for m in messages)


def test_glyphs_missing_from_bundled_fonts_fails_the_build(tmp_path):
    content = write_content(tmp_path / "c", slogans=["Stop ☃ now"])
    message = assert_clean_failure(
        run("build", "--content", content, "--out", tmp_path / "out", "placard"), 2)
    assert "'☃' (U+2603 SNOWMAN)" in message and "Stop ☃ now" in message


def test_glyphs_fallback_outside_the_layouts_font_family(tmp_path):
    """Charis SIL has Ω, Bebas Neue has not: a headline set in Bebas Neue alone must not
    quietly borrow Charis's."""
    project = copy_project(tmp_path / "proj")
    css = project / "layouts" / "flyer" / "style.css"
    css.write_text(css.read_text() + '\n.headline { font-family: "Bebas Neue"; }\n')
    content = write_content(tmp_path / "c", {"title": "T", "headline": "Stop Ω now"},
                            slogans=["One", "Two", "Three"])
    result = run("build", "--project", project, "--content", content, "--out",
                 tmp_path / "out", "flyer-a6", "--variant", "desk")
    assert result.exit_code == 1
    # the headline is upper-cased by its CSS, and reported as set
    assert ("flyer-a6-desk.pdf: glyphs: page 1: Bebas Neue has no 'Ω' (U+03A9 GREEK "
            "CAPITAL LETTER OMEGA) in 'STOP Ω NOW'") in result.output


def test_overflow_text_past_the_trim(copy_of):
    path = copy_of("flyer-a6-desk.pdf")
    x0, y0, x1, y1 = trim_pt(path)
    draw(path, f"BT {{font}} 14 Tf 1 0 0 1 {x1 - 20:.1f} 200 Tm {{text}} Tj ET".encode(),
         text_font=True)
    _, items = findings(path)
    [f] = found(items, "overflow")
    assert "past the trim" in f["message"]


def test_overflow_long_slogan_with_copyfit_off(tmp_path):
    """A layout that sets its slogan at a fixed size, with no [fit]: a long slogan runs
    off the placard, and the build says so instead of printing it cut."""
    project = copy_project(tmp_path / "proj")
    placard = project / "layouts" / "placard"
    toml = placard / "layout.toml"
    toml.write_text(toml.read_text().split("[fit.slogan]")[0])
    template = placard / "main.html.j2"
    template.write_text(template.read_text().replace(' data-fit="slogan"', ""))
    css = placard / "style.css"
    css.write_text(css.read_text() + "\n.slogan { font-size: 200pt; white-space: nowrap; }\n")
    content = write_content(tmp_path / "c", slogans=["Freedom of movement for refugees"])
    result = run("build", "--project", project, "--content", content, "--out",
                 tmp_path / "out", "placard-a3-landscape", "--variant", "desk")
    assert result.exit_code == 1
    assert "placard-a3-landscape-desk.pdf: overflow: page 1: text 'FREEDOM OF MOVEMENT" \
        in result.output
    assert "past the trim" in result.output


def test_overflow_extra_page(copy_of):
    path = copy_of("poster-a3-desk.pdf")
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.pages.append(pdf.pages[0])
        pdf.save(path)
    _, items = findings(path)
    assert any("extra page" in f["message"] for f in found(items, "overflow"))


def test_safe_zone(copy_of):
    path = copy_of("booklet-a5-desk.pdf")
    x0, y0, x1, y1 = trim_pt(path)
    # 4 mm in from the left: outside the 5 mm desk margin's text area, booklets ask 6
    draw(path, f"BT {{font}} 9 Tf 1 0 0 1 {x0 + 4 * PT_PER_MM:.1f} 300 Tm {{text}} Tj ET"
         .encode(), text_font=True)
    _, items = findings(path)
    [f] = found(items, "safe-zone")
    assert "6 mm safe zone" in f["message"]


def test_text_size_small_text_warns(copy_of):
    path = copy_of("flyer-a6-desk.pdf")
    draw(path, b"BT {font} 5 Tf 1 0 0 1 100 150 Tm {text} Tj ET", text_font=True)
    code, items = findings(path)
    [f] = found(items, "text-size", "warning")
    assert "5.0 pt" in f["message"]
    assert code == 0
    assert findings(path, strict=True)[0] == 1


def test_text_size_rich_black_small_press_text(copy_of):
    path = copy_of("flyer-a6-press.pdf")
    draw(path, b"0.6 0.5 0.4 1 k BT {font} 9 Tf 1 0 0 1 150 200 Tm {text} Tj ET",
         text_font=True)
    _, items = findings(path)
    [f] = found(items, "text-size")
    assert "must be pure K" in f["message"] and "DeviceCMYK 0.6 0.5 0.4 1" in f["message"]


def build_leaflet_with_photo(tmp_path: Path, alt: str, size: tuple[int, int], variant: str):
    """Build the A4 leaflet of an article with one photo, ``size`` pixels, in its column."""
    content = write_content(tmp_path / "c", body=f"Text.\n\n![{alt}](crowd.png)\n\nMore.\n",
                            slogans=["One", "Two", "Three"])
    Image.new("RGB", size, (120, 60, 60)).save(content / "crowd.png")
    return run("build", "--content", content, "--out", tmp_path / "out", "leaflet-a4",
               "--variant", variant)


def test_image_ppi_small_image_stretched_across_a_column(tmp_path):
    result = build_leaflet_with_photo(tmp_path, "A crowd", (60, 40), "desk")
    assert result.exit_code == 1
    assert "leaflet-a4-desk.pdf: image-ppi: page 1: an image of 60×40 px prints at" \
        in result.output
    assert "use a larger image" in result.output


@pytest.mark.parametrize(("paint", "message"), [
    (b"0 0 1 rg", "DeviceRGB colour in a press file"),
    (b"1 1 1 1 k", "400 % ink, over the 300 % limit"),
])
def test_colour_in_press_file(copy_of, paint, message):
    path = copy_of("poster-a3-press.pdf")
    draw(path, paint + b" 200 200 50 50 re f")
    _, items = findings(path)
    assert any(message in f["message"] for f in found(items, "colour"))


def test_colour_pdfx_without_output_intent(copy_of):
    path = copy_of("poster-a3-press.pdf")
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.docinfo["/GTS_PDFXVersion"] = "PDF/X-4"
        if "/OutputIntents" in pdf.Root:
            del pdf.Root["/OutputIntents"]
        pdf.save(path)
    _, items = findings(path)
    assert any("PDF/X-4 without a PDF/X output intent" in f["message"]
               for f in found(items, "colour"))


def test_page_count_booklet_not_multiple_of_four(copy_of):
    path = copy_of("booklet-a5-desk.pdf")
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        del pdf.pages[-1]
        pdf.save(path)
    _, items = findings(path)
    [f] = found(items, "page-count")
    assert "multiple of 4" in f["message"]


@pytest.mark.parametrize(("width", "severity"), [("0.1pt", "error"), ("0.2pt", "warning")])
def test_hairline_in_a_layout(tmp_path, width, severity):
    project = copy_project(tmp_path / "proj")
    css = project / "layouts" / "flyer" / "style.css"
    css.write_text(css.read_text() + f"\n.standfirst {{ border-top: {width} solid; }}\n")
    out = tmp_path / "out"
    result = run("build", "--project", project, "--content", CONTENT, "--out", out,
                 "flyer-a6", "--variant", "desk")
    line = f"{severity}: flyer-a6-desk.pdf: hairlines: page 1: a line"
    if severity == "error":
        assert result.exit_code == 1
        assert f"flyer-a6-desk.pdf: hairlines: page 1: a line {width[:-2]}" in result.output
    else:
        assert result.exit_code == 0, result.output
        assert line in result.output
        _, items = findings(out / "flyer-a6-desk.pdf")
        assert found(items, "hairlines", "warning")


def test_accessibility_untagged_screen_file(copy_of):
    path = copy_of("flyer-a6-screen.pdf")
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        del pdf.Root["/StructTreeRoot"]
        del pdf.Root["/Lang"]
        pdf.save(path)
    _, items = findings(path)
    messages = " ".join(f["message"] for f in found(items, "accessibility"))
    assert "no structure tree" in messages and "no document language" in messages


def test_accessibility_image_without_alt_text(tmp_path):
    result = build_leaflet_with_photo(tmp_path, "", (1200, 800), "screen")
    assert result.exit_code == 1
    assert "leaflet-a4-screen.pdf: accessibility: an image has no alt text" in result.output


# --- files from elsewhere, and bad input ----------------------------------------------


def test_pdf_without_manifest_is_judged_by_itself(kit, tmp_path):
    path = Path(shutil.copy(kit.pdf("leaflet-a4-screen.pdf"), tmp_path / "shared.pdf"))
    code, items = findings(path)
    assert (code, items) == (0, [])


def test_missing_path_is_a_usage_error(tmp_path):
    message = assert_clean_failure(run("check", tmp_path / "nope"), 2)
    assert "no such file or folder" in message


def _no_pages(path: Path) -> None:
    pikepdf.new().save(path)


def _password(path: Path) -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(path, encryption=pikepdf.Encryption(owner="o", user="u"))


def _bad_operands(path: Path) -> None:
    pdf = pikepdf.new()
    page = pdf.add_blank_page()
    page.obj.Contents = pdf.make_stream(b"q 1 0 0 cm 0 0 10 10 re f Q")  # cm takes six
    pdf.save(path)


def _truncated(path: Path) -> None:
    path.write_bytes(b"%PDF-1.7\nthis is not a PDF")


@pytest.mark.parametrize(("make", "message"), [
    (_no_pages, "page-count: the file has no pages"),
    (_password, "boxes: the PDF is password-protected"),
    (_bad_operands, "could not be checked, the file is malformed (ValueError"),
    (_truncated, "boxes: not a readable PDF ("),
])
def test_unreadable_pdfs_are_findings_not_tracebacks(tmp_path, make, message):
    path = tmp_path / "odd.pdf"
    make(path)
    result = run("check", path)
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert message in result.output
    assert "<_io.BytesIO" not in result.output


# --- rules on files made here, for what no layout of the kit draws --------------------


def one_page_pdf(stream: bytes, resources=lambda pdf: {}, finish=lambda pdf: None) -> bytes:
    """An A4 page drawing ``stream``; ``resources(pdf)`` makes its resources and
    ``finish(pdf)`` adds what else the file needs, both in the new file."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(595, 842))
    page.obj.Resources = pikepdf.Dictionary(resources(pdf))
    page.obj.Contents = pdf.make_stream(stream)
    for key in ("/TrimBox", "/BleedBox"):
        page.obj[key] = page.obj.MediaBox
    finish(pdf)
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(("viewing_cm", "severity"), [(30, "error"), (150, None)])
def test_image_ppi_is_judged_by_viewing_distance(viewing_cm, severity):
    """100 ppi is blurred in a hand, sharp on a wall seen from 1.5 m."""
    from pamphleteer.check import Expected, run

    def resources(pdf):
        image = pikepdf.Stream(pdf, bytes(400 * 400), Type=pikepdf.Name.XObject,
                               Subtype=pikepdf.Name.Image, Width=400, Height=400,
                               ColorSpace=pikepdf.Name.DeviceGray, BitsPerComponent=8)
        return {"/XObject": pikepdf.Dictionary(Im0=pdf.make_indirect(image))}

    data = one_page_pdf(b"q 288 0 0 288 100 100 cm /Im0 Do Q", resources)  # 4 in: 100 ppi
    got = run(data, "x.pdf", Expected("desk", viewing_cm=viewing_cm), only=("image-ppi",))
    assert [f.severity for f in got] == ([severity] if severity else [])


def test_colour_transparency_in_pdfx1a():
    from pamphleteer.check import Expected, run

    def resources(pdf):
        gstate = pikepdf.Dictionary(Type=pikepdf.Name.ExtGState, ca=0.5)
        return {"/ExtGState": pikepdf.Dictionary(GS0=gstate)}

    def as_x1a(pdf):
        pdf.docinfo["/GTS_PDFXVersion"] = "PDF/X-1:2001"
        pdf.docinfo["/GTS_PDFXConformance"] = "PDF/X-1a:2001"
        pdf.Root.OutputIntents = pikepdf.Array([pikepdf.Dictionary(
            Type=pikepdf.Name.OutputIntent, S=pikepdf.Name.GTS_PDFX,
            DestOutputProfile=pdf.make_stream(b"\0" * 128, N=4))])

    data = one_page_pdf(b"/GS0 gs 0 0 0 1 k 100 100 50 50 re f", resources, as_x1a)
    got = run(data, "x.pdf", Expected("press"), only=("colour",))
    assert [f.message for f in got] == [
        "transparency (opacity 0.5) in a PDF/X-1a file; build with --pdfx x1a, which "
        "flattens it"]


@pytest.mark.parametrize("to_unicode", [b"<0041>", b"<0000>"])
def test_safe_zone_finds_a_character_pdfium_does_not_count(to_unicode):
    """The check rules out a page whose text pdfium counts nowhere near the trim, and
    pdfium counts only characters with a code point: an "A" that maps to U+0000, alone
    by the trim, must still be found, as one that maps to "A" is."""
    from pamphleteer.check import Expected, run

    def resources(pdf):
        cmap = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap "
                b"1 begincodespacerange <00> <FF> endcodespacerange 1 beginbfchar <41> "
                + to_unicode + b" endbfchar endcmap end end")
        font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                  BaseFont=pikepdf.Name.Helvetica,
                                  ToUnicode=pdf.make_stream(cmap))
        return {"/Font": pikepdf.Dictionary(F1=font)}

    # the "A" 1.5 mm from the left edge, other text far inside, on another line
    data = one_page_pdf(b"BT /F1 12 Tf 4 400 Td (A) Tj 250 -200 Td (Hello) Tj ET", resources)
    got = run(data, "x.pdf", Expected("desk"), only=("overflow", "safe-zone"))
    assert [(f.check, f.page) for f in got] == [("safe-zone", 1)]
    assert "is 1.5 mm from the trim" in got[0].message


def test_screen_links_are_live(tmp_path):
    content = write_content(tmp_path / "c", body="Read [the report](https://example.org/r).\n",
                            slogans=["One", "Two", "Three"])
    result = run("build", "--content", content, "--out", tmp_path / "out", "leaflet-a4",
                 "--variant", "screen")
    assert result.exit_code == 0, result.output
    with pikepdf.open(tmp_path / "out" / "leaflet-a4-screen.pdf") as pdf:
        uris = [str(a.A.URI) for page in pdf.pages for a in page.obj.get("/Annots", [])
                if "/A" in a and "/URI" in a.A]
    assert uris == ["https://example.org/r"]
