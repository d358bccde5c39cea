"""Social cards, read back from the PNGs: pixel sizes, legible text (area and contrast
measured from the pixels), alt text in the file and in alt.json, the manifest's
entries, byte-identical rebuilds."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from PIL import Image

from helpers import (
    ROOT,
    SOCIAL,
    classed,
    laid_out,
    read_article,
    read_slogans,
    squash,
    text_extent,
    write_content,
)
from pamphleteer.config import load_project
from pamphleteer.outputs import Manifest
from pamphleteer.pipeline import Job, build

CARDS = ["headline", *(f"slogan-{i}" for i in range(1, len(read_slogans()) + 1))]
ALL = [(card, fmt) for fmt in SOCIAL for card in CARDS]


def _build(out):
    project = load_project(ROOT)
    return build(Job(project=project, content_dir=project.content_dir, out_dir=out,
                     targets=("social",), jobs=2))


@pytest.fixture(scope="session")
def social(tmp_path_factory):
    out = tmp_path_factory.mktemp("social")
    outputs = _build(out)
    assert not [o.error for o in outputs if o.error]
    return out


def card(social, name: str, fmt: str) -> Image.Image:
    with Image.open(social / "social" / f"{name}-{fmt}.png") as image:
        image.load()
        copy = image.copy()
        copy.info, copy.text = image.info, dict(image.text)
        return copy


def alt_expected() -> dict[str, str]:
    article, _ = read_article()
    first = re.split(r"(?<=[.!?])\s+", article["standfirst"].strip())[0]
    return {"headline": f"{article['headline']} {first}",
            **{f"slogan-{i}": s for i, s in enumerate(read_slogans(), 1)}}


@pytest.mark.parametrize(("name", "fmt"), ALL, ids=[f"{c}-{f}" for c, f in ALL])
def test_card_is_its_exact_pixel_size_srgb_and_small(social, name, fmt):
    image = card(social, name, fmt)
    assert image.size == SOCIAL[fmt]
    assert image.mode == "RGB"
    assert image.info.get("srgb") == 0
    assert (social / "social" / f"{name}-{fmt}.png").stat().st_size <= 300 * 1024


def _luminance(rgb) -> float:
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize(("name", "fmt"), ALL, ids=[f"{c}-{f}" for c, f in ALL])
def test_card_is_legible(social, name, fmt):
    """The background is the commonest colour; the text the commonest colour far from
    it. The text covers a fair share of the card, and contrasts at least 4.5:1."""
    image = card(social, name, fmt)
    small = image.resize((image.width // 4, image.height // 4), Image.NEAREST)
    counts = Counter({c: n for n, c in small.getcolors(1 << 20)})
    background = counts.most_common(1)[0][0]
    ink = [(c, n) for c, n in counts.most_common() if contrast(c, background) > 2]
    assert ink, "a blank card"
    text, _ = ink[0]
    share = sum(n for c, n in ink) / (small.width * small.height)
    assert share > 0.04, f"text covers only {share:.1%} of the card"
    assert contrast(text, background) >= 4.5


def test_story_keeps_the_top_and_bottom_14_percent_plain(social):
    for name in CARDS:
        image = card(social, name, "story")
        w, h = image.size
        colours = image.resize((w // 4, h // 4)).getcolors(1 << 20)
        background = max(colours)[1]
        for top, bottom in ((0, int(h * 0.14)), (h - int(h * 0.14), h)):
            band = image.crop((0, top, w, bottom)).getcolors(1 << 20)
            inked = sum(n for n, c in band if contrast(c, background) > 1.5)
            assert inked == 0, f"{name}: {inked} px of text in a 14 % band"


@pytest.mark.parametrize(("name", "fmt"), ALL, ids=[f"{c}-{f}" for c, f in ALL])
def test_alt_text_is_in_the_png(social, name, fmt):
    assert squash(card(social, name, fmt).text["Description"]) == squash(alt_expected()[name])


def test_alt_json_lists_every_card(social):
    data = json.loads((social / "social" / "alt.json").read_text(encoding="utf-8"))
    assert data["lang"] == "en"
    assert {k: squash(v) for k, v in data["alt"].items()} == {
        k: squash(v) for k, v in alt_expected().items()}


def test_non_latin_alt_text_goes_in_itxt():
    from pamphleteer.social import png

    image = Image.new("RGB", (4, 4), "red")
    data = png(image, "لا للحرب")
    assert b"iTXt" in data and b"tEXt" not in data
    with Image.open(__import__("io").BytesIO(data)) as read:
        assert read.text["Description"] == "لا للحرب"


def test_manifest_lists_each_card_with_its_format(social):
    entries = Manifest.read(social).entries
    for name, fmt in ALL:
        entry = entries[f"social/{name}-{fmt}.png"]
        assert (entry["format"], entry["width_px"], entry["height_px"]) == ("png",
                                                                             *SOCIAL[fmt])


def test_no_timestamp_and_byte_identical_rebuild(social, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # encoded afresh
    _build(tmp_path)
    for name, fmt in ALL:
        data = (social / "social" / f"{name}-{fmt}.png").read_bytes()
        assert b"tIME" not in data
        assert (tmp_path / "social" / f"{name}-{fmt}.png").read_bytes() == data


def test_a_missing_card_is_made_again(social, tmp_path):
    import shutil

    shutil.copytree(social, tmp_path / "out")
    (tmp_path / "out" / "social" / "slogan-3-link.png").unlink()
    outputs = _build(tmp_path / "out")
    built = {o.target.file for o in outputs if not o.skipped}
    assert built == {"social/headline-link.png"}
    assert (tmp_path / "out" / "social" / "slogan-3-link.png").read_bytes() == (
        social / "social" / "slogan-3-link.png").read_bytes()


def test_manifest_refuses_a_card_path_out_of_the_folder(social, tmp_path):
    import shutil

    from pamphleteer.errors import UsageError

    shutil.copytree(social, tmp_path / "out")
    manifest = tmp_path / "out" / "manifest.json"
    for bad in ("social/../../x.png", "other/x.png", "social/x.pdf", "/etc/x.png"):
        data = json.loads(manifest.read_text())
        data["outputs"][0]["file"] = bad
        manifest.write_text(json.dumps(data))
        with pytest.raises(UsageError):
            Manifest.read(tmp_path / "out", files=False)


def test_shards_merge_with_their_cards(social, tmp_path):
    """Shards of a build merge into one folder, cards and all, as one build makes it."""
    from pamphleteer.outputs import merge

    project = load_project(ROOT)
    for i in (1, 2):
        build(Job(project=project, content_dir=project.content_dir, out_dir=tmp_path / str(i),
                  targets=("social",), jobs=1, shard=(i, 2)))
    merged = merge([tmp_path / "1", tmp_path / "2"], tmp_path / "all")
    assert set(merged.entries) == {f"social/{c}-{f}.png" for c, f in ALL}
    for name, fmt in ALL:
        file = f"social/{name}-{fmt}.png"
        assert (tmp_path / "all" / file).read_bytes() == (social / file).read_bytes()
    assert not list((tmp_path / "all").rglob("*.tmp"))


def test_preview_proofs_every_card(tmp_path):
    from helpers import run

    result = run("preview", "--project", ROOT, "--out", tmp_path, "--jobs", "1",
                 "social-link")
    assert result.exit_code == 0, result.output
    proofs = {p.parent.name for p in (tmp_path / "proofs").glob("*/page-001.png")}
    assert proofs == {f"{c}-link" for c in CARDS}
    with Image.open(tmp_path / "proofs" / "slogan-1-link" / "page-001.png") as proof:
        assert proof.width > 100


def test_a_card_too_pale_to_read_fails_its_build(tmp_path):
    from helpers import CONTENT, copy_project, run

    project = copy_project(tmp_path / "proj")
    style = project / "layouts" / "social" / "style.css"
    style.write_text(style.read_text() + "\n.card-slogan { background: #f08a96; }\n")
    result = run("build", "--project", project, "--content", CONTENT, "--out",
                 tmp_path / "out", "--jobs", "1", "social-link")
    assert result.exit_code == 1, result.output
    assert "social/slogan-1-link.png: the text contrasts" in result.output
    assert ":1 with its background, under the 4.5:1" in result.output


def test_an_editions_card_says_where_and_when_to_come():
    """The card's foot carries the local group, the date and the place in place of the
    byline; without an edition, the byline as before."""
    import dataclasses

    from pamphleteer.content import load_content
    from pamphleteer.editions import load_editions
    from pamphleteer.targets import plan
    from pamphleteer.typeset import geometry, to_html

    project = load_project(ROOT)
    [target] = plan(project, ("social-square",), ("social",))
    content = load_content(project.content_dir)
    [leeds] = [e for e in load_editions(project.content_dir, ["en", "ar", "es"])
               if e.id == "leeds"]
    plain = to_html(target, content, geometry(target, project), "")
    local = to_html(target, dataclasses.replace(content, edition=leeds),
                    geometry(target, project), "")
    assert "Leeds Syria Solidarity" not in plain and "Miguel Lamas" in plain
    for part in ("Leeds Syria Solidarity", "December 12, 2026", "Leeds Central Library"):
        assert part in local


def _cards(fmt: str, content):
    """The cards of the format ``fmt`` laid out for ``content``: the document."""
    from pamphleteer import render
    from pamphleteer.targets import plan
    from pamphleteer.typeset import Typesetter, geometry

    project = load_project(ROOT)
    [target] = plan(project, (f"social-{fmt}",), ("social",))
    return Typesetter(render.Renderer(project.fonts_dir), target, content,
                      geometry(target, project)).typeset()[1]


def _edition(ident: str):
    """The default content in the language of the edition ``ident``, with it."""
    import dataclasses

    from pamphleteer.content import load_content
    from pamphleteer.editions import load_editions

    folder = load_project(ROOT).content_dir
    [row] = [e for e in load_editions(folder, ["en", "ar", "es"]) if e.id == ident]
    return dataclasses.replace(load_content(folder, row.lang), edition=row)


@pytest.mark.parametrize("edition", ["leeds", "buenos-aires", "marseille-ar"])
def test_an_editions_card_sets_when_over_where_at_the_outer_edge(edition):
    """The meeting's date and time make a line, the place the next (a line broken
    where the width ran out left its separator at the end, the place alone below),
    flush with the foot's outer edge: the right, or the left in a right-to-left card."""
    from pamphleteer.editions import direction

    content = _edition(edition)
    page = _cards("square", content).pages[0]
    foot, when, where = (laid_out(page, classed(name))[0]  # the first card's
                         for name in ("meeting", "meeting-when", "meeting-where"))
    when, where = text_extent(when), text_extent(where)
    assert where[2] > when[2] + 1, "the place is not on a line of its own"
    if direction(content.article.lang) == "rtl":
        edge = foot.content_box_x()
        assert abs(when[0] - edge) < 1 and abs(where[0] - edge) < 1
    else:
        edge = foot.content_box_x() + foot.width
        assert abs(when[1] - edge) < 1 and abs(where[1] - edge) < 1


