"""Copyfit results kept between builds, in the user's cache directory.

Fitting is most of a build's work, and most rebuilds change nothing a fitted text
depends on: an edit to the article's body leaves the leaflet's headline and slogans
exactly as they were. A result is stored under a digest of everything that decides
it: the tool's version, the fonts, the element's HTML, the computed style of the
element and all it contains, and its box. The same inputs give the same result, so a
hit changes no output byte; and the press and desk copies of a text, which differ only
in colour, share one measurement.

It also keeps, per document, the body size its body fit chose last: a hint that the
next fit of that document (another variant, after an edit to the body) confirms with two
layouts instead of searching again; the body size chosen for a flow of text, which a
document that differs only inside its fitted boxes (another edition, an edited slogan)
takes with its one final layout; and the boxes its first layout found, so that the next
document of the same shape can go straight to its final layout (see
``Typesetter.typeset``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from pamphleteer import __version__
from pamphleteer.copyfit import METHOD, FitTarget, Fitted


def cache_root() -> Path:
    """pamphleteer's folder in the user's cache (``$XDG_CACHE_HOME``, else ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pamphleteer"


def cache_dir() -> Path:
    return cache_root() / "fits"


def kept(kind: str, key: str, make: Callable[[], bytes]) -> bytes:
    """The bytes made before under ``key`` (a digest of everything that decides them),
    from the user's cache; else ``make()``'s, kept there. The same key gives the same
    bytes, so a hit changes nothing; a cache that cannot be read or written costs time
    only."""
    from pamphleteer.outputs import write_atomic

    path = cache_root() / kind / key[:2] / key
    try:
        return path.read_bytes()
    except OSError:
        pass
    data = make()
    with contextlib.suppress(OSError):
        write_atomic(path, data)
    return data


class FitCache:
    def __init__(self, folder: Path, fonts_dir: Path):
        from pamphleteer.inputs import fonts_digest

        self.folder = folder
        self.salt = f"{__version__}\0{METHOD}\0{fonts_digest(fonts_dir)}"

    def keys(self, style: str, target: FitTarget) -> tuple[str, str]:
        """Where the fit of ``target`` is kept, and where the last fit of its element
        in that box is (the same digest with the element's id for its words: the
        placard's slogans have boxes alike, and each is most like its own last words;
        see ``last_fit``)."""
        spec = target.spec

        def key(words: str) -> str:
            parts = (self.salt, style, words, f"{target.width:.3f}", f"{target.height:.3f}",
                     f"{spec.name} {spec.min_pt} {spec.max_pt} {spec.balance}")
            return hashlib.sha256("\0".join(parts).encode()).hexdigest()

        return key(target.html), key(f"\0{target.id}")

    def get(self, keys: tuple[str, str], ident: str) -> Fitted | None:
        try:
            size, width, lines = self._read(keys[0])
        except (TypeError, ValueError):
            return None
        return Fitted(ident, size, width, lines)

    def put(self, keys: tuple[str, str], fitted: Fitted) -> None:
        """Keep a fit, and as the last of its box."""
        self._write(keys[0], [fitted.size_pt, fitted.width, fitted.lines])
        self._write(keys[1], [fitted.size_pt, fitted.width])

    def last_fit(self, keys: tuple[str, str]) -> tuple[float, float] | None:
        """The size and width the element's last text fitted in this box was set at:
        where copyfit starts with new words, a guess only (see ``copyfit``)."""
        found = self._read(keys[1])
        valid = (isinstance(found, list) and len(found) == 2
                 and all(isinstance(v, float) for v in found))
        return tuple(found) if valid else None

    def body_hint(self, name: str) -> float | None:
        """The body size last chosen for the document ``name``: only a guess, which the
        body fit confirms with real layouts before it takes it (see ``Typesetter``)."""
        size = self._read(self._named("body", name))
        return size if isinstance(size, float) else None

    def remember_body(self, name: str, size: float) -> None:
        self._write(self._named("body", name), size)

    def body_fitted(self, flow: str) -> tuple[float, int] | None:
        """The body size and page count a document of the flow ``flow`` (see
        ``Typesetter.flow``) was fitted to: a result, not a guess."""
        found = self._read(self._named("flow", flow))
        try:
            size, pages = found
        except (TypeError, ValueError):
            return None
        valid = isinstance(size, float) and isinstance(pages, int)
        return (size, pages) if valid else None

    def remember_body_fitted(self, flow: str, size: float, pages: int) -> None:
        self._write(self._named("flow", flow), [size, pages])

    def body_twins(self, name: str) -> dict[str, tuple[float, int]]:
        """The body sizes and page counts found for the copies of the document ``name``
        (see ``Typesetter.twins``), by the flow signature each had at its size."""
        found = self._read(self._named("twins", name))
        if not isinstance(found, dict):
            return {}
        return {sig: (v[0], v[1]) for sig, v in found.items()
                if isinstance(v, list) and len(v) == 2 and isinstance(v[0], float)
                and isinstance(v[1], int)}

    def remember_body_twin(self, name: str, signature: str, size: float, pages: int) -> None:
        twins = self.body_twins(name)
        twins[signature] = (size, pages)
        self._write(self._named("twins", name), {k: list(v) for k, v in twins.items()})

    def boxes(self, name: str) -> dict | None:
        """The fitted texts' boxes and styles a document of the shape ``name`` had last
        time: a guess too, which the final layout confirms (see ``Typesetter``). None
        for a file of another form (damaged, or an older version's)."""
        known = self._read(self._named("boxes", name))
        try:
            fits, hidden = known["fits"], known["hidden"]
            valid = (all(isinstance(v["style"], str) and len(v["area"]) == 2
                         and all(isinstance(n, float | int) for n in v["area"])
                         for v in fits.values())
                     and all(isinstance(h, str) for h in hidden))
        except (KeyError, TypeError, AttributeError):
            return None
        return known if valid else None

    def remember_boxes(self, name: str, boxes: dict) -> None:
        self._write(self._named("boxes", name), boxes)

    def _named(self, kind: str, name: str) -> str:
        return hashlib.sha256(f"{self.salt}\0{kind}\0{name}".encode()).hexdigest()

    def _read(self, key: str):
        try:
            return json.loads((self.folder / key[:2] / key).read_text())
        except (OSError, ValueError):
            return None

    def _write(self, key: str, value) -> None:
        """Store a result; a cache that cannot be written only costs time. Not durable:
        what a power cut leaves of an entry is not JSON, or not of the form its reader
        checks for, and counts as a miss (only ``body_hint``'s bare number could read
        as another number, and that is a guess the body fit confirms)."""
        from pamphleteer.outputs import write_atomic

        try:
            write_atomic(self.folder / key[:2] / key, json.dumps(value).encode(), durable=False)
        except OSError:
            pass
