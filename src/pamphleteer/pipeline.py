"""The build, stage by stage: content -> HTML -> layout -> PDF -> post-processing -> checks.

``build()`` reads top to bottom as those stages. Each output is built on its own: one
that fails is reported and the others are still built. Files are written atomically,
after their checks pass, so a failed build never leaves a truncated PDF nor replaces a
good one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import io
import time
import traceback
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pamphleteer import pool
from pamphleteer.config import Project
from pamphleteer.errors import (
    BuildFailed,
    ContentError,
    PamphleteerError,
    RenderError,
    UsageError,
)
from pamphleteer.outputs import (
    DEFAULT_EPOCH,
    Manifest,
    locked,
    read_state,
    stamp,
    write_atomic,
    write_state,
    write_zip,
)
from pamphleteer.targets import DESK_MARGIN_MM, VARIANTS, Target, imposed, plan, shard
from pamphleteer.units import PT_PER_MM, PX_PER_MM

if TYPE_CHECKING:
    from pamphleteer.content import Content
    from pamphleteer.editions import Edition


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
    calibrate: bool = False  # only the label sheets' calibration prints, nothing else
    source_date_epoch: int = DEFAULT_EPOCH
    timeout: int = 300  # seconds one output may take before it is failed
    pdfx: str = "x4"  # the PDF/X standard of press files: a key of pdf.pdfx.STANDARDS
    first: tuple[str, ...] = ()  # outputs or layouts rebuilt before the others, in order
    lang: str | None = None  # a translation's language (None: the article's own)
    edition: Edition | None = None  # a local group's details, in its own language
    siblings: tuple[Path, ...] = ()  # folders of the same build (editions) to share with


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
    more: list = dataclasses.field(default_factory=list)  # entries of its other files
    findings: list = dataclasses.field(default_factory=list)  # preflight warnings
    traceback: str | None = None  # where an unexpected exception came from, for --debug
    entry: dict | None = None  # set: taken as made in a sibling folder, with its entry

    def manifest_entry(self, bleed: float) -> dict:
        if self.entry is not None:
            return self.entry
        t = self.target
        return {
            "file": t.file,
            "layout": t.layout.name,
            "size": t.size.name,
            "variant": t.variant.name,
            "pages": self.pages,
            "trim_mm": [t.size.width_mm, t.size.height_mm],
            "bleed_mm": bleed if t.variant.bleed else 0.0,
            "sha256": self.sha256,
            "bytes": self.bytes,
            "inputs_sha256": self.inputs,
            **self.details,
            **({"findings": [f.as_dict() for f in self.findings]} if self.findings else {}),
        }


# --- one output: lay out, write, post-process, check ----------------------------------


def build_output(renderer, target: Target, content: Content, job: Job,
                 font_names: frozenset[str], fit_cache=None, plain: str = "",
                 slogan_cards: bool = True) -> Output:
    """One output, from ``content``; ``plain`` is its key without the edition
    (``inputs.Inputs.plain``), ``slogan_cards`` false when an image output's slogan
    cards are made already (``_cards``)."""
    import pikepdf

    from pamphleteer.editions import direction
    from pamphleteer.pdf import cutcontour, grey, labels, marks, metadata, pdfx, tounicode
    from pamphleteer.typeset import geometry

    project, out_dir = job.project, job.out_dir

    started = time.perf_counter()
    output = Output(target)
    page = geometry(target, project)
    if target.variant.image:
        return _cards(renderer, target, content, job, page, fit_cache, output, started,
                      slogan_cards)
    html = None
    declared = target.layout.pages_for(len(content.slogans))
    paint, drums = "", 1  # drums: the PDF's pages per page of the design
    if target.variant.name == "riso":  # each role in a colour of its own, for the drums
        from pamphleteer.separations import marker_paint, separate

        paint, drums = marker_paint(project.inks), len(project.inks)
        output.details["inks"] = list(project.inks)
    if plain and _last_page_alone(target, content, job):
        rendered = _with_last_page(renderer, target, content, project, page, fit_cache,
                                   plain, paint)

        def relayout(drum: str) -> bytes:
            return renderer.pdf(_typeset(renderer, target, content, project, page,
                                         fit_cache, drum)[2], target.file)
    else:
        typesetter, html, document = _typeset(renderer, target, content, project, page,
                                              fit_cache, paint)
        rendered = renderer.pdf(document, target.file, pdf_variant=target.variant.pdf_variant)

        def relayout(drum: str) -> bytes:
            return renderer.pdf(typesetter.relayout(drum), target.file)
    if target.variant.name == "riso":  # one greyscale page per drum, in print order
        rendered = separate(rendered, relayout, target.file, project.inks)
    geo = marks.Geometry(page["trim_w"], page["trim_h"], page["bleed"])
    buffer = io.BytesIO()
    with pikepdf.open(io.BytesIO(rendered)) as pdf:
        pages = len(pdf.pages)
        if not target.variant.bleed:
            pdf = marks.set_trim(pdf, geo)
        elif target.layout.crop_marks:
            pdf = marks.add_crop_marks(pdf, geo)
        else:
            pdf = cutcontour.set_bleed_page(pdf, page["trim_w"], page["trim_h"], page["bleed"])
        if target.variant.grey:
            pdf = grey.to_grey(pdf, images=grey.copier_tone)
        if target.sheet is not None:
            pdf = labels.impose_labels(pdf, target.sheet)
        if target.variant.bleed and target.layout.cut:
            pdf = cutcontour.add_cut_contour(pdf, target.size.corner_mm)
            output.details["cut"] = {"spot": cutcontour.SPOT,
                                     "corner_mm": target.size.corner_mm}
        pdf = metadata.set_dates(pdf, job.source_date_epoch)
        pdf = tounicode.map_in_drawn_order(pdf)
        if direction(content.article.lang) == "rtl":
            pdf = metadata.set_right_to_left(pdf)
        pdf.save(buffer, deterministic_id=True, compress_streams=True,
                 object_stream_mode=pikepdf.ObjectStreamMode.generate)
    data = buffer.getvalue()
    if target.variant.bleed:
        data = pdfx.make_pdfx(data, target.file, job.pdfx, press(project),
                              job.source_date_epoch)
        output.details["pdfx"] = pdfx.STANDARDS[job.pdfx].label

    output.details.update(page_rule=target.layout.page_rule, safe_mm=page["safe"],
                          viewing_cm=target.layout.viewing_cm)
    if target.sheet is not None:
        declared = 1
        output.details.update(_sheet_details(target, page["safe"]))
    entry = {"variant": target.variant.name, "pages": declared * drums,
             "trim_mm": [target.size.width_mm, target.size.height_mm],
             "bleed_mm": page["bleed"], **output.details}
    output.findings = _preflight(data, target.file, entry, project, font_names)

    write_atomic(out_dir / target.file, data)
    if job.html:
        write_atomic(out_dir / "html" / f"{target.file[:-4]}.html",
                     standalone_html(html, content.folder, project.fonts_dir).encode())
    output.pages = declared if target.sheet is not None else pages
    output.sha256 = hashlib.sha256(data).hexdigest()
    output.bytes = len(data)
    output.seconds = time.perf_counter() - started
    return output


def _typeset(renderer, target: Target, content: Content, project: Project,
             page: dict[str, float], fit_cache, paint: str = "", alone: bool = False):
    """``target`` typeset (``typeset.Typesetter``), and checked: no text past the safe
    zone, no glyph from a font the layout did not name, a page per card or slogan.
    Returns the typesetter, the final HTML and the laid-out document."""
    from pamphleteer import render
    from pamphleteer.glyphs import family_coverage
    from pamphleteer.typeset import Typesetter

    typesetter = Typesetter(renderer, target, content, page, fit_cache, paint, alone)
    html, document = typesetter.typeset()

    inset = (page["bleed"] + page["safe"]) * PX_PER_MM
    for number, text, distance in render.text_outside(document, inset):
        from_trim = distance / PX_PER_MM - page["bleed"]
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
    declared = target.layout.pages_for(len(content.slogans))
    if (target.layout.page_rule in ("per-slogan", "headline-and-slogans")
            and len(document.pages) != declared):
        raise RenderError(
            f"{target.file}: overflow: {len(document.pages)} pages for "
            f"{len(content.slogans)} slogans; a slogan spilled onto a second page: "
            "lower max_pt in the layout's [fit]"
        )
    return typesetter, html, document


def _last_page_alone(target: Target, content: Content, job: Job) -> bool:
    """Whether an edition's file is made as the plain file with its last page laid out
    alone (``_with_last_page``): where the layout shows the edition on that page alone
    (``edition_last_page``), but for a tagged file, whose structure spans its pages, and
    with ``--html``, which writes the document whole."""
    return (content.edition is not None and target.layout.edition_last_page
            and target.variant.pdf_variant is None and not job.html)


def _with_last_page(renderer, target: Target, content: Content, project: Project,
                    page: dict[str, float], fit_cache, plain: str, paint: str) -> bytes:
    """An edition's file as the plain file with the edition's last page: the same pages
    as the document laid out whole, for a fraction of the work. The plain file is laid
    out once per language (kept in the user's cache under ``plain``, its key, but with
    ``--force``, which has no ``fit_cache``), and the edition's page alone, the rest of
    the document left out (``typeset.to_html``). A page drawn alone uses fonts of its
    own: the file embeds a second, small subset of the fonts that page shows."""
    import pikepdf

    from pamphleteer import inputs
    from pamphleteer.fitcache import kept

    def laid_out(shown: Content, alone: bool = False) -> bytes:
        _, _, document = _typeset(renderer, target, shown, project, page, fit_cache, paint,
                                  alone)
        return renderer.pdf(document, target.file)

    def make() -> bytes:
        return laid_out(dataclasses.replace(content, edition=None))

    whole = make() if fit_cache is None else kept(
        "plain", inputs.key({"plain": plain, "renderer": _versions()}), make)
    buffer = io.BytesIO()
    with pikepdf.open(io.BytesIO(whole)) as pdf, \
            pikepdf.open(io.BytesIO(laid_out(content, alone=True))) as last:
        if len(last.pages) != 1:
            raise RenderError(f"{target.file}: the edition's last page, laid out alone, "
                              f"came out as {len(last.pages)} pages; keep it to one, or "
                              "set edition_last_page = false in the layout's layout.toml")
        del pdf.pages[-1]
        pdf.pages.append(last.pages[0])
        pdf.save(buffer)
    return buffer.getvalue()


def _cards(renderer, target: Target, content: Content, job: Job, page: dict[str, float],
           fit_cache, output: Output, started: float, slogan_cards: bool) -> Output:
    """An image output's cards. An edition shows itself on its headline card alone: its
    slogan cards are the kit's own, laid out without it, and so the same in every
    edition of the language. Without ``slogan_cards`` they are not made (the build
    copies them from an edition that has them), and the headline's card is laid out on
    its own."""
    from pamphleteer import social

    documents = [(content, range(len(content.slogans) + 1))]
    if content.edition is not None:
        documents = [(dataclasses.replace(content, slogans=()), range(1))]
        if slogan_cards:
            documents.append((dataclasses.replace(content, edition=None),
                              range(1, len(content.slogans) + 1)))
    pdfs = []
    for shown, cards in documents:
        _, _, document = _typeset(renderer, target, shown, job.project, page, fit_cache)
        pdfs.append((renderer.pdf(document, target.file), cards))
    return social.write_cards(pdfs, target, content, job.out_dir, output, started)


def _sheet_details(target: Target, label_safe_mm: float) -> dict:
    """A label sheet's manifest details: the paper is its trim, and the labels on it."""
    from pamphleteer.layouts import SHEETS

    sheet = target.sheet
    return {"trim_mm": list(SHEETS[sheet.paper]), "page_rule": "fixed",
            "safe_mm": min(label_safe_mm, DESK_MARGIN_MM), "label_sheet": sheet.name,
            "labels": sheet.columns * sheet.rows,
            "label_mm": [sheet.label_w_mm, sheet.label_h_mm]}


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


