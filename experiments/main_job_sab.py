"""Which SAB at the main job's size? The four SAB settings of the mental-updates grid, at the
size of ``python -m minisab compare`` (preset ``cpu``: copy task, 3 digits, T = 20, H = 64,
2000 steps), over seeds 0-4.

The grid of docs/make_sab_learn.md asks "are mental updates important?" at T = 50 and 100; this
script asks the same at the main job's own size, where the README's table is made, so that the
choice of the one SAB (``minisab.train.runs.sab_method()``) rests on both. Writes, under ``--out``
(default ``experiments/results/main_job_sab``), ``results.json`` (one row per run: setting,
seed, final recall accuracy) and ``table.md``. About two minutes on 2 cores::

    python experiments/main_job_sab.py
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

from minisab.train.checkpoint import atomic_write_text
from minisab.train.parallel import default_jobs, run_all
from minisab.train.provenance import machine
from minisab.train.runs import PRESETS, config_for
from minisab.train.settings import script_defaults
from minisab.train.tasks import make_task
from minisab.train import TrainConfig, train

SETTINGS = {   # name -> the SAB's method fields (runs.METHODS style)
    "threshold, no mental updates (the main job)": {"detach_scores": True},
    "threshold, mental updates (docs/model.md)": {"detach_scores": False},
    "softmax, mental updates": {"detach_scores": False, "sparsifier": "softmax"},
    "softmax, no mental updates": {"detach_scores": True, "sparsifier": "softmax"},
}


def run_one(item):
    """Train one (setting, seed, preset) with the preset's settings; returns its row."""
    name, seed, preset = item
    p = PRESETS[preset]
    spec = dict(p["task"])
    task = make_task(spec.pop("name"), spec.pop("T"), **spec)
    cfg = config_for(task, {"attention": "topk", "method": "sab", **SETTINGS[name]}, **p["model"])
    tc = TrainConfig(**{**p["train"], "seed": seed})
    with tempfile.TemporaryDirectory() as d:
        result = train(cfg, task, tc, d, progress=False, log=lambda *a: None)
    return {"setting": name, "seed": seed, "final_acc": result["records"][-1]["accuracy"],
            "steps": result["step"]}


def table(rows) -> str:
    out = ["| SAB setting | solved (final recall >= 0.98) | final recall per seed |",
           "|---|---|---|"]
    for name in SETTINGS:
        rs = sorted((r for r in rows if r["setting"] == name), key=lambda r: r["seed"])
        solved = sum(r["final_acc"] >= 0.98 for r in rs)
        out.append(f"| {name} | {solved} of {len(rs)} | "
                   + ", ".join(f"{r['final_acc']:.2f}" for r in rs) + " |")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--preset", default="cpu", choices=sorted(PRESETS),
                   help="the preset of python -m minisab compare whose task, model and training "
                        "every run takes")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--jobs", type=int, default=default_jobs())
    p.add_argument("--out", default=os.path.join("experiments", "results", "main_job_sab"))
    script_defaults(p, argv, os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs",
                                          "main_job_sab.toml"))
    args = p.parse_args(argv)
    items = [(name, s, args.preset) for s in args.seeds for name in SETTINGS]
    rows = [row for _, row in run_all(run_one, items, jobs=args.jobs)]
    os.makedirs(args.out, exist_ok=True)
    atomic_write_text(os.path.join(args.out, "results.json"),
                      json.dumps({"preset": args.preset, "seeds": args.seeds,
                                  "machine": machine(), "runs": rows}, indent=1)
                      + "\n")
    atomic_write_text(os.path.join(args.out, "table.md"), table(rows))
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
