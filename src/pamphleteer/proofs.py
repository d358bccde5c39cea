"""Finished PDFs -> PNG proofs of every page, and a contact sheet of the kit drawn to scale.

Proofs are rendered from the very PDFs a printer gets (with pdfium), never from the HTML,
so what a designer looks at is what will print. Each output's proofs live in
``proofs/<pdf stem>/page-NNN.png`` with a small ``proofs.json`` recording the PDF's
digest, the resolution and each page's boxes: an unchanged PDF is not rendered again, and
of a changed one only the pages whose pixels changed are encoded and rewritten.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from pamphleteer.errors import RenderError
from pamphleteer.outputs import read_json, sha256_file, write_atomic
from pamphleteer.riso import label_ink
from pamphleteer.units import PT_PER_MM

DEFAULT_DPI = 72
PROOFS = "proofs"
INDEX = "proofs.json"
CONTACT_SHEET = "contact-sheet.png"


@dataclass(frozen=True)
class Page:
    """One page's proof, and where the page's boxes lie on it (mm from the top left)."""

    png: str  # path relative to the proofs folder, e.g. "poster-a3-press/page-001.png"
    digest: str  # sha256 of the rendered pixels: the proof's identity, for cache-busting
    width_px: int
    height_px: int
    media_mm: tuple[float, float]
    trim_mm: tuple[float, float, float, float]  # x, y, width, height
    bleed_mm: tuple[float, float, float, float]
    label: str = ""  # what the page is, where not its number: a riso page's ink, a composite


def _box_mm(box: tuple[float, ...], media_top: float) -> tuple[float, float, float, float]:
    """A PDF box (left, bottom, right, top in pt) as x, y, width, height in mm from the
    page's top left, the way an image is addressed."""
    left, bottom, right, top = box
    return (round(left / PT_PER_MM, 2), round((media_top - top) / PT_PER_MM, 2),
            round((right - left) / PT_PER_MM, 2), round((top - bottom) / PT_PER_MM, 2))


def render_proofs(pdf: Path, proofs_dir: Path, dpi: float = DEFAULT_DPI) -> list[Page]:
    """Proofs of every page of ``pdf`` in ``proofs_dir/<stem>/``; return them in order.

    Nothing is rendered when the PDF and ``dpi`` are as last time. Otherwise each page is
    rendered, but encoded and written only when its pixels differ from its old proof: a
    slogan edit rewrites one placard page, not all of them.
    """
    import pypdfium2 as pdfium

    if pdf.suffix == ".png":
        return [_image_proof(pdf, proofs_dir, dpi)]
    folder = proofs_dir / pdf.stem
    sha = sha256_file(pdf)
    old = read_json(folder / INDEX)
    if old.get("pdf_sha256") == sha and old.get("dpi") == dpi:
        try:
            pages = [Page(**{**p, "media_mm": tuple(p["media_mm"]),
                             "trim_mm": tuple(p["trim_mm"]), "bleed_mm": tuple(p["bleed_mm"])})
                     for p in old["pages"]]
            if all((proofs_dir / p.png).is_file() for p in pages):
                return pages
        except (KeyError, TypeError):
            pass
    old_digests = {p.get("png"): p.get("digest") for p in old.get("pages", [])
                   if isinstance(p, dict)}
    pages = []
    drums: dict[int, list[tuple[str, object]]] = {}  # a riso file's separations, by page
    try:
        document = pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError as e:
        raise RenderError(f"{pdf}: cannot read it to render proofs ({e}); rebuild it") from e
    try:
        for number, page in enumerate(document, 1):
            bitmap = page.render(scale=dpi / 72)
            image = bitmap.to_pil().convert("RGB")
            media = page.get_mediabox()
            label = document.get_page_label(number - 1) or ""
            if separation := label_ink(label):
                drums.setdefault(separation[0], []).append((separation[1], image))
            pages.append(_write(f"{pdf.stem}/page-{number:03d}.png", image, proofs_dir,
                                old_digests, (round((media[2] - media[0]) / PT_PER_MM, 2),
                                                    round((media[3] - media[1]) / PT_PER_MM, 2)),
                                _box_mm(page.get_trimbox(), media[3]),
                                _box_mm(page.get_bleedbox(), media[3]), label))
            page.close()
    finally:
        document.close()
    # A riso file: after its pages, each design page's drums printed over each other
    # (its pages are all of one size: preflight's boxes rule sees to that)
    for number, inked in drums.items():
        pages.append(_write(f"{pdf.stem}/composite-{number:03d}.png", composite(inked),
                            proofs_dir, old_digests, pages[0].media_mm, pages[0].trim_mm,
                            pages[0].bleed_mm, f"{number} composite"))
    for stale in (*folder.glob("page-*.png"), *folder.glob("composite-*.png")):
        if f"{pdf.stem}/{stale.name}" not in {p.png for p in pages}:
            stale.unlink(missing_ok=True)
    index = {"pdf_sha256": sha, "dpi": dpi, "pages": [asdict(p) for p in pages]}
    write_atomic(folder / INDEX, json.dumps(index, indent=1).encode())
    return pages


