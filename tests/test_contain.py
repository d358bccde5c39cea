"""Containment: hostile content and layouts reach nothing outside what they may read.

Canaries are planted where secrets live: a dotfile at the project root, a file beside
the project, and a file reached through a symlink from the content folder. Each hostile
input must fail its output cleanly (one line, no traceback) or build without the
canary, and no output (PDF streams decompressed, text layer, attachments, HTML export)
may ever contain it.
"""

from __future__ import annotations

import os
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import assert_clean_failure, copy_project, pdf_texts, run, write_content
from pamphleteer import contain

CANARY = "CANARY-7f3a9c"
LEAFLET = ("leaflet-a4", "--variant", "desk", "--variant", "screen", "--html")
POSTER = ("poster-a3", "--variant", "desk", "--variant", "screen", "--html")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    """A project with canaries in the places content must never reach."""
    base = tmp_path_factory.mktemp("hostile")
    project = copy_project(base / "proj")
    (project / ".env").write_text(f"TOKEN={CANARY}-dotfile\n")
    (base / "beside.txt").write_text(f"{CANARY}-beside\n")
    (project / "content" / "other").mkdir(parents=True)
    (project / "content" / "other" / "secret.png").write_text(f"{CANARY}-other-content\n")
    return project


def _folder(project: Path, name: str, body: str = "Some text.\n", front=None,
            slogans=("One slogan!", "Two slogans!", "Three slogans!")) -> Path:
    folder = write_content(project / "content" / name, front=front, body=body,
                           slogans=list(slogans))
    link = folder / "link.png"
    if not link.is_symlink():
        link.symlink_to(project.parent / "beside.txt")
    return folder


def _leaks(out: Path) -> list[str]:
    """Every place in an output folder where the canary shows."""
    found = []
    for path in sorted(out.rglob("*")):
        if not path.is_file():
            continue
        if CANARY.encode() in path.read_bytes():
            found.append(f"{path.name}: raw bytes")
        if path.suffix != ".pdf":
            continue
        with pikepdf.open(path) as pdf:
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Stream):
                    try:
                        data = obj.read_bytes()
                    except (pikepdf.PdfError, zlib.error):
                        data = obj.read_raw_bytes()
                    if CANARY.encode() in data:
                        found.append(f"{path.name}: stream {obj.objgen}")
            if pdf.attachments:
                found.append(f"{path.name}: attachments {list(pdf.attachments)}")
        if any(CANARY in text for text in pdf_texts(path)):
            found.append(f"{path.name}: text layer")
    return found


@dataclass(frozen=True)
class Hostile:
    make: Callable[[Path], tuple[list, list[str]]]  # project -> (arguments, in the error)
    code: int = 1


def _body(name: str, body: str, *needles: str) -> Hostile:
    def make(project: Path):
        folder = _folder(project, name, body=body)
        return ["--content", folder, *LEAFLET], [f"{folder / 'article.md'}:", *needles]
    return Hostile(make)


def _layout_project(project: Path, name: str, file: str, edit: Callable[[str], str]) -> Path:
    """A project beside ``project`` whose poster layout's ``file`` is edited, with a
    canary at its own root."""
    layout = project.parent / f"layout-{name}"
    if not layout.exists():
        copy_project(layout)
        (layout / ".env").write_text(f"{CANARY}-layout-dotfile\n")
        path = layout / "layouts" / "poster" / file
        path.write_text(edit(path.read_text()))
    return layout


def _layout_css(name: str, rule: str, *needles: str) -> Hostile:
    def make(project: Path):
        layout = _layout_project(project, name, "style.css", lambda css: f"{css}\n{rule}\n")
        style = layout / "layouts" / "poster" / "style.css"
        line = len(style.read_text().splitlines())
        return (["--project", layout, "--content", _folder(project, "plain"), *POSTER],
                [f"{style}:{line}:", *needles])
    return Hostile(make)


def _layout_template(name: str, markup: str, *needles: str) -> Hostile:
    def make(project: Path):
        layout = _layout_project(project, name, "main.html.j2", lambda template: template.replace(
            "{% block body %}", "{% block body %}" + markup, 1))
        return (["--project", layout, "--content", _folder(project, "plain"), *POSTER],
                list(needles))
    return Hostile(make)


