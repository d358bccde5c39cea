"""The build, stage by stage: content -> HTML -> layout -> PDF -> post-processing -> checks.

``build()`` reads top to bottom as those stages. Each output is built on its own: one
that fails is reported and the others are still built. Files are written atomically,
after their checks pass, so a failed build never leaves a truncated PDF nor replaces a
good one.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import json
import signal
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pamphleteer.config import Project
from pamphleteer.errors import (
    BuildFailed,
    ContentError,
    PamphleteerError,
    RenderError,
    UsageError,
)
from pamphleteer.layouts import Imposition, Layout, Size, load_layouts
from pamphleteer.outputs import (
    DEFAULT_EPOCH,
    MANIFEST,
    Manifest,
    locked,
    read_state,
    stamp,
    write_atomic,
    write_state,
    write_zip,
)

if TYPE_CHECKING:
    from pamphleteer.content import Content

MM_TO_PX = 96 / 25.4
PT_PER_MM = 72 / 25.4
DESK_MARGIN_MM = 5.0  # desk printers cannot print the outer ~5 mm of the sheet


@dataclass(frozen=True)
class Variant:
    """How a target is finished: for a press (bleed, marks), a desk printer (neither) or
    a screen (neither, and tagged for readers that speak or reflow the text)."""

    name: str
    bleed: bool
    edge_mm: float  # where backgrounds stop, measured in from the page edge
    pdf_variant: str | None = None  # a WeasyPrint PDF variant, for the screen's tags


VARIANTS = {
    "press": Variant("press", bleed=True, edge_mm=0.0),
    "desk": Variant("desk", bleed=False, edge_mm=DESK_MARGIN_MM),
    "screen": Variant("screen", bleed=False, edge_mm=0.0, pdf_variant="pdf/ua-1"),
}


@dataclass(frozen=True)
class Target:
    layout: Layout
    size: Size
    variant: Variant
    imposition: Imposition | None = None  # set: this output is the desk file imposed

    @property
    def name(self) -> str:
        return f"{self.layout.name}-{self.size.name}"

    @property
    def file(self) -> str:
        imposition = self.imposition
        if imposition is None:
            return f"{self.name}-{self.variant.name}.pdf"
        if imposition.grid:
            return f"{self.name}-{imposition.grid[0] * imposition.grid[1]}up-{imposition.sheet}.pdf"
        return f"{self.name}-imposed-{imposition.sheet}.pdf"

    def impositions(self) -> list[Target]:
        """The imposed files made from this output: desk pages only, where the layout
        asks for them."""
        imposition = self.layout.impose.get(self.size.name)
        if self.variant.name != "desk" or imposition is None or self.imposition is not None:
            return []
        return [dataclasses.replace(self, imposition=imposition)]


@dataclass(frozen=True)
class Job:
    """What to build: the project, the content, the outputs and where they go."""

    project: Project
    content_dir: Path
    out_dir: Path
    targets: tuple[str, ...] = ()
    variants: tuple[str, ...] = tuple(VARIANTS)
    html: bool = False
    jobs: int = 1
    force: bool = False
    shard: tuple[int, int] = (1, 1)  # build the I-th of N stable shares of the outputs
    zip: bool = False
    source_date_epoch: int = DEFAULT_EPOCH
    timeout: int = 300  # seconds one output may take before it is failed
    pdfx: str = "x4"  # the PDF/X standard of press files: a key of pdf.pdfx.STANDARDS
    first: tuple[str, ...] = ()  # layouts rebuilt before the others, in this order


@dataclass
class Output:
    """One built (or failed) output, as the manifest and the summary report it."""

    target: Target
    pages: int = 0
    sha256: str = ""
    bytes: int = 0
    seconds: float = 0.0
    error: str | None = None
    inputs: str = ""  # digest of everything the output is made of
    skipped: bool = False  # unchanged inputs: the previous file was kept
    details: dict = dataclasses.field(default_factory=dict)  # more for the manifest
    findings: list = dataclasses.field(default_factory=list)  # preflight warnings

    def manifest_entry(self, bleed_mm: float) -> dict:
        t = self.target
        return {
            "file": t.file,
            "layout": t.layout.name,
            "size": t.size.name,
            "variant": t.variant.name,
            "pages": self.pages,
            "trim_mm": [t.size.width_mm, t.size.height_mm],
            "bleed_mm": bleed_mm if t.variant.bleed else 0.0,
            "sha256": self.sha256,
            "bytes": self.bytes,
            "inputs_sha256": self.inputs,
            **self.details,
            **({"findings": [f.as_dict() for f in self.findings]} if self.findings else {}),
        }


# --- planning -------------------------------------------------------------------------


def plan(project: Project, names: tuple[str, ...], variants: tuple[str, ...]) -> list[Target]:
    """Expand target names (``poster``, ``leaflet-a4``; none = the kit) into outputs."""
    layouts = load_layouts(project.layouts_dir)
    for v in variants:
        if v not in VARIANTS:
            raise UsageError(f"unknown variant {v!r}; use one of {', '.join(VARIANTS)}")
    every = {f"{lay.name}-{size.name}": (lay, size)
             for lay in layouts.values() for size in lay.sizes.values()}
    chosen: dict[str, tuple[Layout, Size]] = {}
    for name in names or project.targets or tuple(every):
        if name in layouts:
            chosen.update({k: v for k, v in every.items() if v[0].name == name})
        elif name in every:
            chosen[name] = every[name]
        else:
            raise UsageError(
                f"unknown target {name!r}; a target is a layout ({', '.join(layouts)}) "
                "or a layout-size (see 'pamphleteer list')"
            )
    return [Target(lay, size, VARIANTS[v]) for lay, size in chosen.values() for v in variants]


# --- one output: lay out, write, post-process, check ----------------------------------


def build_output(renderer, target: Target, content: Content, job: Job,
                 font_names: frozenset[str], fit_cache=None) -> Output:
    import pikepdf

    from pamphleteer import render
    from pamphleteer.glyphs import family_coverage
    from pamphleteer.pdf import marks, metadata, pdfx

    project, out_dir = job.project, job.out_dir

    started = time.perf_counter()
    output = Output(target)
    from pamphleteer.typeset import Typesetter, geometry

    page = geometry(target, project)
    html, document = Typesetter(renderer, target, content, page, fit_cache).typeset()

    inset = (page["bleed"] + page["safe"]) * MM_TO_PX
    for number, text, distance in render.text_outside(document, inset):
        from_trim = distance / MM_TO_PX - page["bleed"]
        if from_trim < 0:
            raise RenderError(
                f"{target.file}: overflow: page {number}: text {text!r} runs "
                f"{-from_trim:.1f} mm past the trim and would be cut off; shorten it, or "
                "let copyfit size it (the layout's [fit])")
        raise RenderError(
            f"{target.file}: safe-zone: page {number}: text {text!r} comes within "
            f"{from_trim:.1f} mm of the trim (safe zone {page['safe']:g} mm); "
            "the layout's margins are too small for this size"
        )
    for number, ch, text, family in render.fallbacks(document, family_coverage(project.fonts_dir)):
        raise RenderError(
            f"{target.file}: glyphs: page {number}: {family} has no {ch!r} "
            f"(U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')}) in {text[:60]!r}, and "
            "would fall back to another font; add a font that has it to the layout's "
            "font-family, or replace the character"
        )
    if target.layout.page_rule == "per-slogan" and len(document.pages) != len(content.slogans):
        raise RenderError(
            f"{target.file}: overflow: {len(document.pages)} pages for "
            f"{len(content.slogans)} slogans; "
            "a slogan spilled onto a second page: lower max_pt in the layout's [fit]"
        )

    geo = marks.Geometry(page["trim_w"], page["trim_h"], page["bleed"])
    buffer = io.BytesIO()
    with pikepdf.open(io.BytesIO(renderer.pdf(
            document, target.file, pdf_variant=target.variant.pdf_variant))) as pdf:
        pdf = marks.add_crop_marks(pdf, geo) if target.variant.bleed else marks.set_trim(pdf, geo)
        pdf = metadata.set_dates(pdf, job.source_date_epoch)
        pdf.save(buffer, deterministic_id=True, compress_streams=True,
                 object_stream_mode=pikepdf.ObjectStreamMode.generate)
    data = buffer.getvalue()
    if target.variant.bleed:
        data = pdfx.make_pdfx(data, target.file, job.pdfx, press(project),
                              job.source_date_epoch)
        output.details["pdfx"] = pdfx.STANDARDS[job.pdfx].label

    output.details.update(page_rule=target.layout.page_rule, safe_mm=page["safe"],
                          viewing_cm=target.layout.viewing_cm)
    declared = len(content.slogans) if target.layout.page_rule == "per-slogan" \
        else target.layout.pages
    entry = {"variant": target.variant.name, "pages": declared,
             "trim_mm": [target.size.width_mm, target.size.height_mm],
             "bleed_mm": page["bleed"], **output.details}
    output.findings = _preflight(data, target.file, entry, project, font_names)

    write_atomic(out_dir / target.file, data)
    if job.html:
        write_atomic(out_dir / "html" / f"{target.file[:-4]}.html",
                     standalone_html(html, content.folder, project.fonts_dir).encode())
    output.pages = len(document.pages)
    output.sha256 = hashlib.sha256(data).hexdigest()
    output.bytes = len(data)
    output.seconds = time.perf_counter() - started
    return output


def _preflight(data: bytes, name: str, entry: dict, project: Project,
               font_names: frozenset[str]) -> list:
    """Every preflight rule on a new file: errors fail it (the previous file stays),
    warnings are returned to be reported with it."""
    from pamphleteer.check import run
    from pamphleteer.check.files import expected_from_entry

    findings = run(data, name, expected_from_entry(entry, project.ink_limit_pct), font_names)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise RenderError(f"{errors[0]}{more}")
    return findings


def press(project: Project):
    """The printing condition of the project's press files, for ``pdf.pdfx``."""
    from pamphleteer.pdf.pdfx import Press

    return Press(project.output_profile, project.output_condition, project.output_registry)


