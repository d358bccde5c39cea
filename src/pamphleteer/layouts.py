"""Find layouts, read their ``layout.toml`` and render their Jinja2 templates to HTML.

A layout is a folder in ``layouts/`` with ``layout.toml`` (its sizes, page rule, style
parameters and fitted texts), ``main.html.j2`` and ``style.css``. ``layouts/_base/``
holds what every layout shares: ``base.html.j2`` and ``print.css``. A layout may name a
parent with ``extends``, inheriting its templates, CSS and settings. Does not import
WeasyPrint.

Layouts are looked for in several folders, first to last (a project's own, then the
built-in ones): a layout in an earlier folder replaces the one of the same name in a
later one, and so does a file of an earlier ``_base/`` (templates, stylesheets, each
language's strings are merged), so a project holds only what it changes.
"""

from __future__ import annotations

import functools
import math
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from pamphleteer import contain
from pamphleteer.config import (
    NAME,
    Choice,
    Flag,
    Key,
    ListOf,
    Named,
    Number,
    Problem,
    Table,
    Text,
    TomlFile,
    show,
    valid,
)
from pamphleteer.copyfit import FitSpec
from pamphleteer.errors import ConfigError, LayoutError

BASE = "_base"
PAGE_RULES = ("fixed", "multiple-of-4", "per-slogan", "headline-and-slogans")
#: The variants a layout may be made in (``targets.VARIANTS``, which imports this module).
VARIANT_NAMES = ("press", "desk", "screen", "labels", "social", "mono", "riso")
DEFAULT_VARIANTS = ("press", "desk", "screen", "mono", "riso")
#: Sheets that imposed files are printed on, portrait, in mm.
SHEETS = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
US_UNIT_MM = 25.4 / 8  # US paper sizes are whole eighths of an inch; ISO ones never are
#: Ways to fold one sheet into a booklet, besides saddle stitching ([impose] fold).
FOLDS = ("zine",)

CSS_TEXT = Text("a CSS value", 'a number, or text without ; { } < > \\ or /*, e.g. "12mm"',
                r"(?!.*/\*)[^;{}<>\\]+")


@dataclass(frozen=True)
class Css:
    """A ``[style]`` value, which becomes a CSS custom property: a number, or text that
    cannot end the declaration (;), open or close a block, start a comment or close the
    ``<style>`` element, so a layout's settings stay inside their own property."""

    what: str = CSS_TEXT.what
    how: str = CSS_TEXT.how

    def check(self, value, key, complete=True):
        if not (isinstance(value, int | float) and not isinstance(value, bool)
                and math.isfinite(value)):
            yield from CSS_TEXT.check(value, key)


SIZE_MM = Number(10, 2000, "mm")
FIT_PT = Number(1, 2000, "pt")
BODY_FIT = Table({"min_pt": FIT_PT, "max_pt": FIT_PT}, required=("min_pt", "max_pt"),
                 ordered=("min_pt", "max_pt"))

