"""Stickers: die-cut press files, read back. The cut line's spot colour, tint, overprint,
closure and position; the pages, boxes and texts; preflight's cut-contour rule."""

from __future__ import annotations

import hashlib
import io
import json
import math

import pikepdf
import pytest

from helpers import (
    LABEL_SHEETS,
    PT_PER_MM,
    STICKER_BLEED_MM,
    STICKER_FILES,
    STICKERS,
    pdf_texts,
    read_article,
    read_slogans,
    render_pages,
    squash,
)
from pamphleteer.check import Expected, run
from pamphleteer.config import load_project
from pamphleteer.pipeline import Job, build

SIZES = sorted(STICKERS)


@pytest.fixture(scope="session")
def stickers(tmp_path_factory):
    """The default content's stickers, built once: {size: path}."""
    from helpers import ROOT

    project = load_project(ROOT)
    out = tmp_path_factory.mktemp("stickers")
    outputs = build(Job(project=project, content_dir=project.content_dir, out_dir=out,
                        targets=("sticker",), jobs=1))
    assert not [o.error for o in outputs if o.error]
    assert {o.target.file for o in outputs} == STICKER_FILES
    return {s: out / f"sticker-{s}-press.pdf" for s in SIZES}


def mm(box) -> list[float]:
    return [float(v) / PT_PER_MM for v in box]


def cut_strokes(pdf: pikepdf.Pdf, page: pikepdf.Page) -> list[dict]:
    """Every path the page strokes in a Separation, with what was set when it was."""
    resources = page.obj.Resources
    found, path, state, stack = [], [], {"space": None, "tint": None, "gs": None, "w": 1.0}, []
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op == "q":
            stack.append(dict(state))
        elif op == "Q":
            state = stack.pop()
        elif op == "CS":
            state["space"] = resources.ColorSpace.get(str(operands[0]))
        elif op == "SCN":
            state["tint"] = [float(v) for v in operands]
        elif op == "gs":
            state["gs"] = resources.ExtGState[str(operands[0])]
        elif op == "w":
            state["w"] = float(operands[0])
        elif op in ("m", "l", "c"):
            path.append((op, [float(v) for v in operands]))
        elif op == "h":
            path.append(("h", []))
        elif op in ("S", "s", "f", "f*", "B", "b", "n", "W"):
            space = state["space"]
            if op in ("S", "s") and isinstance(space, pikepdf.Array) \
                    and str(space[0]) == "/Separation":
                found.append({**state, "path": path, "op": op, "depth": len(stack)})
            if op != "W":
                path = []
    return found


@pytest.mark.parametrize("size", SIZES)
def test_one_sticker_for_the_headline_then_each_slogan(stickers, size):
    article, _ = read_article()
    slogans = read_slogans()
    texts = pdf_texts(stickers[size])
    assert len(texts) == len(slogans) + 1
    assert squash(article["headline"]) in squash(texts[0])
    for text, slogan in zip(texts[1:], slogans, strict=True):
        assert squash(text) == squash(slogan)


@pytest.mark.parametrize("size", SIZES)
def test_trim_is_the_cut_and_the_page_is_the_bleed(stickers, size):
    (w, h), _ = STICKERS[size]
    b = STICKER_BLEED_MM
    with pikepdf.open(stickers[size]) as pdf:
        for page in pdf.pages:
            assert mm(page.obj.TrimBox) == pytest.approx([b, b, b + w, b + h], abs=0.01)
            assert mm(page.obj.BleedBox) == pytest.approx([0, 0, w + 2 * b, h + 2 * b],
                                                          abs=0.01)
            assert mm(page.obj.MediaBox) == pytest.approx(mm(page.obj.BleedBox), abs=0.01)
            assert "/GTS_PDFXVersion" in pdf.trailer.Info  # PDF/X-4 as every press file


