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

A worker process dies with the process that started it, however that one ends (``kill -9``
included): each worker polls its parent's process id (``_die_with``) and kills itself within a
quarter of a second once the parent is gone, so that no worker goes on writing a run folder
that a resumed comparison is writing again. (Polling rather than Linux's ``PR_SET_PDEATHSIG``:
it works on every POSIX system, and ``PDEATHSIG`` fires when the *thread* that started the
worker ends, which in loky need not be the main thread.)
"""
from __future__ import annotations

import importlib.machinery
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator

from ..config import ConfigError
from ..threads import resolve_threads, use_threads


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


POLL_S = 0.25       # how often a worker checks that its parent is alive


def _die_with(parent: int) -> None:
    """Start (once per worker process) a thread that kills this process as soon as ``parent``,
    the process that runs ``run_all``, has ended: its parent process id then changes (to 1 or
    a subreaper), also while ``parent`` is an unreaped zombie."""
    if parent == os.getpid() or any(t.name == "minisab-die-with-parent"
                                    for t in threading.enumerate()):
        return
    if os.getppid() != parent:          # started by a helper process: watch the pid itself
        def gone():
            try:
                os.kill(parent, 0)
                return False
            except ProcessLookupError:
                return True
            except PermissionError:
                return False
    else:
        def gone():
            return os.getppid() != parent

    def watch():
        while not gone():
            time.sleep(POLL_S)
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))

    threading.Thread(target=watch, name="minisab-die-with-parent", daemon=True).start()


def _call_shipped(index: int, fn_bytes: bytes, item, threads: int, path: list,
                  parent: int = 0):
    """``_call`` in a worker process that may have started before the parent extended its
    ``sys.path`` (a script's folder, for its helper modules): the worker takes the parent's
    entries first, then unpickles the function. The worker dies with ``parent``."""
    import pickle
    if parent:
        _die_with(parent)
    for entry in path:
        if entry not in sys.path:
            sys.path.append(entry)
    return _call(index, pickle.loads(fn_bytes), item, threads)


def _ship(fn: Callable) -> bytes:
    try:
        import cloudpickle                      # what joblib's loky and Dask pickle with
    except ImportError:
        import pickle as cloudpickle
    return cloudpickle.dumps(fn)


def _send_by_value_if_needed(fn) -> None:
    """A function whose module a fresh worker cannot import by name (a script loaded from its
    path under another name, as tests and notebooks do) is sent by value instead: cloudpickle,
    which joblib and Dask use, sends ``__main__``'s functions by value already."""
    name = getattr(fn, "__module__", None)
    if not name or name == "__main__" or "." in name or name not in sys.modules:
        return
    if importlib.machinery.PathFinder.find_spec(name, sys.path) is not None:
        return                                                  # importable from sys.path
    try:
        import cloudpickle                      # what joblib's loky and Dask pickle with
    except ImportError:                         # plain pickle then: nothing to register
        return
    cloudpickle.register_pickle_by_value(sys.modules[name])


def run_all(fn: Callable, items: Iterable, jobs: int | None = None, scheduler=None,
            threads=None, describe: Callable = str, log: Callable | None = None
            ) -> Iterator[tuple]:
    """Yield ``(item, fn(item))`` for every item, in the order the runs finish.

    ``fn`` must be picklable (a module-level function) when ``jobs > 1`` or with a
    ``scheduler``. ``describe(item)`` names a run in the progress lines printed by ``log``
    (default: stderr; ``log=False``: silent). ``threads``: BLAS threads of every run.
    """
    items = list(items)
    _send_by_value_if_needed(fn)
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
            shipped, path = _ship(fn), list(sys.path)
            for i, result in parallel(delayed(_call_shipped)(i, shipped, item, n, path,
                                                             os.getpid())
                                      for i, item in enumerate(items)):
                yield finished(i, result)


SCHEDULER_FORM = "'tcp://host:port' (or 'tls://host:port'), e.g. 'tcp://127.0.0.1:8786'"


def check_scheduler(scheduler, timeout: float = 5.0):
    """A scheduler address of the form ``tcp://host:port`` that answers within ``timeout``
    seconds (a ``Client`` or cluster object is passed through unchecked)."""
    if scheduler is None or not isinstance(scheduler, str) or scheduler.startswith("inproc://"):
        return scheduler                    # inproc: a scheduler inside this process
    scheme, sep, rest = scheduler.partition("://")
    host, colon, port = rest.rpartition(":")
    host = host.strip("[]")                                 # [::1]:8786
    if not (sep and scheme in ("tcp", "tls") and colon and host and port.isdigit()
            and 1 <= int(port) <= 65535 and "/" not in rest):
        raise ConfigError(f"invalid scheduler={scheduler!r}: accepted values are addresses "
                          f"{SCHEDULER_FORM}, the address a Dask scheduler prints")
    import socket
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as e:
        why = (f"no answer within {timeout:g} s" if isinstance(e, TimeoutError)
               else e.strerror or type(e).__name__)
        raise ConfigError(f"invalid scheduler={scheduler!r}: nothing answers at {host}:{port} "
                          f"({why}); start the scheduler first ('dask scheduler' prints its "
                          "address), or check the host and port") from None
    return scheduler


def _dask(items, fn, threads, scheduler):
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise ConfigError("invalid scheduler: running on a Dask cluster needs dask.distributed "
                          "(pip install 'minisab[cluster]')") from None
    own = not isinstance(scheduler, Client)
    if own:
        check_scheduler(scheduler)
        try:
            client = Client(scheduler)
        except OSError as e:                # e.g. a port that answers but is no scheduler
            raise ConfigError(f"invalid scheduler={scheduler!r}: no Dask scheduler answers "
                              f"there ({e}); give the address 'dask scheduler' prints") from None
    else:
        client = scheduler
    try:
        futures = [client.submit(_call, i, fn, item, threads, pure=False)
                   for i, item in enumerate(items)]
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        if own:
            client.close()