#: Every key a ``layout.toml`` accepts. A layout that ``extends`` another may leave out
#: what its parent gives: required keys are looked for once the two are merged.
LAYOUT_SCHEMA = Table({
    "description": Text(doc="one line, shown by 'pamphleteer list'"),
    "extends": replace(NAME, doc="the layout this one inherits from, in the same folder"),
    "pages": Number(1, 1000, whole=True, doc="exact page count (page_rule fixed)"),
    "page_rule": Choice(PAGE_RULES),
    "needs_slogans": Flag(doc="an empty slogans.md is then an error"),
    "safe_mm": Number(0, 30, "mm", doc="text keeps this far inside the trim"),
    "viewing_cm": Number(10, 10000, "cm", doc="reading distance, for preflight's image ppi"),
    "variants": ListOf(Choice(VARIANT_NAMES), "a list of variant names, e.g. "
                       '["press", "desk"]', 1, len(VARIANT_NAMES),
                       doc="the variants it is made in (all)"),
    "bleed_mm": Number(0, 10, "mm", doc="press bleed, instead of the project's"),
    "crop_marks": Flag(doc="false: no marks, the press page is the bleed (die-cut)"),
    "cut": Flag(doc="press pages get a CutContour die line at the trim (pdf/cutcontour)"),
    "edition_last_page": Flag(doc="an edition shows on the last page alone, the body's "
                              "last element: its file is the plain file with that page "
                              "laid out on its own"),
    "sizes": Named(Table({"width_mm": SIZE_MM, "height_mm": SIZE_MM,
                          "corner_mm": Number(0, 1000, "mm", doc="the cut's corner radius; "
                                              "half the side: a circle")},
                         required=("width_mm", "height_mm")),
                   NAME, "a [sizes.NAME] table of width_mm and height_mm", nonempty=True),
    "style": Named(Css(), Text("a CSS name", 'lower-case letters, digits and -, from a '
                               'letter, e.g. "margin-top"', r"[a-z][a-z0-9-]*", longest=64),
                   'a [style] table of name = "value" lines',
                   doc="each a CSS custom property: margin = ... is --margin"),
    "fit": Named(replace(BODY_FIT, keys={**BODY_FIT.keys, "balance": Flag()}), NAME,
                 "a [fit.NAME] table of min_pt and max_pt", doc="texts set as large as fits"),
    "body_fit": replace(BODY_FIT, keys={**BODY_FIT.keys, "pointer": Flag(
        doc="too long even at min_pt: the template gets article_fits = false and points "
            "to the full text instead (zine/)")}, doc="body text size range"),
    "impose": Named(Table({
        "sheet": Choice(tuple(SHEETS)),
        "grid": ListOf(Number(1, 10, whole=True), "copies across and down, two whole numbers "
                       "from 1 to 10, e.g. [2, 1]", 2, 2, doc="none: a saddle-stitched "
                       "booklet"),
        "fold": Choice(FOLDS, doc="zine: eight pages on one side of the sheet, to fold, "
                       "cut and fold into a mini-zine"),
    }, required=("sheet",)), NAME, "an [impose.SIZE] table of sheet and grid or fold",
        doc="the desk file imposed on sheets"),
}, required=("sizes",))


@dataclass(frozen=True)
class Size:
    name: str
    width_mm: float
    height_mm: float
    corner_mm: float = 0.0  # the die-cut's corner radius (a layout with ``cut``)


@dataclass(frozen=True)
class BodyFit:
    """Body text may shrink or grow in [min_pt, max_pt] so the text fills ``pages``."""

    min_pt: float
    max_pt: float
    pointer: bool = False  # too long at min_pt: point to the full text (article_fits)


@dataclass(frozen=True)
class Imposition:
    """A size's desk pages placed on printer's sheets: ``grid`` copies of one page, a
    ``fold`` (a one-sheet zine), or (neither) a saddle-stitched booklet, two pages a side."""

    sheet: str
    grid: tuple[int, int] | None = None
    fold: str | None = None  # "zine": eight pages on one side, folded and cut (FOLDS)


@dataclass(frozen=True)
class Tiling:
    """A page larger than a home printer's sheet, printed on several sheets that overlap
    by ``overlap_mm``, to trim and glue together (see ``pdf/tile.py``)."""

    sheet: str
    overlap_mm: float = 10.0


def home_tiling(size: Size) -> Tiling | None:
    """How ``size`` is printed at home: on Letter if it is a US size (its sides whole
    eighths of an inch: tabloid, 18 × 24 in), else on A4; None if the sheet holds it.

    Inferred from the size itself, so every layout's sizes, a project's own too, get
    tiles without a setting: a US printer has Letter paper, anyone else A4.
    """
    us = all(abs(v / US_UNIT_MM - round(v / US_UNIT_MM)) < 0.02
             for v in (size.width_mm, size.height_mm))
    sheet = "letter" if us else "a4"
    short, long = sorted((size.width_mm, size.height_mm))
    w, h = SHEETS[sheet]
    if short <= w + 0.01 and long <= h + 0.01:  # a desk page is its own sheet: A4 on A4
        return None
    return Tiling(sheet)


