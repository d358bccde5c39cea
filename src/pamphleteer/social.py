"""Social cards: the laid-out pages of an image variant as PNGs, with their alt text.

A card's page is W × H CSS px (the layout's size in mm at 96 px to the inch), drawn by
PDFium at 96/72 of its size in pt, so the bitmap is exactly W × H pixels. Each PNG is
sRGB, carries its alt text in a ``Description`` text chunk (iTXt when the text is not
Latin-1), has no timestamp, and is compressed as ``PNG_OPTIONS`` says; ``social/alt.json``
lists every card's alt text, for the posts that need it typed in.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from pamphleteer.content import plain
from pamphleteer.errors import RenderError
from pamphleteer.outputs import IMAGE_FOLDER, write_atomic

if TYPE_CHECKING:
    from pamphleteer.content import Content
    from pamphleteer.pipeline import Output
    from pamphleteer.targets import Target

MAX_BYTES = 300 * 1024  # what every platform takes without recompressing it
# zlib's default level, matching runs of bytes only: see ``png``
PNG_OPTIONS = {"compress_level": 6, "compress_type": zlib.Z_RLE}
ALT_FILE = "alt.json"
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def _words(html: str) -> str:
    return " ".join(plain(html).split())


def alt_texts(content: Content) -> list[str]:
    """Each card's alt text, in page order: the headline and the standfirst's first
    sentence, then each slogan as written."""
    article = content.article
    headline = _words(article.headline or article.title)
    first = _SENTENCE_END.split(_words(article.standfirst), maxsplit=1)[0]
    head = f"{headline} {first}".strip() if first else headline
    return [head, *(" ".join(s.text.split()) for s in content.slogans)]


def write_alt_texts(out_dir: Path, content: Content) -> None:
    """``social/alt.json``: {card: alt text}, the same for every size of a card."""
    cards = ["headline", *(f"slogan-{i}" for i in range(1, len(content.slogans) + 1))]
    alt = dict(zip(cards, alt_texts(content), strict=True))
    text = json.dumps({"lang": content.article.lang, "alt": alt}, indent=2,
                      ensure_ascii=False) + "\n"
    write_atomic(out_dir / IMAGE_FOLDER / ALT_FILE, text.encode())


MIN_CONTRAST = 4.5  # WCAG AA for text: a card is read on a dim phone in the street


def _luminance(rgb: tuple[int, ...]) -> float:
    def linear(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """WCAG's contrast ratio of two sRGB colours, 1 to 21."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def legibility(image) -> float:
    """The contrast between a card's background (its commonest colour) and its text
    (the commonest colour that stands out from it), read from the pixels; 1 if blank."""
    small = image.resize((max(1, image.width // 4), max(1, image.height // 4)), 0)
    # as many colours as pixels, so never None: Pillow's table is as large as this bound,
    # and one of 2**20 took 7 ms a card, fifty times the counting
    colours = sorted(small.getcolors(small.width * small.height), reverse=True)
    background = colours[0][1]
    text = next((c for _, c in colours if contrast(c, background) > 2), background)
    return contrast(text, background)


def png(image, description: str) -> bytes:
    """``image`` as an sRGB PNG with ``description`` in its text chunk and nothing that
    changes from one build to the next.

    Encoding is most of a card's cost, and every card of every edition is new. A card
    is flat colour and anti-aliased type: its filtered rows are mostly runs of one
    byte, which zlib's run-length strategy (Z_RLE) packs nearly as well as its default
    one. Measured on an edition's 36 cards: 0.66 s, against 1.03 s for the default
    strategy and 3.35 s for Pillow's ``optimize``, for files 2.5 % and 7 % larger (6 %
    larger than the default's for the plain kit's cards), far under ``MAX_BYTES``. And
    most cards come out of a rebuild pixel for pixel as before (every slogan but the
    edited one). So encodings are kept in the user's cache under a digest of the
    pixels, the text and the encoder's version and options: the same digest gives the
    same bytes.
    """
    import PIL

    from pamphleteer.fitcache import kept

    digest = hashlib.sha256(f"{PIL.__version__}\0{zlib.ZLIB_RUNTIME_VERSION}\0{PNG_OPTIONS}"
                            f"\0{image.mode}"
                            f"\0{image.size}\0{description}\0".encode())
    digest.update(image.tobytes())
    return kept("png", digest.hexdigest(), lambda: _encode(image, description))


def _encode(image, description: str) -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add(b"sRGB", b"\x00")  # perceptual: the pixels are sRGB as they are
    info.add_text("Description", description)  # iTXt (UTF-8) when not Latin-1
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **PNG_OPTIONS, pnginfo=info)
    return buffer.getvalue()


def write_cards(pdfs: list[tuple[bytes, range]], target: Target, content: Content,
                out_dir: Path, output: Output, started: float) -> Output:
    """Rasterize the pages of each document of ``pdfs`` that are the cards given with it
    (page N is card N: the headline's, then each slogan's) to their PNGs, and describe
    them for the manifest: ``output`` is the first card's, ``output.more`` the others."""
    import pypdfium2

    files = target.files(len(content.slogans))
    alts = alt_texts(content)
    width_px = round(target.size.width_mm / 25.4 * 96)
    height_px = round(target.size.height_mm / 25.4 * 96)
    made = []
    for pdf, cards in pdfs:
        document = pypdfium2.PdfDocument(pdf)
        try:
            if len(document) != cards.stop:
                raise RenderError(f"{target.file}: {len(document)} pages for "
                                  f"{cards.stop} cards")
            for index in cards:
                made.append((files[index], _card(document[index], files[index], alts[index],
                                                 width_px, height_px)))
        finally:
            document.close()
    entries = []
    for file, data in made:
        write_atomic(out_dir / file, data)
        entries.append({
            "file": file, "layout": target.layout.name, "size": target.size.name,
            "variant": target.variant.name, "pages": 1,
            "trim_mm": [target.size.width_mm, target.size.height_mm], "bleed_mm": 0.0,
            "format": "png", "width_px": width_px, "height_px": height_px,
            "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
        })
    output.pages = 1
    output.sha256, output.bytes = entries[0]["sha256"], entries[0]["bytes"]
    output.details.update({k: entries[0][k] for k in ("format", "width_px", "height_px")})
    output.more = entries[1:]
    output.seconds = time.perf_counter() - started
    return output


def _card(page, file: str, alt: str, width_px: int, height_px: int) -> bytes:
    """One card's PNG, from its page: exactly its size in px, legible and light enough."""
    # 96/72, a hair under: the page in pt is a float from mm, and a bitmap
    # rounded up from 1350.0000001 px would have a row too many.
    w_pt, h_pt = page.get_size()
    scale = min(width_px / w_pt, height_px / h_pt) * (1 - 1e-7)
    bitmap = page.render(scale=scale, draw_annots=False)
    image = bitmap.to_pil().convert("RGB")
    if image.size != (width_px, height_px):
        raise RenderError(f"{file}: rendered {image.size[0]}×{image.size[1]} px, "
                          f"not {width_px}×{height_px}; give the size in mm as a "
                          "whole number of px × 25.4 / 96")
    if (ratio := legibility(image)) < MIN_CONTRAST:
        raise RenderError(f"{file}: the text contrasts {ratio:.1f}:1 with its "
                          f"background, under the {MIN_CONTRAST:g}:1 a phone in "
                          "daylight needs (or the card is blank); darken the "
                          "layout's --accent, or lighten its text")
    data = png(image, alt)
    if len(data) > MAX_BYTES:
        raise RenderError(f"{file}: {len(data) // 1024} KiB, over the "
                          f"{MAX_BYTES // 1024} KiB a card may weigh; flatten the "
                          "layout's colours (no gradients or photos)")
    return data
