"""Release-grade builds: reproducible bytes, precise incremental rebuilds, shards, zip,
locking, interruptions, crashes and hangs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import run
from pamphleteer import inputs, outputs, pipeline
from pamphleteer.cli import cli
from pamphleteer.config import load_project
from pamphleteer.content import load_content
from pamphleteer.errors import UsageError
from pamphleteer.targets import plan as targets_plan

ROOT = Path(__file__).resolve().parents[1]
PAMPHLETEER = [sys.executable, "-m", "pamphleteer"]
#: A small kit that still has one layout of each dependency kind: body (leaflet),
#: first three slogans (flyer), all slogans (placard, poster).
SMALL = ("leaflet-a4", "flyer-a6", "poster-a3", "placard-a3-landscape")


def make_project(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in ("layouts", "fonts", "content"):
        shutil.copytree(ROOT / name, dest / name)
    shutil.copy(ROOT / "pamphleteer.toml", dest)
    return dest


def build(project: Path, out: Path, *args: str, env: dict | None = None) -> str:
    result = subprocess.run(
        [*PAMPHLETEER, "build", "--project", str(project), "--out", str(out), *args],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


def snapshot(out: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(out.glob("*.pdf"))}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A project copy with the small kit built once (desk only, to stay fast)."""
    root = tmp_path_factory.mktemp("incremental")
    project = make_project(root / "project")
    out = root / "out"
    build(project, out, *SMALL, "--variant", "desk", "--jobs", "2")
    return project, out


def rebuilt_after(small, edit) -> set[str]:
    """Apply ``edit`` to the project, rebuild, and return the outputs that were rebuilt
    (asserting that the others kept their bytes and modification time)."""
    project, out = small
    before = snapshot(out)
    edit(project)
    result = subprocess.run(
        [*PAMPHLETEER, "build", "--project", str(project), "--out", str(out), *SMALL,
         "--variant", "desk", "--jobs", "2", "--json"], capture_output=True, text=True,
        timeout=600)
    assert result.returncode == 0, result.stderr
    status = events(result.stdout)
    after = snapshot(out)
    for name, state in status.items():
        if state == "unchanged":
            assert after[name] == before[name], f"{name} changed though its inputs did not"
    for imposed, source in IMPOSED.items():  # made from the source's bytes, and only them
        source_changed = after[source][0] != before[source][0]
        assert status[imposed] == ("built" if source_changed else "unchanged"), imposed
    return {name for name, state in status.items() if state == "built" and name not in IMPOSED}


def events(log: str) -> dict[str, str]:
    return {e["file"]: e["status"] for e in map(json.loads, log.splitlines())}


def replace(path: str, old: str, new: str):
    def edit(project: Path) -> None:
        file = project / path
        text = file.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {file}"
        file.write_text(text.replace(old, new, 1), encoding="utf-8")
    return edit


#: The files imposed or tiled from desk outputs of the small kit.
IMPOSED = {"flyer-a6-4up-a4.pdf": "flyer-a6-desk.pdf",
           "poster-a3-tiled-a4.pdf": "poster-a3-desk.pdf",
           "placard-a3-landscape-tiled-a4.pdf": "placard-a3-landscape-desk.pdf"}


def desk(*names: str) -> set[str]:
    return {f"{n}-desk.pdf" for n in names}


# Each kind of input, and exactly the outputs that must change when it does. Ordered:
# each edit builds on the previous state of the module's project.
EDITS = [
    ("article body", replace("content/aleppo/article.md", "Now these Russian aircrafts",
                             "Now these Russian warplanes"), desk("leaflet-a4")),
    ("fourth slogan", replace("content/aleppo/slogans.md", "- Turkey and Iran",
                              "- Turkey and Iran, now,"),
     desk("leaflet-a4", "poster-a3", "placard-a3-landscape")),
    ("first slogan", replace("content/aleppo/slogans.md", "- Down with Assad!",
                             "- Down with Assad, now!"),
     desk("leaflet-a4", "flyer-a6", "poster-a3", "placard-a3-landscape")),
    ("standfirst", replace("content/aleppo/article.md", "traveled around the world",
                           "went around the world"), desk("leaflet-a4", "flyer-a6")),
    ("poster template", replace("layouts/poster/main.html.j2", '<footer class="column-foot"',
                                '<footer class="column-foot foot-line"'), desk("poster-a3")),
    ("placard CSS", replace("layouts/placard/style.css", "\n.slogan {",
                            "\n.slogan {\n  word-spacing: 0.01em;"), desk("placard-a3-landscape")),
    ("base CSS", replace("layouts/_base/print.css", "line-height: 1.35;", "line-height: 1.36;"),
     desk("leaflet-a4", "flyer-a6", "poster-a3", "placard-a3-landscape")),
    ("config", replace("pamphleteer.toml", "safe_mm = 5 ", "safe_mm = 5.5 "),
     desk("leaflet-a4", "flyer-a6", "poster-a3", "placard-a3-landscape")),
]


