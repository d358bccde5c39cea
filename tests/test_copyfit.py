"""Copyfit: the largest size that fits, never an overflow, a clear error when nothing fits.

Unit tests use a model of typesetting (words of fixed em widths, greedy line breaking, height
= lines × line height: a step function of the size) and compare with a brute-force search.
Tests with the real renderer fit the real placard and check the result against a re-layout
one rung (1 %) larger, and that a fit guessed from the page's first layout is the fit found
with no guess at all.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from helpers import ROOT, classed, laid_out, text_extent, write_content
from pamphleteer import copyfit
from pamphleteer.copyfit import FitSpec, FitTarget, Probe
from pamphleteer.errors import RenderError
from pamphleteer.units import PX_PER_MM

PX_PER_PT = 96 / 72
SLACK_PX = 0.5  # what counts as fitting: sub-pixel excess is not an overflow
CLOSE = copyfit.STEP  # the fitted size is within a rung (1 %) of the largest that fits


class Model:
    """Text as words of given widths (in em), set at ``size`` in a box ``width`` px wide."""

    def __init__(self, words: list[float], line_height: float = 1.2, space: float = 0.25):
        self.words, self.line_height, self.space = words, line_height, space

    def metrics(self, size_pt: float, width: float) -> copyfit.Metrics:
        em = size_pt * PX_PER_PT
        widths, current = [], 0.0
        for i, w in enumerate(self.words):
            w *= em
            if i and current + self.space * em + w > width:
                widths, current = widths + [current], w
            else:
                current += (self.space * em if i else 0) + w
        widths.append(current)
        height = len(widths) * self.line_height * em
        return copyfit.Metrics(height, len(widths), max(widths), max(widths), sum(widths), height)

    def fits(self, size_pt: float, width: float, height: float) -> bool:
        h, _, w, *_ = self.metrics(size_pt, width)
        return h <= height + SLACK_PX and w <= width + SLACK_PX

    def largest(self, spec: FitSpec, width: float, height: float) -> float | None:
        """Brute force: the largest size in [min, max] that fits, to 0.05 %."""
        if not self.fits(spec.min_pt, width, height):
            return None
        size = spec.max_pt
        while not self.fits(size, width, height):
            size /= 1.0005
        return max(size, spec.min_pt)


class Measurer:
    """A copyfit ``Measure`` over several models; counts the passes."""

    def __init__(self, models: dict[str, Model]):
        self.models, self.calls, self.probes = models, 0, 0

    def __call__(self, probes: list[Probe]) -> dict[str, copyfit.Metrics]:
        self.calls += 1
        self.probes += len(probes)
        return {p.id: self.models[p.target.id].metrics(p.size_pt, p.width) for p in probes}


def target(ident: str, width: float, height: float, spec: FitSpec) -> FitTarget:
    return FitTarget(ident, f'<p id="{ident}">…</p>', width, height, spec, f"text {ident}")


words = st.lists(st.floats(0.3, 4.0), min_size=1, max_size=14)
boxes = st.tuples(st.floats(60, 1500), st.floats(20, 1500))
specs = st.tuples(st.floats(4, 40), st.floats(1.0, 40)).map(
    lambda t: FitSpec("slogan", t[0], t[0] * t[1], balance=False))


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(st.tuples(words, boxes, specs, st.floats(1.0, 1.5)), min_size=1,
                      max_size=4))
def test_fit_is_within_a_rung_of_the_largest_and_never_overflows(texts):
    models, targets, best = {}, [], {}
    for n, (ws, (width, height), spec, line_height) in enumerate(texts):
        ident = f"t{n}"
        models[ident] = Model(ws, line_height)
        targets.append(target(ident, width, height, spec))
        best[ident] = models[ident].largest(spec, width, height)
    assume(all(b is not None for b in best.values()))
    fitted = copyfit.fit(targets, Measurer(models), "test.pdf")
    assert set(fitted) == set(best)
    for t in targets:
        f, model = fitted[t.id], models[t.id]
        assert t.spec.min_pt - 1e-9 <= f.size_pt <= t.spec.max_pt + 1e-9
        assert f.width <= t.width + 1e-9
        assert model.fits(f.size_pt, f.width, t.height), "the fitted size overflows"
        assert f.size_pt * CLOSE >= best[t.id], (
            f"fitted {f.size_pt:.2f} pt, but {best[t.id]:.2f} pt fits")


@st.composite
def too_big(draw):
    """A text and a box it cannot fit at min_pt: too narrow for its widest word, or too low
    for one line."""
    ws, spec = draw(words), draw(specs)
    model = Model(ws)
    em = spec.min_pt * PX_PER_PT
    shrink = draw(st.floats(0.2, 0.95))
    if draw(st.booleans()):
        box = (max(ws) * em * shrink - SLACK_PX - 0.01, draw(st.floats(20, 1500)))
    else:
        box = (draw(st.floats(60, 1500)), model.line_height * em * shrink - SLACK_PX - 0.01)
    return ws, box, spec


@settings(max_examples=100, deadline=None)
@given(case=too_big())
def test_text_that_cannot_fit_raises_a_helpful_error(case):
    ws, box, spec = case
    model = Model(ws)
    assert model.largest(spec, *box) is None
    with pytest.raises(RenderError) as e:
        copyfit.fit([target("t0", *box, spec)], Measurer({"t0": model}), "placard-a3.pdf")
    message = e.value.format_message()
    assert message.startswith("placard-a3.pdf: ")
    assert "'text t0'" in message  # the text itself
    assert f"{spec.min_pt:g} pt" in message
    assert "[fit.slogan]" in message


def test_a_long_word_overflowing_sideways_does_not_fit():
    spec = FitSpec("slogan", 40, 520)
    model = Model([200 * 0.45])  # one 200-letter word
    with pytest.raises(RenderError, match="does not fit its box even at the minimum 40 pt"):
        copyfit.fit([target("w", 1466, 967, spec)], Measurer({"w": model}), "p.pdf")


def test_balancing_narrows_without_adding_lines():
    spec = FitSpec("slogan", 10, 200, balance=True)
    model = Model([1.0] * 7)  # seven equal words
    t = target("b", 1000, 400, spec)
    [(_, f)] = copyfit.fit([t], Measurer({"b": model}), "p.pdf").items()
    lines = model.metrics(f.size_pt, t.width).lines
    assert f.lines == lines > 1
    assert f.width < t.width
    assert model.metrics(f.size_pt, f.width).lines == lines
    assert model.fits(f.size_pt, f.width, t.height)


def test_passes_do_not_grow_with_the_number_of_texts():
    """Texts fitted together take as many passes as the slowest of them alone."""
    spec = FitSpec("slogan", 8, 300, balance=True)
    models = {f"t{i}": Model([0.4 + 0.1 * (i % 7)] * (1 + i % 9)) for i in range(30)}
    targets = [target(i, 500 + 10 * n, 200 + 7 * n, spec) for n, i in enumerate(models)]
    alone = []
    for t in targets:
        measure = Measurer(models)
        copyfit.fit([t], measure, "p.pdf")
        alone.append(measure.calls)
    measure = Measurer(models)
    copyfit.fit(targets, measure, "p.pdf")
    assert measure.calls == max(alone)


def _highest_rung(model: Model, t: FitTarget) -> float:
    """Brute force over the ladder: the highest rung at which the text fits."""
    high = max(t.spec.min_pt, min(t.spec.max_pt, 2 * t.height / PX_PER_PT))
    rungs = copyfit._rungs(t.spec.min_pt, high)
    return max(r for r in rungs if model.fits(r, t.width, t.height))


@settings(max_examples=150, deadline=None)
@given(ws=words, box=boxes, spec=specs, line_height=st.floats(1.0, 1.5),
       seed=st.one_of(st.none(), st.floats(0.05, 20)))
def test_a_fit_is_the_same_however_it_was_guessed(ws, box, spec, line_height, seed):
    """The answer is the highest rung of the ladder that fits, found from no guess, from
    a first layout at any size (a seed, as the page gives one), or from a wrong one."""
    model = Model(ws, line_height)
    t = target("t", *box, spec)
    assume(model.fits(spec.min_pt, *box))
    if seed is not None:
        size = spec.min_pt * seed
        t = dataclasses.replace(t, seed=(size, model.metrics(size, t.width)))
    [(_, f)] = copyfit.fit([t], Measurer({"t": model}), "p.pdf").items()
    assert f.size_pt == _highest_rung(model, t)


@settings(max_examples=150, deadline=None)
@given(ws=words, box=boxes, spec=specs, line_height=st.floats(1.0, 1.5),
       last=st.tuples(st.floats(0.05, 20), st.integers(0, len(copyfit.BALANCE_WIDTHS))))
def test_a_fit_is_the_same_whatever_the_box_held_last(ws, box, spec, line_height, last):
    """New words in a box start from the size and width of the box's last text, which
    may be anything: the answer, balanced width included, is the one found from no
    guess, and by brute force the highest rung that fits and the narrowest width that
    keeps its lines."""
    model = Model(ws, line_height)
    t = target("t", *box, dataclasses.replace(spec, balance=True))
    assume(model.fits(spec.min_pt, *box))
    factor, rung = last
    widths = [t.width] + [t.width * f for f in copyfit.BALANCE_WIDTHS]
    guessed = dataclasses.replace(t, last=(spec.min_pt * factor, widths[rung]))
    [(_, f)] = copyfit.fit([guessed], Measurer({"t": model}), "p.pdf").items()
    assert f == copyfit.fit([t], Measurer({"t": model}), "p.pdf")["t"]
    assert f.size_pt == _highest_rung(model, t)
    lines = model.metrics(f.size_pt, t.width).lines
    if lines > 1:  # balanced: the ladder's widths narrow while lines stay and all fit
        kept = [w for w in widths if model.metrics(f.size_pt, w).lines == lines
                and model.fits(f.size_pt, w, t.height)]
        assert f.width == min(kept)


def test_a_good_guess_takes_a_few_probes():
    """A one-line slogan on a placard, guessed from its first layout: the guess and the
    rung above it settle it."""
    spec = FitSpec("slogan", 20, 400, balance=True)
    model = Model([1.9, 1.2, 2.7])
    t = target("s", 1383, 918, spec)
    t = dataclasses.replace(t, seed=(40.0, model.metrics(40.0, t.width)))
    measure = Measurer({"s": model})
    [(_, f)] = copyfit.fit([t], measure, "p.pdf").items()
    assert f.size_pt == _highest_rung(model, t)
    assert measure.probes <= 4, measure.probes


class Full(Measurer):
    """Reports each text a little taller than the model sets it, within what counts as
    fitting: as the renderer does, a text that fills its box points a hair below."""

    def __call__(self, probes: list[Probe]) -> dict[str, copyfit.Metrics]:
        return {i: m._replace(height=m.height + 0.4) for i, m in super().__call__(probes).items()}


@pytest.mark.parametrize("measurer", [Measurer, Full])
def test_new_words_in_a_known_box_take_a_few_probes(measurer):
    """A text with no layout to guess from (an edition's group, in the box the page had
    last time) is laid out at the minimum; that layout's guess and the rung above it
    settle it, and a guess that falls below a rung seen to fit tries the rung above.
    Starting from the size of the box's last text, a text as long settles in one pass."""
    spec = FitSpec("group", 12, 80, balance=True)
    model = Model([1.9, 1.2, 2.7])  # one line at every size this box holds
    t = target("g", 540, 84, spec)
    measure = measurer({"g": model})
    [(_, f)] = copyfit.fit([t], measure, "p.pdf").items()
    assert f.size_pt == _highest_rung(model, t)
    assert measure.calls <= 3 and measure.probes <= 5, (measure.calls, measure.probes)
    again = measurer({"g": Model([1.8, 1.3, 2.7])})  # other words, as long
    [(_, g)] = copyfit.fit([dataclasses.replace(t, last=(f.size_pt, f.width))], again,
                           "p.pdf").items()
    assert g == f and again.calls == 1, again.calls


