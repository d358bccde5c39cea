"""Run a task over items in worker processes, each item with a time limit.

Knows nothing of PDFs: the build hands it a ``setup`` that pays a worker's start-up
once (imports, fonts, the renderer) and a ``task`` that turns one item into a result.
What can go wrong with a process rather than with a task (a hang, a crash) comes back
as a ``TimedOut`` or ``Crashed`` in place of the result, for the caller to report.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from typing import TypeVar

Item = TypeVar("Item")


class TimedOut(BaseException):
    """The item's time ran out. A BaseException, so that a task's own catch-all (which
    turns its failures into results) does not swallow it."""


class Crashed(Exception):
    """The worker process died while it held the item."""


def _alarm(signum, frame):
    raise TimedOut


def _timed(task: Callable, item, timeout: int):
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    try:
        return task(item)
    except TimedOut as e:
        return e
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run(task: Callable[[Item], object], items: list[Item], *, jobs: int, timeout: int,
        setup: Callable, args: tuple = ()) -> Iterator[tuple[Item, object]]:
    """Yield ``(item, result)`` as items finish: in this process for one job, else in
    ``jobs`` worker processes, each started by ``setup(*args)``.

    A worker that dies takes the pool with it; the items it left are then run one by
    one in fresh workers, so only the item that kills its worker is ``Crashed``.
    """
    if not items:
        return
    if min(jobs, len(items)) <= 1:
        setup(*args)
        for item in items:
            yield item, _timed(task, item, timeout)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    orphans = []
    with ProcessPoolExecutor(min(jobs, len(items)), initializer=setup, initargs=args) as pool:
        futures = {pool.submit(_timed, task, item, timeout): item for item in items}
        for future in as_completed(futures):
            try:
                yield futures[future], future.result()
            except BrokenProcessPool:
                orphans.append(futures[future])
    for item in orphans:
        with ProcessPoolExecutor(1, initializer=setup, initargs=args) as one:
            try:
                yield item, one.submit(_timed, task, item, timeout).result()
            except BrokenProcessPool:
                yield item, Crashed()
