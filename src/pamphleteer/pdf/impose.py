"""Imposition: reading pages placed on the printer's sheets, ready to print, fold and cut.

Pages go onto the sheet as form XObjects, so a sheet stays vector and each font is
embedded once however many pages use it. Ticks for folding or cutting are drawn in
the pages' blank margins, inside what a desk printer can print: the pages fill the
sheet, so there is no room outside them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pikepdf

from pamphleteer.layouts import SHEETS
from pamphleteer.pdf.metadata import reads_right_to_left
from pamphleteer.units import PT_PER_MM

TICK_FROM_MM = 6.0  # from the sheet's edge: desk printers cannot print the outer ~5 mm
TICK_LENGTH_MM = 4.0
TICK_WIDTH_PT = 0.5

@dataclass(frozen=True)
class Placement:
    page: int  # 0-based index into the reading pages
    x: float  # lower-left corner on the sheet, pt
    y: float
    shift: float = 0.0  # creep compensation, pt, applied inside the page's own cell
    turned: bool = False  # turned 180° in its cell (a mini-zine's top row)


def saddle_stitch_order(pages: int, right_to_left: bool = False) -> list[tuple[int, int]]:
    """Sides in print order, each (left, right) as 1-based reading pages.

    Sheet s (1 = outermost) carries pages N−2s+2 | 2s−1 on its outside and 2s | N−2s+1
    on its inside; printed duplex, folded and nested, they read 1, 2, … N. A
    right-to-left booklet is bound on the right, and each side is the mirror: sheet 1's
    outside is 1 | N, so the front cover has the fold on its right.
    """
    if pages % 4:
        raise ValueError(f"a saddle-stitched booklet needs a multiple of 4 pages, not {pages}")
    sides = []
    for s in range(1, pages // 4 + 1):
        sides.append((pages - 2 * s + 2, 2 * s - 1))
        sides.append((2 * s, pages - 2 * s + 1))
    if right_to_left:
        return [(right, left) for left, right in sides]
    return sides


def page_size(page: pikepdf.Page) -> tuple[float, float]:
    """A page's width and height, pt, from its MediaBox."""
    box = page.mediabox
    return float(box[2]) - float(box[0]), float(box[3]) - float(box[1])


def sheet_for(sheet: str, cells: tuple[int, int], page_pt: tuple[float, float]):
    """The sheet's size in pt, turned to the orientation the grid of pages tiles."""
    w, h = (v * PT_PER_MM for v in SHEETS[sheet])
    need_w, need_h = cells[0] * page_pt[0], cells[1] * page_pt[1]
    if abs(need_w - h) + abs(need_h - w) < abs(need_w - w) + abs(need_h - h):
        w, h = h, w
    return w, h


def stroke(x0: float, y0: float, x1: float, y1: float) -> str:
    """A straight line, stroked in the current colour and width (marks, folds, cuts)."""
    return f"{x0:.3f} {y0:.3f} m {x1:.3f} {y1:.3f} l S"


def _edge_ticks(w: float, h: float, xs: list[float], ys: list[float]) -> str:
    """Short lines where the fold or cut lines meet the sheet's printable edge."""
    start, end = TICK_FROM_MM * PT_PER_MM, (TICK_FROM_MM + TICK_LENGTH_MM) * PT_PER_MM
    lines = [f"q 0 0 0 1 K {TICK_WIDTH_PT} w 0 J"]
    for x in xs:
        lines += [stroke(x, start, x, end), stroke(x, h - start, x, h - end)]
    for y in ys:
        lines += [stroke(start, y, end, y), stroke(w - start, y, w - end, y)]
    lines.append("Q")
    return "\n".join(lines)


def impose(src: pikepdf.Pdf, sheet: tuple[float, float], sides: list[list[Placement]],
           ticks: str) -> pikepdf.Pdf:
    """A new PDF of ``sheet``-sized pages, each with the source pages placed on it."""
    out = pikepdf.new()
    forms = [out.copy_foreign(page.as_form_xobject()) for page in src.pages]
    sizes = [page_size(p) for p in src.pages]
    for side in sides:
        page = out.add_blank_page(page_size=sheet)
        xobjects = pikepdf.Dictionary()
        ops = []
        for n, place in enumerate(side):
            name = pikepdf.Name(f"/P{n}")
            xobjects[name] = forms[place.page]
            w, h = sizes[place.page]
            if place.turned:
                matrix = f"-1 0 0 -1 {place.x + w - place.shift:.3f} {place.y + h:.3f}"
            else:
                matrix = f"1 0 0 1 {place.x + place.shift:.3f} {place.y:.3f}"
            ops.append(f"q {place.x:.3f} {place.y:.3f} {w:.3f} {h:.3f} re W n "
                       f"{matrix} cm {name} Do Q")
        ops.append(ticks)
        page.obj.Resources = pikepdf.Dictionary(XObject=xobjects)
        page.obj.Contents = out.make_stream("\n".join(ops).encode())
        page.obj.TrimBox = page.obj.MediaBox
        page.obj.BleedBox = page.obj.MediaBox
    return out


