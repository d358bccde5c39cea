"""What the tests expect, written from the kit's specification (not read from the code under
test), and small readers for PDFs, text layers and content folders."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unicodedata
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from click.testing import CliRunner, Result

from pamphleteer.cli import cli

ROOT = Path(__file__).resolve().parents[1]
CONTENT = ROOT / "content" / "aleppo"
FONTS = ROOT / "fonts"

PT_PER_MM = 72 / 25.4
TOL_MM = 0.1
BLEED_MM = 3.0
MIN_SLUG_MM = 8.0  # a press sheet extends at least this far beyond the trim, for the marks
DESK_EDGE_MM = 5.0  # desk printers cannot print the outer ~5 mm: backgrounds stop there

VARIANTS = ("press", "desk", "screen", "mono")

#: The kit: layout -> (page rule, {size: (trim width mm, trim height mm)}).
#: Page rule: an int (exact count), "multiple-of-4" or "per-slogan".
KIT: dict[str, tuple[int | str, dict[str, tuple[float, float]]]] = {
    "leaflet": (2, {"a4": (210, 297), "letter": (215.9, 279.4)}),
    "booklet": ("multiple-of-4", {"a5": (148, 210), "half-letter": (139.7, 215.9)}),
    "flyer": (1, {"a6": (105, 148), "a5": (148, 210)}),
    "poster": (1, {"a3": (297, 420), "a2": (420, 594), "tabloid": (279.4, 431.8),
                   "18x24in": (457.2, 609.6)}),
    "placard": ("per-slogan", {"a3-landscape": (420, 297), "tabloid-landscape": (431.8, 279.4)}),
    # A mini-zine: eight panels of one landscape sheet (A4 / 4 × 2; Letter / 4 × 2).
    "zine": (8, {"a7": (74, 105), "eighth-letter": (69.85, 107.95)}),
}

#: Risograph files: every layout made for a desk printer, at each size a riso takes (A3
#: or tabloid at most, either way round); a greyscale page per drum per design page.
RISO_PAPER_MM = (297.0, 431.8)
RISO_FILES = {f"{layout}-{size}-riso.pdf" for layout, (_, sizes) in KIT.items()
              for size, (w, h) in sizes.items()
              if min(w, h) <= RISO_PAPER_MM[0] and max(w, h) <= RISO_PAPER_MM[1]}

#: Die-cut stickers, made for press only: size -> (trim mm, corner radius mm). A page
#: for the headline, then one per slogan; 2 mm bleed, a CutContour line at the trim.
STICKERS: dict[str, tuple[tuple[float, float], float]] = {
    "rect": ((99.1, 38.1), 3.0),  # an A4 label (Avery L7163), rounded corners
    "round": ((60.0, 60.0), 30.0),  # a circle
}
STICKER_BLEED_MM = 2.0
#: Label sheets, as their makers publish them: file -> (paper mm, columns, rows, label
#: mm, top margin mm, side margin mm, horizontal pitch mm, vertical pitch mm).
LABEL_SHEETS = {
    "sticker-rect-l7163-a4.pdf": ((210, 297), 2, 7, (99.1, 38.1), 15.1, 4.65, 101.6, 38.1),
    "sticker-rect-5163-letter.pdf": ((215.9, 279.4), 2, 5, (4 * 25.4, 2 * 25.4), 0.5 * 25.4,
                                     0.15625 * 25.4, 4.1875 * 25.4, 2 * 25.4),
}
STICKER_FILES = ({f"sticker-{size}-press.pdf" for size in STICKERS} | set(LABEL_SHEETS)
                 | {f.replace(".pdf", "-calibration.pdf") for f in LABEL_SHEETS})


#: Social cards: format -> pixel size. One PNG per card (the headline, each slogan) in
#: OUT/social/<card>-<format>.png; a target's own file is its headline card.
SOCIAL = {"square": (1080, 1080), "portrait": (1080, 1350), "story": (1080, 1920),
          "link": (1200, 630)}
SOCIAL_TARGET_FILES = {f"social/headline-{f}.png" for f in SOCIAL}


def social_files(slogans: int) -> set[str]:
    """Every card of the kit: the headline's and each slogan's, in every format."""
    cards = ["headline", *(f"slogan-{i}" for i in range(1, slogans + 1))]
    return {f"social/{card}-{f}.png" for card in cards for f in SOCIAL}


#: Imposed sheets made from desk files: file -> (source, sheet w × h mm, pages per
#: source page count). Booklets print 2 pages a side; flyers repeat on one sheet.
IMPOSED: dict[str, tuple[str, tuple[float, float], object]] = {
    "booklet-a5-imposed-a4.pdf": ("booklet-a5-desk.pdf", (297, 210), lambda n: n // 2),
    "booklet-half-letter-imposed-letter.pdf": ("booklet-half-letter-desk.pdf",
                                               (279.4, 215.9), lambda n: n // 2),
    "flyer-a6-4up-a4.pdf": ("flyer-a6-desk.pdf", (210, 297), lambda n: 1),
    "flyer-a5-2up-a4.pdf": ("flyer-a5-desk.pdf", (297, 210), lambda n: 1),
    # A mini-zine's eight pages on one side of a landscape sheet.
    "zine-a7-imposed-a4.pdf": ("zine-a7-desk.pdf", (297, 210), lambda n: 1),
    "zine-eighth-letter-imposed-letter.pdf": ("zine-eighth-letter-desk.pdf", (279.4, 215.9),
                                              lambda n: 1),
}


#: Posters and placards larger than a home printer's sheet, tiled on it: file -> (source,
#: sheet). A4 for ISO sizes, Letter for US ones.
TILED: dict[str, tuple[str, str]] = {
    f"{target}-tiled-{sheet}.pdf": (f"{target}-desk.pdf", sheet)
    for target, sheet in (("poster-a3", "a4"), ("poster-a2", "a4"),
                          ("poster-tabloid", "letter"), ("poster-18x24in", "letter"),
                          ("placard-a3-landscape", "a4"),
                          ("placard-tabloid-landscape", "letter"))
}


@dataclass(frozen=True)
class Expected:
    layout: str
    size: str
    variant: str
    trim_mm: tuple[float, float]
    page_rule: int | str

    @property
    def target(self) -> str:
        return f"{self.layout}-{self.size}"

    @property
    def file(self) -> str:
        return f"{self.layout}-{self.size}-{self.variant}.pdf"

    @property
    def press(self) -> bool:
        return self.variant == "press"


def expected_outputs(layouts: tuple[str, ...] | None = None,
                     variants: tuple[str, ...] = VARIANTS) -> list[Expected]:
    return [
        Expected(layout, size, variant, (float(w), float(h)), rule)
        for layout, (rule, sizes) in KIT.items() if layouts is None or layout in layouts
        for size, (w, h) in sizes.items()
        for variant in variants
    ]


def ids(outputs: list[Expected]) -> list[str]:
    return [o.file[:-4] for o in outputs]


def package_version() -> str:
    """The version the packaging metadata declares: pyproject.toml's own, or (when it is
    dynamic) the literal in the file [tool.hatch.version] names."""
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    if "version" in pyproject["project"]:
        return pyproject["project"]["version"]
    source = ROOT / pyproject["tool"]["hatch"]["version"]["path"]
    return re.search(r'^__version__ = "([^"]+)"', source.read_text(), re.MULTILINE).group(1)


# --- the content, read independently of pamphleteer.content ---------------------------------


def read_article(folder: Path = CONTENT) -> tuple[dict, list[str]]:
    """Front matter (YAML) and the body's paragraphs (blank-line separated)."""
    text = (folder / "article.md").read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    return yaml.safe_load(front), paragraphs


