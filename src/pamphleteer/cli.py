"""The ``pamphleteer`` command: thin click commands over ``pipeline``."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import time
from pathlib import Path

import click

from pamphleteer import __version__
from pamphleteer.config import (
    BUILTIN_LAYOUTS,
    CONFIG_NAME,
    NAME,
    Project,
    discover_project,
    load_project,
    nearest_project,
    new_project_toml,
    valid,
)
from pamphleteer.errors import BuildFailed, CheckFailed, ConfigError, UsageError
from pamphleteer.outputs import DEFAULT_EPOCH, LATEST_EPOCH
from pamphleteer.pipeline import Job, Output, build, failure, output_files
from pamphleteer.proofs import DEFAULT_DPI
from pamphleteer.targets import VARIANTS, plan


def _project(path: Path | None) -> Project:
    """The project at ``path``, else the one at or above the current folder, else none:
    the built-in layouts and defaults, outputs into ./dist/."""
    return load_project(path) if path else discover_project(Path.cwd())


def _epoch() -> int:
    """Dates written into outputs: ``SOURCE_DATE_EPOCH`` if set, else a fixed date.

    From 1970 to 2107 only: the last date a zip entry can hold, well before the last a
    PDF date (four-digit years) can.
    """
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return DEFAULT_EPOCH
    if not (value.isascii() and value.isdigit() and len(value) < 20
            and int(value) <= LATEST_EPOCH):
        raise UsageError(f"SOURCE_DATE_EPOCH={value[:40]!r} is not a whole number of seconds "
                         f"from 0 to {LATEST_EPOCH} (1970 to 2107); set it to one, or unset it")
    return int(value)


def _shard(ctx, param, value: str | None) -> tuple[int, int]:
    if value is None:
        return (1, 1)
    index, _, count = value.partition("/")
    if not (index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
        raise click.BadParameter(f"{value!r}: write I/N with 1 ≤ I ≤ N, e.g. 2/4")
    return int(index), int(count)


project_option = click.option(
    "--project", type=click.Path(file_okay=False, path_type=Path),
    help="Project folder (holding pamphleteer.toml). Default: the nearest one at or "
         "above the current folder; in none, the built-in layouts and defaults.",
)


def _show_version(ctx, param, value) -> None:
    """pamphleteer's version and WeasyPrint's, which decides much of the output. Read
    from WeasyPrint's package metadata: importing it takes a second."""
    if not value or ctx.resilient_parsing:
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        weasyprint = version("weasyprint")
    except PackageNotFoundError:
        weasyprint = "not installed"
    click.echo(f"pamphleteer, version {__version__} (WeasyPrint {weasyprint})")
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_show_version, help="Show the version (and WeasyPrint's) and exit.")
@click.option("--debug", is_flag=True,
              help="On a bug (an error that is not about your input), print where it came "
                   "from: the traceback, to attach to a report.")
def cli(debug):
    """Turn an article and a list of slogans into a print-ready kit of PDFs.

    Leaflets, booklets, zines, flyers, posters, placards and stickers, in ISO and US
    sizes: press files (bleed and crop marks, for a copy shop or printer), desk files
    (fit a home or office printer; imposed or tiled onto its paper where needed), screen
    files (tagged and small, to share online), copier files (black only) and risograph
    masters (one per drum); and cards for phones (PNG).

    'pamphleteer new DIR' starts a project; 'pamphleteer build' in it builds its kit.
    Anywhere else, 'pamphleteer build --content FOLDER' builds a content folder on the
    built-in layouts into ./dist/. 'build --all-langs' builds a kit per translation,
    'build --all-editions' one per local group in editions.csv.
    """


def selection_options(command):
    """The options that say what to build and where, shared by build, preview and serve."""
    for option in reversed([
        click.argument("targets", nargs=-1),
        project_option,
        click.option("--content", "content_dir", type=click.Path(path_type=Path),
                     help="Content folder (article.md + slogans.md). Default: the project's; "
                          "required outside a project."),
        click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Output folder. Default: dist/ in the project (outside one, in "
                          "the current folder)."),
        click.option("--variant", "variants", multiple=True, type=click.Choice(list(VARIANTS)),
                     help="Build only this variant (repeatable). Default: all."),
    ]):
        command = option(command)
    return command


