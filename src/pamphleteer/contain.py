"""The containment model: what content and layouts may reach, enforced here and only here.

Content and layouts come from many hands (a pasted article, a pull request) and builds
run where secrets live (CI), so every file a document names is checked:

- **Content** (the article, its front matter, the slogans) may reach its own folder and
  the folders below it: images beside the article. Its HTML is rebuilt from an allowlist
  of elements and attributes; anything that names a file any other way (``<object>``,
  ``<link>``, ``style``, ``srcset``, an attachment link) is refused, and so is every URL
  scheme but web and mail links, which are only printed, never fetched.
- **A layout** may reach its own folder, the layouts it extends and ``_base/``; its
  stylesheets' URLs are resolved from the file that names them. Fonts are reached by
  family name, from the project's fonts folder alone (see ``render``).
- **Nothing else**: no network, no ``file:`` URL, no absolute path, no ``..`` (plain or
  percent-encoded) that climbs out, no symlink that leads out.

A path is judged by its text first, and symlinks are then read one component at a
time, each target judged before it is followed: nothing outside the roots is opened,
read, hashed or even stat'ed.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Iterator
from html import escape
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pamphleteer.errors import RenderError

_MAX_LINKS = 40  # symlinks followed for one path, as the kernel's own limit


class Refused(RenderError):
    """A document named something outside what it may reach."""


def beneath(path: Path, roots: Iterable[Path]) -> Path:
    """The real path of ``path`` (absolute) if it lies inside one of ``roots`` (real
    paths), following only symlinks that stay inside; else ``Refused``."""
    roots = tuple(roots)
    todo = list(Path(os.path.normpath(path)).parts)
    current = Path(todo.pop(0))
    links = 0
    while todo:
        part = todo.pop(0)
        candidate = current / part
        if not _inside(candidate, roots) and not any(_inside(r, (candidate,)) for r in roots):
            raise Refused(f"{path} is outside the folders it may read")
        if _inside(candidate, roots) and candidate.is_symlink():
            links += 1
            target = Path(os.path.normpath(candidate.parent / os.readlink(candidate)))
            if links > _MAX_LINKS or not _inside(target, roots):
                raise Refused(f"{path} is a symlink that leads outside the folders it may read")
            todo = [*target.parts[1:], *todo]
            current = Path(target.parts[0])
            continue
        current = candidate
    if not _inside(current, roots):
        raise Refused(f"{path} is outside the folders it may read")
    return current


def _inside(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def reference(ref: str, folder: Path) -> Path:
    """The file a relative reference in content (an image's ``src``) names, inside
    ``folder``, resolved as the renderer resolves it: percent-escapes decoded, ``..``
    and symlinks followed only while they stay inside."""
    parts = urlsplit(ref)
    if parts.scheme or parts.netloc:
        raise Refused(f"{ref!r}: only files beside the article can be shown, not "
                      f"{parts.scheme or 'network'} URLs; copy the file into the content "
                      "folder and name it by a relative path")
    name = unquote(parts.path)
    if not name or name.startswith("/") or "\0" in name or "\\" in name:
        raise Refused(f"{ref!r}: not a relative path; name a file beside the article, "
                      "e.g. photo.jpg or images/photo.jpg")
    try:
        path = beneath(folder / name, (folder,))
    except Refused as e:
        raise Refused(f"{ref!r} is outside the content folder; copy the file into "
                      f"{folder.name}/ and name it by a relative path") from e
    if not path.is_file():
        raise Refused(f"{ref!r}: {folder / name} does not exist; check the file name "
                      "(it is case-sensitive)")
    return path


def files_below(root: Path, roots: Iterable[Path] | None = None) -> Iterator[Path]:
    """Every regular file below ``root``, in a stable order, and symlinks to files that
    stay inside ``roots`` (default: ``root``); symlinked folders are not entered."""
    roots = tuple(roots or (root,))
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            try:
                real = beneath(path, roots) if path.is_symlink() else path
            except Refused:
                continue
            if real.is_file():
                yield path


# --- content HTML ------------------------------------------------------------------------

#: Elements content may use, with the attributes each may carry besides the global ones.
ELEMENTS: dict[str, frozenset[str]] = {
    **{t: frozenset() for t in (
        "p br hr em strong i b u s small mark abbr cite q code kbd samp var sup sub span "
        "div blockquote ul li dl dt dd h1 h2 h3 h4 h5 h6 figure figcaption table thead "
        "tbody tfoot tr caption pre del ins bdi bdo wbr section article aside header "
        "footer ruby rt rp dfn"
    ).split()},
    "a": frozenset({"href", "rel"}),
    "img": frozenset({"src", "alt", "width", "height"}),
    "ol": frozenset({"start", "reversed", "type"}),
    "li": frozenset({"value"}),
    "td": frozenset({"colspan", "rowspan", "align"}),
    "th": frozenset({"colspan", "rowspan", "align", "scope"}),
    "col": frozenset({"span"}),
    "colgroup": frozenset({"span"}),
    "time": frozenset({"datetime"}),
}
GLOBAL_ATTRIBUTES = frozenset({"id", "class", "lang", "dir", "title"})
VOID = frozenset({"br", "hr", "img", "wbr", "col"})
LINK_SCHEMES = ("http", "https", "mailto", "tel")
_DATA_IMAGE_RE = re.compile(r"^data:image/(png|jpeg|gif|webp)[;,]", re.IGNORECASE)


def sanitize(html: str, folder: Path) -> tuple[str, list[tuple[str, str]]]:
    """Rebuild a content fragment from the allowlist; return it and what was refused,
    each as (the text to find it by in the source, the problem and its fix).

    What is refused is left out of the HTML returned, so nothing can slip through even
    if a caller ignored the refusals; the build fails the outputs that show it.
    """
    from tinyhtml5.parser import HTMLParser

    fragment = HTMLParser(namespace_html_elements=False).parse_fragment(html)
    refused: list[tuple[str, str]] = []
    out: list[str] = [escape(fragment.text or "", quote=False)]
    for child in fragment:
        _element(child, folder, refused, out)
    return "".join(out), refused


def _element(element, folder: Path, refused: list[tuple[str, str]], out: list[str]) -> None:
    tag = element.tag if isinstance(element.tag, str) else None  # comments: tag is a function
    if tag is not None and tag not in ELEMENTS:
        refused.append((f"<{_local(tag)}", f"<{_local(tag)}> is not allowed in content; "
                        "use Markdown, and leave styling to the layout"))
    elif tag is not None and (problems := _attribute_problems(tag, element.attrib, folder)):
        refused.extend(problems)
    elif tag is not None:
        attrs = "".join(f' {k}="{escape(v)}"' for k, v in sorted(element.attrib.items()))
        out.append(f"<{tag}{attrs}>{escape(element.text or '', quote=False)}")
        for child in element:
            _element(child, folder, refused, out)
        if tag not in VOID:
            out.append(f"</{tag}>")
    out.append(escape(element.tail or "", quote=False))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attribute_problems(tag: str, attrib: dict[str, str],
                        folder: Path) -> list[tuple[str, str]]:
    return [p for name, value in sorted(attrib.items())
            if (p := _attribute_problem(tag, name, value, attrib, folder))]


def _attribute_problem(tag: str, name: str, value: str, attrib: dict[str, str],
                       folder: Path) -> tuple[str, str] | None:
    if name not in ELEMENTS[tag] | GLOBAL_ATTRIBUTES:
        return (f"{_local(name)}=", f"<{tag} {_local(name)}=…> is not allowed in content; "
                "remove the attribute (styling belongs in the layout)")
    if tag == "a" and name == "rel" and "attachment" in value.lower().split():
        return ("attachment", f'<a rel="attachment" href="{attrib.get("href", "")}">: '
                "content cannot attach files to the PDF; remove the link")
    if tag == "a" and name == "href" and not _printable_link(value):
        return (value, f'<a href="{value}">: links may be web or mail addresses '
                f"({', '.join(LINK_SCHEMES)}) or #anchors; a link to a file would point "
                "into this machine's disk")
    if tag == "img" and name == "src" and not _DATA_IMAGE_RE.match(value):
        try:
            reference(value, folder)
        except Refused as e:
            return value, e.format_message()
    return None


def _printable_link(href: str) -> bool:
    href = href.strip()
    if href.startswith("#"):
        return True
    parts = urlsplit(href)
    return parts.scheme.lower() in LINK_SCHEMES and (parts.scheme.lower() in ("mailto", "tel")
                                                     or bool(parts.netloc))


@functools.lru_cache(maxsize=256)
def images(html: str) -> tuple[str, ...]:
    """The ``src`` of every image in sanitized content HTML, in order, once each.

    Asked of every field every output reads, each time its key is computed (serve:
    on every save): so a field without an image is not parsed, and one with images is
    parsed once."""
    if "<img" not in html:  # sanitized: every element is ours, named in lower case
        return ()
    from tinyhtml5.parser import HTMLParser

    fragment = HTMLParser(namespace_html_elements=False).parse_fragment(html)
    found = (e.get("src") for e in fragment.iter() if e.tag == "img")
    return tuple(dict.fromkeys(s for s in found if s and not _DATA_IMAGE_RE.match(s)))


# --- the renderer's URL fetcher ----------------------------------------------------------


def fetcher(weasyprint, roots: tuple[Path, ...]):
    """A WeasyPrint URL fetcher that serves ``data:`` URLs and files inside ``roots``
    (real paths), and refuses everything else: the last line of defence, whatever named
    the file (a stylesheet, an SVG image, a template)."""

    class ContainedFetcher(weasyprint.URLFetcher):
        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            scheme = parts.scheme.lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme != "file" or parts.netloc not in ("", "localhost"):
                raise weasyprint.urls.FatalURLFetchingError(
                    f"refused to fetch {url}: network access is off; put the file in the "
                    "project and name it by a relative path"
                )
            try:
                path = beneath(Path(unquote(parts.path)), roots)
            except Refused as e:
                raise weasyprint.urls.FatalURLFetchingError(
                    f"refused to read {unquote(parts.path)}: {e.format_message()}"
                ) from e
            if not path.is_file():
                raise weasyprint.urls.FatalURLFetchingError(
                    f"{path} does not exist; check the file name (it is case-sensitive)"
                )
            return weasyprint.urls.URLFetcherResponse(
                url, path.read_bytes(), {"Content-Type": _mime(path)}
            )

    return ContainedFetcher()


def _mime(path: Path) -> str:
    import mimetypes

    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


# --- a layout's stylesheets --------------------------------------------------------------


def stylesheet(path: Path, roots: tuple[Path, ...]) -> str:
    """A layout's stylesheet, its relative URLs made absolute from its own folder.

    The stylesheets are set inline in the document, whose base is the content folder;
    so each ``url()`` and ``@import`` is resolved here, from the file that names it,
    and refused with the file and line unless it stays inside ``roots`` (real paths).
    """
    css = path.read_text(encoding="utf-8")
    if "url(" not in css.lower() and "@import" not in css.lower():
        return css  # nothing to resolve: the common case costs no parse
    import tinycss2

    tokens = tinycss2.parse_component_value_list(css)
    _rewrite(tokens, path, roots)
    return tinycss2.serialize(tokens)


def _rewrite(tokens: list, path: Path, roots: tuple[Path, ...]) -> None:
    from tinycss2 import ast
    from tinycss2.serializer import serialize_string_value, serialize_url

    after_import = False
    for i, token in enumerate(tokens):
        if isinstance(token, ast.URLToken):
            url = _layout_url(token.value, path, token.source_line, roots)
            tokens[i] = ast.URLToken(token.source_line, token.source_column, url,
                                     f"url({serialize_url(url)})")
        elif isinstance(token, ast.StringToken) and after_import:
            url = _layout_url(token.value, path, token.source_line, roots)
            tokens[i] = ast.StringToken(token.source_line, token.source_column, url,
                                        f'"{serialize_string_value(url)}"')
        elif isinstance(token, ast.FunctionBlock) and token.lower_name in ("url", "src"):
            strings = [t for t in token.arguments if isinstance(t, ast.StringToken)]
            for s in strings[:1]:
                url = _layout_url(s.value, path, s.source_line, roots)
                token.arguments[token.arguments.index(s)] = ast.StringToken(
                    s.source_line, s.source_column, url, f'"{serialize_string_value(url)}"')
        for nested in (getattr(token, "content", None), getattr(token, "arguments", None)):
            if nested:
                _rewrite(nested, path, roots)
        if not isinstance(token, ast.WhitespaceToken | ast.Comment):
            after_import = isinstance(token, ast.AtKeywordToken) and token.lower_value == "import"


def _layout_url(ref: str, path: Path, line: int, roots: tuple[Path, ...]) -> str:
    """The absolute ``file:`` URL of a stylesheet's reference, or ``Refused``."""
    if ref.lower().startswith("data:") or ref.startswith("#"):
        return ref
    parts = urlsplit(ref)
    where = f"{path}:{line}: refused {ref!r}"
    if parts.scheme or parts.netloc:
        raise Refused(f"{where}: layouts may not fetch {parts.scheme or 'network'} URLs; put "
                      "the file in the layout's folder and name it by a relative path")
    name = unquote(parts.path)
    if name.startswith("/") or "\0" in name or "\\" in name:
        raise Refused(f"{where}: not a relative path; name a file in the layout's folder")
    try:
        return beneath(path.parent / name, roots).as_uri()
    except Refused as e:
        raise Refused(f"{where}: outside the layout; a layout may read its own folder, the "
                      "layouts it extends and _base/") from e
