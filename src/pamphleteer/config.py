"""Load ``pamphleteer.toml`` into a frozen ``Project`` and validate all of it at once.

A project is a folder with a ``pamphleteer.toml``; the repository root is one. A folder
in no project builds on the built-in layouts and fonts with every default
(``default_project``). Every problem found is collected and reported together, each as
``file:line: key: problem; fix``, so one run shows everything there is to mend.

The settings are described by a schema: a few spec classes (``Number``, ``Text``,
``Flag``, ``Choice``, ``ListOf``, ``Table``, ``Named``), each of which checks one value
and says what is wrong with it and how to write it. ``layouts.py`` describes
``layout.toml`` in the same terms, and ``outputs.py`` the manifest.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import re
import textwrap
import tomllib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from pamphleteer import contain, riso
from pamphleteer.errors import ConfigError

CONFIG_NAME = "pamphleteer.toml"
PACKAGE = Path(__file__).resolve().parent
#: The output intent when the project names none: shipped with pamphleteer (see its README).
DEFAULT_PROFILE = PACKAGE / "profiles" / "pamphleteer-fogra39.icc"


def _bundled() -> Path:
    """The folder that holds the built-in ``layouts/`` and ``fonts/``.

    An installed wheel carries them in ``pamphleteer/data/``, where the build backend
    copies the repository's top-level folders (see pyproject.toml). A source checkout
    (an editable install, ``PYTHONPATH=src``) has no such folder: there the built-ins
    are the checkout's own ``layouts/`` and ``fonts/``, so an edit to them shows at once.
    This is the one place that decides which.
    """
    data = PACKAGE / "data"
    return data if data.is_dir() else PACKAGE.parents[1]


BUNDLED = _bundled()
BUILTIN_LAYOUTS = BUNDLED / "layouts"
BUILTIN_FONTS = BUNDLED / "fonts"

Key = tuple[str | int, ...]  # a value's place: ("sizes", "a4", "width_mm"), ("outputs", 3)


# --- the schema ------------------------------------------------------------------------


class Problem(NamedTuple):
    key: Key
    problem: str  # what is wrong, e.g. 'true is not a number'
    fix: str  # how to write it instead, e.g. 'write a number of mm from 0 to 10'


class Spec(Protocol):
    what: str  # what the value must be, for "... is not <what>"
    how: str  # how to write it, for "write <how>"

    def check(self, value: Any, key: Key, complete: bool = True) -> Iterator[Problem]:
        """Every problem with ``value``. ``complete`` is false when part of the settings
        could not be read (a layout's parent): a key missing then is not reported."""


def valid(spec: Spec, value: Any) -> bool:
    return next(spec.check(value, ()), None) is None


def _refuse(spec: Spec, value: Any, key: Key, problem: str | None = None) -> Problem:
    return Problem(key, problem or f"{show(value)} is not {spec.what}", f"write {spec.how}")


@dataclass(frozen=True)
class Number:
    """A number from ``low`` to ``high``. Never a bool: TOML keeps true apart from 1, and
    Python's ``isinstance(True, int)`` does not."""

    low: float
    high: float
    unit: str = ""
    whole: bool = False
    doc: str = ""

    @property
    def what(self) -> str:
        return "a whole number" if self.whole else "a number"

    @property
    def how(self) -> str:
        unit = f" of {self.unit}" if self.unit else ""
        return f"{self.what}{unit} from {self.low:g} to {self.high:g}"

    def check(self, value, key, complete=True):
        if isinstance(value, bool) or not isinstance(value, int if self.whole else int | float):
            yield _refuse(self, value, key)
        elif not self.low <= value <= self.high:  # nan too: it compares false
            yield _refuse(self, value, key, f"{show(value)} is out of range")


@dataclass(frozen=True)
class Text:
    """One line of text matching ``pattern``: no control characters or line breaks, which
    no setting needs and a report line, a file name or a stylesheet would carry further."""

    what: str = "one line of text"
    how: str = 'text in quotes, e.g. "FOGRA39"'
    pattern: str = r".+"
    longest: int = 1000
    doc: str = ""

    def check(self, value, key, complete=True):
        if not isinstance(value, str) or not value.strip() or len(value) > self.longest \
                or _breaks(value) or not re.fullmatch(self.pattern, value, re.DOTALL):
            yield _refuse(self, value, key)


@dataclass(frozen=True)
class Flag:
    what: str = "true or false"
    how: str = "true or false, without quotes"
    doc: str = ""

    def check(self, value, key, complete=True):
        if not isinstance(value, bool):
            yield _refuse(self, value, key)


@dataclass(frozen=True)
class Choice:
    """One of ``values``; with ``suggest``, a misspelt one is told the closest (a long
    list of names, such as inks, is easier to mend from a guess)."""

    values: tuple[str, ...]
    doc: str = ""
    what: str = "one of the choices"
    suggest: bool = False

    @property
    def how(self) -> str:
        return "one of " + ", ".join(f'"{v}"' for v in self.values)

    def check(self, value, key, complete=True):
        if not isinstance(value, str) or value not in self.values:
            problem = _refuse(self, value, key)
            close = difflib.get_close_matches(value, self.values, n=1) \
                if self.suggest and isinstance(value, str) else []
            yield problem._replace(fix=f"did you mean {show(close[0])}? {problem.fix}") \
                if close else problem


@dataclass(frozen=True)
class ListOf:
    item: Spec
    how: str
    shortest: int = 0
    longest: int = 1000
    doc: str = ""

    @property
    def count(self) -> str:
        return f"{self.longest}" if self.shortest == self.longest else f"up to {self.longest}"

    @property
    def what(self) -> str:
        return f"a list of {self.count} items"

    def check(self, value, key, complete=True):
        if not isinstance(value, list):
            yield _refuse(self, value, key)
            return
        if not self.shortest <= len(value) <= self.longest:
            yield _refuse(self, value, key, f"{len(value)} items, not {self.count}")
            return
        for index, item in enumerate(value):
            yield from self.item.check(item, (*key, index), complete)


@dataclass(frozen=True)
class Table:
    """A table of known keys. ``ordered`` names two keys whose values must not decrease
    (min_pt, max_pt); with ``others``, keys it does not know are let through unchecked."""

    keys: dict[str, Spec]
    required: tuple[str, ...] = ()
    ordered: tuple[str, str] | None = None
    others: bool = False
    doc: str = ""
    what: str = "a table"

    @property
    def how(self) -> str:
        return f"a table of {', '.join(self.keys)}"

    def check(self, value, key, complete=True):
        if not isinstance(value, dict):
            yield _refuse(self, value, key)
            return
        for name, item in value.items():
            spec = self.keys.get(name)
            if spec is not None:
                yield from spec.check(item, (*key, name), complete)
            elif not self.others:
                yield _unknown(name, item, (*key, name), self.keys)
        if not complete:
            return
        for name in self.required:
            if name not in value:
                yield Problem((*key, name), "missing", f"write {self.keys[name].how}")
        if self.ordered:
            low, high = self.ordered
            if all(k in value and valid(self.keys[k], value[k]) for k in self.ordered) \
                    and value[low] > value[high]:
                yield Problem((*key, low), f"{show(value[low])} is more than {high} "
                              f"{show(value[high])}", f"make {low} at most {high}")


@dataclass(frozen=True)
class Named:
    """A table of entries the file names itself (``[sizes.a4]``, ``[style] margin``):
    each name must be a ``name``, each value a ``value``."""

    value: Spec
    name: Spec
    how: str
    nonempty: bool = False
    doc: str = ""
    what: str = "a table"

    def check(self, value, key, complete=True):
        if not isinstance(value, dict):
            yield _refuse(self, value, key)
            return
        if complete and self.nonempty and not value:
            yield Problem(key, "empty", f"write {self.how}")
        for name, item in value.items():
            yield from self.name.check(name, (*key, name))
            yield from self.value.check(item, (*key, name), complete)


#: Names that become parts of file names and targets (sizes, layouts): letters and digits,
#: joined by single separators, so a name can never be a path (``..``, ``/``, ``.x``).
NAME = Text("a plain name", 'letters and digits, joined by single - . or _, e.g. "half-letter"',
            r"[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*", longest=64)


def _unknown(name: str, value: Any, key: Key, allowed: dict[str, Spec]) -> Problem:
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    kind = "table" if isinstance(value, dict) else "key"
    return Problem(key, f"unknown {kind}", f"{hint}allowed: {', '.join(allowed)}")


_BREAKS = {"Cc", "Zl", "Zp"}  # control characters and Unicode's own line breaks


def _breaks(text: str) -> bool:
    return any(unicodedata.category(c) in _BREAKS for c in text)


def _quoted(text: str, longest: int = 40) -> str:
    """``text`` in quotes, cut short, its control characters and line breaks escaped:
    a report line stays one line whatever a file holds."""
    cut = text[:longest] + ("…" if len(text) > longest else "")
    return '"' + "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) in _BREAKS else c
                         for c in cut) + '"'