jobs_option = click.option(
    "-j", "--jobs", type=click.IntRange(min=1), default=os.cpu_count() or 1,
    show_default="the number of cores",
    help="Outputs rendered in parallel, each worker paying start-up once.",
)
dpi_option = click.option("--dpi", type=click.IntRange(min=10, max=600), default=DEFAULT_DPI,
                          show_default=True, help="Resolution of the PNG proofs.")


def _job(project, targets, content_dir, out_dir, variants, **settings) -> Job:
    p = _project(project)
    content_dir = content_dir or p.content_dir
    if content_dir is None:
        raise UsageError(f"no {CONFIG_NAME} in {p.root} or any folder above it, so no "
                         "content folder to build; name one with --content FOLDER, or start "
                         "a project with 'pamphleteer new DIR'")
    if (content_dir / CONFIG_NAME).is_file() and not (content_dir / "article.md").exists():
        raise UsageError(f"{content_dir} is a project, not a content folder; build its kit "
                         f"with 'pamphleteer build --project {content_dir}' or from inside it")
    return Job(project=p, content_dir=content_dir.resolve(),
               out_dir=(out_dir or p.out_dir).resolve(), targets=targets,
               variants=variants or tuple(VARIANTS), source_date_epoch=_epoch(), **settings)


def _build(job: Job, as_json: bool = False,
           runs: list | None = None) -> tuple[list[Output], BuildFailed | None]:
    """Build (the plain kit, or one kit per language or edition in ``runs``) with a
    progress display and a summary line; return the outputs and the failure to raise
    once the caller has done what it can with the rest."""
    from pamphleteer.runs import build_runs

    started = time.perf_counter()
    with _Progress(as_json) as progress:
        if runs:
            outputs = [o for _, o in build_runs(job, runs, lambda run, o, i, n: progress.update(
                o, i, n, f"{run.folder}/"))]
        else:
            outputs = build(job, progress.update)
    if _debugging():
        for output in outputs:
            if output.traceback:
                click.echo(f"{output.target.file}:\n{output.traceback}", err=True)
    failed = failure(outputs)
    skipped = sum(o.skipped for o in outputs)
    errors = sum(o.error is not None for o in outputs)
    for finding in (f for o in outputs for f in o.findings):
        click.echo(f"{finding.severity}: {finding}", err=True)
    click.echo(f"{len(outputs) - errors - skipped} built, {skipped} unchanged, "
               f"{errors} failed, in {job.project.relative(job.out_dir)}/ "
               f"({time.perf_counter() - started:.1f} s)", err=True)
    return outputs, failed


@cli.command("build")
@selection_options
@click.option("--html", is_flag=True,
              help="Also write each output's final HTML to OUT/html/, renderable on its "
                   "own by the weasyprint command.")
@jobs_option
@click.option("--force", is_flag=True, help="Rebuild every output, changed or not.")
@click.option("--shard", callback=_shard, metavar="I/N",
              help="Build only the I-th of N stable shares of the outputs (for a CI "
                   "matrix); combine the shards with 'pamphleteer merge'.")
@click.option("--zip", "make_zip", is_flag=True,
              help="Also write OUT/<content>-kit.zip with every PDF and the manifest.")
@click.option("--timeout", type=click.IntRange(min=1), default=300, show_default=True,
              help="Seconds one output may take before it is failed.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object per output on stdout (for scripts and CI).")
@click.option("--pdfx", type=click.Choice(["x4", "x1a"]), default="x4", show_default=True,
              help="Standard of the press files: PDF/X-4, or PDF/X-1a:2001 for printers "
                   "that ask for it (flattened by Ghostscript, which must be installed).")
@click.option("--calibrate", is_flag=True,
              help="Only the label sheets' calibration prints (label outlines, no art): "
                   "print one on plain paper and hold it against a sheet of labels first.")
@click.option("--lang", "langs", multiple=True, metavar="LANG",
              help="Build the kit in this language (repeatable), from article.LANG.md and "
                   "slogans.LANG.md, into OUT/LANG/.")
@click.option("--all-langs", is_flag=True,
              help="Build the kit in every language the content has, into OUT/<lang>/.")
@click.option("--edition", "editions", multiple=True, metavar="ID",
              help="Build the kit of this row of editions.csv (repeatable), with the local "
                   "group's details, in its language, into OUT/ID/.")
@click.option("--all-editions", is_flag=True,
              help="Build every edition of editions.csv, each into OUT/<id>/.")
