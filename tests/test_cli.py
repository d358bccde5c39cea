"""The command line: version, help, list, and every kind of bad input failing cleanly.

A clean failure: the documented exit code, exactly one line starting with 'error:' that
names the file (or the thing) at fault, no traceback, and outputs already in --out untouched.
Negative cases build one small target so they stay fast.
"""

from __future__ import annotations

import gc
import re
import socket
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pikepdf
import pytest

from helpers import (
    CONTENT,
    IMPOSED,
    KIT,
    RISO_FILES,
    ROOT,
    STICKER_FILES,
    STICKERS,
    TILED,
    assert_clean_failure,
    copy_project,
    expected_outputs,
    package_version,
    read_article,
    run,
    write_content,
)

PLACARD = ("placard-a3-landscape", "--variant", "desk")
LEAFLET = ("leaflet-a4", "--variant", "desk")
ARTICLE_FRONT = {"title": "A title", "author": "An author"}
SLOGANS = ["Down with Assad!", "No to ISIS!"]


def test_version():
    """The version, and WeasyPrint's, which decides much of what the PDFs hold."""
    result = run("--version")
    assert result.exit_code == 0
    assert result.output.strip() == (f"pamphleteer, version {package_version()} "
                                     f"(WeasyPrint {version('weasyprint')})")


