"""What made a number: the machine, the BLAS library and its kernel, the versions.

A float32 training run gives the same bits every time on one machine, but another BLAS kernel
(OpenBLAS picks one for the processor: Haswell, SkylakeX, Zen, NeoverseN1, ...) adds up its
products in another order, and over thousands of steps the last bits grow into another learning
curve. So every results file records ``machine()``: with the same library, version and kernel
(``OPENBLAS_CORETYPE=<architecture>`` forces OpenBLAS's choice) and the same thread count, a
run gives the same bits on another machine.

``machine()`` returns a JSON-ready dict::

    {"processor": "AMD EPYC", "machine": "x86_64", "cores": 2, "system": "Linux",
     "python": "3.11.7", "numpy": "2.4.6",
     "blas": [{"internal_api": "openblas", "version": "0.3.31", "architecture": "Haswell",
               "threading_layer": "pthreads", "num_threads": 1}],
     "threads": 1, "env": {"OPENBLAS_CORETYPE": null, ...}}

``blas`` is threadpoolctl's report of every BLAS and OpenMP pool loaded in this process, at
the moment of the call (``num_threads`` is the pool's size then); ``threads`` is the BLAS thread
count minisab's runs use (``minisab.threads``). ``describe(m)`` is the one-line form for a
summary or a README.
"""
from __future__ import annotations

import os
import platform

# The environment variables that change which kernel or how many threads a BLAS uses.
ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
            "MKL_ENABLE_INSTRUCTIONS", "MINISAB_THREADS")
_POOL_KEYS = ("user_api", "internal_api", "version", "architecture", "threading_layer",
              "num_threads")


def processor() -> str:
    """The processor's name: ``platform.processor()``, or Linux's ``/proc/cpuinfo`` model name
    where that is empty, or the machine type (``x86_64``, ``arm64``)."""
    name = platform.processor()
    if name and name not in ("x86_64", "aarch64", "arm64", "i386"):
        return name
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return name or platform.machine()


def blas_pools() -> list:
    """threadpoolctl's report of the loaded BLAS / OpenMP pools, the fields that identify them."""
    import numpy  # noqa: F401  (loads NumPy's BLAS, so that it is reported)
    from threadpoolctl import threadpool_info
    return [{k: pool.get(k) for k in _POOL_KEYS} for pool in threadpool_info()]


def machine(threads=None) -> dict:
    """The machine, the BLAS and its kernel, the versions (module docstring); ``threads``: the
    BLAS threads per run when a script sets them (default: ``minisab.threads``' rules)."""
    import numpy as np

    from ..threads import resolve_threads
    return {"processor": processor(), "machine": platform.machine(), "cores": os.cpu_count(),
            "system": platform.system(), "python": platform.python_version(),
            "numpy": np.__version__, "blas": blas_pools(), "threads": resolve_threads(threads),
            "env": {k: os.environ.get(k) for k in ENV_VARS}}


def openblas_kernel(m: dict) -> str | None:
    """The OpenBLAS kernel a ``machine()`` record names ("Haswell"; None where it names none:
    another BLAS, or a record made before kernels were recorded)."""
    for pool in (m or {}).get("blas") or []:
        if pool.get("internal_api") == "openblas" and pool.get("architecture"):
            return pool["architecture"]
    return None


def segments(config: dict) -> list:
    """A run's starts as its ``config.json`` records them: ``segments``' entries
    (``{"from_step", "machine"}``), or, for a record written before starts were kept, its one
    ``machine`` with ``"from_step": None`` (not recorded); [] where it names no machine."""
    got = config.get("segments")
    if isinstance(got, list) and got:
        return [s for s in got if isinstance(s, dict) and "machine" in s]
    m = config.get("machine")
    return [{"from_step": None, "machine": m}] if isinstance(m, dict) else []


def run_kernels(config: dict) -> list:
    """``[(from_step, kernel), ...]``: the OpenBLAS kernel of each start of a run, from its
    ``config.json`` (``segments()``; ``[(None, None)]`` where it names no machine)."""
    return [(s.get("from_step"), openblas_kernel(s["machine"]))
            for s in segments(config)] or [(None, None)]


def first_kernel(config: dict) -> str | None:
    """The OpenBLAS kernel that trained a run's first steps: its first start's, where that
    start is recorded from step 0, else the last start's (``machine``)."""
    step, kernel = run_kernels(config)[0]
    return kernel if step == 0 else openblas_kernel(config.get("machine"))


def blas_words(m: dict) -> str:
    """"OpenBLAS 0.3.31, Haswell kernel" (or each pool's, joined)."""
    pools = [p for p in m.get("blas", []) if p.get("user_api") == "blas"] or m.get("blas", [])
    names = {"openblas": "OpenBLAS", "mkl": "MKL", "blis": "BLIS", "accelerate": "Accelerate"}
    words = []
    for p in pools:
        kernel = f", {p['architecture']} kernel" if p.get("architecture") else ""
        words.append(f"{names.get(p.get('internal_api'), p.get('internal_api'))} "
                     f"{p.get('version')}{kernel}")
    return "; ".join(words) or "no BLAS reported"


def describe(m: dict) -> str:
    """One line: processor, cores, BLAS and kernel, threads, NumPy and Python versions."""
    forced = (m.get("env") or {}).get("OPENBLAS_CORETYPE")
    return (f"{m['processor']} ({m['machine']}, {m['cores']} cores), {blas_words(m)}"
            + (f" (forced by OPENBLAS_CORETYPE={forced})" if forced else "")
            + f", {m['threads']} BLAS thread(s) per run, NumPy {m['numpy']}, "
              f"Python {m['python']}")
