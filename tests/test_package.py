"""Installed like any Python tool and used in any folder: the built-in layouts and fonts
inside the package, projects of one's own (``new``, ``copy-layout``), builds with no
project at all, and the error a machine without Pango gets.

The slow part builds the sdist and the wheel once per session, installs the wheel into a
fresh virtualenv and runs it as a new user would: in empty folders outside this clone,
with a HOME of its own. The rest runs in-process.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest

from helpers import (
    CONTENT,
    IMPOSED,
    KIT,
    PT_PER_MM,
    RISO_FILES,
    ROOT,
    SOCIAL,
    STICKER_FILES,
    TILED,
    VARIANTS,
    assert_clean_failure,
    expected_outputs,
    package_version,
    read_slogans,
    run,
    social_files,
    write_content,
)
from pamphleteer import cli, render
from pamphleteer.config import (
    BUILTIN_FONTS,
    BUILTIN_LAYOUTS,
    SCHEMA,
    ConfigError,
    discover_project,
    load_project,
    setting_defaults,
)
from pamphleteer.layouts import load_layouts

SLOGANS = ["Rent strike now!", "No evictions!", "Homes for all!"]
POSTER = ("poster-a3", "--variant", "desk")


def _origins(output: str) -> dict[str, str]:
    """``pamphleteer list``'s lines: target -> built-in or project."""
    found = {}
    for line in output.splitlines():
        match = re.match(r"(\S+)\s+[\d.]+×[\d.]+ mm\s+(?:press/desk/screen/mono(?:/riso)?|"
                         r"press/labels|social)(?:/\S+)?\s+(built-in|project)\b", line)
        assert match, f"unexpected line: {line!r}"
        found[match[1]] = match[2]
    return found


# --- with no project -----------------------------------------------------------------


def test_the_builtins_are_the_checkouts_own_folders():
    """In a source checkout (this one), the built-in layouts and fonts are the
    repository's top-level folders: an edit to them shows at once."""
    assert BUILTIN_LAYOUTS == ROOT / "layouts" and BUILTIN_FONTS == ROOT / "fonts"
    assert discover_project(ROOT).layout_roots() == (ROOT / "layouts",)


def test_build_with_no_project(tmp_path, monkeypatch):
    """Outside any project: the built-in layouts and defaults, outputs into ./dist/."""
    content = write_content(tmp_path / "pamphlets" / "rent-strike", slogans=SLOGANS)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = run("build", "--content", content, *POSTER)
    assert result.exit_code == 0, result.output
    manifest = json.loads((work / "dist" / "manifest.json").read_text())
    assert [e["file"] for e in manifest["outputs"]] == ["poster-a3-desk.pdf",
                                                        "poster-a3-tiled-a4.pdf"]
    assert manifest["content"] == content.as_posix()
    assert sorted(p.name for p in work.iterdir()) == ["dist"]  # nothing else written here

    result = run("build", "--content", content, "--out", tmp_path / "elsewhere", *POSTER)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "elsewhere" / "poster-a3-desk.pdf").is_file()


def test_list_with_no_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("list")
    assert result.exit_code == 0, result.output
    origins = _origins(result.output)
    assert set(origins.values()) == {"built-in"}
    assert {name.split("-")[0] for name in origins} == set(KIT) | {"sticker", "social"}


def test_build_with_no_project_needs_content(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = assert_clean_failure(run("build"), 2)
    assert f"no pamphleteer.toml in {tmp_path}" in line
    assert "--content" in line and "pamphleteer new" in line
    assert not (tmp_path / "dist").exists()


def test_content_that_is_a_project_says_how_to_build_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run("new", "rent-strike").exit_code == 0
    line = assert_clean_failure(run("build", "--content", "rent-strike"), 2)
    assert "rent-strike is a project, not a content folder" in line
    assert "--project rent-strike" in line


def test_a_project_above_applies(tmp_path, monkeypatch):
    """A pamphleteer.toml in the folder or above it applies, as it always has."""
    (tmp_path / "pamphleteer.toml").write_text('[project]\nout = "printed"\n')
    content = write_content(tmp_path / "content" / "x", slogans=SLOGANS)
    monkeypatch.chdir(content)
    result = run("build", "--content", ".", *POSTER)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "printed" / "poster-a3-desk.pdf").is_file()
    assert not (content / "dist").exists()


