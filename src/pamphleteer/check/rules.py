"""The preflight rules, one function per check ID, each judging one PDF.

A rule gets the opened file (``Subject``) and what it should be (``Expected``) and
reports through ``Subject.error`` / ``Subject.warn``. Messages say what is wrong and how
to fix it, since they are all an organizer sees.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pikepdf

from pamphleteer.check.graphics import space_family
from pamphleteer.check.limits import MAX_DEPTH, Malformed
from pamphleteer.pdf import fonts as pdf_fonts
from pamphleteer.pdf.colourspace import ink_total
from pamphleteer.pdf.pdfx import pdfx_version
from pamphleteer.units import PT_PER_MM

if TYPE_CHECKING:
    from pamphleteer.check import Subject

MAX_PAGE_MM = 14400 / PT_PER_MM  # PDF's largest page side, 200 in
BOX_TOLERANCE_MM = 0.5
EDGE_TOLERANCE_MM = 0.1
PURE_K = ("DeviceCMYK", (0.0, 0.0, 0.0, 1.0))
PURE_K_BELOW_PT = 12  # smaller press text in four-colour black blurs with misregistration
SMALLEST_PT = {"press": 6.0, "desk": 8.0, "screen": 8.0}  # warn below
HAIRLINE_WARN_PT, HAIRLINE_FAIL_PT = 0.25, 0.125
PPI_ERROR, PPI_WARN = 150, 300  # at reading distance
READING_CM = 30.0
BLEED_DPI = 50
PAPER = 245  # every channel at least this: unprinted paper
RISO_DPI = 100  # a pixel of 0.25 mm: fine enough to place ink against the 5 mm margin
RISO_SOLID_MM = 10.0  # a square this wide, almost all ink: a flat area, not type
GREY_SPACES = {"DeviceGray"}  # all a black-only file (mono, a riso drum) may paint in
_SUBSET_RE = re.compile(r"^[A-Z]{6}\+(.+)$")

Rule = Callable[["Subject"], None]
RULES: dict[str, Rule] = {}


def rule(check_id: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        RULES[check_id] = fn
        return fn
    return register


def normalize_font_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def box_mm(page: pikepdf.Page, key: str) -> tuple[float, float, float, float] | None:
    """A page box, in mm. One larger than PDF allows is malformed: rendered or sampled
    mm by mm, it would take all the memory and time there is."""
    box = page.obj.get(key)
    if box is None:
        return None
    x0, y0, x1, y1 = (float(v) / PT_PER_MM for v in box)
    w, h = abs(x1 - x0), abs(y1 - y0)
    if not (w <= MAX_PAGE_MM and h <= MAX_PAGE_MM):  # NaN compares false: refused too
        raise Malformed(f"the {key[1:]} is {w:.0f}×{h:.0f} mm, beyond the "
                        f"{MAX_PAGE_MM:.0f} mm (200 in) a PDF page may measure")
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def around(text: str, i: int) -> str:
    """The words around character ``i``, to name the text a finding is about."""
    return " ".join(text[max(i - 12, 0): i + 13].split())


def _size(box) -> tuple[float, float]:
    return box[2] - box[0], box[3] - box[1]


# --- boxes and pages ------------------------------------------------------------------


@rule("boxes")
def boxes(s) -> None:
    exp = s.expected
    sizes = set()
    for number, page in enumerate(s.deadline.each(s.pdf.pages), 1):
        media = box_mm(page, "/MediaBox")
        trim = box_mm(page, "/TrimBox")
        bleed = box_mm(page, "/BleedBox")
        if trim is None or bleed is None:
            s.error(number, "TrimBox or BleedBox missing: the printer cannot tell the "
                    "finished size; rebuild the file with pamphleteer")
            continue
        w, h = _size(trim)
        sizes.add((round(w), round(h)))
        if exp.trim_mm and (abs(w - exp.trim_mm[0]) > BOX_TOLERANCE_MM
                            or abs(h - exp.trim_mm[1]) > BOX_TOLERANCE_MM):
            s.error(number, f"TrimBox is {w:.1f}×{h:.1f} mm, the declared size is "
                    f"{exp.trim_mm[0]:g}×{exp.trim_mm[1]:g} mm; rebuild, or fix the size "
                    "in layout.toml")
        margins = (trim[0] - bleed[0], trim[1] - bleed[1], bleed[2] - trim[2],
                   bleed[3] - trim[3])
        if min(margins) < exp.bleed_mm - EDGE_TOLERANCE_MM:
            s.error(number, f"BleedBox is only {min(margins):.1f} mm outside the trim; "
                    f"{exp.bleed_mm:g} mm bleed is needed (bleed_mm in pamphleteer.toml)")
        if any(bleed[i] < media[i] - 1e-3 for i in (0, 1)) or any(
                bleed[i] > media[i] + 1e-3 for i in (2, 3)):
            s.error(number, "BleedBox extends beyond the MediaBox: the bleed is cut off")
    if len(sizes) > 1:
        s.error(None, f"pages differ in size or orientation ({len(sizes)} different trims); "
                "a printer expects one size per file")


@rule("page-count")
def page_count(s) -> None:
    exp, count = s.expected, len(s.pdf.pages)
    if count == 0:
        s.error(None, "the file has no pages; rebuild it")
    elif exp.page_rule == "multiple-of-4" and count % 4:
        s.error(None, f"{count} pages: a saddle-stitched booklet needs a multiple of 4; "
                "rebuild it with pamphleteer, which pads with blank pages")
    elif exp.pages and count < exp.pages:
        s.error(None, f"{count} pages, expected {exp.pages}; a page is missing")
    root = s.pdf.Root.Pages.objgen
    for number, page in enumerate(s.deadline.each(s.pdf.pages), 1):
        if not _reaches(page.obj, root):
            s.error(number, "the page tree loops, or nests over "
                    f"{MAX_DEPTH} deep: the page's /Parent chain does not reach the root, "
                    "and a reader following it may hang; rebuild the file")
            break


def _reaches(node, root: tuple[int, int]) -> bool:
    """Whether a page's /Parent chain reaches the page tree's ``root`` within MAX_DEPTH."""
    for _ in range(MAX_DEPTH):
        node = node.get("/Parent")
        if node is None or node.objgen == root:
            return node is not None
    return False


@rule("overflow")
def overflow(s) -> None:
    exp, count = s.expected, len(s.pdf.pages)
    if exp.pages and exp.page_rule != "multiple-of-4" and count > exp.pages:
        s.error(None, f"{count} pages, expected {exp.pages}: the text ran onto an extra "
                "page; shorten it, or let copyfit size it (the layout's [fit])")
    for number, text, distance in _text_from_trim(s, lambda d: d < -EDGE_TOLERANCE_MM):
        s.error(number, f"text {text!r} runs {-distance:.1f} mm past the trim and will be "
                "cut off; shorten it, or let copyfit size it (the layout's [fit])")


@rule("safe-zone")
def safe_zone(s) -> None:
    safe = s.expected.safe_mm
    for number, text, distance in _text_from_trim(
            s, lambda d: -EDGE_TOLERANCE_MM <= d < safe - EDGE_TOLERANCE_MM):
        s.error(number, f"text {text!r} is {max(distance, 0):.1f} mm from the trim, inside "
                f"the {safe:g} mm safe zone a guillotine may cut into; widen the layout's "
                "margins")


def reported_within_mm(expected) -> float:
    """How far inside the trim a character may be and still be reported: overflow
    reports text past the trim, safe-zone text within its safe zone."""
    return max(expected.safe_mm, 0.0) - EDGE_TOLERANCE_MM


def _text_from_trim(s, wrong) -> Iterator[tuple[int, str, float]]:
    """Per page, the first character whose distance inside the trim (mm, negative
    past it) is ``wrong``: (page, the words around it, the distance).

    None on a tiled poster's sheets: each shows a part of the desk page, clipped, and
    the text layer keeps the whole page's text, most of it beyond the sheet and not
    printed; where that text sits was judged in the desk file.
    """
    if s.expected.tiles:
        return
    for number, (trim, text, chars) in enumerate(s.char_boxes, 1):
        for i, box in chars:
            distance = min(box[0] - trim[0], box[1] - trim[1], trim[2] - box[2],
                           trim[3] - box[3])
            if wrong(distance):
                yield number, around(text, i), distance
                break


# --- fonts and text -------------------------------------------------------------------


@rule("fonts")
def fonts(s) -> None:
    for font in s.deadline.each(pdf_fonts(s.pdf)):
        base = str(font.get("/BaseFont", "/?"))[1:]
        descriptor = font.get("/DescendantFonts", [font])[0].get("/FontDescriptor")
        if descriptor is None or not any(
                k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
            s.error(None, f"font {base} is not embedded; the printer would substitute "
                    "another; use the bundled fonts in fonts/")
            continue
        match = _SUBSET_RE.match(base)
        if not match:
            s.error(None, f"font {base} is embedded whole, not subset")
        elif s.fonts is not None and normalize_font_name(match.group(1)) not in s.fonts:
            s.error(None, f"font {base} is not one of the bundled fonts in fonts/; "
                    "name a bundled family in the layout's CSS")


def _notdef(codes: bytes) -> bool:
    """Whether two-byte ``codes`` show glyph 0: a zero pair at an even offset."""
    at = codes.find(b"\0\0")
    while at >= 0 and at % 2:
        at = codes.find(b"\0\0", at + 1)
    return at >= 0


@rule("glyphs")
def glyphs(s) -> None:
    """A glyph ID 0 (.notdef) prints as an empty box: some character had no glyph."""
    for page in s.pages:
        for text in page.texts:
            font = text.font
            if font is None or font.get("/Subtype") != "/Type0":
                continue
            if _notdef(text.codes):
                s.error(page.number, f"font {str(font.get('/BaseFont', '/?'))[1:]} draws a "
                        "character as an empty box (.notdef): it has no glyph for it; "
                        "use a font that has it")
                break


@rule("text-size")
def text_size(s) -> None:
    variant = s.expected.variant
    # A tiled poster's map shows the poster small; its sheets show it at full size.
    pages = s.pages[1:] if s.expected.tiles else s.pages
    sizes = [(t.size_pt, page.number) for page in pages for t in page.texts if t.codes]
    if sizes:
        smallest, number = min(sizes)
        floor = SMALLEST_PT.get(variant, SMALLEST_PT["desk"])
        if smallest < floor - 0.05:
            s.warn(number, f"smallest text is {smallest:.1f} pt, under {floor:g} pt is hard to "
                   "read in print; enlarge it in the layout's CSS")
    if variant != "press":
        return
    for page in s.pages:
        for t in page.texts:
            if t.codes and t.size_pt < PURE_K_BELOW_PT and t.fill != PURE_K:
                space, values = t.fill
                s.error(page.number, f"{t.size_pt:.1f} pt text in {space} "
                        f"{' '.join(f'{v:g}' for v in values)}; press text under 12 pt must "
                        "be pure K (device-cmyk(0 0 0 1)): use var(--ink)")
                return


# --- pictures, colour, lines ----------------------------------------------------------


@rule("image-ppi")
def image_ppi(s) -> None:
    if s.expected.variant == "screen":
        return
    factor = READING_CM / max(s.expected.viewing_cm, READING_CM)
    error_at, warn_at = PPI_ERROR * factor, PPI_WARN * factor
    for page in s.pages:
        for image in page.images:
            if image.width_pt <= 0 or image.height_pt <= 0:
                continue
            ppi = min(image.width_px / (image.width_pt / 72),
                      image.height_px / (image.height_pt / 72))
            what = (f"an image of {image.width_px}×{image.height_px} px prints at "
                    f"{ppi:.0f} ppi")
            if ppi < error_at:
                s.error(page.number, f"{what}, under {error_at:.0f}: it will look blurred; "
                        "use a larger image or print it smaller")
            elif ppi < warn_at:
                s.warn(page.number, f"{what}, under {warn_at:.0f}; a larger image would "
                       "print sharper")


@rule("colour")
def colour(s) -> None:
    exp = s.expected
    if exp.variant == "screen":
        for page in s.pages:
            if "DeviceCMYK" in page.spaces:
                s.warn(page.number, "CMYK colour in a screen file shows differently on "
                       "every screen; use RGB (the screen variant's colours)")
                return
        return
    if exp.variant != "press":
        return
    declared = exp.pdfx or pdfx_version(s.pdf)
    version = s.pdfx_version()
    if declared and version is None:
        s.error(None, f"{declared} without a PDF/X output intent: the printer cannot tell "
                "which press the colours are for; rebuild the press file with pamphleteer")
    elif declared and version != declared:
        s.error(None, f"the file says {version}, the manifest {declared}; rebuild it")
    for page in s.pages:
        rgb = {"DeviceRGB", "CalRGB", "Lab"} & (page.spaces | {i.space for i in page.images})
        if rgb:
            s.error(page.number, f"{', '.join(sorted(rgb))} colour in a press file; use "
                    "device-cmyk() colours in the layout's CSS and CMYK images")
        over = [values for space, values in page.colours
                if space == "DeviceCMYK" and ink_total(values) > exp.ink_limit]
        if over:
            worst = max(over, key=ink_total)
            s.error(page.number, f"CMYK {' '.join(f'{v:g}' for v in worst)} lays down "
                    f"{ink_total(worst):g} % ink, over the {exp.ink_limit:g} % limit; "
                    "lighten it in the layout's CSS, or raise print.ink_limit_pct if the "
                    "printer allows")
        if version and "X-1" in version and page.transparency:
            s.error(page.number, f"transparency ({page.transparency[0]}) in a PDF/X-1a "
                    "file; build with --pdfx x1a, which flattens it")


@rule("black-only")
def black_only(s) -> None:
    """A mono file is for a copier or laser printer in black alone, a riso file's every
    page a drum's master, black being full ink on that drum. Any other colour one paints
    or declares (RGB, CMYK, Lab, a spot ink) is greyed by a driver, by rules nobody
    chose, and says the file was not made for one ink."""
    what = {"mono": "a black-only (mono) file", "riso": "a riso drum's master"}
    if s.expected.variant not in what:
        return
    for page in s.pages:
        resources = s.pdf.pages[page.number - 1].obj.get("/Resources", pikepdf.Dictionary())
        declared = {space_family(space, resources)
                    for space in resources.get("/ColorSpace", {}).values()}
        found = (page.spaces | declared | {i.space for i in page.images}) - GREY_SPACES
        if found:
            s.error(page.number, f"{', '.join(sorted(found))} colour in "
                    f"{what[s.expected.variant]}; rebuild it with pamphleteer, which makes "
                    "every colour grey")
            return


@rule("hairlines")
def hairlines(s) -> None:
    for page in s.pages:
        widths = [p.line_pt for p in page.paints if p.line_pt is not None]
        thinnest = min(widths, default=HAIRLINE_WARN_PT)
        if thinnest >= HAIRLINE_WARN_PT - 1e-3:
            continue
        message = (f"a line {thinnest:.3f} pt thin may not print (or print unevenly); "
                   f"make it at least {HAIRLINE_WARN_PT:g} pt in the layout's CSS")
        if thinnest < HAIRLINE_FAIL_PT:
            s.error(page.number, message)
        else:
            s.warn(page.number, message)


@rule("bleed")
def bleed(s) -> None:
    """Where a background touches the trim, it must go on into the bleed: a guillotine
    never cuts exactly, and a background that stops at the trim leaves a white sliver."""
    if s.expected.variant != "press" or s.expected.bleed_mm <= 0:
        return
    inside_mm, outside_mm = 0.8, min(2.0, s.expected.bleed_mm * 0.7)
    for number, (trim, image, to_px) in enumerate(s.renderings(BLEED_DPI), 1):
        pixel = image.load()  # half of getpixel's cost, over thousands of samples a page
        x0, y0, x1, y1 = trim
        edges = {  # sample points just inside and just outside each edge of the trim
            "left": [((x0 + inside_mm, y), (x0 - outside_mm, y)) for y in _steps(y0, y1)],
            "right": [((x1 - inside_mm, y), (x1 + outside_mm, y)) for y in _steps(y0, y1)],
            "bottom": [((x, y0 + inside_mm), (x, y0 - outside_mm)) for x in _steps(x0, x1)],
            "top": [((x, y1 - inside_mm), (x, y1 + outside_mm)) for x in _steps(x0, x1)],
        }
        for edge, pairs in edges.items():
            painted = [outside for inside, outside in pairs
                       if _inked(pixel[to_px(*inside)])]
            bare = [o for o in painted if not _inked(pixel[to_px(*o)])]
            if len(bare) > max(2, 0.05 * len(pairs)):
                s.error(number, f"a background touches the {edge} edge of the trim but "
                        f"stops there: extend it {s.expected.bleed_mm:g} mm into the bleed "
                        "(use var(--bleed) in the layout's CSS)")


def _steps(start: float, end: float, step_mm: float = 1.0) -> list[float]:
    count = max(int((end - start) / step_mm), 1)
    return [start + (end - start) * (i + 0.5) / count for i in range(count)]


def _inked(pixel) -> bool:
    values = pixel if isinstance(pixel, tuple) else (pixel,)
    return min(values[:3]) < PAPER


@rule("accessibility")
def accessibility(s) -> None:
    if s.expected.variant != "screen":
        return
    root = s.pdf.Root
    if "/StructTreeRoot" not in root or not root.get("/MarkInfo", {}).get("/Marked", False):
        s.error(None, "no structure tree (not a tagged PDF): screen readers cannot read it "
                "in order; build the screen variant with pamphleteer")
    if not str(root.get("/Lang", "")).strip():
        s.error(None, "no document language (/Lang): set lang in the article's front matter")
    title = str(s.pdf.docinfo.get("/Title", "")).strip()
    if not title or not root.get("/ViewerPreferences", {}).get("/DisplayDocTitle", False):
        s.error(None, "the title is not shown as the window title: set title in the "
                "article's front matter")
    for element in _struct_elements(s, root.get("/StructTreeRoot")):
        if element.get("/S") == "/Figure" and not str(element.get("/Alt", "")).strip():
            s.error(None, "an image has no alt text: write what it shows in "
                    "![alt text](image.png)")
            break


def _struct_elements(s, root) -> Iterator[pikepdf.Dictionary]:
    """The structure tree's elements. Each has one parent: one met twice means the tree
    loops (or fans out to the same elements again and again), and a screen reader
    following it would never finish."""
    seen, nodes = set(), [root]
    while nodes:
        s.deadline.check()
        node = nodes.pop()
        kids = node.get("/K") if isinstance(node, pikepdf.Dictionary) else None
        if isinstance(kids, pikepdf.Dictionary):
            kids = [kids]
        for kid in kids if isinstance(kids, pikepdf.Array | list) else []:
            if not isinstance(kid, pikepdf.Dictionary) or "/S" not in kid:
                continue
            if kid.is_indirect:  # a direct one is written once, inside its parent
                if kid.objgen in seen:
                    raise Malformed("the structure tree loops: an element is met twice")
                seen.add(kid.objgen)
            yield kid
            nodes.append(kid)


# --- active content -------------------------------------------------------------------

ACTIVE = {  # action type -> what it is, for active-content
    "/JavaScript": "JavaScript, which a PDF reader runs when the file is opened or clicked",
    "/Launch": "a Launch action, which starts a program or opens a file on the reader's "
               "computer",
    "/SubmitForm": "a SubmitForm action, which sends data to a web address",
    "/ImportData": "an ImportData action, which reads data from another file",
    "/GoToR": "a GoToR action, which opens another PDF file",
    "/GoToE": "a GoToE action, which opens a PDF embedded in another file",
}
EMBEDDED = "an embedded file (an attachment)"


@rule("active-content")
def active_content(s) -> None:
    """Nothing that runs or reaches outside the file: a pamphlet is printed and handed
    round, and printers' preflight rejects such a file as readers warn of it."""
    kinds = {}  # one finding per kind, in the order found
    for item in _dictionaries(s):
        script = "/JS" in item or "/JavaScript" in item  # an action's, the names' tree
        action = "/JavaScript" if script else str(item.get("/S", ""))
        if action in ACTIVE:
            kinds[ACTIVE[action]] = True
        if ("/EF" in item or "/AF" in item or "/EmbeddedFiles" in item
                or item.get("/Subtype") == "/FileAttachment"):
            kinds[EMBEDDED] = True
    for kind in kinds:
        s.error(None, f"the file carries {kind}; a file to print and hand round must carry "
                "nothing that runs or reaches outside it: remove it, or export the PDF "
                "again without scripts, actions or attachments")


