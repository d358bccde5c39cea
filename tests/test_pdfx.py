"""Press files are PDF/X: PDF/X-4 by default, PDF/X-1a:2001 with --pdfx x1a.

Read back with pikepdf from what PDF/X asks for (an embedded CMYK output intent, the
Info and XMP labels, no RGB anywhere, ink within the limit), not from the code under
test. No PDF/X validator is packaged for Debian or PyPI (veraPDF is Java, outside both),
so these checks stand in for one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from helpers import (
    CONTENT,
    ROOT,
    assert_clean_failure,
    copy_project,
    expected_outputs,
    ids,
    read_article,
    run,
    write_content,
)
from pamphleteer.pdf import pdfx
from pamphleteer.pdf.colourspace import ink_total

PRESS = expected_outputs(variants=("press",))
DESK = expected_outputs(variants=("desk",))
PROFILE = ROOT / "src" / "pamphleteer" / "profiles" / "pamphleteer-fogra39.icc"
INK_LIMIT_PCT = 300
XMP = {
    "pdfxid": "http://www.npes.org/pdfx/ns/id/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
}
needs_gs = pytest.mark.skipif(shutil.which("gs") is None, reason="Ghostscript not installed")


def xmp(pdf: pikepdf.Pdf, prefix: str, name: str):
    return pdf.open_metadata().get(f"{{{XMP[prefix]}}}{name}")


def rgb_uses(pdf: pikepdf.Pdf) -> list[str]:
    """Every place RGB appears: colour space names and ICC streams in any object, and
    RGB colour operators in any content stream."""
    found = []
    for obj in pdf.objects:
        if (isinstance(obj, pikepdf.Stream) and obj.get("/Type") is None
                and obj.get("/N") == 3):
            found.append(f"ICC stream {obj.objgen} with N 3")
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream | pikepdf.Array):
            if b"/DeviceRGB" in obj.unparse() or b"/CalRGB" in obj.unparse():
                found.append(f"object {obj.objgen}")
        if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Form":
            found += [f"form {obj.objgen}: {op}" for _, op in pikepdf.parse_content_stream(obj)
                      if str(op) in ("rg", "RG")]
    for number, page in enumerate(pdf.pages, 1):
        for operands, op in pikepdf.parse_content_stream(page):
            if str(op) in ("rg", "RG") or (str(op) in ("cs", "CS")
                                           and str(operands[0]) == "/DeviceRGB"):
                found.append(f"page {number}: {op}")
    return found


def cmyk_values(pdf: pikepdf.Pdf) -> list[tuple[float, ...]]:
    """Every CMYK colour set on the pages and in their forms (k, K, and sc/scn after a
    /DeviceCMYK colour space)."""
    values = []

    def walk(owner):
        space = {"fill": None, "stroke": None}
        for operands, op in pikepdf.parse_content_stream(owner):
            op = str(op)
            if op in ("cs", "CS"):
                space["fill" if op == "cs" else "stroke"] = str(operands[0])
            elif op in ("k", "K"):
                values.append(tuple(float(v) for v in operands))
            elif op in ("sc", "scn", "SC", "SCN") and len(operands) == 4:
                if space["fill" if op.islower() else "stroke"] == "/DeviceCMYK":
                    values.append(tuple(float(v) for v in operands))

    for page in pdf.pages:
        walk(page)
        for xobject in page.obj.get("/Resources", {}).get("/XObject", {}).values():
            if xobject.get("/Subtype") == "/Form":
                walk(xobject)
    return values


# --- the profile -------------------------------------------------------------------------


def test_shipped_profile_is_a_described_cmyk_output_profile_with_its_licence():
    from PIL import ImageCms

    header = PROFILE.read_bytes()[:40]
    assert header[36:40] == b"acsp" and header[12:16] == b"prtr" and header[16:20] == b"CMYK"
    profile = ImageCms.getOpenProfile(str(PROFILE))
    assert ImageCms.getProfileDescription(profile).strip() == (
        "pamphleteer FOGRA39 (coated, ISO 12647-2)")
    readme = (PROFILE.parent / "README.md").read_text()
    for fact in ("icc-profiles-free", "argyll", "colprof", "FOGRA39L.ti3", "zlib"):
        assert fact.lower() in readme.lower(), fact
    assert (ROOT / "scripts" / "build-icc").is_file()


# --- the default kit: PDF/X-4 ------------------------------------------------------------


@pytest.mark.parametrize("exp", PRESS, ids=ids(PRESS))
def test_press_file_is_pdfx4(kit, exp):
    with pikepdf.open(kit.pdf(exp.file)) as pdf:
        assert tuple(int(v) for v in pdf.pdf_version.split(".")) >= (1, 6)
        intents = pdf.Root.OutputIntents
        assert len(intents) == 1
        intent = intents[0]
        assert intent.S == "/GTS_PDFX"
        assert str(intent.OutputConditionIdentifier) == "FOGRA39"
        assert str(intent.RegistryName) == "http://www.color.org"
        assert str(intent.Info)
        assert intent.DestOutputProfile.N == 4
        assert intent.DestOutputProfile.read_bytes() == PROFILE.read_bytes()

        info = pdf.docinfo
        assert str(info["/GTS_PDFXVersion"]) == "PDF/X-4"
        assert info["/Trapped"] == pikepdf.Name("/False")
        assert str(info["/Title"]) == read_article()[0]["title"]
        assert pdfx.pdfx_version(pdf) == "PDF/X-4"

        assert xmp(pdf, "pdfxid", "GTS_PDFXVersion") == "PDF/X-4"
        assert xmp(pdf, "pdf", "Trapped") == "False"
        assert xmp(pdf, "dc", "title") == str(info["/Title"])
        assert xmp(pdf, "pdf", "Producer") == str(info["/Producer"])
        dates = {xmp(pdf, "xmp", k) for k in ("CreateDate", "ModifyDate", "MetadataDate")}
        assert dates == {"2000-01-01T00:00:00Z"}, dates  # the default epoch, like Info's
        assert str(info["/CreationDate"]).startswith("D:20000101000000")
        for key in ("DocumentID", "InstanceID"):
            assert xmp(pdf, "xmpMM", key).startswith("uuid:")

        for page in pdf.pages:
            assert "/TrimBox" in page.obj and "/BleedBox" in page.obj
            assert "/Annots" not in page.obj


@pytest.mark.parametrize("exp", PRESS, ids=ids(PRESS))
def test_press_file_has_no_rgb_and_keeps_the_ink_limit(kit, exp):
    with pikepdf.open(kit.pdf(exp.file)) as pdf:
        assert rgb_uses(pdf) == []
        values = cmyk_values(pdf)
        assert values, "no CMYK colour at all"
        assert max(sum(v) * 100 for v in values) <= INK_LIMIT_PCT
        assert all(ink_total(v) <= INK_LIMIT_PCT for v in values)


def test_press_ids_differ_between_files_and_desk_files_are_not_pdfx(kit):
    documents = set()
    for exp in PRESS:
        with pikepdf.open(kit.pdf(exp.file)) as pdf:
            documents.add(xmp(pdf, "xmpMM", "DocumentID"))
    assert len(documents) == len(PRESS)
    for exp in DESK:
        with pikepdf.open(kit.pdf(exp.file)) as pdf:
            assert "/OutputIntents" not in pdf.Root
            assert pdfx.pdfx_version(pdf) is None


def test_manifest_names_the_standard_of_each_press_file(kit):
    entries = {e["file"]: e for e in json.loads((kit.out_dir / "manifest.json").read_text())
               ["outputs"]}
    assert {entries[e.file].get("pdfx") for e in PRESS} == {"PDF/X-4"}
    assert {entries[e.file].get("pdfx") for e in DESK} == {None}


def test_ink_total():
    assert ink_total((0, 0, 0, 1)) == 100
    assert ink_total((0.6, 0.4, 0.4, 1)) == 240
    assert ink_total([1, 1, 1, 1]) == 400


# --- what the content may do -------------------------------------------------------------


def _build(project: Path, out: Path, *args) -> object:
    return run("build", "--project", project, "--content", CONTENT, "--out", out,
               "--jobs", "1", *args)


def test_rgb_image_is_separated_to_cmyk(tmp_path, project_dir):
    front, paragraphs = read_article(CONTENT)
    body = "\n\n".join([paragraphs[0], "![A photograph](photo.png)", *paragraphs[1:]]) + "\n"
    folder = write_content(tmp_path / "content", front=front, body=body,
                           slogans=(CONTENT / "slogans.md").read_text())
    image = Image.new("RGB", (1200, 900), (30, 120, 200))  # enough pixels for its column
    image.paste((255, 200, 0), (0, 0, 1200, 450))
    image.save(folder / "photo.png")
    out = tmp_path / "out"
    result = run("build", "leaflet-a4", "--variant", "press", "--project", project_dir,
                 "--content", folder, "--out", out, "--jobs", "1")
    assert result.exit_code == 0, result.output
    with pikepdf.open(out / "leaflet-a4-press.pdf") as pdf:
        images = [o for o in pdf.objects
                  if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Image"]
        assert [(int(i.Width), i.ColorSpace) for i in images] == [(1200, "/DeviceCMYK")]
        assert rgb_uses(pdf) == []
        pixels = pikepdf.PdfImage(images[0]).as_pil_image()
        assert pixels.mode == "CMYK"
        c, m, y, k = pixels.getpixel((600, 700))  # the blue half: mostly cyan
        assert c > m and c > y


def test_rgb_in_press_css_fails_the_press_file(tmp_path):
    project = copy_project(tmp_path / "proj")
    style = project / "layouts" / "flyer" / "style.css"
    style.write_text(style.read_text() + "\n.variant-press .head { background: #2040c0; }\n")
    line = assert_clean_failure(_build(project, tmp_path / "out", "flyer-a6"), 1)
    assert "flyer-a6-press.pdf: colour:" in line and "RGB" in line and "device-cmyk" in line
    assert (tmp_path / "out" / "flyer-a6-desk.pdf").is_file()


def test_transparency_blends_in_cmyk(tmp_path):
    """WeasyPrint gives an element with opacity a transparency group blending in
    DeviceRGB, even when all it holds is CMYK: the press file's group blends in CMYK."""
    project = copy_project(tmp_path / "proj")
    style = project / "layouts" / "flyer" / "style.css"
    style.write_text(style.read_text() + "\n.variant-press .standfirst { opacity: 0.8; }\n")
    result = _build(project, tmp_path / "out", "flyer-a6", "--variant", "press")
    assert result.exit_code == 0, result.output
    with pikepdf.open(tmp_path / "out" / "flyer-a6-press.pdf") as pdf:
        groups = [o.Group for o in pdf.objects
                  if isinstance(o, pikepdf.Stream) and "/Group" in o]
        assert groups and {str(g.CS) for g in groups} == {"/DeviceCMYK"}
        assert rgb_uses(pdf) == []


