"""Tiling: a poster larger than a home printer's sheet, on sheets that overlap, to trim
and glue together.

Page 1 is a map of the sheets over the whole poster; then, for each of its pages (a
placard has one a slogan), one page per sheet, each showing its part of the poster (the
desk page as a form XObject, clipped: vector, its fonts embedded once) inside a band of
marks and labels that keeps clear of the sheet's outer 5 mm, which home printers cannot
reach. Each sheet overlaps the next one to its right and below by
``Tiling.overlap_mm``: that strip takes the glue, under the next sheet, whose left and
top edges are trimmed along the marks.

The words (labels, the map's instructions) are in the edition's language, from the
layouts' strings files, and are set by the renderer like any page, so that Arabic is
shaped and runs right to left: ``labels_html`` writes them as one small document, a page
per sheet, and ``tile`` lays each of its pages over its sheet.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from html import escape

import pikepdf

from pamphleteer.errors import RenderError
from pamphleteer.layouts import SHEETS, Tiling
from pamphleteer.pdf.impose import page_size, stroke
from pamphleteer.units import PT_PER_MM, PX_PER_MM

EDGE_MM = 5.0  # nothing within this of the sheet's edge: home printers cannot print there
BAND_MM = 7.0  # between that edge and the art: the marks and the sheet's label
MARK_GAP_MM, MARK_MM = 1.5, 4.0  # a mark starts this far out from the art, and is this long
MARK_PT = 0.3
GREY = "0 0 0 0.6 K"
GLUE_TINT = "0 0 0 0.1 k"
LABEL_PT = 8.0
LINE = 1.5 * LABEL_PT  # pt: the map's lines of text
MAP_MARGIN_MM = 15.0
MAP_LABEL_PT = 10.0
HEAD_LINES, FOOT_LINES = 4, 6  # the map's room for its title and for its steps, wrapped
#: The labels' style: the bundled faces, Arabic in its own; grey in black ink alone.
LABEL_CSS = f"""
@page {{ margin: 0 }}
html {{ font: {LABEL_PT}pt/1.25 "Charis SIL"; color: device-cmyk(0 0 0 0.75) }}
html:lang(ar) {{ font-family: "Noto Naskh Arabic", "Charis SIL"; line-height: 1.15 }}
body {{ margin: 0 }}
.sheet {{ position: relative; overflow: hidden; break-after: page; direction: ltr }}
/* Boxes are placed from the left, as ink is (WeasyPrint misplaces an absolute box that
   is right to left); the words in them run as their language does. */
[dir=rtl] .words {{ direction: rtl }}
.at {{ position: absolute; margin: 0 }}
.glue {{ display: flex; align-items: center; justify-content: center; white-space: nowrap }}
.turned {{ transform: rotate(-90deg) }}
.foot {{ display: flex; flex-direction: column; justify-content: flex-end }}
.foot .words {{ flex: none }}  /* its own height, to be seen when it is too tall */
p {{ margin: 0 }}
.title {{ font-size: {MAP_LABEL_PT}pt; font-weight: bold }}
.cell {{ font-size: {MAP_LABEL_PT}pt; font-weight: bold; line-height: 1.2; padding: 0 2.5pt;
        color: device-cmyk(0 0 0 1); background: device-cmyk(0 0 0 0);
        border: {MARK_PT}pt solid device-cmyk(0 0 0 1) }}