@pytest.mark.parametrize("size", SIZES)
def test_cut_line_is_a_closed_overprinting_cutcontour_on_the_trim(stickers, size):
    (w, h), corner = STICKERS[size]
    with pikepdf.open(stickers[size]) as pdf:
        for number, page in enumerate(pdf.pages, 1):
            cuts = cut_strokes(pdf, page)
            assert len(cuts) == 1, f"page {number}: {len(cuts)} cut lines"
            cut = cuts[0]
            space = cut["space"]
            assert str(space[1]) == "/CutContour"
            assert str(space[2]) == "/DeviceCMYK"
            fn = space[3]
            assert int(fn.FunctionType) == 2 and [float(v) for v in fn.C1] == [0, 1, 0, 0]
            assert cut["tint"] == [1.0]
            gs = cut["gs"]
            assert gs.OP is True and gs.op is True and int(gs.OPM) == 1
            assert cut["w"] == pytest.approx(0.25)
            assert cut["depth"] == 1, "drawn at the page's top level, not inside the art"
            ops = [op for op, _ in cut["path"]]
            assert ops[0] == "m" and ops[-1] == "h", "a closed path"
            # Every on-curve point lies on the trim's rounded rectangle.
            b = STICKER_BLEED_MM
            x0, y0, x1, y1 = b, b, b + w, b + h
            points = [(v[-2] / PT_PER_MM, v[-1] / PT_PER_MM) for op, v in cut["path"] if v]
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            assert (min(xs), min(ys), max(xs), max(ys)) == pytest.approx((x0, y0, x1, y1),
                                                                         abs=0.01)
            for x, y in points:
                cx = min(max(x, x0 + corner), x1 - corner)
                cy = min(max(y, y0 + corner), y1 - corner)
                if (cx, cy) != (x, y):  # on a corner's arc
                    assert math.hypot(x - cx, y - cy) == pytest.approx(corner, abs=0.01)
                else:
                    assert min(x - x0, x1 - x, y - y0, y1 - y) == pytest.approx(0, abs=0.01)


def test_round_sticker_cut_is_a_circle(stickers):
    (w, _), _ = STICKERS["round"]
    with pikepdf.open(stickers["round"]) as pdf:
        cut = cut_strokes(pdf, pdf.pages[0])[0]
    centre = STICKER_BLEED_MM + w / 2
    curves = [v for op, v in cut["path"] if op == "c"]
    assert len(curves) == 4
    for v in curves:
        x, y = v[4] / PT_PER_MM, v[5] / PT_PER_MM
        assert math.hypot(x - centre, y - centre) == pytest.approx(w / 2, abs=0.01)


@pytest.mark.parametrize("size", SIZES)
def test_art_runs_into_the_bleed_and_the_cut_shows_magenta(stickers, size):
    """The field is painted to the page edge (2 mm past the cut) on every sticker."""
    for image in render_pages(stickers[size], dpi=50):
        rgb = image.convert("RGB")
        for x, y in ((1, rgb.height // 2), (rgb.width - 2, rgb.height // 2)):
            assert max(rgb.getpixel((x, y))) < 245, "the bleed is unpainted"


@pytest.mark.parametrize("size", SIZES)
def test_preflight_passes_and_accepts_the_separation(stickers, size):
    data = stickers[size].read_bytes()
    findings = run(data, size, _expected(size))
    assert [f for f in findings if f.severity == "error"] == []
    assert not [f for f in findings if f.check in ("colour", "cut-contour")]


def _expected(size: str) -> Expected:
    (w, h), _ = STICKERS[size]
    return Expected(variant="press", trim_mm=(w, h), bleed_mm=STICKER_BLEED_MM,
                    page_rule="headline-and-slogans", safe_mm=3, cut=True)


def _rewrite(path, change) -> bytes:
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            page.obj.Contents = pdf.make_stream(change(page.obj.Contents.read_bytes()
                                                       if isinstance(page.obj.Contents,
                                                                     pikepdf.Stream)
                                                       else b"\n".join(
                                                           s.read_bytes()
                                                           for s in page.obj.Contents)))
        buffer = io.BytesIO()
        pdf.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s.replace(b"/PfCutContour CS", b"/DeviceCMYK CS"), "no cut path"),
    (lambda s: s.replace(b" h S Q", b" S Q"), "open"),
    (lambda s: s.replace(b"/PfCutContour CS 1 SCN", b"/PfCutContour CS 0.5 SCN"), "tint"),
    (lambda s: s.replace(b"/PfCutOverprint gs", b""), "overprint"),
], ids=["missing", "open", "half-tint", "no-overprint"])
def test_cut_contour_rule_refuses_a_broken_cut(stickers, change, message):
    data = _rewrite(stickers["rect"], change)
    errors = [f for f in run(data, "x.pdf", _expected("rect"), only=("cut-contour",))
              if f.severity == "error"]
    assert errors and all(message in f.message for f in errors), errors


