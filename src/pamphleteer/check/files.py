"""Which PDFs ``pamphleteer check`` reads, and what each must be.

A file the build made is judged by its manifest entry (declared size, page rule, safe
zone). Any other PDF is judged by what it says of itself: its variant from its name or
its features, its size from its own TrimBox.
"""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf

from pamphleteer.check import Expected, Finding, run
from pamphleteer.errors import UsageError
from pamphleteer.outputs import MANIFEST, Manifest

VARIANT_SUFFIXES = ("press", "desk", "screen", "mono", "riso")
DIE_CUT_BLEED_MM = 2.0


def expected_from_entry(entry: dict, ink_limit: float) -> Expected:
    rule = entry.get("page_rule")
    return Expected(
        variant=entry.get("variant", "desk"),
        trim_mm=tuple(entry["trim_mm"]),
        bleed_mm=float(entry.get("bleed_mm", 0.0)),
        page_rule=rule,
        pages=entry.get("pages") if rule in ("fixed", "per-slogan", "headline-and-slogans")
        else None,
        safe_mm=float(entry.get("safe_mm", 5.0)),
        viewing_cm=float(entry.get("viewing_cm", 30.0)),
        ink_limit=ink_limit,
        pdfx=entry.get("pdfx"),
        cut=isinstance(entry.get("cut"), dict),
        tiles="tiled_from" in entry,
    )


def infer_expected(path: Path, data: bytes, bleed_mm: float, ink_limit: float) -> Expected:
    """For a PDF with no manifest entry: judge it by its name, else by its features."""
    variant = next((v for v in VARIANT_SUFFIXES if path.stem.endswith(f"-{v}")), None)
    cut = tiles = False
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if variant is None:
                variant = ("press" if "/OutputIntents" in pdf.Root
                           else "screen" if "/StructTreeRoot" in pdf.Root else "desk")
            cut, tiles = _has_cut(pdf), _has_tiles(pdf)
    except (pikepdf.PdfError, pikepdf.PasswordError):
        variant = variant or "desk"  # it does not open: run() says why
    if cut:  # a die-cut file: sticker printers ask 2 mm past the cut line
        bleed_mm = min(bleed_mm, DIE_CUT_BLEED_MM)
    return Expected(variant=variant, bleed_mm=bleed_mm if variant == "press" else 0.0,
                    ink_limit=ink_limit, cut=cut, tiles=tiles)


def _has_cut(pdf: pikepdf.Pdf) -> bool:
    """Whether any page names a CutContour spot colour: then it is a die-cut file, and
    every page needs its cut line."""
    for page in pdf.pages[:1000]:
        spaces = page.obj.get("/Resources", {}).get("/ColorSpace", {})
        if not isinstance(spaces, pikepdf.Dictionary):
            continue
        for space in spaces.values():
            if (isinstance(space, pikepdf.Array) and len(space) > 1
                    and space[0] == "/Separation" and space[1] == "/CutContour"):
                return True
    return False


def _has_tiles(pdf: pikepdf.Pdf) -> bool:
    """Whether a page shows a form larger than itself: a tiled poster's sheet, which shows
    a clipped part of the poster's page (``pdf/tile.py``)."""
    for page in pdf.pages[:1000]:
        width, height = (abs(float(a) - float(b)) for a, b in zip(
            page.mediabox[2:], page.mediabox[:2], strict=True))
        forms = page.obj.get("/Resources", {}).get("/XObject", {})
        if not isinstance(forms, pikepdf.Dictionary):
            continue
        for form in forms.values():
            box = form.get("/BBox") if isinstance(form, pikepdf.Stream) else None
            if (isinstance(box, pikepdf.Array) and len(box) == 4
                    and (abs(float(box[2]) - float(box[0])) > width + 1
                         or abs(float(box[3]) - float(box[1])) > height + 1)):
                return True
    return False


def _entries(folder: Path) -> dict[str, dict]:
    """The folder's manifest entries (a broken manifest is one line, exit 2)."""
    if not (folder / MANIFEST).is_file():
        return {}
    return Manifest.read(folder, files=False).entries


def pdfs(paths: tuple[Path, ...]) -> list[Path]:
    found = []
    for path in paths:
        if path.is_dir():
            found += sorted(path.glob("*.pdf"))
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder; give an output folder "
                             "(e.g. dist) or PDF files")
    if not found:
        raise UsageError(f"no PDF in {', '.join(map(str, paths))}; build first "
                         "('pamphleteer build')")
    return found


def check_paths(paths: tuple[Path, ...], fonts: frozenset[str] | None, bleed_mm: float,
                ink_limit: float) -> list[Finding]:
    """Every finding for every PDF under ``paths`` (folders are read one level deep)."""
    findings: list[Finding] = []
    manifests: dict[Path, dict[str, dict]] = {}
    for path in pdfs(paths):
        folder = path.parent.resolve()
        if folder not in manifests:
            manifests[folder] = _entries(folder)
        entry = manifests[folder].get(path.name)
        data = path.read_bytes()
        expected = (expected_from_entry(entry, ink_limit) if entry
                    else infer_expected(path, data, bleed_mm, ink_limit))
        findings += run(data, str(path), expected, fonts)
    return findings