def _write(name: str, image, proofs_dir: Path, old_digests: dict, *boxes) -> Page:
    """``image`` as the proof ``name``, written only if its pixels changed."""
    digest = hashlib.sha256(image.tobytes()).hexdigest()
    if old_digests.get(name) != digest or not (proofs_dir / name).is_file():
        buffer = io.BytesIO()
        image.save(buffer, "PNG", compress_level=1)  # speed over size: proofs are local
        write_atomic(proofs_dir / name, buffer.getvalue())
    return Page(name, digest, image.width, image.height, *boxes)


def composite(drums: list[tuple[str, object]]):
    """A risograph print of one page, as near as a screen shows it: each drum's
    separation (RGB, grey) in its ink's display colour, linearly from the paper (white)
    to the full ink (black), the drums multiplied over each other as inks overprint."""
    from PIL import Image, ImageChops

    from pamphleteer.riso import INKS, PAPER_RGB

    result = None
    for ink, image in drums:
        grey = image.convert("L")
        tinted = Image.merge("RGB", [grey.point(lambda v, i=i, p=p: round(i + (p - i) * v / 255))
                                     for i, p in zip(INKS[ink], PAPER_RGB, strict=True)])
        result = tinted if result is None else ImageChops.multiply(result, tinted)
    return result


def render_all(out_dir: Path, files: list[str], dpi: float = DEFAULT_DPI,
               on_proof: Callable[[str, list[Page], int, int], None] | None = None,
               ) -> dict[str, list[Page]]:
    """Proofs of the outputs ``files`` (names in ``out_dir``), into ``out_dir/proofs``."""
    proofs = {}
    for index, file in enumerate(files, 1):
        proofs[file] = render_proofs(out_dir / file, out_dir / PROOFS, dpi)
        if on_proof:
            on_proof(file, proofs[file], index, len(files))
    return proofs


# --- the contact sheet ----------------------------------------------------------------

SHEET_PX_PER_MM = 1.4  # every tile at this one scale, so sizes compare at a glance
SHEET_WIDTH_PX = 2600
MARGIN_PX, GAP_PX, LABEL_PX, HEADING_PX = 48, 28, 15, 34
HEADING_BLOCK_PX = HEADING_PX + 44  # a layout's name, with room above and below
BACKGROUND, TILE_EDGE, INK, QUIET = "#ecebe8", "#b9b7b1", "#1d1d1b", "#6b6a66"
#: Label faces, tried in order within the project's fonts folder; else its first font.
TEXT_FONTS = ("charis-sil/CharisSIL-Regular.ttf",)
HEADING_FONTS = ("bebas-neue/BebasNeue-Regular.otf",)


def _font(fonts_dir: Path, preferred: tuple[str, ...], size: int):
    """A bundled font, never a system one: the sheet looks the same on every machine."""
    from PIL import ImageFont

    from pamphleteer.glyphs import bundled_font

    path = bundled_font(fonts_dir, preferred, (".ttf", ".otf"), "label the contact sheet")
    return ImageFont.truetype(str(path), size)


@dataclass
class _Tile:
    file: str
    layout: str
    image: object  # PIL image of the trimmed first page
    label: str
    width: int  # the tile's column: the page or its label, whichever is wider


def _image_proof(png: Path, proofs_dir: Path, dpi: float) -> Page:
    """The proof of an image output (a social card): the image itself at ``dpi``, its
    pixels taken as CSS px (96 to the inch), as the layout set them."""
    from PIL import Image

    with Image.open(png) as image:
        scale = dpi / 96
        proof = image.convert("RGB").resize((max(1, round(image.width * scale)),
                                             max(1, round(image.height * scale))))
        size_mm = (round(image.width * 25.4 / 96, 2), round(image.height * 25.4 / 96, 2))
    name = f"{png.stem}/page-001.png"
    digest = hashlib.sha256(proof.tobytes()).hexdigest()
    buffer = io.BytesIO()
    proof.save(buffer, "PNG", compress_level=1)
    write_atomic(proofs_dir / name, buffer.getvalue())
    box = (0.0, 0.0, *size_mm)
    return Page(name, digest, proof.width, proof.height, size_mm, box, box)


