"""Bounds on reading a PDF, which may come from anywhere and be built to hurt a reader.

Walks that follow references (forms drawing forms, colour spaces naming colour spaces,
pages naming their parents) stop at a cycle or at ``MAX_DEPTH``; compressed data is
measured a piece at a time before anything decodes it whole; and loops over what a file
holds check the file's ``Deadline``. A crafted file becomes a finding, not a crash, a
hang or all the memory there is. The deadline is a clock read in those loops, not a
signal: it works in any thread and in the build's worker processes, whose own
per-output alarm it leaves alone.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterable, Iterator
from typing import TypeVar

MAX_DEPTH = 32  # forms within forms, colour spaces within colour spaces; real files nest a few
TIME_LIMIT_S = 30.0  # per file; a kit file takes a second or two
MAX_INFLATED_BYTES = 512 * 2**20  # one stream, decoded; an A2 CMYK photo at 300 ppi is 140 MB
MAX_IMAGE_PIXELS = 2**28  # 16384 × 16384; an 18×24 in poster's photo at 400 ppi is 69 M
_PIECE = 2**20

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


def inflated_size(data: bytes, deadline: Deadline) -> int | None:
    """How many bytes Flate ``data`` inflates to, made a piece at a time and thrown
    away, so memory stays small; more than ``MAX_INFLATED_BYTES`` stops it there. None
    if the data is corrupt or cut short (zlib's checksum or end is wrong); no data at
    all is an empty stream, as readers take it."""
    if not data:
        return 0
    inflate, size = zlib.decompressobj(), 0
    try:
        while data and size <= MAX_INFLATED_BYTES:
            deadline.check()
            size += len(inflate.decompress(data, _PIECE))
            data = inflate.unconsumed_tail
        if data:
            return size
        size += len(inflate.flush())
    except zlib.error:
        return None
    return size if inflate.eof else None
