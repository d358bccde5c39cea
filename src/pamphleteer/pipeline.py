"""The build, stage by stage: content -> HTML -> layout -> PDF -> post-processing -> checks.

``build()`` reads top to bottom as those stages. Each output is built on its own: one
that fails is reported and the others are still built. Files are written atomically,
after their checks pass, so a failed build never leaves a truncated PDF nor replaces a
good one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup

from pamphleteer import __version__
from pamphleteer.config import Project
from pamphleteer.content import Content, load_content, plain
from pamphleteer.errors import ContentError, PamphleteerError, RenderError, UsageError
from pamphleteer.layouts import Layout, Size, css_properties, load_layouts, render_template

MM_TO_PX = 96 / 25.4
DESK_MARGIN_MM = 5.0  # desk printers cannot print the outer ~5 mm of the sheet
PAD_PAGES = 3  # spare blank pages a booklet template offers, to reach a multiple of 4


@dataclass(frozen=True)
class Variant:
    """How a target is finished: for a press (bleed, marks) or a desk printer (neither)."""

    name: str
    bleed: bool
    edge_mm: float  # where backgrounds stop, measured in from the page edge


VARIANTS = {
    "press": Variant("press", bleed=True, edge_mm=0.0),
    "desk": Variant("desk", bleed=False, edge_mm=DESK_MARGIN_MM),
}


@dataclass(frozen=True)
class Target:
    layout: Layout
    size: Size
    variant: Variant

    @property
    def name(self) -> str:
        return f"{self.layout.name}-{self.size.name}"

    @property
    def file(self) -> str:
        return f"{self.name}-{self.variant.name}.pdf"


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


@dataclass
class Output:
    """One built (or failed) output, as the manifest and the summary report it."""

    target: Target
    pages: int = 0
    sha256: str = ""
    bytes: int = 0
    seconds: float = 0.0
    error: str | None = None
    notes: list[str] = field(default_factory=list)

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


# --- content -> HTML ------------------------------------------------------------------


def geometry(target: Target, project: Project) -> dict[str, float]:
    """Page geometry in mm: the page is the trim plus bleed on every side."""
    bleed = project.bleed_mm if target.variant.bleed else 0.0
    safe = target.layout.safe_mm if target.layout.safe_mm is not None else project.safe_mm
    return {
        "trim_w": target.size.width_mm,
        "trim_h": target.size.height_mm,
        "bleed": bleed,
        "page_w": target.size.width_mm + 2 * bleed,
        "page_h": target.size.height_mm + 2 * bleed,
        "edge": target.variant.edge_mm,
        "safe": max(safe, target.variant.edge_mm),
    }


def stylesheet(target: Target, page: dict[str, float], extra: str = "") -> str:
    """The document's CSS: settings as custom properties, base CSS, layout CSS, fits."""
    properties = {k.replace("_", "-"): f"{v:.3f}mm" for k, v in page.items()}
    properties |= target.layout.style
    return css_properties(properties) + target.layout.css() + extra


def body_class(target: Target) -> str:
    return f"layout-{target.layout.name} size-{target.size.name} variant-{target.variant.name}"


def to_html(target: Target, content: Content, page: dict[str, float], css: str,
            pads: int = PAD_PAGES) -> str:
    """Render the layout's template. Content fields are HTML already (Markdown output),
    so they are marked safe; everything a template adds itself is escaped."""
    article = {k: Markup(v) if isinstance(v, str) else v
               for k, v in dataclasses.asdict(content.article).items()}
    article["lang"] = content.article.lang
    slogans = [{"html": Markup(s.html), "text": s.text} for s in content.slogans]
    return render_template(
        target.layout,
        {
            "article": article,
            "slogans": slogans,
            "layout": target.layout.name,
            "size": target.size,
            "variant": target.variant.name,
            "page": page,
            "css": Markup(css),
            "body_class": body_class(target),
            "pad_pages": pads if target.layout.page_rule == "multiple-of-4" else 0,
        },
        target.name,
    )


# --- HTML -> laid-out pages -----------------------------------------------------------