def test_fonts_default_to_the_builtin_ones(tmp_path):
    (tmp_path / "pamphleteer.toml").write_text("[project]\n")
    assert load_project(tmp_path).fonts_dir == BUILTIN_FONTS
    (tmp_path / "fonts").mkdir()
    assert load_project(tmp_path).fonts_dir == tmp_path / "fonts"


@pytest.mark.parametrize("key", ["fonts", "layouts"])
def test_a_folder_named_must_exist(tmp_path, key):
    """A misspelt folder must not quietly build with the built-in ones."""
    (tmp_path / "pamphleteer.toml").write_text(f'[project]\n{key} = "my-{key}"\n')
    with pytest.raises(ConfigError, match=rf'pamphleteer.toml:2: project.{key}: "my-{key}" '
                                          r"does not exist; create the folder"):
        load_project(tmp_path)


# --- new --------------------------------------------------------------------------------


def test_new_makes_a_complete_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("new", "rent-strike")
    assert result.exit_code == 0, result.output
    assert "cd rent-strike && pamphleteer build" in result.output
    project = tmp_path / "rent-strike"
    assert sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()) == [
        ".gitignore", "content/rent-strike/article.md", "content/rent-strike/slogans.md",
        "pamphleteer.toml"]
    assert "dist/" in (project / ".gitignore").read_text().splitlines()
    assert (project / "content/rent-strike/article.md").read_text() == cli.ARTICLE_TEMPLATE
    assert (project / "content/rent-strike/slogans.md").read_text() == cli.SLOGANS_TEMPLATE
    loaded = load_project(project)
    assert loaded.content_dir == project / "content" / "rent-strike"
    assert loaded.out_dir == project / "dist" and loaded.fonts_dir == BUILTIN_FONTS
    assert loaded.layout_roots() == (project / "layouts", BUILTIN_LAYOUTS)


def test_new_projects_toml_lists_every_setting_with_the_default_the_code_uses(tmp_path):
    assert run("new", tmp_path / "p").exit_code == 0
    text = (tmp_path / "p" / "pamphleteer.toml").read_text()
    tables = re.split(r"^\[(\w+)\]$", text, flags=re.MULTILINE)
    written = dict(zip(tables[1::2], tables[2::2], strict=True))
    assert list(written) == list(SCHEMA.keys)
    for table, spec in SCHEMA.keys.items():
        for key in spec.keys:
            assert re.search(rf"^(# )?{key} = ", written[table], re.MULTILINE), (table, key)
    # Every setting made live as written gives the very same project: the defaults the
    # file shows are the ones the code uses. (The profile's line is an example.)
    live = re.sub(r"^# (\w+ = )", r"\1", text, flags=re.MULTILINE)
    live = re.sub(r"^output_profile = .*$", "", live, flags=re.MULTILINE)
    assert live.count("\n# ") > 10  # the explanations stay comments
    data = tomllib.loads(live)
    for (table, key), value in setting_defaults().items():
        if value is not None and (table, key) != ("project", "content"):
            assert data[table][key] == value, (table, key)
    before = load_project(tmp_path / "p")
    (tmp_path / "p" / "pamphleteer.toml").write_text(live)
    assert load_project(tmp_path / "p") == before


def test_new_never_overwrites(tmp_path, monkeypatch):
    project = tmp_path / "rent-strike"
    assert run("new", project).exit_code == 0
    article = project / "content" / "rent-strike" / "article.md"
    article.write_text("mine")
    line = assert_clean_failure(run("new", project), 2)
    assert "already exists" in line
    assert article.read_text() == "mine"
    # An empty folder is fine: nothing in it to overwrite.
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path / "empty")
    assert run("new", ".").exit_code == 0
    assert (tmp_path / "empty" / "content" / "empty" / "article.md").is_file()


