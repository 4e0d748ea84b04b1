"""How many threads the BLAS (NumPy's matrix products) may use while minisab computes.

minisab's matrices are small (the main job multiplies 32×64 by 64×256); at these sizes a second
BLAS thread costs more than it saves, and on a busy machine its spinning threads wait for a core
and make a run many times slower (``benchmarks/bench_threads.py`` measures it). So
minisab runs its work with ``DEFAULT_THREADS = 1`` thread and takes the parallelism from
independent runs instead (``minisab.train.parallel``).

The thread count is chosen, first match wins, by

1. the ``threads=`` argument of ``train``, ``evaluate``, ``run_compare``, ``check_model`` ...;
2. the innermost ``with minisab.use_threads(n):`` block, or the last ``minisab.set_threads(n)``;
3. the environment variable ``MINISAB_THREADS``;
4. ``DEFAULT_THREADS``.

The command line passes ``--threads N`` as (2). The limit is applied with ``threadpoolctl``
(to every BLAS and OpenMP pool loaded in the process) for the duration of the call and then
restored, so minisab does not change how the rest of a program runs, except after
``set_threads``, which is meant for notebooks and scripts and applies until changed.
"""
from __future__ import annotations

import contextlib
import functools
import os
from contextvars import ContextVar

from threadpoolctl import threadpool_limits

from .config import ConfigError

DEFAULT_THREADS = 1
ENV = "MINISAB_THREADS"

_chosen: ContextVar = ContextVar("minisab_threads_chosen", default=None)    # (2): a with block
_applied: ContextVar = ContextVar("minisab_threads_applied", default=None)  # limit in force now
_process = {"n": None, "limiter": None}                                     # (2): set_threads


class ThreadsError(ConfigError):
    """A thread count that is not an integer >= 1 (a ConfigError: the CLI exits with 2)."""


def _check(n, where: str) -> int:
    if isinstance(n, str):
        try:
            n = int(n.strip())
        except ValueError:
            pass
    if not (isinstance(n, int) and not isinstance(n, bool) and n >= 1):
        raise ThreadsError(f"invalid {where}={n!r}: accepted values are integers >= 1 "
                           f"(BLAS threads per process; default {DEFAULT_THREADS})")
    return n


def resolve_threads(threads=None) -> int:
    """The thread count that applies now: ``threads`` if given, else (2), (3), (4) above."""
    if threads is not None:
        return _check(threads, "threads")
    if _chosen.get() is not None:
        return _chosen.get()
    if _process["n"] is not None:
        return _process["n"]
    env = os.environ.get(ENV)
    if env not in (None, ""):
        return _check(env, ENV)
    return DEFAULT_THREADS


@contextlib.contextmanager
def use_threads(n=None):
    """``with use_threads(n):`` runs the block with ``n`` BLAS threads (``None``: the setting that
    applies, see the module docstring); nested minisab calls inherit ``n``. Yields ``n``."""
    n = resolve_threads(n)
    chosen, applied = _chosen.set(n), _applied.set(n)
    try:
        with threadpool_limits(limits=n):
            yield n
    finally:
        _applied.reset(applied)
        _chosen.reset(chosen)


def set_threads(n=None) -> int:
    """Use ``n`` BLAS threads from now on in this process (notebooks, scripts): a one-line
    ``minisab.set_threads()`` gives the default. Returns the count set."""
    n = resolve_threads(n)
    if _process["limiter"] is None:                 # remember the original, for reset_threads
        _process["limiter"] = threadpool_limits(limits=n)
    else:
        threadpool_limits(limits=n)
    _process["n"] = n
    return n


def reset_threads() -> None:
    """Undo ``set_threads``: the BLAS pools get back the sizes they had before it."""
    if _process["limiter"] is not None:
        _process["limiter"].restore_original_limits()
    _process.update(n=None, limiter=None)


def with_threads(fn):
    """Decorator: ``fn(..., threads=None)`` runs under ``use_threads(threads)`` (a no-op when that
    limit is already in force, e.g. inside the CLI or a training loop)."""
    @functools.wraps(fn)
    def wrapper(*args, threads=None, **kwargs):
        n = resolve_threads(threads)
        if _applied.get() == n:
            return fn(*args, **kwargs)
        with use_threads(n):
            return fn(*args, **kwargs)
    wrapper.__doc__ = (fn.__doc__ or "") + (
        "\n\n    ``threads``: BLAS threads for this call (default: ``minisab.threads`` rules, "
        "1 unless set; ``minisab.threads``).\n")
    return wrapper
