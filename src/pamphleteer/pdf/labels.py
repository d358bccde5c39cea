"""Stickers on a sheet of self-adhesive labels, and the sheet's calibration print.

Each label's art is laid out at the label's own size; here the pages go onto the
maker's grid (``layouts.LabelSheet``), repeating in order until every label of the
sheet is filled, so one sheet carries the whole set. The calibration print draws only
the labels' outlines, to hold against a sheet of labels before wasting one.
"""

from __future__ import annotations

import pikepdf

from pamphleteer.layouts import SHEETS, LabelSheet
from pamphleteer.pdf.cutcontour import path_ops
from pamphleteer.pdf.impose import Placement, impose
from pamphleteer.units import PT_PER_MM

OUTLINE_PT = 0.5
CROSS_MM = 3.0  # the centre cross of each label in the calibration print


def label_boxes(sheet: LabelSheet) -> list[tuple[float, float, float, float]]:
    """Each label as (x0, y0, x1, y1) in pt from the paper's lower-left corner (PDF's
    origin), row by row from the top, left to right."""
    paper_h = SHEETS[sheet.paper][1]
    return [(x * PT_PER_MM, (paper_h - y - sheet.label_h_mm) * PT_PER_MM,
             (x + sheet.label_w_mm) * PT_PER_MM, (paper_h - y) * PT_PER_MM)
            for x, y in sheet.labels_mm()]


def paper_pt(sheet: LabelSheet) -> tuple[float, float]:
    w, h = SHEETS[sheet.paper]
    return w * PT_PER_MM, h * PT_PER_MM


def impose_labels(src: pikepdf.Pdf, sheet: LabelSheet) -> pikepdf.Pdf:
    """Every label of one sheet filled with the pages in turn (the headline, each slogan,
    then from the first again), each page at 100 % in its label."""
    count = len(src.pages)
    side = [Placement(i % count, x0, y0) for i, (x0, y0, _, _) in enumerate(label_boxes(sheet))]
    out = impose(src, paper_pt(sheet), [side], "")
    out.docinfo["/Title"] = src.docinfo.get("/Title", "")
    return out


def calibration(sheet: LabelSheet, title: str = "") -> pikepdf.Pdf:
    """The sheet's labels as outlines, each with a small cross at its centre: printed on
    plain paper and held against the labels to the light, it shows the printer's drift."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=paper_pt(sheet))
    ops = [f"q 0 0 0 1 K {OUTLINE_PT} w"]
    arm = CROSS_MM / 2 * PT_PER_MM
    for x0, y0, x1, y1 in label_boxes(sheet):
        ops.append(path_ops(x0, y0, x1, y1, sheet.corner_mm * PT_PER_MM) + " S")
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        ops.append(f"{cx - arm:.3f} {cy:.3f} m {cx + arm:.3f} {cy:.3f} l "
                   f"{cx:.3f} {cy - arm:.3f} m {cx:.3f} {cy + arm:.3f} l S")
    ops.append("Q")
    page.obj.Contents = pdf.make_stream("\n".join(ops).encode())
    page.obj.TrimBox = page.obj.MediaBox
    page.obj.BleedBox = page.obj.MediaBox
    pdf.docinfo["/Title"] = title
    return pdf
