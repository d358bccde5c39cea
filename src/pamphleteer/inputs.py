"""What each output is made of, as one digest: the cache key of incremental builds.

An output depends on the tool's version, its layout's files, the fonts, the project's
configuration and the parts of the content that its template actually reads. The
template is rendered once with recording stand-ins for the article and the slogans, so
a flyer that shows three slogans does not depend on the fourth, and a poster that never
reads the article's body is not rebuilt when the body changes. The dependency is read
from the template itself, never declared by hand, so it cannot drift out of date.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from pamphleteer import __version__


class RecordingArticle(dict):
    """The article's fields for a template, noting which ones it reads.

    A dict, like the article templates get when nothing is recorded, so that a
    template's mistakes read the same either way ("'dict object' has no attribute").
    """

    def __init__(self, fields: dict, read: dict[str, object]):
        super().__init__(fields)
        self._read = read

    def __getitem__(self, name: str):
        value = super().__getitem__(name)
        self._read[f"article.{name}"] = value
        return value


class RecordingSlogans:
    """The slogans for a template, noting which ones it reads (and whether their count)."""

    def __init__(self, items: list, read: dict[str, object]):
        self._items = items
        self._read = read

    def _note(self, index: int):
        item = self._items[index]
        self._read[f"slogans[{index}]"] = item["html"]
        return item

    def __len__(self) -> int:
        self._read["slogans.count"] = len(self._items)
        return len(self._items)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __iter__(self) -> Iterator:
        self._read["slogans.count"] = len(self._items)
        return (self._note(i) for i in range(len(self._items)))

    def __getitem__(self, key):
        if isinstance(key, slice):
            return [self._note(i) for i in range(len(self._items))[key]]
        return self._note(range(len(self._items))[key])


def files_digest(paths: list[Path], root: Path) -> str:
    """Digest of files' names (relative to ``root``) and bytes."""
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def key(parts: dict[str, object]) -> str:
    """Digest of named parts, in a stable order, with the tool's version."""
    h = hashlib.sha256(f"pamphleteer {__version__}\0".encode())
    for name in sorted(parts):
        h.update(f"{name}\0{parts[name]!r}\0".encode())
    return h.hexdigest()