def show(value: Any) -> str:
    """A value as a report names it: TOML-like for scalars, its kind for the rest."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _quoted(value)
    if isinstance(value, int | float):
        return _quoted(str(value))[1:-1] if math.isfinite(value) else str(value)
    kinds = {dict: "a table", list: "a list", type(None): "null"}
    return next((name for kind, name in kinds.items() if isinstance(value, kind)),
                f"a {type(value).__name__}")


def dotted(key: Key) -> str:
    """``sizes.a4.width_mm``, ``outputs[3].file``: quoted where a part is no bare key."""
    text = ""
    for part in key:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            bare = re.fullmatch(r"[A-Za-z0-9_-]{1,40}", part)
            text += ("." if text else "") + (part if bare else _quoted(part))
    return text


# --- TOML files ------------------------------------------------------------------------

_KEY = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
_DOTTED = rf"{_KEY}(?:[ \t]*\.[ \t]*{_KEY})*"
_HEADER_RE = re.compile(rf"[ \t]*\[\[?[ \t]*({_DOTTED})[ \t]*\]")
_ASSIGN_RE = re.compile(rf"[ \t]*({_DOTTED})[ \t]*=")
_TOML_AT_RE = re.compile(r" \(at line (\d+), column (\d+)\)")


def _parse_key(text: str) -> tuple[str, ...]:
    """``sizes . "a4"`` -> ``("sizes", "a4")``, by TOML's own rules for quoting."""
    try:
        data = tomllib.loads(f"{text} = 0")
    except tomllib.TOMLDecodeError:
        return ()
    key = []
    while isinstance(data, dict):
        name, data = next(iter(data.items()))
        key.append(name)
    return tuple(key)


