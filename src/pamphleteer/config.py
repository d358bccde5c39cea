"""Load ``pamphleteer.toml`` into a frozen ``Project`` and validate all of it at once.

A project is a folder with a ``pamphleteer.toml``; the repository root is one. Every
problem found is collected and reported together, each as ``file:line: key: problem;
fix``, so one run shows everything there is to mend.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pamphleteer.errors import ConfigError

CONFIG_NAME = "pamphleteer.toml"
#: The output intent when the project names none: shipped with pamphleteer (see its README).
DEFAULT_PROFILE = Path(__file__).resolve().parent / "profiles" / "pamphleteer-fogra39.icc"

#: Every key ``pamphleteer.toml`` accepts, by table, with what it means.
SCHEMA: dict[str, dict[str, str]] = {
    "project": {
        "content": "content folder to build by default (relative to the project)",
        "out": "output folder (default: dist)",
        "layouts": "folder of layouts (default: layouts)",
        "fonts": "folder of bundled fonts (default: fonts)",
        "targets": "targets built when none are named (default: every layout and size)",
    },
    "print": {
        "bleed_mm": "bleed of press files (default: 3)",
        "safe_mm": "text keeps this far inside the trim (default: 5)",
        "paper_thickness_mm": "imposed booklets: creep per sheet (default: 0, none)",
        "output_profile": "press files' CMYK output intent, an .icc inside the project "
                          "(default: the bundled FOGRA39 profile)",
        "output_condition": "the printing condition the profile describes, as the printer "
                            "names it (default: FOGRA39)",
        "output_registry": "where that name is registered (default: http://www.color.org)",
        "ink_limit_pct": "most ink any press colour may lay down, C+M+Y+K (default: 300)",
    },
}


@dataclass(frozen=True)
class Project:
    """A project folder and its settings, all paths absolute."""

    root: Path
    content_dir: Path
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

    def relative(self, path: Path) -> str:
        """``path`` relative to the project root, as written in reports and manifests."""
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()


def find_project(start: Path) -> Path:
    """Return the nearest folder at or above ``start`` holding a ``pamphleteer.toml``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise ConfigError(
        f"no {CONFIG_NAME} in {start} or any folder above it; "
        "run pamphleteer inside a project folder or pass --project PATH"
    )


def _line_of(text: str, key: str) -> int:
    match = re.search(rf"^\s*{re.escape(key)}\s*=", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def icc_kind(file: Path) -> tuple[str, str] | None:
    """An ICC profile's device class and colour space (``("prtr", "CMYK")``) from its
    header, or None if the file is not an ICC profile: a PDF/X output intent must be a
    CMYK output profile, and a wrong file is better refused here than by the printer."""
    with file.open("rb") as f:
        header = f.read(40)
    if len(header) < 40 or header[36:40] != b"acsp":
        return None
    return header[12:16].decode("latin-1").strip(), header[16:20].decode("latin-1").strip()


def load_project(root: Path) -> Project:
    """Read and validate ``root/pamphleteer.toml``."""
    root = root.resolve()
    path = root / CONFIG_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from e
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: {e}; fix the TOML syntax") from e

    problems = []
    for table, value in data.items():
        if table not in SCHEMA:
            problems.append(
                f"{path}:{_line_of(text, '[' + table)}: [{table}]: unknown table; "
                f"allowed: {', '.join(SCHEMA)}"
            )
            continue
        for key in value:
            if key not in SCHEMA[table]:
                problems.append(
                    f"{path}:{_line_of(text, key)}: {table}.{key}: unknown key; "
                    f"allowed: {', '.join(SCHEMA[table])}"
                )
    project = data.get("project", {})
    printing = data.get("print", {})

    def folder(key: str, default: str) -> Path:
        value = project.get(key, default)
        if not isinstance(value, str):
            problems.append(f"{path}:{_line_of(text, key)}: project.{key}: must be a path")
            return root / default
        return (root / value).resolve()

    def number(key: str, default: float, low: float, high: float) -> float:
        value = printing.get(key, default)
        if not isinstance(value, int | float) or not low <= value <= high:
            problems.append(
                f"{path}:{_line_of(text, key)}: print.{key}: must be a number "
                f"from {low} to {high}"
            )
            return default
        return float(value)

    def text_value(key: str, default: str) -> str:
        value = printing.get(key, default)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{path}:{_line_of(text, key)}: print.{key}: must be a non-empty "
                            "string")
            return default
        return value

    def profile() -> Path:
        value = printing.get("output_profile")
        if value is None:
            return DEFAULT_PROFILE
        where = f"{path}:{_line_of(text, 'output_profile')}: print.output_profile"
        if not isinstance(value, str):
            problems.append(f"{where}: must be a path to an .icc file")
            return DEFAULT_PROFILE
        file = (root / value).resolve()
        if not file.is_relative_to(root):
            problems.append(f"{where}: {value} is outside the project; copy the profile into "
                            "the project and name it by a relative path")
        elif not file.is_file():
            problems.append(f"{where}: {value} does not exist; name the printer's CMYK .icc "
                            "file, relative to the project")
        elif (kind := icc_kind(file)) != ("prtr", "CMYK"):
            found = f"a {kind[0]}/{kind[1]} profile" if kind else "not an ICC profile"
            problems.append(f"{where}: {value} is {found}, not a CMYK output (prtr) profile; "
                            "ask the printer for their CMYK output profile")
        return file

    targets = project.get("targets", [])
    if not (isinstance(targets, list) and all(isinstance(t, str) for t in targets)):
        problems.append(
            f"{path}:{_line_of(text, 'targets')}: project.targets: "
            'must be a list of target names, e.g. ["poster", "leaflet-a4"]'
        )
        targets = []

    result = Project(
        root=root,
        content_dir=folder("content", "content"),
        out_dir=folder("out", "dist"),
        layouts_dir=folder("layouts", "layouts"),
        fonts_dir=folder("fonts", "fonts"),
        targets=tuple(targets),
        bleed_mm=number("bleed_mm", 3.0, 0.0, 10.0),
        safe_mm=number("safe_mm", 5.0, 0.0, 30.0),
        paper_thickness_mm=number("paper_thickness_mm", 0.0, 0.0, 1.0),
        output_profile=profile(),
        output_condition=text_value("output_condition", "FOGRA39"),
        output_registry=text_value("output_registry", "http://www.color.org"),
        ink_limit_pct=number("ink_limit_pct", 300.0, 100.0, 400.0),
    )
    if problems:
        raise ConfigError("; ".join(problems))
    return result