def build(job: Job, on_output: Callable[[Output, int, int], None] | None = None,
          workers: pool.Workers | None = None) -> list[Output]:
    """Build every output of ``job`` whose inputs changed; return them all.

    Unchanged outputs come back with ``skipped`` set, failed ones with ``error``. The
    outputs are made by ``workers`` (see ``job_workers``), or by workers of its own.
    """
    from pamphleteer import inputs

    project = job.project
    targets = shard(plan(project, job.targets, job.variants), *job.shard)
    if job.calibrate:
        return _calibration_prints(job, targets, on_output)
    state = read_state(job.out_dir)
    if (not job.force and "stamp" in state
            and state["stamp"] == stamp(*inputs.watched(job, targets))):
        return _unchanged(job, targets, on_output)

    from pamphleteer.content import load_content

    edition = job.edition
    content = load_content(job.content_dir, edition.lang if edition else job.lang)
    content = dataclasses.replace(content, edition=edition)
    check_slogans(content, targets)
    keys = inputs.input_keys(targets, content, project, job.pdfx)
    if any(t.variant.bleed for t in targets):
        from pamphleteer.pdf.pdfx import require_ghostscript

        require_ghostscript(job.pdfx)

    with locked(job.out_dir):
        manifest = Manifest.load(job.out_dir, project.relative(content.folder),
                                 job.source_date_epoch)
        todo = [t for t in targets if job.force or not all(
            manifest.fresh(f, k) for f, k in _file_keys(t, keys[t.file], content).items())]
        # The layouts asked for first, then the rest; press files before desk files: by
        # the time a desk file starts, the press copy of the same target has usually
        # stored the fits both share.
        todo.sort(key=lambda t: (_rank(job.first, t), t.variant.name != "press"))
        if todo:
            from pamphleteer.glyphs import check_coverage

            check_coverage(content.texts(), project.fonts_dir)
        sheets = {t.file: t.impositions() for t in targets}  # by the file they are made of
        total = len(targets) + sum(map(len, sheets.values()))
        outputs: list[Output] = []

        def report(output: Output, bleed_mm: float) -> None:
            outputs.append(output)
            if output.error is None and not output.skipped:
                manifest.record(output.manifest_entry(bleed_mm))
                for entry in output.more:  # an image variant's other cards
                    manifest.record({**entry, "inputs_sha256": keys[output.target.file].plain})
            if on_output:
                on_output(output, len(outputs), total)

        for t in targets:
            if t not in todo:
                report(Output(t, skipped=True, inputs=keys[t.file].key,
                              pages=manifest.entries[t.file]["pages"]), 0.0)
        siblings = [Manifest.load(folder, manifest.content, job.source_date_epoch)
                    for folder in job.siblings]
        render, cards = [], {}  # cards: an edition's slogan cards, made already
        for t in todo:
            if refusal := content.refusal(keys[t.file].reads):
                report(Output(t, error=f"{t.file}: refused: {refusal}"), 0.0)
            elif shared := _shared(job, t, keys[t.file].key, siblings):
                report(shared, 0.0)
            else:
                if content.edition is not None and t.variant.image:
                    made = _shared_cards(job, t, keys[t.file].plain, [manifest, *siblings],
                                         len(content.slogans))
                    if made is not None:
                        cards[t.file] = made
                render.append(t)

        def impose(source: Target) -> None:
            for sheet in sheets.pop(source.file, ()):
                report(_guarded(sheet, impose_output, job, sheet, manifest, siblings,
                                content.article.lang), 0.0)

        with contextlib.ExitStack() as stack:
            if workers is None:
                workers = stack.enter_context(job_workers(job))
            done = workers.run(_build_one, [(t, job, content, keys[t.file].plain,
                                             t.file not in cards) for t in render],
                               job.timeout)
            for (target, *_), output in done:
                output = _outcome(output, target, job)
                output.inputs = keys[target.file].key
                if output.error is None:
                    output.more += cards.get(target.file, [])
                report(output, target.bleed_mm(project))
                impose(target)  # here, while the workers go on with the other outputs
        for target in targets:
            impose(target)
        if any(t.variant.image for t in targets):
            from pamphleteer.social import write_alt_texts

            write_alt_texts(job.out_dir, content)
        manifest.save()
        if job.zip and not any(o.error for o in outputs):
            write_zip(job.out_dir, content.name, manifest)
        if not any(o.error for o in outputs):
            write_state(job.out_dir, {"stamp": stamp(*inputs.watched(job, targets))})
    return outputs


