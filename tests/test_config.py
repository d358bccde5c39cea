"""Settings and paths from outside: pamphleteer.toml, layout.toml, SOURCE_DATE_EPOCH, the
PATH of 'new' and the shards' manifests. Each bad one is exit 2 and one 'error:' line that
names the file, the line and the key; never a traceback. Nothing here renders a PDF.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import ROOT, assert_clean_failure, run
from pamphleteer.config import key_lines, load_project
from pamphleteer.errors import ConfigError
from pamphleteer.layouts import PAGE_RULES, SHEETS, load_layouts
from pamphleteer.outputs import MANIFEST, Manifest


@pytest.fixture
def project(tmp_path) -> Path:
    """The repository's settings and layouts (no fonts: only settings are read here)."""
    folder = tmp_path / "proj"
    folder.mkdir()
    shutil.copy(ROOT / "pamphleteer.toml", folder / "pamphleteer.toml")
    shutil.copytree(ROOT / "layouts", folder / "layouts")
    return folder


def test_default_settings_load(project):
    result = run("list", "--project", project)
    assert result.exit_code == 0, result.output


# --- bad settings -----------------------------------------------------------------------


def sub(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, f"{old!r} is no longer in the file"
        return text.replace(old, new, 1)
    return edit


def prepend(line: str) -> Callable[[str], str]:
    return lambda text: line + "\n" + text


def append(lines: str) -> Callable[[str], str]:
    return lambda text: text + "\n" + lines + "\n"


def replace_all(data: str | bytes) -> Callable[[str], str | bytes]:
    return lambda text: data


@dataclass
class Bad:
    """Edits to files of the project; the error must name ``file:line`` of ``needle``'s line
    (or ``line``) and each of ``parts``."""

    edits: dict[str, Callable[[str], str | bytes]]
    file: str
    needle: str | None
    parts: tuple[str, ...]
    line: int | None = None


CONFIG = "pamphleteer.toml"
LEAFLET = "layouts/leaflet/layout.toml"
POSTER = "layouts/poster/layout.toml"
BOOKLET = "layouts/booklet/layout.toml"
PLACARD = "layouts/placard/layout.toml"

BAD = {
    "project-not-a-table": Bad({CONFIG: replace_all('project = "x"\n')}, CONFIG,
                               'project = "x"', ("project:", "not a table")),
    "content-a-number": Bad({CONFIG: sub('content = "content/aleppo"', "content = 3")}, CONFIG,
                            "content = 3", ("project.content:", "3 is not a path")),
    "content-outside": Bad({CONFIG: sub('content = "content/aleppo"', 'content = "../elsewhere"')},
                           CONFIG, 'content = "../elsewhere"',
                           ("project.content:", "outside the project", "--content PATH")),
    "fonts-absolute": Bad({CONFIG: sub('fonts = "fonts"', 'fonts = "/etc"')}, CONFIG,
                          'fonts = "/etc"', ("project.fonts:", "outside the project")),
    "out-climbs-out": Bad({CONFIG: sub('out = "dist"', 'out = "dist/../../x"')}, CONFIG,
                          'out = "dist/../../x"', ("project.out:", "outside the project")),
    "bleed-true": Bad({CONFIG: sub("bleed_mm = 3 ", "bleed_mm = true ")}, CONFIG,
                      "bleed_mm = true", ("print.bleed_mm:", "true is not a number",
                                          "from 0 to 10")),
    "bleed-huge": Bad({CONFIG: sub("bleed_mm = 3 ", "bleed_mm = 1e9 ")}, CONFIG,
                      "bleed_mm = 1e9", ("print.bleed_mm:", "out of range")),
    "bleed-nan": Bad({CONFIG: sub("bleed_mm = 3 ", "bleed_mm = nan ")}, CONFIG,
                     "bleed_mm = nan", ("print.bleed_mm:", "out of range")),
    "config-unknown-key": Bad({CONFIG: append("bleed = 3")}, CONFIG, "bleed = 3",
                              ("print.bleed:", "unknown key", "did you mean bleed_mm?")),
    "config-unknown-table": Bad({CONFIG: append("[output]\nzip = true")}, CONFIG, "[output]",
                                ("output:", "unknown table", "allowed: project, print")),
    "config-not-toml": Bad({CONFIG: append("bleed_mm = = 3")}, CONFIG, "bleed_mm = = 3",
                           ("not TOML", "fix the syntax")),
    "config-not-utf8": Bad({CONFIG: replace_all(b'[print]\noutput_condition = "caf\xe9"\n')},
                           CONFIG, None, ("not UTF-8", "0xe9", "save the file as UTF-8"),
                           line=2),
    "size-misspelt-key": Bad({LEAFLET: sub("[sizes.a4]\nwidth_mm", "[sizes.a4]\nwidht_mm")},
                             LEAFLET, "widht_mm", ("sizes.a4.widht_mm:", "unknown key",
                                                   "did you mean width_mm?")),
    "size-too-small": Bad({LEAFLET: sub("width_mm = 210", "width_mm = 2")}, LEAFLET,
                          "width_mm = 2", ("sizes.a4.width_mm:", "from 10 to 2000")),
    "size-name-a-path": Bad({LEAFLET: append('[sizes."../x"]\nwidth_mm = 100\nheight_mm = 100')},
                            LEAFLET, '[sizes."../x"]', ('sizes."../x":', "not a plain name")),
    "fit-misspelt-key": Bad({POSTER: sub("[fit.headline]\nmin_pt", "[fit.headline]\nmix_pt")},
                            POSTER, "mix_pt", ("fit.headline.mix_pt:", "unknown key")),
    "fit-min-above-max": Bad({POSTER: sub("min_pt = 36", "min_pt = 1000")}, POSTER,
                             "min_pt = 1000", ("fit.headline.min_pt:", "more than max_pt")),
    "pages-a-string": Bad({LEAFLET: sub("pages = 2", 'pages = "two"')}, LEAFLET,
                          'pages = "two"', ("pages:", "not a whole number")),
    "pages-a-fraction": Bad({LEAFLET: sub("pages = 2", "pages = 2.5")}, LEAFLET,
                            "pages = 2.5", ("pages:", "not a whole number")),
    "needs-slogans-a-string": Bad({LEAFLET: sub("needs_slogans = true", 'needs_slogans = "yes"')},
                                  LEAFLET, "needs_slogans", ("needs_slogans:", "true or false")),
    "page-rule-unknown": Bad({BOOKLET: sub('"multiple-of-4"', '"multiple-of-8"')}, BOOKLET,
                             "page_rule", ("page_rule:", '"multiple-of-4"')),
    "impose-sheet-unknown": Bad({BOOKLET: sub('[impose.a5]\nsheet = "a4"',
                                              '[impose.a5]\nsheet = "a3"')},
                                BOOKLET, 'sheet = "a3"', ("impose.a5.sheet:", '"a4", "letter"')),
    "impose-unknown-size": Bad({BOOKLET: append('[impose.a6]\nsheet = "a4"')}, BOOKLET,
                               "[impose.a6]", ("impose.a6:", "not a size of this layout")),
    "impose-fold-unknown": Bad({BOOKLET: sub('[impose.a5]\nsheet = "a4"',
                                             '[impose.a5]\nsheet = "a4"\nfold = "accordion"')},
                               BOOKLET, "fold =", ("impose.a5.fold:", '"zine"')),
    "impose-grid-and-fold": Bad({BOOKLET: sub('[impose.a5]\nsheet = "a4"',
                                              '[impose.a5]\nsheet = "a4"\ngrid = [2, 1]\n'
                                              'fold = "zine"')},
                                BOOKLET, "fold =", ("impose.a5.fold:", "either a grid or a fold")),
    "impose-grid-bools": Bad({BOOKLET: sub('[impose.a5]\nsheet = "a4"',
                                           '[impose.a5]\nsheet = "a4"\ngrid = [true, 2]')},
                             BOOKLET, "grid =", ("impose.a5.grid[0]:", "not a whole number")),
    "style-name-not-css": Bad({LEAFLET: sub("[style]\n", '[style]\n"x;y" = "1mm"\n')},
                              LEAFLET, '"x;y"', ('style."x;y":', "not a CSS name")),
    "style-value-escapes": Bad({LEAFLET: sub('margin = "13mm"', 'margin = "1mm} body{x:y"')},
                               LEAFLET, "margin =", ("style.margin:", "not a CSS value")),
    "style-value-a-bool": Bad({LEAFLET: sub('margin = "13mm"', "margin = true")}, LEAFLET,
                              "margin =", ("style.margin:", "not a CSS value")),
    "layout-not-utf8": Bad({LEAFLET: replace_all(b'description = "caf\xe9"\n')}, LEAFLET, None,
                           ("not UTF-8", "save the file as UTF-8"), line=1),
    "layout-nul": Bad({LEAFLET: replace_all(b'description = "x"\n\0\n')}, LEAFLET, None,
                      ("NUL",), line=2),
    "layout-not-toml": Bad({LEAFLET: sub("pages = 2", "pages 2")}, LEAFLET, "pages 2",
                           ("not TOML", "fix the syntax")),
    "layout-huge-number": Bad({LEAFLET: sub("pages = 2", "pages = " + "9" * 5000)}, LEAFLET,
                              None, ("not TOML", "4300 digits", "fix the syntax")),
    "layout-nested-deep": Bad({LEAFLET: sub("pages = 2", "pages = " + "[" * 100_000)}, LEAFLET,
                              None, ("not TOML", "fix the syntax")),
    "layout-no-sizes": Bad({PLACARD: lambda t: re.sub(r"\[sizes\.[^\]]+\]\n.*\n.*\n", "", t)},
                           PLACARD, None, ("sizes:", "missing", "[sizes.NAME]"), line=1),
    "size-without-height": Bad({LEAFLET: sub("height_mm = 297\n", "")}, LEAFLET, "[sizes.a4]",
                               ("sizes.a4.height_mm:", "missing")),
    "extends-up-and-out": Bad({POSTER: prepend('extends = "../../etc"')}, POSTER, "extends",
                              ("extends:", '"../../etc" is not a plain name')),
    "extends-absolute": Bad({POSTER: prepend('extends = "/etc"')}, POSTER, "extends",
                            ("extends:", '"/etc" is not a plain name')),
    "extends-hidden": Bad({POSTER: prepend('extends = ".git"')}, POSTER, "extends",
                          ("extends:", "not a plain name")),
    "extends-unknown": Bad({POSTER: prepend('extends = "banner"')}, POSTER, "extends",
                           ("extends:", 'no layout "banner"', "booklet, flyer")),
    "extends-itself": Bad({POSTER: prepend('extends = "poster"')}, POSTER, "extends",
                          ("extends:", "poster -> poster is a cycle")),
    "extends-cycle": Bad({BOOKLET: prepend('extends = "placard"'),
                          PLACARD: prepend('extends = "booklet"')}, PLACARD, "extends",
                         ("extends:", "booklet -> placard -> booklet is a cycle")),
}


def _apply(project: Path, case: Bad) -> None:
    for name, edit in case.edits.items():
        path = project / name
        data = edit(path.read_text(encoding="utf-8"))
        (path.write_bytes if isinstance(data, bytes) else path.write_text)(data)


@pytest.mark.parametrize("case", list(BAD.values()), ids=list(BAD))
def test_bad_setting_is_one_line_naming_file_line_and_key(project, case):
    _apply(project, case)
    line = assert_clean_failure(run("list", "--project", project), 2)
    where = str(project / case.file)
    if case.needle is not None:
        text = (project / case.file).read_bytes().decode("latin-1")
        where += f":{text[:text.index(case.needle)].count(chr(10)) + 1}:"
    elif case.line is not None:
        where += f":{case.line}:"
    assert where in line, f"{where!r} not in the error line: {line}"
    for part in case.parts:
        assert part in line, f"{part!r} not in the error line: {line}"


def test_every_problem_of_a_file_is_reported_at_once(project):
    config = project / CONFIG
    config.write_text(config.read_text().replace('content = "content/aleppo"', "content = 3")
                      .replace("bleed_mm = 3 ", "bleed_mm = true ")
                      .replace("safe_mm = 5 ", "safe_mm = -1 ") + "colour = 1\n")
    line = assert_clean_failure(run("list", "--project", project), 2)
    for key in ("project.content", "print.bleed_mm", "print.safe_mm", "print.colour"):
        assert f"{key}:" in line, f"{key} not in the error line: {line}"
    assert line.count(f"{config}:") == 4


def test_every_layouts_problems_are_reported_together(project):
    for name, edit in ((LEAFLET, sub("pages = 2", 'pages = "two"')),
                       (LEAFLET, sub("[sizes.a4]\nwidth_mm", "[sizes.a4]\nwidht_mm")),
                       (POSTER, sub("max_pt = 900", "max_pt = 9000"))):
        path = project / name
        path.write_text(edit(path.read_text()))
    (project / "layouts" / "flyer" / "layout.toml").write_bytes(b"\xff")
    line = assert_clean_failure(run("list", "--project", project), 2)
    for part in ("leaflet/layout.toml:2: pages:", "leaflet/layout.toml:6: sizes.a4.widht_mm:",
                 "sizes.a4.width_mm: missing", "poster/layout.toml:", "fit.headline.max_pt:",
                 "flyer/layout.toml:1: not UTF-8"):
        assert part in line, f"{part!r} not in the error line: {line}"


def test_an_unreadable_layout_is_reported_with_the_others(project):
    (project / LEAFLET).unlink()
    (project / LEAFLET).mkdir()
    (project / POSTER).write_text('extends = "../../etc"\n' + (project / POSTER).read_text())
    line = assert_clean_failure(run("list", "--project", project), 2)
    assert f"{project / LEAFLET}: cannot read: Is a directory" in line
    assert f"{project / POSTER}:1: extends: " in line


def test_a_child_layout_may_leave_keys_to_its_parent(project):
    child = project / "layouts" / "handbill"
    child.mkdir()
    (child / "layout.toml").write_text('description = "DL"\nextends = "flyer"\n\n[sizes.dl]\n'
                                       "width_mm = 99\nheight_mm = 210\n\n"
                                       "[fit.headline]\nmin_pt = 30\n")
    layouts = load_layouts(project / "layouts")
    assert set(layouts["handbill"].sizes) == {"a6", "a5", "dl"}
    assert layouts["handbill"].fits["headline"].min_pt == 30
    assert layouts["handbill"].fits["headline"].max_pt == 200  # the flyer's
    # A value the child writes is reported against the child's file.
    (child / "layout.toml").write_text('extends = "flyer"\n[fit.headline]\nmin_pt = 300\n')
    with pytest.raises(ConfigError, match=r"handbill/layout\.toml:3: fit\.headline\.min_pt: "):
        load_layouts(project / "layouts")


def test_key_lines_follow_tables_and_dotted_keys():
    text = ('# a comment\nwidth_mm = 1\nsizes.a3.width_mm = 2\n[ sizes . "a4" ]\n'
            "height_mm = 3\nnote = '''\nwidth_mm = 4\n[fake]\n'''\n[fit.headline]\n"
            "width_mm = 5\n")
    lines = key_lines(text)
    assert lines[("width_mm",)] == 2
    assert lines[("sizes", "a3", "width_mm")] == 3
    assert lines[("sizes", "a4")] == 4
    assert lines[("sizes", "a4", "height_mm")] == 5
    assert ("fake",) not in lines and ("sizes", "a4", "width_mm") not in lines
    assert lines[("fit", "headline", "width_mm")] == 11


# --- SOURCE_DATE_EPOCH and paths --------------------------------------------------------


@pytest.mark.parametrize("value", ["99999999999", "253402300800", "1" * 5000, "-1", "1.5",
                                   "now", "", "²", " 1"],
                         ids=["after-2107", "after-9999", "5000-digits", "negative", "fraction",
                              "word", "empty", "superscript-digit", "space"])
def test_bad_source_date_epoch(project, tmp_path, monkeypatch, value):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    line = assert_clean_failure(run("build", "--project", project, "poster-a3", "--out",
                                    tmp_path / "out"), 2)
    assert "SOURCE_DATE_EPOCH" in line and "from 0 to 4354819199" in line
    assert not (tmp_path / "out").exists()


def test_new_below_a_file(tmp_path):
    (tmp_path / "notes").write_text("a file")
    for path in (tmp_path / "notes" / "x", tmp_path / "notes" / "x" / "y"):
        line = assert_clean_failure(run("new", path), 2)
        assert f"{tmp_path / 'notes'} is a file" in line


def test_new_where_it_cannot_write(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "mkdir", refuse)  # as root, no folder is read-only
    line = assert_clean_failure(run("new", tmp_path / "x"), 2)
    assert "Permission denied" in line and str(tmp_path / "x") in line


# --- merge ------------------------------------------------------------------------------


def _shard(folder: Path, files: dict[str, bytes], **changes) -> Path:
    """A shard's output folder as 'build --shard' leaves it; ``changes`` edit its manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    manifest = {"content": "content/aleppo", "source_date_epoch": 946684800, "outputs": [
        {"file": name, "pages": 1, "trim_mm": [210.0, 297.0], "bytes": len(data),
         "sha256": hashlib.sha256(data).hexdigest(), "inputs_sha256": "0" * 64}
        for name, data in files.items()]} | changes
    (folder / MANIFEST).write_text(json.dumps(manifest))
    return folder


def _entry(name: str, **changes) -> dict:
    return {"file": name, "pages": 1, "trim_mm": [210.0, 297.0], "bytes": 1,
            "sha256": "0" * 64, "inputs_sha256": "0" * 64} | changes


def test_merge_combines_shards(tmp_path):
    one = _shard(tmp_path / "one", {"poster-a3-desk.pdf": b"%PDF-a"})
    two = _shard(tmp_path / "two", {"poster-a3-press.pdf": b"%PDF-b"})
    result = run("merge", one, two, "--out", tmp_path / "out", "--zip")
    assert result.exit_code == 0, result.output
    merged = Manifest.read(tmp_path / "out")
    assert set(merged.entries) == {"poster-a3-desk.pdf", "poster-a3-press.pdf"}
    assert (tmp_path / "out" / "aleppo-kit.zip").is_file()


MERGE_BAD = {
    "parent-folder": ({"outputs": [_entry("../secret.pdf")]}, "outputs[0].file"),
    "absolute": ({"outputs": [_entry("/etc/passwd")]}, "outputs[0].file"),
    "backslash": ({"outputs": [_entry("..\\secret.pdf")]}, "outputs[0].file"),
    "hidden": ({"outputs": [_entry(".lock.pdf")]}, "outputs[0].file"),
    "not-a-pdf": ({"outputs": [_entry("manifest.json")]}, "outputs[0].file"),
    "nul": ({"outputs": [_entry("a\0.pdf")]}, "outputs[0].file"),
    "file-a-number": ({"outputs": [_entry(3)]}, "outputs[0].file"),
    "no-sha256": ({"outputs": [{"file": "a.pdf", "pages": 1, "trim_mm": [1, 1], "bytes": 1,
                                "inputs_sha256": "0" * 64}]}, "outputs[0].sha256: missing"),
    "trim-a-string": ({"outputs": [_entry("a.pdf", trim_mm="A4")]}, "outputs[0].trim_mm"),
    "pages-a-bool": ({"outputs": [_entry("a.pdf", pages=True)]}, "outputs[0].pages"),
    "outputs-a-table": ({"outputs": {}}, "outputs:"),
    "content-a-number": ({"content": 3}, "content:"),
    "epoch-a-string": ({"source_date_epoch": "1"}, "source_date_epoch:"),
    "epoch-after-2107": ({"source_date_epoch": 10**12}, "source_date_epoch:"),
    "missing-file": ({"outputs": [_entry("gone.pdf")]}, '"gone.pdf" is not a regular file'),
}


@pytest.mark.parametrize("changes, expected", list(MERGE_BAD.values()), ids=list(MERGE_BAD))
def test_merge_refuses_a_bad_manifest(tmp_path, changes, expected):
    good = _shard(tmp_path / "good", {"poster-a3-desk.pdf": b"%PDF-a"})
    bad = _shard(tmp_path / "bad", {}, **changes)
    line = assert_clean_failure(run("merge", good, bad, "--out", tmp_path / "out"), 2)
    assert f"{bad / MANIFEST}: " in line and expected in line, line
    assert "build that folder again" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text", ["", "{", "[1]", "\xff", "[" * 100_000],
                         ids=["empty", "truncated", "a-list", "not-utf8", "deep"])
def test_merge_refuses_a_manifest_that_is_not_one(tmp_path, text):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / MANIFEST).write_bytes(text.encode("latin-1"))
    line = assert_clean_failure(run("merge", bad, "--out", tmp_path / "out"), 2)
    assert str(bad / MANIFEST) in line
    assert not (tmp_path / "out").exists()


def test_merge_refuses_a_link_out_of_the_shard(tmp_path):
    (tmp_path / "secret.pdf").write_bytes(b"secret")
    shard = _shard(tmp_path / "shard", {})
    (shard / "poster-a3-desk.pdf").symlink_to(tmp_path / "secret.pdf")
    (shard / MANIFEST).write_text(json.dumps({
        "content": "c", "source_date_epoch": 0, "outputs": [_entry(
            "poster-a3-desk.pdf", sha256=hashlib.sha256(b"secret").hexdigest())]}))
    line = assert_clean_failure(run("merge", shard, "--out", tmp_path / "out"), 2)
    assert '"poster-a3-desk.pdf" is not a regular file' in line
    assert not (tmp_path / "out").exists()


def test_merge_refuses_a_changed_file(tmp_path):
    shard = _shard(tmp_path / "shard", {"poster-a3-desk.pdf": b"%PDF-a"})
    (shard / "poster-a3-desk.pdf").write_bytes(b"%PDF-b")
    line = assert_clean_failure(run("merge", shard, "--out", tmp_path / "out"), 2)
    assert "does not match its manifest entry" in line
    assert not (tmp_path / "out").exists()


def test_manifest_read_without_the_files(tmp_path):
    shard = _shard(tmp_path / "shard", {"poster-a3-desk.pdf": b"%PDF-a"})
    (shard / "poster-a3-desk.pdf").unlink()
    manifest = Manifest.read(shard, files=False)
    assert manifest.content == "content/aleppo" and manifest.source_date_epoch == 946684800
    assert manifest.entries["poster-a3-desk.pdf"]["bytes"] == 6


# --- any value: a loaded setting within the schema, or a ConfigError ---------------------

scalars = st.one_of(
    st.booleans(), st.integers(-2**63, 2**63 - 1), st.floats(), st.text(max_size=12),
    st.dates(), st.times(), st.datetimes(timezones=st.none() | st.just(UTC)),
)
anything = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)
numbers = st.one_of(st.integers(-10, 3000), st.floats(-10, 3000), st.sampled_from(
    [0, 1, 10, 2000, 1e9, -0.0, math.inf, math.nan]))
texts = st.one_of(st.text(max_size=12), st.sampled_from(
    ["a4", "content", "..", "../x", "/etc", ".git", "a/b", "", " ", "a\0b", "x\ny", "a\u2028b",
     "1mm} body{", "/* x", "margin-top", "half-letter", "poster", "a" * 300]))
wrong = st.one_of(anything, numbers, texts, st.sampled_from(["../base", "/tmp", "x"]))


def fields(keys: dict[str, st.SearchStrategy], required=()) -> st.SearchStrategy:
    """A table of some of ``keys``, and all of ``required``."""
    return st.fixed_dictionaries({k: v for k, v in keys.items() if k in required},
                                 optional={k: v for k, v in keys.items() if k not in required})


def within(low: float, high: float) -> st.SearchStrategy:
    return st.integers(math.ceil(low), math.floor(high)) | st.floats(low, high)


def _places(data: dict, key: tuple = ()) -> list[tuple]:
    """The key of every value in ``data``, at any depth (lists' items too)."""
    items = data.items() if isinstance(data, dict) else enumerate(data)
    places = []
    for name, value in items:
        places.append((*key, name))
        if isinstance(value, dict | list):
            places += _places(value, (*key, name))
    return places


def _at(data, key: tuple):
    for part in key:
        data = data[part]
    return data


@st.composite
def spoilt(draw, good: st.SearchStrategy) -> dict:
    """A document of good settings with a few values, at any depth, replaced by anything
    at all, and perhaps a table given a key the schema does not know."""
    data = draw(good)
    for _ in range(draw(st.integers(0, 3))):
        if places := _places(data):
            *table, name = draw(st.sampled_from(places))
            _at(data, table)[name] = draw(wrong)
    if draw(st.booleans()):
        tables = [()] + [p for p in _places(data) if isinstance(_at(data, p), dict)]
        _at(data, draw(st.sampled_from(tables)))[draw(st.text(max_size=6))] = draw(anything)
    return data


def toml_string(text: str) -> str:
    return '"' + "".join(c if c.isprintable() and c not in '"\\' or c == " "
                         else f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}"
                         for c in text) + '"'


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else "inf" if value > 0 else "-inf"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_string(k)} = {toml_value(v)}"
                               for k, v in value.items()) + "}"
    return value.isoformat()  # a date, time or date-time