def read_slogans(folder: Path = CONTENT, name: str = "slogans.md") -> list[str]:
    lines = (folder / name).read_text(encoding="utf-8").splitlines()
    return [line[2:].strip() for line in lines if line.startswith("- ")]


# --- text comparison -------------------------------------------------------------------------

_QUOTES = "\"'‘’‚‛“”„‟«»‹›"


def squash(text: str) -> str:
    """Text reduced to what must survive typesetting: no whitespace, no case, no hyphens or
    dashes (hyphenation adds them at line ends, typography turns -- into –), no quote
    marks (straight or typographic), no soft hyphens, no Markdown emphasis markers."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(
        ch for ch in text
        if not ch.isspace()
        and unicodedata.category(ch) != "Pd"
        and ch not in _QUOTES
        and ch not in "\u00ad\x02\ufffe\u200b*_`"
    )


def numbered_pdf(pages: int, size_pt: tuple[float, float] = (419.53, 595.28),
                 at: tuple[float, float] = (150, 300), font_pt: float = 40):
    """Pages that say their own number ("P1", …) in a standard font at ``at`` (pt from
    the bottom left), to read an imposition's order back."""
    import pikepdf

    pdf = pikepdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font,
                                                Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica))
    for n in range(1, pages + 1):
        page = pdf.add_blank_page(page_size=size_pt)
        page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.obj.Contents = pdf.make_stream(
            f"BT /F1 {font_pt:g} Tf {at[0]:g} {at[1]:.1f} Td (P{n}) Tj ET".encode())
    return pdf