@pytest.mark.parametrize(("edit", "expected"), [(e, x) for _, e, x in EDITS],
                         ids=[name for name, _, _ in EDITS])
def test_rebuilds_exactly_what_depends_on_the_edit(small, edit, expected):
    assert rebuilt_after(small, edit) == expected


def test_font_change_rebuilds_every_output(small):
    project, out = small
    fonts = project / "fonts" / "bebas-neue"
    shutil.copy(fonts / "BebasNeue-Bold.otf", fonts / "BebasNeue-Bold-copy.otf")
    result = subprocess.run(
        [*PAMPHLETEER, "build", "--project", str(project), "--out", str(out), *SMALL,
         "--variant", "desk", "--json"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    status = events(result.stdout)
    # An imposed sheet is its source's bytes, which are the same; a tiled file's labels
    # are set by the renderer too, from the same fonts as the layouts.
    for made in IMPOSED:
        assert status.pop(made) == ("built" if "-tiled-" in made else "unchanged"), made
    assert status == {f: "built" for f in desk(*SMALL)}


def test_json_events_and_noop(small):
    project, out = small
    result = subprocess.run(
        [*PAMPHLETEER, "build", "--project", str(project), "--out", str(out), *SMALL,
         "--variant", "desk", "--json"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert events(result.stdout) == {f: "unchanged" for f in desk(*SMALL) | set(IMPOSED)}
    assert f"0 built, {len(SMALL) + len(IMPOSED)} unchanged, 0 failed" in result.stderr


def test_tool_version_is_an_input(small, monkeypatch):
    project, _ = small
    p = load_project(project)
    targets = targets_plan(p, ("poster-a3",), ("desk",))
    content = load_content(p.content_dir)
    before = inputs.input_keys(targets, content, p)
    stamp_before = outputs.stamp("request", [p.root / "pamphleteer.toml"])
    monkeypatch.setattr(inputs, "__version__", "99.0.0")
    monkeypatch.setattr(outputs, "__version__", "99.0.0")
    assert inputs.input_keys(targets, content, p) != before
    assert outputs.stamp("request", [p.root / "pamphleteer.toml"]) != stamp_before


def test_noop_build_does_not_load_the_renderer(small):
    project, out = small
    code = (
        "import sys; from pamphleteer.cli import cli\n"
        f"try: cli(['build', '--project', {str(project)!r}, '--out', {str(out)!r}, "
        f"*{SMALL!r}, '--variant', 'desk'])\n"
        "except SystemExit as e: assert not e.code, e.code\n"
        "assert 'weasyprint' not in sys.modules and 'pikepdf' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_force_rebuilds_with_identical_bytes(small):
    project, out = small
    before = snapshot(out)
    log = build(project, out, *SMALL, "--variant", "desk", "--force")
    after = snapshot(out)
    assert f"{len(SMALL) + len(IMPOSED)} built, 0 unchanged" in log
    assert {k: v[0] for k, v in before.items()} == {k: v[0] for k, v in after.items()}


@pytest.mark.skipif(shutil.which("faketime") is None, reason="needs Debian's faketime")
def test_byte_identical_across_clocks_zones_and_checkouts(tmp_path):
    one = make_project(tmp_path / "checkout-one")
    two = make_project(tmp_path / "somewhere" / "else")
    targets = ("booklet-a5", "poster-a3", "placard-a3-landscape")
    build(one, tmp_path / "out1", *targets, "--zip", env={"TZ": "UTC"})
    subprocess.run(
        ["faketime", "2031-07-04 23:59:00", *PAMPHLETEER, "build", "--project", str(two),
         "--out", str(tmp_path / "out2"), *targets, "--zip", "--jobs", "1"],
        check=True, capture_output=True, env={**os.environ, "TZ": "Pacific/Kiritimati"},
        timeout=600,
    )
    files = sorted(p.name for p in (tmp_path / "out1").iterdir() if p.is_file()
                   and not p.name.startswith("."))
    assert "aleppo-kit.zip" in files and "manifest.json" in files
    for name in files:
        one_bytes = (tmp_path / "out1" / name).read_bytes()
        assert one_bytes == (tmp_path / "out2" / name).read_bytes(), name
    for pdf in (tmp_path / "out1").glob("*.pdf"):
        data = pdf.read_bytes()
        assert str(one).encode() not in data and b"/tmp/" not in data
    manifest = json.loads((tmp_path / "out1" / "manifest.json").read_text())
    assert manifest["source_date_epoch"] == outputs.DEFAULT_EPOCH
    assert len(manifest["inputs_sha256"]) == 64
    assert all(len(e["inputs_sha256"]) == 64 for e in manifest["outputs"])


def test_source_date_epoch_sets_the_dates(tmp_path):
    import pikepdf

    project = make_project(tmp_path / "p")
    build(project, tmp_path / "out", "poster-a3", "--variant", "desk",
          env={"SOURCE_DATE_EPOCH": "1700000000"})
    with pikepdf.open(tmp_path / "out" / "poster-a3-desk.pdf") as pdf:
        assert str(pdf.docinfo["/CreationDate"]) == "D:20231114221320Z"
        assert str(pdf.docinfo["/ModDate"]) == "D:20231114221320Z"
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["source_date_epoch"] == 1700000000


def test_shards_merge_into_the_full_build(tmp_path):
    project = make_project(tmp_path / "p")
    targets = ("flyer", "poster-a3", "placard-tabloid-landscape")
    build(project, tmp_path / "full", *targets, "--zip")
    build(project, tmp_path / "s1", *targets, "--shard", "1/2")
    build(project, tmp_path / "s2", *targets, "--shard", "2/2")
    shard_files = [{p.name for p in (tmp_path / s).glob("*.pdf")} for s in ("s1", "s2")]
    assert shard_files[0] and shard_files[1] and not shard_files[0] & shard_files[1]
    result = CliRunner().invoke(cli, ["merge", str(tmp_path / "s1"), str(tmp_path / "s2"),
                                      "--out", str(tmp_path / "merged"), "--zip"])
    assert result.exit_code == 0, result.output
    full = sorted(p.name for p in (tmp_path / "full").iterdir() if not p.name.startswith("."))
    merged = sorted(p.name for p in (tmp_path / "merged").iterdir()
                    if not p.name.startswith("."))
    assert merged == full
    for name in full:
        merged_bytes = (tmp_path / "merged" / name).read_bytes()
        assert merged_bytes == (tmp_path / "full" / name).read_bytes(), name


def test_the_manifest_is_written_as_json_dumps_writes_it(tmp_path):
    """Saved after every output, each entry serialized once: the text is still exactly
    ``json.dumps(indent=2)``'s, whatever was recorded, replaced or changed in place."""
    manifest = outputs.Manifest(tmp_path / "manifest.json", "content/a", 1700000000)

    def written() -> str:
        return json.dumps(manifest.as_dict(), indent=2, ensure_ascii=False) + "\n"

    manifest.save()
    assert manifest.path.read_text("utf-8") == written()  # no outputs: []
    entry = {"file": "b.pdf", "inputs_sha256": "1" * 64, "sha256": "2" * 64, "bytes": 3,
             "trim_mm": [105.0, 148.0], "layout": "لافتة «ñ»", "details": {"x": [1, {}]}}
    manifest.record(entry)
    manifest.record({**entry, "file": "a.pdf"})
    assert manifest.path.read_text("utf-8") == written()
    manifest.record({**entry, "bytes": 4})  # the same file again, made anew
    assert manifest.path.read_text("utf-8") == written()
    manifest.entries["a.pdf"]["pages"] = 2  # an entry changed where it is
    manifest.save()
    assert manifest.path.read_text("utf-8") == written()
    assert json.loads(manifest.path.read_text("utf-8"))["outputs"][0]["pages"] == 2


def test_zip_holds_every_pdf_and_the_manifest(tmp_path):
    project = make_project(tmp_path / "p")
    build(project, tmp_path / "out", "flyer-a6", "--zip")
    with zipfile.ZipFile(tmp_path / "out" / "aleppo-kit.zip") as z:
        assert sorted(z.namelist()) == ["flyer-a6-4up-a4.pdf", "flyer-a6-desk.pdf",
                                        "flyer-a6-mono.pdf", "flyer-a6-press.pdf",
                                        "flyer-a6-riso.pdf",
                                        "flyer-a6-screen.pdf", "manifest.json"]
        pdf = (tmp_path / "out" / "flyer-a6-desk.pdf").read_bytes()
        assert z.read("flyer-a6-desk.pdf") == pdf


def test_second_build_into_the_same_folder_is_held_off(tmp_path):
    with outputs.locked(tmp_path):
        with pytest.raises(UsageError, match="another pamphleteer build"):
            with outputs.locked(tmp_path, wait=False):
                pass
    with outputs.locked(tmp_path, wait=False):
        pass


def test_killed_build_loses_nothing_and_resumes(tmp_path):
    project = make_project(tmp_path / "p")
    out = tmp_path / "out"
    build(project, out, "poster-a3", "--variant", "desk")
    good = (out / "poster-a3-desk.pdf").read_bytes()
    proc = subprocess.Popen(
        [*PAMPHLETEER, "build", "--project", str(project), "--out", str(out), "--jobs", "1",
         "--variant", "desk"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = out / "manifest.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until a first new output is recorded
        if len(json.loads(manifest.read_text())["outputs"]) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (out / "poster-a3-desk.pdf").read_bytes() == good
    recorded = json.loads(manifest.read_text())["outputs"]
    assert len(recorded) >= 2
    for entry in recorded:
        assert outputs.sha256_file(out / entry["file"]) == entry["sha256"]
    log = build(project, out, "--variant", "desk")
    assert f"{len(recorded)} unchanged" in log
    assert not list(out.glob(".*.tmp"))


def build_with_sabotage(tmp_path, monkeypatch, sabotage, targets, **job) -> dict[str, str]:
    """Build ``targets`` with ``sabotage()`` run in place of flyer-a6-desk; errors by file."""
    project = load_project(make_project(tmp_path / "p"))
    real = pipeline.build_output

    def build_output(renderer, target, *args):
        if target.file == "flyer-a6-desk.pdf":
            sabotage()
        return real(renderer, target, *args)

    monkeypatch.setattr(pipeline, "build_output", build_output)  # workers fork after this
    built = pipeline.build(pipeline.Job(project, project.content_dir, tmp_path / "out",
                                        targets=targets, **job))
    return {o.target.file: o.error for o in built}


def test_hung_output_times_out_and_the_rest_complete(tmp_path, monkeypatch):
    errors = build_with_sabotage(tmp_path, monkeypatch, lambda: time.sleep(30),
                                 ("flyer-a6",), timeout=2)
    assert "not done after 2 s" in errors["flyer-a6-desk.pdf"]
    assert errors["flyer-a6-press.pdf"] is None


def test_crashed_worker_fails_only_its_output(tmp_path, monkeypatch):
    errors = build_with_sabotage(tmp_path, monkeypatch, lambda: os._exit(9),
                                 ("flyer-a6", "poster-a3"), jobs=2)
    assert "worker process building it crashed" in errors.pop("flyer-a6-desk.pdf")
    assert "flyer-a6-desk.pdf was not built" in errors.pop("flyer-a6-4up-a4.pdf")
    assert errors == dict.fromkeys(["flyer-a6-press.pdf", "flyer-a6-riso.pdf",
                                    "flyer-a6-screen.pdf", "flyer-a6-mono.pdf",
                                    "poster-a3-desk.pdf", "poster-a3-press.pdf",
                                    "poster-a3-riso.pdf", "poster-a3-screen.pdf",
                                    "poster-a3-mono.pdf", "poster-a3-tiled-a4.pdf"])


def test_unexpected_exception_fails_only_its_output(tmp_path, monkeypatch):
    def bug():
        raise KeyError("boom")

    errors = build_with_sabotage(tmp_path, monkeypatch, bug, ("flyer-a6", "poster-a3"), jobs=2)
    error = errors.pop("flyer-a6-desk.pdf")
    assert error.startswith("flyer-a6-desk.pdf: bug: KeyError: 'boom'")
    assert "--debug" in error and "\n" not in error
    assert "flyer-a6-desk.pdf was not built" in errors.pop("flyer-a6-4up-a4.pdf")
    assert set(errors.values()) == {None}


def test_debug_prints_a_bugs_traceback(tmp_path, monkeypatch):
    def bug(*args):
        raise KeyError("boom")

    project = make_project(tmp_path / "p")
    monkeypatch.setattr(pipeline, "build_output", bug)
    args = ("build", "--project", project, "poster-a3", "--variant", "desk", "--jobs", "1",
            "--out", tmp_path / "out")
    plain = run(*args)
    assert plain.exit_code == 1 and "Traceback" not in plain.output
    assert "poster-a3-desk.pdf: bug: KeyError: 'boom'" in plain.output
    debug = run("--debug", *args)
    assert debug.exit_code == 1
    assert "Traceback (most recent call last)" in debug.output and "KeyError" in debug.output


def test_deleted_output_is_rebuilt_alone(small):
    project, out = small
    # rebuilt with the same bytes, so its tiled file is kept as it was
    assert rebuilt_after(small, lambda project: (out / "poster-a3-desk.pdf").unlink()) \
        == desk("poster-a3")
    assert (out / "poster-a3-desk.pdf").is_file()


def test_cached_fits_change_no_byte(tmp_path):
    project = make_project(tmp_path / "p")
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    targets = ("placard-a3-landscape", "flyer-a6", "leaflet-a4")
    build(project, tmp_path / "cold", *targets, env=cache)
    fits = list((tmp_path / "cache" / "pamphleteer" / "fits").rglob("*"))
    assert any(f.is_file() for f in fits)
    build(project, tmp_path / "warm", *targets, env=cache)
    for pdf in (tmp_path / "cold").glob("*.pdf"):
        assert pdf.read_bytes() == (tmp_path / "warm" / pdf.name).read_bytes(), pdf.name


def test_a_cache_entry_cut_short_reads_as_a_miss(tmp_path):
    """Fit cache entries are written without waiting for the disk: a power cut may leave
    any first part of one. Every such part must read as no entry (or, for a body size
    hint, as some number: a guess that the body fit confirms), never as a result."""
    from pamphleteer.copyfit import FitSpec, FitTarget, Fitted
    from pamphleteer.fitcache import FitCache

    cache = FitCache(tmp_path / "fits", ROOT / "fonts")
    target = FitTarget("s1", "<p>No to ISIS!</p>", 300.0, 120.0, FitSpec("slogan", 12, 96), "")
    keys = cache.keys("style", target)
    cache.put(keys, Fitted("s1", 41.23, 287.5, 2))
    cache.remember_body("doc", 10.25)
    cache.remember_body_fitted("flow", 9.31, 16)
    cache.remember_body_twin("twins", "signature", 9.31, 16)
    cache.remember_boxes("shape", {"fits": {"s1": {"area": [300.0, 120.0], "style": "x"}},
                                   "hidden": []})
    readers = {"get": lambda: cache.get(keys, "s1"),
               "body_fitted": lambda: cache.body_fitted("flow"),
               "body_twins": lambda: cache.body_twins("twins") or None,
               "boxes": lambda: cache.boxes("shape"),
               "body_hint": lambda: cache.body_hint("doc"),
               "last_fit": lambda: cache.last_fit(keys)}
    entries = {name: read() for name, read in readers.items()}
    assert all(v is not None for v in entries.values())
    files = {f.read_bytes(): f for f in (tmp_path / "fits").rglob("*") if f.is_file()}
    assert len(files) == len(readers)
    for data, path in files.items():
        for cut in range(len(data)):
            path.write_bytes(data[:cut])
            for name, read in readers.items():
                found = read()
                if name == "body_hint":
                    assert found is None or isinstance(found, float), (data[:cut], found)
                else:
                    assert found is None or found == entries[name], (name, data[:cut], found)
        path.write_bytes(data)


def test_a_cards_compression_is_an_input_of_the_cards_alone(small, monkeypatch):
    """Cards compressed otherwise are made again, not kept beside new ones."""
    project, _ = small
    p = load_project(project)
    targets = targets_plan(p, ("poster-a3", "social"), ("desk", "social"))
    content = load_content(p.content_dir)
    before = inputs.input_keys(targets, content, p)
    monkeypatch.setattr(inputs, "PNG_OPTIONS", {"compress_level": 9})
    after = inputs.input_keys(targets, content, p)
    changed = {t.variant.name for t in targets if after[t.file] != before[t.file]}
    assert changed == {"social"}
