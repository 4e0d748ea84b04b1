"""Shared set-up for the benchmark scripts: threads, backends, timing and machine load.

Threads: both libraries run with the same number of threads, by default ONE, set
after the arguments are parsed by ``set_threads``: NumPy's BLAS (and any OpenMP pool) through
``minisab.threads`` (threadpoolctl), PyTorch's intra-op pool with ``torch.set_num_threads``.
``--threads 0`` leaves every library at its own default.
"""
from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np
from threadpoolctl import threadpool_info

try:
    import torch
except ImportError:     # the PyTorch columns are simply left out
    torch = None

try:
    import minisab  # noqa: E402,F401  (installed, e.g. `pip install -e .`)
except ImportError:     # run from a plain checkout
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from minisab.backend import get_backend, to_host  # noqa: E402,F401  (C.get_backend, C.to_host)
from minisab.train.provenance import blas_words, machine  # noqa: E402
from minisab.threads import set_threads as _set_minisab_threads  # noqa: E402


def set_threads(n: int) -> None:
    """Run NumPy's BLAS (minisab.threads) and PyTorch with ``n`` threads each (0: defaults)."""
    if n > 0:
        _set_minisab_threads(n)
        if torch is not None:
            torch.set_num_threads(n)


def threads_line() -> str:
    """What the thread pools are set to now, as measured (not as requested)."""
    pools = ", ".join(f"{p['internal_api']}={p['num_threads']}"
                      + (f" ({p['architecture']} kernels)" if p.get("architecture") else "")
                      for p in sorted(threadpool_info(), key=lambda p: p["internal_api"]))
    return pools + (f", torch={torch.get_num_threads()}" if torch is not None else "")


def add_common_args(parser):
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for NumPy's BLAS and for PyTorch (default 1; 0 = defaults)")
    parser.add_argument("--backend", default="numpy", choices=["numpy", "cupy", "strict"],
                        help="minisab array backend (cupy needs a GPU; torch then runs on cuda)")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats (min/median reported)")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch columns")
    return parser


def add_lstm_sizes(parser):
    """The plain LSTM benchmark's sizes (bench_lstm.py, bench_lstm_parts.py): B T I H C."""
    for name, default in (("B", 64), ("T", 120), ("I", 10), ("H", 128), ("C", 10)):
        parser.add_argument(f"--{name}", type=int, default=default)
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


def interleaved(fns: dict, repeats, sync=lambda: None, cpu=None):
    """Time several functions in alternation (A B A B ...), so that a change in machine load
    hits all of them alike. Returns name -> list of wall-clock seconds.

    ``cpu`` (a dict, optional) receives name -> list of CPU seconds of this process for the
    same calls (``time.process_time``). On a busy machine a process waits for a core, and
    wall time counts the wait while CPU time does not: with one thread on each side the CPU
    ratio is the fairer one under load (it still feels shared caches and memory bandwidth).
    """
    for fn in fns.values():
        fn()
        sync()
    out = {name: [] for name in fns}
    if cpu is not None:
        cpu.update({name: [] for name in fns})
    for _ in range(repeats):
        for name, fn in fns.items():
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            sync()
            out[name].append(time.perf_counter() - t0)
            if cpu is not None:
                cpu[name].append(time.process_time() - c0)
    return out


def stats(times):
    return min(times), statistics.median(times)


COLUMNS = (f"{'minisab min/med (ms)':>22} {'torch min/med (ms)':>20} {'ratio min':>9} "
           f"{'ratio med':>9} {'cpu ratio min':>13} {'cpu ratio med':>13}")


def columns(wall, cpu):
    """minisab and torch wall times, the wall ratios and the CPU-time ratios (see COLUMNS)."""
    m_min, m_med = stats(wall["minisab"])
    line = f"{m_min * 1e3:10.1f} /{m_med * 1e3:8.1f}   "
    if "torch" not in wall:
        return line
    t_min, t_med = stats(wall["torch"])
    c_m, c_t = stats(cpu["minisab"]), stats(cpu["torch"])
    return line + (f"{t_min * 1e3:9.1f} /{t_med * 1e3:8.1f}  {m_min / t_min:9.2f} "
                   f"{m_med / t_med:9.2f} {c_m[0] / c_t[0]:13.2f} {c_m[1] / c_t[1]:13.2f}")


def load_line():
    """Machine load, to print with every table (the machine is shared)."""
    la = os.getloadavg()
    return (f"load average {la[0]:.2f} {la[1]:.2f} {la[2]:.2f} on {os.cpu_count()} cores; "
            f"threads: {threads_line()}; numpy {np.__version__}; {blas_words(machine())}"
            + (f"; torch {torch.__version__}" if torch is not None else "; torch not installed"))
