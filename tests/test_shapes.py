"""A document of a shape typeset before goes straight to its final layout: another
edition's desk copy, a leaflet after an edit to its body. The boxes are last time's, and
only a final layout that shows them again is kept; either way the bytes are those of a
build from scratch."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from helpers import ROOT

TARGETS = ("leaflet-a4", "flyer-a6", "poster-a3")


@pytest.fixture(scope="module")
def setup():
    from pamphleteer.check import bundled_font_names
    from pamphleteer.config import load_project
    from pamphleteer.content import languages
    from pamphleteer.editions import load_editions
    from pamphleteer.render import Renderer
    from pamphleteer.targets import plan

    project = load_project(ROOT)
    [leeds] = [e for e in load_editions(project.content_dir, languages(project.content_dir))
               if e.id == "leeds"]
    york = dataclasses.replace(leeds, id="york", group="York Syria Solidarity Network",
                               place="York Explore Library, Museum Street",
                               url="https://example.org/york")
    targets = sorted(plan(project, TARGETS, ("press", "desk")),
                     key=lambda t: (t.name, t.variant.name != "press"))
    return (project, Renderer(project.fonts_dir), bundled_font_names(project.fonts_dir),
            targets, leeds, york)


def build(setup, edition, cache_dir: Path, out: Path, body: str | None = None,
          targets=None, author: str | None = None) -> dict:
    """Build ``targets`` (the fixture's) for ``edition`` (its body replaced by ``body``,
    its author by ``author``) with the fit cache in ``cache_dir``; return each file's
    count of layouts, copyfit's passes included."""
    from pamphleteer.content import load_content
    from pamphleteer.fitcache import FitCache
    from pamphleteer.pipeline import Job, build_output

    project, renderer, fonts, planned, _, _ = setup
    targets = targets or planned
    content = dataclasses.replace(load_content(project.content_dir, "en"), edition=edition)
    changes = {"body_html": body, "author": author}
    content = dataclasses.replace(content, article=dataclasses.replace(
        content.article, **{k: v for k, v in changes.items() if v is not None}))
    cache, job = FitCache(cache_dir, project.fonts_dir), Job(project, project.content_dir, out)
    counts, layout = {}, renderer.layout

    def counted(*args, **kwargs):
        counts[target.file] = counts.get(target.file, 0) + 1
        return layout(*args, **kwargs)

    renderer.layout = counted
    try:
        for target in targets:
            output = build_output(renderer, target, content, job, fonts, cache)
            assert output.error is None, output.error
    finally:
        del renderer.layout
    return counts


def same_files(a: Path, b: Path, files) -> None:
    for file in files:
        assert (a / file).read_bytes() == (b / file).read_bytes(), file


def test_another_editions_copies_skip_their_sketch_and_match_a_build_from_scratch(
        setup, tmp_path):
    _, _, _, targets, leeds, york = setup
    build(setup, leeds, tmp_path / "fits", tmp_path / "leeds")
    warm = build(setup, york, tmp_path / "fits", tmp_path / "warm")
    cold = build(setup, york, tmp_path / "fresh", tmp_path / "cold")
    same_files(tmp_path / "warm", tmp_path / "cold", [t.file for t in targets])
    # The press copy measures York's panel: its sketch is needed for that. The desk copy
    # then finds every fit in the cache, and lays out once (the leaflet too: its body is
    # set at the largest size, which its hint says).
    desk = ("poster-a3-desk.pdf", "flyer-a6-desk.pdf", "leaflet-a4-desk.pdf")
    assert [warm[f] for f in desk] == [1, 1, 1]
    assert all(cold[f.replace("desk", "press")] > 1 for f in desk)


def test_other_variants_take_the_press_copys_boxes(setup, tmp_path):
    """A desk copy differs from the press copy in paint and margins only: built after
    it, it goes straight to its final layout with the press copy's boxes and fits. A
    mono copy, whose rules move its boxes, is sketched. Either way the bytes are those
    of a copy built alone, from scratch."""
    from pamphleteer.targets import plan

    project, _, _, _, leeds, _ = setup
    targets = plan(project, ("flyer-a6", "poster-a3", "leaflet-a4"), ("press", "desk", "mono"))
    after_press = build(setup, leeds, tmp_path / "fits", tmp_path / "kit", targets=targets)
    others = [t for t in targets if t.variant.name != "press"]
    alone = {t.file: build(setup, leeds, tmp_path / t.file, tmp_path / "alone",
                           targets=[t])[t.file] for t in others}
    same_files(tmp_path / "kit", tmp_path / "alone", [t.file for t in others])
    for file in ("flyer-a6-desk.pdf", "poster-a3-desk.pdf"):
        assert after_press[file] == 1 < alone[file]