def test_colour_over_the_ink_limit_fails(tmp_path):
    """The accent is 190 % ink: a 150 % limit refuses it, naming the limit and the fix."""
    project = copy_project(tmp_path / "proj")
    config = project / "pamphleteer.toml"
    config.write_text(config.read_text() + "ink_limit_pct = 150\n")
    line = assert_clean_failure(_build(project, tmp_path / "out", "flyer-a6", "--variant",
                                       "press"), 1)
    assert "colour:" in line and "190 % ink" in line and "150 % limit" in line
    assert "ink_limit_pct" in line


def test_printers_own_profile_is_embedded(tmp_path):
    project = copy_project(tmp_path / "proj")
    own = bytearray(PROFILE.read_bytes())
    own[24:36] = bytes(12)  # another file, still a CMYK output profile
    (project / "printer.icc").write_bytes(own)
    config = project / "pamphleteer.toml"
    config.write_text(config.read_text() + 'output_profile = "printer.icc"\n'
                      'output_condition = "Copy shop press 3"\n')
    result = _build(project, tmp_path / "out", "flyer-a6", "--variant", "press")
    assert result.exit_code == 0, result.output
    with pikepdf.open(tmp_path / "out" / "flyer-a6-press.pdf") as pdf:
        intent = pdf.Root.OutputIntents[0]
        assert intent.DestOutputProfile.read_bytes() == bytes(own)
        assert str(intent.OutputConditionIdentifier) == "Copy shop press 3"