def test_no_targets_no_passes():
    measure = Measurer({})
    assert copyfit.fit([], measure, "p.pdf") == {}
    assert measure.calls == 0


def test_css_never_rounds_towards_overflow():
    css = copyfit.css({"s": copyfit.Fitted("s", 123.456789, 1000.04, 2)})
    size = float(re.search(r"font-size: ([\d.]+)pt", css).group(1))
    width = float(re.search(r"max-width: ([\d.]+)px", css).group(1))
    assert 123.44 <= size <= 123.456789
    assert 1000.04 <= width <= 1000.15
    assert css.startswith("#s {")


# --- the real thing -------------------------------------------------------------------------


FIT_RULE = re.compile(r"#([\w-]+) \{ font-size: ([\d.]+)pt; max-width: ([\d.]+)px; \}")


@pytest.fixture(scope="module")
def placard():
    """The placard-a3-landscape desk target, typeset with the real renderer."""
    from pamphleteer import render
    from pamphleteer.config import load_project
    from pamphleteer.content import load_content
    from pamphleteer.targets import plan
    from pamphleteer.typeset import Typesetter, geometry

    project = load_project(ROOT)
    [t] = plan(project, ("placard-a3-landscape",), ("desk",))
    content = load_content(project.content_dir)
    renderer = render.Renderer(project.fonts_dir)
    typesetter = Typesetter(renderer, t, content, geometry(t, project))
    document = typesetter.layout()
    fit_css = typesetter.fit_css(document)
    return typesetter, fit_css, t.layout.fits["slogan"]