def standalone_html(html: str, base: Path, fonts_dir: Path) -> str:
    """The final HTML, with a base URL and ``@font-face`` rules so that the plain
    ``weasyprint`` command renders it the same way on its own."""
    head = f'<base href="{base.as_uri()}/"><style>{_font_faces(fonts_dir)}</style>'
    return html.replace("<head>", "<head>" + head, 1)


@functools.cache
def _font_faces(fonts_dir: Path) -> str:
    """``@font-face`` rules for the bundled fonts (read once, used for every file)."""
    from fontTools.ttLib import TTFont

    from pamphleteer.glyphs import font_files

    faces = []
    for path in font_files(fonts_dir):
        with TTFont(path, lazy=True) as font:
            family = font["name"].getDebugName(1)
            style = (font["name"].getDebugName(2) or "").lower()
        weight = 700 if "bold" in style or "bold" in path.stem.lower() else 400
        italic = "italic" if "italic" in style else "normal"
        faces.append(f'@font-face {{ font-family: "{family}"; src: url("{path.as_uri()}"); '
                     f"font-weight: {weight}; font-style: {italic}; }}")
    return "\n".join(faces)


# --- the build ------------------------------------------------------------------------


def check_slogans(content: Content, targets: list[Target]) -> None:
    for t in targets:
        if t.layout.needs_slogans and not content.slogans:
            raise ContentError(
                f"{content.folder / 'slogans.md'}: no slogans, and {t.name} needs them; "
                "add '- Slogan' lines, or build other targets"
            )


