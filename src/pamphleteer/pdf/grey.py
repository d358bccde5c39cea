"""Black ink only: rewrite a PDF so every colour it paints is DeviceGray.

A copier, a laser printer or one drum of a risograph prints one ink. Left to the
printer's driver, colour becomes grey by rules nobody chose and a file still *says*
RGB, so a preflight cannot tell it is ready. This step makes the greys ourselves and
leaves no RGB, CMYK or ICC-based colour space in anything a page reaches: its content,
the form XObjects, tiling patterns, soft masks and Type 3 glyphs it uses, annotation
appearances, shadings, transparency groups and images.

It runs in two passes. First every content stream is rewritten against its resources
as they were; only then are the resources themselves (named colour spaces, shadings,
images, groups) made grey. A resource dictionary shared by two streams is therefore
never read half-converted.

The greys:

- RGB → Rec. 709 luma, ``0.2126 R + 0.7152 G + 0.0722 B`` on the encoded values. The
  colours come from CSS, which means sRGB, whose primaries are Rec. 709's; weighting the
  encoded values (not linear light) keeps a grey exactly the grey it was, and maps the
  kit's red to the mid-dark tone a reader sees in it.
- CMYK → ``1 − min(1, 0.3 c + 0.59 m + 0.11 y + k)``: the conversion the PDF
  specification gives (ISO 32000-1, 10.3.4), so a viewer's and ours agree.
- CIE Lab (WeasyPrint declares two on every page, for CSS ``lab()``) → ``L* / 100``.
- Images → 8-bit DeviceGray by the same weights, then through ``images``, an optional
  tone curve (a copier's wants its shadows lifted). Greyscale images take the curve too,
  so every picture on a page is toned alike; soft masks are alpha, not pictures, and
  are left as they are.

Separation and DeviceN colours (the stickers' ``CutContour`` die line) are ink names,
not colours to convert, and are left alone; so are inline images, which WeasyPrint
never writes.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import pikepdf
from pikepdf import Name
from PIL import Image, ImageChops

from pamphleteer.errors import RenderError
from pamphleteer.pdf.colourspace import family

REC709 = (0.2126, 0.7152, 0.0722)
PDF_CMY = (0.3, 0.59, 0.11)  # the specification's CMYK-to-grey weights

ToneCurve = Callable[[Image.Image], Image.Image]


def rgb_grey(r: float, g: float, b: float) -> float:
    """An RGB colour's grey (components 0-1): its Rec. 709 luma."""
    return REC709[0] * r + REC709[1] * g + REC709[2] * b


def cmyk_grey(c: float, m: float, y: float, k: float) -> float:
    """A CMYK colour's grey (components 0-1), as ISO 32000-1 converts it."""
    return 1.0 - min(1.0, PDF_CMY[0] * c + PDF_CMY[1] * m + PDF_CMY[2] * y + k)


#: By the number of components a converted space has: its colours' grey.
_GREY = {1: lambda v: v[0], 3: lambda v: rgb_grey(*v), 4: lambda v: cmyk_grey(*v)}
_CONVERTED = ("DeviceGray", "DeviceRGB", "DeviceCMYK", "CalGray", "CalRGB", "Lab")


#: A copier's shadows fill in and smear, and its mid-tones go flat: black prints as
#: 85 % (paper shows through at 15 %), and the middle is steepened by half a smoothstep
#: (slope 1.25 at mid-grey); white stays paper.
COPIER_FLOOR = 0.15


def _copier(v: float) -> float:
    s = (v + 3 * v * v - 2 * v * v * v) / 2  # identity and smoothstep, blended evenly
    return COPIER_FLOOR + (1 - COPIER_FLOOR) * s


_COPIER_LUT = [round(255 * _copier(i / 255)) for i in range(256)]


def copier_tone(image: Image.Image) -> Image.Image:
    """A picture's greys as a copier prints them well: the tone curve for ``images``."""
    return image.point(_COPIER_LUT)


def _converter(space, resources) -> Callable[[list[float]], float] | None:
    """How to grey a colour in ``space``; None where it is left as it is (Separation,
    DeviceN, Indexed, Pattern, DeviceGray itself)."""
    if isinstance(space, pikepdf.Array) and len(space) and space[0] in (Name.Indexed, Name.I):
        return None
    kind, n = family(space, resources)
    if kind not in _CONVERTED or space == Name.DeviceGray:
        return None
    if kind == "Lab":  # L* is lightness already (0-100); WeasyPrint declares Lab spaces
        return lambda v: v[0] / 100
    n = {"CalGray": 1, "CalRGB": 3}.get(kind, n)
    return _GREY.get(n)


def _number(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 4)


def to_grey(pdf: pikepdf.Pdf, images: ToneCurve | None = None) -> pikepdf.Pdf:
    """Make every colour ``pdf`` paints DeviceGray, in place, and return it.

    ``images``, if given, maps each picture (an 8-bit ``L`` PIL image) to the one
    printed, e.g. a tone curve; it must keep the picture's size.
    """
    greyer = _Greyer(images)
    for page in pdf.pages:
        resources = page.obj.get("/Resources", pikepdf.Dictionary())
        if "/Contents" in page.obj:
            page.contents_coalesce()  # one stream to rewrite, however many it had
            greyer.stream(page.obj.Contents, resources)
        greyer.group(page.obj)
        for annotation in page.obj.get("/Annots", []):
            greyer.annotation(annotation, resources)
    greyer.finish()
    return pdf