def _rank(first: tuple[str, ...], target: Target) -> int:
    """Where ``target`` comes in ``first``, by its file or its layout's name."""
    for name in (target.file, target.layout.name):
        if name in first:
            return first.index(name)
    return len(first)


def output_files(out_dir: Path, target: Target) -> list[str]:
    """The files ``target`` made, as the manifest lists them: its own, or every card of
    an image output, the headline's first."""
    if not target.variant.image:
        return [target.file]
    entries = Manifest.read(out_dir, files=False).entries
    return [f for f in target.files(len(entries)) if f in entries]


def failure(outputs: list[Output]) -> BuildFailed | None:
    """The error a build with failed outputs ends with, one line: each message once,
    after the first file it failed and how many more (a content error fails every file
    that shows the text, in the same words; each file's own line has said which). An
    error starts with its file's name, in a build of several kits with its folder
    (``lyon/flyer-a6-press.pdf: …``)."""
    failed = []
    for o in outputs:
        if o.error:
            name, _, message = o.error.partition(": ")
            if not name.endswith(o.target.file):
                name, message = o.target.file, o.error
            failed.append((name, message))
    if not failed:
        return None
    files: dict[str, list[str]] = {}  # by message
    for name, message in sorted(failed):  # the same failures give the same line
        files.setdefault(message, []).append(name)
    return BuildFailed(f"{len(failed)} output(s) failed: " + "; ".join(
        f"{names[0]}{f' (and {len(names) - 1} more)' if len(names) > 1 else ''}: {message}"
        for message, names in files.items()))


