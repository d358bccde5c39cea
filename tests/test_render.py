"""The renderer over many documents, as a build of many editions uses it."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

from helpers import FONTS, ROOT
from pamphleteer.render import Renderer

HTML = ("<html><body><p style='font-family: \"Charis SIL\"'>" + "Solidarity now. " * 300
        + "</p></body></html>")


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        return int(status.read().split("VmRSS:")[1].split()[0]) / 1024


def test_memory_does_not_grow_with_the_documents_laid_out(tmp_path):
    """Each layout used to leak a Pango font map (a font configuration per document):
    about 0.2 MiB a document, 370 MiB at 200 editions."""
    renderer = Renderer(FONTS)

    def lay_out(count: int) -> None:
        for _ in range(count):
            renderer.pdf(renderer.layout(HTML, tmp_path, "probe", ()), "probe")
        gc.collect()

    lay_out(10)
    before = _rss_mib()
    lay_out(60)
    assert _rss_mib() - before < 4, "laying out 60 documents grew the process by 4 MiB"


def test_no_layout_sets_text_with_explicit_font_features():
    """WeasyPrint leaks a Pango attribute list for every run of text laid out with
    explicit OpenType features (``font-kerning: normal`` is one): 22 MiB over a build of
    200 editions. Kerning and common ligatures are on by default; a layout that needs
    another feature should know what it costs. WeasyPrint keeps every feature string
    it has set in ``font_config.font_features``: after a sketch of every layout, in
    every language, there must be none."""
    import dataclasses

    from pamphleteer.config import load_project
    from pamphleteer.content import languages, load_content
    from pamphleteer.editions import load_editions
    from pamphleteer.targets import plan
    from pamphleteer.typeset import Typesetter, geometry

    project = load_project(ROOT)
    renderer = Renderer(project.fonts_dir)
    langs = languages(project.content_dir)
    editions = {e.lang: e for e in load_editions(project.content_dir, langs)}
    one_per_layout = {t.layout.name: t for t in plan(project, (), ("press", "social"))}
    assert set(one_per_layout) == {p.name for p in (ROOT / "layouts").glob("[!_]*/")}
    for lang in langs:
        content = dataclasses.replace(load_content(project.content_dir, lang),
                                      edition=editions.get(lang))
        for target in one_per_layout.values():
            Typesetter(renderer, target, content, geometry(target, project), None).layout()
    assert renderer.font_config.font_features == {}


def test_the_renderer_starts_without_running_a_compiler(tmp_path):
    """WeasyPrint tries several names for each library it loads, and the standard
    search runs ldconfig, gcc and ld for each name that fails: about 200 processes at
    every worker's start. The renderer finds them by ldconfig alone, the same
    libraries, and leaves the standard search as it was."""
    script = f"""
import ctypes.util, subprocess
standard, started = ctypes.util.find_library, []
real = subprocess.Popen.__init__
def spy(self, args, *a, **k):
    started.append(args[0])
    real(self, args, *a, **k)
subprocess.Popen.__init__ = spy
from pathlib import Path
from pamphleteer.render import Renderer
Renderer(Path({str(FONTS)!r}))
import weasyprint.text.ffi as ffi
assert ctypes.util.find_library is standard
assert ffi.pango is not None and ffi.harfbuzz_subset is not None
print(sorted(set(started)))
"""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, check=True)
    assert done.stdout.strip() == "['/sbin/ldconfig']", done.stdout
