"""The body fit's hint: the size chosen last time is laid out first, and only a layout
that confirms it is believed. Right or wrong, the page set is the one a search from
scratch gives; right, it costs two layouts instead of a whole bisection."""

from __future__ import annotations

import re

import pytest

from helpers import ROOT

BODY_SIZE = re.compile(r"--body-size: ([\d.]+)pt")


@pytest.fixture(scope="module")
def setup():
    from pamphleteer import render
    from pamphleteer.config import load_project
    from pamphleteer.content import load_content

    project = load_project(ROOT)
    return project, load_content(project.content_dir), render.Renderer(project.fonts_dir)


class Hints:
    """A fit cache that holds one body size as its hint, and no fits."""

    def __init__(self, hint: float | None):
        self.hint = hint
        self.remembered: list[float] = []

    def keys(self, *_):
        return "", ""

    def get(self, *_):
        return None

    def last_fit(self, *_):
        return None

    def put(self, *_):
        pass

    def body_hint(self, _name):
        return self.hint

    def remember_body(self, _name, size):
        self.remembered.append(size)

    def body_fitted(self, _flow):
        return None

    def body_twins(self, _name):
        return {}

    def remember_body_twin(self, *_):
        pass

    def remember_body_fitted(self, *_):
        pass

    def boxes(self, _name):
        return None

    def remember_boxes(self, *_):
        pass


def typeset(setup, name: str, cache, variant: str = "desk") -> tuple[str, int]:
    """The final HTML of ``name``'s variant, and how many layouts its body fit took."""
    from pamphleteer.targets import plan
    from pamphleteer.typeset import Typesetter, geometry

    project, content, renderer = setup
    [target] = plan(project, (name,), (variant,))
    typesetter = Typesetter(renderer, target, content, geometry(target, project), cache)
    layouts = []
    layout = typesetter.layout

    def counted(css="", **options):
        layouts.append(css)
        return layout(css, **options)

    typesetter.layout = counted
    html, _ = typesetter.typeset()
    return html, sum("--body-size" in css for css in layouts)


@pytest.mark.parametrize("name", ["booklet-a5", "leaflet-a4", "zine-a7"])
def test_any_hint_gives_what_a_search_from_scratch_gives(setup, name):
    from pamphleteer.targets import plan

    scratch, searched = typeset(setup, name, None)
    size = float(BODY_SIZE.findall(scratch)[-1])
    [target] = plan(setup[0], (name,), ("desk",))
    spec = target.layout.body_fit
    for hint in (size, spec.min_pt, spec.max_pt, round(size + 0.05, 2), round(size - 0.3, 2)):
        cache = Hints(hint)
        html, layouts = typeset(setup, name, cache)
        assert html == scratch, f"hint {hint}"
        assert cache.remembered == [size]
        if hint == size:  # confirmed by itself and the next size the search would try
            booklet = target.layout.page_rule == "multiple-of-4"  # and the budget's layout
            assert layouts <= min(searched, 2 + booklet)
    if name == "zine-a7":  # its text ends between the sizes: a real search
        assert searched >= 5


def test_a_hint_from_another_variant_serves_this_one(setup):
    """The press file's body size, confirmed, sets the desk file as its own search does."""
    press = Hints(None)
    typeset(setup, "zine-a7", press, "press")
    scratch, _ = typeset(setup, "zine-a7", None, "desk")
    hinted, layouts = typeset(setup, "zine-a7", Hints(press.remembered[0]), "desk")
    assert hinted == scratch and layouts <= 2