@dataclass(frozen=True)
class LabelSheet:
    """A sheet of self-adhesive labels: where each label sits, from the paper's top-left
    corner, as the maker publishes it (see ``layouts/sticker/sheets.toml``)."""

    name: str
    shape: str  # the layout's size whose art goes on the labels
    paper: str  # a key of SHEETS
    columns: int
    rows: int
    label_w_mm: float
    label_h_mm: float
    top_mm: float
    side_mm: float
    pitch_x_mm: float
    pitch_y_mm: float
    corner_mm: float = 0.0
    description: str = ""

    def labels_mm(self) -> list[tuple[float, float]]:
        """Each label's top-left corner, from the paper's top-left, row by row."""
        return [(self.side_mm + c * self.pitch_x_mm, self.top_mm + r * self.pitch_y_mm)
                for r in range(self.rows) for c in range(self.columns)]


LABEL_MM = Number(0, 1000, "mm")
SHEETS_FILE = "sheets.toml"
#: Every key of a ``sheets.toml`` table.
SHEET_SCHEMA = Named(Table({
    "description": Text(),
    "shape": replace(NAME, doc="the size (in layout.toml) whose art goes on the labels"),
    "paper": Choice(tuple(SHEETS)),
    "columns": Number(1, 20, whole=True),
    "rows": Number(1, 40, whole=True),
    "label_w_mm": SIZE_MM, "label_h_mm": SIZE_MM,
    "top_mm": LABEL_MM, "side_mm": LABEL_MM, "pitch_x_mm": SIZE_MM, "pitch_y_mm": SIZE_MM,
    "corner_mm": LABEL_MM,
}, required=("shape", "paper", "columns", "rows", "label_w_mm", "label_h_mm", "top_mm",
             "side_mm", "pitch_x_mm", "pitch_y_mm")), NAME, "a [NAME] table for each sheet")


def load_sheets(folders: tuple[Path, ...], sizes: dict) -> tuple[dict[str, LabelSheet], list]:
    """The label sheets of the first of ``folders`` (the layout's, then its parents')
    with a ``sheets.toml``, and the problems found in it."""
    path = next((f / SHEETS_FILE for f in folders if f.name != BASE
                 and (f / SHEETS_FILE).is_file()), None)
    if path is None:
        return {}, []
    try:
        file = TomlFile.read(path)
    except ConfigError as e:
        return {}, [e.message]
    found = list(SHEET_SCHEMA.check(file.data, ()))
    if not found:
        for name, v in file.data.items():
            if v["shape"] not in sizes:
                found.append(Problem((name, "shape"), f"{show(v['shape'])} is not a size "
                                     "of this layout", f"name one of {', '.join(sizes)}"))
            w, h = SHEETS[v["paper"]]
            right = v["side_mm"] + (v["columns"] - 1) * v["pitch_x_mm"] + v["label_w_mm"]
            bottom = v["top_mm"] + (v["rows"] - 1) * v["pitch_y_mm"] + v["label_h_mm"]
            if right > w + 0.01 or bottom > h + 0.01:
                found.append(Problem((name,), f"the labels reach {right:g} × {bottom:g} mm, "
                                     f"past the {w:g} × {h:g} mm paper",
                                     "check the margins and pitches against the maker's"))
    if found:
        return {}, file.report(found)
    return {name: LabelSheet(name=name, **{k: v for k, v in data.items()})
            for name, data in file.data.items()}, []


