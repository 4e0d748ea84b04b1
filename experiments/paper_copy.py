"""The paper's copy task: 10 digits of 8 symbols recalled after T = 100 and 200 blanks.

Trains every (T, method, seed) with minisab's training loop and writes, under ``--out``
(default ``experiments/results/paper_copy``):

- ``runs/T<T>/<method>/seed<s>/`` the run folders (config.json, metrics.jsonl, checkpoint.npz;
                                  not in git); ``transfer_long.py`` reads the T=100 ones;
- ``results.json``                one row per run: the learning curve (step, wall time, recall
                                  accuracy, held-out loss), final and best recall, the step and
                                  time at which 50%, 90% and 99% recall were first reached;
- ``table.md``                    the table of ``results.json``;
- ``learning_curves.png``         recall accuracy against step and against wall time.

Methods (MODEL.md §4): ``sab`` SAB without mental updates (``detach_scores=True``, the setting
``python -m minisab compare`` uses; docs/make_sab_learn.md), ``sab-mental`` MODEL.md's SAB with
mental updates, ``tbptt`` LSTM truncated at the same ``k_trunc``, ``bptt`` LSTM full BPTT,
``softmax`` dense attention with full BPTT (trained only where one training step fits in
``--max-mib``, measured by tracemalloc before training).

Model and training default to the ``paper`` preset of ``python -m minisab compare`` (H = 128,
A = 64, k_top = 5, k_att = 2, k_trunc = 5, Adam 1e-3, batch 32, clip 1, float32).

Resumable: an interrupted grid continues where it stopped (each run from its last checkpoint;
finished runs are read back, not retrained). Independent runs train side by side in ``--jobs``
worker processes, one BLAS thread each. The full grid (not run by the tests)::

    python experiments/paper_copy.py --jobs 2

A smoke run at tiny sizes: ``python experiments/paper_copy.py --smoke --out /tmp/pc``.
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
    p.add_argument("--T", type=int, nargs="+", default=[100, 200])
    p.add_argument("--methods", nargs="+", choices=list(METHODS),
                   default=["sab", "tbptt", "bptt", "softmax"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--n-digits", type=int, default=10)
    p.add_argument("--n-symbols", type=int, default=8)
    p.add_argument("--hidden-size", type=int, default=128)
    p.add_argument("--attn-size", type=int, default=64)
    p.add_argument("--k-top", type=int, default=5)
    p.add_argument("--k-att", type=int, default=2)
    p.add_argument("--k-trunc", type=int, default=5)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--forget-bias", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--eval-batch", type=int, default=512)
    p.add_argument("--target", type=float, default=None,
                   help="stop a run once its recall accuracy reaches this (e.g. 0.99)")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--max-mib", type=float, default=8192,
                   help="dense attention is trained only if one step needs at most this")
    p.add_argument("--jobs", type=int, default=2, help="runs trained side by side")
    p.add_argument("--out", default=os.path.join(HERE, "results", "paper_copy"))
    p.add_argument("--fresh", action="store_true", help="retrain runs that exist")
    p.add_argument("--plot-only", action="store_true", help="only redraw from results.json")
    p.add_argument("--smoke", action="store_true",
                   help="tiny sizes (T=6, 2 digits, H=8, 4 steps) to check the script")
    if "--smoke" in (sys.argv[1:] if argv is None else argv):   # tiny defaults; flags win
        p.set_defaults(T=[6], steps=4, n_digits=2, hidden_size=8, attn_size=4, eval_every=2,
                       eval_batch=8, batch=4)
    return p.parse_args(argv)


def points(args) -> list:
    out = []
    for seed in args.seeds:                 # seeds outermost: a cut grid has every method
        for T in args.T:
            for m in args.methods:
                model = {"hidden_size": args.hidden_size, "attn_size": args.attn_size,
                         "k_top": args.k_top, "k_att": args.k_att, "k_trunc": args.k_trunc,
                         "dtype": args.dtype, **METHODS[m]}
                out.append({
                    "key": {"T": T, "method": m, "seed": seed},
                    "run_dir": os.path.join(args.out, "runs", f"T{T}", m, f"seed{seed}"),
                    "task": {"name": "copy", "T": T, "n_digits": args.n_digits,
                             "n_symbols": args.n_symbols, "mask": "all"},
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
            log(f"skip T={key['T']} softmax seed={key['seed']}: one step needs {mib:.0f} MiB "
                f"> --max-mib {max_mib:g}")
            return {**key, "skipped": f"one step needs {mib:.0f} MiB", "step_mib": mib}
    log(f"start T={key['T']} {key['method']} seed={key['seed']}")
    return train_point(point, fresh)


def table(rows) -> str:
    head = ("| T | method | seed | steps | final recall | best recall | "
            + " | ".join(f"{lv:.0%} recall (step / time)" for lv in LEVELS) + " | wall s |")
    lines = [head, "|" + "---|" * (7 + len(LEVELS))]
    order = list(METHODS)
    for r in sorted(rows, key=lambda r: (r["T"], order.index(r["method"]), r["seed"])):
        if "skipped" in r:
            lines.append(f"| {r['T']} | {r['method']} | {r['seed']} | skipped: {r['skipped']} |"
                         + " |" * (3 + len(LEVELS)))
            continue
        hits = " | ".join(fmt_hit(r[f"step_{lv:g}"], r[f"time_{lv:g}"]) for lv in LEVELS)
        lines.append(f"| {r['T']} | {r['method']} | {r['seed']} | {r['steps']} | "
                     f"{r['final']:.3f} | {r['best']:.3f} | {hits} | {r['wall_s']:.0f} |")
    return "\n".join(lines) + "\n"


def write_outputs(args, res: Results) -> None:
    from minisab.checkpoint import atomic_write_text
    res.save()
    atomic_write_text(os.path.join(args.out, "table.md"), table(res.rows))
    trained = [r for r in res.rows if "skipped" not in r]
    Ts = sorted({r["T"] for r in trained})
    if Ts:
        fig = curves_figure(trained, "T", Ts, list(METHODS), COLORS,
                            lambda T: f"copy T={T}, {args.n_digits} digits of {args.n_symbols}",
                            "held-out recall accuracy")
        save_figure(fig, os.path.join(args.out, "learning_curves.png"))


def main(argv=None) -> int:
    args = parse_args(argv)
    settings = {k: v for k, v in vars(args).items() if k not in ("fresh", "plot_only", "jobs")}
    res = Results(args.out, settings, ("T", "method", "seed"))
    if not args.plot_only:
        def done(row):
            res.add(row)
            write_outputs(args, res)
            if "skipped" not in row:
                log(f"done T={row['T']} {row['method']} seed={row['seed']}: final recall "
                    f"{row['final']:.3f}, {row['steps']} steps, {row['wall_s']} s")
        parallel_map(run, [(p, args.fresh, args.max_mib) for p in points(args)], args.jobs,
                     done)
    write_outputs(args, res)
    print(table(res.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