def _shared(job: Job, target: Target, key: str, siblings: list[Manifest]) -> Output | None:
    """The output as a sibling folder of the same build already made it from the very
    same inputs (a placard is the same in every edition): copied, not made again."""
    if target.variant.image:
        return None  # many files, made quickly: made again rather than copied
    for sibling in siblings:
        if sibling.fresh(target.file, key):
            data = (sibling.path.parent / target.file).read_bytes()
            write_atomic(job.out_dir / target.file, data)
            entry = sibling.entries[target.file]
            return Output(target, pages=entry["pages"], sha256=entry["sha256"],
                          bytes=len(data), inputs=key, entry=entry)
    return None


def _file_keys(target: Target, keys, content: Content) -> dict[str, str]:
    """Each file ``target`` makes, with the key it is made from (``keys``, its
    ``inputs.Inputs``): an image output's slogan cards have their own."""
    files = target.files(len(content.slogans))
    return {f: keys.key if i == 0 else keys.plain for i, f in enumerate(files)}


def _shared_cards(job: Job, target: Target, key: str, manifests: list[Manifest],
                  slogans: int) -> list[dict] | None:
    """An edition's slogan cards (``_cards``) as this folder or a sibling one has them,
    made from the very same inputs: copied if need be, and their entries; or None."""
    files = target.files(slogans)[1:]
    for manifest in manifests:
        if files and all(manifest.fresh(f, key) for f in files):
            folder = manifest.path.parent
            if folder != job.out_dir:
                for f in files:
                    write_atomic(job.out_dir / f, (folder / f).read_bytes())
            return [manifest.entries[f] for f in files]
    return None