def _first_page_trimmed(pdf: Path):
    """The first page cut to its trim (no slug, marks or bleed), at the sheet's scale."""
    import pypdfium2 as pdfium

    if pdf.suffix == ".png":  # an image output: its pixels are CSS px
        from PIL import Image

        with Image.open(pdf) as image:
            scale = SHEET_PX_PER_MM * 25.4 / 96
            size_mm = (image.width * 25.4 / 96, image.height * 25.4 / 96)
            return image.convert("RGB").resize((round(image.width * scale),
                                                round(image.height * scale))), size_mm

    document = pdfium.PdfDocument(pdf)
    try:
        page = document[0]
        media, trim = page.get_mediabox(), page.get_trimbox()
        crop = (trim[0] - media[0], trim[1] - media[1], media[2] - trim[2], media[3] - trim[3])
        image = page.render(scale=SHEET_PX_PER_MM * 25.4 / 72, crop=crop).to_pil()
        size_mm = ((trim[2] - trim[0]) / PT_PER_MM, (trim[3] - trim[1]) / PT_PER_MM)
        page.close()
        return image.convert("RGB"), size_mm
    finally:
        document.close()


def contact_sheet(out_dir: Path, outputs: list[tuple[str, str]], fonts_dir: Path) -> Path:
    """``proofs/contact-sheet.png``: each output's first page, to one scale, in rows by
    layout, labelled with its file name and trim size. ``outputs`` are (file, layout)."""
    from PIL import Image, ImageDraw

    text = _font(fonts_dir, TEXT_FONTS, LABEL_PX)
    heading = _font(fonts_dir, HEADING_FONTS, HEADING_PX)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    tiles = []
    for file, layout in sorted(outputs, key=lambda o: (o[1], o[0])):
        image, (w_mm, h_mm) = _first_page_trimmed(out_dir / file)
        label = f"{file}\n{round(w_mm, 1):g} × {round(h_mm, 1):g} mm"
        box = measure.multiline_textbbox((0, 0), label, font=text, spacing=4)
        tiles.append(_Tile(file, layout, image, label, max(image.width, box[2])))

    label_h = 2 * LABEL_PX + 4 + 10
    rows: list[tuple[str | None, list[_Tile]]] = []  # (heading or None, tiles)
    for tile in tiles:
        row = rows[-1][1] if rows else None
        used = sum(t.width + GAP_PX for t in row) if row else 0
        if row is None or row[0].layout != tile.layout:
            rows.append((tile.layout, [tile]))
        elif MARGIN_PX + used + tile.width > SHEET_WIDTH_PX - MARGIN_PX:
            rows.append((None, [tile]))
        else:
            row.append(tile)
    width = max(MARGIN_PX * 2 + sum(t.width + GAP_PX for t in r) - GAP_PX for _, r in rows)
    width = max(width, SHEET_WIDTH_PX)
    height = MARGIN_PX + sum(
        (HEADING_BLOCK_PX if title else 0) + max(t.image.height for t in r) + label_h + GAP_PX
        for title, r in rows) + MARGIN_PX - GAP_PX

    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    y = MARGIN_PX
    for title, row in rows:
        if title:
            draw.text((MARGIN_PX, y + HEADING_BLOCK_PX - HEADING_PX - 16), title.upper(),
                      font=heading, fill=INK)
            y += HEADING_BLOCK_PX
        bottom = y + max(t.image.height for t in row)  # pages stand on one line
        x = MARGIN_PX
        for tile in row:
            top = bottom - tile.image.height
            draw.rectangle((x - 1, top - 1, x + tile.image.width, bottom), outline=TILE_EDGE)
            sheet.paste(tile.image, (x, top))
            draw.multiline_text((x, bottom + 8), tile.label, font=text, fill=QUIET, spacing=4)
            x += tile.width + GAP_PX
        y = bottom + label_h + GAP_PX
    buffer = io.BytesIO()
    sheet.save(buffer, "PNG")
    path = out_dir / PROOFS / CONTACT_SHEET
    write_atomic(path, buffer.getvalue())
    return path