def impose_booklet(src: pikepdf.Pdf, sheet_name: str, creep_mm: float = 0.0) -> pikepdf.Pdf:
    """Reading pages 2-up on landscape sheets for duplex printing (flip on short edge).

    ``creep_mm`` is the paper's thickness: each sheet nested inside others sticks out
    at the fore-edge after folding, so its pages move toward the spine by that much
    per sheet outside it. A document that reads right to left (Arabic, Hebrew: see
    ``metadata.set_right_to_left``) is bound on the right.
    """
    page_w, page_h = page_size(src.pages[0])
    w, h = sheet_for(sheet_name, (2, 1), (page_w, page_h))
    x0, y0 = (w - 2 * page_w) / 2, (h - page_h) / 2
    sides = []
    order = saddle_stitch_order(len(src.pages), reads_right_to_left(src))
    for i, (left, right) in enumerate(order):
        shift = (i // 2) * creep_mm * PT_PER_MM
        sides.append([Placement(left - 1, x0, y0, shift),
                      Placement(right - 1, x0 + page_w, y0, -shift)])
    return impose(src, (w, h), sides, _edge_ticks(w, h, [x0 + page_w], []))


def impose_grid(src: pikepdf.Pdf, sheet_name: str, cols: int, rows: int) -> pikepdf.Pdf:
    """One page repeated cols × rows on a sheet, at 100 %, with cut ticks between them."""
    page_w, page_h = page_size(src.pages[0])
    w, h = sheet_for(sheet_name, (cols, rows), (page_w, page_h))
    x0, y0 = (w - cols * page_w) / 2, (h - rows * page_h) / 2
    side = [Placement(0, x0 + c * page_w, y0 + r * page_h)
            for r in range(rows) for c in range(cols)]
    ticks = _edge_ticks(w, h, [x0 + c * page_w for c in range(1, cols)],
                        [y0 + r * page_h for r in range(1, rows)])
    return impose(src, (w, h), [side], ticks)


def zine_order(right_to_left: bool = False) -> tuple[list[int], list[int]]:
    """A mini-zine's (top row, bottom row), left to right, as 1-based reading pages.

    Printed on one side of a landscape sheet in 4 × 2 panels: top 5 4 3 2 (turned
    180°), bottom 6 7 8 1. Folded in half along the long side (print outside), the top
    row goes behind the bottom one and reads upright from behind. Cut along that fold
    between the middle two columns and push the ends together: the columns' folds
    meet in the spine, the middle fold becomes the fore-edge, and the leaves are 1|2
    (the bottom right panel, doubled by the top right), 3|4 (the top row's middle),
    5|6 (the left column, doubled) and 7|8 (the bottom row's middle). The front cover's
    spine is on its left. A right-to-left zine is bound on the right: each row is the
    mirror, 2 3 4 5 over 1 8 7 6.
    """
    top, bottom = [5, 4, 3, 2], [6, 7, 8, 1]
    if right_to_left:
        return top[::-1], bottom[::-1]
    return top, bottom


ZINE_FOLD_WIDTH_PT = 0.4  # dashed, in grey: where the sheet folds
ZINE_CUT_WIDTH_PT = 0.75  # solid, in black: the one cut
ZINE_FOLD_GREY = 0.45  # K for fold lines and the diagram's outline
ZINE_DIAGRAM_ROW_MM = 1.7  # a panel's height on the folding diagram, under the centre fold
ZINE_DIAGRAM_GAP_MM = 4.5  # between its steps


def _zine_marks(x0: float, y0: float, page_w: float, page_h: float,
                cover_column: int) -> str:
    """Fold lines dashed, the cut solid, and a tiny map of the sheet under the centre
    fold of the left column: its panels, the cut, the front cover shaded.

    Everything lies on the panels' borders, where each desk page keeps a blank edge
    (``--edge``), or, for the map, inside that edge of the bottom left panel: nothing
    crosses a page's text.
    """
    mid_y = y0 + page_h
    right = x0 + 4 * page_w
    ops = [f"q 0 0 0 {ZINE_FOLD_GREY} K {ZINE_FOLD_WIDTH_PT} w 0 J [2 2] 0 d"]
    for c in range(1, 4):
        x = x0 + c * page_w
        ops.append(stroke(x, y0, x, y0 + 2 * page_h))
    ops += [stroke(x0, mid_y, x0 + page_w, mid_y), stroke(x0 + 3 * page_w, mid_y, right, mid_y)]
    ops.append("Q")
    ops.append(f"q 0 0 0 1 K {ZINE_CUT_WIDTH_PT} w 0 J "
               f"{stroke(x0 + page_w, mid_y, x0 + 3 * page_w, mid_y)} Q")
    ch = ZINE_DIAGRAM_ROW_MM * PT_PER_MM
    cw = ch * page_w / page_h
    width = 9 * cw + 2 * ZINE_DIAGRAM_GAP_MM * PT_PER_MM
    ops.append(_zine_diagram(x0 + (page_w - width) / 2, mid_y - 1.0 * PT_PER_MM, cw, ch,
                             cover_column))
    return "\n".join(ops)


def _zine_diagram(left: float, top: float, cw: float, ch: float, cover_column: int) -> str:
    """Three steps, each drawn to scale from panels ``cw`` × ``ch``: the sheet (cut
    solid, folds dashed, the cover shaded), folded in half with its ends pushed in,
    the finished zine (the cover)."""
    grey, gap = f"0 0 0 {ZINE_FOLD_GREY} K 0.3 w 0 J", ZINE_DIAGRAM_GAP_MM * PT_PER_MM
    bottom = top - 2 * ch
    ops = [f"q 0 0 0 0.25 k {left + cover_column * cw:.3f} {bottom:.3f} {cw:.3f} {ch:.3f} re f",
           f"{grey} {left:.3f} {bottom:.3f} {4 * cw:.3f} {2 * ch:.3f} re S [0.5 0.5] 0 d"]
    ops += [stroke(left + c * cw, bottom, left + c * cw, top) for c in range(1, 4)]
    ops += [stroke(left, bottom + ch, left + cw, bottom + ch),
            stroke(left + 3 * cw, bottom + ch, left + 4 * cw, bottom + ch), "Q"]
    ops.append(f"q 0 0 0 1 K 0.6 w 0 J {stroke(left + cw, bottom + ch, left + 3 * cw, bottom + ch)}"
               " Q")

    def push(x: float, y: float, towards: float) -> str:  # a small filled triangle
        size = 0.7 * PT_PER_MM
        return (f"{x:.3f} {y + size / 2:.3f} m {x:.3f} {y - size / 2:.3f} l "
                f"{x + towards * size:.3f} {y:.3f} l f")

    def then(x: float) -> str:  # a chevron from one step to the next, mid-gap
        size = 0.45 * PT_PER_MM
        return (f"q {grey} {x - size / 2:.3f} {top - ch + size:.3f} m "
                f"{x + size / 2:.3f} {top - ch:.3f} l {x - size / 2:.3f} {top - ch - size:.3f} l "
                "S Q")

    # Folded in half: one strip of four, cut along its top in the middle, ends pushed in.
    x, y = left + 4 * cw + gap, bottom + ch / 2
    ops.append(then(x - gap / 2))
    ops.append(f"q {grey} {x:.3f} {y:.3f} {4 * cw:.3f} {ch:.3f} re S Q")
    ops.append(f"q 0 0 0 1 K 0.6 w 0 J {stroke(x + cw, y + ch, x + 3 * cw, y + ch)} Q")
    ops.append(f"q 0 0 0 1 k {push(x - 1.2 * PT_PER_MM, y + ch / 2, 1)} "
               f"{push(x + 4 * cw + 1.2 * PT_PER_MM, y + ch / 2, -1)} Q")
    # The zine: one panel, the cover.
    x += 4 * cw + gap
    ops.append(then(x - gap / 2 + 0.4 * PT_PER_MM))
    ops.append(f"q 0 0 0 0.25 k {x:.3f} {y:.3f} {cw:.3f} {ch:.3f} re f "
               f"{grey} {x:.3f} {y:.3f} {cw:.3f} {ch:.3f} re S Q")
    return "\n".join(ops)


def impose_zine(src: pikepdf.Pdf, sheet_name: str) -> pikepdf.Pdf:
    """Eight reading pages on one side of a landscape sheet, for a one-sheet mini-zine:
    print at 100 %, fold, cut, fold (see ``zine_order``). No staples, no duplex."""
    if len(src.pages) != 8:
        raise ValueError(f"a one-sheet zine has 8 pages, not {len(src.pages)}")
    page_w, page_h = page_size(src.pages[0])
    w, h = sheet_for(sheet_name, (4, 2), (page_w, page_h))
    x0, y0 = (w - 4 * page_w) / 2, (h - 2 * page_h) / 2
    top, bottom = zine_order(reads_right_to_left(src))
    side = [Placement(n - 1, x0 + c * page_w, y0 + page_h, turned=True)
            for c, n in enumerate(top)]
    side += [Placement(n - 1, x0 + c * page_w, y0) for c, n in enumerate(bottom)]
    return impose(src, (w, h), [side], _zine_marks(x0, y0, page_w, page_h, bottom.index(1)))