def pdf_texts(path: Path) -> list[str]:
    """The text layer of each page, as pdfium extracts it."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    try:
        texts = []
        for page in document:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return texts
    finally:
        document.close()


def pdf_names(pdf) -> set[str]:
    """Every name in every object of an open file (pikepdf), referenced or not: what the
    file declares anywhere."""
    import pikepdf

    names: set[str] = set()

    def walk(obj) -> None:
        if isinstance(obj, pikepdf.Name):
            names.add(str(obj))
        elif isinstance(obj, pikepdf.Array):
            children = list(obj)
        elif isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            children = list(obj.values())
        else:
            return
        if not isinstance(obj, pikepdf.Name):
            for child in children:  # an indirect child is one of pdf.objects: walked there
                if not (isinstance(child, pikepdf.Object) and child.is_indirect):
                    walk(child)

    for obj in pdf.objects:
        walk(obj)
    return names


def content_operators(pdf) -> set[str]:
    """Every operator in the pages' content and in every form XObject and tiling pattern
    of an open file (pikepdf)."""
    import pikepdf

    streams = [page.obj for page in pdf.pages] + [
        obj for obj in pdf.objects if isinstance(obj, pikepdf.Stream)
        and (obj.get("/Subtype") == pikepdf.Name.Form or obj.get("/PatternType") == 1)]
    return {str(op) for stream in streams for _, op in pikepdf.parse_content_stream(stream)}


def render_pages(path: Path, dpi: float = 50):
    """Each page rendered to an RGB PIL image (the image spans the MediaBox)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    try:
        images = []
        for page in document:
            images.append(page.render(scale=dpi / 72).to_pil().convert("RGB"))
            page.close()
        return images
    finally:
        document.close()


# --- projects and content folders ------------------------------------------------------------


def laid_out(page, test) -> list:
    """The boxes on ``page`` (a laid-out document's page) whose element passes ``test``,
    the element's own box first."""
    from pamphleteer import render

    return [b for b, _ in render._walk(page._page_box)
            if getattr(b, "element", None) is not None and test(b.element)]


def classed(name: str):
    """A test for ``laid_out``: the element has the class ``name``."""
    return lambda element: name in (element.get("class") or "").split()


def text_extent(box) -> tuple[float, float, float, float]:
    """The left, right, top and bottom of the text laid out in ``box`` (CSS px)."""
    from pamphleteer import render

    texts = [b for b, _ in render._walk(box) if type(b).__name__ == "TextBox"]
    return (min(t.position_x for t in texts), max(t.position_x + t.width for t in texts),
            min(t.position_y for t in texts), max(t.position_y + t.height for t in texts))