def _dictionaries(s) -> Iterator[pikepdf.Object]:
    """Every dictionary in the file: each object's, and those written inside it. A sweep
    of the objects, not a walk from the catalog: it follows no reference, so no loop
    traps it, and it finds what sits where a walk would not look (an orphan included)."""
    for obj in s.deadline.each(s.pdf.objects):
        inside = [obj]
        while inside:
            s.deadline.check()
            item = inside.pop()
            if isinstance(item, pikepdf.Dictionary | pikepdf.Stream):
                yield item
                children = item.values()
            elif isinstance(item, pikepdf.Array):
                children = item
            else:
                continue
            inside += [c for c in children if isinstance(c, pikepdf.Dictionary | pikepdf.Array)
                       and not c.is_indirect]  # an indirect one is swept as an object


# --- die-cut stickers -----------------------------------------------------------------


CUT_TOLERANCE_MM = 0.3  # how far the die line may lie from the TrimBox


@rule("cut-contour")
def cut_contour(s) -> None:
    """A die-cut file's cut: on every page, a closed path stroked in the ``CutContour``
    spot colour at 100 %, overprinting, along the trim and inside the bleed. A die-cutter
    finds the cut by that name alone; without it the sticker is not cut, or cut square."""
    if not s.expected.cut:
        return
    for number, page in enumerate(s.deadline.each(s.pdf.pages), 1):
        cuts = list(_cut_paths(page))
        if not cuts:
            s.error(number, "no cut path: a die-cut sticker needs its cut line stroked in "
                    "a Separation named CutContour; rebuild it with pamphleteer")
            continue
        trim, bleed = box_mm(page, "/TrimBox"), box_mm(page, "/BleedBox") or box_mm(
            page, "/MediaBox")
        for path in cuts:
            if not path["closed"]:
                s.error(number, "the CutContour path is open: the die would not cut the "
                        "sticker free; close the path")
            if path["tint"] != 1.0 or not path["overprint"]:
                s.error(number, f"the CutContour line is at {path['tint'] * 100:g} % tint"
                        f"{'' if path['overprint'] else ', without overprint'}: it must be "
                        "100 %, overprinting, or the cut shows on the sticker")
            x0, y0, x1, y1 = path["box_mm"]
            if bleed and (x0 < bleed[0] or y0 < bleed[1] or x1 > bleed[2] or y1 > bleed[3]):
                s.error(number, "the CutContour path runs outside the bleed; it must follow "
                        "the trim")
            elif trim and max(abs(a - b) for a, b in zip(path["box_mm"], trim,
                                                         strict=True)) > CUT_TOLERANCE_MM:
                s.warn(number, "the CutContour path does not follow the TrimBox; the "
                       "sticker is cut elsewhere than its art expects")


