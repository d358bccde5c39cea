"""Turn a content folder (``article.md`` + ``slogans.md``) into HTML fragments and metadata.

Knows nothing of layouts. The user's words are never rewritten: Markdown only adds
typography (real quotes and dashes for the content's language, footnotes, attributes).
Every HTML fragment is rebuilt by ``contain.sanitize``; what it refuses (a file outside
the folder, an attachment, an embedded object) is kept as a one-line error against the
field it came from, so only the outputs that show that field fail.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape, unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

import markdown
import yaml

from pamphleteer import contain
from pamphleteer.errors import ContentError

if TYPE_CHECKING:
    from pamphleteer.editions import Edition

ARTICLE = "article.md"
SLOGANS = "slogans.md"

#: Front-matter keys: name -> (required, what it is for).
FRONT_MATTER = {
    "title": (True, "the article's title"),
    "headline": (False, "the short call to action set large on posters and flyers"),
    "standfirst": (False, "the opening paragraph that flyers and posters show"),
    "author": (False, "the byline"),
    "source": (False, 'the "Originally published in…" line'),
    "lang": (False, "BCP 47 language tag, e.g. en, de, pt-BR (default: en)"),
    "date": (False, "publication date, shown where a layout has room"),
}

#: Quotation marks by primary language subtag: (ldquo, rdquo, lsquo, rsquo).
QUOTES = {
    "en": ("“", "”", "‘", "’"),
    "de": ("„", "“", "‚", "‘"),
    "fr": ("« ", " »", "‹ ", " ›"),
    "es": ("«", "»", "“", "”"),
    "ar": ("«", "»", "“", "”"),
    "it": ("«", "»", "“", "”"),
    "pt": ("«", "»", "“", "”"),
    "ru": ("«", "»", "„", "“"),
    "pl": ("„", "”", "«", "»"),
    "nl": ("“", "”", "‘", "’"),
}

_LANG_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_LIST_ITEM_RE = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,9}[.)])\s+(.*)$")
_FRONT_RE = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.DOTALL)


@dataclass(frozen=True)
class Slogan:
    """One slogan: its inline HTML, its plain text (for search and checks), its line."""

    html: str
    text: str
    line: int


@dataclass(frozen=True)
class Article:
    """The article's metadata (as inline HTML) and body (as an HTML fragment)."""

    title: str
    body_html: str
    headline: str = ""
    standfirst: str = ""
    author: str = ""
    source: str = ""
    lang: str = "en"
    date: str = ""


@dataclass(frozen=True)
class Content:
    """Everything a layout can show, read from one content folder."""

    folder: Path
    article: Article
    slogans: tuple[Slogan, ...]
    #: What ``contain`` refused, by the part of the content it was in (``article.title``,
    #: ``slogans[2]``: the names ``inputs`` records reads by), as a one-line error.
    refused: dict[str, str] = field(default_factory=dict)
    files: tuple[str, str] = (ARTICLE, SLOGANS)  # the article's and slogans' file names
    edition: Edition | None = None  # the local group's details, shown in a panel

    @property
    def name(self) -> str:
        return self.folder.name

    def refusal(self, reads) -> str | None:
        """The error of an output that shows the parts ``reads``, if any was refused."""
        found = [self.refused[part] for part in sorted(reads) if part in self.refused]
        return "; ".join(found) or None

    def texts(self) -> dict[str, str]:
        """Every text that will be typeset, by where it comes from (for glyph checks)."""
        a = self.article
        article = self.folder / self.files[0]
        found = {f"{article}: {key}": plain(getattr(a, key))
                 for key in ("title", "headline", "standfirst", "author", "source", "date")}
        found[f"{article}: body"] = plain(a.body_html)
        for s in self.slogans:
            found[f"{self.folder / self.files[1]}:{s.line}"] = s.text
        if self.edition:
            from pamphleteer.editions import EDITIONS, panel

            where = f"{self.folder / EDITIONS}:{self.edition.row}"
            found |= {f"{where}: {k}": v for k, v in panel(self.edition).items()
                      if isinstance(v, str) and k not in ("id", "date_iso", "qr")}
        return found


def _markdown(lang: str) -> markdown.Markdown:
    ldquo, rdquo, lsquo, rsquo = QUOTES.get(lang.split("-")[0].lower(), QUOTES["en"])
    entities = {"left-double-quote": ldquo, "right-double-quote": rdquo,
                "left-single-quote": lsquo, "right-single-quote": rsquo}
    return markdown.Markdown(
        extensions=["smarty", "footnotes", "attr_list"],
        extension_configs={"smarty": {"substitutions": {
            k: escape(v).replace(" ", "&#160;") for k, v in entities.items()
        }}},
        output_format="html",
    )


_BLOCK_START_RE = re.compile(r"^(\s*)(#|>|[-*+](?=\s)|\d+(?=[.)]\s)|=+\s*$|-+\s*$)")