def test_a_copy_that_flows_as_another_takes_its_body_size_in_one_layout(setup, tmp_path):
    """The screen and mono copies of a booklet set its body exactly as the desk copy
    (paint aside), so after the desk copy's search each takes the size from one layout
    at it, where a search would lay out the page budget and the size above too (the
    press copy's covers reach into the bleed: its pages differ). The bytes are those of
    copies built alone."""
    from pamphleteer.targets import plan

    project, _, _, _, leeds, _ = setup
    first = plan(project, ("booklet-a5",), ("press", "desk"))
    others = plan(project, ("booklet-a5",), ("screen", "mono"))
    build(setup, leeds, tmp_path / "fits", tmp_path / "kit", targets=first)
    after = build(setup, leeds, tmp_path / "fits", tmp_path / "kit", targets=others)
    for t in others:
        build(setup, leeds, tmp_path / t.file, tmp_path / "alone", targets=[t])
    same_files(tmp_path / "kit", tmp_path / "alone", [t.file for t in others])
    # Screen takes the press copy's boxes too, so its one layout is all. (Mono's rules
    # move the fitted texts' boxes: it is sketched and its texts fitted first.)
    assert after["booklet-a5-screen.pdf"] == 1


def test_a_copy_that_flows_otherwise_searches_its_body_size(setup, tmp_path):
    """The signature is checked: a record whose signature the screen copy does not
    match is not taken, and the copy confirms the size with more layouts, to a build
    from scratch's bytes."""
    from pamphleteer.content import load_content
    from pamphleteer.fitcache import FitCache
    from pamphleteer.targets import plan
    from pamphleteer.typeset import Typesetter, geometry

    project, renderer, _, _, leeds, _ = setup
    press, desk, screen = plan(project, ("booklet-a5",), ("press", "desk", "screen"))
    build(setup, leeds, tmp_path / "fits", tmp_path / "kit", targets=[press, desk])
    content = dataclasses.replace(load_content(project.content_dir, "en"), edition=leeds)
    cache = FitCache(tmp_path / "fits", project.fonts_dir)
    twins = Typesetter(renderer, screen, content, geometry(screen, project), cache).twins()
    record = cache.body_twins(twins)
    assert record, "the desk copy kept its size under its signature"
    cache._write(cache._named("twins", twins), {f"{sig}x": list(v) for sig, v in record.items()})
    searched = build(setup, leeds, tmp_path / "fits", tmp_path / "kit", targets=[screen])
    build(setup, leeds, tmp_path / "fresh", tmp_path / "alone", targets=[screen])
    same_files(tmp_path / "kit", tmp_path / "alone", [screen.file])
    assert searched[screen.file] >= 2


def test_a_press_copys_boxes_styled_otherwise_are_not_taken(setup, tmp_path):
    """The guess is checked: here the press copy's record says its texts came out in
    another style, so the desk copy's final layout is seen not to match it, thrown
    away, and the copy typeset from its sketch, to a build from scratch's bytes."""
    from pamphleteer.content import load_content
    from pamphleteer.fitcache import FitCache
    from pamphleteer.targets import plan
    from pamphleteer.typeset import Typesetter, geometry

    project, renderer, _, _, leeds, _ = setup
    press, desk = plan(project, ("flyer-a6",), ("press", "desk"))
    build(setup, leeds, tmp_path / "fits", tmp_path / "kit", targets=[press])
    content = dataclasses.replace(load_content(project.content_dir, "en"), edition=leeds)
    cache = FitCache(tmp_path / "fits", project.fonts_dir)
    family = Typesetter(renderer, desk, content, geometry(desk, project), cache).family()
    record = cache.boxes(family)
    assert record and record["final"], "the press copy kept its boxes for the others"
    record["final"] = {ident: f"{style}\nletter-spacing=2"
                       for ident, style in record["final"].items()}
    cache.remember_boxes(family, record)
    guessed = build(setup, leeds, tmp_path / "fits", tmp_path / "kit", targets=[desk])
    build(setup, leeds, tmp_path / "fresh", tmp_path / "alone", targets=[desk])
    same_files(tmp_path / "kit", tmp_path / "alone", [desk.file])
    assert guessed[desk.file] == 3  # the guess, then the sketch and the final layout