def key_lines(text: str) -> dict[Key, int]:
    """The line each table and key is first written on, by its full key.

    Follows ``[table]`` headers and dotted keys, and skips multi-line strings; a line
    for a key it misses is looked for under the key's table (see ``TomlFile.line``).
    """
    lines: dict[Key, int] = {}
    table: tuple[str, ...] = ()
    closing = None  # the quotes that end the multi-line string being skipped
    for number, line in enumerate(text.split("\n"), 1):
        if closing:
            closing = None if closing in line else closing
        elif header := _HEADER_RE.match(line):
            table = _parse_key(header[1])
            lines.setdefault(table, number)
        elif assign := _ASSIGN_RE.match(line):
            key = (*table, *_parse_key(assign[1]))
            for end in range(len(table) + 1, len(key) + 1):
                lines.setdefault(key[:end], number)
            value = line[assign.end():].lstrip()
            closing = next((q for q in ('"""', "'''") if value.startswith(q)
                            and q not in value[3:]), None)
    return lines


def _line_at(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


@dataclass(frozen=True)
class TomlFile:
    """A settings file as read: its data, and the line each key is written on."""

    path: Path
    data: dict
    lines: dict[Key, int] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> TomlFile:
        """Read ``path``; a file that is not UTF-8 TOML is one ``ConfigError`` line."""
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise ConfigError(f"{path}: cannot read: {e.strerror or e}; "
                              "make it a readable file") from e
        if b"\0" in raw:
            raise ConfigError(f"{path}:{_line_at(raw, raw.index(0))}: a NUL byte, so not a "
                              "text file; save it as UTF-8 text")
        try:
            text = raw.decode("utf-8-sig")  # a byte-order mark, as some editors write
        except UnicodeDecodeError as e:
            raise ConfigError(f"{path}:{_line_at(raw, e.start)}: not UTF-8 (byte "
                              f"0x{raw[e.start]:02x}); save the file as UTF-8") from e
        try:
            data = tomllib.loads(text)
        except (ValueError, RecursionError) as e:  # a TOMLDecodeError, a number of over
            at = _TOML_AT_RE.search(str(e))     # 4300 digits, lists nested too deep
            problem = _TOML_AT_RE.sub("", str(e)).split(";")[0]
            raise ConfigError(f"{path}:{at[1] if at else 1}: not TOML: {problem}"
                              f"{f' at column {at[2]}' if at else ''}; fix the syntax") from e
        return cls(path, data, key_lines(text))

    def line(self, key: Key) -> int:
        """The line of ``key``, else of the nearest table above it that is written."""
        for end in range(len(key), 0, -1):
            if key[:end] in self.lines:
                return self.lines[key[:end]]
        return 1

    def where(self, key: Key) -> str:
        return f"{self.path}:{self.line(key)}: {dotted(key)}"

    def report(self, problems: Iterator[Problem] | list[Problem]) -> list[str]:
        """Problems as report lines: ``file:line: key: problem; fix``."""
        return [f"{self.where(p.key)}: {p.problem}; {p.fix}" for p in problems]


# --- pamphleteer.toml ------------------------------------------------------------------

FOLDER = Text("a path", 'a folder in quotes, relative to the project, e.g. "content/aleppo"')
PROFILE = Text("a path", 'an .icc file in quotes, relative to the project, e.g. '
               '"profiles/printer.icc"', doc="press files' CMYK output intent, an .icc file "
               "inside the project (default: the bundled FOGRA39 profile)")
TARGET = replace(NAME, what="a target name", how='a layout or a layout-size, e.g. "leaflet-a4"')
#: The folders ``[project]`` names, with their defaults.
FOLDERS = {"content": "content", "out": "dist", "layouts": "layouts", "fonts": "fonts"}

#: Every key ``pamphleteer.toml`` accepts, by table, with what it means. Defaults are not
#: written here but read from ``FOLDERS`` and ``Project`` (see ``setting_defaults``).
SCHEMA = Table({
    "project": Table({
        "content": replace(FOLDER, doc="the content folder (article.md, slogans.md) built "
                                       "when --content is not given"),
        "out": replace(FOLDER, doc="the output folder"),
        "layouts": replace(FOLDER, doc="your own layouts: one named like a built-in layout "
                                       "replaces it, a new name adds one ('pamphleteer "
                                       "copy-layout NAME' starts one from a built-in layout); "
                                       "while the folder does not exist, the built-in layouts "
                                       "alone"),
        "fonts": replace(FOLDER, doc="the only fonts the PDFs may use; while the folder does "
                                     "not exist, the built-in fonts"),
        "targets": ListOf(TARGET, 'a list of target names, e.g. ["poster", "leaflet-a4"]',
                          doc="targets built when none are named (none: every layout and "
                              "size)"),
    }, doc="what to build, from where, and where to"),
    "print": Table({
        "bleed_mm": Number(0, 10, "mm", doc="press files: how far backgrounds run past the "
                                            "trim"),
        "safe_mm": Number(0, 30, "mm", doc="text keeps this far inside the trim (booklets ask "
                                           "6 in their layout.toml)"),
        "paper_thickness_mm": Number(0, 1, "mm", doc="imposed booklets: shift inner sheets "
                                                     "toward the spine by this (creep) for "
                                                     "thick paper or long booklets"),
        "output_profile": PROFILE,
        "output_condition": Text(doc="the printing condition the profile describes, as the "
                                     "printer names it"),
        "output_registry": Text(doc="where that condition's name is registered"),
        "ink_limit_pct": Number(100, 400, "percent", doc="most ink any press colour may lay "
                                                         "down, C+M+Y+K"),
    }, doc="press files are PDF/X for this printing condition (see the README, \"Colour "
           "and PDF/X\")"),
    "riso": Table({
        "inks": ListOf(Choice(tuple(riso.INKS), what="a Riso ink name", suggest=True),
                       'a list of one or two ink names, e.g. ["black", "bright-red"]', 1, 2,
                       doc="the riso file's drums, in print order: the text on black (else "
                           "the first), the accent on the other; one ink: the accent is a "
                           "tint of it"),
    }, doc="risograph files: a greyscale page per drum (see the README, \"Printing on a "
           "risograph\")"),
})


@dataclass(frozen=True)
class Project:
    """A project folder and its settings, all paths absolute.

    ``config`` is the ``pamphleteer.toml`` they were read from; None for a folder in no
    project, which has no content folder of its own (see ``default_project``).
    """

    root: Path
    content_dir: Path | None
    out_dir: Path
    layouts_dir: Path
    fonts_dir: Path
    targets: tuple[str, ...] = ()
    bleed_mm: float = 3.0
    safe_mm: float = 5.0
    paper_thickness_mm: float = 0.0
    output_profile: Path = DEFAULT_PROFILE
    output_condition: str = "FOGRA39"
    output_registry: str = "http://www.color.org"
    ink_limit_pct: float = 300.0
    inks: tuple[str, ...] = riso.DEFAULT_INKS
    config: Path | None = None

    def relative(self, path: Path) -> str:
        """``path`` relative to the project root, as written in reports and manifests."""
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def layout_roots(self) -> tuple[Path, ...]:
        """Where layouts are looked for, first to last: the project's own folder (a layout
        there replaces the built-in one of the same name), then the built-in layouts. One
        folder when they are the same, as in pamphleteer's own repository."""
        return tuple(dict.fromkeys([self.layouts_dir, BUILTIN_LAYOUTS]))


def nearest_project(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding a ``pamphleteer.toml``, if any."""
    start = start.resolve()
    return next((folder for folder in (start, *start.parents)
                 if (folder / CONFIG_NAME).is_file()), None)


def find_project(start: Path) -> Path:
    """Return the nearest folder at or above ``start`` holding a ``pamphleteer.toml``."""
    folder = nearest_project(start)
    if folder is None:
        raise ConfigError(
            f"no {CONFIG_NAME} in {start.resolve()} or any folder above it; "
            "run pamphleteer inside a project folder or pass --project PATH"
        )
    return folder


def default_project(folder: Path) -> Project:
    """The settings of ``folder`` when it is in no project: the built-in layouts and
    fonts, every default, outputs into ``folder/dist``. There is no content folder to
    build by default: one is named with --content."""
    root = folder.resolve()
    return Project(root=root, content_dir=None, out_dir=root / FOLDERS["out"],
                   layouts_dir=BUILTIN_LAYOUTS, fonts_dir=BUILTIN_FONTS)


def discover_project(start: Path) -> Project:
    """The project at or above ``start``, else ``start``'s settings as a folder in none."""
    folder = nearest_project(start)
    return load_project(folder) if folder else default_project(start)


def icc_kind(file: Path) -> tuple[str, str] | None:
    """An ICC profile's device class and colour space (``("prtr", "CMYK")``) from its
    header, or None if the file is not an ICC profile: a PDF/X output intent must be a
    CMYK output profile, and a wrong file is better refused here than by the printer."""
    with file.open("rb") as f:
        header = f.read(40)
    if len(header) < 40 or header[36:40] != b"acsp":
        return None
    return header[12:16].decode("latin-1").strip(), header[16:20].decode("latin-1").strip()


def _profile_problems(value: str, file: Path, root: Path) -> Iterator[Problem]:
    """What keeps ``file`` from being the press files' output intent, if anything."""
    key = ("print", "output_profile")
    try:
        if not file.is_relative_to(root):
            yield Problem(key, f"{show(value)} is outside the project",
                          "copy the profile into the project and name it by a relative path")
        elif not file.is_file():
            yield Problem(key, f"{show(value)} does not exist",
                          "name the printer's CMYK .icc file, relative to the project")
        elif (kind := icc_kind(file)) != ("prtr", "CMYK"):
            found = f"a {kind[0]}/{kind[1]} profile" if kind else "not an ICC profile"
            yield Problem(key, f"{show(value)} is {found}, not a CMYK output (prtr) profile",
                          "ask the printer for their CMYK output profile")
    except OSError as e:
        yield Problem(key, f"{show(value)} cannot be read ({e.strerror or e})",
                      "name a readable .icc file")


def load_project(root: Path) -> Project:
    """Read and validate ``root/pamphleteer.toml``."""
    root = root.resolve()
    file = TomlFile.read(root / CONFIG_NAME)
    problems = list(SCHEMA.check(file.data, ()))
    printing = file.data.get("print", {})
    profile = printing.get("output_profile") if isinstance(printing, dict) else None
    output_profile = DEFAULT_PROFILE
    if profile is not None and valid(PROFILE, profile):
        output_profile = (root / profile).resolve()
        problems += _profile_problems(profile, output_profile, root)
    settings = file.data.get("project", {})
    folders, missing = _folders(root, settings if isinstance(settings, dict) else {})
    problems += missing
    drums = file.data.get("riso", {})
    inks = drums.get("inks", riso.DEFAULT_INKS) if isinstance(drums, dict) else ()
    if isinstance(inks, list) and len(set(map(str, inks))) < len(inks):
        problems.append(Problem(("riso", "inks"), "names an ink twice",
                                "name each drum's ink once"))
    if problems:
        raise ConfigError("; ".join(file.report(problems)))
    return Project(
        root=root,
        **{f"{key}_dir": folder for key, folder in folders.items()},
        targets=tuple(settings.get("targets", ())),
        output_profile=output_profile,
        inks=tuple(inks),
        **{key: float(value) if isinstance(value, int | float) else value
           for key, value in printing.items() if key != "output_profile"},
        config=file.path,
    )


def _folders(root: Path, settings: dict) -> tuple[dict[str, Path], list[Problem]]:
    """The ``[project]`` folders, absolute. A layouts or fonts folder the file names must
    exist, since a misspelt name would quietly build with the built-in ones; under its
    default name it may be missing: the project then has no layouts of its own, or uses
    the built-in fonts."""
    named = {key: value for key, value in settings.items()
             if key in FOLDERS and valid(FOLDER, value)}  # the schema reports the others
    folders = {key: (root / named.get(key, default)).resolve()
               for key, default in FOLDERS.items()}
    problems = []
    for key, value in named.items():
        try:
            contain.beneath(root / value, (root,))
        except contain.Refused:
            elsewhere = (f"pass --{key} PATH for one elsewhere" if key in ("content", "out")
                         else "copy the folder into the project")
            problems.append(Problem(
                ("project", key), f"{show(value)} is outside the project (a settings file "
                "may come from a pull request, so it reaches nothing else)",
                f"name a folder inside it, or {elsewhere}"))
    for key in ("layouts", "fonts"):
        if folders[key].is_dir():
            continue
        if named.get(key, FOLDERS[key]) != FOLDERS[key]:
            problems.append(Problem(("project", key), f"{show(settings[key])} does not exist",
                                    f"create the folder, or remove the line to use the "
                                    f"built-in {key}"))
        elif key == "fonts":
            folders[key] = BUILTIN_FONTS
    return folders, problems


# --- a new project's pamphleteer.toml ---------------------------------------------------


def setting_defaults() -> dict[Key, Any]:
    """Each setting's value when ``pamphleteer.toml`` leaves it out, as TOML writes it, or
    None where no value says it (the bundled profile). Read from ``FOLDERS`` and
    ``Project``'s own defaults, the values the code uses, so they cannot differ."""
    fields = {f.name: f.default for f in dataclasses.fields(Project)}
    values: dict[Key, Any] = {}
    for table, spec in SCHEMA.keys.items():
        for key in spec.keys:
            value = FOLDERS[key] if table == "project" and key in FOLDERS else fields[key]
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            values[(table, key)] = (list(value) if isinstance(value, tuple)
                                    else None if isinstance(value, Path) else value)
    return values


def toml_value(value: Any) -> str:
    """A value as TOML writes it (JSON's strings are TOML basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    return json.dumps(value, ensure_ascii=False)


def new_project_toml(content: str) -> str:
    """A commented ``pamphleteer.toml`` for ``pamphleteer new``: every setting of the
    schema with what it does and its default, commented out but for the content folder
    ``content``. Written from ``SCHEMA`` and ``setting_defaults``, so it lists every key
    there is and the defaults the code uses."""
    defaults = setting_defaults()
    lines = [
        f"# {CONFIG_NAME}: this folder is a pamphleteer project. 'pamphleteer build' here",
        "# (or in any folder below) builds the kit of the content folder named below into",
        "# dist/. Every setting is listed with its default: remove the '# ' before a",
        "# setting to change it. Paths are relative to this folder.",
    ]
    for table, spec in SCHEMA.keys.items():
        lines += ["", *_comment(spec.doc), f"[{table}]"]
        for number, (key, item) in enumerate(spec.keys.items()):
            lines += ["" if number else None, *_comment(item.doc)]
            if (table, key) == ("project", "content"):
                lines.append(f"{key} = {toml_value(content)}")
                continue
            value = defaults[table, key]
            written = toml_value(value) if value is not None else _example(item)
            lines.append(f"# {key} = {written}")
    return "\n".join(line for line in lines if line is not None) + "\n"


def _comment(text: str) -> list[str]:
    """A doc as comment lines: a sentence, wrapped."""
    return [f"# {line}" for line in textwrap.wrap(text[:1].upper() + text[1:] + ".", 86)]


def _example(spec: Spec) -> str:
    """The example a spec's ``how`` gives (``e.g. "profiles/printer.icc"``), in TOML."""
    found = re.search(r"e\.g\. (.+)$", spec.how)
    if found is None:
        raise ValueError(f"{spec.how!r} gives no example to write")
    return found[1]
