"""Find layouts, read their ``layout.toml`` and render their Jinja2 templates to HTML.

A layout is a folder in ``layouts/`` with ``layout.toml`` (its sizes, page rule, style
parameters and fitted texts), ``main.html.j2`` and ``style.css``. ``layouts/_base/``
holds what every layout shares: ``base.html.j2`` and ``print.css``. A layout may name a
parent with ``extends``, inheriting its templates, CSS and settings. Does not import
WeasyPrint.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pamphleteer import contain
from pamphleteer.copyfit import FitSpec
from pamphleteer.errors import ConfigError, LayoutError, UsageError

BASE = "_base"
PAGE_RULES = ("fixed", "multiple-of-4", "per-slogan")
LAYOUT_KEYS = ("description", "extends", "pages", "page_rule", "needs_slogans",
               "safe_mm", "viewing_cm", "sizes", "style", "fit", "body_fit", "impose")


@dataclass(frozen=True)
class Size:
    name: str
    width_mm: float
    height_mm: float


@dataclass(frozen=True)
class BodyFit:
    """Body text may shrink or grow in [min_pt, max_pt] so the text fills ``pages``."""

    min_pt: float
    max_pt: float


#: Sheets that imposed files are printed on, portrait, in mm.
SHEETS = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}


@dataclass(frozen=True)
class Imposition:
    """A size's desk pages placed on printer's sheets: ``grid`` copies of one page, or
    (without a grid) a saddle-stitched booklet, two pages a side."""

    sheet: str
    grid: tuple[int, int] | None = None


@dataclass(frozen=True)
class Layout:
    name: str
    folders: tuple[Path, ...]  # this layout's folder, then its parents', then _base
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

    def files(self) -> list[Path]:
        """Every file this layout is made of (its inputs, for the cache and reports)."""
        return sorted(p for folder in self.folders
                      for p in contain.files_below(folder, self.roots()))

    def roots(self) -> tuple[Path, ...]:
        """The folders this layout may read (see ``contain``)."""
        return tuple(folder.resolve() for folder in self.folders)

    def stylesheets(self) -> list[Path]:
        """``_base/print.css``, then each ancestor's ``style.css``, then this one's."""
        return [folder / name for folder in reversed(self.folders)
                for name in ("print.css", "style.css") if (folder / name).is_file()]

    def css(self) -> str:
        """The stylesheets, their URLs resolved from their own folders (``contain``)."""
        roots = self.roots()
        return "\n".join(contain.stylesheet(p, roots) for p in self.stylesheets())


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: {e}; fix the TOML syntax") from e


def _merge(parent: dict, child: dict) -> dict:
    merged = dict(parent)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _settings(folder: Path, root: Path, seen: tuple[str, ...] = ()) -> tuple[dict, list[Path]]:
    path = folder / "layout.toml"
    data = _read_toml(path)
    for key in data:
        if key not in LAYOUT_KEYS:
            raise ConfigError(
                f"{path}: unknown key {key!r}; allowed: {', '.join(LAYOUT_KEYS)}"
            )
    parent = data.get("extends")
    if not parent:
        return data, [folder]
    parent_dir = root / parent
    if parent in seen or not (parent_dir / "layout.toml").is_file():
        available = ", ".join(sorted(available_layouts(root)))
        raise ConfigError(
            f"{path}: extends unknown layout {parent!r}; available: {available}"
        )
    inherited, folders = _settings(parent_dir, root, (*seen, folder.name))
    inherited.pop("description", None)
    return _merge(inherited, data), [folder, *folders]


def available_layouts(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(p.parent.name for p in root.glob("*/layout.toml") if p.parent.name != BASE)


def load_layout(root: Path, name: str) -> Layout:
    folder = root / name
    if not (folder / "layout.toml").is_file():
        raise UsageError(
            f"unknown layout {name!r}; available: {', '.join(available_layouts(root))}"
        )
    data, folders = _settings(folder, root)
    path = folder / "layout.toml"
    try:
        sizes = {
            key: Size(key, float(v["width_mm"]), float(v["height_mm"]))
            for key, v in data.get("sizes", {}).items()
        }
        fits = {
            key: FitSpec(key, float(v["min_pt"]), float(v["max_pt"]), bool(v.get("balance", True)))
            for key, v in data.get("fit", {}).items()
        }
        impose = {
            key: Imposition(str(v["sheet"]), tuple(int(n) for n in v["grid"]) if "grid" in v
                            else None)
            for key, v in data.get("impose", {}).items()
        }
        body = data.get("body_fit")
        body_fit = BodyFit(float(body["min_pt"]), float(body["max_pt"])) if body else None
    except (KeyError, TypeError, ValueError) as e:
        raise ConfigError(
            f"{path}: bad sizes/fit/impose entry ({e}); sizes need width_mm and "
            "height_mm, fit and body_fit need min_pt and max_pt, impose needs a sheet"
        ) from e
    if not sizes:
        raise ConfigError(f"{path}: no [sizes]; declare at least one, e.g. [sizes.a4]")
    for key, imposition in impose.items():
        if key not in sizes or imposition.sheet not in SHEETS:
            raise ConfigError(
                f"{path}: [impose.{key}] needs a size of this layout and a sheet "
                f"({', '.join(SHEETS)}); got sheet {imposition.sheet!r}"
            )
    rule = data.get("page_rule", "fixed")
    if rule not in PAGE_RULES:
        raise ConfigError(f"{path}: page_rule {rule!r}; use one of {', '.join(PAGE_RULES)}")
    return Layout(
        name=name,
        folders=(*folders, root / BASE),
        description=str(data.get("description", "")),
        sizes=sizes,
        page_rule=rule,
        pages=int(data.get("pages", 1)),
        needs_slogans=bool(data.get("needs_slogans", False)),
        safe_mm=data.get("safe_mm"),
        viewing_cm=float(data.get("viewing_cm", 30.0)),
        style={k: str(v) for k, v in data.get("style", {}).items()},
        fits=fits,
        body_fit=body_fit,
        impose=impose,
    )


def load_layouts(root: Path) -> dict[str, Layout]:
    names = available_layouts(root)
    if not names:
        raise ConfigError(f"{root}: no layouts found; each layout is a folder with a layout.toml")
    return {name: load_layout(root, name) for name in names}


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
    base = layout.folders[-1] / STRINGS
    raise ConfigError(f"{base / (lang + '.toml')}: no strings for language {lang!r}; copy "
                      f"{base / 'en.toml'} to {lang}.toml and translate its values")


@functools.cache
def _strings_file(path: Path, mtime_ns: int) -> dict[str, str]:
    """One strings file, read again only when it changes (``serve`` keeps running)."""
    data = _read_toml(path)
    bad = [k for k, v in data.items() if not isinstance(v, str)]
    if bad:
        raise ConfigError(f"{path}: {', '.join(bad)}: must be text; quote the value")
    return data
