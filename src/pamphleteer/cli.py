"""The ``pamphleteer`` command: thin click commands over ``pipeline``."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import click

from pamphleteer import __version__
from pamphleteer.config import Project, find_project, load_project
from pamphleteer.errors import BuildFailed, CheckFailed, ConfigError, UsageError
from pamphleteer.outputs import DEFAULT_EPOCH, LATEST_EPOCH
from pamphleteer.pipeline import Job, Output, build, failure
from pamphleteer.proofs import DEFAULT_DPI
from pamphleteer.targets import VARIANTS, plan


def _project(path: Path | None) -> Project:
    return load_project(path if path else find_project(Path.cwd()))


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
         "above the current folder.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pamphleteer")
@click.option("--debug", is_flag=True,
              help="On a bug (an error that is not about your input), print where it came "
                   "from: the traceback, to attach to a report.")
def cli(debug):
    """Turn an article and a list of slogans into a print-ready kit of PDFs.

    Leaflets, booklets, flyers, posters and placards, in ISO and US sizes, each as a
    press file (bleed and crop marks, for a copy shop or printer), a desk file (fits a
    home or office printer) and a screen file (tagged and small, to share online). Run
    'pamphleteer build' in a project folder.
    """


def selection_options(command):
    """The options that say what to build and where, shared by build, preview and serve."""
    for option in reversed([
        click.argument("targets", nargs=-1),
        project_option,
        click.option("--content", "content_dir", type=click.Path(path_type=Path),
                     help="Content folder (article.md + slogans.md). Default: the project's."),
        click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Output folder. Default: dist/ in the project."),
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
    return Job(project=p, content_dir=(content_dir or p.content_dir).resolve(),
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
                  shard, make_zip, timeout, as_json, pdfx, langs, all_langs, editions,
                  all_editions):
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
               force=force, shard=shard, zip=make_zip, timeout=timeout, pdfx=pdfx)
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
    files = [o.target.file for o in outputs if o.error is None]
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
    Checks: boxes, bleed, fonts, glyphs, overflow, safe-zone, text-size, image-ppi,
    colour, page-count, hairlines, accessibility, active-content. Files the build made are judged
    by their entry in the folder's manifest.json; other PDFs by what they declare.
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
        p = None  # a PDF from elsewhere: judged without the project's fonts and settings
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


@cli.command("new")
@click.argument("path", type=click.Path(path_type=Path))
def new_command(path):
    """Start a pamphlet: a content folder at PATH with an article and a slogans list.

    Build it with 'pamphleteer build --content PATH'. An existing folder is never
    overwritten.
    """
    if os.path.lexists(path):
        raise UsageError(f"{path} already exists; choose a new folder name")
    try:
        path.mkdir(parents=True)
        (path / "article.md").write_text(ARTICLE_TEMPLATE, encoding="utf-8")
        (path / "slogans.md").write_text(SLOGANS_TEMPLATE, encoding="utf-8")
    except OSError as e:
        above = next((p for p in path.parents if os.path.isfile(p)), None)
        why = f"{above} is a file" if above else e.strerror or e
        raise UsageError(f"cannot create {path}: {why}; choose a folder where you can "
                         "write") from e
    click.echo(f"created {path}/article.md and {path}/slogans.md; edit them, then run "
               f"'pamphleteer build --content {path}'", err=True)


@cli.command("list")
@project_option
def list_command(project):
    """List the targets, their sizes and variants."""
    p = _project(project)
    seen = set()
    for t in plan(p, (), tuple(VARIANTS)):
        if t.name in seen:
            continue
        seen.add(t.name)
        click.echo(f"{t.name:<28} {t.size.width_mm:g}×{t.size.height_mm:g} mm  "
                   f"{'/'.join(VARIANTS)}  {t.layout.description}")


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