def test_help():
    result = run("--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output
    for command in ("build", "list"):
        assert re.search(rf"^\s+{command}\b", result.output, re.MULTILINE), command
    build_help = run("build", "--help")
    assert build_help.exit_code == 0
    for option in ("--project", "--content", "--out", "--variant"):
        assert option in build_help.output


def test_check_help_names_every_check():
    from pamphleteer.check import CHECKS

    named = run("check", "--help").output.split("Checks:")[1].split(".")[0]
    assert [c.strip() for c in named.split(",")] == list(CHECKS)


def test_help_names_every_layout_and_variant():
    """The overview says what the kit holds: a layout or variant added without a word
    there fails here."""
    from pamphleteer.layouts import available_layouts
    from pamphleteer.targets import VARIANTS

    words = {"press": "press files", "desk": "desk files", "screen": "screen files",
             "labels": "stickers", "social": "cards for phones", "mono": "copier files",
             "riso": "risograph masters"}
    overview = " ".join(run("--help").output.split()).lower()
    assert set(words) == set(VARIANTS)
    for name in available_layouts(ROOT / "layouts"):
        assert (words["social"] if name == "social" else f"{name}s") in overview, name
    for variant, word in words.items():
        assert word in overview, variant


def test_list_shows_every_target_and_size():
    result = run("list", "--project", ROOT)
    assert result.exit_code == 0, result.output
    listed = {}
    for line in result.output.splitlines():
        match = re.match(r"(\S+)\s+([\d.]+)×([\d.]+) mm\s+(press/desk/screen/mono(?:/riso)?|"
                         r"press/labels|social)((?:/(?:\d+up|imposed|tiled)-\S+?)*)\s", line)
        assert match, f"unexpected line: {line!r}"
        made = set(filter(None, (match.group(5) or "").split("/")))  # from the desk file
        assert made == {f[len(match.group(1)) + 1:-4] for f in {*IMPOSED, *TILED}
                        if f.startswith(match.group(1) + "-")}, line
        if match.group(1).startswith("social-"):
            assert match.group(4) == "social"
            continue
        assert (match.group(4) == "press/labels") == match.group(1).startswith("sticker-"), line
        assert match.group(4).endswith("/riso") == (f"{match.group(1)}-riso.pdf" in RISO_FILES)
        listed[match.group(1)] = (float(match.group(2)), float(match.group(3)))
    expected = {f"{layout}-{size}": dims
                for layout, (_, sizes) in KIT.items() for size, dims in sizes.items()}
    expected |= {f"sticker-{size}": dims for size, (dims, _) in STICKERS.items()}
    assert set(listed) == set(expected)
    for name, dims in expected.items():
        assert listed[name] == pytest.approx(dims, abs=0.05), name


def test_list_of_a_missing_project(tmp_path):
    line = assert_clean_failure(run("list", "--project", tmp_path / "nope"), 2)
    assert f"{tmp_path / 'nope' / 'pamphleteer.toml'}: cannot read" in line


# --- bad input ------------------------------------------------------------------------------


@dataclass
class Bad:
    """A bad input: ``make(tmp_path, project)`` returns the build arguments and what the error
    line must contain."""

    make: Callable[[Path, Path], tuple[list, list[str]]]
    code: int


def _content(tmp: Path, **kwargs) -> Path:
    kwargs.setdefault("front", ARTICLE_FRONT)
    kwargs.setdefault("slogans", SLOGANS)
    return write_content(tmp / "content", **kwargs)


def _missing_folder(tmp, project):
    return ["--content", tmp / "nope", *PLACARD], [str(tmp / "nope"), "not found"]


def _missing_article(tmp, project):
    folder = tmp / "content"
    folder.mkdir()
    (folder / "slogans.md").write_text("- One\n")
    return ["--content", folder, *PLACARD], [str(folder / "article.md"), "not found"]


def _yaml_error(tmp, project):
    folder = _content(tmp, front="title: Aleppo: stop the bombing\n")
    return ["--content", folder, *PLACARD], [f"{folder / 'article.md'}:2:", "YAML"]


def _unknown_key(tmp, project):
    folder = _content(tmp, front="title: T\nsubtitle: S\n")
    return ["--content", folder, *PLACARD], [
        f"{folder / 'article.md'}:3:", "'subtitle'",
        "allowed: title, headline, standfirst, author, source, lang, date"]


def _missing_title(tmp, project):
    folder = _content(tmp, front="author: A\n")
    return ["--content", folder, *PLACARD], [str(folder / "article.md"), "title"]


def _no_slogans(tmp, project):
    folder = _content(tmp, slogans="<!-- to do -->\n\n")
    return ["--content", folder, *PLACARD], [str(folder / "slogans.md"), "no slogans",
                                             "placard-a3-landscape"]


def _no_slogans_file(tmp, project):
    folder = _content(tmp, slogans=None)
    return ["--content", folder, *PLACARD], [str(folder / "slogans.md"), "no slogans"]


def _unknown_target(tmp, project):
    return ["--content", _content(tmp), "leaflet-a9"], ["'leaflet-a9'", "pamphleteer list"]


def _broken_project(tmp: Path, edit: Callable[[Path], None]) -> Path:
    project = copy_project(tmp / "proj")
    edit(project / "layouts" / "placard")
    return project


def _insert_line(path: Path, number: int, line: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(number - 1, line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _jinja_syntax(tmp, project):
    template = tmp / "proj" / "layouts" / "placard" / "main.html.j2"
    project = _broken_project(tmp, lambda d: _insert_line(d / "main.html.j2", 3, "{% if %}"))
    return (["--project", project, "--content", _content(tmp), *PLACARD],
            [f"{template}:3:", "syntax"])


def _jinja_undefined(tmp, project):
    project = _broken_project(
        tmp, lambda d: _insert_line(d / "main.html.j2", 3, "<p>{{ article.subtitel }}</p>"))
    return (["--project", project, "--content", _content(tmp), *PLACARD],
            [f"{tmp / 'proj' / 'layouts' / 'placard' / 'main.html.j2'}:3", "subtitel"])


def _css_network(tmp, project):
    url = "https://example.com/bg.png"
    project = _broken_project(tmp, lambda d: (d / "style.css").write_text(
        (d / "style.css").read_text() + f'\n.placard {{ background-image: url("{url}"); }}\n'))
    return ["--project", project, "--content", _content(tmp), *PLACARD], [url, "refused"]


def _image_missing(tmp, project):
    folder = _content(tmp, body="Text.\n\n![x](missing.png)\n")
    return ["--content", folder, *LEAFLET], [str(folder / "missing.png")]


def _image_network(tmp, project):
    url = "https://example.com/a.png"
    folder = _content(tmp, body=f"Text.\n\n![x]({url})\n")
    return ["--content", folder, *LEAFLET], [url, "refused"]


def _image_outside_relative(tmp, project):
    folder = _content(tmp, body="Text.\n\n![x](" + "../" * 30 + "etc/hosts)\n")
    return ["--content", folder, *LEAFLET], ["/etc/hosts", "refused"]


def _image_outside_absolute(tmp, project):
    folder = _content(tmp, body="Text.\n\n![x](file:///etc/passwd)\n")
    return ["--content", folder, *LEAFLET], ["/etc/passwd", "refused"]


def _raw_html_img(tmp, project):
    folder = _content(tmp, body='Text.\n\n<img src="http://127.0.0.1:9/x.png">\n')
    return ["--content", folder, *LEAFLET], ["http://127.0.0.1:9/x.png", "refused"]


LONG_WORD = "AEIOU" * 40


def _unfittable(tmp, project):
    folder = _content(tmp, slogans=["No to ISIS!", LONG_WORD])
    return ["--content", folder, *PLACARD], [LONG_WORD[:40], "placard-a3-landscape-desk.pdf"]


def _emoji(tmp, project):
    folder = _content(tmp, slogans=["No to ISIS!", "Peace 😀 now"])
    return ["--content", folder, *PLACARD], [f"{folder / 'slogans.md'}:2", "U+1F600"]


def _cjk_title(tmp, project):
    folder = _content(tmp, front={"title": "和平 now"})
    return ["--content", folder, *PLACARD], [f"{folder / 'article.md'}", "title", "U+548C"]


BAD = {
    "missing-content-folder": Bad(_missing_folder, 2),
    "missing-article": Bad(_missing_article, 2),
    "yaml-syntax-error": Bad(_yaml_error, 2),
    "unknown-front-matter-key": Bad(_unknown_key, 2),
    "missing-title": Bad(_missing_title, 2),
    "empty-slogans-list": Bad(_no_slogans, 2),
    "no-slogans-file": Bad(_no_slogans_file, 2),
    "unknown-target": Bad(_unknown_target, 2),
    "jinja-syntax-error": Bad(_jinja_syntax, 1),
    "jinja-undefined-variable": Bad(_jinja_undefined, 1),
    "stylesheet-network-url": Bad(_css_network, 1),
    "image-missing": Bad(_image_missing, 1),
    "image-network-url": Bad(_image_network, 1),
    "raw-html-network-url": Bad(_raw_html_img, 1),
    "image-outside-project-relative": Bad(_image_outside_relative, 1),
    "image-outside-project-file-url": Bad(_image_outside_absolute, 1),
    "unfittable-slogan": Bad(_unfittable, 1),
    "glyph-missing-emoji": Bad(_emoji, 2),
    "glyph-missing-cjk": Bad(_cjk_title, 2),
}


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection is recorded and refused."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access attempted in a test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def _existing_outputs(out: Path) -> dict[Path, bytes]:
    """A previous build's outputs (stand-ins), which a failed build must leave as they are."""
    out.mkdir()
    files = {}
    for exp in expected_outputs():
        path = out / exp.file
        files[path] = f"%PDF-1.7\n% earlier build of {exp.file}\n".encode()
        path.write_bytes(files[path])
    return files


@pytest.mark.parametrize("case", list(BAD.values()), ids=list(BAD))
def test_bad_input_fails_cleanly(tmp_path, project_dir, no_network, case):
    args, expected = case.make(tmp_path, project_dir)
    if "--project" not in args:
        args = ["--project", project_dir, *args]
    out = tmp_path / "out"
    before = _existing_outputs(out)
    result = run("build", *args, "--out", out)
    line = assert_clean_failure(result, case.code)
    for part in expected:
        assert part in line, f"{part!r} not in the error line: {line}"
    assert no_network == [], "a network connection was attempted"
    for path, data in before.items():
        assert path.read_bytes() == data, f"{path.name} was changed by a failed build"
    leftovers = [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert not leftovers, f"temporary files left behind: {leftovers}"


def test_unknown_variant_is_a_usage_error(project_dir):
    result = run("build", "--project", project_dir, "placard", "--variant", "glossy")
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "Invalid value for '--variant'" in result.output
    assert "'glossy'" in result.output


# --- good input -----------------------------------------------------------------------------


def _png(path: Path, size=(60, 40)) -> None:
    from PIL import Image

    Image.new("RGB", size, (200, 16, 46)).save(path)


def _images(pdf: pikepdf.Pdf) -> list[pikepdf.Stream]:
    return [obj for obj in pdf.objects
            if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image"]


def test_image_beside_the_article_is_printed(tmp_path, project_dir, no_network):
    front, paragraphs = read_article(CONTENT)
    body = "\n\n".join([paragraphs[0], "![A photograph](photo.png)", *paragraphs[1:]]) + "\n"
    folder = _content(tmp_path, front=front, body=body,
                      slogans=(CONTENT / "slogans.md").read_text())
    _png(folder / "photo.png", (1400, 980))  # enough pixels for a column at 300 ppi
    out = tmp_path / "out"
    result = run("build", "--project", project_dir, "--content", folder, "--out", out, *LEAFLET)
    assert result.exit_code == 0, result.output
    with pikepdf.open(out / "leaflet-a4-desk.pdf") as pdf:
        sizes = [(int(i.Width), int(i.Height)) for i in _images(pdf)]
    assert (1400, 980) in sizes
    assert no_network == []


def test_build_writes_outputs_and_manifest(tmp_path, project_dir):
    folder = _content(tmp_path)
    out = tmp_path / "out"
    result = run("build", "--project", project_dir, "--content", folder, "--out", out, "placard",
                 "--jobs", "2")  # the parallel path, as users run it by default
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.glob("*.pdf"))
    tiled = {f for f in TILED if f.startswith("placard-")}  # 1 map + 4 sheets a slogan
    assert files == sorted({e.file for e in expected_outputs(("placard",))} | tiled
                           | {f for f in RISO_FILES if f.startswith("placard-")})
    for name in set(files) - tiled:
        drums = 2 if name.endswith("-riso.pdf") else 1  # a page per slogan, per riso drum
        with pikepdf.open(out / name) as pdf:
            assert len(pdf.pages) == len(SLOGANS) * drums
    assert (out / "manifest.json").is_file()


def test_build_leaves_no_file_open(tmp_path):
    """Fonts and PDFs read during a build are closed (a fresh fonts/ copy, so nothing is
    served from a cache)."""
    project = copy_project(tmp_path / "proj")
    folder = _content(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        result = run("build", "--project", project, "--content", folder, "--out",
                     tmp_path / "out", *PLACARD)
        gc.collect()
    assert result.exit_code == 0, result.output
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert not leaks


def test_a_failed_output_does_not_stop_the_others(tmp_path, project_dir):
    """One output failing (the leaflet's missing image) leaves the others built, exit 1."""
    folder = _content(tmp_path, body="Text.\n\n![x](missing.png)\n")
    out = tmp_path / "out"
    result = run("build", "--project", project_dir, "--content", folder, "--out", out,
                 "leaflet-a4", "placard-a3-landscape", "--variant", "desk", "--jobs", "1")
    assert_clean_failure(result, 1)
    assert (out / "placard-a3-landscape-desk.pdf").is_file()
    assert not (out / "leaflet-a4-desk.pdf").exists()


def test_a_content_error_is_said_once_however_many_files_it_fails(tmp_path, project_dir):
    """Refused content fails every file that shows it with the same words: the line the
    build ends with says them once, with the first file and how many more."""
    folder = _content(tmp_path, body="Text.\n\n<script>alert(1)</script>\n")
    result = run("build", "--project", project_dir, "--content", folder, "--out",
                 tmp_path / "out", "leaflet", "--variant", "desk", "--jobs", "1")
    line = assert_clean_failure(result, 1)
    assert line.count("<script> is not allowed") == 1, line
    assert "output(s) failed: leaflet-a4-desk.pdf (and 1 more): refused: " in line, line


def test_a_content_error_is_said_once_across_editions(tmp_path, project_dir):
    """In a build of several editions each file's error starts with its folder: the
    last line still says the refusal once, after the first file, folder and all."""
    folder = _content(tmp_path, body="Text.\n\n<script>alert(1)</script>\n")
    (folder / "editions.csv").write_text(
        "id,group,date,place\nleeds,Leeds group,2026-12-12,Hall\n"
        "york,York group,2026-12-13,Hall\n", encoding="utf-8")
    result = run("build", "--project", project_dir, "--content", folder, "--out",
                 tmp_path / "out", "--all-editions", "leaflet-a4", "--variant", "desk",
                 "--jobs", "1")
    line = assert_clean_failure(result, 1)
    assert line.count("<script> is not allowed") == 1, line
    assert "output(s) failed: leeds/leaflet-a4-desk.pdf (and 1 more): refused: " in line, line


@pytest.mark.parametrize("target", ["flyer-a6", "flyer-a5", "poster-a3", "placard-a3-landscape",
                                    "leaflet-a4", "booklet-a5"])
def test_short_content_builds_on_every_layout(tmp_path, project_dir, target):
    """A one-line article, two short slogans, no standfirst: fitted texts set larger, the
    leaflet and booklet keep their page rules (the build checks them)."""
    folder = _content(tmp_path, front={"title": "Stop the bombing"}, slogans=["One", "Two"])
    result = run("build", "--project", project_dir, "--content", folder, "--out",
                 tmp_path / "out", target, "--variant", "desk")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("slogan", ["Tự do!", "Нет войне!", "Ђорђе!", "Żądamy pokoju!"],
                         ids=["vietnamese", "russian", "serbian", "polish"])
def test_short_slogans_in_other_languages_build(tmp_path, project_dir, slogan):
    """Letters the display face lacks fall back to Charis SIL (fonts/README.md); a short
    slogan set large with them must still build, its ink well inside the safe area."""
    folder = _content(tmp_path, slogans=[slogan])
    result = run("build", "--project", project_dir, "--content", folder, "--out",
                 tmp_path / "out", *PLACARD)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("css", [
    # WeasyPrint 70 asserts on a floated first letter in columns (while laying out)...
    ".columns > p:first-of-type::first-letter { float: left; font-size: 3.2em; }",
    # ...and cannot write a gradient between CMYK colours (while writing the PDF)
    ".columns { background: linear-gradient(device-cmyk(0 0 0 0.1), device-cmyk(0 0 0 0)); }",
])
def test_renderer_crash_is_one_line_naming_the_output(tmp_path, css):
    """Bugs of the renderer that a layout edit can trigger, reported like any other
    failure."""
    project = copy_project(tmp_path / "proj")
    style = project / "layouts" / "leaflet" / "style.css"
    style.write_text(style.read_text() + "\n" + css + "\n")
    result = run("build", "--project", project, "--content", CONTENT, "--out",
                 tmp_path / "out", "--jobs", "1", *LEAFLET)
    line = assert_clean_failure(result, 1)
    assert "leaflet-a4-desk.pdf: the renderer failed" in line


def test_new_scaffolds_a_project_the_whole_kit_builds_from(tmp_path, monkeypatch):
    folder = tmp_path / "rent-strike"
    result = run("new", folder)
    assert result.exit_code == 0, result.output
    monkeypatch.chdir(folder)
    build = run("build", "--jobs", "2")
    assert build.exit_code == 0, build.output
    made = len(list((folder / "dist").glob("*.pdf")))
    assert made == (len(expected_outputs()) + len(IMPOSED) + len(TILED) + len(STICKER_FILES)
                    + len(RISO_FILES))
    assert_clean_failure(run("new", folder), 2)  # never overwrites


def test_small_press_text_in_rgb_fails_the_press_file_only(tmp_path):
    """Four-colour or RGB black under 12 pt blurs on a press: only pure K passes."""
    project = copy_project(tmp_path / "proj")
    style = project / "layouts" / "flyer" / "style.css"
    style.write_text(style.read_text() + "\n.byline { color: rgb(20, 20, 20); }\n")
    result = run("build", "flyer-a6", "--project", project, "--content", CONTENT, "--out",
                 tmp_path / "out", "--jobs", "1")
    line = assert_clean_failure(result, 1)
    assert "flyer-a6-press.pdf: text-size: page 1:" in line and "pure K" in line
    assert (tmp_path / "out" / "flyer-a6-desk.pdf").is_file()
    assert not (tmp_path / "out" / "flyer-a6-press.pdf").exists()
