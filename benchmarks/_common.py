"""Shared set-up for the benchmark scripts: threads, backends, timing and machine load.

Threads: both libraries get ``minisab.threads``' count (``set_threads``: default 1, issue 11;
``BENCH_THREADS=N`` or ``MINISAB_THREADS=N`` to change it), set with threadpoolctl.
"""
from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np  # noqa: E402

try:
    import minisab  # noqa: E402,F401  (installed, e.g. `pip install -e .`)
except ImportError:     # run from a plain checkout
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from minisab.backend import get_backend, to_host  # noqa: E402
from minisab.threads import set_threads  # noqa: E402

# BLAS threads through minisab's own setting (minisab.threads: default 1, the fastest at these
# sizes; BENCH_THREADS or MINISAB_THREADS to change it); PyTorch gets the same count.
THREADS = set_threads(os.environ.get("BENCH_THREADS") or None)

try:
    import torch  # noqa: E402
    torch.set_num_threads(THREADS)
except ImportError:     # the PyTorch columns are simply left out
    torch = None


def add_common_args(parser):
    parser.add_argument("--backend", default="numpy", choices=["numpy", "cupy", "strict"],
                        help="minisab array backend (cupy needs a GPU; torch then runs on cuda)")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats (min/median reported)")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch columns")
    return parser


def synchronizer(backend_name):
    """A function that waits for the device (CuPy and CUDA torch run asynchronously)."""
    def sync():
        if backend_name == "cupy":
            import cupy
            cupy.cuda.Device().synchronize()
            if torch is not None and torch.cuda.is_available():
                torch.cuda.synchronize()
    return sync


def torch_device(backend_name):
    return "cuda" if backend_name == "cupy" and torch is not None and torch.cuda.is_available() else "cpu"


def timeit(fn, repeats, sync=lambda: None, warmup=1):
    """Run ``fn`` ``warmup`` times, then ``repeats`` timed times: returns the list of seconds."""
    for _ in range(warmup):
        fn()
        sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return times


def interleaved(fns: dict, repeats, sync=lambda: None):
    """Time several functions in alternation (A B A B ...), so that a change in machine load
    hits all of them alike. Returns name -> list of seconds."""
    for fn in fns.values():
        fn()
        sync()
    out = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            sync()
            out[name].append(time.perf_counter() - t0)
    return out


def stats(times):
    return min(times), statistics.median(times)


def load_line():
    """Machine load, to print with every table (the machine is shared)."""
    la = os.getloadavg()
    return (f"load average {la[0]:.2f} {la[1]:.2f} {la[2]:.2f} on {os.cpu_count()} cores; "
            f"threads={THREADS}; numpy {np.__version__}"
            + (f"; torch {torch.__version__}" if torch is not None else "; torch not installed"))