@dataclass(frozen=True)
class Layout:
    name: str
    folders: tuple[Path, ...]  # this layout's folder, then its parents', then each _base
    description: str
    sizes: dict[str, Size]
    page_rule: str = "fixed"
    pages: int = 1
    needs_slogans: bool = False
    safe_mm: float | None = None
    viewing_cm: float = 30.0  # how far away it is read: preflight judges images by it
    style: dict[str, str] = field(default_factory=dict)
    fits: dict[str, FitSpec] = field(default_factory=dict)
    body_fit: BodyFit | None = None
    impose: dict[str, Imposition] = field(default_factory=dict)
    variants: tuple[str, ...] = DEFAULT_VARIANTS
    bleed_mm: float | None = None  # None: the project's
    crop_marks: bool = True
    cut: bool = False
    edition_last_page: bool = False  # see LAYOUT_SCHEMA
    sheets: dict[str, LabelSheet] = field(default_factory=dict)  # the labels variant's

    def pages_for(self, slogans: int) -> int:
        """How many pages the layout makes for ``slogans`` slogans."""
        if self.page_rule == "per-slogan":
            return slogans
        if self.page_rule == "headline-and-slogans":
            return slogans + 1
        return self.pages

    def files(self) -> list[Path]:
        """Every file this layout is made of (its inputs, for the cache and reports)."""
        return sorted(p for folder in self.folders
                      for p in contain.files_below(folder, self.roots()))

    def roots(self) -> tuple[Path, ...]:
        """The folders this layout may read (see ``contain``)."""
        return tuple(folder.resolve() for folder in self.folders)

    def stylesheets(self) -> list[Path]:
        """``_base/print.css``, then each ancestor's ``style.css``, then this one's.

        Of the ``_base`` folders (a project's, the built-in one) the first that has a
        stylesheet gives it: a project's ``_base/print.css`` replaces the built-in one.
        """
        bases = [f for f in self.folders if f.name == BASE]
        chain = [f for f in self.folders if f.name != BASE]
        names = ("print.css", "style.css")
        base = [next(p for f in bases if (p := f / name).is_file()) for name in names
                if any((f / name).is_file() for f in bases)]
        return base + [folder / name for folder in reversed(chain) for name in names
                       if (folder / name).is_file()]

    def css(self) -> str:
        """The stylesheets, their URLs resolved from their own folders (``contain``)."""
        roots = self.roots()
        return "\n".join(contain.stylesheet(p, roots) for p in self.stylesheets())


def _merge(parent: dict, child: dict) -> dict:
    merged = dict(parent)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _chain(roots: tuple[Path, ...], name: str) -> tuple[list[TomlFile], list[str]]:
    """``name``'s ``layout.toml``, then each parent's, and what stopped the chain early.

    A parent is a plain name looked up among the layouts in ``roots`` only (the first
    that has it), so ``extends`` cannot lead to a folder outside them.
    """
    files: list[TomlFile] = []
    names = [name]
    while True:
        try:
            folder = _find(roots, names[-1])
            files.append(file := TomlFile.read(folder / "layout.toml"))
        except ConfigError as e:
            return files, [e.message]
        parent = file.data.get("extends")
        if parent is None or not valid(NAME, parent):  # the schema reports a bad name
            return files, []
        where = file.where(("extends",))
        if parent in names:
            return files, [f"{where}: {' -> '.join([*names, parent])} is a cycle; "
                           "extend a layout that does not extend this one"]
        available = available_layouts(*roots)
        if parent not in available:
            return files, [f"{where}: no layout {show(parent)} in "
                           f"{' or '.join(map(str, roots))}; extend one of "
                           f"{', '.join(available)}"]
        names.append(parent)


def _find(roots: tuple[Path, ...], name: str) -> Path:
    """The folder of layout ``name``: in the first of ``roots`` that has it (even if its
    ``layout.toml`` cannot be read: that is then reported, not skipped)."""
    return next((root / name for root in roots
                 if os.path.lexists(root / name / "layout.toml")), roots[0] / name)


def _owner(files: list[TomlFile], key: Key) -> TomlFile:
    """The file that writes ``key`` (or most of its table): the layout's, else a parent's."""
    def depth(file: TomlFile) -> int:
        value, found = file.data, 0
        for part in key:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                break
            found += 1
        return found

    return max(files, key=depth)  # the first of the deepest: the layout's own file first


