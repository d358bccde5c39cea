"""Cache keys are correct by construction: however a template reads the content, an edit
to what it read changes the output's key, and an edit to what it did not read does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import copy_project, run, write_content
from pamphleteer import inputs
from pamphleteer.config import load_project
from pamphleteer.content import load_content
from pamphleteer.targets import plan

FRONT = {"title": "The title", "author": "An author", "source": "A source",
         "standfirst": "A standfirst."}
SLOGANS = ["First!", "Second!", "Third!", "Fourth!"]

LAYOUT_TOML = """description = "Reads the content one way, to test cache keys"
[sizes.a6]
width_mm = 105
height_mm = 148
"""

#: How a template reads: its body, and an edit to content that this read must see.
ACCESS = {
    "attribute": ("{{ article.author }}", {"author": "Another author"}),
    "item": ("{{ article['source'] }}", {"source": "Another source"}),
    "get": ("{{ article.get('author', '') }}", {"author": "Another author"}),
    "items-loop": ("{% for k, v in article.items() %}{{ v }}{% endfor %}",
                   {"source": "Another source"}),
    "values": ("{{ article.values() | join(' ') }}", {"standfirst": "Other."}),
    "dictsort": ("{% for k, v in article | dictsort %}{{ v }}{% endfor %}",
                 {"author": "Another author"}),
    "whole": ("{{ article }}", {"source": "Another source"}),
    "contains": ("{% if 'author' in article %}{{ article['author'] }}{% endif %}",
                 {"author": "Another author"}),
    "last-slogan": ("{{ (slogans | last).html }}", {"slogans": SLOGANS[:3] + ["Changed!"]}),
    "slogan-map": ("{{ slogans | map(attribute='text') | join(', ') }}",
                   {"slogans": SLOGANS[:1] + ["Changed!"] + SLOGANS[2:]}),
    "slogan-count": ("{{ slogans | length }}", {"slogans": SLOGANS + ["Fifth!"]}),
    "slogan-slice": ("{% for s in slogans[1:2] %}{{ s.text }}{% endfor %}",
                     {"slogans": SLOGANS[:1] + ["Changed!"] + SLOGANS[2:]}),
    "slogan-reversed": ("{% for s in slogans | reverse %}{{ s.html }}{% endfor %}",
                        {"slogans": SLOGANS[:3] + ["Changed!"]}),
    "whole-slogans": ("{{ slogans }}", {"slogans": SLOGANS[:3] + ["Changed!"]}),
}


def _project(tmp: Path, template: str) -> Path:
    project = copy_project(tmp / "proj")
    layout = project / "layouts" / "probe"
    layout.mkdir()
    (layout / "layout.toml").write_text(LAYOUT_TOML)
    (layout / "style.css").write_text("@page { margin: 15mm }\n")
    (layout / "main.html.j2").write_text(
        '{% extends "base.html.j2" %}{% block body %}<p>' + template + "</p>{% endblock %}")
    return project


def _key(project: Path, front: dict, slogans: list[str]) -> str:
    folder = write_content(project / "content" / "probe", front=front, body="The body.\n",
                           slogans=slogans)
    p = load_project(project)
    [target] = plan(p, ("probe-a6",), ("desk",))
    return inputs.input_keys([target], load_content(folder), p)[target.file].key


@pytest.mark.parametrize("case", list(ACCESS), ids=list(ACCESS))
def test_every_access_style_is_a_dependency(tmp_path, case):
    template, edit = ACCESS[case]
    project = _project(tmp_path, template)
    before = _key(project, FRONT, SLOGANS)
    assert _key(project, FRONT, SLOGANS) == before, "the key must be stable"
    slogans = edit.get("slogans", SLOGANS)
    front = {**FRONT, **{k: v for k, v in edit.items() if k != "slogans"}}
    assert _key(project, front, slogans) != before, f"{template} missed the edit"


def test_what_is_not_read_is_not_a_dependency(tmp_path):
    project = _project(tmp_path, "{{ article.title }} {{ slogans[0].html }}")
    before = _key(project, FRONT, SLOGANS)
    assert _key(project, {**FRONT, "source": "Elsewhere"}, SLOGANS[:3] + ["Other"]) == before


def test_an_edit_read_through_get_rebuilds_the_output(tmp_path):
    """End to end: the output is rebuilt, not reported unchanged."""
    project = _project(tmp_path, "{{ article.get('author') }}")
    folder = write_content(project / "content" / "probe", front=FRONT, slogans=SLOGANS)
    args = ("build", "--project", project, "--content", folder, "probe-a6", "--variant",
            "desk", "--jobs", "1", "--out", tmp_path / "out")
    assert run(*args).exit_code == 0
    write_content(folder, front={**FRONT, "author": "Another author"}, slogans=SLOGANS)
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "1 built, 0 unchanged" in result.output