"""


@dataclass(frozen=True)
class Grid:
    """Sheets in ``cols`` × ``rows``, each showing ``window`` (pt) of the poster."""

    tiling: Tiling
    sheet: tuple[float, float]  # pt, turned as the sheets are printed
    cols: int
    rows: int
    window: tuple[float, float]

    @property
    def overlap(self) -> float:
        return self.tiling.overlap_mm * PT_PER_MM

    def origin(self, col: int, row: int) -> tuple[float, float]:
        """The lower-left corner, on the poster (pt), of the part sheet (col, row) shows;
        row 0 is the top one."""
        step_w, step_h = self.window[0] - self.overlap, self.window[1] - self.overlap
        poster_h = self.rows * step_h + self.overlap
        return col * step_w, poster_h - self.window[1] - row * step_h


def grid_for(poster: tuple[float, float], tiling: Tiling) -> Grid:
    """The fewest sheets, portrait or landscape (portrait on a tie), that cover ``poster``
    (pt) with the overlap; every sheet shows an equal part, so none is nearly empty."""
    w, h = (v * PT_PER_MM for v in SHEETS[tiling.sheet])
    overlap, inset = tiling.overlap_mm * PT_PER_MM, 2 * (EDGE_MM + BAND_MM) * PT_PER_MM

    def count(length: float, most: float) -> int:
        return max(1, math.ceil((length - overlap) / (most - overlap) - 1e-9))

    grids = []
    for sheet in ((w, h), (h, w)):
        cols, rows = count(poster[0], sheet[0] - inset), count(poster[1], sheet[1] - inset)
        window = ((poster[0] + (cols - 1) * overlap) / cols,
                  (poster[1] + (rows - 1) * overlap) / rows)
        grids.append(Grid(tiling, sheet, cols, rows, window))
    return min(grids, key=lambda g: g.cols * g.rows)  # min keeps the first: portrait


def label(col: int, row: int) -> str:
    """A sheet's name: its column's letter, its row's number (B2: second column, second
    row), as on a street map. A poster up to 2 m wide needs at most 12 columns."""
    return f"{chr(ord('A') + col)}{row + 1}"


class Words:
    """The labels' words in one language: the ``tile_*`` and ``paper_*`` entries of the
    layouts' strings file, with their ``{names}`` filled in."""

    def __init__(self, strings: dict[str, str], lang: str):
        self.strings, self.lang = strings, lang

    def __call__(self, key: str, **values) -> str:
        text = self.strings.get(key)
        if text is None:
            raise RenderError(f"strings for {self.lang!r}: no {key!r}, which tiled posters "
                              "label their sheets with; copy it from layouts/_base/strings/"
                              "en.toml and translate it")

        def fill(match: re.Match) -> str:
            if match[1] not in values:
                raise RenderError(f"strings for {self.lang!r}: {key} names {{{match[1]}}}, "
                                  f"which is not one of {', '.join(map('{{{}}}'.format, values))}"
                                  "; fix it in the strings file")
            return str(values[match[1]])

        return re.sub(r"\{(\w+)\}", fill, text)


def tile(src: pikepdf.Pdf, grid: Grid, labels: pikepdf.Pdf) -> pikepdf.Pdf:
    """The map, then the sheets of each of ``src``'s pages in turn (a placard has one
    page per slogan, all cut alike: see ``grid_for``), each with its page of ``labels``
    (``labels_html``, rendered) laid over it."""
    out = pikepdf.new()
    forms = []
    for page in src.pages:
        form = out.copy_foreign(page.as_form_xobject())
        form.Matrix = [1, 0, 0, 1, -page.mediabox[0], -page.mediabox[1]]  # corner at 0, 0
        forms.append(form)
    poster = page_size(src.pages[0])
    pages = [(forms[0], _map_page(grid, poster))]
    pages += [(form, _sheet_page(grid, col, row)) for form in forms
              for row in range(grid.rows) for col in range(grid.cols)]
    if len(labels.pages) != len(pages):
        raise RenderError(f"the labels came out on {len(labels.pages)} pages for "
                          f"{len(pages)} sheets: a label too long for its sheet?")
    for (form, ops), words in zip(pages, labels.pages, strict=True):
        page = out.add_blank_page(page_size=grid.sheet)
        page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(
            Poster=form, Labels=out.copy_foreign(words.as_form_xobject())))
        page.obj.Contents = out.make_stream("\n".join([*ops, "q /Labels Do Q"]).encode())
        page.obj.TrimBox = page.obj.MediaBox
        page.obj.BleedBox = page.obj.MediaBox
    return out


def _art(grid: Grid) -> tuple[float, float, float, float]:
    """The art's corners on a sheet (pt): x0, y0, x1, y1."""
    (w, h), (ww, wh) = grid.sheet, grid.window
    x0, y0 = (w - ww) / 2, (h - wh) / 2
    return x0, y0, x0 + ww, y0 + wh


def _glue(grid: Grid, col: int, row: int) -> list[tuple[float, float, float, float]]:
    """The glue strips of sheet (col, row): in the band beside the art they run along,
    never on it (x, y, w, h in pt)."""
    x0, y0, x1, y1 = _art(grid)
    o, strip = grid.overlap, (BAND_MM - 1) * PT_PER_MM
    glue = []
    if col < grid.cols - 1:
        glue += [(x1 - o, y1, o, strip), (x1 - o, y0 - strip, o, strip)]
    if row < grid.rows - 1:
        glue += [(x0 - strip, y0, strip, o), (x1, y0, strip, o)]
    return glue


