"""Which BLAS thread count is fastest at minisab's sizes: the default of
``minisab.threads``.

Times a training step (``loss_and_grads``) of the main job's three models (B=32, H=64, copy task
with T=20 blanks, float32) and of SAB at the benchmark size (B=64, H=128, T=120), with 1 and 2
BLAS threads set by ``minisab.use_threads``, in one process and in alternation (1, 2, 1, 2, ...)
so that a change in machine load hits both alike::

    python benchmarks/bench_threads.py      # writes benchmarks/results/bench_threads.json
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402
from bench_steps import MODELS, step_fn  # noqa: E402

from minisab.config import Config  # noqa: E402
from minisab.params import init_params  # noqa: E402
from minisab.fast import loss_and_grads  # noqa: E402
from minisab.train.provenance import machine  # noqa: E402
from minisab.threads import use_threads  # noqa: E402


def big_sab(dtype="float32", B=64, H=128, T=120, seed=0):
    cfg = Config(input_size=10, hidden_size=H, output_size=10, attn_size=64, k_top=5, k_att=2,
                 k_trunc=5, dtype=dtype, attention="topk", method="sab")
    params = init_params(cfg, seed=seed)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(B, T, 10)).astype(dtype)
    targets = rng.integers(0, 10, size=(B, T))
    return lambda: loss_and_grads(params, x, targets, cfg)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                 "results", "bench_threads.json"))
    args = p.parse_args(argv)
    load0, rows = os.getloadavg()[0], []
    cases = {f"{m} (main job, T=20)": step_fn(m, 20, 1) for m in MODELS}
    cases["sab B=64 H=128 T=120"] = big_sab()
    print("# training step (forward + backward) against BLAS threads, in alternation")
    print("# " + C.load_line())
    print(f"{'case':<30} " + " ".join(f"{f'{n} thr min/med (ms)':>22}" for n in args.threads)
          + f" {'last/first':>10}")
    for name, fn in cases.items():
        times = {n: [] for n in args.threads}
        for n in args.threads:                       # warm-up
            with use_threads(n):
                fn()
        for _ in range(args.repeats):
            for n in args.threads:
                with use_threads(n):
                    t0 = time.perf_counter()
                    fn()
                    times[n].append(time.perf_counter() - t0)
        cols = " ".join(f"{1e3 * min(t):10.2f} / {1e3 * np.median(t):9.2f}"
                        for t in times.values())
        first, last = args.threads[0], args.threads[-1]
        print(f"{name:<30} {cols} {min(times[last]) / min(times[first]):10.2f}")
        rows.append({"case": name, **{str(n): {"min_ms": round(1e3 * min(t), 3),
                                               "median_ms": round(1e3 * float(np.median(t)), 3)}
                                      for n, t in times.items()}})
    print("# " + C.load_line())
    from minisab.train.checkpoint import atomic_write_text
    doc = {"date": datetime.date.today().isoformat(), "threads": args.threads,
           "repeats": args.repeats, "load": [round(load0, 2), round(os.getloadavg()[0], 2)],
           "machine": machine(),
           "numpy": np.__version__, "rows": rows}
    atomic_write_text(args.out, json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