def impose_output(job: Job, target: Target, manifest: Manifest,
                  siblings: list[Manifest] = (), lang: str = "en") -> Output:
    """Impose or tile a desk file onto sheets, unless it and the settings are as last
    time (or a sibling folder has it already). A tiled file's labels are in ``lang``."""
    import pikepdf

    from pamphleteer import inputs
    from pamphleteer.check import bundled_font_names
    from pamphleteer.editions import direction
    from pamphleteer.fitcache import kept
    from pamphleteer.layouts import strings
    from pamphleteer.pdf import impose, metadata, tile

    if target.calibration:
        return calibration_output(job, target, manifest)
    source = target.source
    entry = manifest.entries.get(source.file)
    if entry is None:
        return Output(target, error=f"{target.file}: {source.file} was not built; "
                                    "fix its error first")
    imposition, tiling, creep = target.imposition, target.tiling, job.project.paper_thickness_mm
    if tiling is None:
        key = inputs.key({"source": entry["sha256"], "imposition": imposition, "creep": creep})
    else:  # and the words and fonts of its labels
        words = tile.Words(strings(target.layout, lang), lang)
        fonts = inputs.fonts_digest(job.project.fonts_dir)
        key = inputs.key({"source": entry["sha256"], "tiling": tiling, "lang": lang,
                          "words": words.strings, "fonts": fonts})
    if not job.force and manifest.fresh(target.file, key):
        return Output(target, skipped=True, inputs=key,
                      pages=manifest.entries[target.file]["pages"])
    if shared := _shared(job, target, key, siblings):
        return shared
    started = time.perf_counter()
    buffer = io.BytesIO()
    with contextlib.ExitStack() as files:
        src = files.enter_context(pikepdf.open(job.out_dir / source.file))
        if tiling is not None:
            poster = impose.page_size(src.pages[0])
            grid = tile.grid_for(poster, tiling)
            html = tile.labels_html(grid, poster, source.name, len(src.pages), words,
                                    direction(lang))
            # The same labels for every edition, and after an edit to the art alone.
            labels = kept("labels", inputs.key({"html": html, "css": tile.LABEL_CSS,
                                                "fonts": fonts, "renderer": _versions()}),
                          lambda: _labels(job, target, html, words))
            # Open until the tiled file is saved: its pages' forms are copied from it.
            labels_pdf = files.enter_context(pikepdf.open(io.BytesIO(labels)))
            pdf = tile.tile(src, grid, labels_pdf)
            pages = 1 + len(src.pages) * grid.cols * grid.rows
            made = {"tiled_from": source.file}
        else:
            if imposition.grid:
                pdf = impose.impose_grid(src, imposition.sheet, *imposition.grid)
            elif imposition.fold == "zine":
                pdf = impose.impose_zine(src, imposition.sheet)
            else:
                pdf = impose.impose_booklet(src, imposition.sheet, creep)
            pages = 1 if imposition.grid or imposition.fold else entry["pages"] // 2
            made = {"imposed_from": source.file,
                    "duplex": None if imposition.grid or imposition.fold
                    else "flip on short edge"}
        pdf.docinfo["/Title"] = src.docinfo.get("/Title", "")
        metadata.set_dates(pdf, job.source_date_epoch)
        pdf.save(buffer, deterministic_id=True, compress_streams=True,
                 object_stream_mode=pikepdf.ObjectStreamMode.generate)
    data = buffer.getvalue()
    with pikepdf.open(io.BytesIO(data)) as written:
        box = written.pages[0].mediabox
        sheet_mm = [round(float(box[2]) / PT_PER_MM, 1), round(float(box[3]) / PT_PER_MM, 1)]
        written_pages = len(written.pages)
    details = {"page_rule": "fixed", "safe_mm": DESK_MARGIN_MM, "viewing_cm": 30.0}
    entry = {"variant": "desk", "trim_mm": sheet_mm, "bleed_mm": 0.0, "pages": pages,
             **made, **details}
    findings = _preflight(data, target.file, entry, job.project,
                          bundled_font_names(job.project.fonts_dir))
    write_atomic(job.out_dir / target.file, data)
    return Output(
        target, pages=written_pages, sha256=hashlib.sha256(data).hexdigest(),
        bytes=len(data), seconds=time.perf_counter() - started, inputs=key,
        details={"trim_mm": sheet_mm, "sheet": (tiling or imposition).sheet, **made,
                 **details},
        findings=findings,
    )