def toml(data: dict, prefix: tuple[str, ...] = ()) -> str:
    """TOML text for ``data``: tables as [headers] (so that lines are looked up in them)."""
    text = "".join(f"{toml_string(k)} = {toml_value(v)}\n"
                   for k, v in data.items() if not isinstance(v, dict))
    for key, value in data.items():
        if isinstance(value, dict):
            header = ".".join(map(toml_string, (*prefix, key)))
            text += f"[{header}]\n" + toml(value, (*prefix, key))
    return text


pamphleteer_toml = spoilt(fields({
    "project": fields({
        **{key: st.sampled_from(["content", "dist", "out/x", "../elsewhere"])
           for key in ("content", "out", "layouts", "fonts")},
        "targets": st.lists(st.sampled_from(["poster", "leaflet-a4"]), max_size=2),
    }),
    "print": fields({
        "bleed_mm": within(0, 10), "safe_mm": within(0, 30),
        "paper_thickness_mm": within(0, 1), "ink_limit_pct": within(100, 400),
        "output_profile": st.sampled_from(["missing.icc", "a" * 300 + ".icc", ".", "../x"]),
        **{key: st.sampled_from(["FOGRA39", "Copy shop 3", "http://www.color.org"])
           for key in ("output_condition", "output_registry")},
    }),
}))
points = {"min_pt": within(1, 2000), "max_pt": within(1, 2000)}
size_names = st.sampled_from(["a4", "dl", "half-letter", "18x24in", "8.5x11in"])
layout_toml = spoilt(fields({
    "description": st.sampled_from(["A poster", "Ein Plakat für alle"]),
    "extends": st.just("base"),
    "pages": within(1, 1000), "page_rule": st.sampled_from(PAGE_RULES),
    "needs_slogans": st.booleans(), "safe_mm": within(0, 30), "viewing_cm": within(10, 10000),
    "sizes": st.dictionaries(size_names, fields({"width_mm": within(10, 2000),
                                                 "height_mm": within(10, 2000)},
                                                required=("width_mm", "height_mm")),
                             min_size=1, max_size=3),
    "style": st.dictionaries(st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True),
                             st.sampled_from(["12mm", "calc(var(--trim-w) * 0.06)", "40%", 2]),
                             max_size=3),
    "fit": st.dictionaries(st.sampled_from(["headline", "slogans"]),
                           fields(points | {"balance": st.booleans()}, required=tuple(points)),
                           max_size=2),
    "body_fit": fields(points | {"pointer": st.booleans()}, required=tuple(points)),
    "impose": st.dictionaries(size_names, fields({
        "sheet": st.sampled_from(list(SHEETS)),
        "grid": st.lists(st.integers(1, 10), min_size=2, max_size=2),
        "fold": st.sampled_from(["zine", "z"]),
    }, required=("sheet",)), max_size=2),
}, required=("sizes",)))