def shard(targets: list[Target], index: int, count: int) -> list[Target]:
    """The ``index``-th (1-based) of ``count`` stable shares: the same on every machine."""
    ordered = sorted(targets, key=lambda t: t.file)
    return [t for i, t in enumerate(ordered) if i % count == index - 1]


def input_keys(targets: list[Target], content: Content, project: Project,
               pdfx: str = "x4") -> dict[str, str]:
    """Each output's cache key: see ``inputs``. Cheap: no renderer, no PDF library.

    Press files also depend on the PDF/X standard and the output profile's bytes.
    """
    from pamphleteer import inputs
    from pamphleteer.typeset import geometry, to_html

    config = (project.root / "pamphleteer.toml").read_bytes()
    fonts = inputs.files_digest([p for p in project.fonts_dir.rglob("*") if p.is_file()],
                                project.fonts_dir)
    profile = hashlib.sha256(project.output_profile.read_bytes()).hexdigest()
    layout_files = {}
    keys = {}
    for t in targets:
        if t.layout.name not in layout_files:
            layout_files[t.layout.name] = inputs.files_digest(t.layout.files(), project.root)
        read: dict[str, object] = {}
        to_html(t, content, geometry(t, project), "", read=read)
        if "article.body_html" in read:
            images = [content.folder / src for src in content.article.images]
            read["images"] = inputs.files_digest([p for p in images if p.is_file()],
                                                 content.folder)
        keys[t.file] = inputs.key({
            "target": (t.file, t.size, t.variant), "config": config, "fonts": fonts,
            "layout": layout_files[t.layout.name], "content": read,
            **({"pdfx": pdfx, "profile": profile} if t.variant.bleed else {}),
        })
    return keys


