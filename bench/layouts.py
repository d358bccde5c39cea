"""Count the WeasyPrint layout passes each output costs: the profile behind the speed work.

Usage: ``.venv/bin/python bench/layouts.py [TARGET ...] [--edition ID] [--variant V ...]``
(default: the whole kit, press, desk and screen). Builds in this process, in the kit's
order (press before desk, as the build does), with a fresh fit cache, and prints per
output the passes and their seconds; then the totals per layout.

Passes are the unit to watch: a build's time is almost all WeasyPrint layouts (the
first layout, copyfit's probe documents, the body fit's sizes, the final layout), and
their number, unlike their seconds, does not depend on how busy the machine is.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from pamphleteer import render  # noqa: E402
from pamphleteer.check import bundled_font_names  # noqa: E402
from pamphleteer.config import load_project  # noqa: E402
from pamphleteer.content import languages, load_content  # noqa: E402
from pamphleteer.editions import load_editions  # noqa: E402
from pamphleteer.fitcache import FitCache  # noqa: E402
from pamphleteer.pipeline import Job, build_output  # noqa: E402
from pamphleteer.targets import plan  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*")
    parser.add_argument("--edition", help="an edition's id from editions.csv")
    parser.add_argument("--variant", action="append", default=None)
    args = parser.parse_args()

    project = load_project(ROOT)
    folder = project.content_dir
    edition = None
    if args.edition:
        edition = next(e for e in load_editions(folder, languages(folder)) if e.id == args.edition)
    content = dataclasses.replace(load_content(folder, edition and edition.lang), edition=edition)
    variants = tuple(args.variant or ("press", "desk", "screen"))
    targets = sorted(plan(project, tuple(args.targets), variants),
                     key=lambda t: (t.name, t.variant.name != "press"))

    passes: list[float] = []
    layout = render.Renderer.layout

    def counted(self, *a, **k):
        started = time.perf_counter()
        try:
            return layout(self, *a, **k)
        finally:
            passes.append(time.perf_counter() - started)

    render.Renderer.layout = counted
    renderer = render.Renderer(project.fonts_dir)
    fonts = bundled_font_names(project.fonts_dir)
    totals: collections.Counter = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp:
        job = Job(project, folder, Path(tmp) / "out")
        cache = FitCache(Path(tmp) / "fits", project.fonts_dir)
        for target in targets:
            passes.clear()
            started = time.perf_counter()
            output = build_output(renderer, target, content, job, fonts, cache)
            total = time.perf_counter() - started
            totals[target.layout.name] += len(passes)
            print(f"{target.file:42s} {len(passes):3d} passes {sum(passes):6.2f} s "
                  f"(output {total:5.2f} s){'  ' + output.error if output.error else ''}")
    print(f"\n{sum(totals.values())} passes: " + ", ".join(f"{k} {v}" for k, v in totals.items()))


if __name__ == "__main__":
    main()