def test_new_inside_a_project_adds_a_pamphlet(tmp_path, monkeypatch):
    project = tmp_path / "rent-strike"
    assert run("new", project).exit_code == 0
    monkeypatch.chdir(project)
    result = run("new", "eviction")
    assert result.exit_code == 0, result.output
    assert "pamphleteer build --content content/eviction" in result.output
    assert (project / "content" / "eviction" / "slogans.md").read_text() == cli.SLOGANS_TEMPLATE
    assert not (project / "eviction").exists()
    assert_clean_failure(run("new", "eviction"), 2)  # never overwrites
    line = assert_clean_failure(run("new", "drafts/x"), 2)
    assert "is inside the project" in line and "pamphleteer new NAME" in line
    monkeypatch.chdir(project / "content")
    assert run("new", "strike-fund").exit_code == 0
    assert (project / "content" / "strike-fund" / "article.md").is_file()


# --- copy-layout and layouts in two places ----------------------------------------------


def _project(tmp: Path) -> Path:
    assert run("new", tmp / "p").exit_code == 0
    return tmp / "p"


def test_copy_layout_copies_a_builtin_layout_to_edit(tmp_path, monkeypatch):
    project = _project(tmp_path)
    monkeypatch.chdir(project)
    result = run("copy-layout", "poster")
    assert result.exit_code == 0, result.output
    assert "replaces the built-in one" in result.output and "style.css" in result.output
    copy = project / "layouts" / "poster"
    assert sorted(p.name for p in copy.iterdir()) == sorted(
        p.name for p in (BUILTIN_LAYOUTS / "poster").iterdir())
    origins = _origins(run("list").output)
    assert {t for t, o in origins.items() if o == "project"} == {
        f"poster-{size}" for size in KIT["poster"][1]}

    result = run("copy-layout", "poster", "poster-red")
    assert result.exit_code == 0, result.output
    assert "pamphleteer build poster-red" in result.output
    assert _origins(run("list").output)["poster-red-a3"] == "project"


def test_copy_layout_never_overwrites(tmp_path, monkeypatch):
    project = _project(tmp_path)
    monkeypatch.chdir(project)
    assert run("copy-layout", "flyer").exit_code == 0
    style = project / "layouts" / "flyer" / "style.css"
    style.write_text("/* mine */\n")
    line = assert_clean_failure(run("copy-layout", "flyer"), 2)
    assert f"{style.parent} already exists" in line and "copy-layout flyer NEW_NAME" in line
    assert style.read_text() == "/* mine */\n"


@pytest.mark.parametrize(("args", "needle"), [
    (("banner",), "no built-in layout 'banner'; copy one of booklet, flyer, leaflet"),
    (("poster", "../out"), "'../out' is not a layout name"),
    (("_base", "x"), "_base is what every layout shares"),
], ids=["unknown", "bad-name", "base-renamed"])
def test_copy_layout_bad_names(tmp_path, monkeypatch, args, needle):
    monkeypatch.chdir(_project(tmp_path))
    assert needle in assert_clean_failure(run("copy-layout", *args), 2)


def test_copy_layout_needs_a_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = assert_clean_failure(run("copy-layout", "poster"), 2)
    assert "no project to copy a layout into" in line and "pamphleteer new" in line
    assert list(tmp_path.iterdir()) == []


def test_a_projects_layouts_replace_and_extend_the_builtin_ones(tmp_path):
    project = _project(tmp_path)
    layouts = project / "layouts"
    shutil.copytree(BUILTIN_LAYOUTS / "poster", layouts / "poster")
    (layouts / "handbill").mkdir()
    (layouts / "handbill" / "layout.toml").write_text(
        'description = "DL"\nextends = "flyer"\n\n[sizes.dl]\nwidth_mm = 99\nheight_mm = 210\n')
    loaded = load_layouts(*load_project(project).layout_roots())
    base = BUILTIN_LAYOUTS / "_base"
    assert loaded["poster"].folders == (layouts / "poster", base)
    assert loaded["flyer"].folders == (BUILTIN_LAYOUTS / "flyer", base)
    assert loaded["handbill"].folders == (layouts / "handbill", BUILTIN_LAYOUTS / "flyer", base)
    assert set(loaded["handbill"].sizes) == {"a6", "a5", "dl"}
    # What a layout may read: its own folders, in whichever place each one is.
    assert loaded["poster"].roots() == (layouts / "poster", base)
    assert loaded["poster"].stylesheets() == [base / "print.css", layouts / "poster" / "style.css"]

    # A project's _base: its files replace the built-in ones, the rest still come from
    # the built-in _base; its words are merged over the built-in ones.
    (layouts / "_base" / "strings").mkdir(parents=True)
    (layouts / "_base" / "print.css").write_text("html { color: #111; }\n")
    (layouts / "_base" / "strings" / "en.toml").write_text('by = "Written by"\n')
    poster = load_layouts(*load_project(project).layout_roots())["poster"]
    assert poster.folders == (layouts / "poster", layouts / "_base", base)
    assert poster.stylesheets() == [layouts / "_base" / "print.css",
                                    layouts / "poster" / "style.css"]
    from pamphleteer.layouts import strings

    words = strings(poster, "en")
    assert words["by"] == "Written by"
    assert set(words) == set(tomllib.loads((base / "strings" / "en.toml").read_text()))


