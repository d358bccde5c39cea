"""QR codes drawn into a rendered PDF as vector rectangles.

The layout places, sizes and colours a code's box (``editions.qr_html``); the modules
are filled here, in the box's text colour, over its background (the quiet zone): a
rectangle for each run of dark modules in a row, each filled on its own, as WeasyPrint
fills a box. (pdfium, the viewer in Chrome and Android, sets a lone rectangle on whole
pixels, so on a phone the code stays ink and paper at any zoom; one path of all the
modules it would anti-alias, grey at every edge.) The codes are in the page's content
like anything WeasyPrint draws, so what follows (crop marks, press colour, greyscale,
separations) treats them as the rest of the page.
"""

from __future__ import annotations

import io

import pikepdf

QUIET_MODULES = 4  # the quiet zone the standard asks for, part of the box
ERROR_LEVEL = "m"  # recovers 15 % of a damaged code: a crease, a smudge of toner


def modules(text: str) -> list[tuple[bool, ...]]:
    """The code's rows of modules, dark as True, its quiet zone included."""
    import segno

    return [tuple(bool(m) for m in row)
            for row in segno.make(text, error=ERROR_LEVEL).matrix_iter(border=QUIET_MODULES)]


def rectangles(rows: list[tuple[bool, ...]], box: tuple[float, float, float, float]) -> str:
    """The dark modules of ``rows`` laid over ``box`` (x, y, width, height, in points
    from the page's bottom left) as filled rectangles, one per run of dark modules in a
    row. Edges are rounded before widths are taken, so modules that meet share their
    edge exactly."""
    x, y, width, height = box
    across, down = width / len(rows[0]), height / len(rows)
    top = y + height
    parts = []
    for number, row in enumerate(rows):
        y0, y1 = round(top - (number + 1) * down, 3), round(top - number * down, 3)
        start = None
        for column, dark in enumerate((*row, False)):
            if dark and start is None:
                start = column
            elif not dark and start is not None:
                x0, x1 = round(x + start * across, 3), round(x + column * across, 3)
                parts.append(f"{_n(x0)} {_n(y0)} {_n(x1 - x0)} {_n(y1 - y0)} re f")
                start = None
    return "\n".join(parts)


def draw(data: bytes, codes) -> bytes:
    """``data`` with every code of ``codes`` (``render.Painted``: its text, page, box and
    colour) filled in. A code in a colour with no opacity (a risograph drum that does not
    print the ink) leaves its box as the layout painted it."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for number in sorted({c.page for c in codes}):
            page = pdf.pages[number]
            left, bottom = (float(v) for v in page.mediabox[:2])
            ops = []
            for code in (c for c in codes if c.page == number):
                operator, components, alpha = code.colour
                if alpha <= 0:
                    continue
                ops.append("q")
                if alpha < 1:
                    state = pikepdf.Dictionary(Type=pikepdf.Name.ExtGState, ca=alpha)
                    ops.append(f"{page.add_resource(state, pikepdf.Name.ExtGState)} gs")
                x, y, width, height = code.box
                ops += [f"{' '.join(_n(c) for c in components)} {operator}",
                        rectangles(modules(code.value), (left + x, bottom + y, width, height)),
                        "Q"]
            if ops:
                page.contents_add(b"q\n", prepend=True)  # whatever state WeasyPrint leaves
                page.contents_add(("Q\n" + "\n".join(ops) + "\n").encode())
        buffer = io.BytesIO()
        pdf.save(buffer, deterministic_id=True)
    return buffer.getvalue()


def _n(value: float) -> str:
    """A number as the content stream writes it: to a thousandth of a point."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
