"""Tiled posters: big pages on a home printer's A4 or Letter sheets, read back from the
kit's PDFs: the sheets, the grid, the 10 mm overlaps, the 5 mm edge, the text."""

from __future__ import annotations

import json
import math
import re

import pikepdf
import pytest

from helpers import (
    PT_PER_MM,
    ROOT,
    TILED,
    pdf_texts,
    read_slogans,
    render_pages,
    run,
    squash,
)
from pamphleteer.config import load_project
from pamphleteer.layouts import Size, Tiling, home_tiling
from pamphleteer.pdf.tile import BAND_MM, EDGE_MM, grid_for
from pamphleteer.targets import imposed, plan, shard

SHEETS_MM = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
OVERLAP_MM = 10.0
#: What the grid must be, worked out by hand: (sheet turned landscape, columns, rows).
GRIDS = {
    "poster-a3-tiled-a4.pdf": (False, 2, 2),
    "poster-a2-tiled-a4.pdf": (True, 2, 4),
    "placard-a3-landscape-tiled-a4.pdf": (True, 2, 2),
    "poster-18x24in-tiled-letter.pdf": (True, 2, 4),
}


def entry(kit, file: str) -> dict:
    manifest = json.loads((kit.out_dir / "manifest.json").read_text(encoding="utf-8"))
    return {e["file"]: e for e in manifest["outputs"]}[file]


def placements(page: pikepdf.Page) -> list[tuple[float, float, float, float, float, float]]:
    """Each clipped placement of a form on the page: the clip (x, y, w, h) and the
    translation (e, f) of its ``cm``, in pt."""
    found, clip, matrix = [], None, None
    for operands, op in pikepdf.parse_content_stream(page):
        op = str(op)
        if op == "re":
            clip = tuple(float(v) for v in operands)
        elif op == "cm":
            matrix = tuple(float(v) for v in operands)
        elif op == "Do" and clip is not None and matrix is not None:
            assert matrix[:4] == (1, 0, 0, 1), "a tile shows the poster at 100 %"
            found.append((*clip, matrix[4], matrix[5]))
        elif op == "Q":
            clip = matrix = None
    return found


def sheets_needed(poster_mm: tuple[float, float], sheet_mm: tuple[float, float]) -> int:
    """The fewest sheets one way round: the smallest count per side whose windows, less
    the overlaps between them, reach across the poster."""
    window = [s - 2 * (EDGE_MM + BAND_MM) for s in sheet_mm]
    counts = []
    for length, most in zip(poster_mm, window, strict=True):
        n = 1
        while n * most - (n - 1) * OVERLAP_MM < length - 1e-6:
            n += 1
        counts.append(n)
    return math.prod(counts)


def test_every_big_size_is_tiled_on_its_home_sheet(kit):
    made = {name for name in kit.outputs if "-tiled-" in name}
    assert made == set(TILED)
    for file, (source, sheet) in TILED.items():
        assert kit.outputs[file].error is None, kit.outputs[file].error
        assert file == source.replace("-desk.pdf", f"-tiled-{sheet}.pdf")


@pytest.mark.parametrize(("width", "height", "sheet"), [
    (210, 297, None), (215.9, 279.4, None), (297, 210, None), (148, 210, None),
    (297, 420, "a4"), (420, 594, "a4"), (500, 700, "a4"), (279.4, 431.8, "letter"),
    (457.2, 609.6, "letter"), (431.8, 279.4, "letter"),
], ids=lambda v: str(v))
def test_home_sheet_is_inferred_from_the_size(width, height, sheet):
    tiling = home_tiling(Size("x", width, height))
    assert (tiling.sheet if tiling else None) == sheet


def test_orientation_tie_goes_to_portrait():
    side = 300 * PT_PER_MM  # 2 × 2 either way round on A4
    grid = grid_for((side, side), Tiling("a4"))
    assert (grid.cols, grid.rows) == (2, 2)
    assert grid.sheet[0] < grid.sheet[1]