def test_a_copied_layout_builds_the_same_until_edited(tmp_path, monkeypatch):
    """The copy of a built-in layout is the same layout: nothing is rebuilt until it is
    edited, and then only what uses it."""
    project = _project(tmp_path)
    write_content(project / "content" / "p", slogans=SLOGANS)
    monkeypatch.chdir(project)
    targets = ("poster-a3", "flyer-a6", "--variant", "desk")
    assert run("build", *targets).exit_code == 0
    before = _digests(project / "dist")
    assert run("copy-layout", "poster").exit_code == 0
    result = run("build", *targets)
    assert result.exit_code == 0 and "0 built, 4 unchanged" in result.output, result.output
    style = project / "layouts" / "poster" / "style.css"
    style.write_text(style.read_text() + "\n:root { --accent: #1d4e89; }\n")
    assert run("build", *targets).exit_code == 0
    after = _digests(project / "dist")
    assert {f for f in before if before[f] != after[f]} == {"poster-a3-desk.pdf",
                                                            "poster-a3-tiled-a4.pdf"}


# --- system libraries ------------------------------------------------------------------


@pytest.mark.parametrize("jobs", ["1", "2"], ids=["this-process", "worker-processes"])
def test_missing_pango_is_one_line_naming_the_packages(tmp_path, monkeypatch, jobs):
    real_import = builtins.__import__

    def without_pango(name, *args, **kwargs):
        if name == "weasyprint":
            print("\n-----\n\nWeasyPrint could not import some external libraries.\n")
            raise OSError("cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot "
                          "open shared object file: No such file or directory")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_pango)
    monkeypatch.setattr(render, "_weasyprint", None)
    monkeypatch.chdir(tmp_path)
    content = write_content(tmp_path / "c", slogans=SLOGANS)
    result = run("build", "--content", content, "poster-a3", "--variant", "desk",
                 "--variant", "screen", "--jobs", jobs)
    line = assert_clean_failure(result, 1)
    assert "cannot load library 'libpango-1.0-0'" in line
    assert "apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0" in line
    assert "brew install pango harfbuzz" in line
    assert "-----" not in result.output  # WeasyPrint's own banner is not shown


# --- the installed wheel ---------------------------------------------------------------


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.glob("*.pdf"))}


@dataclass(frozen=True)
class Dists:
    sdist: Path
    wheel: Path