def _srgb(path: Path) -> str:
    from PIL import ImageCms

    path.write_bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    return path.name


@pytest.mark.parametrize("make, problem", [
    (lambda project: "missing.icc", "does not exist"),
    (lambda project: "../outside.icc", "outside the project"),
    (lambda project: _srgb(project / "srgb.icc"), "not a CMYK output (prtr) profile"),
    (lambda project: (project / "notes.icc").write_text("hello") and "notes.icc",
     "not an ICC profile"),
], ids=["missing", "outside", "rgb-profile", "not-icc"])
def test_bad_output_profile_is_one_config_error(tmp_path, make, problem):
    project = copy_project(tmp_path / "proj")
    (tmp_path / "outside.icc").write_bytes(PROFILE.read_bytes())
    config = project / "pamphleteer.toml"
    config.write_text(config.read_text() + f'output_profile = "{make(project)}"\n')
    line = assert_clean_failure(run("list", "--project", project), 2)
    assert "pamphleteer.toml:" in line and "print.output_profile" in line and problem in line


# --- PDF/X-1a ----------------------------------------------------------------------------


def boxes(pdf: pikepdf.Pdf) -> list[float]:
    return [float(v) for page in pdf.pages for k in ("/MediaBox", "/TrimBox", "/BleedBox")
            for v in page.obj[k]]