def _watched(job: Job, targets: list[Target], deps: list[str]) -> tuple[str, list[Path]]:
    """What a build reads and writes, for the no-op stamp: its request and its files."""
    p = job.project
    signature = json.dumps([sorted(t.file for t in targets), str(job.content_dir),
                            job.source_date_epoch, job.html, job.zip, job.pdfx])
    trees = (p.layouts_dir, p.fonts_dir, job.content_dir)
    files = [p.root / "pamphleteer.toml", p.output_profile, *(Path(d) for d in deps),
             *(f for tree in trees for f in tree.rglob("*") if f.is_file()),
             job.out_dir / MANIFEST,
             *(job.out_dir / t.file for t in targets + _imposed(targets))]
    if job.html:
        files += [job.out_dir / "html" / f"{t.file[:-4]}.html" for t in targets]
    if job.zip:
        files += list(job.out_dir.glob("*-kit.zip"))
    return signature, files


def build(job: Job, on_output: Callable[[Output, int, int], None] | None = None) -> list[Output]:
    """Build every output of ``job`` whose inputs changed; return them all.

    Unchanged outputs come back with ``skipped`` set, failed ones with ``error``.
    """
    project = job.project
    targets = shard(plan(project, job.targets, job.variants), *job.shard)
    state = read_state(job.out_dir)
    if (not job.force and "stamp" in state
            and state["stamp"] == stamp(*_watched(job, targets, state.get("deps", [])))):
        return _unchanged(job, targets, on_output)

    from pamphleteer.content import load_content

    content = load_content(job.content_dir)
    check_slogans(content, targets)
    keys = input_keys(targets, content, project, job.pdfx)
    if any(t.variant.bleed for t in targets):
        from pamphleteer.pdf.pdfx import require_ghostscript

        require_ghostscript(job.pdfx)

    with locked(job.out_dir):
        manifest = Manifest.load(job.out_dir, project.relative(content.folder),
                                 job.source_date_epoch)
        todo = [t for t in targets if job.force or not manifest.fresh(t.file, keys[t.file])]
        # The layouts asked for first, then the rest; press files before desk files: by
        # the time a desk file starts, the press copy of the same target has usually
        # stored the fits both share.
        todo.sort(key=lambda t: (_rank(job.first, t.layout.name), t.variant.name != "press"))
        if todo:
            from pamphleteer.glyphs import check_coverage

            check_coverage(content.texts(), project.fonts_dir)
        imposed = _imposed(targets)
        total = len(targets) + len(imposed)
        outputs = [Output(t, skipped=True, inputs=keys[t.file],
                          pages=manifest.entries[t.file]["pages"])
                   for t in targets if t not in todo]
        for index, output in enumerate(outputs, 1):
            if on_output:
                on_output(output, index, total)
        for output in _run(job, content, todo):
            outputs.append(output)
            if output.error is None:
                output.inputs = keys[output.target.file]
                manifest.record(output.manifest_entry(project.bleed_mm))
            if on_output:
                on_output(output, len(outputs), total)
        for target in imposed:
            output = impose_output(job, target, manifest)
            outputs.append(output)
            if output.error is None and not output.skipped:
                manifest.record(output.manifest_entry(0.0))
            if on_output:
                on_output(output, len(outputs), total)
        manifest.save()
        if job.zip and not any(o.error for o in outputs):
            write_zip(job.out_dir, content.name, manifest)
        if not any(o.error for o in outputs):
            deps = [str((content.folder / src).resolve()) for src in content.article.images]
            write_state(job.out_dir, {"stamp": stamp(*_watched(job, targets, deps)),
                                      "deps": deps})
    return outputs