HOSTILE = {
    "attachment-link": _body("attach", 'Text <a rel="attachment" href="../../.env">x</a>.\n',
                             "attach"),
    "raw-img-dotfile": _body("img", 'Text.\n\n<img src="../../.env">\n', "../../.env"),
    "object": _body("object", 'Text.\n\n<object data="../../.env"></object>\n', "<object>"),
    "embed": _body("embed", 'Text.\n\n<embed src="../../.env">\n', "<embed>"),
    "iframe": _body("iframe", 'Text.\n\n<iframe src="../../.env"></iframe>\n', "<iframe>"),
    "style-attribute": _body("style", 'Text.\n\n<p style="background: url(../../.env)">x</p>\n',
                             "style="),
    "link-stylesheet": _body("link", 'Text.\n\n<link rel="stylesheet" href="../../.env">\n',
                             "<link>"),
    "style-import": _body("import", 'Text.\n\n<style>@import "../../.env";</style>\n',
                          "<style>"),
    "inline-svg": _body("svg", 'Text.\n\n<svg><image href="../../.env"/></svg>\n', "<svg>"),
    "srcset": _body("srcset", 'Text.\n\n<img src="x.png" srcset="../../.env 2x">\n', "srcset="),
    "image-absolute": _body("abs", "Text.\n\n![x](/etc/hostname)\n", "/etc/hostname"),
    "image-climbs-out": _body("climb", "Text.\n\n![x](" + "../" * 20 + "etc/hostname)\n",
                              "etc/hostname", "outside"),
    "image-encoded-dots": _body("encoded", "Text.\n\n![x](%2e%2e/%2e%2e/.env)\n", "outside"),
    "image-file-url": _body("fileurl", "Text.\n\n![x](file:///etc/hostname)\n", "file"),
    "image-other-content": _body("sibling", "Text.\n\n![x](../other/secret.png)\n", "outside"),
    "image-symlink-out": _body("symlink", "Text.\n\n![x](link.png)\n", "link.png", "outside"),
    "image-backslash": _body("backslash", "Text.\n\n<img src=\"..\\..\\.env\">\n",
                             "not a relative path"),
    "link-to-file": _body("filelink", "Text [x](../../.env).\n", "../../.env"),
    "javascript-link": _body("js", 'Text <a href="javascript:alert(1)">x</a>.\n',
                             "javascript:"),
    "css-url-dotfile": _layout_css("css-dotfile", ".x { background: url(../../.env) }",
                                   "outside the layout"),
    "css-import-beside": _layout_css("css-import", '@import "../../../beside.txt";',
                                     "outside the layout"),
    "css-file-url": _layout_css("css-file", "body { background: url(file:///etc/hostname) }",
                                "file"),
    "css-encoded-dots": _layout_css("css-encoded", "body { background: url(%2e%2e/%2e%2e/.env) }",
                                    "outside the layout"),
    "template-img": _layout_template("tpl-img", '<img src="file:///etc/hostname">',
                                     "/etc/hostname", "refused"),
    "template-relative-img": _layout_template("tpl-rel", '<img src="../../.env">', "refused"),
    "template-include": _layout_template("tpl-include", '{% include "../../.env" %}',
                                         "../../.env", "not found"),
}