def build_command(targets, project, content_dir, out_dir, variants, html, jobs, force,
                  shard, make_zip, timeout, as_json, pdfx, calibrate, langs, all_langs,
                  editions, all_editions):
    """Build TARGETS, or the whole kit when none are named.

    A target is a layout (poster) or a layout and size (leaflet-a4,
    placard-a3-landscape); 'pamphleteer list' shows them all. Outputs are
    OUT/<layout>-<size>-<variant>.pdf plus OUT/manifest.json. Outputs whose
    inputs did not change since the last build are kept as they are.

    Dates inside the PDFs come from SOURCE_DATE_EPOCH when it is set, else from a
    fixed date: the same inputs always give the same bytes.

    With --lang/--all-langs or --edition/--all-editions, one such kit per language
    or edition, each in a folder of its own with its manifest, listed in
    OUT/languages.json or OUT/editions.json.

    Exit codes: 0 built, 1 some output failed (the rest are built), 2 bad input.
    """
    from pamphleteer.runs import plan_runs

    job = _job(project, targets, content_dir, out_dir, variants, html=html, jobs=jobs,
               force=force, shard=shard, zip=make_zip, timeout=timeout, pdfx=pdfx,
               calibrate=calibrate)
    runs = plan_runs(job.content_dir, langs, all_langs, editions, all_editions)
    _, failed = _build(job, as_json, runs)
    if failed:
        raise failed


@cli.command("preview")
@selection_options
@dpi_option
@click.option("--sheet", is_flag=True,
              help="Also draw OUT/proofs/contact-sheet.png: every output's first page, "
                   "all to one scale, labelled.")
@jobs_option
def preview_command(targets, project, content_dir, out_dir, variants, dpi, sheet, jobs):
    """Build TARGETS (as 'build' does), then render every page to a PNG proof.

    Proofs are OUT/proofs/<output>/page-001.png, …, rendered from the finished PDFs.
    Only changed pages are written again, so a second run is quick.
    """
    from pamphleteer import proofs

    job = _job(project, targets, content_dir, out_dir, variants, jobs=jobs)
    outputs, failed = _build(job)
    files = [f for o in outputs if o.error is None
             for f in output_files(job.out_dir, o.target)]  # every social card
    with _Progress(False) as progress:
        proofs.render_all(job.out_dir, files, dpi, lambda file, pages, index, total:
                          progress.show(f"[{index}/{total}] {file:<40} {len(pages):>2} p",
                                        index, total, file))
    where = job.project.relative(job.out_dir / proofs.PROOFS)
    click.echo(f"proofs of {len(files)} outputs in {where}/", err=True)
    if sheet:
        path = proofs.contact_sheet(job.out_dir, [(o.target.file, o.target.layout.name)
                                                  for o in outputs if o.error is None],
                                    job.project.fonts_dir)
        click.echo(f"contact sheet: {job.project.relative(path)}", err=True)
    if failed:
        raise failed


@cli.command("merge")
@click.argument("shards", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder to merge into.")
@click.option("--zip", "make_zip", is_flag=True,
              help="Also write OUT/<content>-kit.zip with every PDF and the manifest.")
def merge_command(shards, out_dir, make_zip):
    """Combine the output folders of 'build --shard' runs into one, as a full build.

    Shards of a build of several kits (--all-langs, --all-editions) are merged folder
    by folder, with their languages.json or editions.json.
    """
    from pamphleteer.outputs import MANIFEST, merge, write_zip
    from pamphleteer.runs import merge_runs

    if not any((shard / MANIFEST).exists() for shard in shards):
        if make_zip:
            raise UsageError("--zip makes one kit's zip; merge several kits without it")
        merged = merge_runs(list(shards), out_dir)
        click.echo(f"merged {merged} outputs from {len(shards)} folders into {out_dir}/",
                   err=True)
        return
    manifest = merge(list(shards), out_dir)
    if make_zip:
        write_zip(out_dir, Path(manifest.content).name, manifest)
    click.echo(f"merged {len(manifest.entries)} outputs from {len(shards)} folders "
               f"into {out_dir}/", err=True)


@cli.command("serve")
@selection_options
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on, and the name the page must be opened by "
                   "(localhost too, on loopback); another than 127.0.0.1 shares your "
                   "proofs on the network.")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=8000,
              show_default=True, help="Port to listen on; 0 picks a free one.")
