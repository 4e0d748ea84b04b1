"""What the experiment scripts share: resumable training runs, run in parallel worker processes,
and their results (rows, learning curves, steps to a level of the metric).

A *point* is one training run, a plain dict (so that it pickles into a worker)::

    {"key": {...what identifies the row...}, "run_dir": ..., "task": task spec,
     "model": Config fields, "train": TrainConfig fields}

``train_point`` trains it in ``run_dir`` and returns its row. It is resumable: a finished run
(checkpoint at ``steps``, or at the target) is only read back; an unfinished one continues from
its checkpoint (``train(resume=True)``: the same batches and updates as an uninterrupted run);
a run folder made with other settings is an error unless ``fresh``, so no compute is thrown
away silently. Results files are written atomically by the parent process alone.

Parallelism: ``parallel_map`` runs the points in ``jobs`` worker processes (joblib, through
``minisab.train.parallel.run_all``) with minisab's BLAS thread count (``minisab/threads.py``: one by
default), or on a Dask cluster when ``MINISAB_SCHEDULER`` holds a scheduler's address
(docs/parallel.md).
"""
from __future__ import annotations

import json
import os
import sys
import time

import numpy as np  # noqa: E402

from minisab.train.checkpoint import atomic_write, atomic_write_text, load_checkpoint  # noqa: E402
from minisab.config import Config  # noqa: E402
from minisab.train.runs import write_config  # noqa: E402
from minisab.train.tasks import make_task  # noqa: E402
from minisab.train import CHECKPOINT, TrainConfig, read_metrics, train  # noqa: E402
from minisab.train.faults import Terminated, sigterm_as_ctrl_c, stop_error  # noqa: E402

LEVELS = (0.5, 0.9, 0.99)
# The experiments' settings files (minisab/train/settings.py): each script's defaults come from one.
CONFIGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs")


def task_from_spec(spec: dict):
    spec = dict(spec)
    return make_task(spec.pop("name"), spec.pop("T"), **spec)


def first_reaching(records, metric: str, level: float, higher=True):
    """``(step, seconds)`` of the first evaluation whose metric reaches ``level``, or None."""
    for r in records:
        if (r[metric] >= level) if higher else (r[metric] <= level):
            return r["step"], r["time"]
    return None


def train_point(point: dict, fresh: bool = False) -> dict:
    """Train (or resume, or read back) one point; return its row (see module docstring)."""
    task = task_from_spec(point["task"])
    cfg = Config(input_size=task.input_size, output_size=task.output_size, loss=task.loss,
                 **point["model"])
    tc = TrainConfig(**point["train"])
    run_dir = point["run_dir"]
    ckpt = os.path.join(run_dir, CHECKPOINT)
    if os.path.exists(ckpt) and fresh:
        os.remove(ckpt)
    resume = os.path.exists(ckpt)
    if resume:
        meta = load_checkpoint(ckpt)["meta"]
        if meta["model"] != cfg.to_dict() or meta["task"] != task.spec():
            raise SystemExit(f"{run_dir} holds a run with other settings: give --fresh to "
                             "train it again, or another --out")
        recs = read_metrics(run_dir)
        done = meta["step"] >= tc.steps or (tc.target is not None and recs and
                                            recs[-1][task.metric_name] >= tc.target)
    else:
        done = False
    if done:
        res = {"records": recs, "step": meta["step"], "stopped": "done (earlier)",
               "elapsed": float(meta.get("elapsed", float("nan")))}
    else:
        write_config(run_dir, cfg, task, tc, "numpy")
        with sigterm_as_ctrl_c():   # a stop (run_plan.py, kill) keeps the last finished step
            res = train(cfg, task, tc, run_dir, resume=resume, progress=False,
                        log=lambda m: print(m, file=sys.stderr, flush=True),
                        to_continue=TO_CONTINUE)
        if res["stopped"] == "interrupted":     # the checkpoint of the last step is written
            raise stop_error(res["signal"])
    recs = res["records"]
    metric = task.metric_name
    vals = [r[metric] for r in recs]
    higher = task.higher_is_better          # accuracy: higher; bits per character: lower
    row = {**point["key"], "steps": res["step"], "stopped": res["stopped"],
           "wall_s": round(float(res["elapsed"]), 1), "metric": metric,
           "final": vals[-1], "best": max(vals) if higher else min(vals), "chance": task.chance,
           "curve": [[r["step"], r["time"], r[metric], r["loss"]] for r in recs]}
    if higher:                              # the levels are fractions of accuracy
        for level in LEVELS:
            hit = first_reaching(recs, metric, level)
            row[f"step_{level:g}"], row[f"time_{level:g}"] = hit if hit else (None, None)
    return row


def parallel_map(fn, items, jobs: int, on_result, scheduler=None, threads=None):
    """``on_result(fn(item))`` for every item, ``jobs`` worker processes at a time (``jobs=1``:
    in this process), or on the Dask scheduler ``scheduler`` (default: ``$MINISAB_SCHEDULER``).
    Results arrive in completion order. On Ctrl-C or SIGTERM the parent stops the workers and
    every run keeps a checkpoint (written atomically): with ``jobs=1`` that of its last finished
    step; with more, a worker that the parent stops before it has written that one keeps its
    last evaluation's (docs/reliability.md)."""
    from minisab.train.parallel import run_all
    scheduler = scheduler or os.environ.get("MINISAB_SCHEDULER") or None
    # SIGTERM (run_plan.py's stop, to the whole process group) stops the parent as Ctrl-C does;
    # each worker got it too, and train_point writes its last finished step.
    with sigterm_as_ctrl_c():
        for _, result in run_all(fn, items, jobs=max(1, jobs), scheduler=scheduler,
                                 threads=threads, log=False):
            on_result(result)


