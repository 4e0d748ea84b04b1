"""The adding task for the reproduction report: full BPTT, truncated BPTT, dense attention, SAB.

Trains every (method, seed) on the adding task (``minisab.train.tasks.adding_batch``: a value and a
marker per step, one marker in each half, target the sum of the two marked values at the last
step, mean squared error; predicting the mean gives 1/6 ≈ 0.167) with minisab's training loop
and writes, under ``--out`` (default ``experiments/results/adding``):

- ``runs/<method>/seed<s>/``  the run folders (not in git);
- ``results.json``            one row per run: final and best held-out MSE, wall time, the
                              step at which the MSE first fell below ``--solved`` (0.01: the sum
                              is known to about ±0.1), and the curve;
- ``table.md``, ``learning_curves.png``.

Methods are those of ``make_sab_learn.py``. Runs that finished are not trained again; a run cut
short (Ctrl-C, SIGTERM, a reboot) continues from its checkpoint when the command is run again.
Settings: ``experiments/configs/adding.toml`` (options given win over it).

    python experiments/adding.py                 # T=100, 4 methods, 3 seeds, --jobs at a time
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))     # _grid.py, make_sab_learn.py
from _grid import Results, stopped, train_point  # noqa: E402
from make_sab_learn import COLORS, METHODS, add_parallel_args  # noqa: E402
from minisab.train.checkpoint import atomic_write, atomic_write_text  # noqa: E402
from minisab.train.faults import sigterm_as_ctrl_c  # noqa: E402
from minisab.train.parallel import run_all  # noqa: E402
from minisab.train.settings import script_defaults  # noqa: E402
from minisab.train.tasks import make_task  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--T", type=int, default=100)
    p.add_argument("--methods", nargs="+", choices=list(METHODS),
                   default=["bptt", "tbptt", "softmax", "sab-detach"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--hidden-size", type=int, default=64)
    p.add_argument("--attn-size", type=int, default=32)
    p.add_argument("--k-top", type=int, default=5)
    p.add_argument("--k-att", type=int, default=2)
    p.add_argument("--k-trunc", type=int, default=5)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--forget-bias", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--eval-batch", type=int, default=512)
    p.add_argument("--solved", type=float, default=0.01, help="MSE that counts as solved")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--fresh", action="store_true",
                   help="train every run again from step 0, even where its folder holds one")
    add_parallel_args(p)
    p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                 "results", "adding"))
    script_defaults(p, argv, os.path.join(HERE, "configs", "adding.toml"), skip=("task",))
    return p.parse_args(argv)


def run_one(args, label, seed) -> dict:
    """Train, continue or read back one run (``_grid.train_point``): a finished run is read
    back, an unfinished one continues from its checkpoint (the same batches and updates as an
    uninterrupted run), a folder that holds a run with other settings is refused unless
    ``--fresh``; a stop (Ctrl-C, SIGTERM) writes the checkpoint of the last finished step."""
    task = make_task("adding", args.T)
    point = {"key": {"method": label, "seed": seed, "T": args.T},
             "run_dir": os.path.join(args.out, "runs", label, f"seed{seed}"),
             "task": task.spec(),
             "model": {"hidden_size": args.hidden_size, "attn_size": args.attn_size,
                       "k_top": args.k_top, "k_att": args.k_att, "k_trunc": args.k_trunc,
                       "dtype": args.dtype, **METHODS[label]},
             "train": {"steps": args.steps, "batch": args.batch, "lr": args.lr,
                       "clip": args.clip, "seed": seed, "forget_bias": args.forget_bias,
                       "eval_every": args.eval_every, "eval_batch": args.eval_batch}}
    print(f"start adding {label} seed={seed}", file=sys.stderr, flush=True)
    row = train_point(point, args.fresh)
    curve = row["curve"]                    # [step, seconds, held-out MSE, training loss]
    solved = next((step for step, _, mse, _ in curve if mse <= args.solved), None)
    return {"method": label, "seed": seed, "T": args.T, "steps": row["steps"],
            "wall_s": row["wall_s"], "final_mse": row["final"], "best_mse": row["best"],
            "step_solved": solved, "curve": [[step, mse] for step, _, mse, _ in curve]}


def table(args, rows) -> str:
    lines = [f"| method | seeds | steps | final MSE (mean ± sd) | per seed | best MSE | "
             f"MSE <= {args.solved} at step | wall s (mean) |", "|" + "---|" * 8]
    for m in [m for m in METHODS if any(r["method"] == m for r in rows)]:
        rs = sorted((r for r in rows if r["method"] == m), key=lambda r: r["seed"])
        fin = np.array([r["final_mse"] for r in rs])
        hits = "; ".join(str(r["step_solved"]) if r["step_solved"] else "—" for r in rs)
        lines.append(f"| {m} | {len(rs)} | {rs[0]['steps']} | {fin.mean():.4f} ± {fin.std():.4f} "
                     f"| {', '.join(f'{v:.4f}' for v in fin)} | "
                     f"{min(r['best_mse'] for r in rs):.4f} | {hits} | "
                     f"{np.mean([r['wall_s'] for r in rs]):.0f} |")
    return "\n".join(lines) + "\n"


def plot(args, rows) -> None:
    from minisab.plots import new_figure, style_axes
    fig, ax = new_figure()
    for m in METHODS:
        rs = [r for r in rows if r["method"] == m]
        for i, r in enumerate(rs):
            c = np.asarray(r["curve"])
            ax.plot(c[:, 0], c[:, 1], color=COLORS[m], linewidth=1.0, alpha=0.8,
                    label=f"{m} ({len(rs)} seeds)" if i == 0 else None)
    ax.axhline(1 / 6, color="grey", linestyle=":", linewidth=1, label="predict the mean (1/6)")
    ax.set_yscale("log")
    style_axes(ax, title=f"adding task, T={args.T}", xlabel="training step",
               ylabel="held-out mean squared error")
    ax.legend(fontsize=7, frameon=False)
    atomic_write(os.path.join(args.out, "learning_curves.png"),
                 lambda f: fig.savefig(f, format="png"))


def _run_point(point):
    return run_one(*point)


def main(argv=None) -> int:
    args = parse_args(argv)
    points = [(args, m, s) for s in args.seeds for m in args.methods]
    settings = {k: v for k, v in vars(args).items()
                if k not in ("jobs", "threads", "scheduler", "fresh")}   # they change no result
    # The rows of earlier calls stay (another method or seed in the same --out); a run trained
    # again replaces its own row.
    res = Results(args.out, settings, ("method", "seed"))
    try:
        with sigterm_as_ctrl_c():       # run_plan.py's stop: as Ctrl-C, in this process too
            for _, row in run_all(_run_point, points, jobs=args.jobs, scheduler=args.scheduler,
                                  threads=args.threads,
                                  describe=lambda p: f"adding {p[1]} seed={p[2]}"):
                res.add(row)
                atomic_write_text(os.path.join(args.out, "table.md"), table(args, res.rows))
                plot(args, res.rows)
    except KeyboardInterrupt as e:      # the finished rows are written; no partial one
        return stopped(e)
    print(table(args, res.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