def _overflows(typesetter, css: str) -> dict[str, tuple[float, float, float, float]]:
    """Lay out with ``css``; per fitted element: (height, box height, width, box width)."""
    from pamphleteer import render

    document = typesetter.layout(css)
    found = render.boxes(document, "data-fit")
    return {i: (b.height, found[i + "@box"].height, b.text_width, found[i + "@box"].width)
            for i, b in found.items() if not i.endswith("@box")}


def test_placard_slogans_fill_their_box(placard):
    typesetter, fit_css, spec = placard
    sizes = {m[0]: float(m[1]) for m in FIT_RULE.findall(fit_css)}
    slogans = len(typesetter.content.slogans)
    assert len(sizes) == slogans, fit_css

    fitted = _overflows(typesetter, fit_css)
    for ident, (h, box_h, w, box_w) in fitted.items():
        assert h <= box_h + 1 and w <= box_w + 1, f"{ident} overflows at {sizes[ident]} pt"

    bigger = fit_css + "\n" + "\n".join(
        f"#{i} {{ font-size: {min(s * CLOSE * 1.0005, spec.max_pt):.2f}pt !important; "
        "max-width: none !important; }" for i, s in sizes.items())
    grown = _overflows(typesetter, bigger)
    roomy = [i for i, (h, box_h, w, box_w) in grown.items()
             if sizes[i] * CLOSE <= spec.max_pt and h <= box_h + 0.5 and w <= box_w + 0.5]
    assert not roomy, f"still fit a rung larger, so the fit left room: {roomy} ({sizes})"


