"""Run a task over items in worker processes, each item with a time limit.

Knows nothing of PDFs: the build hands it a ``setup`` that pays a worker's start-up
once (imports, fonts, the renderer) and a ``task`` that turns one item into a result.
What can go wrong with a process rather than with a task (a hang, a crash) comes back
as a ``TimedOut`` or ``Crashed`` in place of the result, for the caller to report.
The workers outlive one ``run``, so a build of many editions starts them once; a worker
that has grown by ``RECYCLE_MIB`` since its start-up is replaced before the next run.
(Pango keeps about 12 KiB for good for every size it has set a hyphenated font at, and
copyfit tries new sizes for every edition: over 12 editions a worker grew from 130 to
316 MiB.)
"""

from __future__ import annotations

import resource
import signal
import sys
from collections.abc import Callable, Iterator
from typing import TypeVar

Item = TypeVar("Item")

RECYCLE_MIB = 100  # a worker that has grown by this much is replaced between runs


class TimedOut(BaseException):
    """The item's time ran out. A BaseException, so that a task's own catch-all (which
    turns its failures into results) does not swallow it."""


class Crashed(Exception):
    """The worker process died while it held the item."""


def _alarm(signum, frame):
    raise TimedOut


#: What went wrong in this worker's ``setup``, raised by every task it is then given.
_setup_error: Exception | None = None
_started_mib = 0.0  # this worker's peak memory when its setup was done


def _peak_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes, or KiB


def _setup(setup: Callable, *args) -> None:
    """A worker's start-up. Its error (a system library missing, say) reaches the caller
    as itself, through the first task: a pool whose start-up raised would only report
    that its workers died."""
    global _setup_error, _started_mib
    try:
        setup(*args)
    except Exception as e:
        _setup_error = e
    _started_mib = _peak_mib()


def _timed(task: Callable, item, timeout: int):
    """The task's result, and how much this worker's peak memory has grown since its
    start-up, in MiB."""
    if _setup_error is not None:
        raise _setup_error
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    try:
        result = task(item)
    except TimedOut as e:
        result = e
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return result, _peak_mib() - _started_mib


class Workers:
    """``jobs`` worker processes, each started by ``setup(*args)`` when first needed.

    With one job, or for a lone item before any worker has started, this process is the
    worker, unless ``in_process`` is false: a build of many runs (editions) keeps its
    work in workers, which are replaced when they grow, where this process would grow
    for as long as the build lasts.
    """

    def __init__(self, jobs: int, setup: Callable, args: tuple = (), in_process: bool = True):
        self.jobs, self.setup, self.args, self.in_process = jobs, setup, args, in_process
        self._executor = None
        self._local = False  # this process has run setup
        self._grown_mib = 0.0  # the most a worker has grown since the workers started

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc) -> None:
        """Stop the workers; outputs not yet started are dropped (a build that ends early,
        cancelled by a newer save, must not wait for them)."""
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
            self._executor = None
        self._grown_mib = 0.0

    def run(self, task: Callable[[Item], object], items: list[Item],
            timeout: int) -> Iterator[tuple[Item, object]]:
        """Yield ``(item, result)`` as items finish.

        A worker that dies takes the pool with it; the items it left are then run one by
        one in fresh workers, so only the item that kills its worker is ``Crashed``.
        """
        if not items:
            return
        if self.in_process and (self.jobs <= 1 or len(items) == 1 and self._executor is None):
            if not self._local:
                self.setup(*self.args)
                self._local = True
            for item in items:
                yield item, _timed(task, item, timeout)[0]
            return
        from concurrent.futures import as_completed
        from concurrent.futures.process import BrokenProcessPool

        if self._grown_mib > RECYCLE_MIB:
            self.__exit__()  # fresh workers, forked from this smaller process
        orphans = []
        executor = self._pool()
        futures = {executor.submit(_timed, task, item, timeout): item for item in items}
        for future in as_completed(futures):
            try:
                result, grown = future.result()
            except BrokenProcessPool:
                orphans.append(futures[future])
                continue
            self._grown_mib = max(self._grown_mib, grown)
            yield futures[future], result
        if orphans:
            self.__exit__()  # broken: the next run starts new workers
        for item in orphans:
            with self._fresh(1) as one:
                try:
                    yield item, one.submit(_timed, task, item, timeout).result()[0]
                except BrokenProcessPool:
                    yield item, Crashed()

    def _pool(self):
        if self._executor is None:
            self._executor = self._fresh(self.jobs)
        return self._executor

    def _fresh(self, jobs: int):
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(jobs, initializer=_setup, initargs=(self.setup, *self.args))