def _labels(job: Job, target: Target, html: str, words) -> bytes:
    """A tiled file's labels and assembly map (``tile.labels_html``), as PDF."""
    from pamphleteer.pdf import tile

    renderer = _renderer(job.project.fonts_dir)
    document = renderer.layout(html, job.project.root, target.file, (), css=(tile.LABEL_CSS,))
    tile.check_labels(document, words)
    return renderer.pdf(document, target.file)


def _versions() -> str:
    """The renderer's and its PDF writer's versions: what else decides a rendering."""
    import pydyf
    import weasyprint

    return f"weasyprint {weasyprint.__version__} pydyf {pydyf.__version__}"


def _renderer(fonts_dir: Path):
    """This process's renderer: a worker's, or one made for the sheets' labels."""
    from pamphleteer.render import Renderer

    if "renderer" not in _worker:
        _worker["renderer"] = Renderer(fonts_dir)
    return _worker["renderer"]


def _calibration_prints(job: Job, targets: list[Target], on_output) -> list[Output]:
    """``build --calibrate``: the label sheets' outlines alone, to try a printer's
    alignment on plain paper before printing on labels. Needs no content rendered."""
    prints = [i for t in targets if t.sheet is not None for i in t.impositions()]
    if not prints:
        raise UsageError("--calibrate makes the label sheets' calibration prints, and no "
                         "target has label sheets; build the sticker layout")
    outputs = []
    with locked(job.out_dir):
        manifest = Manifest.load(job.out_dir, job.project.relative(job.content_dir),
                                 job.source_date_epoch)
        for index, target in enumerate(prints, 1):
            output = _guarded(target, calibration_output, job, target, manifest)
            if output.error is None and not output.skipped:
                manifest.record(output.manifest_entry(0.0))
            outputs.append(output)
            if on_output:
                on_output(output, index, len(prints))
        manifest.save()
    return outputs