def _cut_paths(page: pikepdf.Page) -> Iterator[dict]:
    """The paths a page's own content strokes in a Separation named CutContour, each with
    its tint, overprint, closure and bounds (mm). The die line is drawn at the page's top
    level, never inside a form: it is added after the art."""
    resources = page.obj.get("/Resources", pikepdf.Dictionary())
    spaces, states = resources.get("/ColorSpace", {}), resources.get("/ExtGState", {})
    stack, points, closed = [], [], False
    space, tint, overprint, ctm = None, None, False, (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op == "q":
            stack.append((space, tint, overprint, ctm))
        elif op == "Q" and stack:
            space, tint, overprint, ctm = stack.pop()
        elif op == "cm":
            a, b, c, d, e, f = (float(v) for v in operands)
            p = ctm
            ctm = (a * p[0] + b * p[2], a * p[1] + b * p[3], c * p[0] + d * p[2],
                   c * p[1] + d * p[3], e * p[0] + f * p[2] + p[4], e * p[1] + f * p[3] + p[5])
        elif op == "CS":
            found = spaces.get(str(operands[0]), operands[0])
            space = (str(found[1]) if isinstance(found, pikepdf.Array) and len(found) > 1
                     and str(found[0]) == "/Separation" else None)
            tint = None
        elif op in ("SC", "SCN") and operands:
            tint = float(operands[0])
        elif op == "gs":
            state = states.get(str(operands[0]), {})
            overprint = bool(state.get("/OP", overprint))
        elif op in ("m", "l", "c", "v", "y", "re"):
            values = [float(v) for v in operands]
            if op == "m":
                points, closed = [], False
            if op == "re":
                x, y, w, h = values
                values, closed = [x, y, x + w, y + h], True
            points += [(ctm[0] * values[i] + ctm[2] * values[i + 1] + ctm[4],
                        ctm[1] * values[i] + ctm[3] * values[i + 1] + ctm[5])
                       for i in range(0, len(values), 2)]
        elif op == "h":
            closed = True
        elif op in ("S", "s", "b", "B", "b*", "B*", "f", "F", "f*", "n"):
            if op in ("S", "s") and space == "/CutContour" and points:
                xs, ys = [p[0] for p in points], [p[1] for p in points]
                ends_meet = abs(xs[0] - xs[-1]) < 0.01 and abs(ys[0] - ys[-1]) < 0.01
                yield {"closed": closed or op == "s" or ends_meet, "tint": tint,
                       "overprint": overprint,
                       "box_mm": tuple(v / PT_PER_MM for v in (min(xs), min(ys),
                                                               max(xs), max(ys)))}
            points, closed = [], False


# --- risograph separations --------------------------------------------------------------


@rule("riso-ink")
def riso_ink(s) -> None:
    """Where a riso drum inks: never within its margin of the paper's edge, which the
    machine grips, and no flat area past 85 %, which smears and may jam the drum. Type
    at 100 % is fine: a square of ``RISO_SOLID_MM`` averages far less over its strokes,
    unless they are that wide (a placard's slogan, which takes ``--ink-solid``)."""
    from PIL import ImageFilter

    from pamphleteer.riso import MARGIN_MM, MAX_TINT

    if s.expected.variant != "riso":
        return
    slack_mm = 25.4 / RISO_DPI  # a pixel, for the edge of a background drawn at the margin
    window = round(RISO_SOLID_MM / 2 * RISO_DPI / 25.4)
    for number, (trim, image, to_px) in enumerate(s.renderings(RISO_DPI), 1):
        grey = image.convert("L")
        x0, y0, x1, y1 = trim
        inner = (x0 + MARGIN_MM - slack_mm, y0 + MARGIN_MM - slack_mm,
                 x1 - MARGIN_MM + slack_mm, y1 - MARGIN_MM + slack_mm)
        (left, top), (right, bottom) = to_px(inner[0], inner[3]), to_px(inner[2], inner[1])
        strips = {"top": (0, 0, grey.width, top), "bottom": (0, bottom, grey.width, grey.height),
                  "left": (0, 0, left, grey.height), "right": (right, 0, grey.width, grey.height)}
        inked = [edge for edge, box in strips.items()
                 if box[2] > box[0] and box[3] > box[1] and grey.crop(box).getextrema()[0] < PAPER]
        if inked:
            s.error(number, f"ink within {MARGIN_MM:g} mm of the paper's {' and '.join(inked)} "
                    "edge, where a risograph grips the sheet and cannot print; keep "
                    "backgrounds to var(--edge) in the layout's CSS")
        darkest = 1 - grey.filter(ImageFilter.BoxBlur(window)).getextrema()[0] / 255
        if darkest > MAX_TINT + 0.005:
            s.error(number, f"a flat area of {darkest:.0%} ink ({RISO_SOLID_MM:g} mm square or "
                    f"more): a riso drum smears and may jam past {MAX_TINT:.0%}; lay it at "
                    "85 % (var(--ink-solid) for type so large) in the layout's CSS")