class _Greyer:
    """What one conversion has seen: streams rewritten, resources to grey afterwards."""

    def __init__(self, images: ToneCurve | None):
        self.tone = images
        self.seen: set = set()
        self.resources: list[pikepdf.Dictionary] = []  # their colour spaces and shadings
        self.pictures: list[pikepdf.Stream] = []
        self.groups: list[tuple] = []  # (a group, the soft mask it is drawn for, if any)

    def _first(self, obj) -> bool:
        """True the first time an indirect object is met, so shared ones are done once
        (and cycles end); a direct one belongs to one owner and is always new."""
        if not obj.is_indirect:
            return True
        if obj.objgen in self.seen:
            return False
        self.seen.add(obj.objgen)
        return True

    # -- pass 1: content streams, against their resources as they are --------------

    def stream(self, stream: pikepdf.Stream, inherited) -> None:
        """Rewrite the colour operators of a content stream and walk the resources it
        uses; a form without resources of its own uses its page's."""
        if not self._first(stream):
            return
        resources = stream.get("/Resources", inherited)
        rewritten = _rewrite(pikepdf.parse_content_stream(stream), resources)
        stream.write(pikepdf.unparse_content_stream(rewritten))
        self._walk(resources)

    def _walk(self, resources) -> None:
        if not self._first(resources):
            return
        self.resources.append(resources)
        for xobject in resources.get("/XObject", {}).values():
            if xobject.get("/Subtype") == Name.Form:
                self.stream(xobject, resources)
                self.group(xobject)
            elif xobject.get("/Subtype") == Name.Image and not xobject.get("/ImageMask", False):
                if self._first(xobject):
                    self.pictures.append(xobject)
        for pattern in resources.get("/Pattern", {}).values():
            if pattern.get("/PatternType") == 1:
                self.stream(pattern, resources)
            elif "/Shading" in pattern:
                self.resources.append(pikepdf.Dictionary(Shading={"/Sh": pattern.Shading}))
        for state in resources.get("/ExtGState", {}).values():
            mask = state.get("/SMask")
            if isinstance(mask, pikepdf.Dictionary) and "/G" in mask:
                self.stream(mask.G, resources)
                self.group(mask.G, mask)
        for font in resources.get("/Font", {}).values():
            if font.get("/Subtype") == Name.Type3:
                for glyph in font.get("/CharProcs", {}).values():
                    self.stream(glyph, font.get("/Resources", resources))

    def annotation(self, annotation, resources) -> None:
        """An annotation's appearances (each a form, or a dictionary of states' forms)
        and its own colour (``/C``, which has no colour space: its length says it)."""
        colour = annotation.get("/C")
        if colour is not None and len(colour) in (3, 4):
            annotation.C = [_number(_GREY[len(colour)]([float(v) for v in colour]))]
        for appearance in annotation.get("/AP", {}).values():
            forms = [appearance] if isinstance(appearance, pikepdf.Stream) else appearance.values()
            for form in forms:
                self.stream(form, resources)

    def group(self, owner, mask=None) -> None:
        """Note a transparency group's colour space (and a soft mask's backdrop) to grey."""
        group = owner.get("/Group")
        if group is not None and "/CS" in group:
            self.groups.append((group, mask))

    # -- pass 2: the resources themselves -------------------------------------------

    def finish(self) -> None:
        for group, mask in self.groups:
            convert = _converter(group.CS, pikepdf.Dictionary())
            if convert is not None:
                if mask is not None and "/BC" in mask:
                    mask.BC = [_number(convert([float(v) for v in mask.BC]))]
                group.CS = Name.DeviceGray
        for resources in self.resources:
            for shading in resources.get("/Shading", {}).values():
                if self._first(shading):
                    _shading(shading, resources)
            spaces = resources.get("/ColorSpace", {})
            for name in list(spaces.keys()):
                spaces[name] = _space(spaces[name], resources)
        for picture in self.pictures:
            _picture(picture, self.tone)


def _space(space, resources):
    """A named colour space as it is after conversion: DeviceGray, a pattern over
    DeviceGray, or (Separation, DeviceN…) itself."""
    if isinstance(space, pikepdf.Array) and len(space) == 2 and space[0] == Name.Pattern:
        if _converter(space[1], resources) is not None:
            return pikepdf.Array([Name.Pattern, Name.DeviceGray])
        return space
    return Name.DeviceGray if _converter(space, resources) is not None else space