def test_cut_outside_the_bleed_is_refused(stickers):
    def move(stream: bytes) -> bytes:
        head, _, tail = stream.rpartition(b"/PfCutOverprint gs")
        return head + b"1 0 0 1 30 0 cm /PfCutOverprint gs" + tail
    data = _rewrite(stickers["rect"], move)
    errors = run(data, "x.pdf", _expected("rect"), only=("cut-contour",))
    assert errors and "outside the bleed" in errors[0].message


def test_other_press_files_need_no_cut(stickers):
    expected = Expected(variant="press", cut=False)
    assert run(stickers["rect"].read_bytes(), "x", expected, only=("cut-contour",)) == []


def test_rebuild_is_byte_identical(stickers, tmp_path):
    from helpers import ROOT

    project = load_project(ROOT)
    build(Job(project=project, content_dir=project.content_dir, out_dir=tmp_path,
              targets=("sticker",), jobs=1, force=True))
    for size in SIZES:
        again = (tmp_path / f"sticker-{size}-press.pdf").read_bytes()
        assert hashlib.sha256(again).digest() == hashlib.sha256(
            stickers[size].read_bytes()).digest()


# --- label sheets ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def sheets(stickers):
    """The label sheets and their calibration prints, built with the stickers."""
    return next(iter(stickers.values())).parent


def placements(path) -> list[tuple[float, float, float, float, str]]:
    """Each page placed on the sheet: its clip (x0, y0, x1, y1 in mm from the paper's
    lower left) and the form's name."""
    found = []
    with pikepdf.open(path) as pdf:
        clip = None
        for operands, operator in pikepdf.parse_content_stream(pdf.pages[0]):
            op = str(operator)
            if op == "re":
                x, y, w, h = (float(v) / PT_PER_MM for v in operands)
                clip = (x, y, x + w, y + h)
            elif op == "Do":
                found.append((*clip, str(operands[0])))
    return found


@pytest.mark.parametrize("file", sorted(LABEL_SHEETS))
def test_labels_sit_where_the_maker_says(sheets, file):
    (pw, ph), cols, rows, (lw, lh), top, side, pitch_x, pitch_y = LABEL_SHEETS[file]
    with pikepdf.open(sheets / file) as pdf:
        assert len(pdf.pages) == 1
        assert mm(pdf.pages[0].mediabox) == pytest.approx([0, 0, pw, ph], abs=0.05)
    placed = placements(sheets / file)
    assert len(placed) == cols * rows
    expected = [(side + c * pitch_x, ph - top - r * pitch_y - lh,
                 side + c * pitch_x + lw, ph - top - r * pitch_y)
                for r in range(rows) for c in range(cols)]
    for got, want in zip(placed, expected, strict=True):
        assert got[:4] == pytest.approx(want, abs=0.01)