@pytest.mark.parametrize("fmt", SOCIAL)
def test_a_tall_foot_pushes_the_line_up_rather_than_running_through_it(fmt):
    """Buenos Aires's group takes three lines at the foot of a link card: the line above
    is fitted into what the foot leaves, its text clear of the foot's rule."""
    from pamphleteer import render

    document = _cards(fmt, _edition("buenos-aires"))
    lines = render.boxes(document, "data-fit")
    for number, page in enumerate(document.pages):
        [foot] = laid_out(page, lambda element: element.tag == "footer")
        [line] = [b for ident, b in lines.items() if b.page == number and "@" not in ident]
        text = laid_out(page, lambda element, ident=line.id: element.get("id") == ident)[0]
        bottom = text_extent(text)[3]  # (the first box: the element's own, not its lines)
        assert bottom <= foot.border_box_y(), (
            f"page {number + 1}: #{line.id} reaches {bottom - foot.border_box_y():.1f} px "
            "past the foot's rule")


def test_a_long_byline_wraps_in_half_the_foot(tmp_path):
    """A collective's name as the author ran off the card (the build failed); it wraps
    in half the foot now, beside the source, and a short one stays on one line."""
    from pamphleteer.content import load_content

    for author, lines in (("Miguel Lamas", 1), ("María de los Ángeles Fernández-Castillo "
                                                "and the Colectivo de Solidaridad", 3)):
        folder = write_content(tmp_path / str(lines), {
            "title": "Stop the bombing", "author": author,
            "source": "Originally published in Izquierda Socialista newspaper."},
            slogans=["Now!"])
        page = _cards("square", load_content(folder)).pages[0]
        [foot] = laid_out(page, lambda element: element.tag == "footer")
        [byline] = [b for b in foot.children if classed("byline")(b.element)]
        found = [b for b in byline.children if type(b).__name__ == "LineBox"]
        assert len(found) == lines, author
        assert byline.border_width() <= foot.width / 2 + 0.5, author