# How a stopped experiment script goes on: what the trainer's stop line and the script's last
# line say (the trainer's default, --resume, is the CLI's).
TO_CONTINUE = ("run the same command again to continue (the experiment scripts resume by "
               "themselves: no --resume)")


def stopped(e: KeyboardInterrupt,
            kept: str = "every run kept the checkpoint of its last finished step") -> int:
    """Says that a script was stopped (Ctrl-C, or SIGTERM as ``Terminated``), what it ``kept``
    and how to go on; returns the shell's exit status for that signal (130 or 143)."""
    name, status = ("SIGTERM", 143) if isinstance(e, Terminated) else ("SIGINT", 130)
    print(f"stopped ({name}): {kept}; {TO_CONTINUE}", file=sys.stderr, flush=True)
    return status


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def portable(value):
    """A path inside this clone as relative to its root (``experiments/results/...``), so that a
    results file names no folder of the machine that wrote it."""
    if isinstance(value, str) and os.path.isabs(value) and \
            os.path.abspath(value).startswith(ROOT + os.sep):
        return os.path.relpath(value, ROOT)
    return value


class Results:
    """``results.json`` under ``out``: settings and rows, replaced by key, written atomically.

    Several processes may write the same file (``run_plan.py --jobs 2`` runs two commands of one
    experiment side by side): each write re-reads the file under a lock on ``out``
    (``minisab/train/runlock.py``) and replaces only the rows this process added, so that no
    process drops another's rows.
    """

    def __init__(self, out: str, settings: dict, key_fields):
        self.out, self.key_fields = out, tuple(key_fields)
        self.settings = {k: portable(v) for k, v in settings.items()}
        self.path = os.path.join(out, "results.json")
        os.makedirs(out, exist_ok=True)
        self.rows = self._read()
        self.added = {}                     # key -> row: the rows this process has added

    def _read(self) -> list:
        if not os.path.exists(self.path):
            return []
        with open(self.path, encoding="utf-8") as f:
            return json.load(f)["runs"]

    def key(self, row) -> tuple:
        return tuple(row[k] for k in self.key_fields)

    def add(self, row) -> None:
        self.added[self.key(row)] = row
        self.save()

    def save(self) -> None:
        """Writes ``settings``, ``machine`` (the BLAS, its kernel, the versions that made the
        rows; minisab/train/provenance.py) and the rows: those on disk, with this process's own
        in place of theirs."""
        from minisab.train.provenance import machine
        from minisab.train.runlock import hold_run_folder
        with hold_run_folder(self.out, wait=120) as hold:
            self.rows = [r for r in self._read() if self.key(r) not in self.added] \
                + list(self.added.values())
            doc = {"settings": self.settings, "machine": machine(), "runs": self.rows}
            atomic_write_text(self.path, json.dumps(doc, indent=1) + "\n")
            hold.commit()


def fmt_hit(step, seconds) -> str:
    return "—" if step is None else f"{step} / {seconds:.0f} s"


def save_figure(fig, path) -> None:
    atomic_write(path, lambda f: fig.savefig(f, format="png"))
    import matplotlib.pyplot as plt
    plt.close(fig)


def curves_figure(rows, panel_field, panels, methods, colors, title, ylabel, ylim=(-0.02, 1.02)):
    """Metric against step (top row) and wall time (bottom row), one column per panel value
    (``ylim=None``: the axes' own limits, for a metric that is not a fraction)."""
    from minisab.plots import new_figure, style_axes
    fig, axes = new_figure(2, max(len(panels), 1))
    axes = np.asarray(axes).reshape(2, max(len(panels), 1))
    for col, value in enumerate(panels):
        for m in methods:
            rs = [r for r in rows if r[panel_field] == value and r["method"] == m]
            for i, r in enumerate(rs):
                c = np.asarray(r["curve"], dtype=float)
                kw = {"color": colors.get(m), "linewidth": 1.0, "alpha": 0.85}
                label = f"{m} ({len(rs)} seed{'s' * (len(rs) > 1)})" if i == 0 else None
                axes[0, col].plot(c[:, 0], c[:, 2], label=label, **kw)
                axes[1, col].plot(c[:, 1], c[:, 2], **kw)
        chance = next((r["chance"] for r in rows if r[panel_field] == value), None)
        for ax, xlabel in ((axes[0, col], "training step"), (axes[1, col], "wall time (s)")):
            if chance is not None:
                ax.axhline(chance, color="grey", linestyle=":", linewidth=1)
            style_axes(ax, title=title(value) if ax is axes[0, col] else None, xlabel=xlabel,
                       ylabel=ylabel)
            if ylim is not None:
                ax.set_ylim(*ylim)
        axes[0, col].legend(fontsize=7, frameon=False)
    return fig


def log(msg) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