@pytest.mark.parametrize("file", sorted(LABEL_SHEETS))
def test_the_set_repeats_to_fill_the_sheet(sheets, file):
    article, _ = read_article()
    slogans = read_slogans()
    _, cols, rows, *_ = LABEL_SHEETS[file]
    stickers = [article["headline"], *slogans]
    text = squash(" ".join(pdf_texts(sheets / file)))
    wanted = [stickers[i % len(stickers)] for i in range(cols * rows)]
    assert text == squash(" ".join(wanted))


@pytest.mark.parametrize("file", sorted(LABEL_SHEETS))
def test_calibration_draws_the_label_outlines_only(sheets, file):
    (pw, ph), cols, rows, (lw, lh), top, side, pitch_x, pitch_y = LABEL_SHEETS[file]
    path = sheets / file.replace(".pdf", "-calibration.pdf")
    assert pdf_texts(path) == [""]
    with pikepdf.open(path) as pdf:
        outlines, points = [], []
        for operands, operator in pikepdf.parse_content_stream(pdf.pages[0]):
            op = str(operator)
            if op in ("m", "l", "c"):
                points += [(float(operands[i]) / PT_PER_MM, float(operands[i + 1]) / PT_PER_MM)
                           for i in range(0, len(operands), 2)]
            elif op == "h":
                xs, ys = [p[0] for p in points], [p[1] for p in points]
                outlines.append((min(xs), min(ys), max(xs), max(ys)))
                points = []
            elif op == "S":
                points = []
    expected = [(side + c * pitch_x, ph - top - r * pitch_y - lh,
                 side + c * pitch_x + lw, ph - top - r * pitch_y)
                for r in range(rows) for c in range(cols)]
    assert len(outlines) == len(expected)
    for got, want in zip(outlines, expected, strict=True):
        assert got == pytest.approx(want, abs=0.01)


def test_label_art_stops_inside_each_label(sheets):
    """Colour inside each label, a white rim around it: a printer's drift of a
    millimetre never puts colour on the next label."""
    file = "sticker-rect-l7163-a4.pdf"
    (pw, ph), *_ = LABEL_SHEETS[file]
    image = render_pages(sheets / file, dpi=100)[0].convert("RGB")
    px = image.width / pw
    for x0, _, x1, y1, _ in placements(sheets / file):
        top = ph - y1
        cx = (x0 + x1) / 2
        inside = image.getpixel((int(cx * px), int((top + 4) * px)))
        rim = image.getpixel((int(cx * px), int((top + 0.5) * px)))
        assert min(inside) < 100 and min(rim) > 245, (inside, rim)


def test_a_brand_of_ones_own_in_sheets_toml(tmp_path):
    """A user's sheet is a table in sheets.toml; a wrong one is reported by key."""
    import shutil

    from helpers import ROOT
    from pamphleteer.errors import ConfigError
    from pamphleteer.layouts import load_layouts

    layouts = tmp_path / "layouts"
    shutil.copytree(ROOT / "layouts" / "sticker", layouts / "sticker")
    with open(layouts / "sticker" / "sheets.toml", "a") as f:
        f.write('\n[mine-a4]\nshape = "rect"\npaper = "a4"\ncolumns = 2\nrows = 8\n'
                "label_w_mm = 99.1\nlabel_h_mm = 33.9\ntop_mm = 12.9\nside_mm = 4.65\n"
                "pitch_x_mm = 101.6\npitch_y_mm = 33.9\n")
    sheet = load_layouts(layouts, ROOT / "layouts")["sticker"].sheets["mine-a4"]
    assert sheet.labels_mm()[-1] == pytest.approx((4.65 + 101.6, 12.9 + 7 * 33.9))
    with open(layouts / "sticker" / "sheets.toml", "a") as f:
        f.write('\n[too-many]\nshape = "rect"\npaper = "a4"\ncolumns = 2\nrows = 9\n'
                "label_w_mm = 99.1\nlabel_h_mm = 33.9\ntop_mm = 12.9\nside_mm = 4.65\n"
                "pitch_x_mm = 101.6\npitch_y_mm = 33.9\n")
    with pytest.raises(ConfigError, match=r"sheets.toml:\d+: too-many: the labels reach"):
        load_layouts(layouts, ROOT / "layouts")


