"""pdf/grey.py alone: a small PDF painted in every colour form WeasyPrint (and a hand)
writes, made grey, then read back object by object."""

from __future__ import annotations

import zlib

import pikepdf
import pytest
from pikepdf import Name
from PIL import Image

from helpers import content_operators, pdf_names
from pamphleteer.errors import RenderError
from pamphleteer.pdf.grey import to_grey

RED = (0.84, 0.16, 0.16)
RED_GREY = 0.2126 * 0.84 + 0.7152 * 0.16 + 0.0722 * 0.16  # Rec. 709 luma
CMYK = (0.1, 0.2, 0.3, 0.4)
CMYK_GREY = 1 - min(1, 0.3 * 0.1 + 0.59 * 0.2 + 0.11 * 0.3 + 0.4)  # ISO 32000-1 10.3.4
COLOUR_SPACES = {"/DeviceRGB", "/DeviceCMYK", "/ICCBased", "/CalRGB", "/Lab"}
COLOUR_OPERATORS = {"rg", "RG", "k", "K"}


def _image(pdf: pikepdf.Pdf, pixels: list[tuple[int, int, int]]) -> pikepdf.Stream:
    data = bytes(v for p in pixels for v in p)
    return pdf.make_stream(zlib.compress(data), Type=Name.XObject, Subtype=Name.Image,
                           Width=len(pixels), Height=1, BitsPerComponent=8,
                           ColorSpace=Name.DeviceRGB, Filter=Name.FlateDecode)


def _coloured_pdf() -> pikepdf.Pdf:
    """A page using rg, k, an ICC-based cs/scn, an image, an RGB form, an axial
    shading, a transparency group and an annotation with an RGB appearance."""
    pdf = pikepdf.new()
    icc = pdf.make_stream(b"not read", N=3)  # only /N matters to the conversion
    form = pdf.make_stream(b"0 0 1 RG 0 0 m 10 10 l S", Type=Name.XObject,
                           Subtype=Name.Form, BBox=[0, 0, 10, 10],
                           Group=pikepdf.Dictionary(S=Name.Transparency, CS=Name.DeviceRGB))
    shading = pikepdf.Dictionary(ShadingType=2, ColorSpace=Name.DeviceRGB, Coords=[0, 0, 1, 0],
                                 Function=pikepdf.Dictionary(FunctionType=2, Domain=[0, 1],
                                                             C0=[1, 1, 1], C1=list(RED), N=1))
    resources = pikepdf.Dictionary(
        ColorSpace=pikepdf.Dictionary(CS0=pikepdf.Array([Name.ICCBased, icc]),
                                      Lab0=pikepdf.Array([Name.Lab, pikepdf.Dictionary(
                                          WhitePoint=[0.9505, 1, 1.089])])),
        XObject=pikepdf.Dictionary(Im0=_image(pdf, [(255, 0, 0), (0, 255, 0), (10, 20, 30)]),
                                   Fm0=form),
        Shading=pikepdf.Dictionary(Sh0=shading))
    content = (f"{RED[0]} {RED[1]} {RED[2]} rg 0 0 10 10 re f "
               f"q {' '.join(map(str, CMYK))} k 0 0 5 5 re f Q "
               "/CS0 cs 0 0 1 scn 0 0 2 2 re f /Lab0 cs 50 20 -10 scn 0 0 1 1 re f "
               "q /Im0 Do Q /Fm0 Do /Sh0 sh").encode()
    page = pikepdf.Dictionary(Type=Name.Page, MediaBox=[0, 0, 100, 100], Resources=resources,
                              Contents=pdf.make_stream(content),
                              Group=pikepdf.Dictionary(S=Name.Transparency, CS=Name.DeviceRGB))
    pdf.pages.append(pikepdf.Page(page))
    appearance = pdf.make_stream(b"1 0 0 rg 0 0 5 5 re f", Type=Name.XObject,
                                 Subtype=Name.Form, BBox=[0, 0, 5, 5])
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(
        pikepdf.Dictionary(Type=Name.Annot, Subtype=Name.Square, Rect=[0, 0, 5, 5],
                           C=[1, 0, 0], AP=pikepdf.Dictionary(N=appearance)))]))
    return pdf


def _operations(pdf: pikepdf.Pdf) -> list[tuple[str, list[float]]]:
    """Every operator of the page, its form and its annotation's appearance, in that
    order, with its numbers."""
    page = pdf.pages[0]
    ops = []
    for stream in (page.Contents, page.Resources.XObject.Fm0, page.Annots[0].AP.N):
        for operands, operator in pikepdf.parse_content_stream(stream):
            ops.append((str(operator), [float(v) for v in operands
                                        if not isinstance(v, pikepdf.Name)]))
    return ops


@pytest.fixture(scope="module")
def grey() -> pikepdf.Pdf:
    pdf = _coloured_pdf()
    return to_grey(pdf, images=lambda im: im.point(lambda v: 255 - v))