@pytest.mark.parametrize("file", sorted(TILED))
def test_tiled_pages_and_sheets(kit, file):
    source, sheet = TILED[file]
    with pikepdf.open(kit.pdf(source)) as src, pikepdf.open(kit.pdf(file)) as pdf:
        poster = [float(v) / PT_PER_MM for v in src.pages[0].mediabox[2:]]
        sizes = {tuple(round(float(v) / PT_PER_MM, 1) for v in p.mediabox[2:])
                 for p in pdf.pages}
        assert len(sizes) == 1, "one sheet size and orientation per file"
        (w, h), = sizes
        assert sorted((w, h)) == pytest.approx(sorted(SHEETS_MM[sheet]), abs=0.1)
        assert all(p.trimbox == p.mediabox for p in pdf.pages)
        tiles = len(pdf.pages) - 1
        assert tiles % len(src.pages) == 0
        per_page = tiles // len(src.pages)
        # The fewest sheets of both orientations: none fewer either way round.
        fewest = min(sheets_needed(poster, SHEETS_MM[sheet]),
                     sheets_needed(poster, SHEETS_MM[sheet][::-1]))
        assert per_page == fewest
        if file in GRIDS:
            landscape, cols, rows = GRIDS[file]
            assert (w > h) == landscape
            assert per_page == cols * rows
    e = entry(kit, file)
    assert e["tiled_from"] == source and e["variant"] == "desk" and e["sheet"] == sheet
    assert e["pages"] == tiles + 1
    assert e["trim_mm"] == pytest.approx([w, h], abs=0.1)


@pytest.mark.parametrize("file", sorted(GRIDS))
def test_tiles_cover_the_poster_with_10mm_overlaps(kit, file):
    source, _ = TILED[file]
    _, cols, rows = GRIDS[file]
    with pikepdf.open(kit.pdf(source)) as src, pikepdf.open(kit.pdf(file)) as pdf:
        poster_w, poster_h = (float(v) for v in src.pages[0].mediabox[2:])
        sheet_w, sheet_h = (float(v) for v in pdf.pages[0].mediabox[2:])
        shown = []  # the part of the poster each tile shows: x0, y0, x1, y1 in pt
        for page in pdf.pages[1:1 + cols * rows]:
            (x, y, w, h, e, f), = placements(page)
            edge = EDGE_MM * PT_PER_MM
            assert x >= edge and y >= edge and x + w <= sheet_w - edge
            assert y + h <= sheet_h - edge
            shown.append((x - e, y - f, x - e + w, y - f + h))
    grid = [shown[r * cols:(r + 1) * cols] for r in range(rows)]  # row 1 is the top
    overlap = OVERLAP_MM * PT_PER_MM
    for r, row in enumerate(grid):
        assert row[0][0] == pytest.approx(0, abs=0.01)
        assert row[-1][2] == pytest.approx(poster_w, abs=0.01)
        for left, right in zip(row, row[1:], strict=False):
            assert left[2] - right[0] == pytest.approx(overlap, abs=0.01)
            assert (left[1], left[3]) == pytest.approx((right[1], right[3]), abs=0.01)
        if r:
            for above, below in zip(grid[r - 1], row, strict=True):
                assert below[3] - above[1] == pytest.approx(overlap, abs=0.01)
    assert grid[0][0][3] == pytest.approx(poster_h, abs=0.01)
    assert grid[-1][0][1] == pytest.approx(0, abs=0.01)


@pytest.mark.parametrize("file", ["poster-a2-tiled-a4.pdf", "placard-a3-landscape-tiled-a4.pdf",
                                  "poster-tabloid-tiled-letter.pdf"])
