"""Worker processes (``pool.Workers``): kept from one run to the next while they are
small, replaced once one has grown by ``RECYCLE_MIB``."""

from __future__ import annotations

import os
from pathlib import Path

from pamphleteer import pool


def _nothing() -> None:
    pass


def _pid(item: int) -> int:
    return os.getpid()


def _pids(workers: pool.Workers) -> set[int]:
    return {pid for _, pid in workers.run(_pid, list(range(8)), timeout=30)}


def _started(folder: str) -> None:
    (Path(folder) / str(os.getpid())).touch()


def test_workers_are_kept_from_run_to_run_while_small(tmp_path):
    """No worker is started for the second run. (Compared by the workers started, not
    by those that took an item: on a busy machine one worker can take all eight of the
    first run's items before the other is up, and both take the second run's.)"""
    with pool.Workers(2, _started, (str(tmp_path),)) as workers:
        used = _pids(workers)
        assert os.getpid() not in used
        started = set(tmp_path.iterdir())
        assert {int(p.name) for p in started} >= used
        _pids(workers)
        assert set(tmp_path.iterdir()) == started


def test_a_worker_that_has_grown_is_replaced_before_the_next_run(monkeypatch):
    monkeypatch.setattr(pool, "RECYCLE_MIB", -1)  # every worker has grown past it
    with pool.Workers(2, _nothing) as workers:
        first = _pids(workers)
        second = _pids(workers)
        assert first.isdisjoint(second)


def test_a_build_of_many_runs_works_in_workers_even_with_one_job():
    """This process would grow with every edition and could not be replaced."""
    with pool.Workers(1, _nothing, in_process=False) as workers:
        assert os.getpid() not in _pids(workers)
        assert os.getpid() not in {pid for _, pid in workers.run(_pid, [0], timeout=30)}
    with pool.Workers(1, _nothing) as workers:
        assert _pids(workers) == {os.getpid()}
