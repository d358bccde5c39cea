"""Bounds on reading a PDF, which may come from anywhere and be built to hurt a reader.

Walks that follow references (forms drawing forms, colour spaces naming colour spaces,
pages naming their parents) stop at a cycle or at ``MAX_DEPTH``, and loops over what a
file holds check the file's ``Deadline``: a crafted file becomes a finding instead of a
crash or a hang. The deadline is a clock read in those loops, not a signal: it works in
any thread and in the build's worker processes, whose own per-output alarm it leaves
alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

MAX_DEPTH = 32  # forms within forms, colour spaces within colour spaces; real files nest a few
TIME_LIMIT_S = 30.0  # per file; a kit file takes a second or two

T = TypeVar("T")


class Malformed(ValueError):
    """The file is not a PDF a printer could use: a cycle, absurd nesting or sizes."""


class TimeUp(Exception):
    """The file took longer than its time limit to check."""


class Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self._end:
            raise TimeUp(self.seconds)

    def each(self, items: Iterable[T]) -> Iterator[T]:
        """``items``, raising ``TimeUp`` before the next one once the time is up."""
        for item in items:
            self.check()
            yield item