@pytest.mark.parametrize("name", ["placard-a3-landscape", "flyer-a6", "booklet-a5"])
def test_a_fit_guessed_from_the_first_layout_is_the_fit_found_from_scratch(name, monkeypatch):
    """The guess from the sketch only decides which sizes are laid out: without it (a
    coarse ladder from the minimum), the same sizes and widths come out."""
    from pamphleteer import render
    from pamphleteer.config import load_project
    from pamphleteer.content import load_content
    from pamphleteer.targets import plan
    from pamphleteer.typeset import Typesetter, geometry

    project = load_project(ROOT)
    [t] = plan(project, (name,), ("desk",))
    typesetter = Typesetter(render.Renderer(project.fonts_dir), t,
                            load_content(project.content_dir), geometry(t, project))
    sketch = typesetter.layout()
    guessed = typesetter.fit_css(sketch)
    fit = copyfit.fit
    monkeypatch.setattr(copyfit, "fit", lambda targets, measure, where: fit(
        [dataclasses.replace(t, seed=None) for t in targets], measure, where))
    assert FIT_RULE.findall(guessed)
    assert typesetter.fit_css(sketch) == guessed


@pytest.mark.parametrize("name", ["poster-a3", "flyer-a6", "placard-a3-landscape",
                                  "leaflet-a4", "booklet-a5", "zine-a7"])