@dpi_option
def serve_command(targets, project, content_dir, out_dir, variants, host, port, dpi):
    """Show the kit's pages in a browser, rebuilt and refreshed on every save.

    Builds TARGETS (as 'build' does, into the same folder, so the next 'build' has
    nothing left to do), then watches the content, layouts/, fonts/ and
    pamphleteer.toml: a save rebuilds what it changed, the most visible outputs first,
    and the page refreshes by itself. Errors show in a banner over the last good
    proofs. Stop with Ctrl-C.
    """
    import threading

    from pamphleteer import serve

    def make_job() -> Job:
        return _job(project, targets, content_dir, out_dir, variants,
                    jobs=os.cpu_count() or 1)

    job = make_job()
    live = serve.Live(job, dpi)
    try:
        server = serve.make_server(live, host, port)
    except OSError as e:
        raise UsageError(f"cannot listen on {host}:{port}: {e.strerror}; "
                         "choose another --port (0 picks a free one)") from e
    threading.Thread(target=server.serve_forever, daemon=True).start()
    click.echo(f"serving {job.project.relative(job.out_dir)}/ proofs on "
               f"http://{host}:{server.server_address[1]}/ (Ctrl-C stops)")
    try:
        serve.run(live, make_job)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)  # Ctrl-C is how serve is meant to end: exit 0
    finally:
        server.shutdown()


@cli.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@project_option
@click.option("--json", "as_json", is_flag=True,
              help='Print {"findings": [...]} on stdout (for scripts and CI).')
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too, not only on errors.")
def check_command(paths, project, as_json, strict):
    """Preflight PDFs as a printer would: an output folder (default: the project's) or
    any PDF files.

    \b
    Checks: boxes, page-count, overflow, safe-zone, fonts, glyphs, text-size,
    image-ppi, colour, black-only, hairlines, bleed, accessibility, active-content,
    cut-contour, riso-ink. Files the build made are judged by their entry in the
    folder's manifest.json; other PDFs by what they declare.
    One line per finding: severity, file, page, check, what is wrong and the fix.

    Exit codes: 0 clean, 1 errors (or warnings with --strict), 2 bad input.
    """
    from pamphleteer.check import bundled_font_names
    from pamphleteer.check.files import check_paths

    try:
        p = _project(project)
    except ConfigError:
        if project or not paths:
            raise
        p = None
    if p is not None and p.config is None and paths:
        p = None  # PDFs from elsewhere: judged without a project's fonts and settings
    findings = check_paths(
        tuple(paths) or (p.out_dir,),
        fonts=bundled_font_names(p.fonts_dir) if p else None,
        bleed_mm=p.bleed_mm if p else 3.0,
        ink_limit=p.ink_limit_pct if p else 300.0,
    )
    if as_json:
        click.echo(json.dumps({"findings": [f.as_dict() for f in findings]},
                              ensure_ascii=False, indent=2))
    else:
        for finding in findings:
            click.echo(f"{finding.severity}: {finding}")
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    if errors or (strict and warnings):
        raise CheckFailed(f"{errors} error(s), {warnings} warning(s)")
    click.echo(f"checked: {errors} errors, {warnings} warnings", err=True)


ARTICLE_TEMPLATE = """\
---
# Front matter: one 'key: value' per line. Quote a value that contains a colon.
title: "Your title here"          # required: the article's title
headline: "The call to action"    # set large on posters, flyers and the booklet cover
standfirst: "The opening paragraph, which flyers and posters show on their own."
author: "Your name"               # the byline
source: "Originally published in …"   # the source line
lang: en                          # BCP 47 language: hyphenation and quotation marks
# date: 2026-11-25                # optional
---
The article, in Markdown. Paragraphs are separated by a blank line; *emphasis*,
"quotes" and -- dashes become proper typography.

## A subhead, if the article has them

> A quotation, set apart.
"""

SLOGANS_TEMPLATE = """\
- First slogan!
- Second slogan, with *emphasis*!
- Third slogan!
"""


GITIGNORE = """\
# What 'pamphleteer build' makes: rebuilt from the content, never edited by hand.
dist/
"""


