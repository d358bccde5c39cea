"""What each output is made of, as one digest: the cache key of incremental builds.

An output depends on the tool's version, its layout's files, the fonts, the project's
configuration and the parts of the content that its template actually reads. The
template is rendered once with the same views of the content it gets when the output
is built (``typeset.TemplateFields`` and ``TemplateSlogans``), noting every part they
hand out, so a flyer that shows three slogans does not depend on the fourth, and a
poster that never reads the article's body is not rebuilt when the body changes. The
dependency is read from the template itself, never declared by hand, so it cannot
drift out of date. Images count through the content that shows them, resolved as the
renderer resolves them (``contain.reference``).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pamphleteer import __version__, contain
from pamphleteer.outputs import IMAGE_FOLDER, MANIFEST
from pamphleteer.social import PNG_OPTIONS
from pamphleteer.typeset import geometry, to_html

if TYPE_CHECKING:
    from pamphleteer.config import Project
    from pamphleteer.content import Content
    from pamphleteer.layouts import Layout
    from pamphleteer.pipeline import Job
    from pamphleteer.targets import Target


@dataclass(frozen=True)
class Inputs:
    """An output's cache key, and the parts of the content it shows."""

    key: str
    reads: frozenset[str]
    #: In an edition, the key the output has without it: its slogan cards' where it is
    #: an image output (the edition shows on the headline card alone), the plain file's
    #: where the edition shows on its last page alone (``pipeline._with_last_page``).
    #: Else ``key``.
    plain: str = ""


def files_digest(paths: list[Path], root: Path) -> str:
    """Digest of files' names (relative to ``root``) and bytes."""
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def layout_digest(layout: Layout) -> str:
    """Digest of a layout's files, each named by its folder and its path in it
    (``poster/style.css``), wherever the folder is: the project's, the checkout's or the
    installed package's. The same files give the same key on any machine."""
    h = hashlib.sha256()
    for folder in layout.folders:  # in lookup order: a project's _base before the built-in
        for path in contain.files_below(folder, layout.roots()):
            h.update(f"{folder.name}/{path.relative_to(folder).as_posix()}\0".encode())
            h.update(path.read_bytes())
            h.update(b"\0")
    return h.hexdigest()


@functools.cache
def fonts_digest(fonts_dir: Path) -> str:
    """The fonts' digest: read once per process, as the fonts are for the renderer."""
    return files_digest(list(contain.files_below(fonts_dir)), fonts_dir)


def key(parts: dict[str, object]) -> str:
    """Digest of named parts, in a stable order, with the tool's version."""
    h = hashlib.sha256(f"pamphleteer {__version__}\0".encode())
    for name in sorted(parts):
        h.update(f"{name}\0{parts[name]!r}\0".encode())
    return h.hexdigest()


def images_digest(read: dict[str, object], folder: Path) -> str:
    """Digest of the images that the content read shows. A refused image is keyed by
    its reference alone: it is never read (the output fails on it anyway)."""
    h = hashlib.sha256()
    for name in sorted(read):
        for src in contain.images(str(read[name])):
            try:
                path = contain.reference(src, folder)
            except contain.Refused:
                h.update(f"{src}\0refused\0".encode())
                continue
            h.update(f"{src}\0".encode() + path.read_bytes() + b"\0")
    return h.hexdigest()


def _settings(project: Project) -> str:
    """The project's settings as an output's input: the file as read, but for the
    ``[riso]`` table, which only the riso files depend on (through their ``inks``), so
    that choosing another ink rebuilds those alone."""
    if project.config is None:
        return ""
    from pamphleteer.config import TomlFile

    data = {k: v for k, v in TomlFile.read(project.config).data.items() if k != "riso"}
    return json.dumps(data, sort_keys=True, default=str)


def input_keys(targets: list[Target], content: Content, project: Project,
               pdfx: str = "x4") -> dict[str, Inputs]:
    """Each output's key and content reads. Cheap: no renderer, no PDF library.

    Press files also depend on the PDF/X standard and the output profile's bytes, and
    social cards on how their PNGs are compressed.
    """
    config = _settings(project)
    fonts = fonts_digest(project.fonts_dir)
    profile = hashlib.sha256(project.output_profile.read_bytes()).hexdigest()
    layout_files = {}

    def digest(t: Target, shown: Content) -> tuple[str, dict[str, object]]:
        if t.layout.name not in layout_files:
            layout_files[t.layout.name] = layout_digest(t.layout)
        read: dict[str, object] = {}
        to_html(t, shown, geometry(t, project), "", read=read)
        return key({
            "target": (t.file, t.size, t.variant), "config": config, "fonts": fonts,
            **({"inks": project.inks} if t.variant.name == "riso" else {}),
            "layout": layout_files[t.layout.name], "content": read,
            "images": images_digest(read, shown.folder),
            **({"pdfx": pdfx, "profile": profile} if t.variant.bleed else {}),
            **({"png": PNG_OPTIONS} if t.variant.image else {}),
        }), read

    keys = {}
    for t in targets:
        whole, read = digest(t, content)
        plain = whole
        if content.edition is not None and (t.variant.image or t.layout.edition_last_page):
            plain, _ = digest(t, dataclasses.replace(content, edition=None))
        keys[t.file] = Inputs(whole, frozenset(read), plain)
    return keys


def watched(job: Job, targets: list[Target]) -> tuple[str, list[Path]]:
    """What a build reads and writes, for the no-op stamp: its request and its files.
    Images are among the content folder's files: content can reach no others."""
    from pamphleteer.targets import imposed

    p = job.project
    signature = json.dumps([sorted(t.file for t in targets), str(job.content_dir),
                            job.source_date_epoch, job.html, job.zip, job.pdfx, job.lang,
                            repr(job.edition), [str(s) for s in job.siblings]])
    files = [*filter(None, [p.config]), p.output_profile,
             *(f for root in p.layout_roots() for f in contain.files_below(root)),
             *contain.files_below(p.fonts_dir),
             *contain.files_below(job.content_dir),
             job.out_dir / MANIFEST,
             *(job.out_dir / t.file for t in targets + imposed(targets))]
    if any(t.variant.image for t in targets):  # every card, however many slogans
        files += sorted((job.out_dir / IMAGE_FOLDER).glob("*"))
    if job.html:
        files += [job.out_dir / "html" / f"{t.file[:-4]}.html" for t in targets]
    if job.zip:
        files += list(job.out_dir.glob("*-kit.zip"))
    return signature, files