def test_cut_survives_pdfx_1a(tmp_path):
    """PDF/X-1a rewrites the file through Ghostscript: the spot colour, its overprint
    and the closed path must come through."""
    import shutil

    from helpers import ROOT

    if shutil.which("gs") is None:
        pytest.skip("Ghostscript is not installed")
    project = load_project(ROOT)
    outputs = build(Job(project=project, content_dir=project.content_dir, out_dir=tmp_path,
                        targets=("sticker-rect",), variants=("press",), pdfx="x1a", jobs=1))
    assert [o.error for o in outputs] == [None]
    data = (tmp_path / "sticker-rect-press.pdf").read_bytes()
    expected = Expected(**{**_expected("rect").__dict__, "pdfx": "PDF/X-1a:2001"})
    assert [f for f in run(data, "x", expected) if f.severity == "error"] == []
    with pikepdf.open(tmp_path / "sticker-rect-press.pdf") as pdf:
        assert all(cut_strokes(pdf, page) for page in pdf.pages)


def test_check_knows_a_loose_die_cut_file_by_its_spot_colour(stickers, tmp_path):
    """Without a manifest, `check` takes a file naming CutContour as die-cut: 2 mm bleed
    is enough, and every page needs its cut line."""
    from helpers import run as cli

    loose = tmp_path / "stickers.pdf"
    loose.write_bytes(stickers["round"].read_bytes())
    result = cli("check", "--json", loose)
    assert result.exit_code == 0, result.output
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(_rewrite(stickers["round"],
                                lambda s: s.replace(b"/PfCutContour CS", b"/DeviceCMYK CS")))
    # The spot colour is still among the pages' resources, but no page strokes with it.
    result = cli("check", "--json", broken)
    found = json.loads(result.stdout)["findings"]
    assert result.exit_code == 1
    assert {f["check"] for f in found} == {"cut-contour"}


def test_build_calibrate_makes_the_calibration_prints_alone(tmp_path):
    """``build --calibrate``: only the label sheets' outlines, before any label is spent."""
    from helpers import ROOT, assert_clean_failure
    from helpers import run as cli

    out = tmp_path / "out"
    result = cli("build", "--project", ROOT, "--calibrate", "--out", out)
    assert result.exit_code == 0, result.output
    made = sorted(p.name for p in out.glob("*.pdf"))
    assert made == sorted(f.replace(".pdf", "-calibration.pdf") for f in LABEL_SHEETS)
    line = assert_clean_failure(cli("build", "--project", ROOT, "--calibrate", "poster",
                                    "--out", tmp_path / "none"), 2)
    assert "no target has label sheets" in line


@pytest.mark.parametrize("size", SIZES)
def test_a_slogan_too_long_for_a_sticker_is_refused_by_copyfit_not_preflight(tmp_path, size):
    """Reversed out of the accent, sticker text may not go under 12 pt on press (it
    would have to be pure black): copyfit stops there and says to shorten the text,
    where a 9 pt fit used to fail in preflight, saying to use black ink."""
    from helpers import ROOT, write_content

    project = load_project(ROOT)
    slogan = ("We call on all governments of the world, and on every parliament and every "
              "city council, to open their borders and their homes to the refugees of the "
              "war in Syria, to stop selling arms to every side of it, and to support the "
              "democratic and civil forces that still fight for freedom, today and tomorrow!")
    folder = write_content(tmp_path / "content", {"title": "Stop"},
                           slogans=["Now!", f"{slogan} {slogan}"])
    outputs = build(Job(project=project, content_dir=folder, out_dir=tmp_path / "out",
                        targets=(f"sticker-{size}",), variants=("press",), jobs=1))
    [error] = [o.error for o in outputs if o.error]
    assert "does not fit its box even at the minimum 12 pt; shorten the text" in error