def calibration_output(job: Job, target: Target, manifest: Manifest) -> Output:
    """A label sheet's outlines alone, to print on plain paper and hold against a sheet
    of labels: made from the sheet's geometry, unless that is as last time."""
    import pikepdf

    from pamphleteer import inputs
    from pamphleteer.check import bundled_font_names
    from pamphleteer.pdf import labels, metadata

    sheet = target.sheet
    key = inputs.key({"calibration": dataclasses.astuple(sheet)})
    if not job.force and manifest.fresh(target.file, key):
        return Output(target, skipped=True, inputs=key,
                      pages=manifest.entries[target.file]["pages"])
    started = time.perf_counter()
    buffer = io.BytesIO()
    with labels.calibration(sheet, f"{sheet.description or sheet.name}: calibration") as pdf:
        metadata.set_dates(pdf, job.source_date_epoch)
        pdf.save(buffer, deterministic_id=True, compress_streams=True,
                 object_stream_mode=pikepdf.ObjectStreamMode.generate)
    data = buffer.getvalue()
    details = {**_sheet_details(target, DESK_MARGIN_MM), "calibration": True,
               "viewing_cm": 30.0}
    entry = {"variant": "labels", "pages": 1, "bleed_mm": 0.0, **details}
    findings = _preflight(data, target.file, entry, job.project,
                          bundled_font_names(job.project.fonts_dir))
    write_atomic(job.out_dir / target.file, data)
    return Output(target, pages=1, sha256=hashlib.sha256(data).hexdigest(), bytes=len(data),
                  seconds=time.perf_counter() - started, inputs=key, details=details,
                  findings=findings)