@cli.command("new")
@click.argument("path", type=click.Path(path_type=Path))
def new_command(path):
    """Start a project in PATH: a pamphleteer.toml that lists every setting, a first
    pamphlet in content/NAME/ (NAME: the folder's name) and a .gitignore.

    Edit content/NAME/article.md and slogans.md, then 'cd PATH && pamphleteer build'
    builds the kit into PATH/dist/.

    Inside a project, 'pamphleteer new NAME' adds a pamphlet to it instead: the content
    folder content/NAME/, built with 'pamphleteer build --content content/NAME'.

    Nothing is ever overwritten: PATH must be new, or an empty folder.
    """
    target = Path(os.path.abspath(path))
    if _taken(target):
        raise UsageError(f"{path} already exists; choose a new folder name")
    home = nearest_project(target.parent)
    if home is not None and target.parent.resolve() not in (home, home / "content"):
        raise UsageError(f"{path} is inside the project {home}, whose pamphlets go in "
                         f"{home / 'content'}/; run 'pamphleteer new NAME' there, or start "
                         "a new project outside it")
    if home is not None:
        content = home / "content" / target.name
        if _taken(content):
            raise UsageError(f"{content} already exists; choose a new name")
        _create(path, {content / "article.md": ARTICLE_TEMPLATE,
                       content / "slogans.md": SLOGANS_TEMPLATE})
        shown = os.path.relpath(content)
        click.echo(f"created {shown}/article.md and {shown}/slogans.md in the project "
                   f"{home}; edit them, then run 'pamphleteer build --content {shown}'",
                   err=True)
        return
    content = Path("content") / target.name
    _create(path, {
        target / CONFIG_NAME: new_project_toml(content.as_posix()),
        target / ".gitignore": GITIGNORE,
        target / content / "article.md": ARTICLE_TEMPLATE,
        target / content / "slogans.md": SLOGANS_TEMPLATE,
    })
    click.echo(f"created the project {path}/: {CONFIG_NAME} (every setting, with its "
               f"default), {content}/article.md and slogans.md, .gitignore; edit the "
               f"article and slogans, then run 'cd {path} && pamphleteer build'", err=True)


def _taken(path: Path) -> bool:
    """Whether ``path`` exists, other than as an empty folder (which has nothing to lose)."""
    return os.path.lexists(path) and not (path.is_dir() and not any(path.iterdir()))


def _create(path: Path, files: dict[Path, str]) -> None:
    """Write ``files``, each new (never one that exists), with the folders they need;
    a folder that cannot be made is one line naming ``path``."""
    try:
        for file, text in files.items():
            file.parent.mkdir(parents=True, exist_ok=True)
            with open(file, "x", encoding="utf-8") as f:
                f.write(text)
    except FileExistsError as e:
        raise UsageError(f"{e.filename} already exists; choose a new folder name") from e
    except OSError as e:
        above = next((p for p in path.parents if os.path.isfile(p)), None)
        why = f"{above} is a file" if above else e.strerror or e
        raise UsageError(f"cannot create {path}: {why}; choose a folder where you can "
                         "write") from e


@cli.command("copy-layout")
@click.argument("name")
@click.argument("new_name", required=False)
@project_option
def copy_layout_command(name, new_name, project):
    """Copy the built-in layout NAME into the project's layouts/, as NEW_NAME (default:
    NAME), to edit.

    Under its own name the copy replaces the built-in layout in this project's builds;
    under a new name it is one more layout. 'pamphleteer copy-layout _base' copies what
    every layout shares (the page, print.css, the words in each language). Nothing is
    ever overwritten.
    """
    from pamphleteer.layouts import BASE, available_layouts

    p = _project(project)
    if p.config is None:
        raise UsageError(f"no {CONFIG_NAME} in {p.root} or any folder above it, so no "
                         "project to copy a layout into; start one with 'pamphleteer new "
                         "DIR', or pass --project")
    builtin = available_layouts(BUILTIN_LAYOUTS)
    if name not in (*builtin, BASE):
        raise UsageError(f"no built-in layout {name!r}; copy one of {', '.join(builtin)} "
                         f"or {BASE}")
    new_name = new_name or name
    if name == BASE and new_name != BASE:
        raise UsageError(f"{BASE} is what every layout shares; copy it under its own name")
    if new_name != BASE and not valid(NAME, new_name):
        raise UsageError(f"{new_name!r} is not a layout name; use letters and digits, "
                         "joined by single - . or _, e.g. poster-red")
    dest = p.layouts_dir / new_name
    if os.path.lexists(dest):
        raise UsageError(f"{dest} already exists; edit it, or copy to another name: "
                         f"'pamphleteer copy-layout {name} NEW_NAME'")
    try:
        shutil.copytree(BUILTIN_LAYOUTS / name, dest)
    except OSError as e:
        raise UsageError(f"cannot copy to {dest}: {e.strerror or e}; check that you can "
                         "write to the project's layouts folder") from e
    shown = p.relative(dest)
    if name == BASE:
        what = "it replaces the built-in files of the same name in every layout"
        edit = "print.css (type, colours, page box), base.html.j2, strings/*.toml (words)"
        then = "pamphleteer build"
    else:
        what = ("in this project it replaces the built-in one" if new_name == name
                else f"it is a new layout, {new_name}")
        edit = ("style.css (colours, type, spacing), layout.toml (sizes, margins, fitted "
                "text sizes), main.html.j2 (what the page shows)")
        then = f"pamphleteer build {new_name}"
    click.echo(f"copied the built-in layout {name} to {shown}/: {what}.\nNext: edit, in "
               f"{shown}/, {edit}; {BUILTIN_LAYOUTS / 'README.md'} tells what each file "
               f"does. Then: {then}", err=True)