@pytest.mark.parametrize("case", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_input_fails_its_output_and_leaks_nothing(hostile, tmp_path, case):
    args, needles = case.make(hostile)
    if "--project" not in args:
        args = ["--project", hostile, *args]
    out = tmp_path / "out"
    result = run("build", *args, "--jobs", "1", "--out", out)
    line = assert_clean_failure(result, case.code)
    for needle in needles:
        assert needle in line, f"{needle!r} not in: {line}"
    assert CANARY not in result.output
    assert _leaks(out) == []


def test_a_refusal_fails_only_the_outputs_that_show_it(hostile, tmp_path):
    """The body names a file outside: leaflets (which show the body) fail, the poster
    (which does not) builds."""
    folder = _folder(hostile, "partial", body="Text.\n\n![x](../../.env)\n")
    out = tmp_path / "out"
    result = run("build", "--project", hostile, "--content", folder, "leaflet-a4", "poster-a3",
                 "--variant", "desk", "--jobs", "1", "--out", out)
    line = assert_clean_failure(result, 1)
    assert "leaflet-a4-desk.pdf: refused:" in line
    assert "poster" not in line
    assert (out / "poster-a3-desk.pdf").is_file()
    assert not (out / "leaflet-a4-desk.pdf").exists()


def test_nothing_outside_is_opened(hostile, tmp_path):
    """Not even to hash it for the cache key: every file opened during a build of hostile
    content is inside the project (or the tool's own install and caches)."""
    folder = _folder(hostile, "opened", body="Text.\n\n![a](../../.env) ![b](link.png) "
                     "![c](%2e%2e/other/secret.png)\n")
    forbidden = {str(hostile / ".env"), str(hostile.parent / "beside.txt"),
                 str(hostile / "content" / "other" / "secret.png")}
    opened = []

    def hook(event, args):
        if event == "open" and args and isinstance(args[0], str | Path):
            if os.path.realpath(args[0]) in forbidden or str(args[0]) in forbidden:
                opened.append(str(args[0]))

    _AUDIT.append(hook)
    try:
        run("build", "--project", hostile, "--content", folder, "leaflet-a4", "--variant",
            "desk", "--jobs", "1", "--out", tmp_path / "out")
    finally:
        _AUDIT.remove(hook)
    assert opened == []


_AUDIT: list[Callable] = []
sys.addaudithook(lambda event, args: [hook(event, args) for hook in list(_AUDIT)])


def test_allowed_references_still_work(hostile, tmp_path):
    """What content may do: an image beside the article (named with URL escapes), one in
    a subfolder, web and mail links, and a symlink that stays inside."""
    from PIL import Image

    folder = _folder(hostile, "allowed", body=(
        "Text with [a link](https://example.org/) and [mail](mailto:a@example.org).\n\n"
        "![one](my%20photo.png)\n\n![two](img/two.png)\n\n![three](inside.png)\n"))
    Image.new("RGB", (600, 400), (30, 90, 160)).save(folder / "my photo.png")
    (folder / "img").mkdir(exist_ok=True)
    Image.new("RGB", (600, 400), (160, 90, 30)).save(folder / "img" / "two.png")
    (folder / "inside.png").symlink_to("img/two.png")
    out = tmp_path / "out"
    result = run("build", "--project", hostile, "--content", folder, "leaflet-a4",
                 "--variant", "desk", "--jobs", "1", "--out", out)
    assert result.exit_code == 0, result.output
    with pikepdf.open(out / "leaflet-a4-desk.pdf") as pdf:
        images = [o for o in pdf.objects if isinstance(o, pikepdf.Stream)
                  and o.get("/Subtype") == "/Image"]
    assert len(images) >= 2


def test_an_image_renamed_with_escapes_is_a_dependency(hostile, tmp_path):
    """``my%20photo.png`` names ``my photo.png``: editing that file rebuilds the leaflet."""
    from PIL import Image

    folder = _folder(hostile, "escaped", body="Text.\n\n![x](my%20photo.png)\n")
    Image.new("RGB", (600, 400), (30, 90, 160)).save(folder / "my photo.png")
    out = tmp_path / "out"
    args = ("build", "--project", hostile, "--content", folder, "leaflet-a4", "--variant",
            "desk", "--jobs", "1", "--out", out)
    assert run(*args).exit_code == 0
    before = (out / "leaflet-a4-desk.pdf").read_bytes()
    Image.new("RGB", (600, 400), (200, 20, 40)).save(folder / "my photo.png")
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "1 built" in result.output
    assert (out / "leaflet-a4-desk.pdf").read_bytes() != before


# --- properties: any reference is refused or lands inside ------------------------------

PROPERTY = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
_PIECES = st.sampled_from(["..", ".", "", "a", "b.png", "%2e%2e", "%2E.", "%2f", "%5c", "\\",
                           "~", "link.png", "sub", ".env", "%00", "//", "file:", "http:",
                           "C:", "?x=1", "#f", "%", "%zz", "€", " "])


@PROPERTY
@given(parts=st.lists(_PIECES, max_size=8), absolute=st.booleans())
def test_any_image_reference_is_refused_or_stays_inside(hostile, parts, absolute):
    folder = _folder(hostile, "property")
    (folder / "sub").mkdir(exist_ok=True)
    (folder / "b.png").write_bytes(b"png")
    ref = ("/" if absolute else "") + "/".join(parts)
    try:
        path = contain.reference(ref, folder)
    except contain.Refused as e:
        assert CANARY not in e.format_message()
        return
    assert path.is_file()
    assert path.resolve().is_relative_to(folder.resolve())


_URLS = st.one_of(
    st.lists(_PIECES, max_size=6).map("/".join),
    st.sampled_from(["javascript:alert(1)", "data:text/html,x", "data:image/png;base64,AA",
                     "file:///etc/passwd", "//evil.example/x", "https://example.org/x",
                     "mailto:x@example.org", "#top", "vbscript:x", " javascript:x"]),
)
_TAGS = st.sampled_from(["img", "a", "object", "embed", "iframe", "link", "p", "svg", "image",
                         "video", "source", "script", "style", "base", "form", "span"])
_ATTRS = st.sampled_from(["src", "href", "data", "style", "srcset", "poster", "rel",
                          "xlink:href", "background", "action", "class"])


@PROPERTY
@given(tag=_TAGS, attr=_ATTRS, url=_URLS, rel=st.sampled_from(["", "attachment", "nofollow"]))
def test_sanitized_html_names_no_file_outside(hostile, tag, attr, url, rel):
    """Whatever the element, attribute and URL, what survives sanitizing is a link to a
    web or mail address, an anchor, a data image, or a file inside the content folder."""
    folder = _folder(hostile, "property")
    html = f'<p>x <{tag} {attr}="{url}" rel="{rel}">y</{tag}></p>'
    clean, refused = contain.sanitize(html, folder)
    from tinyhtml5.parser import HTMLParser

    tree = HTMLParser(namespace_html_elements=False).parse_fragment(clean)
    for element in list(tree.iter())[1:]:  # below the fragment's root
        if not isinstance(element.tag, str):
            continue
        assert element.tag in contain.ELEMENTS
        assert "attachment" not in element.get("rel", "")
        for name, value in element.attrib.items():
            assert name in contain.ELEMENTS[element.tag] | contain.GLOBAL_ATTRIBUTES
            if name == "href":
                assert value.startswith(("#", "https://", "http://", "mailto:", "tel:"))
            if name == "src" and not value.startswith("data:image/"):
                assert contain.reference(value, folder).is_relative_to(folder.resolve())
    if tag not in contain.ELEMENTS or attr not in contain.ELEMENTS.get(tag, ()) | {"class"}:
        assert refused, f"{html} passed"
