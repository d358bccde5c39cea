"""Arbitrary text in, and the build either works or says what is wrong: never a traceback."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from helpers import error_lines, run

# Mostly text the bundled fonts can set (Latin, Greek, Cyrillic) laced with Markdown and HTML
# syntax, so that most examples get as far as typesetting; now and then a text from anywhere
# in Unicode (controls, emoji, other scripts, unassigned code points).
covered = st.characters(min_codepoint=0x20, max_codepoint=0x4FF,
                        categories=("L", "M", "N", "P", "S", "Zs"))
markup = st.sampled_from(list("<>&*_`#[]()!{}:\"'\\-|~=/;.\n") + ["<!--", "-->", "&amp;",
                                                                  "**", "---", "1. ", "> "])
nice = st.lists(st.one_of(covered, covered, covered, markup), max_size=30).map("".join)
wild = st.text(st.characters(codec="utf-8"), max_size=30)
text = st.one_of(*[nice] * 9, wild)


def _front(values: dict[str, str], quoting: str) -> str:
    if quoting == "yaml":
        return yaml.safe_dump(values, allow_unicode=True)
    if quoting == "json":  # JSON strings are YAML too
        return "".join(f"{k}: {json.dumps(v)}\n" for k, v in values.items())
    return "".join(f"{k}: {v}\n" for k, v in values.items())  # raw, as a person types


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    slogans=st.lists(text, min_size=1, max_size=3),
    title=text.filter(str.strip), headline=text, author=text,
    quoting=st.sampled_from(["yaml", "yaml", "json", "raw"]),
)
@example(slogans=["1968. Year of revolt", "#FreeSyria"], title="T", headline="", author="",
         quoting="yaml")
@example(slogans=["<!--"], title="<b>x", headline="]]>", author="&amp;", quoting="json")
def test_any_text_builds_or_fails_cleanly(project_dir: Path, slogans, title, headline,
                                          author, quoting):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "content"
        folder.mkdir()
        front = _front({"title": title, "headline": headline, "author": author}, quoting)
        (folder / "article.md").write_text(f"---\n{front}---\nSome text.\n", encoding="utf-8")
        (folder / "slogans.md").write_text("".join(f"- {s}\n" for s in slogans),
                                           encoding="utf-8")
        result = run("build", "--project", project_dir, "--content", folder,
                     "--out", Path(tmp) / "out", "placard-a3-landscape", "--variant", "desk")
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"uncaught {type(result.exception).__name__}: {result.exception}\n{result.output}")
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1, 2), result.output
    lines = error_lines(result)
    if result.exit_code == 0:
        assert not lines, result.output
    else:
        assert len(lines) == 1, f"expected one 'error:' line:\n{result.output}"