def _rank(first: tuple[str, ...], layout: str) -> int:
    return first.index(layout) if layout in first else len(first)


def failure(outputs: list[Output]) -> BuildFailed | None:
    """The error a build with failed outputs ends with: all their messages, one line."""
    failed = sorted((o for o in outputs if o.error), key=lambda o: o.target.file)
    if not failed:  # (sorted: the same failures give the same line, however they ran)
        return None
    return BuildFailed(f"{len(failed)} output(s) failed: " + "; ".join(o.error for o in failed))


def _imposed(targets: list[Target]) -> list[Target]:
    return [i for t in targets for i in t.impositions()]


def impose_output(job: Job, target: Target, manifest: Manifest) -> Output:
    """Impose a desk file onto sheets, unless it and the settings are as last time."""
    import pikepdf

    from pamphleteer import inputs
    from pamphleteer.check import bundled_font_names
    from pamphleteer.pdf import impose, metadata

    source = dataclasses.replace(target, imposition=None)
    entry = manifest.entries.get(source.file)
    if entry is None:
        return Output(target, error=f"{target.file}: {source.file} was not built; "
                                    "fix its error first")
    imposition, creep = target.imposition, job.project.paper_thickness_mm
    key = inputs.key({"source": entry["sha256"], "imposition": imposition, "creep": creep})
    if not job.force and manifest.fresh(target.file, key):
        return Output(target, skipped=True, inputs=key,
                      pages=manifest.entries[target.file]["pages"])
    started = time.perf_counter()
    buffer = io.BytesIO()
    with pikepdf.open(job.out_dir / source.file) as src:
        if imposition.grid:
            pdf = impose.impose_grid(src, imposition.sheet, *imposition.grid)
        else:
            pdf = impose.impose_booklet(src, imposition.sheet, creep)
        pdf.docinfo["/Title"] = src.docinfo.get("/Title", "")
        metadata.set_dates(pdf, job.source_date_epoch)
        pdf.save(buffer, deterministic_id=True, compress_streams=True,
                 object_stream_mode=pikepdf.ObjectStreamMode.generate)
    data = buffer.getvalue()
    with pikepdf.open(io.BytesIO(data)) as written:
        box = written.pages[0].mediabox
        sheet_mm = [round(float(box[2]) / PT_PER_MM, 1), round(float(box[3]) / PT_PER_MM, 1)]
        pages = len(written.pages)
    details = {"page_rule": "fixed", "safe_mm": DESK_MARGIN_MM, "viewing_cm": 30.0}
    entry = {"variant": "desk", "trim_mm": sheet_mm, "bleed_mm": 0.0,
             "pages": 1 if imposition.grid else entry["pages"] // 2, **details}
    try:
        findings = _preflight(data, target.file, entry, job.project,
                              bundled_font_names(job.project.fonts_dir))
    except RenderError as e:
        return Output(target, error=e.format_message())
    write_atomic(job.out_dir / target.file, data)
    return Output(
        target, pages=pages, sha256=hashlib.sha256(data).hexdigest(), bytes=len(data),
        seconds=time.perf_counter() - started, inputs=key,
        details={
            "trim_mm": sheet_mm, "sheet": imposition.sheet, "imposed_from": source.file,
            "duplex": None if imposition.grid else "flip on short edge", **details,
        },
        findings=findings,
    )


def _unchanged(job: Job, targets: list[Target], on_output) -> list[Output]:
    """Every output as the last build left it, read from the manifest."""
    entries = {e["file"]: e for e in json.loads((job.out_dir / MANIFEST).read_text())["outputs"]}
    outputs = [Output(t, skipped=True, pages=entries[t.file]["pages"],
                      inputs=entries[t.file]["inputs_sha256"])
               for t in targets + _imposed(targets)]
    for index, output in enumerate(outputs, 1):
        if on_output:
            on_output(output, index, len(outputs))
    return outputs


_worker: dict = {}


def _start_worker(job: Job, content: Content) -> None:
    """Pay the renderer's start-up (imports, fonts) once per worker process."""
    from pamphleteer.check import bundled_font_names
    from pamphleteer.fitcache import FitCache, cache_dir
    from pamphleteer.render import Renderer

    project = job.project
    _worker.update(
        job=job,
        content=content,
        renderer=Renderer(project.fonts_dir, (project.root, content.folder.resolve())),
        fonts=bundled_font_names(project.fonts_dir),
        fit_cache=None if job.force else FitCache(cache_dir(), project.fonts_dir),
    )


class _TimedOut(Exception):
    pass


def _alarm(signum, frame):
    raise _TimedOut


def _build_one(target: Target) -> Output:
    """Build one output; any failure, a hang included, becomes the output's error."""
    job, content = _worker["job"], _worker["content"]
    started = time.perf_counter()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(job.timeout)
    try:
        return build_output(_worker["renderer"], target, content, job, _worker["fonts"],
                            _worker["fit_cache"])
    except PamphleteerError as e:
        return Output(target, error=e.format_message(), seconds=time.perf_counter() - started)
    except _TimedOut:
        return Output(target, error=f"{target.file}: not done after {job.timeout} s; "
                      "a layout that never settles? raise --timeout if it is just large",
                      seconds=time.perf_counter() - started)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _run(job: Job, content: Content, targets: list[Target]) -> Iterator[Output]:
    """Outputs as they finish: in this process for one job, else in worker processes.

    A worker that dies takes the pool with it; the outputs it left are then built one
    by one in fresh workers, so only the output that kills its worker fails.
    """
    jobs = min(job.jobs, len(targets))
    if not targets:
        return
    if jobs <= 1:
        _start_worker(job, content)
        yield from map(_build_one, targets)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    orphans = []
    with ProcessPoolExecutor(jobs, initializer=_start_worker, initargs=(job, content)) as pool:
        futures = {pool.submit(_build_one, t): t for t in targets}
        for future in as_completed(futures):
            try:
                yield future.result()
            except BrokenProcessPool:
                orphans.append(futures[future])
    for target in sorted(orphans, key=lambda t: t.file):
        with ProcessPoolExecutor(1, initializer=_start_worker, initargs=(job, content)) as one:
            try:
                yield one.submit(_build_one, target).result()
            except BrokenProcessPool:
                yield Output(target, error=f"{target.file}: the worker process building it "
                             "crashed; run again with --jobs 1 to see why")