@pytest.fixture(scope="session")
def dists(tmp_path_factory) -> Dists:
    """The sdist, and the wheel built from it (as pip builds from an sdist): what a
    release would upload."""
    pytest.importorskip("build", reason="needs the dev group's 'build'")
    out = tmp_path_factory.mktemp("dists")
    done = subprocess.run([sys.executable, "-m", "build", "--outdir", out, ROOT],
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHONPATH": ""})
    assert done.returncode == 0, done.stdout + done.stderr
    [sdist], [wheel] = out.glob("*.tar.gz"), out.glob("*.whl")
    return Dists(sdist, wheel)


def test_dists_carry_layouts_fonts_and_licences(dists):
    version = package_version()
    assert dists.wheel.name == f"pamphleteer-{version}-py3-none-any.whl"
    with zipfile.ZipFile(dists.wheel) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(f"pamphleteer-{version}.dist-info/METADATA").decode()
    data = "pamphleteer/data/"
    for folder in ("layouts", "fonts"):
        shipped = {p.relative_to(ROOT).as_posix() for p in (ROOT / folder).rglob("*")
                   if p.is_file()}
        assert {data + name for name in shipped} <= names, folder
    assert "pamphleteer/profiles/pamphleteer-fogra39.icc" in names
    assert "pamphleteer/serve/static/index.html" in names
    for family in ("bebas-neue", "charis-sil", "noto-kufi-arabic", "noto-naskh-arabic"):
        assert f"pamphleteer-{version}.dist-info/licenses/fonts/{family}/OFL.txt" in names
    assert "License-Expression: MIT AND OFL-1.1 AND Zlib" in metadata
    assert not any(n.startswith(("tests/", "content/", "layouts/", "fonts/")) for n in names)
    with tarfile.open(dists.sdist) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    for path in ("layouts/poster/layout.toml", "layouts/_base/print.css",
                 "fonts/charis-sil/OFL.txt", "pamphleteer.toml", "README.md"):
        assert path in members, path


def test_twine_check_passes(dists):
    pytest.importorskip("twine", reason="needs the dev group's 'twine'")
    done = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", dists.sdist,
                           dists.wheel], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


@dataclass(frozen=True)
class Installed:
    venv: Path
    home: Path  # HOME (and so the caches) of every run: outside the clone

    def env(self) -> dict[str, str]:
        """This machine's environment as a user's shell has it: none of the test run's
        Python settings (PYTHONPATH=src), caches or fonts."""
        keep = {k: v for k, v in os.environ.items()
                if not k.startswith(("PYTHON", "VIRTUAL_ENV", "XDG_", "FONTCONFIG", "PIP_",
                                     "SOURCE_DATE_EPOCH"))}
        return {**keep, "HOME": str(self.home),
                "PATH": f"{self.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}

    def run(self, cwd: Path, *args: str | Path) -> subprocess.CompletedProcess:
        assert not cwd.resolve().is_relative_to(ROOT)
        return subprocess.run([self.venv / "bin" / "pamphleteer", *map(str, args)], cwd=cwd,
                              env=self.env(), capture_output=True, text=True, timeout=900,
                              stdin=subprocess.DEVNULL)

    def ok(self, cwd: Path, *args: str | Path) -> str:
        done = self.run(cwd, *args)
        assert done.returncode == 0, f"pamphleteer {' '.join(map(str, args))}:\n" + \
            done.stdout + done.stderr
        return done.stdout + done.stderr


@pytest.fixture(scope="session")
def installed(dists, tmp_path_factory) -> Installed:
    """The wheel installed into a fresh virtualenv, dependencies and all, by pip (from
    its usual cache and the registry)."""
    root = tmp_path_factory.mktemp("installed")
    venv, home = root / "venv", root / "home"
    home.mkdir()
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "XDG_CACHE_HOME"))}
    done = subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "--quiet",
                           "--disable-pip-version-check", dists.wheel],
                          capture_output=True, text=True, timeout=1800, env=env, cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    return Installed(venv, home)


@pytest.fixture(scope="session")
def new_project(installed, tmp_path_factory) -> Path:
    """'pamphleteer new rent-strike' in an empty folder, then 'pamphleteer build' in it."""
    work = tmp_path_factory.mktemp("work")
    installed.ok(work, "new", "rent-strike")
    installed.ok(work / "rent-strike", "build", "--jobs", "2")
    return work / "rent-strike"


