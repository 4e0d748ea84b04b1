"""The grid that ``paper_copy.py`` and ``digits.py`` train: every (group, method, seed), where
the group is the sequence length ``T`` (the copy task) or the ``task`` (the image tasks).

What the two scripts share lives here, parametrised by a ``Grid`` (the field that groups the
runs and the words of its metric): the methods and their colours, the command-line options of
the model and the training, the points, the runner that skips dense attention where one step
needs too much memory, the table, the figure and the main loop. What stays in a script is its
own: its task options, its defaults, how a group becomes a task.

Methods (docs/model.md §4): ``sab`` SAB without mental updates (``detach_scores=True``, the setting
``python -m minisab compare`` uses; docs/make_sab_learn.md), ``sab-mental`` docs/model.md's SAB with
mental updates, ``tbptt`` LSTM truncated at the same ``k_trunc``, ``bptt`` LSTM full BPTT,
``softmax`` dense attention with full BPTT (trained only where one training step fits in
``--max-mib``, measured by tracemalloc before training).

Resumable: an interrupted grid continues where it stopped (each run from its last checkpoint;
finished runs are read back, not retrained). Independent runs train side by side in ``--jobs``
worker processes, one BLAS thread each (``_grid.parallel_map``).

The files are the scripts' own, unchanged by this sharing: ``results.json`` (``settings`` and
one row a run, keyed by ``(field, method, seed)``), ``table.md``, ``learning_curves.png`` and
the run folders ``runs/<group>/<method>/seed<s>/``, so a grid started before continues.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from collections.abc import Callable

from _grid import (LEVELS, Results, curves_figure, fmt_hit, log, parallel_map, save_figure,
                   stopped, task_from_spec, train_point)
from _grid import CONFIGS  # noqa: F401  (the scripts' settings files: grid.CONFIGS)
from minisab.config import SPARSIFIERS

HERE = os.path.dirname(os.path.abspath(__file__))

# docs/model.md §4. ``sab``: without mental updates, as ``python -m minisab compare`` trains it
# (docs/make_sab_learn.md); ``sab-mental``: docs/model.md's SAB; ``softmax``: dense attention.
METHODS = {
    "sab": {"attention": "topk", "method": "sab", "detach_scores": True},
    "sab-mental": {"attention": "topk", "method": "sab"},
    "tbptt": {"attention": None, "method": "tbptt"},
    "bptt": {"attention": None, "method": "bptt"},
    "softmax": {"attention": "softmax", "method": "bptt"},
}
COLORS = {"sab": "#009E73", "sab-mental": "#D55E00", "tbptt": "#E69F00", "bptt": "#0072B2",
          "softmax": "#CC79A7"}


@dataclass(frozen=True)
class Grid:
    """What tells one method grid from another."""
    field: str              # the key that groups runs: "T" or "task" (table, panels, folders)
    label: str              # a group in the log, "T={}" or "{}"
    value: str              # the metric in the table and the log: "recall", "test acc"
    level: str              # the metric in the level columns: "recall", "acc"
    ylabel: str             # the figure's y axis
    title: Callable         # a panel's title, from its group

    def name(self, group) -> str:
        """A group as the log names it: ``T=100``, ``digits``."""
        return self.label.format(group)


def parser(doc: str) -> argparse.ArgumentParser:
    """A script's parser: its docstring's first line, every default shown."""
    return argparse.ArgumentParser(description=doc.split("\n")[0],
                                   formatter_class=argparse.ArgumentDefaultsHelpFormatter)


def add_method_arguments(p, *, methods, seeds, steps) -> None:
    """What to train: the methods, the seeds, the steps of a run."""
    p.add_argument("--methods", nargs="+", choices=list(METHODS), default=methods)
    p.add_argument("--seeds", type=int, nargs="+", default=seeds)
    p.add_argument("--steps", type=int, default=steps)


def add_training_arguments(p, *, model, lr, eval_every, eval_batch, out, target_help, smoke,
                           eval_batch_help=None) -> None:
    """The model, training and grid options, with the script's defaults (``model``:
    hidden_size, attn_size, k_top, k_att, k_trunc; ``out``: the folder's name under
    ``experiments/results/``). The order of the options is the order of ``settings`` in
    results.json."""
    for name in ("hidden_size", "attn_size", "k_top", "k_att", "k_trunc"):
        p.add_argument("--" + name.replace("_", "-"), type=int, default=model[name])
    p.add_argument("--sparsifier", default="threshold", choices=list(SPARSIFIERS),
                   help="the weights of the SAB methods (docs/model.md's: threshold)")
    p.add_argument("--temperature", type=float, default=1.0,
                   help="τ of --sparsifier topk_softmax")
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--forget-bias", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--eval-every", type=int, default=eval_every)
    p.add_argument("--eval-batch", type=int, default=eval_batch, help=eval_batch_help)
    p.add_argument("--target", type=float, default=None, help=target_help)
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--max-mib", type=float, default=8192,
                   help="dense attention is trained only if one step needs at most this")
    p.add_argument("--jobs", type=int, default=2, help="runs trained side by side")
    p.add_argument("--out", default=os.path.join(HERE, "results", out))
    p.add_argument("--fresh", action="store_true", help="retrain runs that exist")
    p.add_argument("--plot-only", action="store_true", help="only redraw from results.json")
    p.add_argument("--smoke", action="store_true", help=smoke)


def parse_grid_args(p, argv, smoke_defaults: dict, config: str) -> argparse.Namespace:
    """``p``'s arguments: the defaults from the settings file ``config`` (``--config`` another;
    minisab/train/settings.py), with ``--smoke`` the tiny defaults; options given still win."""
    from minisab.train.settings import script_defaults
    script_defaults(p, argv, config, skip=("task",))     # the script's [grid] names its tasks
    if "--smoke" in (sys.argv[1:] if argv is None else argv):
        p.set_defaults(**smoke_defaults)
    return p.parse_args(argv)


def make_point(args, group: dict, folder: str, task: dict, method: str, seed: int) -> dict:
    """One run of the grid (``_grid.py``): ``group`` names it ({"T": 100}), ``folder`` is its
    group's folder under ``runs/``, ``task`` its task spec."""
    return {
        "key": {**group, "method": method, "seed": seed},
        "run_dir": os.path.join(args.out, "runs", folder, method, f"seed{seed}"),
        "task": task,
        "model": {"hidden_size": args.hidden_size, "attn_size": args.attn_size,
                  "k_top": args.k_top, "k_att": args.k_att, "k_trunc": args.k_trunc,
                  "dtype": args.dtype, **METHODS[method],
                  **({"sparsifier": args.sparsifier, "temperature": args.temperature}
                     if METHODS[method]["attention"] == "topk" else {})},
        "train": {"steps": args.steps, "batch": args.batch, "lr": args.lr, "clip": args.clip,
                  "seed": seed, "forget_bias": args.forget_bias, "eval_every": args.eval_every,
                  "eval_batch": args.eval_batch, "target": args.target}}