class Typesetter:
    """Lays out one target, fitting its texts and its body size, in as few passes as it can."""

    def __init__(self, renderer, target: Target, content: Content, page: dict[str, float]):
        self.r = renderer
        self.target = target
        self.content = content
        self.page = page
        self.base = content.folder
        self.what = f"{target.file}"

    def html(self, extra_css: str = "", pads: int = PAD_PAGES) -> str:
        return to_html(self.target, self.content, self.page,
                       stylesheet(self.target, self.page, extra_css), pads)

    def layout(self, extra_css: str = ""):
        html = self.html(extra_css)
        return html, self.r.layout(html, self.base, self.what,
                                   self.target.layout.stylesheets())

    def fit_css(self, document) -> str:
        """Fit every ``data-fit`` element of the layout into its box (see copyfit)."""
        from pamphleteer import copyfit, render

        found = render.boxes(document, "data-fit")
        targets = []
        for ident, box in found.items():
            if ident.endswith("@box"):
                continue
            spec = self.target.layout.fits.get(box.name)
            if spec is None:
                raise RenderError(
                    f"{self.what}: element #{ident} has data-fit={box.name!r} but the "
                    f"layout's layout.toml has no [fit.{box.name}]"
                )
            area = found[ident + "@box"]
            html = render.outer_html(document, ident)
            label = " ".join(plain(html).split())
            label = label if len(label) <= 70 else label[:69] + "…"
            targets.append(copyfit.FitTarget(ident, html, area.width, area.height, spec, label))
        if not targets:
            return ""
        fitted = copyfit.fit(targets, self.measure, self.what)
        return copyfit.css(fitted)

    def check_fits(self, document) -> None:
        """Every fitted text within its box in the final layout: nothing overflows."""
        from pamphleteer import render

        found = render.boxes(document, "data-fit")
        for ident, box in found.items():
            area = found.get(ident + "@box")
            if ident.endswith("@box") or area is None:
                continue
            if box.height > area.height + 1 or box.text_width > area.width + 1:
                raise RenderError(
                    f"{self.what}: #{ident} overflows its box ({box.height:.0f} px tall in "
                    f"{area.height:.0f} px); give it a box of fixed size in the layout's CSS"
                )

    def measure(self, probes) -> dict[str, tuple[float, int, float]]:
        """Lay out all probes in one document and read back their sizes."""
        from pamphleteer import render

        rules = ["@page { size: 3000mm 5000mm; margin: 0 }",
                 ".pf-probe { break-inside: avoid; margin: 0; padding: 0 }"]
        body = []
        for p in probes:
            rules.append(f"#{p.id} {{ font-size: {p.size_pt:.3f}pt !important; "
                         "max-width: none !important; margin: 0 !important }")
            clone = p.target.html.replace(f'id="{p.target.id}"', f'id="{p.id}" data-probe=""', 1)
            body.append(f'<div class="pf-probe" style="width: {p.width:.2f}px">{clone}</div>')
        css = stylesheet(self.target, self.page) + "\n".join(rules)
        html = (f'<!doctype html><html lang="{self.content.article.lang}"><head>'
                f'<meta charset="utf-8"><style>{css}</style></head>'
                f'<body class="{body_class(self.target)}">{"".join(body)}</body></html>')
        found = render.boxes(self.r.layout(html, self.base, self.what + " (copyfit)"),
                             "data-probe")
        return {p.id: (found[p.id].height, found[p.id].lines, found[p.id].text_width)
                for p in probes}

    def body_fit(self, fit_css: str) -> tuple[str, object]:
        """The largest body size in the layout's range whose text fills ``pages`` pages.

        Returns the CSS that sets it (fits included) and the laid-out document.
        """
        spec = self.target.layout.body_fit
        wanted = self.target.layout.pages

        def at(size: float):
            css = f"{fit_css}\n:root {{ --body-size: {size:.2f}pt; }}"
            return css, self.layout(css)[1]

        css, doc = at(spec.max_pt)
        if len(doc.pages) <= wanted:
            return css, doc
        best = at(spec.min_pt)
        if len(best[1].pages) > wanted:
            raise RenderError(
                f"{self.what}: the article needs {len(best[1].pages)} pages even at the "
                f"smallest body size {spec.min_pt:g} pt, and this layout has {wanted}; "
                "shorten the article or use the booklet"
            )
        low, high = spec.min_pt, spec.max_pt
        while high - low > 0.1:
            mid = round((low + high) / 2, 2)
            css, doc = at(mid)
            if len(doc.pages) <= wanted:
                low, best = mid, (css, doc)
            else:
                high = mid
        return best

    def typeset(self) -> tuple[str, object]:
        """Return the final HTML and laid-out document, with every fit applied."""
        css = ""
        html, document = self.layout()
        fit_css = self.fit_css(document)
        if self.target.layout.body_fit:
            css, document = self.body_fit(fit_css)
        elif fit_css:
            css = fit_css
            document = self.layout(css)[1]
        if fit_css:
            self.check_fits(document)
        document, pads = self.paginate(document)
        return self.html(css, pads), document

    def paginate(self, document) -> tuple[object, int]:
        """Drop the booklet's spare blank pages that a multiple of 4 does not need."""
        if self.target.layout.page_rule != "multiple-of-4":
            return document, 0
        from pamphleteer import render

        anchors = render.page_anchors(document)
        pads = [i for i, ids in enumerate(anchors) if any(a.startswith("pad-") for a in ids)]
        needed = (-(len(anchors) - len(pads))) % 4
        drop = set(pads[needed:])
        return document.copy([p for i, p in enumerate(document.pages) if i not in drop]), needed