def _load(roots: tuple[Path, ...], name: str) -> tuple[Layout | None, list[str]]:
    """The layout ``name``, or None and every problem found in it and its parents.

    The files are merged, then checked as one; each problem is reported against the
    file that wrote the value. Keys may be missing only where a parent was not read.
    """
    files, problems = _chain(roots, name)
    data: dict = {}
    for file in reversed(files):  # the furthest parent first; descriptions are not inherited
        data = _merge({k: v for k, v in data.items() if k != "description"}, file.data)
    found = list(LAYOUT_SCHEMA.check(data, (), complete=not problems))
    sizes, impose = data.get("sizes"), data.get("impose")
    if isinstance(sizes, dict) and isinstance(impose, dict):
        found += [Problem(("impose", key), f"{show(key)} is not a size of this layout",
                          f"name one of {', '.join(sizes)}") for key in impose if key not in sizes]
        found += [Problem(("impose", key, "fold"), "a sheet is either a grid or a fold",
                          "keep one of grid and fold")
                  for key, v in impose.items()
                  if isinstance(v, dict) and "grid" in v and "fold" in v]
    if isinstance(sizes, dict) and not found:
        found += [Problem(("sizes", key, "corner_mm"), f"{v['corner_mm']:g} mm is more than "
                          "half the short side", "half the short side cuts a circle")
                  for key, v in sizes.items()
                  if v.get("corner_mm", 0) > min(v["width_mm"], v["height_mm"]) / 2]
    problems += [_owner(files, p.key).report([p])[0] for p in found]
    folders = tuple(file.path.parent for file in files)
    sheets, sheet_problems = load_sheets(folders, sizes) if isinstance(sizes, dict) \
        else ({}, [])
    problems += sheet_problems
    if "labels" in data.get("variants", ()) and not sheets and not sheet_problems:
        problems.append(f"{_owner(files, ('variants',)).where(('variants',))}: the labels "
                        f"variant needs label sheets; add a {SHEETS_FILE} to the layout")
    if problems:
        return None, problems
    body = data.get("body_fit")
    return Layout(
        name=name,
        folders=(*(file.path.parent for file in files),
                 *(root / BASE for root in roots if (root / BASE).is_dir())),
        description=data.get("description", ""),
        sizes={key: Size(key, float(v["width_mm"]), float(v["height_mm"]),
                         float(v.get("corner_mm", 0.0)))
               for key, v in sizes.items()},
        page_rule=data.get("page_rule", "fixed"),
        pages=data.get("pages", 1),
        needs_slogans=data.get("needs_slogans", False),
        safe_mm=data.get("safe_mm"),
        viewing_cm=float(data.get("viewing_cm", 30.0)),
        style={key: str(value) for key, value in data.get("style", {}).items()},
        fits={key: FitSpec(key, float(v["min_pt"]), float(v["max_pt"]), v.get("balance", True))
              for key, v in data.get("fit", {}).items()},
        body_fit=BodyFit(float(body["min_pt"]), float(body["max_pt"]),
                         body.get("pointer", False)) if body else None,
        impose={key: Imposition(v["sheet"], tuple(v["grid"]) if "grid" in v else None,
                                v.get("fold"))
                for key, v in data.get("impose", {}).items()},
        variants=tuple(v for v in VARIANT_NAMES
                       if v in data.get("variants", DEFAULT_VARIANTS)),
        bleed_mm=float(data["bleed_mm"]) if "bleed_mm" in data else None,
        crop_marks=data.get("crop_marks", True),
        cut=data.get("cut", False),
        edition_last_page=data.get("edition_last_page", False),
        sheets=sheets,
    ), []


def available_layouts(*roots: Path) -> list[str]:
    """The names of the layouts in ``roots``, each once."""
    return sorted({p.parent.name for root in roots if root.is_dir()
                   for p in root.glob("*/layout.toml") if p.parent.name != BASE})


def load_layouts(*roots: Path) -> dict[str, Layout]:
    """Every layout in ``roots`` (a project's layouts, then the built-in ones: see the
    module's docstring); the problems of all of them in one ``ConfigError``."""
    roots = tuple(root for root in roots if root.is_dir()) or roots[:1]
    names = available_layouts(*roots)
    if not names:
        raise ConfigError(f"{roots[0]}: no layouts found; each layout is a folder with a "
                          "layout.toml")
    for root in roots:
        for name in (*available_layouts(root), BASE):
            try:
                contain.beneath(root / name, (root.resolve(),))
            except contain.Refused as e:
                raise ConfigError(f"{root / name}: a symlink that leads outside {root.name}/; "
                                  "copy the layout into it instead") from e
    loaded = {name: _load(roots, name) for name in names}
    problems = dict.fromkeys(p for _, found in loaded.values() for p in found)  # parents' once
    if problems:
        raise ConfigError("; ".join(problems))
    return {name: layout for name, (layout, _) in loaded.items()}


