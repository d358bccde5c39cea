"""Tiling: a poster larger than a home printer's sheet, on sheets that overlap, to trim
and glue together.

Page 1 is a map of the sheets over the whole poster; then, for each of its pages (a
placard has one a slogan), one page per sheet, each showing its part of the poster (the
desk page as a form XObject, clipped: vector, its fonts embedded once) inside a band of
marks and labels that keeps clear of the sheet's outer 5 mm, which home printers cannot
reach. Each sheet overlaps the next one to its right and below by
``Tiling.overlap_mm``: that strip takes the glue, under the next sheet, whose left and
top edges are trimmed along the marks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from pamphleteer.layouts import SHEETS, Tiling
from pamphleteer.pdf.impose import page_size, stroke
from pamphleteer.pdf.lettering import Lettering
from pamphleteer.units import PT_PER_MM

EDGE_MM = 5.0  # nothing within this of the sheet's edge: home printers cannot print there
BAND_MM = 7.0  # between that edge and the art: the marks and the sheet's label
MARK_GAP_MM, MARK_MM = 1.5, 4.0  # a mark starts this far out from the art, and is this long
MARK_PT = 0.3
GREY = "0 0 0 0.6 K"
TEXT_GREY = "0 0 0 0.75 k"
GLUE_TINT = "0 0 0 0.1 k"
LABEL_PT = 8.0
MAP_MARGIN_MM = 15.0
MAP_LABEL_PT = 10.0


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


class _Faces:
    """The two faces labels are set in, as the font resources /F1 (regular), /F2 (bold)."""

    def __init__(self, regular: Path, bold: Path):
        self.regular, self.bold = Lettering(regular), Lettering(bold)

    def text(self, text: str, x: float, y: float, size: float = LABEL_PT,
             bold: bool = False) -> str:
        face = self.bold if bold else self.regular
        return face.show(text, x, y, size, "/F2" if bold else "/F1")

    def width(self, text: str, size: float = LABEL_PT, bold: bool = False) -> float:
        return (self.bold if bold else self.regular).width(text, size)

    def resources(self, pdf: pikepdf.Pdf) -> pikepdf.Dictionary:
        return pikepdf.Dictionary(F1=self.regular.font(pdf), F2=self.bold.font(pdf))


def tile(src: pikepdf.Pdf, grid: Grid, title: str, fonts: tuple[Path, Path]) -> pikepdf.Pdf:
    """The map, then the sheets of each of ``src``'s pages in turn (a placard has one
    page per slogan, all cut alike: see ``grid_for``); labels set in ``fonts`` (a
    regular and a bold TrueType face)."""
    out = pikepdf.new()
    forms = []
    for page in src.pages:
        form = out.copy_foreign(page.as_form_xobject())
        form.Matrix = [1, 0, 0, 1, -page.mediabox[0], -page.mediabox[1]]  # corner at 0, 0
        forms.append(form)
    poster = page_size(src.pages[0])
    faces = _Faces(*fonts)
    pages = [(forms[0], _map_page(grid, poster, title, len(forms), faces))]
    pages += [(form, _sheet_page(grid, col, row, (number, len(forms)), faces))
              for number, form in enumerate(forms, 1)
              for row in range(grid.rows) for col in range(grid.cols)]
    resources = faces.resources(out)  # after every text is set: the subset holds them all
    for form, (size, ops) in pages:
        page = out.add_blank_page(page_size=size)
        page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Poster=form),
                                                Font=resources)
        page.obj.Contents = out.make_stream("\n".join(ops).encode())
        page.obj.TrimBox = page.obj.MediaBox
        page.obj.BleedBox = page.obj.MediaBox
    return out


def _sheet_page(grid: Grid, col: int, row: int, page: tuple[int, int],
                faces: _Faces) -> tuple[tuple[float, float], list[str]]:
    """One sheet: its part of the poster, corner marks, the glue strips and its label,
    which names the poster's ``page`` (number, of how many) if it has several."""
    (w, h), (ww, wh), o = grid.sheet, grid.window, grid.overlap
    x0, y0 = (w - ww) / 2, (h - wh) / 2  # the art's lower-left corner on the sheet
    x1, y1 = x0 + ww, y0 + wh
    px, py = grid.origin(col, row)
    ops = [f"q {x0:.3f} {y0:.3f} {ww:.3f} {wh:.3f} re W n "
           f"1 0 0 1 {x0 - px:.3f} {y0 - py:.3f} cm /Poster Do Q"]
    gap, far = MARK_GAP_MM * PT_PER_MM, (MARK_GAP_MM + MARK_MM) * PT_PER_MM
    strip = (BAND_MM - 1) * PT_PER_MM
    right, below = col < grid.cols - 1, row < grid.rows - 1
    # Glue strips: tinted in the band beside the art they run along, never on it.
    ops.append(f"q {GLUE_TINT}")
    glue = []
    if right:
        glue += [(x1 - o, y1, o, strip), (x1 - o, y0 - strip, o, strip)]
    if below:
        glue += [(x0 - strip, y0, strip, o), (x1, y0, strip, o)]
    ops += [f"{x:.3f} {y:.3f} {gw:.3f} {gh:.3f} re f" for x, y, gw, gh in glue]
    ops.append(f"Q q {TEXT_GREY}")
    word = faces.width("glue")
    ops += [faces.text("glue", x + (gw - word) / 2, y + gh / 2 - 0.35 * LABEL_PT)
            for x, y, gw, gh in glue]
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
    # The label under the art: which sheet, and what to do with it.
    name = label(col, row)
    where = f" · row {row + 1} of {grid.rows}, column {col + 1} of {grid.cols}"
    if page[1] > 1:
        where += f" · page {page[0]} of {page[1]}"
    baseline = y0 - gap - 0.9 * LABEL_PT
    ops.append(f"q {TEXT_GREY}")
    ops.append(faces.text(name, x0 + far, baseline, bold=True))
    ops.append(faces.text(where, x0 + far + faces.width(name, bold=True), baseline))
    note = _assembly(col, row)
    end = (x1 - o if right else x1) - far
    ops.append(faces.text(note, end - faces.width(note), baseline))
    ops.append("Q")
    return grid.sheet, ops


