"""The main job and tutorial 05 alone and beside two busy processes.

A student's laptop or a course server is rarely idle. This script times, with minisab's default
settings (no thread variables in the environment, default ``--jobs``),

- the main job, ``python -m minisab compare`` (preset ``cpu``), and
- tutorial 05 in smoke mode (``MINISAB_SMOKE=1``), executed in a Jupyter kernel by nbclient,

each alone and then beside two processes that keep a core busy (``python -c 'while True:
pass'``), in alternation (alone, loaded, alone, loaded ...), so that a change in the machine's
other load hits both alike. Target: loaded at most 2.5x alone. Writes
``benchmarks/results/bench_load.json`` (every timing with the load average around it) and
prints a table; ``python scripts/report.py`` puts the numbers into the READMEs::

    python benchmarks/bench_load.py                  # about 6 minutes on 2 cores
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "MINISAB_THREADS", "MINISAB_SMOKE")
BUSY = "while True: pass"


def default_env() -> dict:
    """This environment without any thread setting: what a user who set nothing gets."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")   # this checkout's minisab
    return env


def cases(tmp: str) -> dict:
    nb = os.path.join(ROOT, "tutorials", "05_experiments.ipynb")
    return {
        "main job (python -m minisab compare)": (
            [sys.executable, "-m", "minisab", "compare", "--runs-dir", tmp, "--name", "load",
             "--overwrite", "--no-progress"], {}),
        "tutorial 05, smoke mode": (
            [sys.executable, os.path.abspath(__file__), "--execute-notebook", nb],
            {"MINISAB_SMOKE": "1"}),
    }


def execute_notebook(path: str) -> None:
    """Run every cell of ``path`` in a fresh kernel, in the notebook's folder (nbclient)."""
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=1200, kernel_name="python3",
                   resources={"metadata": {"path": os.path.dirname(path)}}).execute()


def timed(cmd, env, busy: int) -> dict:
    hogs = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(busy)]
    try:
        time.sleep(0.5 if busy else 0)                  # the busy processes are running
        before = os.getloadavg()[0]
        t0 = time.perf_counter()
        p = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = os.getloadavg()[0]
    finally:
        for h in hogs:                                  # only the processes started here
            h.kill()
            h.wait()
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return {"wall_s": round(wall, 2), "load_before": round(before, 2),
            "load_after": round(after, 2)}


def summarize(runs: list) -> dict:
    out = {}
    for case in dict.fromkeys(r["case"] for r in runs):
        t = {c: [r["wall_s"] for r in runs if r["case"] == case and r["condition"] == c]
             for c in ("alone", "loaded")}
        med = {c: statistics.median(v) for c, v in t.items()}
        out[case] = {"alone_median_s": round(med["alone"], 1),
                     "loaded_median_s": round(med["loaded"], 1),
                     "alone_min_s": min(t["alone"]), "loaded_min_s": min(t["loaded"]),
                     "ratio_median": round(med["loaded"] / med["alone"], 2)}
    return out


def table(doc: dict) -> str:
    lines = ["| run | alone (s, median) | beside 2 busy processes (s, median) | ratio "
             "(target <= 2.5) |", "|---|---|---|---|"]
    for case, s in doc["summary"].items():
        lines.append(f"| {case} | {s['alone_median_s']:.1f} | {s['loaded_median_s']:.1f} | "
                     f"{s['ratio_median']:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=2, help="alone/loaded pairs per case")
    p.add_argument("--busy", type=int, default=2, help="busy processes beside the run")
    p.add_argument("--only", choices=["main", "tutorial"], default=None)
    p.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results",
                                                 "bench_load.json"))
    p.add_argument("--execute-notebook", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.execute_notebook:
        execute_notebook(args.execute_notebook)
        return 0
    sys.path.insert(0, ROOT)
    from minisab.train.checkpoint import atomic_write_text
    from minisab.train.parallel import default_jobs
    from minisab.train.provenance import machine
    from minisab.threads import DEFAULT_THREADS
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        todo = cases(tmp)
        if args.only:
            todo = {k: v for k, v in todo.items() if k.startswith(args.only)}
        for rep in range(args.repeats):
            for case, (cmd, extra) in todo.items():
                for condition, busy in (("alone", 0), ("loaded", args.busy)):
                    r = timed(cmd, {**default_env(), **extra}, busy)
                    runs.append({"case": case, "condition": condition, "repeat": rep, **r})
                    print(f"{case:<40} {condition:<7} {r['wall_s']:8.1f} s   (load average "
                          f"{r['load_before']:.2f} -> {r['load_after']:.2f})", flush=True)
    doc = {"date": datetime.date.today().isoformat(),
           "machine": machine(),     # cores, processor, BLAS and kernel, versions
           "settings": {"busy_processes": args.busy, "repeats": args.repeats,
                        "default_jobs": default_jobs(), "default_threads": DEFAULT_THREADS},
           "runs": runs}
    doc["summary"] = summarize(runs)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    atomic_write_text(args.out, json.dumps(doc, indent=1) + "\n")
    print("\n" + table(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