NAME_RE = r"[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*"


def number(value, low: float, high: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=pamphleteer_toml)
def test_any_pamphleteer_toml_loads_within_the_schema_or_is_a_config_error(data):
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "pamphleteer.toml").write_text(toml(data), encoding="utf-8")
        try:
            project = load_project(Path(tmp))
        except ConfigError as e:
            assert "\n" not in e.message and "Traceback" not in e.message
            return
    assert number(project.bleed_mm, 0, 10) and number(project.safe_mm, 0, 30)
    assert number(project.paper_thickness_mm, 0, 1) and number(project.ink_limit_pct, 100, 400)
    assert all(re.fullmatch(NAME_RE, t) for t in project.targets)
    for text in (project.output_condition, project.output_registry):
        assert isinstance(text, str) and text.strip() and text.isprintable()
    for folder in (project.content_dir, project.out_dir, project.layouts_dir, project.fonts_dir):
        assert isinstance(folder, Path) and folder.is_absolute()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=layout_toml)
def test_any_layout_toml_loads_within_the_schema_or_is_a_config_error(data):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in ("base", "x"):
            (root / name).mkdir()
        shutil.copy(ROOT / "layouts" / "flyer" / "layout.toml", root / "base" / "layout.toml")
        (root / "x" / "layout.toml").write_text(toml(data), encoding="utf-8")
        try:
            layout = load_layouts(root)["x"]
        except ConfigError as e:
            assert "\n" not in e.message and "Traceback" not in e.message
            return
    assert layout.sizes and layout.page_rule in PAGE_RULES
    for name, size in layout.sizes.items():
        assert re.fullmatch(NAME_RE, name) and size.name == name
        assert number(size.width_mm, 10, 2000) and number(size.height_mm, 10, 2000)
    for spec in [*layout.fits.values(), *filter(None, [layout.body_fit])]:
        assert number(spec.min_pt, 1, 2000) and number(spec.max_pt, spec.min_pt, 2000)
    assert all(isinstance(f.balance, bool) for f in layout.fits.values())
    assert isinstance(layout.pages, int) and number(layout.pages, 1, 1000)
    assert isinstance(layout.needs_slogans, bool) and number(layout.viewing_cm, 10, 10000)
    assert layout.safe_mm is None or number(layout.safe_mm, 0, 30)
    for key, value in layout.style.items():
        assert re.fullmatch(r"[a-z][a-z0-9-]*", key)
        assert not re.search(r"[;{}<>\\\n]|/\*", value)
    for size, imposition in layout.impose.items():
        assert size in layout.sizes and imposition.sheet in SHEETS
        assert imposition.grid is None or all(number(n, 1, 10) for n in imposition.grid)
        assert imposition.fold in (None, "zine") and not (imposition.grid and imposition.fold)
