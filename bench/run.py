"""Time pamphleteer's whole-kit build against a naive loop over the ``weasyprint`` CLI.

Usage: ``make bench`` or ``.venv/bin/python bench/run.py [--runs N]`` (default 3). Prints a
markdown table on stdout (progress goes to stderr) and saves a copy in ``bench/results/``.

What is measured, and why this way:

(a) ``pamphleteer build --out <empty tmp dir>``: one process builds the whole default kit.
(b) The naive baseline: ``weasyprint in.html out.pdf`` once per output, one after another, on
    the final HTML that ``pamphleteer build --html`` wrote in an untimed preparation build.
(c) A no-op rebuild into (a)'s folder: nothing changed, nothing may be rendered.
(d) A rebuild after an edit to the article's body (leaflets and booklets depend on it).
(e) A rebuild after an edit to the last slogan (every output that shows it), and (e1) after
    an edit to the first slogan, whose pages come first in every file that shows them.
(f) (a) again with ``--jobs 1``, to see what the second core buys.
(h) ``pamphleteer build --all-editions`` over 12 editions (English, Spanish and Arabic in
    turn), cold, into an empty folder: every edition's whole kit, sharing what shows no
    edition data. Its ratio to (a) is what a local-groups release costs. (h1) is the same
    with every edition in English, (a)'s language: in (h) each language's first edition
    sets every text afresh, as (a) does, so (h) holds three cold kits' worth of fits
    before any edition is cheaper than a kit; (h1) holds one, and shows what an
    edition costs beyond it.
(i) Peak RSS of ``--all-editions`` at 20 and at 200 editions (flyer-a6 desk only, so 200
    finish in minutes): memory must not grow with the number of editions. (h)'s peak RSS,
    of whole kits, is reported too.
(g) ``pamphleteer serve``: seconds from saving an edit to the last slogan until
    ``/api/outputs`` gives the A3 placard a new page proof: what the page shows, since its
    poll names the revision it has and is answered as soon as there is a newer one. The
    bench polls that way too, never busily, which would take time from the server. The
    server is started once and left to finish its first build; each edit is made while it
    is idle, and timed until the first changed placard page is published, not until the
    whole rebuild is done.

All of them run on a copy of the project in a temporary folder, so the edits of (d) and
(e) never touch the working tree; each run makes its own edit, so every rebuild is real.

- Both are wall-clock times of whole subprocesses, because that is what a user waits for:
  interpreter start-up, imports and font loading are real costs, and the loop pays them once
  per file, which is what a single build process saves. Both render the very same documents;
  (a) additionally copyfits and post-processes, so a/b > 1 means that work costs more than
  the saved start-ups, a/b < 1 that the single process wins.
- "Cold" means a new process, an empty output folder and a new XDG_CACHE_HOME (no copyfit
  results, no font cache) each run, so nothing is reused from a previous build. The
  rebuilds (c)-(e) reuse the output folder and cache of the same run's (a). The OS file
  cache is left warm on purpose: it is equally warm for (b).
- Runs are interleaved (a, b, a, b, ...) so that drift (CPU frequency, other load) hits both
  alike, and medians are reported so that one disturbed run doesn't move the result.
- Peak RSS comes from ``os.wait4``, which reports each child on its own. The obvious
  alternative, deltas of ``getrusage(RUSAGE_CHILDREN).ru_maxrss``, cannot work: that is the
  maximum over all children waited for so far, so it only moves when a child sets a record.

Standard library only, so it runs with whatever interpreter has the pamphleteer venv's
``bin/`` (it looks for ``pamphleteer`` and ``weasyprint`` next to ``sys.executable``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Not resolved: a venv's python is a symlink to the system one, whose bin/ has no pamphleteer.
BIN = Path(sys.executable).parent
PAMPHLETEER = BIN / "pamphleteer"
WEASYPRINT = BIN / "weasyprint"
RESULTS = ROOT / "bench" / "results"
SLOWEST = 5
SERVE_EDITS = 5  # (g) is cheap per edit and noisier than a build: measure it more often
EDITIONS = 12  # (h)
RSS_EDITIONS = (20, 200)  # (i)
EDITION_LANGS = ("en", "es", "ar")

# The build's per-output stderr line, e.g. "[3/30] poster-a3-press.pdf   1 p   120 KiB  0.85 s".
# Failed outputs ("[3/30] x.pdf  failed: ...") are skipped, whatever their message ends with;
# the (?!\s...) stops the padding's \s+ from backing off a space to dodge the failed check.
PROGRESS = re.compile(
    r"^\[\d+/\d+\]\s+(?P<file>\S+\.pdf)\s+(?!\s|failed:).*?(?P<seconds>\d+(?:\.\d+)?) s\s*$"
)


@dataclass
class Proc:
    seconds: float
    max_rss_kib: int
    stderr: str


@dataclass
class BuildRun:
    seconds: float
    max_rss_kib: int
    outputs: int | None  # from manifest.json; None if it could not be read
    per_output: dict[str, float]  # file name -> seconds, as the build reports them


@dataclass
class LoopRun:
    seconds: float
    max_rss_kib: int  # the largest single weasyprint process
    per_file: dict[str, float]  # HTML stem -> seconds of its weasyprint process


def note(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run(cmd: list[str | Path], cache: Path | None = None) -> Proc:
    """Run cmd in the project folder to completion; exit the benchmark if it fails.

    ``cache`` becomes the command's XDG_CACHE_HOME: a new folder makes a build cold.
    """
    args = [str(c) for c in cmd]
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)} if cache else None
    # A file, not a pipe: nobody reads while we wait4, and a full pipe would deadlock.
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(args, cwd=ROOT, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen won't wait again
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        tail = "\n".join(stderr.splitlines()[-20:])
        sys.exit(f"bench: `{shlex.join(args)}` exited {proc.returncode}:\n{tail}")
    # Linux reports KiB, macOS bytes.
    rss = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss
    return Proc(seconds, rss, stderr)


def build_once(project: Path, out: Path, cache: Path, *extra: str) -> BuildRun:
    proc = run([PAMPHLETEER, "build", "--project", project, "--out", out, *extra], cache)
    per_output = {}
    for line in proc.stderr.splitlines():
        if m := PROGRESS.match(line.strip()):
            per_output[m["file"]] = float(m["seconds"])
    try:
        outputs = len(json.loads((out / "manifest.json").read_text("utf-8"))["outputs"])
    except (OSError, ValueError, KeyError, TypeError):
        outputs = None
    return BuildRun(proc.seconds, proc.max_rss_kib, outputs, per_output)


def loop_once(html_files: list[Path], out: Path) -> LoopRun:
    out.mkdir()
    per_file = {}
    max_rss = 0
    start = time.perf_counter()
    for html in html_files:
        proc = run([WEASYPRINT, html, out / f"{html.stem}.pdf"])
        per_file[html.stem] = proc.seconds
        max_rss = max(max_rss, proc.max_rss_kib)
    return LoopRun(time.perf_counter() - start, max_rss, per_file)


def secs(values: list[float]) -> tuple[str, str]:
    """Median and range of some seconds, formatted."""
    return (f"{statistics.median(values):.2f} s",
            f"{min(values):.2f}–{max(values):.2f} s")


def mib(values: list[int]) -> tuple[str, str]:
    """Median and range of some KiB, formatted in MiB."""
    return (f"{statistics.median(values) / 1024:.0f} MiB",
            f"{min(values) / 1024:.0f}–{max(values) / 1024:.0f} MiB")


def write_editions(content: Path, count: int, langs: tuple[str, ...] = EDITION_LANGS) -> None:
    """``count`` editions in ``content/editions.csv``, their languages ``langs`` in turn."""
    rows = ["id,group,date,time,place,contact,url,lang"]
    for i in range(1, count + 1):
        lang = langs[i % len(langs)]
        rows.append(f"town-{i},Solidarity group {i},2026-12-{1 + i % 28:02d},18:30,"
                    f"Hall {i},group{i}@example.org,https://example.org/{i},{lang}")
    (content / "editions.csv").write_text("\n".join(rows) + "\n", "utf-8")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    if old not in text:
        sys.exit(f"bench: {path} no longer contains {old!r}; update bench/run.py's edits")
    path.write_text(text.replace(old, new, 1), "utf-8")


SERVE_WATCHED = "placard-a3-landscape-press.pdf"


@dataclass
class ServeRun:
    idle: list[float]  # save -> new placard proof, the server idle before the save
    busy: list[float]  # the same, saves 1.5 s apart, each arriving during a rebuild
    error: list[float]  # save of a broken template, during a rebuild -> error in the banner


def serve_latency(project: Path, out: Path, cache: Path, slogan: str, edits: int) -> ServeRun:
    """(g): start ``serve``; per edit, the seconds until the placard's proofs change,
    from idle and while busy; then how soon a broken template's error shows."""
    slogans = project / "content" / "aleppo" / "slogans.md"
    template = project / "layouts" / "placard" / "main.html.j2"
    originals = {path: path.read_text("utf-8") for path in (slogans, template)}
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    server = subprocess.Popen([str(PAMPHLETEER), "serve", "--project", str(project), "--out",
                               str(out), "--port", "0"], cwd=ROOT, env=env, text=True,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
    try:
        url = re.search(r"http://\S+/", server.stdout.readline())
        if url is None:
            sys.exit("bench: pamphleteer serve did not print its URL")

        def state(since: int | None = None) -> dict:
            """The API's answer; with ``since``, as soon as there is a newer revision (as
            the page polls: no busy polling here to slow the server down)."""
            query = "" if since is None else f"?since={since}"
            with urllib.request.urlopen(f"{url[0]}api/outputs{query}", timeout=60) as response:
                data = json.load(response)
            data["placard"] = [p["png"] for o in data["outputs"] if o["file"] == SERVE_WATCHED
                               for p in o["pages"]]
            return data

        def wait(until, what: str, limit: float = 600) -> float:
            start = time.perf_counter()
            data = state()
            while not until(data):
                if time.perf_counter() - start > limit:
                    sys.exit(f"bench: {what} not within {limit:.0f} s")
                data = state(data["revision"])
            return time.perf_counter() - start

        def idle() -> list[str]:
            wait(lambda s: not s["building"] and s["placard"], "serve idle")
            return state()["placard"]

        result = ServeRun([], [], [])
        for i in range(1, edits + 1):
            before = idle()
            edit(slogans, slogan, slogan := f"Freedom of movement, edit {i}!")
            result.idle.append(wait(lambda s, b=before: s["placard"] != b, "placard refresh", 60))
            note(f"(g) idle edit {i}: placard refreshed after {result.idle[-1]:.2f} s")
        idle()
        body = project / "content" / "aleppo" / "article.md"
        edit(body, "In the first week", "In the very first week")  # a long rebuild
        time.sleep(1.5)
        for i in range(1, edits + 1):
            before = state()["placard"]
            edit(slogans, slogan, slogan := f"Freedom of movement, busy {i}!")
            saved = time.perf_counter()
            result.busy.append(wait(lambda s, b=before: s["placard"] != b, "placard refresh", 60))
            note(f"(g) busy edit {i}: placard refreshed after {result.busy[-1]:.2f} s")
            time.sleep(max(0.0, 1.5 - (time.perf_counter() - saved)))
        for i in range(1, edits + 1):
            idle()
            edit(body, "In the very first week", "In the first week")
            time.sleep(0.3)  # the rebuild is under way
            template.write_text(originals[template].replace("{% block body %}",
                                                             "{% block body %}{% if %}", 1))
            result.error.append(wait(lambda s: s["error"], "the template's error", 60))
            note(f"(g) broken template {i}/{edits}: error shown after {result.error[-1]:.2f} s")
            template.write_text(originals[template], "utf-8")
            wait(lambda s: not s["error"] and not s["building"], "recovery", 120)
            edit(body, "In the first week", "In the very first week")
        return result
    finally:
        server.terminate()
        server.wait(timeout=30)
        for path, text in originals.items():
            path.write_text(text, "utf-8")


def report(builds: list[BuildRun], loops: list[LoopRun], html_count: int,
           extra: dict[str, list[BuildRun]], serve: ServeRun) -> str:
    a = [b.seconds for b in builds]
    b = [lp.seconds for lp in loops]
    cold = statistics.median(a)

    def row(label: str, what: str, runs: list[BuildRun]) -> str:
        values = [r.seconds for r in runs]
        return (f"| {label} | {what} | {secs(values)[0]} | {secs(values)[1]} | "
                f"{statistics.median(values) / cold:.2f} × a |")

    outputs = builds[0].outputs
    n_out = f"{outputs} outputs" if outputs is not None else "outputs: manifest unreadable"
    lines = [
        "## pamphleteer build vs. weasyprint CLI loop",
        "",
        f"{len(builds)} run(s), interleaved a, b, a, b, …; medians, with the range over runs. "
        f"{datetime.now():%Y-%m-%d %H:%M}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs.",
        "",
        "| | measurement | median | range | ratio |",
        "|---|---|---:|---:|---:|",
        "| (a) | `pamphleteer build`, whole default kit, cold ({}) | {} | {} | |"
        .format(n_out, *secs(a)),
        "| (b) | `weasyprint` CLI once per HTML file, sequential ({} files) | {} | {} | "
        "{:.2f} × a |".format(html_count, *secs(b), statistics.median(b) / cold),
        f"| a/b | ratio of the medians | {cold / statistics.median(b):.2f} | | |",
        row("(c)", "no-op rebuild (nothing changed)", extra["noop"]),
        row("(d)", "rebuild after an edit to the article body", extra["body"]),
        row("(e)", "rebuild after an edit to the last slogan", extra["slogan"]),
        row("(e1)", "rebuild after an edit to the first slogan", extra["first"]),
        row("(f)", "cold build with `--jobs 1`", extra["jobs1"]),
        row("(h)", f"cold `--all-editions`, {EDITIONS} editions (whole kits; en, es, ar)",
            extra["editions"]),
        row("(h1)", f"cold `--all-editions`, {EDITIONS} editions (whole kits; all en)",
            extra["editions_en"]),
        "| RSS | peak RSS of (h), {} editions' whole kits (largest process) | {} | {} | |"
        .format(EDITIONS, *mib([r.max_rss_kib for r in extra["editions"]])),
        *(f"| RSS | peak RSS of `--all-editions` at {n} editions (flyer-a6 desk) | "
          f"{mib([r.max_rss_kib for r in extra[f'rss{n}']])[0]} | | |" for n in RSS_EDITIONS),
        *serve_rows(serve),
        "| RSS | peak RSS of the build (largest process) | {} | {} | |"
        .format(*mib([r.max_rss_kib for r in builds + extra["jobs1"]])),
        "| RSS | peak RSS of the largest single weasyprint process | {} | {} | |"
        .format(*mib([lp.max_rss_kib for lp in loops])),
    ]
    if outputs is not None and outputs != html_count:
        lines += ["", f"Note: (a) built {outputs} outputs but (b) rendered {html_count} "
                      "HTML files, so the two do not cover the same set."]

    lines += ["", f"### {SLOWEST} slowest outputs", ""]
    per_output: dict[str, list[float]] = {}
    for build in builds:
        for file, seconds in build.per_output.items():
            per_output.setdefault(file, []).append(seconds)
    if not per_output:
        lines.append("No per-output times found in the build's stderr (expected lines like "
                     "`[3/30] poster-a3-press.pdf   1 p   120 KiB  0.85 s`); has the progress "
                     "format changed?")
        return "\n".join(lines) + "\n"
    lines += [
        "Seconds as the build reports them per output, and the same document's `weasyprint` "
        "call (which includes interpreter start-up); medians over runs.",
        "",
        "| output | build | weasyprint CLI |",
        "|---|---:|---:|",
    ]
    medians = {file: statistics.median(v) for file, v in per_output.items()}
    for file in sorted(medians, key=medians.get, reverse=True)[:SLOWEST]:
        cli = [lp.per_file[stem] for lp in loops if (stem := Path(file).stem) in lp.per_file]
        lines.append(f"| {file} | {medians[file]:.2f} s | {secs(cli)[0] if cli else '–'} |")
    return "\n".join(lines) + "\n"


def serve_rows(serve: ServeRun) -> list[str]:
    return [
        "| (g) | `serve`, idle: save of a slogan edit → new placard proof ({} edits) | {} | {} "
        "| |".format(len(serve.idle), *secs(serve.idle)),
        "| (g) | `serve`, busy: the same, saves 1.5 s apart during rebuilds ({} edits) | {} "
        "| {} | |".format(len(serve.busy), *secs(serve.busy)),
        "| (g) | `serve`: save of a broken template during a rebuild → error in the banner "
        "({} saves) | {} | {} | |".format(len(serve.error), *secs(serve.error)),
    ]


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=positive, default=3,
                        help="runs of each measurement (default: 3)")
    parser.add_argument("--no-save", action="store_true",
                        help="only print the table, don't save it in bench/results/")
    parser.add_argument("--serve-only", action="store_true",
                        help="measure only (g), the serve loop's save-to-refresh time")
    args = parser.parse_args(argv)

    for tool in (PAMPHLETEER, WEASYPRINT):
        if not tool.exists():
            sys.exit(f"bench: {tool} not found; run `make bench`, which sets up .venv first")

    with tempfile.TemporaryDirectory(prefix="pamphleteer-bench-") as tmp_name:
        tmp = Path(tmp_name)
        project = tmp / "project"
        project.mkdir()
        for name in ("layouts", "fonts", "content"):
            shutil.copytree(ROOT / name, project / name)
        shutil.copy(ROOT / "pamphleteer.toml", project)
        content = project / "content" / "aleppo"
        slogan = "Freedom of movement for refugees!"
        if args.serve_only:
            serve = serve_latency(project, tmp / "g", tmp / "cache-g", slogan,
                                  max(SERVE_EDITS, args.runs))
            print("\n".join(serve_rows(serve)))
            return 0
        note("preparing the HTML for (b): pamphleteer build --html (not timed)")
        run([PAMPHLETEER, "build", "--project", project, "--html", "--out", tmp / "prep"],
            tmp / "cache-prep")
        html_files = sorted((tmp / "prep" / "html").glob("*.html"))
        if not html_files:
            sys.exit(f"bench: `pamphleteer build --html` wrote no HTML in {tmp / 'prep/html'}")

        builds, loops = [], []
        extra: dict[str, list[BuildRun]] = {"noop": [], "body": [], "slogan": [], "first": [],
                                            "jobs1": [], "editions": [], "editions_en": []}
        body, first = "In the first week of August", "Down with Assad!"
        for i in range(1, args.runs + 1):
            note(f"run {i}/{args.runs}: (a) pamphleteer build")
            builds.append(build_once(project, tmp / f"a{i}", tmp / f"cache-a{i}"))
            note(f"run {i}/{args.runs}: (b) weasyprint × {len(html_files)}")
            loops.append(loop_once(html_files, tmp / f"b{i}"))
            note(f"run {i}/{args.runs}: (c) no-op, (d) body edit, (e) and (e1) slogan edits")
            extra["noop"].append(build_once(project, tmp / f"a{i}", tmp / f"cache-a{i}"))
            edit(content / "article.md", body, body := f"In the first week ({i}) of August")
            extra["body"].append(build_once(project, tmp / f"a{i}", tmp / f"cache-a{i}"))
            edit(content / "slogans.md", slogan, slogan := f"Freedom of movement ({i})!")
            extra["slogan"].append(build_once(project, tmp / f"a{i}", tmp / f"cache-a{i}"))
            edit(content / "slogans.md", first, first := f"Down with Assad ({i})!")
            extra["first"].append(build_once(project, tmp / f"a{i}", tmp / f"cache-a{i}"))
            note(f"run {i}/{args.runs}: (f) pamphleteer build --jobs 1")
            extra["jobs1"].append(build_once(project, tmp / f"f{i}", tmp / f"cache-f{i}",
                                             "--jobs", "1"))
            note(f"run {i}/{args.runs}: (h) --all-editions, {EDITIONS} editions")
            write_editions(content, EDITIONS)
            extra["editions"].append(build_once(project, tmp / f"h{i}", tmp / f"cache-h{i}",
                                                "--all-editions"))
            note(f"run {i}/{args.runs}: (h1) --all-editions, {EDITIONS} editions in English")
            write_editions(content, EDITIONS, ("en",))
            extra["editions_en"].append(build_once(project, tmp / f"h1-{i}",
                                                   tmp / f"cache-h1-{i}", "--all-editions"))

        for n in RSS_EDITIONS:
            note(f"(i) --all-editions at {n} editions, flyer-a6 desk")
            write_editions(content, n)
            extra[f"rss{n}"] = [build_once(project, tmp / f"i{n}", tmp / f"cache-i{n}",
                                           "--all-editions", "flyer-a6", "--variant", "desk")]

        note(f"(g) pamphleteer serve: {SERVE_EDITS} slogan edits")
        serve = serve_latency(project, tmp / "g", tmp / "cache-g", slogan,
                              max(SERVE_EDITS, args.runs))

    table = report(builds, loops, len(html_files), extra, serve)
    print(table, end="")
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{datetime.now():%Y%m%d-%H%M%S}.md"
        path.write_text(table, "utf-8")
        note(f"saved {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