def _assembly(col: int, row: int) -> str:
    """What to trim on sheet (col, row), and which sheets it goes over."""
    edges = [e for e, cut in (("left", col > 0), ("top", row > 0)) if cut]
    if not edges:
        return "the first sheet: the others go over it"
    under = [label(c, r) for c, r in ((col - 1, row), (col, row - 1)) if c >= 0 and r >= 0]
    return (f"trim the {' and '.join(edges)} edge{'s' if len(edges) > 1 else ''}, "
            f"lay over {' and '.join(under)}")


def _map_page(grid: Grid, poster: tuple[float, float], title: str, pages: int,
              faces: _Faces) -> tuple[tuple[float, float], list[str]]:
    """The whole poster (its first page of ``pages``), small, with the sheets drawn over
    it, each labelled; above it what the file is, and below it how to print and put it
    together. Turned as the sheets are: a printer expects one size and orientation per
    file."""
    (w, h), tiling = grid.sheet, grid.tiling
    margin, line = MAP_MARGIN_MM * PT_PER_MM, 1.5 * LABEL_PT
    sheets = grid.cols * grid.rows
    top = h - margin - MAP_LABEL_PT
    wide, high = (v / PT_PER_MM for v in poster)
    sheet_name = tiling.sheet.upper() if tiling.sheet == "a4" else tiling.sheet.title()
    what = f"{wide:g} × {high:g} mm on {sheets} {sheet_name} sheets"
    if pages > 1:
        what = f"{pages} pages of {what} each; page 1 shown, each cut alike"
    ops = [f"q {TEXT_GREY}", faces.text(f"{title}: {what}", margin, top, MAP_LABEL_PT, True),
           faces.text(f"{grid.rows} rows × {grid.cols} columns, each sheet overlapping the "
                      f"next by {tiling.overlap_mm:g} mm", margin, top - line),
           "Q"]
    steps = [
        "Print at 100 % (“actual size”, not “fit to page”), on one side.",
        "Trim the left edge of each sheet outside column A, and the top edge of each "
        "outside row 1, along the corner marks;",
        "lay each over the grey glue strips of the sheets before it, line it up with the "
        "marks, and glue: A1, B1, … then A2, B2, …",
    ]
    ops.append(f"q {TEXT_GREY}")
    ops += [faces.text(step, margin, margin + (len(steps) - 1 - i) * line)
            for i, step in enumerate(steps)]
    ops.append("Q")
    # The poster, as large as fits between the title and the steps.
    room_w = w - 2 * margin
    room_top, room_bottom = top - 2.5 * line, margin + len(steps) * line + line
    scale = min(room_w / poster[0], (room_top - room_bottom) / poster[1])
    left = (w - poster[0] * scale) / 2
    bottom = room_top - poster[1] * scale
    ops.append(f"q {scale:.5f} 0 0 {scale:.5f} {left:.3f} {bottom:.3f} cm /Poster Do Q")
    ops.append(f"q {GREY} {MARK_PT} w {left:.3f} {bottom:.3f} {poster[0] * scale:.3f} "
               f"{poster[1] * scale:.3f} re S Q")
    ww, wh = grid.window[0] * scale, grid.window[1] * scale
    ops.append("q 0 0 0 1 K 0.5 w")
    cells = [(c, r, left + grid.origin(c, r)[0] * scale, bottom + grid.origin(c, r)[1] * scale)
             for r in range(grid.rows) for c in range(grid.cols)]
    ops += [f"{x:.3f} {y:.3f} {ww:.3f} {wh:.3f} re S" for _, _, x, y in cells]
    ops.append("Q")
    pad = 0.25 * MAP_LABEL_PT
    for c, r, x, y in cells:
        name = label(c, r)
        tw = faces.width(name, MAP_LABEL_PT, bold=True)
        cx, cy = x + ww / 2, y + wh / 2
        ops.append(f"q 0 0 0 0 k 0 0 0 1 K {MARK_PT} w {cx - tw / 2 - pad:.3f} "
                   f"{cy - 0.5 * MAP_LABEL_PT:.3f} {tw + 2 * pad:.3f} "
                   f"{1.3 * MAP_LABEL_PT:.3f} re B 0 0 0 1 k "
                   + faces.text(name, cx - tw / 2, cy - 0.2 * MAP_LABEL_PT, MAP_LABEL_PT, True)
                   + " Q")
    return (w, h), ops