def test_another_edition_sets_its_body_in_one_layout(setup, tmp_path):
    """The panel's words sit in boxes of fixed size, so they cannot move the body: the
    next edition's booklet takes the size the first one's body fit found, and lays its
    body out once, where a search confirms a hint with two or three layouts (the page
    budget's, the hint's and the size above it). The bytes are a build from scratch's."""
    from pamphleteer.targets import plan

    project, _, _, _, leeds, york = setup
    booklets = plan(project, ("booklet-a5",), ("press", "desk"))
    first = build(setup, leeds, tmp_path / "fits", tmp_path / "leeds", targets=booklets)
    warm = build(setup, york, tmp_path / "fits", tmp_path / "warm", targets=booklets)
    build(setup, york, tmp_path / "fresh", tmp_path / "cold", targets=booklets)
    files = [t.file for t in booklets]
    same_files(tmp_path / "warm", tmp_path / "cold", files)
    # Every fit cached: the final layout alone, where the first edition's desk copy also
    # laid out its page budget to confirm the size its press copy found.
    assert warm["booklet-a5-desk.pdf"] == 1 < first["booklet-a5-desk.pdf"]


def test_a_new_flow_is_searched_again(setup, tmp_path):
    """The size found for one text is not taken for another: after an edit to the body,
    the booklet's body fit lays out its page budget and its hint at least, and gives a
    build from scratch's bytes."""
    from pamphleteer.content import load_content
    from pamphleteer.targets import plan

    project, _, _, _, leeds, _ = setup
    booklets = plan(project, ("booklet-a5",), ("desk",))
    body = load_content(project.content_dir, "en").article.body_html
    longer = body.replace("</p>", " " + "More words to set. " * 30 + "</p>", 1)
    build(setup, leeds, tmp_path / "fits", tmp_path / "before", targets=booklets)
    warm = build(setup, leeds, tmp_path / "fits", tmp_path / "warm", body=longer,
                 targets=booklets)
    build(setup, leeds, tmp_path / "fresh", tmp_path / "cold", body=longer, targets=booklets)
    same_files(tmp_path / "warm", tmp_path / "cold", [booklets[0].file])
    assert warm[booklets[0].file] >= 2


def test_a_flow_names_the_body_fits_range(setup):
    """A body fit's range is in layout.toml, not in the style sheets: raising it must
    not leave the size found for the old range standing."""
    from pamphleteer.content import load_content
    from pamphleteer.layouts import BodyFit
    from pamphleteer.targets import plan
    from pamphleteer.typeset import Typesetter, geometry

    project, renderer, _, _, _, _ = setup
    [target] = plan(project, ("booklet-a5",), ("desk",))
    spec = target.layout.body_fit
    wider = dataclasses.replace(target, layout=dataclasses.replace(
        target.layout, body_fit=BodyFit(spec.min_pt, spec.max_pt + 1, spec.pointer)))
    content = load_content(project.content_dir, "en")

    def flow(t):
        typesetter = Typesetter(renderer, t, content, geometry(t, project), object())
        return typesetter.flow(typesetter.shape())

    assert flow(target) != flow(wider)


def test_an_edit_to_the_body_goes_straight_to_the_body_fit(setup, tmp_path):
    from pamphleteer.content import load_content

    project, _, _, _, leeds, _ = setup
    body = load_content(project.content_dir, "en").article.body_html
    edited = body.replace("<p>", "<p>Edited: ", 1)
    assert edited != body
    before = build(setup, leeds, tmp_path / "fits", tmp_path / "before")
    warm = build(setup, leeds, tmp_path / "fits", tmp_path / "warm", body=edited)
    build(setup, leeds, tmp_path / "fresh", tmp_path / "cold", body=edited)
    leaflets = ["leaflet-a4-press.pdf", "leaflet-a4-desk.pdf"]
    same_files(tmp_path / "warm", tmp_path / "cold", leaflets)
    # No sketch: the body fit's layouts alone, its hint confirmed (one layout at the
    # largest size), where the first build took a sketch, probes and the fit.
    assert [warm[f] for f in leaflets] == [1, 1]
    assert before["leaflet-a4-press.pdf"] > 2


