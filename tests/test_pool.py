"""Worker processes (``pool.Workers``): kept from one run to the next while they are
small, replaced once one has grown by ``RECYCLE_MIB``."""

from __future__ import annotations

import os

from pamphleteer import pool


def _nothing() -> None:
    pass


def _pid(item: int) -> int:
    return os.getpid()


def _pids(workers: pool.Workers) -> set[int]:
    return {pid for _, pid in workers.run(_pid, list(range(8)), timeout=30)}


def test_workers_are_kept_from_run_to_run_while_small():
    with pool.Workers(2, _nothing) as workers:
        first = _pids(workers)
        assert os.getpid() not in first
        assert _pids(workers) <= first


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
