"""One pass over a page's drawing: what is painted, where, how large and in what colour.

The preflight rules ask many questions of the same content streams (text sizes and
colours, line widths, image resolution, colour spaces, transparency). Parsing each stream
once, following the graphics state through ``q``/``Q``, ``cm`` and form XObjects, gives
every rule the size and colour actually printed, whatever mix of matrices drew it.

The walk is bounded (``limits``): a form that draws itself, forms or colour spaces nested
absurdly deep, or a resource used but never defined make the file malformed, and the
file's deadline stops a walk that would take too long.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

import pikepdf

from pamphleteer.check.limits import MAX_DEPTH, Deadline, Malformed
from pamphleteer.pdf.colourspace import family

Matrix = tuple[float, float, float, float, float, float]
Colour = tuple[str, tuple[float, ...]]  # (colour space family, component values)
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)

_TEXT_SHOWING = {"Tj", "TJ", "'", '"'}
_STROKING = {"S", "s", "B", "B*", "b", "b*"}
_FILLING = {"f", "F", "f*", "B", "B*", "b", "b*"}
_PAINTING = _STROKING | _FILLING | {"n"}  # the operators that end a path
_DEVICE = {"g": "DeviceGray", "rg": "DeviceRGB", "k": "DeviceCMYK"}
_UNNAMED = {"/DeviceGray", "/DeviceRGB", "/DeviceCMYK", "/Pattern"}  # never a resource name
LINE_MIN_LENGTH_PT = 3.0  # a thinner filled shape shorter than this is a dot, not a line


def times(m: Matrix, n: Matrix) -> Matrix:
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s,
            e * p + f * r + t, e * q + f * s + u)


def scale(m: Matrix) -> float:
    """How much a matrix magnifies lengths (the geometric mean of its axes)."""
    return math.sqrt(abs(m[0] * m[3] - m[1] * m[2]))


def apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


@dataclass(frozen=True)
class Text:
    size_pt: float  # as printed
    fill: Colour
    font: pikepdf.Dictionary | None
    codes: bytes  # the shown string's bytes, for .notdef detection


@dataclass(frozen=True)
class Image:
    width_px: int
    height_px: int
    width_pt: float  # as placed on the page
    height_pt: float
    space: str  # colour space family of the image's samples
    soft_mask: bool


@dataclass(frozen=True)
class Paint:
    """A painted path. ``line_pt`` is how thick it prints when it is a line: the stroke
    width, or the thickness of a filled bar or border ring; None for other shapes."""

    line_pt: float | None
    stroked: bool
    colour: Colour


@dataclass
class Page:
    """What one page draws, for the rules to judge."""

    number: int
    texts: list[Text] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    paints: list[Paint] = field(default_factory=list)
    colours: list[Colour] = field(default_factory=list)  # every colour set, any use
    spaces: set[str] = field(default_factory=set)  # colour space families used anywhere
    transparency: list[str] = field(default_factory=list)  # what makes the page transparent


def _gstate_transparency(gstate) -> list[str]:
    found = []
    if str(gstate.get("/SMask", "/None")) != "/None":
        found.append("a soft mask")
    for key in ("/CA", "/ca"):
        if key in gstate and float(gstate[key]) < 1:
            found.append(f"opacity {float(gstate[key]):g}")
    if str(gstate.get("/BM", "/Normal")) not in ("/Normal", "/Compatible"):
        found.append(f"blend mode {str(gstate['/BM'])[1:]}")
    return found


def _group(owner, resources, page: Page) -> None:
    group = owner.get("/Group")
    if group is not None and group.get("/S") == "/Transparency":
        page.transparency.append("a transparency group")
        if "/CS" in group:
            page.spaces.add(space_family(group.CS, resources))


def space_family(space, resources) -> str:
    """The family of a colour space, as ``pdf.colourspace.family`` tells it, once the
    spaces it leads to end within ``MAX_DEPTH``: a hostile file's colour space may lead
    back to itself, and a reader that follows it (``family`` does) never stops."""
    lead = space
    for _ in range(MAX_DEPTH):
        lead = _leads_to(lead, resources)
        if lead is None:
            return family(space, resources)[0]
    raise Malformed(f"a colour space leads back to itself, or nests over {MAX_DEPTH} deep")


def _leads_to(space, resources):
    """The colour space ``space`` is defined by: what its name stands for, its base
    (Indexed, Pattern) or its alternate (Separation, DeviceN, an ICC profile's); or None."""
    if isinstance(space, pikepdf.Name):
        if str(space) in _UNNAMED:
            return None
        return resources.get("/ColorSpace", {}).get(str(space))
    if not isinstance(space, pikepdf.Array) or len(space) < 2:
        return None
    kind = str(space[0])
    if kind in ("/Indexed", "/I", "/Pattern"):
        return space[1]
    if kind in ("/Separation", "/DeviceN") and len(space) > 2:
        return space[2]
    if kind == "/ICCBased" and isinstance(space[1], pikepdf.Stream):
        return space[1].get("/Alternate")
    return None


def walk(pdf: pikepdf.Pdf, deadline: Deadline) -> Iterator[Page]:
    """Every page of ``pdf``, with what it draws."""
    for number, pdf_page in enumerate(pdf.pages, 1):
        page = Page(number)
        resources = pdf_page.obj.get("/Resources", pikepdf.Dictionary())
        _group(pdf_page.obj, resources, page)
        _walk(pdf_page, resources, IDENTITY, page, (), deadline)
        yield page


def _walk(owner, resources, ctm: Matrix, page: Page, forms: tuple, deadline: Deadline) -> None:
    """Read ``owner``'s content stream; ``forms`` are the form XObjects it is drawn in."""
    stack = []
    fill: Colour = ("DeviceGray", (0.0,))
    stroke: Colour = ("DeviceGray", (0.0,))
    fill_space = stroke_space = "DeviceGray"
    width, font, size, tm, lm = 1.0, None, 0.0, IDENTITY, IDENTITY
    points: list[tuple[float, float]] = []
    rects: list[tuple[float, float, float, float]] = []  # the path's rectangles, page space

    def colour(space: str, operands) -> Colour:
        value = (space, tuple(float(v) for v in operands if not isinstance(v, pikepdf.Name)))
        page.colours.append(value)
        page.spaces.add(space)
        return value

    for instruction in deadline.each(_instructions(owner)):
        # the attributes: unpacking an instruction goes by index until IndexError
        operands, op = instruction.operands, str(instruction.operator)
        # the commonest first: a QR code is a rectangle and a fill for each run of modules
        if op == "re":
            x, y, w, h = (float(v) for v in operands)
            corners = [apply(ctm, x, y), apply(ctm, x + w, y + h),
                       apply(ctm, x + w, y), apply(ctm, x, y + h)]
            points += corners
            rects.append(_bbox(corners))
        elif op in _PAINTING:
            if op != "n" and points:
                stroked = op in _STROKING
                page.paints.append(Paint(
                    line_pt=width * scale(ctm) if stroked else _thickness(points, rects),
                    stroked=stroked, colour=stroke if stroked else fill))
            points, rects = [], []
        elif op == "q":
            stack.append((ctm, fill, stroke, fill_space, stroke_space, width))
        elif op == "Q" and stack:
            ctm, fill, stroke, fill_space, stroke_space, width = stack.pop()
        elif op == "cm":
            ctm = times(tuple(float(v) for v in operands), ctm)
        elif op == "w":
            width = float(operands[0])
        elif op == "cs":
            fill_space = space_family(operands[0], resources)
            page.spaces.add(fill_space)
        elif op == "CS":
            stroke_space = space_family(operands[0], resources)
            page.spaces.add(stroke_space)
        elif op in ("sc", "scn"):
            fill = colour(fill_space, operands)
        elif op in ("SC", "SCN"):
            stroke = colour(stroke_space, operands)
        elif op in _DEVICE:
            fill_space = _DEVICE[op]
            fill = colour(fill_space, operands)
        elif op.lower() in _DEVICE:
            stroke_space = _DEVICE[op.lower()]
            stroke = colour(stroke_space, operands)
        elif op == "gs":
            gstate = resources.get("/ExtGState", {}).get(str(operands[0]))
            if gstate is not None:
                page.transparency += _gstate_transparency(gstate)
        elif op == "BT":
            tm = lm = IDENTITY
        elif op == "Tf":
            font = resources.get("/Font", {}).get(str(operands[0]))
            if font is None:  # a printer's RIP stops at it
                raise Malformed(f"text is set in the font {operands[0]}, which is not "
                                "among the page's resources")
            size = float(operands[1])
        elif op == "Tm":
            tm = lm = tuple(float(v) for v in operands)
        elif op in ("Td", "TD"):
            lm = times((1.0, 0.0, 0.0, 1.0, float(operands[0]), float(operands[1])), lm)
            tm = lm
        elif op in _TEXT_SHOWING:
            codes = _shown(operands[-1])
            page.texts.append(Text(size * scale(tm) * scale(ctm), fill, font, codes))
        elif op in ("m", "l", "c", "v", "y"):
            values = [float(v) for v in operands]
            points += [apply(ctm, values[i], values[i + 1]) for i in range(0, len(values), 2)]
        elif op == "sh":
            shading = resources.get("/Shading", {}).get(str(operands[0]))
            if shading is not None:
                page.spaces.add(space_family(shading.get("/ColorSpace"), resources))
        elif op == "Do":
            xobject = resources.get("/XObject", {}).get(str(operands[0]))
            if xobject is None:
                raise Malformed(f"the page draws {operands[0]}, which is not among its "
                                "resources")
            if xobject.get("/Subtype") == "/Image":
                page.images.append(_image(xobject, ctm, resources))
            elif xobject.get("/Subtype") == "/Form":
                if xobject.objgen in forms:
                    raise Malformed(f"the form XObject {operands[0]} draws itself, directly "
                                    "or through others")
                if len(forms) >= MAX_DEPTH:
                    raise Malformed(f"form XObjects nested over {MAX_DEPTH} deep")
                inner = xobject.get("/Resources", resources)
                _group(xobject, inner, page)
                matrix = tuple(float(v) for v in xobject.get("/Matrix", IDENTITY))
                _walk(xobject, inner, times(matrix, ctm), page, (*forms, xobject.objgen),
                      deadline)
        elif op == "INLINE IMAGE":
            inline = operands[0]
            page.images.append(Image(
                int(inline.width), int(inline.height),
                math.hypot(ctm[0], ctm[1]), math.hypot(ctm[2], ctm[3]),
                space_family(pikepdf.Name(str(inline.colorspace or "/DeviceGray")), resources),
                False))


def _instructions(owner) -> list:
    """The instructions of ``owner``'s content stream. pikepdf only warns of a form's
    stream cut short, and reads on: here that is malformed, as a broken stream is."""
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=UserWarning, module=r"pikepdf\b")
        try:
            return pikepdf.parse_content_stream(owner)
        except UserWarning as e:
            raise Malformed(f"a content stream is cut short ({e})") from e