@cli.command("list")
@project_option
def list_command(project):
    """List the targets, their sizes and variants (and the files imposed or tiled from
    the desk file), and where each layout comes from: built-in, or the project's own
    layouts/ (which replace built-in ones of the same name)."""
    p = _project(project)
    seen = set()
    for t in plan(p, (), tuple(VARIANTS)):
        if t.name in seen:
            continue
        seen.add(t.name)
        origin = "built-in" if t.layout.folders[0].parent == BUILTIN_LAYOUTS else "project"
        # the variants this size takes (riso: A3 at most), and the files made from the
        # desk file: "4up-a4", "imposed-a4", "tiled-letter"
        variants = [v for v in t.layout.variants if VARIANTS[v].takes(t.size)]
        desk = dataclasses.replace(t, variant=VARIANTS["desk"])
        made = [i.file[len(t.name) + 1:-len(".pdf")] for i in desk.impositions()
                if "desk" in t.layout.variants]
        click.echo(f"{t.name:<28} {t.size.width_mm:g}×{t.size.height_mm:g} mm  "
                   f"{'/'.join((*variants, *made)):<32} {origin:<8}  "
                   f"{t.layout.description}")


class _Progress:
    """A bar on a terminal; one plain line per output elsewhere (CI logs); or JSON."""

    def __init__(self, as_json: bool):
        self.as_json = as_json
        self.bar = None

    def __enter__(self):
        if sys.stderr.isatty() and not self.as_json:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                MofNCompleteColumn(), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("building", total=None)
        return self

    def update(self, output: Output, index: int, total: int, folder: str = "") -> None:
        if self.as_json:
            click.echo(json.dumps({
                "event": "output", "index": index, "total": total,
                "file": folder + output.target.file,
                "status": "failed" if output.error else "unchanged" if output.skipped
                else "built",
                "pages": output.pages, "bytes": output.bytes,
                "seconds": round(output.seconds, 3), "error": output.error,
                "findings": [f.as_dict() for f in output.findings],
            }, ensure_ascii=False))
            return
        status = (f"failed: {output.error}" if output.error else "unchanged" if output.skipped
                  else f"{output.pages:>2} p  {output.bytes / 1024:>6.0f} KiB  "
                       f"{output.seconds:5.2f} s")
        self.show(f"[{index}/{total}] {folder + output.target.file:<40} {status}", index, total,
                  folder + output.target.file)

    def show(self, line: str, index: int, total: int, description: str) -> None:
        if self.bar:
            self.bar.update(self.task, total=total, completed=index, description=description)
            self.bar.console.print(line, markup=False, highlight=False)
        else:
            click.echo(line, err=True)

    def __exit__(self, *exc):
        if self.bar:
            self.bar.stop()


def _debugging() -> bool:
    context = click.get_current_context(silent=True)
    return bool(context and context.find_root().params.get("debug"))


def main():
    """The console script: an exception that is not one of ours is a bug, reported in one
    line (with ``--debug``, as a traceback)."""
    try:
        cli(prog_name="pamphleteer")  # click itself reports its own exceptions and exits
    except Exception as e:
        if "--debug" in sys.argv[1:]:
            raise
        click.echo(f"error: bug: {type(e).__name__}: {str(e) or 'no message'}; please "
                   "report it (run with --debug to see where)", err=True)
        sys.exit(1)