@needs_gs
def test_x1a_press_file(tmp_path, project_dir):
    """Built after an X-4 build into the same folder: the standard is part of the cache
    key. Built twice: the same bytes, though Ghostscript is in the way."""
    out = tmp_path / "out"
    args = ("build", "flyer-a6", "--variant", "press", "--project", project_dir, "--content",
            CONTENT, "--jobs", "1", "--json")
    assert run(*args, "--out", out).exit_code == 0
    with pikepdf.open(out / "flyer-a6-press.pdf") as pdf:
        x4_boxes = boxes(pdf)
    result = run(*args, "--out", out, "--pdfx", "x1a")
    assert result.exit_code == 0, result.output
    assert '"status": "built"' in result.output
    again = run(*args, "--out", tmp_path / "again", "--pdfx", "x1a")
    assert again.exit_code == 0, again.output
    data = (out / "flyer-a6-press.pdf").read_bytes()
    assert data == (tmp_path / "again" / "flyer-a6-press.pdf").read_bytes()

    with pikepdf.open(out / "flyer-a6-press.pdf") as pdf:
        assert pdf.pdf_version == "1.3"
        assert pdfx.pdfx_version(pdf) == "PDF/X-1a:2001"
        assert str(pdf.docinfo["/GTS_PDFXVersion"]) == "PDF/X-1:2001"
        assert str(pdf.docinfo["/GTS_PDFXConformance"]) == "PDF/X-1a:2001"
        assert pdf.docinfo["/Trapped"] == pikepdf.Name("/False")
        assert xmp(pdf, "pdfxid", "GTS_PDFXVersion") == "PDF/X-1:2001"
        intent = pdf.Root.OutputIntents[0]
        assert intent.S == "/GTS_PDFX"
        assert intent.DestOutputProfile.read_bytes() == PROFILE.read_bytes()
        assert boxes(pdf) == pytest.approx(x4_boxes)
        assert rgb_uses(pdf) == []
        for obj in pdf.objects:  # PDF 1.3: no transparency, no object or xref streams
            if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                assert obj.get("/Type") not in ("/ObjStm", "/XRef")
                assert "/SMask" not in obj and "/Group" not in obj
                assert float(obj.get("/ca", 1)) == 1 and float(obj.get("/CA", 1)) == 1
        fonts = [f for page in pdf.pages for f in page.obj.Resources.Font.values()]
        assert fonts
        for font in fonts:
            name = str(font.BaseFont)
            assert name[7] == "+" and ("Bebas" in name or "Charis" in name), name
            descriptor = font.DescendantFonts[0].FontDescriptor
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    manifest = json.loads((out / "manifest.json").read_text())
    assert {e["file"]: e.get("pdfx") for e in manifest["outputs"]} == {
        "flyer-a6-press.pdf": "PDF/X-1a:2001"}


def test_x1a_without_ghostscript_is_one_usage_error(tmp_path, project_dir, monkeypatch):
    monkeypatch.setattr(pdfx.shutil, "which", lambda name: None)
    result = run("build", "flyer-a6", "--variant", "press", "--project", project_dir,
                 "--content", CONTENT, "--out", tmp_path / "out", "--pdfx", "x1a")
    line = assert_clean_failure(result, 2)
    assert "Ghostscript" in line and "apt-get install ghostscript" in line