def _rewrite(instructions, resources) -> list:
    """The content stream's instructions with every colour in DeviceGray.

    The fill and stroke colour spaces are part of the graphics state, saved by ``q``
    and restored by ``Q``, so the converter for each is kept on the same stack.
    """
    fill: Callable | None = None
    stroke: Callable | None = None
    stack: list[tuple] = []
    out = []
    for instruction in instructions:
        if isinstance(instruction, pikepdf.ContentStreamInlineImage):
            out.append(instruction)
            continue
        operands, operator = list(instruction.operands), str(instruction.operator)
        if operator == "q":
            stack.append((fill, stroke))
        elif operator == "Q" and stack:
            fill, stroke = stack.pop()
        elif operator in ("rg", "RG", "k", "K"):
            grey = _GREY[len(operands)]([float(v) for v in operands])
            operands, operator = [_number(grey)], "g" if operator in ("rg", "k") else "G"
            fill, stroke = (None, stroke) if operator == "g" else (fill, None)
        elif operator in ("g", "G"):
            fill, stroke = (None, stroke) if operator == "g" else (fill, None)
        elif operator in ("cs", "CS"):
            space = operands[0]
            named = resources.get("/ColorSpace", {}).get(str(space), space)
            convert = _converter(named, resources)
            if convert is not None:
                operands = [Name.DeviceGray]
            elif isinstance(named, pikepdf.Array) and len(named) == 2 \
                    and named[0] == Name.Pattern:  # an uncoloured pattern: its colour
                convert = _converter(named[1], resources)
            fill, stroke = (convert, stroke) if operator == "cs" else (fill, convert)
        elif operator in ("sc", "scn", "SC", "SCN"):
            convert = fill if operator in ("sc", "scn") else stroke
            if convert is not None:
                numbers = [float(v) for v in operands if not isinstance(v, pikepdf.Name)]
                names = [v for v in operands if isinstance(v, pikepdf.Name)]
                operands = [_number(convert(numbers)), *names]
        out.append(pikepdf.ContentStreamInstruction(operands, pikepdf.Operator(operator)))
    return out


def _shading(shading, resources) -> None:
    """A function-based, axial or radial shading in grey; its colour function is
    re-made to give one component. Mesh shadings carry colours in their stream and are
    refused, by name, rather than printed in colour."""
    convert = _converter(shading.get("/ColorSpace"), resources)
    if convert is None:
        return
    if int(shading.get("/ShadingType", 0)) not in (1, 2, 3):
        raise RenderError(f"cannot make a type {int(shading.ShadingType)} (mesh) shading "
                          "grey; draw it with a linear or radial CSS gradient instead")
    shading.Function = _function(shading.Function, convert)
    if "/Background" in shading:
        shading.Background = [_number(convert([float(v) for v in shading.Background]))]
    shading.ColorSpace = Name.DeviceGray


def _function(function, convert):
    """A colour function (exponential, stitching, or one exponential per component)
    re-made to return the grey of what it returned. Greying is linear in the
    components for RGB, so interpolating the greys gives the grey of the interpolation."""
    if isinstance(function, pikepdf.Array):
        parts = list(function)
        if all(int(f.get("/FunctionType", -1)) == 2 for f in parts):
            first = parts[0]
            return pikepdf.Dictionary(
                FunctionType=2, Domain=first.Domain, N=first.N,
                C0=[_number(convert([float(f.get("/C0", [0])[0]) for f in parts]))],
                C1=[_number(convert([float(f.get("/C1", [1])[0]) for f in parts]))])
    elif int(function.get("/FunctionType", -1)) == 2:
        grey = dict(function.items())
        grey["/C0"] = [_number(convert([float(v) for v in function.get("/C0", [0])]))]
        grey["/C1"] = [_number(convert([float(v) for v in function.get("/C1", [1])]))]
        grey.pop("/Range", None)
        return pikepdf.Dictionary(grey)
    elif int(function.get("/FunctionType", -1)) == 3:
        grey = dict(function.items())
        grey["/Functions"] = [_function(f, convert) for f in function.Functions]
        grey.pop("/Range", None)
        return pikepdf.Dictionary(grey)
    raise RenderError("cannot make a sampled or PostScript colour function grey; use "
                      "CSS gradients (which WeasyPrint writes as exponential functions)")


def _picture(image: pikepdf.Stream, tone: ToneCurve | None) -> None:
    """An image as 8-bit DeviceGray, through the tone curve, with its soft mask kept."""
    space = image.get("/ColorSpace", Name.DeviceGray)
    decoded = pikepdf.PdfImage(image).as_pil_image()
    if decoded.mode == "CMYK":  # the specification's formula, channel by channel
        c, m, y, k = decoded.split()
        cmy = Image.merge("RGB", (c, m, y)).convert("L", matrix=(*PDF_CMY, 0))
        grey = ImageChops.invert(ImageChops.add(cmy, k))
    elif decoded.mode == "L":
        grey = decoded
    else:
        grey = decoded.convert("RGB").convert("L", matrix=(*REC709, 0))
    if tone is not None:
        grey = tone(grey)
    if grey is decoded and space == Name.DeviceGray and image.get("/BitsPerComponent") == 8:
        return  # already grey and no curve: nothing to change
    image.write(zlib.compress(grey.tobytes()), filter=Name.FlateDecode)
    image.ColorSpace = Name.DeviceGray
    image.BitsPerComponent = 8
    for key in ("/Decode", "/DecodeParms", "/Intent"):
        if key in image:
            del image[key]
