"""One kit per language or per edition: folders, indexes, sharing, and bad requests."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from helpers import CONTENT, assert_clean_failure, pdf_texts, read_slogans, run, squash

PLACARD = ("placard-a3-landscape", "--variant", "desk", "--jobs", "1")


@pytest.fixture(scope="module")
def content(tmp_path_factory) -> Path:
    """The sample content, with two English editions besides the three it ships."""
    folder = tmp_path_factory.mktemp("content") / "aleppo"
    shutil.copytree(CONTENT, folder)
    with (folder / "editions.csv").open("a", encoding="utf-8") as f:
        f.write("york,York Syria Solidarity,2026-12-19,,York Explore Library,,,en\n")
    return folder


def test_languages_each_in_a_folder(content, tmp_path):
    out = tmp_path / "out"
    result = run("build", "--content", content, *PLACARD, "--lang", "es", "--lang", "en",
                 "--out", out)
    assert result.exit_code == 0, result.output
    index = json.loads((out / "languages.json").read_text())
    assert index == {"languages": [{"lang": "en", "dir": "ltr", "folder": "en"},
                                   {"lang": "es", "dir": "ltr", "folder": "es"}]}
    for lang, slogans in (("en", read_slogans(content)),
                          ("es", read_slogans(content, "slogans.es.md"))):
        manifest = json.loads((out / lang / "manifest.json").read_text())
        assert [e["file"] for e in manifest["outputs"]] == [
            "placard-a3-landscape-desk.pdf", "placard-a3-landscape-tiled-a4.pdf"]
        pages = pdf_texts(out / lang / "placard-a3-landscape-desk.pdf")
        assert [squash(p) for p in pages] == [squash(s) for s in slogans]


def test_editions_share_what_shows_no_edition_data(content, tmp_path):
    """Leeds and York are both English: York's placard is Leeds's, byte for byte, and
    the index lists both editions, also when they are built one at a time."""
    out = tmp_path / "out"
    for edition in ("leeds", "york"):
        result = run("build", "--content", content, *PLACARD, "--edition", edition,
                     "--out", out, "--json")
        assert result.exit_code == 0, result.output
    leeds, york = (out / e / "placard-a3-landscape-desk.pdf" for e in ("leeds", "york"))
    assert leeds.read_bytes() == york.read_bytes()
    index = json.loads((out / "editions.json").read_text())
    assert [(e["id"], e["lang"], e["folder"]) for e in index["editions"]] == [
        ("leeds", "en", "leeds"), ("york", "en", "york")]


def test_all_editions_copy_rather_than_render_again(content, tmp_path):
    out = tmp_path / "out"
    result = run("build", "--content", content, *PLACARD, "--edition", "leeds",
                 "--edition", "york", "--out", out, "--json")
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    seconds = {e["file"]: e["seconds"] for e in events}
    for made in ("desk", "tiled-a4"):  # the tiles too: made from the same desk file
        assert seconds[f"york/placard-a3-landscape-{made}.pdf"] == 0
        assert seconds[f"leeds/placard-a3-landscape-{made}.pdf"] > 0


@pytest.mark.parametrize("args, needles, code", [
    (("--lang", "xx"), ["--lang xx", "no 'xx' text", "en, ar, es"], 2),
    (("--lang", "es", "--edition", "leeds"), ["not both"], 2),
    (("--edition", "nowhere"), ["--edition nowhere", "leeds"], 2),
])
def test_bad_requests_fail_cleanly(content, tmp_path, args, needles, code):
    result = run("build", "--content", content, *PLACARD, *args, "--out", tmp_path / "out")
    line = assert_clean_failure(result, code)
    for needle in needles:
        assert needle in line, line
    assert not (tmp_path / "out").exists()


def test_edition_shards_merge_into_the_full_build(content, tmp_path):
    targets = ("flyer-a6", "placard-a3-landscape", "--variant", "desk", "--jobs", "1",
               "--edition", "leeds", "--edition", "buenos-aires")
    assert run("build", "--content", content, *targets, "--out", tmp_path / "full").exit_code == 0
    for i in (1, 2):
        result = run("build", "--content", content, *targets, "--shard", f"{i}/2",
                     "--out", tmp_path / f"s{i}")
        assert result.exit_code == 0, result.output
    result = run("merge", tmp_path / "s1", tmp_path / "s2", "--out", tmp_path / "merged")
    assert result.exit_code == 0, result.output
    full, merged = tmp_path / "full", tmp_path / "merged"
    files = sorted(p.relative_to(full) for p in full.rglob("*") if p.is_file()
                   and not p.name.startswith("."))
    assert files == sorted(p.relative_to(merged) for p in merged.rglob("*") if p.is_file()
                           and not p.name.startswith("."))
    for file in files:
        assert (full / file).read_bytes() == (merged / file).read_bytes(), file


def test_merge_refuses_an_index_that_names_folders_outside(content, tmp_path):
    shard = tmp_path / "shard"
    shard.mkdir()
    (shard / "editions.json").write_text(json.dumps(
        {"editions": [{"id": "x", "group": "x", "lang": "en", "folder": "../../etc"}]}))
    result = run("merge", shard, "--out", tmp_path / "out")
    line = assert_clean_failure(result, 2)
    assert "editions.json" in line and "plain folder name" in line


@pytest.fixture(scope="module")
def editions_kit(content, tmp_path_factory) -> Path:
    """The three shipped editions (English, Spanish, Arabic), every layout that shows
    an edition, press and desk."""
    out = tmp_path_factory.mktemp("editions")
    result = run("build", "--content", content, "leaflet-a4", "booklet-a5", "flyer-a6",
                 "poster-a3", "--variant", "desk", "--variant", "press", "--edition", "leeds",
                 "--edition", "buenos-aires", "--edition", "marseille-ar", "--out", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("edition", ["leeds", "buenos-aires", "marseille-ar"])
def test_every_edition_passes_strict_preflight(editions_kit, edition):
    result = run("check", "--strict", editions_kit / edition)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("edition", "lang"), [("buenos-aires", "es"), ("marseille-ar", "ar")])
def test_no_english_label_in_other_languages(editions_kit, edition, lang):
    """Every word the layouts print comes from the edition's strings file, the tiled
    posters' labels and instructions included. A string with {names} filled in is looked
    for by its words between them ("row", "column", "mm on", …)."""
    import tomllib

    from helpers import ROOT

    def strings(tag):
        return tomllib.loads((ROOT / f"layouts/_base/strings/{tag}.toml").read_text())

    english, theirs = strings("en"), strings(lang)
    phrases = {part.strip(" ,;:().") for key, value in english.items()
               if theirs[key] != value  # "A4" is A4 in every language
               for part in re.split(r"\{\w+\}", value)}
    phrases = {p for p in phrases if len(p) >= 3}
    assert {"glue", "row", "column", "the first sheet: the others go over it"} <= phrases
    pdfs = sorted((editions_kit / edition).glob("*.pdf"))
    assert any("-tiled-" in pdf.name for pdf in pdfs)
    for pdf in pdfs:
        text = " ".join(" ".join(pdf_texts(pdf)).split())
        for phrase in phrases:  # as a whole word or phrase
            assert not re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text), (
                f"{pdf.name} shows the English {phrase!r}")

@pytest.mark.parametrize(("edition", "lang"), [("buenos-aires", "es"), ("marseille-ar", "ar")])
def test_tiled_poster_instructions_are_in_the_editions_language(editions_kit, edition, lang):
    """The map's steps and each sheet's instruction, in its words, read back from the
    file. Arabic is compared word by word, without its vowel marks: pdfium reads a
    letter with two marks (قُصّ) out of order, and digits and brackets in a right-to-left
    line come back reordered, though they are drawn in place."""
    import tomllib
    import unicodedata

    from helpers import ROOT

    def plain(text: str) -> str:
        return "".join(ch for ch in squash(text) if unicodedata.category(ch) != "Mn")

    def shown(expected: str, text: str) -> bool:
        if lang != "ar":
            return plain(expected) in plain(text)
        words = [w for w in expected.split() if len(plain(w)) >= 4 and plain(w).isalpha()]
        return bool(words) and all(plain(w) in plain(text) for w in words)

    words = tomllib.loads((ROOT / f"layouts/_base/strings/{lang}.toml").read_text())
    texts = pdf_texts(editions_kit / edition / "poster-a3-tiled-a4.pdf")
    for key in ("tile_print", "tile_trim", "tile_glue_steps"):
        assert shown(words[key], texts[0]), key
    assert shown(words["tile_first"], texts[1])
    assert shown(words["tile_trim_left"].replace("{left}", "A1"), texts[2])
    assert all(plain(words["tile_glue"]) in plain(t) for t in texts[1:3])
