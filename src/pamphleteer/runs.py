"""Several kits from one command: one per language, or one per local group's edition.

Each is an ordinary build (``pipeline.build``) into a folder of its own,
``<out>/<lang>/`` or ``<out>/<edition id>/``, with its own manifest; an index beside
them (``languages.json``, ``editions.json``) lists them. The builds run one after the
other and share what they can: the copyfit cache, and any output whose inputs are the
same in an earlier folder (a placard shows no edition data, so every edition's
placard is the first one's bytes).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pamphleteer.content import languages
from pamphleteer.editions import Edition, direction, load_editions
from pamphleteer.errors import UsageError
from pamphleteer.outputs import read_json, write_atomic
from pamphleteer.pipeline import Job, Output, build, job_workers
from pamphleteer.pool import Workers

LANGUAGES = "languages.json"
EDITIONS_INDEX = "editions.json"


@dataclass(frozen=True)
class Run:
    """One kit of a multi-kit build: its folder under the output folder, and what it is."""

    folder: str
    lang: str
    edition: Edition | None = None


def plan_runs(content_dir: Path, langs: tuple[str, ...] = (), all_langs: bool = False,
              editions: tuple[str, ...] = (), all_editions: bool = False) -> list[Run]:
    """The kits asked for: none (the plain kit), languages, or editions."""
    if (langs or all_langs) and (editions or all_editions):
        raise UsageError("choose languages (--lang, --all-langs) or editions (--edition, "
                         "--all-editions), not both: an edition is built in its own language")
    if not (langs or all_langs or editions or all_editions):
        return []
    have = languages(content_dir)
    if langs or all_langs:
        for lang in langs:
            if lang not in have:
                raise UsageError(f"--lang {lang}: {content_dir} has no {lang!r} text; it has "
                                 f"{', '.join(have)} (add article.{lang}.md)")
        return [Run(lang, lang) for lang in (have if all_langs else dict.fromkeys(langs))]
    rows = load_editions(content_dir, have)
    if not rows:
        raise UsageError(f"{content_dir / 'editions.csv'}: no editions; add one row per local "
                         "group (see the README, 'Editions')")
    by_id = {e.id: e for e in rows}
    for ident in editions:
        if ident not in by_id:
            raise UsageError(f"--edition {ident}: no such id in editions.csv; it has "
                             f"{', '.join(by_id)}")
    chosen = rows if all_editions else [by_id[i] for i in dict.fromkeys(editions)]
    return [Run(e.id, e.lang, e) for e in chosen]


def build_runs(job: Job, runs: list[Run],
               on_output: Callable[[Run, Output, int, int], None] | None = None
               ) -> list[tuple[Run, Output]]:
    """Build every run into its folder, then write the index of the folders. A failed
    output's error names its folder (``lyon/leaflet-a4-desk.pdf: …``)."""
    results = []
    # Outputs can be the same only in the same language, and then the first kit in that
    # language has them all: later kits look there alone, not in every folder before.
    first: dict[str, Path] = {}
    with job_workers(job, in_process=len(runs) == 1) as workers:
        for run in runs:
            results += _build_run(job, run, first.get(run.lang), workers, on_output)
            first.setdefault(run.lang, job.out_dir / run.folder)
    _write_index(job.out_dir, runs)
    return results


def _build_run(job: Job, run: Run, sibling: Path | None, workers: Workers,
               on_output) -> list[tuple[Run, Output]]:
    """One kit, sharing with ``sibling``, the first kit built in its language."""
    one = dataclasses.replace(job, out_dir=job.out_dir / run.folder, lang=run.lang,
                              edition=run.edition, siblings=(sibling,) if sibling else ())

    def report(output: Output, index: int, total: int) -> None:
        if output.error:
            output.error = f"{run.folder}/{output.error}"
        if on_output:
            on_output(run, output, index, total)

    return [(run, output) for output in build(one, report, workers)]


def _write_index(out_dir: Path, runs: list[Run]) -> None:
    """``languages.json`` or ``editions.json``: the folders, merged with those of earlier
    builds into the same folder (an edition built alone keeps the others listed)."""
    if runs[0].edition is None:
        name, key = LANGUAGES, "languages"
        rows = [{"lang": r.lang, "dir": direction(r.lang), "folder": r.folder} for r in runs]
    else:
        name, key = EDITIONS_INDEX, "editions"
        rows = [{"id": r.edition.id, "group": r.edition.group, "lang": r.lang,
                 "folder": r.folder} for r in runs]
    listed = {row["folder"]: row for row in read_json(out_dir / name).get(key, [])
              if isinstance(row, dict) and isinstance(row.get("folder"), str)
              and (out_dir / row["folder"]).is_dir()}
    listed |= {row["folder"]: row for row in rows}
    text = json.dumps({key: [listed[f] for f in sorted(listed)]}, indent=2, ensure_ascii=False)
    write_atomic(out_dir / name, (text + "\n").encode())


_FOLDER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")


def merge_runs(sources: list[Path], out_dir: Path) -> int:
    """Join shards of a build of several kits: each kit's folder is merged from the
    shards that have it (``outputs.merge``), and the index lists them all. The folders
    are taken from the shards' indexes, which must name plain folders inside them.
    Returns how many outputs were merged."""
    from pamphleteer.outputs import merge

    kind = None
    folders: dict[str, dict] = {}
    for source in sources:
        for name, key in ((LANGUAGES, "languages"), (EDITIONS_INDEX, "editions")):
            if not (source / name).is_file():
                continue
            if kind not in (None, name):
                raise UsageError(f"{source / name}: these shards mix languages and editions; "
                                 "merge the shards of one build")
            kind = name
            rows = read_json(source / name).get(key)
            if not isinstance(rows, list) or not all(
                    isinstance(r, dict) and isinstance(r.get("folder"), str)
                    and _FOLDER_RE.match(r["folder"]) for r in rows):
                raise UsageError(f"{source / name}: not an index pamphleteer wrote (each "
                                 "entry needs a plain folder name); rebuild that shard")
            folders |= {r["folder"]: r for r in rows}
    if kind is None:
        raise UsageError("no languages.json or editions.json in the shards; merge them as "
                         "plain kits")
    merged = 0
    for folder in sorted(folders):
        parts = [s / folder for s in sources if (s / folder).is_dir()]
        merged += len(merge(parts, out_dir / folder).entries)
    key = "languages" if kind == LANGUAGES else "editions"
    text = json.dumps({key: [folders[f] for f in sorted(folders)]}, indent=2,
                      ensure_ascii=False)
    write_atomic(out_dir / kind, (text + "\n").encode())
    return merged
