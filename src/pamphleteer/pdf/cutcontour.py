"""The die line of a sticker: a path along the trim in the ``CutContour`` spot colour.

Die-cutting printers (and their plotters) find the cut by a spot colour's name: a vector
path stroked in a Separation named ``CutContour`` at 100 % tint, thin, set to overprint
so it knocks nothing out of the art beneath. It is added here, after the artwork is
laid out, so it is never part of the art, and it follows the trim exactly: a rounded
rectangle, or a circle when the corner radius is half the side.
"""

from __future__ import annotations

import pikepdf
from pikepdf import Name

from pamphleteer.units import PT_PER_MM

SPOT = "CutContour"
WIDTH_PT = 0.25
#: What the spot colour looks like where nothing reads its name: 100 % magenta.
ALTERNATE_CMYK = (0.0, 1.0, 0.0, 0.0)
KAPPA = 0.5522847498  # control point distance of a quarter circle, as part of its radius
SPACE_NAME, GSTATE_NAME = "/PfCutContour", "/PfCutOverprint"


def path_ops(x0: float, y0: float, x1: float, y1: float, radius: float) -> str:
    """A closed path around the box (x0, y0)-(x1, y1) with rounded corners, in pt.

    Starts at the middle of the bottom edge and goes anticlockwise; with ``radius`` half
    the side of a square, the straight pieces have no length and it is a circle.
    """
    r = max(0.0, min(radius, (x1 - x0) / 2, (y1 - y0) / 2))
    k = r * KAPPA
    mid = (x0 + x1) / 2
    ops = [f"{mid:.3f} {y0:.3f} m"]
    corners = (  # each: the point where the straight side ends, then the arc
        ((x1 - r, y0), (x1 - r + k, y0, x1, y0 + r - k, x1, y0 + r)),
        ((x1, y1 - r), (x1, y1 - r + k, x1 - r + k, y1, x1 - r, y1)),
        ((x0 + r, y1), (x0 + r - k, y1, x0, y1 - r + k, x0, y1 - r)),
        ((x0, y0 + r), (x0, y0 + r - k, x0 + r - k, y0, x0 + r, y0)),
    )
    for (lx, ly), curve in corners:
        ops.append(f"{lx:.3f} {ly:.3f} l")
        if r > 0:
            ops.append(" ".join(f"{v:.3f}" for v in curve) + " c")
    ops.append("h")
    return " ".join(ops)


def _separation(pdf: pikepdf.Pdf) -> pikepdf.Array:
    """``[/Separation /CutContour /DeviceCMYK tint->CMYK]``: a Type 2 function from no
    ink to the alternate colour, so 100 % tint shows as full magenta in a viewer."""
    function = pdf.make_indirect(pikepdf.Dictionary(
        FunctionType=2, Domain=[0, 1], C0=[0, 0, 0, 0], C1=list(ALTERNATE_CMYK), N=1))
    return pikepdf.Array([Name.Separation, Name("/" + SPOT), Name.DeviceCMYK, function])


def add_cut_contour(pdf: pikepdf.Pdf, corner_mm: float) -> pikepdf.Pdf:
    """Stroke every page's TrimBox with the die line, on top of everything else."""
    space = pdf.make_indirect(_separation(pdf))
    overprint = pdf.make_indirect(pikepdf.Dictionary(Type=Name.ExtGState, OP=True, op=True,
                                                     OPM=1))
    for page in pdf.pages:
        x0, y0, x1, y1 = (float(v) for v in page.obj.TrimBox)
        page.add_resource(space, Name.ColorSpace, Name(SPACE_NAME))
        page.add_resource(overprint, Name.ExtGState, Name(GSTATE_NAME))
        stream = (f"\nq {GSTATE_NAME} gs {SPACE_NAME} CS 1 SCN {WIDTH_PT} w 0 J 0 j "
                  f"{path_ops(x0, y0, x1, y1, corner_mm * PT_PER_MM)} S Q\n")
        # The art's own stream may leave a transformation set: wrap it, so the line
        # is drawn in the page's own coordinates.
        page.contents_add(pdf.make_stream(b"q\n"), prepend=True)
        page.contents_add(pdf.make_stream(b"\nQ" + stream.encode()))
    return pdf


def set_bleed_page(pdf: pikepdf.Pdf, trim_w_mm: float, trim_h_mm: float,
                   bleed_mm: float) -> pikepdf.Pdf:
    """Die-cut pages without crop marks: the page is the bleed, the trim the cut line.

    A die or a plotter follows the CutContour path, not a guillotine, so marks in a slug
    would only be cut out with the sticker's waste."""
    b = bleed_mm * PT_PER_MM
    w, h = trim_w_mm * PT_PER_MM + 2 * b, trim_h_mm * PT_PER_MM + 2 * b
    page_box = pikepdf.Array([0, 0, round(w, 4), round(h, 4)])
    for page in pdf.pages:
        page.obj.MediaBox = page_box
        page.obj.BleedBox = page_box
        page.obj.TrimBox = pikepdf.Array([round(b, 4), round(b, 4), round(w - b, 4),
                                          round(h - b, 4)])
        for key in ("/CropBox", "/ArtBox"):
            if key in page.obj:
                del page.obj[key]
    return pdf