def test_nothing_inked_within_5mm_of_the_sheet_edge(kit, file):
    dpi = 50
    edge = math.floor((EDGE_MM - 0.3) * dpi / 25.4)  # px, less a pixel's antialiasing
    for number, image in enumerate(render_pages(kit.pdf(file), dpi)[:6], 1):
        grey = image.convert("L")
        w, h = grey.size
        border = [(x, y) for x in range(w) for y in (*range(edge), *range(h - edge, h))]
        border += [(x, y) for y in range(h) for x in (*range(edge), *range(w - edge, w))]
        inked = [p for p in border if grey.getpixel(p) < 245]
        assert not inked, f"page {number}: ink at {inked[:3]} px, within {EDGE_MM} mm"
        assert grey.getextrema()[0] < 100, f"page {number} is blank"


@pytest.mark.parametrize("file", sorted(TILED))
def test_tiles_are_vector_and_keep_the_text(kit, file):
    source, _ = TILED[file]
    with pikepdf.open(kit.pdf(file)) as pdf:
        for page in pdf.pages:
            for xobject in page.Resources.XObject.values():
                assert xobject.Subtype == "/Form"
                inner = xobject.get("/Resources", {}).get("/XObject", {})
                assert all(x.Subtype != "/Image" for x in inner.values())
    texts, desk = pdf_texts(kit.pdf(file)), pdf_texts(kit.pdf(source))
    per_page = (len(texts) - 1) // len(desk)
    for i, text in enumerate(texts[1:]):
        assert squash(desk[i // per_page]) in squash(text)  # the whole page's text layer
    if file.startswith("poster-"):
        for slogan in read_slogans():
            assert squash(slogan).lower() in squash(texts[1]).lower()


@pytest.mark.parametrize("file", sorted(GRIDS))
def test_map_and_tile_labels(kit, file):
    _, cols, rows = GRIDS[file]
    texts = pdf_texts(kit.pdf(file))
    labels = [f"{chr(ord('A') + c)}{r + 1}" for r in range(rows) for c in range(cols)]
    first = texts[0]
    for name in labels:
        assert re.search(rf"\b{name}\b", first), name
    assert "100 %" in first and "actual size" in first
    for name, text, (r, c) in zip(labels, texts[1:], [(r, c) for r in range(rows)
                                                       for c in range(cols)], strict=False):
        assert f"{name} · row {r + 1} of {rows}, column {c + 1} of {cols}" in text


def test_tiled_files_pass_strict_preflight(kit):
    result = run("check", "--strict", *(kit.pdf(f) for f in TILED))
    assert result.exit_code == 0, result.output


def test_a_tiled_file_alone_is_known_by_its_forms(kit, tmp_path):
    """Without the manifest, check tells the sheets from the forms larger than them."""
    import shutil

    alone = tmp_path / "poster.pdf"
    shutil.copy(kit.pdf("poster-a2-tiled-a4.pdf"), alone)
    result = run("check", "--strict", alone)
    assert result.exit_code == 0, result.output


def test_tiled_files_follow_their_source_into_its_shard():
    targets = plan(load_project(ROOT), ("poster", "placard"), ("desk",))
    for index in (1, 2, 3):
        share = shard(targets, index, 3)
        tiled = [t for t in imposed(share) if t.tiling]
        assert {t.source.file for t in tiled} == {t.file for t in share}


def test_unchanged_tiles_are_skipped_and_a_changed_poster_is_tiled_again(kit, tmp_path):
    import shutil

    from pamphleteer.outputs import DEFAULT_EPOCH, Manifest
    from pamphleteer.pipeline import Job, impose_output

    project = load_project(ROOT)
    out = tmp_path / "out"
    shutil.copytree(kit.out_dir, out, ignore=shutil.ignore_patterns("proofs", "social"))
    job = Job(project=project, content_dir=project.content_dir, out_dir=out)
    manifest = Manifest.load(out, "content/aleppo", DEFAULT_EPOCH)
    target = kit.outputs["poster-a3-tiled-a4.pdf"].target
    assert impose_output(job, target, manifest).skipped
    manifest.entries["poster-a3-desk.pdf"]["sha256"] = "0" * 64  # as if the poster changed
    again = impose_output(job, target, manifest)
    assert not again.skipped and again.error is None
    assert again.sha256 == entry(kit, "poster-a3-tiled-a4.pdf")["sha256"]  # same bytes


def test_a_poster_tiled_again_keeps_its_labels(kit, tmp_path, monkeypatch):
    """The labels depend on the grid, the words and the fonts, not on the art: after an
    edit to the poster (or in another edition) they come from the cache, and the tiled
    file is byte for byte the one whose labels were rendered afresh."""
    import shutil

    from pamphleteer import pipeline
    from pamphleteer.outputs import DEFAULT_EPOCH, Manifest

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    rendered, render = [], pipeline._labels
    monkeypatch.setattr(pipeline, "_labels", lambda *a: rendered.append(a) or render(*a))
    project = load_project(ROOT)
    out = tmp_path / "out"
    shutil.copytree(kit.out_dir, out, ignore=shutil.ignore_patterns("proofs", "social"))
    job = pipeline.Job(project=project, content_dir=project.content_dir, out_dir=out)
    manifest = Manifest.load(out, "content/aleppo", DEFAULT_EPOCH)
    target = kit.outputs["poster-a3-tiled-a4.pdf"].target
    for changed in ("0", "1"):  # as if the poster changed, twice
        manifest.entries["poster-a3-desk.pdf"]["sha256"] = changed * 64
        again = pipeline.impose_output(job, target, manifest)
        assert again.error is None
        assert again.sha256 == entry(kit, "poster-a3-tiled-a4.pdf")["sha256"]
    assert len(rendered) == 1


def test_label_words_name_what_is_wrong_with_a_strings_file():
    from pamphleteer.errors import RenderError
    from pamphleteer.pdf.tile import Words

    words = Words({"tile_where": "fila {row} de {rowz}"}, "es")
    with pytest.raises(RenderError, match=r"'es'.*tile_where names \{rowz\}.*\{row\}, \{rows\}"):
        words("tile_where", row=1, rows=2)
    with pytest.raises(RenderError, match=r"no 'tile_glue'.*copy it from .*en.toml"):
        words("tile_glue")
    assert Words({"k": "{a} y {a}"}, "es")("k", a="A1") == "A1 y A1"


def _labels(words: dict[str, str], lang: str = "es"):
    """A2's labels in ``lang`` with ``words`` over the shipped ones, laid out."""
    import tomllib

    from pamphleteer.editions import direction
    from pamphleteer.pdf.tile import LABEL_CSS, Words, labels_html
    from pamphleteer.render import Renderer

    project = load_project(ROOT)
    shipped = tomllib.loads((ROOT / f"layouts/_base/strings/{lang}.toml").read_text())
    poster = (420 * 72 / 25.4, 594 * 72 / 25.4)
    grid = grid_for(poster, Tiling("a4"))
    labels = Words(shipped | words, lang)
    html = labels_html(grid, poster, "poster-a2", 1, labels, direction(lang))
    renderer = Renderer(project.fonts_dir)
    return renderer.layout(html, ROOT, "labels", (), css=(LABEL_CSS,)), labels, html


@pytest.mark.parametrize("key", ["tile_first", "tile_glue", "tile_print", "tile_where"])
def test_a_translation_too_long_for_its_place_is_an_error_naming_it(key):
    from pamphleteer.errors import RenderError
    from pamphleteer.pdf.tile import check_labels

    document, words, _ = _labels({key: "una frase larguísima que no cabe " * 40})
    with pytest.raises(RenderError, match=rf"'es': {key}\b.* too long .*shorten it"):
        check_labels(document, words)


def test_the_shipped_labels_fit_and_words_are_text_not_markup():
    from pamphleteer.pdf.tile import check_labels

    for lang in ("en", "es", "ar", "de"):
        check_labels(*_labels({}, lang)[:2])
    document, words, html = _labels({"tile_glue": "<i>",
                                     "tile_where": "<b onclick=x>fila</b> {row.__class__}"})
    check_labels(document, words)  # short enough, shown as it is
    assert "<b onclick" not in html and "<i>" not in html
    assert "&lt;b onclick=x&gt;fila&lt;/b&gt; {row.__class__}" in html