def copy_project(dest: Path) -> Path:
    """A project folder like the repository's: pamphleteer.toml, layouts/ and fonts/."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "pamphleteer.toml", dest / "pamphleteer.toml")
    shutil.copytree(ROOT / "layouts", dest / "layouts")
    shutil.copytree(ROOT / "fonts", dest / "fonts")
    return dest


def write_content(folder: Path, front: str | dict | None = None, body: str = "Some text.\n",
                  slogans: list[str] | str | None = None) -> Path:
    """A content folder. ``front`` is raw YAML text or a dict; ``slogans`` a list of slogan
    texts (written as '- ' lines) or the raw text of slogans.md; None leaves it out."""
    folder.mkdir(parents=True, exist_ok=True)
    if front is None:
        front = {"title": "A title"}
    if isinstance(front, dict):
        front = yaml.safe_dump(front, allow_unicode=True, sort_keys=False)
    (folder / "article.md").write_text(f"---\n{front}---\n{body}", encoding="utf-8")
    if slogans is not None:
        if not isinstance(slogans, str):
            slogans = "".join(f"- {s}\n" for s in slogans)
        (folder / "slogans.md").write_text(slogans, encoding="utf-8")
    return folder


# --- the command line ------------------------------------------------------------------------


def run(*args: str | Path) -> Result:
    """Invoke the CLI in-process; exceptions are caught and kept in ``result.exception``."""
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=True)


def error_lines(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("error:")]


def assert_clean_failure(result: Result, code: int) -> str:
    """The command failed with ``code``, one 'error:' line, no traceback; return that line."""
    assert result.exit_code == code, (
        f"exit code {result.exit_code}, expected {code}; output:\n{result.output}"
        + (f"\nexception: {result.exception!r}" if result.exception else "")
    )
    assert isinstance(result.exception, SystemExit), f"uncaught: {result.exception!r}"
    assert "Traceback" not in result.output
    lines = error_lines(result)
    assert len(lines) == 1, f"expected one 'error:' line, got:\n{result.output}"
    return lines[0]


# --- pamphleteer serve ----------------------------------------------------------------------

#: What the serve tests build: few and quick, yet every kind of output (a multi-page placard,
#: a poster, both tiled, a flyer with its imposed sheet).
SERVE_TARGETS = ("placard-a3-landscape", "poster-a3", "flyer-a6")
SERVE_FILES = tuple(f"{target}-{variant}.pdf" for target in SERVE_TARGETS
                    for variant in (*VARIANTS, "riso")) + (
    "flyer-a6-4up-a4.pdf", "placard-a3-landscape-tiled-a4.pdf", "poster-a3-tiled-a4.pdf")


@dataclass
class Served:
    url: str  # ends in "/"
    project: Path
    process: subprocess.Popen

    def api(self, since: int | None = None) -> dict:
        """/api/outputs; with ``since``, answered when there is a newer revision (or after
        the server's LONG_POLL_S), as the page polls."""
        query = "" if since is None else f"?since={since}"
        with urllib.request.urlopen(f"{self.url}api/outputs{query}", timeout=60) as response:
            return json.load(response)

    def wait(self, until, what: str, timeout: float = 240) -> dict:
        """Poll /api/outputs until ``until(data)``; fail naming ``what`` if it never is."""
        deadline = time.monotonic() + timeout
        data = self.api()
        while not until(data):
            assert self.process.poll() is None, f"serve exited {self.process.returncode}"
            if time.monotonic() > deadline:
                raise AssertionError(f"serve: {what} not within {timeout:.0f} s; "
                                     f"last state: {data}")
            data = self.api(since=data["revision"])
        return data

    def idle(self) -> dict:
        """Wait for the build to finish with every output proofed (or failed)."""
        return self.wait(lambda d: not d["building"] and len(d["outputs"]) == len(SERVE_FILES)
                         and all(o["pages"] or o["findings"] for o in d["outputs"]),
                         "an idle server with every output")


@contextlib.contextmanager
def serving(tmp: Path) -> Iterator[Served]:
    """``pamphleteer serve`` on a free port, in its own process, over a throw-away copy of
    the project and its content (tests edit them)."""
    project = copy_project(tmp / "project")
    shutil.copytree(CONTENT, project / "content" / CONTENT.name)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])}
    with open(tmp / "serve.log", "w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "pamphleteer", "serve", *SERVE_TARGETS, "--project",
             str(project), "--port", "0"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
        try:
            line = process.stdout.readline()
            found = re.search(r"http://\S+/", line)
            log.seek(0)
            assert found, f"serve printed no URL: {line!r}\n{log.read()}"
            served = Served(found[0], project, process)
            served.idle()
            yield served
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.stdout.close()


def edit_file(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path} no longer contains {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