def test_every_variant_sets_a_fitted_text_alike(name):
    """Fitted boxes are placed from the trim, clear of the desk's edge, in every variant:
    the press, desk and screen copies of a text (an edition's panel included) have the
    same box and style, what the fit cache's key holds besides the text, so they are
    measured once and set alike."""
    import dataclasses

    from pamphleteer import render
    from pamphleteer.config import load_project
    from pamphleteer.content import languages, load_content
    from pamphleteer.editions import load_editions
    from pamphleteer.targets import plan
    from pamphleteer.typeset import Typesetter, geometry

    project = load_project(ROOT)
    folder = project.content_dir
    edition = load_editions(folder, languages(folder))[0]
    content = dataclasses.replace(load_content(folder), edition=edition)
    renderer = render.Renderer(project.fonts_dir)
    keys = {}
    for variant in ("press", "desk", "screen"):
        [target] = plan(project, (name,), (variant,))
        found = render.boxes(Typesetter(renderer, target, content,
                                        geometry(target, project)).layout(), "data-fit")
        keys[variant] = {
            ident: (round(found[ident + "@box"].width, 2), round(found[ident + "@box"].height, 2),
                    hashlib.sha256(render.style_signature(box).encode()).hexdigest())
            for ident, box in found.items() if not ident.endswith("@box")}
    assert keys["press"], "no fitted text found"
    assert keys["press"] == keys["desk"] == keys["screen"]


@pytest.mark.parametrize("name", ["placard-a3-landscape", "leaflet-a4"])
def test_new_words_fitted_in_known_boxes_are_the_fit_from_a_sketch(name, tmp_path, monkeypatch):
    """After an edit to a slogan, a document of a shape typeset before goes without its
    sketch: the edited slogan is fitted in the box known from last time. Its final HTML,
    fits included, is the one a cold cache gives."""
    import shutil

    from pamphleteer import render
    from pamphleteer.config import load_project
    from pamphleteer.content import load_content
    from pamphleteer.fitcache import FitCache
    from pamphleteer.targets import plan
    from pamphleteer.typeset import Typesetter, geometry

    project = load_project(ROOT)
    [t] = plan(project, (name,), ("press",))
    renderer = render.Renderer(project.fonts_dir)
    folder = shutil.copytree(project.content_dir, tmp_path / "content")

    def typeset(cache: str) -> str:
        fits = FitCache(tmp_path / cache, project.fonts_dir)
        typesetter = Typesetter(renderer, t, load_content(folder), geometry(t, project), fits)
        return typesetter.typeset()[0]

    typeset("warm")
    slogans = folder / "slogans.md"
    edited = slogans.read_text("utf-8").replace("No to ISIS!", "No to ISIS, nor to any who bomb!")
    assert edited != slogans.read_text("utf-8")
    slogans.write_text(edited, "utf-8")
    cold = typeset("cold")
    assert "nor to any who bomb" in cold

    def no_sketch(self, document):
        raise AssertionError("the sketch was laid out")

    monkeypatch.setattr(Typesetter, "fit_css", no_sketch)
    assert typeset("warm") == cold