def test_no_colour_space_is_left_anywhere(grey):
    assert not pdf_names(grey) & COLOUR_SPACES


def test_no_colour_operator_is_left(grey):
    assert not content_operators(grey) & COLOUR_OPERATORS


def test_greys_are_luma_for_rgb_and_the_specification_for_cmyk(grey):
    fills = [numbers[0] for op, numbers in _operations(grey) if op == "g"]
    assert fills[0] == pytest.approx(RED_GREY, abs=1e-3)
    assert fills[1] == pytest.approx(CMYK_GREY, abs=1e-3)
    scn = [numbers for op, numbers in _operations(grey) if op == "scn"]
    assert scn == [[pytest.approx(0.0722, abs=1e-3)], [0.5]]  # blue's luma; L* 50
    strokes = [numbers for op, numbers in _operations(grey) if op == "G"]
    assert strokes == [[pytest.approx(0.0722, abs=1e-3)]]


def test_images_are_8_bit_grey_through_the_curve(grey):
    image = grey.pages[0].Resources.XObject.Im0
    assert image.ColorSpace == Name.DeviceGray and image.BitsPerComponent == 8
    lumas = [round(255 * (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255)
             for r, g, b in [(255, 0, 0), (0, 255, 0), (10, 20, 30)]]
    assert list(image.read_bytes()) == pytest.approx([255 - v for v in lumas], abs=1)


def test_shadings_groups_and_annotations_are_grey(grey):
    page = grey.pages[0]
    shading = page.Resources.Shading.Sh0
    assert shading.ColorSpace == Name.DeviceGray
    assert list(shading.Function.C0) == [1] and float(shading.Function.C1[0]) == \
        pytest.approx(RED_GREY, abs=1e-3)
    assert page.Group.CS == Name.DeviceGray
    assert page.Resources.XObject.Fm0.Group.CS == Name.DeviceGray
    assert [float(v) for v in page.Annots[0].C] == [pytest.approx(0.2126)]


def test_a_grey_image_without_a_curve_is_untouched():
    pdf = pikepdf.new()
    data = zlib.compress(bytes([0, 128, 255]))
    image = pdf.make_stream(data, Type=Name.XObject, Subtype=Name.Image, Width=3, Height=1,
                            BitsPerComponent=8, ColorSpace=Name.DeviceGray,
                            Filter=Name.FlateDecode)
    pdf.add_blank_page()
    pdf.pages[0].obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    pdf.pages[0].obj.Contents = pdf.make_stream(b"/Im0 Do")
    to_grey(pdf)
    assert pdf.pages[0].Resources.XObject.Im0.read_raw_bytes() == data


def test_a_separation_is_left_as_the_ink_it_names():
    pdf = pikepdf.new()
    pdf.add_blank_page()
    spot = pikepdf.Array([Name.Separation, Name("/CutContour"), Name.DeviceCMYK,
                          pdf.make_indirect(pikepdf.Dictionary(
                              FunctionType=2, Domain=[0, 1], C0=[0, 0, 0, 0],
                              C1=[0, 1, 0, 0], N=1))])
    pdf.pages[0].obj.Resources = pikepdf.Dictionary(
        ColorSpace=pikepdf.Dictionary(Cut=spot))
    pdf.pages[0].obj.Contents = pdf.make_stream(b"/Cut CS 1 SCN 0 0 m 5 5 l S")
    to_grey(pdf)
    assert pdf.pages[0].Resources.ColorSpace.Cut[1] == Name("/CutContour")
    assert b"/Cut CS" in pdf.pages[0].Contents.read_bytes()


def test_a_mesh_shading_is_refused_by_name():
    pdf = pikepdf.new()
    pdf.add_blank_page()
    mesh = pdf.make_stream(b"", ShadingType=4, ColorSpace=Name.DeviceRGB,
                           BitsPerCoordinate=8, BitsPerComponent=8, BitsPerFlag=8,
                           Decode=[0, 1, 0, 1, 0, 1, 0, 1, 0, 1])
    pdf.pages[0].obj.Resources = pikepdf.Dictionary(Shading=pikepdf.Dictionary(Sh0=mesh))
    pdf.pages[0].obj.Contents = pdf.make_stream(b"/Sh0 sh")
    with pytest.raises(RenderError, match="mesh"):
        to_grey(pdf)


def test_a_picture_the_curve_darkens_is_written_as_it_returned():
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.pages[0].obj.Resources = pikepdf.Dictionary(
        XObject=pikepdf.Dictionary(Im0=_image(pdf, [(255, 255, 255)])))
    pdf.pages[0].obj.Contents = pdf.make_stream(b"/Im0 Do")
    to_grey(pdf, images=lambda im: Image.new("L", im.size, 40))
    assert pdf.pages[0].Resources.XObject.Im0.read_bytes() == bytes([40])