_CSS_NAME_RE = re.compile(r"[^a-z0-9-]")


def css_properties(values: dict[str, str]) -> str:
    """``:root`` custom properties from settings: written once, never typed twice."""
    lines = [f"  --{_CSS_NAME_RE.sub('-', k.lower())}: {v};" for k, v in values.items()]
    return ":root {\n" + "\n".join(lines) + "\n}\n"


@functools.cache
def _environment(folders: tuple[Path, ...]):
    """One environment per layout, so each template is compiled once per process
    (Jinja checks the files' modification times before reusing a compiled one)."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(
        loader=jinja2.FileSystemLoader([str(f) for f in folders]),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_template(layout: Layout, context: dict, what: str) -> str:
    """Render ``main.html.j2``; Jinja errors become one-line ``LayoutError``s.

    Sandboxed: a layout may come from a pull request, and Jinja's plain environment
    lets a template reach Python internals.
    """
    import jinja2
    import jinja2.sandbox

    try:
        return _environment(layout.folders).get_template("main.html.j2").render(context)
    except jinja2.TemplateSyntaxError as e:
        raise LayoutError(
            f"{e.filename or e.name}:{e.lineno}: template syntax error: {e.message}"
        ) from e
    except jinja2.TemplateNotFound as e:
        raise LayoutError(f"{what}: template {e.name} not found in {layout.folders[0]}") from e
    except jinja2.sandbox.SecurityError as e:
        raise LayoutError(f"{what}: {_template_place(e)}refused: {e}") from e
    except jinja2.UndefinedError as e:
        raise LayoutError(f"{what}: {_template_place(e)}{e.message}; "
                          "check the variable's name against layouts/README.md") from e
    except Exception as e:
        raise LayoutError(f"{what}: {_template_place(e)}{type(e).__name__}: {e}") from e


def _template_place(error: Exception) -> str:
    """``file:line: `` of the innermost template frame in a traceback, if any."""
    place = ""
    tb = error.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            place = f"{filename}:{tb.tb_lineno}: "
        tb = tb.tb_next
    return place


STRINGS = "strings"


def strings(layout: Layout, lang: str) -> dict[str, str]:
    """The words a layout prints (``by``, the edition panel's captions), in ``lang``.

    Read from ``strings/<lang>.toml`` in the layout's folders, its own first, so a layout
    can reword what ``_base/strings/`` says; ``pt-BR`` falls back to ``pt``. Templates
    hold no words of their own: every language's are here.
    """
    tags = dict.fromkeys([lang, lang.split("-")[0]])
    for tag in tags:
        files = [f / STRINGS / f"{tag}.toml" for f in reversed(layout.folders)]
        found = [f for f in files if f.is_file()]
        if found:
            merged: dict[str, str] = {}
            for path in found:
                merged |= _strings_file(path, path.stat().st_mtime_ns)
            return merged
    base = next((f for f in layout.folders if f.name == BASE), layout.folders[-1]) / STRINGS
    english = next((p for f in reversed(layout.folders)
                    if (p := f / STRINGS / "en.toml").is_file()), base / "en.toml")
    raise ConfigError(f"{base / (lang + '.toml')}: no strings for language {lang!r}; copy "
                      f"{english} to {lang}.toml there and translate its values")


@functools.cache
def _strings_file(path: Path, mtime_ns: int) -> dict[str, str]:
    """One strings file, read again only when it changes (``serve`` keeps running)."""
    file = TomlFile.read(path)
    bad = [f"{file.where((k,))}: must be text; quote the value"
           for k, v in file.data.items() if not isinstance(v, str)]
    if bad:
        raise ConfigError("; ".join(bad))
    return file.data