def _inline(md: markdown.Markdown, text: str) -> str:
    """Render one line of Markdown without the paragraph around it.

    Only inline Markdown (emphasis, links, code) applies: a slogan or a title that
    starts like a block ("1968. Year of revolt", "#FreeSyria now") keeps every word.
    """
    text = _BLOCK_START_RE.sub(lambda m: "\\" + m.group(2) if m.group(2)[0] in "#>-*+="
                               else m.group(2) + "\\", text.strip(), count=1)
    html = md.reset().convert(text).strip()
    return re.sub(r"\A<p>(.*)</p>\Z", r"\1", html, flags=re.DOTALL)


def _contained(html: str, folder: Path, part: str, refused: dict[str, str],
               where: Callable[[str], str]) -> str:
    """``html`` as ``contain.sanitize`` rebuilds it; its refusals go into ``refused``
    under ``part``, each placed by ``where`` (which finds its line in the source)."""
    clean, problems = contain.sanitize(html, folder)
    if problems:
        refused[part] = "; ".join(f"{where(needle)}: {message}" for needle, message in problems)
    return clean


def _line_finder(path: Path, text: str, default: int) -> Callable[[str], str]:
    """``file:line`` of the first line of ``text`` that holds a needle."""
    def where(needle: str) -> str:
        for number, line in enumerate(text.splitlines(), 1):
            if needle and needle in line:
                return f"{path}:{number}"
        return f"{path}:{default}"
    return where


def plain(html: str) -> str:
    """Text of an HTML fragment, as a reader sees it (for checks and messages)."""
    return unescape(re.sub(r"<[^>]+>", "", html))


VOID_TAGS = frozenset({"area", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                       "source", "track", "wbr"})


