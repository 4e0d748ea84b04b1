"""Independent runs side by side: worker processes on this machine, or a Dask cluster.

A comparison or an experiment grid is made of runs that share nothing (each has its own seed,
run folder and result), so they parallelise without changing a bit of any result: every run
draws from its own seeded generators and uses the same BLAS thread count (``minisab.threads``)
wherever it runs. ``run_all`` hands them out

- to ``jobs`` worker processes of joblib's ``loky`` backend (``jobs=1``: one after another in
  this process, as before), or
- to a Dask cluster when ``scheduler`` is given: the address of a ``dask.distributed``
  scheduler (``"tcp://host:8786"``), or a ``Client`` or cluster object. The workers must see the
  same files (the run folders are written where the run executes): a shared file system, as on
  a Slurm cluster (docs/parallel.md: ``dask-jobqueue``). Needs the ``cluster`` extra.

and yields each result as its run finishes, printing one line per finished run (the per-step
progress bars of several processes would overwrite each other).
"""
from __future__ import annotations

import os
import sys
import time
from typing import Callable, Iterable, Iterator, Optional

from .config import ConfigError
from .threads import resolve_threads, use_threads


def default_jobs() -> int:
    """Worker processes by default: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:                                          # macOS, Windows
        return max(1, os.cpu_count() or 1)


def check_jobs(jobs) -> int:
    """``jobs`` as an integer >= 1 (``None``: ``default_jobs()``)."""
    if jobs is None:
        return default_jobs()
    if not (isinstance(jobs, int) and not isinstance(jobs, bool) and jobs >= 1):
        raise ConfigError(f"invalid jobs={jobs!r}: accepted values are integers >= 1 "
                          f"(worker processes; default: the number of cores, {default_jobs()})")
    return jobs


def _call(index: int, fn: Callable, item, threads: int):
    """One run in a worker: ``(index, fn(item))`` under the parent's thread count."""
    with use_threads(threads):
        return index, fn(item)


def run_all(fn: Callable, items: Iterable, jobs: Optional[int] = None, scheduler=None,
            threads=None, describe: Callable = str, log: Optional[Callable] = None
            ) -> Iterator[tuple]:
    """Yield ``(item, fn(item))`` for every item, in the order the runs finish.

    ``fn`` must be picklable (a module-level function) when ``jobs > 1`` or with a
    ``scheduler``. ``describe(item)`` names a run in the progress lines printed by ``log``
    (default: stderr; ``log=False``: silent). ``threads``: BLAS threads of every run.
    """
    items = list(items)
    n = resolve_threads(threads)
    jobs = check_jobs(jobs)
    say = (lambda m: print(m, file=sys.stderr, flush=True)) if log is None else (log or None)
    t0, done = time.perf_counter(), 0

    def finished(i, result):
        nonlocal done
        done += 1
        if say:
            say(f"[{done}/{len(items)} done, {time.perf_counter() - t0:.0f} s] "
                f"{describe(items[i])}")
        return items[i], result

    if scheduler is not None:
        for i, result in _dask(items, fn, n, scheduler):
            yield finished(i, result)
    elif jobs == 1 or len(items) <= 1:
        for i, item in enumerate(items):
            yield finished(*_call(i, fn, item, n))
    else:
        from joblib import Parallel, delayed
        if say:
            say(f"{len(items)} runs on {min(jobs, len(items))} worker processes, "
                f"{n} BLAS thread{'s' * (n > 1)} each")
        with Parallel(n_jobs=min(jobs, len(items)), backend="loky",
                      return_as="generator_unordered") as parallel:
            for i, result in parallel(delayed(_call)(i, fn, item, n)
                                      for i, item in enumerate(items)):
                yield finished(i, result)


def _dask(items, fn, threads, scheduler):
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise ConfigError("invalid scheduler: running on a Dask cluster needs dask.distributed "
                          "(pip install 'minisab[cluster]')") from None
    own = not isinstance(scheduler, Client)
    client = Client(scheduler) if own else scheduler
    try:
        futures = [client.submit(_call, i, fn, item, threads, pure=False)
                   for i, item in enumerate(items)]
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        if own:
            client.close()