_HEX_STRING = re.compile(rb"<([0-9A-Fa-f]*)>")


def _shown(shown) -> bytes:
    """The bytes a text-showing operator's operand shows. WeasyPrint shows each word
    as an array of hex strings and spacings (and empty literal strings), which its
    unparsed form gives at once: taking the array's items one by one costs the walk
    twice as much, for the same bytes. Any other operand is read item by item."""
    if isinstance(shown, pikepdf.Array):
        raw = shown.unparse()
        if b"(" not in raw.replace(b"()", b""):
            strings = _HEX_STRING.findall(raw)
            if not any(len(s) % 2 for s in strings):  # an odd one ends in an implied 0
                return bytes.fromhex(b"".join(strings).decode())
    parts = shown if isinstance(shown, pikepdf.Array) else [shown]
    return b"".join(bytes(p) for p in parts if isinstance(p, pikepdf.String))


def _bbox(points) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _thickness(points, rects) -> float | None:
    """How thick a filled shape prints, if it is a line. WeasyPrint paints a border as
    its outer box with the inner box cut out (even-odd): the ring's thinnest side is the
    border width. A filled bar is as thick as its short side."""
    if len(rects) == 2:
        outer, inner = sorted(rects, key=lambda r: (r[2] - r[0]) * (r[3] - r[1]),
                              reverse=True)
        gaps = [inner[0] - outer[0], inner[1] - outer[1], outer[2] - inner[2],
                outer[3] - inner[3]]
        sides = [g for g in gaps if g > 1e-3]
        return min(sides) if sides and min(gaps) > -1e-3 else None
    x0, y0, x1, y1 = _bbox(points)
    short, long = sorted((x1 - x0, y1 - y0))
    return short if long >= LINE_MIN_LENGTH_PT else None


def _image(xobject, ctm: Matrix, resources) -> Image:
    mask = xobject.get("/ImageMask", False)
    space = "DeviceGray" if mask else space_family(
        xobject.get("/ColorSpace", pikepdf.Name.DeviceGray), resources)
    return Image(
        int(xobject.Width), int(xobject.Height),
        math.hypot(ctm[0], ctm[1]), math.hypot(ctm[2], ctm[3]),
        space, "/SMask" in xobject or "/Mask" in xobject,
    )
