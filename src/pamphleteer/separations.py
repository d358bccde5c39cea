"""A typeset page -> one greyscale master per risograph drum, interleaved in print order.

The copy is laid out once, each colour role painted in a colour of its own (a
*marker*, ``MARKERS``), and each drum's master is that layout's pages with every
marker replaced by the drum's tone for its role (``riso``): a grey, or nothing at
all, drawn at zero opacity so that the page keeps its text layer. So the drums'
pages have the same geometry to the point, by construction, and text stays text.
A page that draws what this does not read (form XObjects, patterns, shadings, Type 3
fonts) is laid out again in each drum's tones instead, as paint moves nothing.
The pages are interleaved (page 1 on each drum, then page 2 …), labelled
``1-black``, ``1-bright-red`` … as the shop feeds them, and every colour is made
DeviceGray, where black is full ink on that drum.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable

import pikepdf
from pikepdf import Name

from pamphleteer import riso
from pamphleteer.errors import RenderError

_CLOSE = 0.5 / 255  # a marker as WeasyPrint writes it, rounded


def markers(inks: tuple[str, ...]) -> dict[str, tuple[int, int, int]]:
    """Each colour role's marker: far from any grey, and from any colour a layout would
    choose for print."""
    roles = riso.drums(inks)[0].tones
    return {role: (i + 1, 0, 2 * i + 2) for i, role in enumerate(roles)}


def marker_paint(inks: tuple[str, ...]) -> str:
    """The paint a riso copy is typeset in (``Typesetter.paint``): the markers."""
    values = "; ".join(f"--{role}: rgb{rgb}" for role, rgb in markers(inks).items())
    return f".variant-riso {{ {values}; }}"


def separate(rendered: bytes, relayout: Callable[[str], bytes], what: str,
             inks: tuple[str, ...]) -> bytes:
    """The separations of a document ``rendered`` in the markers (``marker_paint``) for
    the drums ``inks``: a page per drum per page. ``relayout(paint)`` is the document
    laid out again in a drum's paint, for pages this cannot repaint."""
    from pamphleteer.pdf.grey import to_grey

    drums = riso.drums(inks)
    with contextlib.ExitStack() as open_files:
        pdf = open_files.enter_context(pikepdf.open(io.BytesIO(rendered)))
        if all(_readable(page) for page in pdf.pages):
            _repaint(pdf, drums, markers(inks))
        else:
            masters = [open_files.enter_context(pikepdf.open(io.BytesIO(relayout(drum.css))))
                       for drum in drums]
            pdf = _interleave(masters, what)
        pages = len(pdf.pages) // len(drums)
        labels = [riso.page_label(page, drum.ink) for page in range(1, pages + 1)
                  for drum in drums]
        pdf.Root.PageLabels = pikepdf.Dictionary(Nums=pikepdf.Array(
            [v for i, label in enumerate(labels)
             for v in (i, pikepdf.Dictionary(P=pikepdf.String(label)))]))
        buffer = io.BytesIO()
        to_grey(pdf).save(buffer, deterministic_id=True)  # reproducible, as every output
    return buffer.getvalue()


def _interleave(masters: list[pikepdf.Pdf], what: str) -> pikepdf.Pdf:
    """The drums' files as one: the first keeps the document's metadata and outline."""
    counts = {len(m.pages) for m in masters}
    if len(counts) > 1:  # paint alone cannot move text: a layout that does is a bug
        raise RenderError(f"{what}: the drums came out with {sorted(counts)} pages; "
                          "the layout's colours change its layout: keep colour rules "
                          "to paint")
    pdf = masters[0]
    for index in range(counts.pop()):
        for offset, other in enumerate(masters[1:], 1):
            pdf.pages.insert(index * len(masters) + offset, other.pages[index])
    return pdf