def _sheet_page(grid: Grid, col: int, row: int) -> list[str]:
    """One sheet's drawing: its part of the poster, the glue strips and corner marks."""
    (ww, wh), o = grid.window, grid.overlap
    x0, y0, x1, y1 = _art(grid)
    px, py = grid.origin(col, row)
    ops = [f"q {x0:.3f} {y0:.3f} {ww:.3f} {wh:.3f} re W n "
           f"1 0 0 1 {x0 - px:.3f} {y0 - py:.3f} cm /Poster Do Q"]
    gap, far = MARK_GAP_MM * PT_PER_MM, (MARK_GAP_MM + MARK_MM) * PT_PER_MM
    right, below = col < grid.cols - 1, row < grid.rows - 1
    ops.append(f"q {GLUE_TINT}")
    ops += [f"{x:.3f} {y:.3f} {gw:.3f} {gh:.3f} re f" for x, y, gw, gh in _glue(grid, col, row)]
    # Marks: the art's corners (trim lines), and where the next sheets' edges go.
    ops.append(f"Q q {GREY} {MARK_PT} w 0 J")
    for x, dx in ((x0, -1), (x1, 1)):
        for y, dy in ((y0, -1), (y1, 1)):
            ops += [stroke(x + dx * gap, y, x + dx * far, y),
                    stroke(x, y + dy * gap, x, y + dy * far)]
    if right:
        ops += [stroke(x1 - o, y1 + gap, x1 - o, y1 + far),
                stroke(x1 - o, y0 - gap, x1 - o, y0 - far)]
    if below:
        ops += [stroke(x0 - gap, y0 + o, x0 - far, y0 + o),
                stroke(x1 + gap, y0 + o, x1 + far, y0 + o)]
    ops.append("Q")
    return ops


def _map_layout(grid: Grid, poster: tuple[float, float]) -> tuple[float, float, float]:
    """Where the map draws the poster: its scale and lower-left corner (pt), as large as
    fits between the title and the steps."""
    w, h = grid.sheet
    margin = MAP_MARGIN_MM * PT_PER_MM
    room_top, room_bottom = h - margin - HEAD_LINES * LINE, margin + FOOT_LINES * LINE
    scale = min((w - 2 * margin) / poster[0], (room_top - room_bottom) / poster[1])
    return scale, (w - poster[0] * scale) / 2, room_top - poster[1] * scale


def _cells(grid: Grid, poster: tuple[float, float]) -> list[tuple[int, int, float, float]]:
    """Each sheet's part on the map: (col, row, x, y of its lower-left corner in pt)."""
    scale, left, bottom = _map_layout(grid, poster)
    return [(c, r, left + grid.origin(c, r)[0] * scale, bottom + grid.origin(c, r)[1] * scale)
            for r in range(grid.rows) for c in range(grid.cols)]


def _map_page(grid: Grid, poster: tuple[float, float]) -> list[str]:
    """The map's drawing: the whole poster (its first page), small, with the sheets
    drawn over it. Turned as the sheets are: a printer expects one size and orientation
    per file."""
    scale, left, bottom = _map_layout(grid, poster)
    ops = [f"q {scale:.5f} 0 0 {scale:.5f} {left:.3f} {bottom:.3f} cm /Poster Do Q",
           f"q {GREY} {MARK_PT} w {left:.3f} {bottom:.3f} {poster[0] * scale:.3f} "
           f"{poster[1] * scale:.3f} re S Q", "q 0 0 0 1 K 0.5 w"]
    ww, wh = grid.window[0] * scale, grid.window[1] * scale
    ops += [f"{x:.3f} {y:.3f} {ww:.3f} {wh:.3f} re S" for _, _, x, y in _cells(grid, poster)]
    ops.append("Q")
    return ops


# --- the words, as a document for the renderer ----------------------------------------


def labels_html(grid: Grid, poster: tuple[float, float], title: str, pages: int,
                words: Words, direction: str) -> str:
    """The labels of every sheet ``tile`` makes, a page each, in order: the map's title,
    steps and sheet names, then each sheet's glue strips and the line under its art that
    names it and says what to do with it."""
    w, h = grid.sheet
    sheets = [_map_words(grid, poster, title, pages, words)]
    sheets += [_sheet_words(grid, col, row, (number, pages), words)
               for number in range(1, pages + 1)
               for row in range(grid.rows) for col in range(grid.cols)]
    body = "".join(f'<div class="sheet" style="width: {w:.3f}pt; height: {h:.3f}pt">'
                   f'{"".join(parts)}</div>' for parts in sheets)
    return (f'<!doctype html><html lang="{escape(words.lang)}" dir="{direction}"><head>'
            f'<meta charset="utf-8"><style>@page {{ size: {w:.3f}pt {h:.3f}pt }}</style>'
            f"</head><body>{body}</body></html>")


def check_labels(document, words: Words) -> None:
    """Every label within its place (``labels_html`` laid out): a translation too long
    for it would run over the poster, or off the part of the sheet a printer reaches."""
    from pamphleteer import render

    for box, area in render.overflowing(document, "data-label"):
        over = max(box.height - area.height, box.text_width - area.width) / PX_PER_MM
        raise RenderError(f"strings for {words.lang!r}: {box.name} is too long for its "
                          f"place on a tiled poster's sheet ({over:.0f} mm over); shorten it "
                          "in the strings file")