def _unchanged(job: Job, targets: list[Target], on_output) -> list[Output]:
    """Every output as the last build left it, read from the manifest."""
    entries = Manifest.read(job.out_dir, files=False).entries
    outputs = [Output(t, skipped=True, pages=entries[t.file]["pages"],
                      inputs=entries[t.file]["inputs_sha256"])
               for t in targets + imposed(targets)]
    for index, output in enumerate(outputs, 1):
        if on_output:
            on_output(output, index, len(outputs))
    return outputs




# --- one output in a worker process: start-up once, then each output on its own ---------

_worker: dict = {}


def job_workers(job: Job, in_process: bool = True) -> pool.Workers:
    """Worker processes for ``job``, and for any other job with the same fonts (the
    editions of one build): the renderer is what costs to start. Without ``in_process``,
    never this process (see ``pool.Workers``)."""
    return pool.Workers(job.jobs, _start_worker, (job.project.fonts_dir, job.force),
                        in_process)


def _start_worker(fonts_dir: Path, force: bool) -> None:
    """Pay the renderer's start-up (imports, fonts) once per worker process."""
    from pamphleteer.check import bundled_font_names
    from pamphleteer.fitcache import FitCache, cache_dir
    from pamphleteer.render import Renderer

    _worker.update(
        renderer=Renderer(fonts_dir),
        fonts=bundled_font_names(fonts_dir),
        fit_cache=None if force else FitCache(cache_dir(), fonts_dir),
    )


def _build_one(item: tuple[Target, Job, Content, str, bool]) -> Output:
    target, job, content, plain, slogan_cards = item
    w = _worker
    return _guarded(target, build_output, w["renderer"], target, content, job, w["fonts"],
                    w["fit_cache"], plain, slogan_cards)


def _guarded(target: Target, make: Callable[..., Output], *args) -> Output:
    """``make(*args)``, the output ``target``; whatever goes wrong fails that output
    alone. An exception that is not one of ours is a bug: the message says so, and the
    output keeps its traceback for ``--debug``."""
    started = time.perf_counter()
    try:
        return make(*args)
    except PamphleteerError as e:
        message = e.format_message()
        if not message.startswith(target.file):
            message = f"{target.file}: {message}"
        return Output(target, error=message, seconds=time.perf_counter() - started)
    except Exception as e:
        return Output(target, error=f"{target.file}: bug: {type(e).__name__}: "
                      f"{str(e) or 'no message'}; please report it (--debug shows where)",
                      seconds=time.perf_counter() - started, traceback=traceback.format_exc())


def _outcome(result: Output | pool.TimedOut | pool.Crashed, target: Target, job: Job) -> Output:
    """What the pool gave back for ``target``, as an output."""
    if isinstance(result, pool.TimedOut):
        return Output(target, error=f"{target.file}: not done after {job.timeout} s; a layout "
                      "that never settles? raise --timeout if it is just large")
    if isinstance(result, pool.Crashed):
        return Output(target, error=f"{target.file}: the worker process building it "
                      "crashed; run again with --jobs 1 to see why")
    return result
