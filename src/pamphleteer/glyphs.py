"""Which characters the bundled fonts can draw.

Checked before rendering, so a character no bundled font has stops the build with a
message naming it, instead of a blank box in print (or, without our fontconfig
isolation, a silent fallback to whatever font the machine has).
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from pamphleteer import contain
from pamphleteer.errors import ContentError, RenderError

#: Characters the renderer handles without drawing a glyph.
_INVISIBLE = {"Zs", "Zl", "Zp", "Cf", "Mn", "Me", "Cc"}


def font_files(fonts_dir: Path) -> list[Path]:
    """The font files in a fonts folder, in a stable order (none reached through a
    symlink that leads out of it: see ``contain``)."""
    return sorted(p for p in contain.files_below(fonts_dir)
                  if p.suffix.lower() in (".ttf", ".otf"))


def bundled_font(fonts_dir: Path, preferred: tuple[str, ...], suffixes: tuple[str, ...],
                 purpose: str) -> Path:
    """The first of ``preferred`` (paths in ``fonts_dir``) there is, else the folder's first
    font ending in one of ``suffixes``: a bundled font, never a system one, so what is
    drawn with it looks the same on every machine."""
    candidates = [fonts_dir / p for p in preferred if (fonts_dir / p).is_file()]
    candidates += [p for p in font_files(fonts_dir) if p.suffix.lower() in suffixes]
    if not candidates:
        raise RenderError(f"{fonts_dir}: no {' or '.join(suffixes)} font to {purpose} with; "
                          "add one to the fonts folder")
    return candidates[0]


@cache
def coverage(fonts_dir: Path) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    codepoints: set[int] = set()
    for path in font_files(fonts_dir):
        with TTFont(path, lazy=True) as font:
            codepoints.update(font.getBestCmap() or {})
    return frozenset(codepoints)


@cache
def family_coverage(fonts_dir: Path) -> dict[str, frozenset[int]]:
    """What each bundled family can draw, by its lower-cased family names."""
    from fontTools.ttLib import TTFont

    families: dict[str, set[int]] = {}
    for path in font_files(fonts_dir):
        with TTFont(path, lazy=True) as font:
            names = {font["name"].getDebugName(i) for i in (1, 16)} - {None}
            cmap = font.getBestCmap() or {}
        for name in names:
            families.setdefault(name.lower(), set()).update(cmap)
    return {name: frozenset(points) for name, points in families.items()}


def drawable(ch: str, codepoints: frozenset[int]) -> bool:
    return ord(ch) in codepoints or unicodedata.category(ch) in _INVISIBLE


def check_coverage(texts: dict[str, str], fonts_dir: Path) -> None:
    """Raise ``ContentError`` for the first character no bundled font can draw.

    ``texts`` maps where a text comes from (e.g. ``slogans.md:3``) to the text.
    """
    covered = coverage(fonts_dir)
    for where, text in texts.items():
        for ch in text:
            if drawable(ch, covered):
                continue
            name = unicodedata.name(ch, "unnamed")
            snippet = text.strip().replace("\n", " ")
            if len(snippet) > 60:
                at = snippet.find(ch)
                snippet = "…" + snippet[max(0, at - 25): at + 25] + "…"
            raise ContentError(
                f"{where}: no bundled font can draw {ch!r} (U+{ord(ch):04X} {name}) "
                f"in {snippet!r}; replace it, or add a font that has it to fonts/ "
                "(see fonts/README.md)"
            )
