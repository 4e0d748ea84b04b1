"""Pixel-by-pixel digits: SAB against truncated and full BPTT on real images.

The task (minisab/datasets.py): an 8×8 UCI digit read one pixel a step (T = 64), its class
predicted at the last step only, so the one loss must reach the first pixels; ``--tasks
pdigits`` reads the pixels in a fixed random order, ``fashion`` reads Fashion-MNIST at
``--image-size`` (T = 196 or 49) from ``--data-dir``. Trains every (task, method, seed) with
minisab's training loop and writes, under ``--out`` (default ``experiments/results/digits``):

- ``runs/<task>/<method>/seed<s>/`` the run folders (not in git);
- ``results.json``                one row per run: the learning curve (step, wall time, test
                                  accuracy, test loss), final and best accuracy, the step and
                                  time at which 50%, 90% and 99% accuracy were first reached;
- ``table.md``                    the table of ``results.json``;
- ``learning_curves.png``         test accuracy against step and against wall time.

Methods (MODEL.md §4): ``sab`` SAB without mental updates (``detach_scores=True``, the setting
``python -m minisab compare`` uses; docs/make_sab_learn.md), ``sab-mental`` MODEL.md's SAB with
mental updates, ``tbptt`` LSTM truncated at the same ``k_trunc``, ``bptt`` LSTM full BPTT,
``softmax`` dense attention with full BPTT (trained only where one training step fits in
``--max-mib``, measured by tracemalloc before training).

Defaults: H = 64, A = 32, k_top = 5, k_att = 4, k_trunc = 8 (one image row of the digits),
Adam 3e-3, batch 32, clip 1, float32; evaluation on the whole test set (360 digits).

Resumable: an interrupted grid continues where it stopped (each run from its last checkpoint;
finished runs are read back, not retrained). Independent runs train side by side in ``--jobs``
worker processes, one BLAS thread each. The full grid (not run by the tests)::

    python experiments/digits.py --jobs 2

A smoke run at tiny sizes: ``python experiments/digits.py --smoke --out /tmp/dg``.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _grid import (LEVELS, Results, curves_figure, fmt_hit, log, parallel_map,  # noqa: E402
                   save_figure, task_from_spec, train_point)

import numpy as np  # noqa: E402

METHODS = {
    "sab": {"attention": "topk", "method": "sab", "detach_scores": True},
    "sab-mental": {"attention": "topk", "method": "sab"},
    "tbptt": {"attention": None, "method": "tbptt"},
    "bptt": {"attention": None, "method": "bptt"},
    "softmax": {"attention": "softmax", "method": "bptt"},
}
COLORS = {"sab": "#009E73", "sab-mental": "#D55E00", "tbptt": "#E69F00", "bptt": "#0072B2",
          "softmax": "#CC79A7"}
HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--tasks", nargs="+", default=["digits"],
                   choices=["digits", "pdigits", "fashion"])
    p.add_argument("--data-dir", default=None, help="fashion: folder of the IDX files")
    p.add_argument("--image-size", type=int, default=14, choices=[14, 7, 28],
                   help="fashion: image side")
    p.add_argument("--methods", nargs="+", choices=list(METHODS),
                   default=["sab", "tbptt", "bptt"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--hidden-size", type=int, default=64)
    p.add_argument("--attn-size", type=int, default=32)
    p.add_argument("--k-top", type=int, default=5)
    p.add_argument("--k-att", type=int, default=4)
    p.add_argument("--k-trunc", type=int, default=8)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--forget-bias", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--eval-batch", type=int, default=360,
                   help="test images per evaluation (360: all the digits' test set)")
    p.add_argument("--target", type=float, default=None,
                   help="stop a run once its test accuracy reaches this")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--max-mib", type=float, default=8192,
                   help="dense attention is trained only if one step needs at most this")
    p.add_argument("--jobs", type=int, default=2, help="runs trained side by side")
    p.add_argument("--out", default=os.path.join(HERE, "results", "digits"))
    p.add_argument("--fresh", action="store_true", help="retrain runs that exist")
    p.add_argument("--plot-only", action="store_true", help="only redraw from results.json")
    p.add_argument("--smoke", action="store_true",
                   help="tiny sizes (H=8, 4 steps, 16 test images) to check the script")
    if "--smoke" in (sys.argv[1:] if argv is None else argv):   # tiny defaults; flags win
        p.set_defaults(steps=4, hidden_size=8, attn_size=4, eval_every=2, eval_batch=16,
                       batch=4, seeds=[0])
    return p.parse_args(argv)


def points(args) -> list:
    out = []
    for seed in args.seeds:                 # seeds outermost: a cut grid has every method
        for name in args.tasks:
            for m in args.methods:
                model = {"hidden_size": args.hidden_size, "attn_size": args.attn_size,
                         "k_top": args.k_top, "k_att": args.k_att, "k_trunc": args.k_trunc,
                         "dtype": args.dtype, **METHODS[m]}
                out.append({
                    "key": {"task": name, "method": m, "seed": seed},
                    "run_dir": os.path.join(args.out, "runs", name, m, f"seed{seed}"),
                    "task": ({"name": name, "T": None} if name != "fashion" else
                             {"name": name, "T": None, "data_dir": args.data_dir,
                              "image_size": args.image_size}),
                    "model": model,
                    "train": {"steps": args.steps, "batch": args.batch, "lr": args.lr,
                              "clip": args.clip, "seed": seed, "forget_bias": args.forget_bias,
                              "eval_every": args.eval_every, "eval_batch": args.eval_batch,
                              "target": args.target}})
    return out


def step_mib(point) -> float:
    """Peak memory (MiB) of one training step of ``point`` (tracemalloc, runs.py)."""
    from minisab.config import Config
    from minisab.params import init_params
    from minisab.runs import peak_step_memory
    task = task_from_spec(point["task"])
    cfg = Config(input_size=task.input_size, output_size=task.output_size, **point["model"])
    params = init_params(cfg, seed=0)
    return peak_step_memory(params, cfg, task, point["train"]["batch"])


def run(item):
    point, fresh, max_mib = item
    key = point["key"]
    if key["method"] == "softmax":
        mib = step_mib(point)
        if mib > max_mib:
            log(f"skip {key['task']} softmax seed={key['seed']}: one step needs {mib:.0f} MiB "
                f"> --max-mib {max_mib:g}")
            return {**key, "skipped": f"one step needs {mib:.0f} MiB", "step_mib": mib}
    log(f"start {key['task']} {key['method']} seed={key['seed']}")
    return train_point(point, fresh)


def table(rows) -> str:
    head = ("| task | method | seed | steps | final test acc | best test acc | "
            + " | ".join(f"{lv:.0%} acc (step / time)" for lv in LEVELS) + " | wall s |")
    lines = [head, "|" + "---|" * (7 + len(LEVELS))]
    order = list(METHODS)
    for r in sorted(rows, key=lambda r: (r["task"], order.index(r["method"]), r["seed"])):
        if "skipped" in r:
            lines.append(f"| {r['task']} | {r['method']} | {r['seed']} | skipped: {r['skipped']} |"
                         + " |" * (3 + len(LEVELS)))
            continue
        hits = " | ".join(fmt_hit(r[f"step_{lv:g}"], r[f"time_{lv:g}"]) for lv in LEVELS)
        lines.append(f"| {r['task']} | {r['method']} | {r['seed']} | {r['steps']} | "
                     f"{r['final']:.3f} | {r['best']:.3f} | {hits} | {r['wall_s']:.0f} |")
    return "\n".join(lines) + "\n"


def write_outputs(args, res: Results) -> None:
    from minisab.checkpoint import atomic_write_text
    res.save()
    atomic_write_text(os.path.join(args.out, "table.md"), table(res.rows))
    trained = [r for r in res.rows if "skipped" not in r]
    names = sorted({r["task"] for r in trained})
    if names:
        fig = curves_figure(trained, "task", names, list(METHODS), COLORS,
                            lambda n: f"{n}, pixel by pixel", "test accuracy (last step)")
        save_figure(fig, os.path.join(args.out, "learning_curves.png"))


def main(argv=None) -> int:
    args = parse_args(argv)
    settings = {k: v for k, v in vars(args).items() if k not in ("fresh", "plot_only", "jobs")}
    res = Results(args.out, settings, ("task", "method", "seed"))
    if not args.plot_only:
        def done(row):
            res.add(row)
            write_outputs(args, res)
            if "skipped" not in row:
                log(f"done {row['task']} {row['method']} seed={row['seed']}: final test acc "
                    f"{row['final']:.3f}, {row['steps']} steps, {row['wall_s']} s")
        parallel_map(run, [(p, args.fresh, args.max_mib) for p in points(args)], args.jobs,
                     done)
    write_outputs(args, res)
    print(table(res.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