def test_a_flyer_without_a_standfirst_sets_its_slogans_large_in_the_middle(tmp_path):
    """A short article (no standfirst) must not leave the flyer's middle empty: its
    slogans take the standfirst's room, are fitted to it, and stand in its middle."""
    from pamphleteer import render
    from pamphleteer.config import load_project
    from pamphleteer.content import load_content
    from pamphleteer.targets import plan
    from pamphleteer.typeset import Typesetter, geometry

    project = load_project(ROOT)
    [target] = plan(project, ("flyer-a5",), ("desk",))
    renderer = render.Renderer(project.fonts_dir)
    laid = {}
    for standfirst in ("A standfirst of a few words.", None):
        front = {"title": "Stop", **({"standfirst": standfirst} if standfirst else {})}
        folder = write_content(tmp_path / str(bool(standfirst)), front, "Stop it.\n", ["Now!"])
        _, document = Typesetter(renderer, target, load_content(folder),
                                 geometry(target, project)).typeset()
        found = render.boxes(document, "data-fit")
        laid[bool(standfirst)] = found["slogans"], found["slogans@box"]
    (with_first, _), (alone, area) = laid[True], laid[False]
    assert alone.font_pt > 1.4 * with_first.font_pt
    middle = alone.y + alone.height / 2 - (area.y + area.height / 2)
    assert abs(middle) < 1, f"the slogans stand {middle:.1f} px off their area's middle"


LONG_AUTHOR = ("María de los Ángeles Fernández-Castillo, Juan Pablo Rodríguez-Salazar and "
               "the Colectivo de Solidaridad Internacionalista de Buenos Aires")
LONG_SOURCE = ("First published in the newspaper of the international workers' movement, "
               "issue 1234, page 5, and in its Spanish edition the week after; translated "
               "by the collective's volunteers in Buenos Aires, Madrid and Montevideo, and "
               "read aloud at the assembly of the fourteenth of August.")


@pytest.mark.parametrize("name", ["poster-a3", "flyer-a5", "flyer-a6", "zine-a7",
                                  "booklet-a5"])
def test_a_long_byline_pushes_the_slogans_up_rather_than_under_its_rule(tmp_path, name):
    """A byline (or, on the booklet's back, a source line) of three lines or more makes
    the foot taller: the slogans are fitted into what is left, their text clear of the
    foot's rule, and the byline stays on the page (the flyer's fixed foot ran it into
    the margin, and the build failed)."""
    from pamphleteer import render
    from pamphleteer.config import load_project
    from pamphleteer.content import load_content
    from pamphleteer.targets import plan
    from pamphleteer.typeset import Typesetter, geometry

    project = load_project(ROOT)
    [target] = plan(project, (name,), ("desk",))
    page_geometry = geometry(target, project)
    folder = write_content(tmp_path / "content", {
        "title": "Stop the bombing", "standfirst": "A short standfirst.",
        "author": LONG_AUTHOR, "source": LONG_SOURCE}, slogans=[line[2:] for line in (
            ROOT / "content" / "aleppo" / "slogans.md").read_text().splitlines() if line])
    _, document = Typesetter(render.Renderer(project.fonts_dir), target,
                             load_content(folder), page_geometry).typeset()
    page = document.pages[-1]  # the zine's slogans and byline are on its back
    foot = laid_out(page, lambda element: element.tag == "footer"
                    or classed("back-foot")(element) or classed("back-source")(element))[0]
    [slogans] = laid_out(page, lambda element: element.get("id") == "slogans"
                         and element.tag == "ul")
    bottom = text_extent(slogans)[3]
    assert bottom <= foot.border_box_y(), (
        f"the slogans reach {bottom - foot.border_box_y():.1f} px past the foot's rule")
    safe = (page_geometry["page_h"] - page_geometry["safe"]) * PX_PER_MM
    assert text_extent(foot)[3] <= safe, "the byline runs into the safe margin"