def test_an_encoding_is_kept_and_gives_the_same_bytes(social, tmp_path, monkeypatch):
    """Cards that come out of a rebuild pixel for pixel as before are not encoded again:
    their PNG comes from the cache, byte for byte what the encoder gives."""
    from pamphleteer import social as cards

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    image = card(social, "slogan-2", "square")
    fresh = cards._encode(image, "a slogan")
    assert cards.png(image, "a slogan") == fresh
    monkeypatch.setattr(cards, "_encode", lambda *_: pytest.fail("encoded again"))
    assert cards.png(image, "a slogan") == fresh
    with pytest.raises(pytest.fail.Exception):  # other text: another PNG
        cards.png(image, "another slogan")


def test_an_edition_shows_on_its_headline_card_and_shares_the_kits_slogan_cards(
        tmp_path, monkeypatch):
    """In every edition the headline card carries the meeting, and the slogan cards are
    the plain kit's, byte for byte: made in the first edition, copied into the others,
    and kept when only the edition's row changes."""
    import shutil

    from helpers import CONTENT, run
    from pamphleteer import social as cards

    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    rows = ["id,group,date,time,place,contact,url,lang",
            "leeds,Leeds Syria Solidarity,2026-12-12,18:30,Central Library,,,en",
            "york,York for Syria,2026-12-19,,Minster Gates,,,en"]
    (content / "editions.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    made = tmp_path / "made"  # a file: an edition's outputs may be made in a worker process
    card_of = cards._card

    def card(page, file, *args):
        with made.open("a") as log:
            log.write(file + "\n")
        return card_of(page, file, *args)

    monkeypatch.setattr(cards, "_card", card)

    def build(*args) -> list[str]:
        made.write_text("")
        result = run("build", "social-link", "--project", ROOT, "--content", content,
                     "--jobs", "1", "--out", tmp_path / "out", *args)
        assert result.exit_code == 0, result.output
        return sorted(made.read_text().split())

    slogans = [f"social/slogan-{i}-link.png" for i in range(1, len(read_slogans()) + 1)]
    assert build("--all-editions") == sorted(["social/headline-link.png"] * 2 + slogans)
    assert build() == ["social/headline-link.png", *slogans]  # the plain kit's own
    folders = {name: tmp_path / "out" / name for name in ("leeds", "york")}
    folders["kit"] = tmp_path / "out"
    for file in slogans:
        assert len({(folder / file).read_bytes() for folder in folders.values()}) == 1, file
    headlines = {(folder / "social/headline-link.png").read_bytes()
                 for folder in folders.values()}
    assert len(headlines) == 3, "an edition's headline card shows no meeting of its own"
    keys = [{e["file"]: e["inputs_sha256"] for e in
             Manifest.read(folder, files=False).entries.values()} for folder in folders.values()]
    assert all(k[f] == keys[0][f] for k in keys for f in slogans)

    rows[2] = rows[2].replace("Minster Gates", "the Minster's south door")
    (content / "editions.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert build("--edition", "york") == ["social/headline-link.png"]
