"""The price of reading: the reference (minisab.sab) against the fast engine (minisab.fast).

Times one training step (``loss_and_grads``: forward, loss, backward) of each engine at the sizes
students run (``bench_steps.py``'s models: the ``cpu`` preset of ``compare``, copy task, 3
digits, T=20 blanks, B=32, H=64, A=32, float32; and the tutorials' longer runs, T=100 blanks,
k_att=2), in alternation (reference, fast, reference, ...) in one process, one BLAS thread, so
that a change in machine load hits both alike. The ratio reference / fast is what a student pays
per step for training with the readable code instead of the engine (docs/costs.md)::

    python benchmarks/bench_engines.py --out benchmarks/results/bench_engines.json
    python benchmarks/bench_engines.py --busy 2 --out benchmarks/results/bench_engines_busy.json

``--busy N`` runs N processes that keep a core busy beside it (a student's machine is rarely
idle).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import _common as C  # noqa: I001  (threads, timing and load for every script)
import numpy as np

from bench_steps import MODELS, problem
from minisab import fast, sab

BUSY = "while True: pass"


def engines(model, T_blank, k_att) -> dict:
    """One training step of each engine on the same problem (bench_steps.problem)."""
    params, x, targets, cfg = problem(model, T_blank, k_att)
    return {name: (lambda run=run: run.loss_and_grads(params, x, targets, cfg))
            for name, run in (("reference", sab), ("fast", fast))}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--busy", type=int, default=0, help="busy processes beside the run")
    p.add_argument("--threads", type=int, default=1,
                   help="threads for NumPy's BLAS (default 1; 0 = the default)")
    p.add_argument("--out", help="write the rows to this JSON file")
    args = p.parse_args(argv)
    C.set_threads(args.threads)
    hogs = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(args.busy)]
    try:
        time.sleep(0.5 if hogs else 0)
        before = C.load_line()
        rows = []
        print(f"# one training step, reference vs fast, in alternation; {args.busy} busy "
              f"process(es) beside; {before}")
        print(f"{'model':<11} {'T (blanks)':>10} {'k_att':>5} {'reference med (ms)':>19} "
              f"{'fast med (ms)':>14} {'ratio med':>9}")
        for T_blank, k_att in ((20, 1), (100, 2)):
            for model in MODELS:
                wall = C.interleaved(engines(model, T_blank, k_att), args.repeats)
                ref, fst = (float(np.median(wall[k])) for k in ("reference", "fast"))
                ratios = [a / b for a, b in zip(wall["reference"], wall["fast"])]
                rows.append({"model": model, "T_blank": T_blank, "k_att": k_att,
                             "reference_ms": 1e3 * ref, "fast_ms": 1e3 * fst,
                             "ratio_median": float(np.median(ratios)),
                             "ratio_min": float(np.min(ratios)),
                             "ratio_max": float(np.max(ratios))})
                print(f"{model:<11} {T_blank:>10} {k_att:>5} {1e3 * ref:19.2f} {1e3 * fst:14.2f} "
                      f"{rows[-1]['ratio_median']:9.2f}")
        after = C.load_line()
        print("# " + after)
    finally:
        for h in hogs:
            h.kill()
    if args.out:
        meta = {"date": time.strftime("%Y-%m-%d"), "busy_processes": args.busy,
                "repeats": args.repeats, "threads": args.threads, "cpu_count": os.cpu_count(),
                "load_before": before, "load_after": after,
                "python": sys.version.split()[0], "numpy": np.__version__}
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump({"settings": meta, "rows": rows}, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