def step_mib(point) -> float:
    """Peak memory (MiB) of one training step of ``point`` (tracemalloc, runs.py)."""
    from minisab.config import Config
    from minisab.params import init_params
    from minisab.train.runs import peak_step_memory
    task = task_from_spec(point["task"])
    cfg = Config(input_size=task.input_size, output_size=task.output_size, **point["model"])
    params = init_params(cfg, seed=0)
    return peak_step_memory(params, cfg, task, point["train"]["batch"])


def run(item):
    """Train one point in a worker; dense attention only where one step fits in ``max_mib``
    (otherwise its row says it was skipped, and why)."""
    point, fresh, max_mib, name = item
    key = point["key"]
    if key["method"] == "softmax":
        mib = step_mib(point)
        if mib > max_mib:
            log(f"skip {name} softmax seed={key['seed']}: one step needs {mib:.0f} MiB "
                f"> --max-mib {max_mib:g}")
            return {**key, "skipped": f"one step needs {mib:.0f} MiB", "step_mib": mib}
    log(f"start {name} {key['method']} seed={key['seed']}")
    return train_point(point, fresh)


def table(rows, grid: Grid) -> str:
    """``table.md``: one line a run, by group, method (in ``METHODS``' order) and seed."""
    f = grid.field
    head = (f"| {f} | method | seed | steps | final {grid.value} | best {grid.value} | "
            + " | ".join(f"{lv:.0%} {grid.level} (step / time)" for lv in LEVELS)
            + " | wall s |")
    lines = [head, "|" + "---|" * (7 + len(LEVELS))]
    order = list(METHODS)
    for r in sorted(rows, key=lambda r: (r[f], order.index(r["method"]), r["seed"])):
        if "skipped" in r:
            lines.append(f"| {r[f]} | {r['method']} | {r['seed']} | skipped: {r['skipped']} |"
                         + " |" * (3 + len(LEVELS)))
            continue
        hits = " | ".join(fmt_hit(r[f"step_{lv:g}"], r[f"time_{lv:g}"]) for lv in LEVELS)
        lines.append(f"| {r[f]} | {r['method']} | {r['seed']} | {r['steps']} | "
                     f"{r['final']:.3f} | {r['best']:.3f} | {hits} | {r['wall_s']:.0f} |")
    return "\n".join(lines) + "\n"


def write_outputs(out: str, res: Results, grid: Grid) -> None:
    """``results.json``, ``table.md`` and, once a run has trained, ``learning_curves.png``."""
    from minisab.train.checkpoint import atomic_write_text
    res.save()
    atomic_write_text(os.path.join(out, "table.md"), table(res.rows, grid))
    trained = [r for r in res.rows if "skipped" not in r]
    groups = sorted({r[grid.field] for r in trained})
    if groups:
        fig = curves_figure(trained, grid.field, groups, list(METHODS), COLORS, grid.title,
                            grid.ylabel)
        save_figure(fig, os.path.join(out, "learning_curves.png"))


def main(args, grid: Grid, points: list) -> int:
    """Train (or continue, or read back) every point, writing the outputs after each run; with
    ``--plot-only`` only redraw them from ``results.json``."""
    settings = {k: v for k, v in vars(args).items() if k not in ("fresh", "plot_only", "jobs")}
    res = Results(args.out, settings, (grid.field, "method", "seed"))
    if not args.plot_only:
        def done(row):
            res.add(row)
            write_outputs(args.out, res, grid)
            if "skipped" not in row:
                log(f"done {grid.name(row[grid.field])} {row['method']} seed={row['seed']}: "
                    f"final {grid.value} {row['final']:.3f}, {row['steps']} steps, "
                    f"{row['wall_s']} s")
        items = [(p, args.fresh, args.max_mib, grid.name(p["key"][grid.field])) for p in points]
        try:
            parallel_map(run, items, args.jobs, done)
        except KeyboardInterrupt as e:          # Ctrl-C or SIGTERM: the finished rows are written
            return stopped(e)
    write_outputs(args.out, res, grid)
    print(table(res.rows, grid))
    return 0