def _readable(page) -> bool:
    """Whether every colour the page paints is in its own content stream's operators."""
    resources = page.obj.get("/Resources", pikepdf.Dictionary())
    return (not resources.get("/Pattern") and not resources.get("/Shading")
            and all(x.get("/Subtype") != Name.Form
                    for x in resources.get("/XObject", {}).values())
            and all(f.get("/Subtype") != Name.Type3 for f in resources.get("/Font", {}).values()))


def _repaint(pdf: pikepdf.Pdf, drums: list[riso.Drum], marked: dict[str, tuple]) -> None:
    """Each page as every drum prints it, in place: the first drum's on the page itself
    (which the outline points to), the others' on copies after it."""
    originals = list(pdf.pages)
    for index, page in enumerate(originals):
        instructions = pikepdf.parse_content_stream(page)
        resources = page.obj.Resources
        states = resources.get("/ExtGState", pikepdf.Dictionary())
        resources.ExtGState = states
        for name, key, value in (("/PmFillOff", "/ca", 0), ("/PmStrokeOff", "/CA", 0)):
            states[name] = pikepdf.Dictionary({key: value})
        for offset, drum in enumerate(drums):
            tones = {rgb: drum.tones[role] for role, rgb in marked.items()}
            stream = pikepdf.unparse_content_stream(_paint(instructions, tones, states))
            if offset == 0:
                target = page
            else:
                pdf.pages.insert(index * len(drums) + offset, page)
                target = pdf.pages[index * len(drums) + offset]
            target.obj.Contents = pdf.make_stream(stream)


_SETS = {"rg": "fill", "g": "fill", "k": "fill", "sc": "fill", "scn": "fill", "cs": "fill",
         "RG": "stroke", "G": "stroke", "K": "stroke", "SC": "stroke", "SCN": "stroke",
         "CS": "stroke"}  # the operators that set a colour, and which


def _paint(instructions, tones: dict[tuple, int | None], states) -> list:
    """``instructions`` with each marker colour set to its tone on this drum, or to
    nothing: then whatever is painted in it is at zero opacity until another colour
    is set, when the opacity the stream had set comes back."""
    out = []
    alpha = {"fill": 1.0, "stroke": 1.0}  # as the stream's own states set it
    hidden = {"fill": False, "stroke": False}
    saved = []

    def opacity(kind: str, value: float | None) -> pikepdf.ContentStreamInstruction:
        """Set ``kind``'s opacity to ``value`` (None: zero), with a state of its own."""
        if value is None:
            name = Name("/PmFillOff" if kind == "fill" else "/PmStrokeOff")
        else:
            key = "/ca" if kind == "fill" else "/CA"
            name = Name(f"/Pm{key[1:]}{value:g}")
            states[name] = pikepdf.Dictionary({key: value})
        return pikepdf.ContentStreamInstruction([name], pikepdf.Operator("gs"))

    for instruction in instructions:
        operands, op = instruction.operands, str(instruction.operator)
        out.append(instruction)
        if op == "q":
            saved.append((dict(alpha), dict(hidden)))
        elif op == "Q" and saved:
            alpha, hidden = saved.pop()
        elif op == "gs":
            gstate = states.get(str(operands[0]), {})
            for kind, key in (("fill", "/ca"), ("stroke", "/CA")):
                if key in gstate:
                    alpha[kind] = float(gstate[key])
                    if hidden[kind]:  # still in a colour this drum does not print
                        out.append(opacity(kind, None))
        elif kind := _SETS.get(op):
            marker = next((m for m in tones if op in ("rg", "RG") and len(operands) == 3
                           and all(abs(float(v) - c / 255) <= _CLOSE
                                   for v, c in zip(operands, m, strict=True))), None)
            if marker is not None and tones[marker] is None:
                out[-1] = opacity(kind, None)  # the colour it had is never seen
                hidden[kind] = True
                continue
            if marker is not None:
                out[-1] = pikepdf.ContentStreamInstruction(
                    [tones[marker] / 255], pikepdf.Operator("g" if kind == "fill" else "G"))
            if hidden[kind]:
                out.insert(len(out) - 1, opacity(kind, alpha[kind]))
                hidden[kind] = False
    return out
