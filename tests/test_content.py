"""Reading a content folder: front matter, typography, slogans, and the errors on bad input."""

from __future__ import annotations

from html import unescape
from pathlib import Path

import pytest

from helpers import write_content
from pamphleteer.content import load_article, load_content, load_slogans
from pamphleteer.errors import ContentError

NBSP = "\u00a0"


def text_of(html: str) -> str:
    import re

    return unescape(re.sub(r"<[^>]+>", "", html))


def article(tmp_path: Path, front: str, body: str = "Text.\n"):
    return load_article(write_content(tmp_path / "c", front=front, body=body))


# --- typography -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "double", "single"),
    [
        ("en", ("“", "”"), ("‘", "’")),
        ("en-GB", ("“", "”"), ("‘", "’")),
        ("de", ("„", "“"), ("‚", "‘")),
        ("fr", ("«" + NBSP, NBSP + "»"), ("‹" + NBSP, NBSP + "›")),
        ("pt-BR", ("«", "»"), ("“", "”")),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_smart_quotes_follow_the_language(tmp_path, lang, double, single):
    a = article(tmp_path, f"title: T\nlang: {lang}\n", 'He said "stop" and \'wait\'.\n')
    text = text_of(a.body_html)
    assert f"{double[0]}stop{double[1]}" in text
    assert f"{single[0]}wait{single[1]}" in text
    assert '"' not in text and "'" not in text
    assert a.lang == lang


def test_dashes_ellipsis_apostrophes(tmp_path):
    a = article(tmp_path, "title: T\n", "From 1 -- 2, then --- a pause... It's Assad's.\n")
    text = text_of(a.body_html)
    assert "1 – 2" in text
    assert "— a pause" in text
    assert "…" in text
    assert "It’s Assad’s." in text


def test_front_matter_fields_get_typography_too(tmp_path):
    a = article(tmp_path, "title: 'He said \"stop\" -- now'\nauthor: O'Brien\n")
    assert text_of(a.title) == "He said “stop” – now"
    assert text_of(a.author) == "O’Brien"


def test_words_are_kept_as_written(tmp_path):
    body = "Tons of bombs (300,000 people); the *major* US daily.\n\nSecond paragraph.\n"
    a = article(tmp_path, "title: T\n", body)
    assert "<em>major</em>" in a.body_html
    assert a.body_html.count("<p>") == 2
    assert "Tons of bombs (300,000 people); the major US daily." in text_of(a.body_html)


def test_front_matter_values(tmp_path):
    a = article(tmp_path, "title: T\nheadline: H\nstandfirst: S\nauthor: A\nsource: Src\n"
                          "date: 2016-08-20\n")
    assert (a.title, a.headline, a.standfirst, a.author, a.source) == ("T", "H", "S", "A", "Src")
    assert a.date == "2016-08-20"
    assert a.lang == "en"


def test_crlf_line_endings(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "article.md").write_bytes(b"---\r\ntitle: T\r\n---\r\nOne.\r\n\r\nTwo.\r\n")
    (folder / "slogans.md").write_bytes(b"- A\r\n- B\r\n")
    content = load_content(folder)
    assert content.article.title == "T"
    assert content.article.body_html.count("<p>") == 2
    assert [s.text for s in content.slogans] == ["A", "B"]


@pytest.mark.parametrize("which", ["article", "slogans"])
def test_utf8_byte_order_mark_is_accepted(tmp_path, which):
    """Editors on Windows often save UTF-8 with a BOM; the file still starts with '---'."""
    folder = write_content(tmp_path / "c", front="title: T\n", slogans=["A", "B"])
    path = folder / ("article.md" if which == "article" else "slogans.md")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    content = load_content(folder)
    assert content.article.title == "T"
    assert [s.text for s in content.slogans] == ["A", "B"]


# --- front-matter errors --------------------------------------------------------------------


def test_unknown_key_names_key_line_and_allowed(tmp_path):
    with pytest.raises(ContentError) as e:
        article(tmp_path, "title: T\nauthr: Someone\n")
    message = e.value.format_message()
    assert "article.md:3" in message
    assert "'authr'" in message
    for key in ("title", "headline", "standfirst", "author", "source", "lang", "date"):
        assert key in message.split("allowed:")[1]


def test_missing_title(tmp_path):
    with pytest.raises(ContentError, match=r"article\.md:\d+: .*title"):
        article(tmp_path, "author: A\n")


def test_yaml_error_has_line(tmp_path):
    with pytest.raises(ContentError, match=r"article\.md:3: front matter is not valid YAML"):
        article(tmp_path, "title: T\nauthor: Aleppo: stop the bombing\nsource: S\n")


@pytest.mark.parametrize("value", ["[a, b]", "{a: b}"], ids=["list", "mapping"])
def test_non_text_value(tmp_path, value):
    with pytest.raises(ContentError, match=r"article\.md:3: author must be text"):
        article(tmp_path, f"title: T\nauthor: {value}\n")


@pytest.mark.parametrize("lang", ["english!", "e", "en_GB", "12", "en-"], ids=str)
def test_bad_lang_refused(tmp_path, lang):
    with pytest.raises(ContentError, match="BCP 47") as e:
        article(tmp_path, f"title: T\nlang: '{lang}'\n")
    assert repr(lang) in e.value.format_message()


def test_no_front_matter(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "article.md").write_text("Just text.\n")
    with pytest.raises(ContentError, match=r"article\.md:1: no front matter"):
        load_article(folder)


def test_empty_body(tmp_path):
    with pytest.raises(ContentError, match="no text after its front matter"):
        article(tmp_path, "title: T\n", "\n\n")


def test_control_character_named_with_line(tmp_path):
    with pytest.raises(ContentError, match=r"article\.md:6: .*U\+0007"):
        article(tmp_path, "title: T\n", "One.\n\nTwo \x07 bells.\n")


# --- slogans --------------------------------------------------------------------------------


def test_slogans_in_order_with_emphasis(tmp_path):
    folder = write_content(tmp_path / "c", slogans=(
        "<!-- the list -->\n"
        "- Down with *Assad*!\n"
        "- Stop the bombing\n"
        "  by Russia\n"
        "\n"
        "* No to **ISIS**!\n"
        "+ Freedom of movement\n"
    ))
    slogans = load_slogans(folder)
    assert [s.text for s in slogans] == [
        "Down with Assad!", "Stop the bombing by Russia", "No to ISIS!", "Freedom of movement"]
    assert [s.line for s in slogans] == [2, 3, 6, 7]
    assert slogans[0].html == "Down with <em>Assad</em>!"
    assert "<strong>ISIS</strong>" in slogans[2].html
    assert all("<p>" not in s.html for s in slogans)


def test_slogan_typography(tmp_path):
    folder = write_content(tmp_path / "c", slogans=["Assad's war -- \"enough\""])
    [slogan] = load_slogans(folder)
    assert slogan.text == "Assad’s war – “enough”"


def test_non_list_line_names_its_line(tmp_path):
    folder = write_content(tmp_path / "c", slogans="- One\n- Two\n\nThree\n")
    with pytest.raises(ContentError) as e:
        load_slogans(folder)
    message = e.value.format_message()
    assert "slogans.md:4:" in message
    assert "'Three'" in message


def test_empty_slogan_names_its_line(tmp_path):
    folder = write_content(tmp_path / "c", slogans="- One\n- <span></span>\n")
    with pytest.raises(ContentError, match=r"slogans\.md:2: empty slogan"):
        load_slogans(folder)


def test_no_slogans_file_means_no_slogans(tmp_path):
    folder = write_content(tmp_path / "c")
    assert load_slogans(folder) == ()


@pytest.mark.parametrize(
    "slogan",
    ["1968. Year of revolt", "#FreeSyria now", "1) Stop the war"],
    ids=["year-like-ordered-list", "hashtag-like-heading", "numbered"],
)
def test_slogan_words_are_never_rewritten(tmp_path, slogan):
    """A slogan is one line of inline text: a leading '1968.' or '#' is part of it, not
    Markdown block syntax (a list or heading would drop the number or the '#' and escape the
    fitted box in every layout)."""
    folder = write_content(tmp_path / "c", slogans=[slogan])
    [parsed] = load_slogans(folder)
    assert parsed.text == slogan
    assert not any(tag in parsed.html for tag in ("<ol", "<ul", "<h1", "<blockquote", "<p"))


def test_texts_name_where_each_text_comes_from(tmp_path):
    folder = write_content(tmp_path / "c", front="title: T\nauthor: A\n", slogans=["X", "Y"])
    texts = load_content(folder).texts()
    assert texts[f"{folder / 'slogans.md'}:2"] == "Y"
    assert texts[f"{folder / 'article.md'}: author"] == "A"
    assert "Some text." in texts[f"{folder / 'article.md'}: body"]


def test_missing_folder_and_article(tmp_path):
    with pytest.raises(ContentError, match="content folder not found"):
        load_content(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ContentError, match=r"article\.md: article not found"):
        load_content(tmp_path / "empty")


def test_arabic_quotation_marks_are_guillemets(tmp_path):
    article = load_article(write_content(tmp_path / "c", front={"title": "T", "lang": "ar"},
                                         body='قال "لا للحرب".\n'))
    assert "«لا للحرب»" in article.body_html