def test_the_installed_package_reaches_no_file_of_the_clone(installed, tmp_path):
    probe = ("import json, sys, pamphleteer, pamphleteer.config as c; print(json.dumps("
             "{'file': pamphleteer.__file__, 'bundled': str(c.BUNDLED), 'path': sys.path}))")
    done = subprocess.run([installed.venv / "bin" / "python", "-c", probe], cwd=tmp_path,
                          env=installed.env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    site = installed.venv.resolve()
    assert Path(found["file"]).resolve().is_relative_to(site)
    bundled = Path(found["bundled"])
    assert bundled.is_relative_to(site) and bundled.name == "data"
    assert (bundled / "layouts" / "poster" / "layout.toml").is_file()
    assert (bundled / "fonts" / "charis-sil" / "OFL.txt").is_file()
    for entry in found["path"]:
        assert not Path(entry or tmp_path).resolve().is_relative_to(ROOT), entry
    assert not installed.home.resolve().is_relative_to(ROOT)


def test_installed_version_names_weasyprint(installed, tmp_path):
    out = installed.ok(tmp_path, "--version")
    assert re.fullmatch(rf"pamphleteer, version {re.escape(package_version())} "
                        r"\(WeasyPrint \d+[\w.]*\)\n", out), out


def test_installed_new_project_builds_the_whole_kit(new_project):
    dist = new_project / "dist"
    manifest = json.loads((dist / "manifest.json").read_text())
    assert manifest["content"] == "content/rent-strike"
    files = {e["file"]: e for e in manifest["outputs"]}
    slogans = read_slogans(new_project / "content" / "rent-strike")
    assert set(files) == ({o.file for o in expected_outputs()} | set(IMPOSED) | set(TILED)
                          | STICKER_FILES | RISO_FILES | social_files(len(slogans)))
    for name, entry in files.items():
        assert hashlib.sha256((dist / name).read_bytes()).hexdigest() == entry["sha256"], name
    with pikepdf.open(dist / "poster-a3-press.pdf") as pdf:
        trim = [float(v) / PT_PER_MM for v in pdf.pages[0].trimbox]
        assert trim[2] - trim[0] == pytest.approx(297, abs=0.1)
        assert trim[3] - trim[1] == pytest.approx(420, abs=0.1)
    with pikepdf.open(dist / "placard-a3-landscape-desk.pdf") as pdf:
        assert len(pdf.pages) == len(slogans)
    with pikepdf.open(dist / "booklet-a5-imposed-a4.pdf") as pdf:
        assert len(pdf.pages) % 2 == 0


def test_installed_build_with_no_project(installed, new_project, tmp_path):
    loose = tmp_path / "pamphlets" / "aleppo"
    shutil.copytree(CONTENT, loose)
    work = tmp_path / "elsewhere"
    work.mkdir()
    installed.ok(work, "build", "--content", loose, "poster-a3", "flyer-a6")
    manifest = json.loads((work / "dist" / "manifest.json").read_text())
    assert {e["file"] for e in manifest["outputs"]} == {
        f"{t}-{v}.pdf" for t in ("poster-a3", "flyer-a6") for v in (*VARIANTS, "riso")
    } | {"flyer-a6-4up-a4.pdf", "poster-a3-tiled-a4.pdf"}
    assert list(tmp_path.glob("**/pamphleteer.toml")) == []


def test_installed_copy_layout_changes_only_the_posters(installed, new_project, tmp_path):
    project = tmp_path / "rent-strike"
    shutil.copytree(new_project, project)  # moved: the build keys hold no paths
    before = _digests(project / "dist")
    out = installed.ok(project, "copy-layout", "poster")
    assert "layouts/poster" in out
    out = installed.ok(project, "build")
    # Every PDF, and each social card format (one output, a PNG per card).
    assert f"0 built, {len(before) + len(SOCIAL)} unchanged" in out, out
    listed = installed.run(project, "list")
    assert listed.returncode == 0, listed.stderr
    origins = _origins(listed.stdout)
    assert {t for t, o in origins.items() if o == "project"} == {
        f"poster-{size}" for size in KIT["poster"][1]}
    assert {o for t, o in origins.items() if not t.startswith("poster-")} == {"built-in"}

    style = project / "layouts" / "poster" / "style.css"
    style.write_text(style.read_text() + "\n:root { --accent: #1d4e89; }\n"
                     ".variant-press { --accent: device-cmyk(1 0.6 0 0.2); }\n")
    installed.ok(project, "build")
    after = _digests(project / "dist")
    assert set(after) == set(before)
    changed = {name for name in before if before[name] != after[name]}
    # (Not mono: its accent is the ink, whatever the layout's colour.)
    assert changed == {f"poster-{size}-{variant}.pdf" for size in KIT["poster"][1]
                       for variant in ("press", "desk", "screen")} | {
        f for f in TILED if f.startswith("poster-")}  # tiled from the changed desk files