# --- one output: lay out, write, post-process, check ----------------------------------


def build_output(renderer, target: Target, content: Content, project: Project,
                 out_dir: Path, html_dir: Path | None, font_names: frozenset[str]) -> Output:
    import pikepdf

    from pamphleteer import check, render
    from pamphleteer.pdf import marks

    started = time.perf_counter()
    output = Output(target)
    page = geometry(target, project)
    html, document = Typesetter(renderer, target, content, page).typeset()

    inset = (page["bleed"] + page["safe"]) * MM_TO_PX
    for number, text, distance in render.text_outside(document, inset):
        raise RenderError(
            f"{target.file}: page {number}: text {text!r} comes within "
            f"{distance / MM_TO_PX - page['bleed']:.1f} mm of the trim "
            f"(safe zone {page['safe']:g} mm); "
            "the layout's margins are too small for this size"
        )
    if target.layout.page_rule == "per-slogan" and len(document.pages) != len(content.slogans):
        raise RenderError(
            f"{target.file}: {len(document.pages)} pages for {len(content.slogans)} slogans; "
            "a slogan spilled onto a second page: lower max_pt in the layout's [fit]"
        )

    pdf = pikepdf.open(io.BytesIO(renderer.pdf(document)))
    geo = marks.Geometry(page["trim_w"], page["trim_h"], page["bleed"])
    pdf = marks.add_crop_marks(pdf, geo) if target.variant.bleed else marks.set_trim(pdf, geo)
    buffer = io.BytesIO()
    pdf.save(buffer, deterministic_id=True, compress_streams=True,
             object_stream_mode=pikepdf.ObjectStreamMode.generate)
    data = buffer.getvalue()

    expected = check.Expected(
        trim_mm=(target.size.width_mm, target.size.height_mm),
        bleed_mm=page["bleed"],
        page_rule=target.layout.page_rule,
        pages=len(content.slogans) if target.layout.page_rule == "per-slogan"
        else target.layout.pages,
        fonts=font_names,
    )
    findings = check.check_pdf(pikepdf.open(io.BytesIO(data)), target.file, expected)
    if findings:
        raise RenderError(f"{findings[0]}" + (f" (and {len(findings) - 1} more)"
                                              if len(findings) > 1 else ""))

    write_atomic(out_dir / target.file, data)
    if html_dir is not None:
        write_atomic(html_dir / f"{target.file[:-4]}.html",
                     standalone_html(html, content.folder, project.fonts_dir).encode())
    output.pages = len(document.pages)
    output.sha256 = hashlib.sha256(data).hexdigest()
    output.bytes = len(data)
    output.seconds = time.perf_counter() - started
    return output