def test_boxes_that_came_out_otherwise_are_found_again_from_the_sketch(setup, tmp_path):
    """A wrong guess costs a layout, never a byte. Here last time's boxes are tampered
    with (the first text's box 40 px narrower), and the cache given a fit for that box,
    so that the guess is taken, laid out, and seen to be wrong."""
    from pamphleteer import copyfit
    from pamphleteer.content import load_content
    from pamphleteer.fitcache import FitCache
    from pamphleteer.typeset import Typesetter, geometry

    project, renderer, _, targets, leeds, york = setup
    build(setup, leeds, tmp_path / "fits", tmp_path / "leeds")
    build(setup, york, tmp_path / "fits", tmp_path / "york")  # York's fits, cached
    [desk] = [t for t in targets if t.file == "poster-a3-desk.pdf"]
    content = dataclasses.replace(load_content(project.content_dir, "en"), edition=york)
    cache = FitCache(tmp_path / "fits", project.fonts_dir)
    typesetter = Typesetter(renderer, desk, content, geometry(desk, project), cache)
    shape = typesetter.shape()
    known = cache.boxes(shape)
    assert known and known["fits"], "the first edition kept its desk copy's boxes"
    ident, box = next(iter(known["fits"].items()))
    name, html = typesetter.fit_elements[ident]
    box["area"] = [box["area"][0] - 40, box["area"][1]]
    cache.remember_boxes(shape, known)
    wrong = copyfit.FitTarget(ident, html, *box["area"], desk.layout.fits[name], ident)
    cache.put(cache.keys(box["style"], wrong), copyfit.Fitted(ident, 30.0, 100.0, 1))
    warm = build(setup, york, tmp_path / "fits", tmp_path / "warm")
    build(setup, york, tmp_path / "fresh", tmp_path / "cold")
    same_files(tmp_path / "warm", tmp_path / "cold", [desk.file])
    assert warm[desk.file] == 3  # the guess, then the sketch and the final layout
    assert cache.boxes(shape)["fits"][ident]["area"] != box["area"], "the guess is put right"


def test_a_foot_taller_than_last_time_is_measured_not_guessed(setup, tmp_path):
    """The poster's slogans take the height its byline's foot leaves them (print.css,
    .column), and last time's height of the foot is a guess like the boxes. A
    collective's name for the author makes a taller foot in a document of the same
    shape: the guess is seen to be wrong, and the bytes are those of a build from
    scratch."""
    _, _, _, targets, leeds, _ = setup
    posters = [t for t in targets if t.name == "poster-a3"]
    collective = ("Coordinadora de Comités de Solidaridad con el Pueblo Sirio de América "
                  "Latina y el Caribe")
    build(setup, leeds, tmp_path / "fits", tmp_path / "before", targets=posters)
    build(setup, leeds, tmp_path / "fits", tmp_path / "warm", targets=posters,
          author=collective)
    build(setup, leeds, tmp_path / "fresh", tmp_path / "cold", targets=posters,
          author=collective)
    same_files(tmp_path / "warm", tmp_path / "cold", [t.file for t in posters])


def test_a_foot_that_changes_once_the_texts_are_fitted_stops_the_build(setup, monkeypatch):
    """The fitted texts' boxes are measured with the feet as they are in the sketch: a
    foot that then comes out otherwise (a fitted text in it, in a box sized by its
    words) would leave the texts above it fitted to the wrong room. The build says
    which column, rather than print it."""
    from pamphleteer import typeset
    from pamphleteer.content import load_content
    from pamphleteer.errors import RenderError

    project, renderer, _, targets, leeds, _ = setup
    [poster] = [t for t in targets if t.file == "poster-a3-press.pdf"]
    content = dataclasses.replace(load_content(project.content_dir, "en"), edition=leeds)
    heights = iter([10.0, 20.0])  # the sketch's, then the final layout's
    monkeypatch.setattr(typeset, "_feet", lambda document: {"main-column": next(heights)})
    typesetter = typeset.Typesetter(renderer, poster, content,
                                    typeset.geometry(poster, project))
    with pytest.raises(RenderError, match=r"poster-a3-press\.pdf: the foot of #main-column "
                       r"is 20\.0 px tall once the texts are fitted, but 10\.0 px"):
        typesetter.typeset()


def test_a_shape_is_the_markup_without_its_words(setup):
    from pamphleteer.typeset import _skeleton

    renderer = setup[1]

    def shape(html: str) -> str:
        return _skeleton(renderer.parse(html))

    a = '<p class="group" id="g" lang="es">Leeds</p><a href="https://a.example/x">here</a>'
    b = '<p class="group" id="g" lang="es">York Syria</p><a href="https://b.example/y">there</a>'
    assert shape(a) == shape(b)
    assert shape(a) != shape(a.replace('class="group"', 'class="place"'))
    assert shape(a) != shape(a.replace(">Leeds<", "><"))  # :empty can tell
    assert shape(a) != shape(a.replace("https:", "mailto:"))  # a[href^=mailto] can tell
    assert shape(a) != shape(a.replace("</p><a", "<a").replace("</a>", "</a></p>"))  # nesting
    # A raw ">" inside an attribute hides nothing after it.
    c = '<p title="a>b" class="x">Leeds</p>'
    assert shape(c) != shape(c.replace('class="x"', 'class="y"'))
    assert shape(c) == shape(c.replace('"a>b"', '"c>d"'))