class _Blocks(HTMLParser):
    """Where each top-level element of a fragment starts, as (line, column)."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.depth, self.starts = 0, []

    def handle_starttag(self, tag, attrs):
        if self.depth == 0:
            self.starts.append(self.getpos())
        if tag not in VOID_TAGS:
            self.depth += 1

    def handle_startendtag(self, tag, attrs):
        if self.depth == 0:
            self.starts.append(self.getpos())

    def handle_endtag(self, tag):
        self.depth = max(0, self.depth - 1)


def blocks(html: str) -> list[str]:
    """The top-level elements of an HTML fragment (paragraphs, headings, lists,
    quotations), each whole: an article cut short ends between two of them."""
    parser = _Blocks()
    parser.feed(html)
    parser.close()
    offsets = [0]
    for line in html.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    cuts = [offsets[line - 1] + column for line, column in parser.starts]
    return [html[a:b].strip() for a, b in zip(cuts, [*cuts[1:], len(html)], strict=True)]


def _front_matter(path: Path, text: str) -> tuple[dict, int]:
    match = _FRONT_RE.match(text)
    if not match:
        raise ContentError(
            f"{path}:1: no front matter; start the file with a '---' line, "
            "then 'title: …', then another '---' line"
        )
    try:
        node = yaml.compose(match.group(1) or "", Loader=yaml.SafeLoader)
        data = yaml.safe_load(match.group(1) or "") or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ContentError(
            f"{path}:{line}: front matter is not valid YAML ({problem}); "
            'quote values that contain a colon, e.g. title: "Aleppo: stop the bombing"'
        ) from e
    if not isinstance(data, dict):
        raise ContentError(f"{path}:2: front matter must be 'key: value' lines")
    lines = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            lines[str(key_node.value)] = key_node.start_mark.line + 2
    body_start = text.count("\n", 0, match.end()) + 1
    for key in data:
        if key not in FRONT_MATTER:
            raise ContentError(
                f"{path}:{lines.get(str(key), 2)}: unknown front-matter key {key!r}; "
                f"allowed: {', '.join(FRONT_MATTER)}"
            )
    for key, (required, _) in FRONT_MATTER.items():
        if required and not data.get(key):
            raise ContentError(f"{path}:1: front matter lacks '{key}'; add '{key}: …'")
    for key, value in data.items():
        if value is None:
            data[key] = ""
        elif not isinstance(value, str | int | float) and key != "date":
            raise ContentError(
                f"{path}:{lines.get(key, 2)}: {key} must be text, not a "
                f"{type(value).__name__}; quote it"
            )
        else:
            data[key] = str(value)
    return data, body_start


def _check_text(path: Path, line: int, text: str) -> None:
    """Refuse control characters: they cannot be typeset and usually mean a broken file."""
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") and ch not in "\n\t\r":
            raise ContentError(
                f"{path}:{line}: contains the control or unassigned character "
                f"U+{ord(ch):04X}; remove it"
            )


def load_article(folder: Path, refused: dict[str, str] | None = None,
                 name: str = ARTICLE) -> Article:
    """Read ``article.md`` (or the translation ``name``); what containment refuses goes
    into ``refused``."""
    path = folder / name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as e:
        raise ContentError(
            f"{path}: article not found; a content folder needs {ARTICLE} "
            "(create one with front matter and the article in Markdown)"
        ) from e
    except (OSError, UnicodeDecodeError) as e:
        raise ContentError(f"{path}: cannot read as UTF-8 text: {e}") from e
    text = text.replace("\r\n", "\n")
    meta, body_start = _front_matter(path, text)
    for number, line in enumerate(text.splitlines(), 1):
        _check_text(path, number, line)
    lang = meta.get("lang") or "en"
    if not _LANG_RE.match(lang):
        raise ContentError(
            f"{path}: lang {lang!r} is not a BCP 47 language tag; use e.g. en, de, pt-BR"
        )
    md = _markdown(lang)
    body = text[_FRONT_RE.match(text).end():]
    body_html = md.reset().convert(body)
    if not body_html.strip():
        raise ContentError(f"{path}:{body_start}: the article has no text after its front matter")
    refused = {} if refused is None else refused
    where = _line_finder(path, text, body_start)
    fields = {k: _contained(_inline(md, meta[k]), folder, f"article.{k}", refused,
                            lambda needle, k=k: where(f"{k}:"))
              for k in FRONT_MATTER if k not in ("lang", "date") if meta.get(k)}
    return Article(
        body_html=_contained(body_html, folder, "article.body_html", refused, where),
        lang=lang,
        date=escape(meta.get("date", "")),
        **fields,
    )


def load_slogans(folder: Path, lang: str = "en", refused: dict[str, str] | None = None,
                 name: str = SLOGANS) -> tuple[Slogan, ...]:
    """Read ``slogans.md`` (or the translation ``name``): one slogan per list item,
    continuation lines indented; what containment refuses goes into ``refused``."""
    path = folder / name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return ()
    except (OSError, UnicodeDecodeError) as e:
        raise ContentError(f"{path}: cannot read as UTF-8 text: {e}") from e
    items: list[tuple[int, list[str]]] = []
    for number, line in enumerate(text.replace("\r\n", "\n").splitlines(), 1):
        _check_text(path, number, line)
        if not line.strip() or line.lstrip().startswith("<!--"):
            continue
        match = _LIST_ITEM_RE.match(line)
        if match:
            items.append((number, [match.group(1)]))
        elif items and line[:1] in " \t":
            items[-1][1].append(line.strip())
        else:
            raise ContentError(
                f"{path}:{number}: not a list item: {line.strip()[:60]!r}; "
                "write each slogan as '- Slogan text'"
            )
    md = _markdown(lang)
    refused = {} if refused is None else refused
    slogans = []
    for number, lines in items:
        html = _contained(_inline(md, " ".join(lines)), folder, f"slogans[{len(slogans)}]",
                          refused, lambda needle, number=number: f"{path}:{number}")
        words = plain(html).strip()
        if not words:
            raise ContentError(f"{path}:{number}: empty slogan; write text after the '-'")
        slogans.append(Slogan(html=html, text=words, line=number))
    return tuple(slogans)


def translations(folder: Path) -> dict[str, str]:
    """The languages a content folder has besides its own, each with its article's file
    name: ``article.es.md`` is Spanish (its slogans, ``slogans.es.md``)."""
    found = {}
    for path in sorted(folder.glob("article.*.md")):
        lang = path.name[len("article."):-len(".md")]
        if not _LANG_RE.match(lang):
            raise ContentError(f"{path}: {lang!r} is not a language tag; name a translation "
                               "article.LANG.md, e.g. article.es.md or article.pt-BR.md")
        found[lang] = path.name
    return found


def languages(folder: Path) -> list[str]:
    """Every language the content folder is written in: its own (``article.md``'s), then
    its translations'."""
    return list(dict.fromkeys([load_article(folder).lang, *translations(folder)]))


def load_content(folder: Path, lang: str | None = None) -> Content:
    """Read a content folder, in its own language or (``lang``) a translation; the
    article is required, the slogans list may be absent."""
    if not folder.is_dir():
        raise ContentError(
            f"{folder}: content folder not found; pass --content PATH to a folder "
            f"holding {ARTICLE} (and {SLOGANS})"
        )
    names = (ARTICLE, SLOGANS)
    if lang is not None and lang != load_article(folder).lang:
        if lang not in translations(folder):
            raise ContentError(
                f"{folder}: no {lang!r} translation (article.{lang}.md); this folder has "
                f"{', '.join(languages(folder))}")
        names = (f"article.{lang}.md", f"slogans.{lang}.md")
    refused: dict[str, str] = {}
    article = load_article(folder, refused, names[0])
    if lang is not None and article.lang != lang:
        raise ContentError(f"{folder / names[0]}: its front matter says lang: {article.lang}, "
                           f"but its name says {lang}; make them agree")
    slogans = load_slogans(folder, article.lang, refused, names[1])
    return Content(folder=folder, article=article, slogans=slogans, refused=refused,
                   files=names)