def standalone_html(html: str, base: Path, fonts_dir: Path) -> str:
    """The final HTML, with a base URL and ``@font-face`` rules so that the plain
    ``weasyprint`` command renders it the same way on its own."""
    faces = []
    for path in sorted(fonts_dir.rglob("*")):
        if path.suffix.lower() not in (".ttf", ".otf"):
            continue
        from fontTools.ttLib import TTFont

        names = TTFont(path, lazy=True)["name"]
        family = names.getDebugName(1)
        style = (names.getDebugName(2) or "").lower()
        weight = 700 if "bold" in style or "bold" in path.stem.lower() else 400
        italic = "italic" if "italic" in style else "normal"
        faces.append(f'@font-face {{ font-family: "{family}"; src: url("{path.as_uri()}"); '
                     f"font-weight: {weight}; font-style: {italic}; }}")
    head = f'<base href="{base.as_uri()}/"><style>{chr(10).join(faces)}</style>'
    return html.replace("<head>", "<head>" + head, 1)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- the build ------------------------------------------------------------------------


def check_inputs(content: Content, targets: list[Target], fonts_dir: Path) -> None:
    from pamphleteer.glyphs import check_coverage

    for t in targets:
        if t.layout.needs_slogans and not content.slogans:
            raise ContentError(
                f"{content.folder / 'slogans.md'}: no slogans, and {t.name} needs them; "
                "add '- Slogan' lines, or build other targets"
            )
    check_coverage(content.texts(), fonts_dir)


def build(job: Job, on_output: Callable[[Output, int, int], None] | None = None) -> list[Output]:
    """Build every output of ``job``; return them all, failed ones with ``error`` set."""
    project = job.project
    targets = plan(project, job.targets, job.variants)
    content = load_content(job.content_dir)
    check_inputs(content, targets, project.fonts_dir)

    outputs = []
    for index, output in enumerate(_run(job, content, targets), 1):
        outputs.append(output)
        if on_output:
            on_output(output, index, len(targets))
    write_manifest(job, content, outputs)
    return outputs


_worker: dict = {}


def _start_worker(job: Job, content: Content) -> None:
    """Pay the renderer's start-up (imports, fonts) once per worker process."""
    from pamphleteer.check import bundled_font_names
    from pamphleteer.render import Renderer

    project = job.project
    _worker.update(
        job=job,
        content=content,
        renderer=Renderer(project.fonts_dir, (project.root, content.folder.resolve())),
        fonts=bundled_font_names(project.fonts_dir),
    )


def _build_one(target: Target) -> Output:
    job, content = _worker["job"], _worker["content"]
    started = time.perf_counter()
    try:
        return build_output(_worker["renderer"], target, content, job.project, job.out_dir,
                            job.out_dir / "html" if job.html else None, _worker["fonts"])
    except PamphleteerError as e:
        return Output(target, error=e.format_message(), seconds=time.perf_counter() - started)


def _run(job: Job, content: Content, targets: list[Target]) -> Iterator[Output]:
    """Outputs as they finish: in this process for one job, else in worker processes."""
    jobs = min(job.jobs, len(targets))
    if jobs <= 1:
        _start_worker(job, content)
        yield from map(_build_one, targets)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    with ProcessPoolExecutor(jobs, initializer=_start_worker, initargs=(job, content)) as pool:
        futures = {pool.submit(_build_one, t): t for t in targets}
        for future in as_completed(futures):
            try:
                yield future.result()
            except BrokenProcessPool:
                yield Output(futures[future], error=f"{futures[future].file}: the worker "
                             "process building it crashed; run again with --jobs 1 to see why")


def write_manifest(job: Job, content: Content, outputs: list[Output]) -> None:
    """Record the outputs; entries of earlier builds whose files still exist are kept."""
    path = job.out_dir / "manifest.json"
    entries = {}
    try:
        for entry in json.loads(path.read_text())["outputs"]:
            if (job.out_dir / entry["file"]).is_file():
                entries[entry["file"]] = entry
    except (OSError, ValueError, KeyError, TypeError):
        pass
    for o in outputs:
        if o.error is None:
            entries[o.target.file] = o.manifest_entry(job.project.bleed_mm)
    manifest = {
        "generator": f"pamphleteer {__version__}",
        "content": job.project.relative(content.folder),
        "outputs": [entries[k] for k in sorted(entries)],
    }
    write_atomic(path, (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode())