def _box(grid: Grid, x: float, y: float, width: float, height: float, html: str,
         key: str, ident: str, kind: str = "") -> str:
    """``html``, the words of strings ``key``, in a box whose lower-left corner is (x, y)
    in PDF points; ``ident``, unique in the document, lets ``check_labels`` find it."""
    top = grid.sheet[1] - y - height
    return (f'<div class="at {kind}" style="left: {x:.3f}pt; top: {top:.3f}pt; '
            f'width: {width:.3f}pt; height: {height:.3f}pt"><div class="words" '
            f'id="{ident}" data-label="{key}">{html}</div></div>')


def _glue_box(grid: Grid, x: float, y: float, width: float, height: float, html: str,
              ident: str) -> str:
    """A glue strip's word, along the strip: in a strip taller than wide, a box as long
    as the strip, about the same centre, turned (a turn changes no layout, so the word
    is checked against the strip's length)."""
    if height <= width:
        return _box(grid, x, y, width, height, html, "tile_glue", ident, "glue")
    cx, cy = x + width / 2, y + height / 2
    return _box(grid, cx - height / 2, cy - width / 2, height, width, html, "tile_glue", ident,
                "glue turned")


def _sheet_words(grid: Grid, col: int, row: int, page: tuple[int, int],
                 words: Words) -> list[str]:
    x0, y0, x1, y1 = _art(grid)
    gap, far = MARK_GAP_MM * PT_PER_MM, (MARK_GAP_MM + MARK_MM) * PT_PER_MM
    sheet = f"{page[0]}-{label(col, row)}"
    glue = escape(words("tile_glue"))
    parts = [_glue_box(grid, x, y, gw, gh, glue, f"glue-{sheet}-{i}")
             for i, (x, y, gw, gh) in enumerate(_glue(grid, col, row))]
    where = words("tile_where", row=row + 1, rows=grid.rows, col=col + 1, cols=grid.cols)
    if page[1] > 1:
        where += " · " + words("tile_page", page=page[0], pages=page[1])
    end = (x1 - grid.overlap if col < grid.cols - 1 else x1) - far
    # Its name under the art and what to do with it over the art, each on a line of its
    # own in the band between the corner marks, clear of the 5 mm no printer reaches.
    name = f"<b>{label(col, row)}</b> · {escape(where)}"
    key, note = _assembly(col, row, words)
    parts += [_box(grid, x0 + far, y0 - gap - LINE, end - x0 - far, LINE, name,
                   "tile_where", f"name-{sheet}"),
              _box(grid, x0 + far, y1 + gap, end - x0 - far, LINE, escape(note), key,
                   f"note-{sheet}")]
    return parts


def _assembly(col: int, row: int, words: Words) -> tuple[str, str]:
    """What to do with sheet (col, row), which edges to trim and which sheets it goes
    over: the strings key and its words."""
    left, above = label(col - 1, row), label(col, row - 1)
    if col and row:
        return "tile_trim_both", words("tile_trim_both", left=left, above=above)
    if col:
        return "tile_trim_left", words("tile_trim_left", left=left)
    if row:
        return "tile_trim_top", words("tile_trim_top", above=above)
    return "tile_first", words("tile_first")


def _map_words(grid: Grid, poster: tuple[float, float], title: str, pages: int,
               words: Words) -> list[str]:
    """Above the poster what the file is, below it how to print and put it together,
    and on it each sheet's name, in its corner."""
    w, h = grid.sheet
    margin = MAP_MARGIN_MM * PT_PER_MM
    width, height = (f"{v / PT_PER_MM:g}" for v in poster)
    size = {"width": width, "height": height, "sheets": grid.cols * grid.rows,
            "paper": words(f"paper_{grid.tiling.sheet.replace('-', '_')}")}
    what = (words("tile_size_pages", pages=pages, **size) if pages > 1
            else words("tile_size", **size))
    layout = words("tile_grid", rows=grid.rows, cols=grid.cols,
                   overlap=f"{grid.tiling.overlap_mm:g}")
    head = f'<p class="title">{escape(title)}: {escape(what)}</p><p>{escape(layout)}</p>'

    steps = "".join(f"<p>{escape(words(key))}</p>"
                    for key in ("tile_print", "tile_trim", "tile_glue_steps"))
    parts = [_box(grid, margin, h - margin - HEAD_LINES * LINE, w - 2 * margin,
                  HEAD_LINES * LINE, head, "tile_size, tile_grid", "map-head"),
             _box(grid, margin, margin, w - 2 * margin, FOOT_LINES * LINE, steps,
                  "tile_print, tile_trim, tile_glue_steps", "map-foot", "foot")]
    scale, pad = _map_layout(grid, poster)[0], 2.0
    for c, r, x, y in _cells(grid, poster):
        top = y + grid.window[1] * scale - pad
        parts.append(f'<p class="at cell" style="left: {x + pad:.3f}pt; '
                     f'top: {h - top:.3f}pt">{label(c, r)}</p>')
    return parts
