"""Character-level language modelling on real text: SAB against truncated and full BPTT.

The task (minisab/train/tasks.py, ``--task text``): predict every next character of a window of
``T`` characters; the corpus is the standard library's ``pydoc_data.topics`` (English technical
prose, present on every Python), or any UTF-8 file given with ``--text-file``; the last 10% of
the text is the held-out split. The metric is bits per character on held-out windows, as the
paper reports it for Penn Treebank and Text8. Trains every (method, seed) with minisab's training
loop and writes, under ``--out`` (default ``experiments/results/text``):

- ``runs/<method>/seed<s>/``  the run folders (not in git);
- ``results.json``            one row per run: the learning curve (step, wall time, held-out
                              bits per character, held-out loss), final and best bits per
                              character;
- ``table.md``                the table of ``results.json``;
- ``learning_curves.png``     held-out bits per character against step and wall time.

Methods (docs/model.md §4): ``sab`` SAB without mental updates (``detach_scores=True``, the setting
``python -m minisab compare`` uses), ``sab-mental`` docs/model.md's SAB with mental updates,
``tbptt`` LSTM truncated at the same ``k_trunc``, ``bptt`` LSTM full BPTT, ``softmax`` dense
attention with full BPTT (the methods of ``_method_grid.py``).

Settings: ``experiments/configs/text.toml`` (every option's default comes from it; options
given win); ``python -m minisab train --config experiments/configs/text.toml`` trains its SAB
run alone.

Resumable: an interrupted grid continues where it stopped. Independent runs train side by side
in ``--jobs`` worker processes, one BLAS thread each. The full grid (not run by the tests)::

    python experiments/text.py --jobs 2

A smoke run at tiny sizes: ``python experiments/text.py --smoke --out /tmp/tx``.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from minisab.train.settings import script_defaults  # noqa: E402
from _grid import CONFIGS, Results, curves_figure, log, parallel_map, save_figure, train_point  # noqa: E402
from _method_grid import COLORS, METHODS  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--text-file", default=None,
                   help="a UTF-8 text file (default: the standard library's pydoc_data.topics)")
    p.add_argument("--T", type=int, default=100, help="characters per training window")
    p.add_argument("--methods", nargs="+", choices=list(METHODS),
                   default=["sab", "tbptt", "bptt"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--hidden-size", type=int, default=128)
    p.add_argument("--attn-size", type=int, default=64)
    p.add_argument("--k-top", type=int, default=5)
    p.add_argument("--k-att", type=int, default=2)
    p.add_argument("--k-trunc", type=int, default=5)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--forget-bias", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--eval-batch", type=int, default=256, help="held-out windows per evaluation")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--jobs", type=int, default=2, help="runs trained side by side")
    p.add_argument("--out", default=os.path.join(HERE, "results", "text"))
    p.add_argument("--fresh", action="store_true", help="retrain runs that exist")
    p.add_argument("--plot-only", action="store_true", help="only redraw from results.json")
    p.add_argument("--smoke", action="store_true",
                   help="tiny sizes (T=12, H=8, 4 steps) to check the script")
    script_defaults(p, argv, os.path.join(CONFIGS, "text.toml"), skip=("task",))
    if "--smoke" in (sys.argv[1:] if argv is None else argv):   # tiny defaults; flags win
        p.set_defaults(T=12, steps=4, hidden_size=8, attn_size=4, eval_every=2, eval_batch=8,
                       batch=4, seeds=[0])
    return p.parse_args(argv)


def points(args) -> list:
    out = []
    for seed in args.seeds:                 # seeds outermost: a cut grid has every method
        for m in args.methods:
            model = {"hidden_size": args.hidden_size, "attn_size": args.attn_size,
                     "k_top": args.k_top, "k_att": args.k_att, "k_trunc": args.k_trunc,
                     "dtype": args.dtype, **METHODS[m]}
            task = {"name": "text", "T": args.T}
            if args.text_file is not None:
                task["text_file"] = os.path.abspath(args.text_file)
            out.append({
                "key": {"method": m, "seed": seed},
                "run_dir": os.path.join(args.out, "runs", m, f"seed{seed}"),
                "task": task,
                "model": model,
                "train": {"steps": args.steps, "batch": args.batch, "lr": args.lr,
                          "clip": args.clip, "seed": seed, "forget_bias": args.forget_bias,
                          "eval_every": args.eval_every, "eval_batch": args.eval_batch}})
    return out


def run(item):
    point, fresh = item
    log(f"start text {point['key']['method']} seed={point['key']['seed']}")
    return train_point(point, fresh)


def table(rows) -> str:
    lines = ["| method | seed | steps | final bpc | best bpc | wall s |", "|---|---|---|---|---|---|"]
    order = list(METHODS)
    for r in sorted(rows, key=lambda r: (order.index(r["method"]), r["seed"])):
        lines.append(f"| {r['method']} | {r['seed']} | {r['steps']} | {r['final']:.3f} | "
                     f"{r['best']:.3f} | {r['wall_s']:.0f} |")
    return "\n".join(lines) + "\n"


def write_outputs(args, res: Results) -> None:
    from minisab.train.checkpoint import atomic_write_text
    res.save()
    atomic_write_text(os.path.join(args.out, "table.md"), table(res.rows))
    if res.rows:                        # one panel: every row under the same label
        fig = curves_figure([{**r, "panel": "text"} for r in res.rows], "panel", ["text"], list(METHODS), COLORS,
                            lambda _: f"characters, T={args.T}", "held-out bits per character",
                            ylim=None)
        save_figure(fig, os.path.join(args.out, "learning_curves.png"))


def main(argv=None) -> int:
    args = parse_args(argv)
    settings = {k: v for k, v in vars(args).items() if k not in ("fresh", "plot_only", "jobs")}
    res = Results(args.out, settings, ("method", "seed"))
    if not args.plot_only:
        def done(row):
            res.add(row)
            write_outputs(args, res)
            log(f"done text {row['method']} seed={row['seed']}: final bpc {row['final']:.3f}, "
                f"{row['steps']} steps, {row['wall_s']} s")
        parallel_map(run, [(p, args.fresh) for p in points(args)], args.jobs, done)
    write_outputs(args, res)
    print(table(res.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
