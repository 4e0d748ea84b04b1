"""Learning curves: full BPTT, truncated BPTT, dense attention and SAB, side by side.

Trains every (T, method, seed) of the grid with minisab's training loop (``minisab.train.train``)
on the copy task and writes, under ``--out`` (default ``experiments/results/make_sab_learn``):

- ``T<T>/<method>/seed<s>/``  the run folder (config.json, metrics.jsonl, checkpoint.npz);
- ``results.json``            one row per run: final and best recall accuracy, wall time, the
                              step and time at which 90% was first reached, loss spikes, NaN
                              stop, and the end-of-run diagnosis (``minisab.credit.probe``: max|h|,
                              max logit, min Σã) at T and at 2T;
- ``learning_curves.png``     accuracy and held-out loss against step, one panel per T;
- ``table.md``                the table of ``results.json`` (mean over seeds per method).

Every file is written atomically. A run whose checkpoint already reached ``--steps`` is not
trained again, and a run cut short (Ctrl-C, SIGTERM) continues from the checkpoint of its last
finished step, so an interrupted grid continues where it stopped (``--fresh`` retrains).

Methods (docs/model.md §4; docs/make_sab_learn.md): ``bptt`` LSTM full BPTT, ``tbptt`` LSTM
truncated at ``k_trunc``, ``softmax`` dense attention with full BPTT, ``sab`` docs/model.md's SAB
(mental updates on), ``sab-detach`` SAB without mental updates (``detach_scores=True``: the fix
that docs/make_sab_learn.md recommends), ``sab-detach-hhat`` the same writing ĥ_t to memory
(``memory_write="h_hat"``); also available: ``sab-hhat``, ``sab-tanh``.

A second grid adds the bounded sparsifiers (``Config.sparsifier``, minisab/sparsifiers.py), with
mental updates (``sab-softmax``, ``sab-sparsemax``) and without (``sab-detach-softmax``,
``sab-detach-sparsemax``); ``--temperature`` sets τ of the softmax one.

Settings: ``experiments/configs/make_sab_learn.toml`` (the default), ``make_sab_learn_decay.toml``,
``mental_updates.toml`` and ``transfer.toml`` (``--config FILE``): every option's default comes
from the file; options given win over it.

The first grid (T = 50 and 100, the six default methods, 3 seeds, 2000 steps, two grid
points at a time on 2 cores) is the default; about an hour on 2 cores::

    python experiments/make_sab_learn.py

The second grid, "are mental updates important?" (docs/make_sab_learn.md), trains the new
SAB variants and seeds 1-2 of ``sab``, and copies the rows of the first grid that it shares
(same script and settings; marked † in the table) instead of training them again::

    python experiments/make_sab_learn.py --order T --figure sparsifiers \
        --methods sab-softmax sab-sparsemax sab-detach-softmax sab-detach-sparsemax sab \
                  bptt tbptt softmax sab-detach \
        --import-from experiments/results/make_sab_learn/results.json \
        --out experiments/results/mental_updates
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))     # _grid.py
from _grid import TO_CONTINUE, stopped  # noqa: E402

from minisab.backend import get_backend, host_rng
from minisab.train.checkpoint import atomic_write, atomic_write_text, load_checkpoint
from minisab.train.faults import sigterm_as_ctrl_c, stop_error
from minisab.config import Config
from minisab.credit.probe import diagnose, summarize
from minisab.train.parallel import default_jobs, run_all
from minisab.train.runs import write_config
from minisab.train.provenance import machine
from minisab.train.settings import script_defaults
from minisab.train.tasks import make_task
from minisab.train import CHECKPOINT, TrainConfig, evaluate, read_metrics, train

METHODS = {
    "bptt": {"attention": None, "method": "bptt"},
    "tbptt": {"attention": None, "method": "tbptt"},
    "softmax": {"attention": "softmax", "method": "bptt"},
    "sab": {"attention": "topk", "method": "sab"},
    "sab-hhat": {"attention": "topk", "method": "sab", "memory_write": "h_hat"},
    "sab-tanh": {"attention": "topk", "method": "sab", "memory_write": "tanh_h"},
    "sab-detach": {"attention": "topk", "method": "sab", "detach_scores": True},
    "sab-detach-hhat": {"attention": "topk", "method": "sab", "detach_scores": True,
                        "memory_write": "h_hat"},
    # the bounded sparsifiers (minisab/sparsifiers.py), with and without mental updates
    "sab-softmax": {"attention": "topk", "method": "sab", "sparsifier": "softmax"},
    "sab-sparsemax": {"attention": "topk", "method": "sab", "sparsifier": "sparsemax"},
    "sab-detach-softmax": {"attention": "topk", "method": "sab", "detach_scores": True,
                           "sparsifier": "softmax"},
    "sab-detach-sparsemax": {"attention": "topk", "method": "sab", "detach_scores": True,
                             "sparsifier": "sparsemax"},
}
COLORS = {"bptt": "#0072B2", "tbptt": "#E69F00", "softmax": "#CC79A7", "sab": "#D55E00",
          "sab-hhat": "#F0E442", "sab-tanh": "#56B4E9", "sab-detach": "#009E73",
          "sab-detach-hhat": "#000000", "sab-softmax": "#8B0000", "sab-sparsemax": "#6A3D9A",
          "sab-detach-softmax": "#66C2A5", "sab-detach-sparsemax": "#1F78B4"}
# Rows taken from another results file (--import-from) are marked in the table with this.
IMPORTED = "†"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--T", type=int, nargs="+", default=[50, 100])
    p.add_argument("--methods", nargs="+", choices=list(METHODS),
                   default=["bptt", "tbptt", "softmax", "sab", "sab-detach", "sab-detach-hhat"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, nargs="+", default=[2000],
                   help="training steps; one value, or one per --T")
    p.add_argument("--n-digits", type=int, default=3)
    p.add_argument("--n-symbols", type=int, default=8)
    p.add_argument("--hidden-size", type=int, default=64)
    p.add_argument("--attn-size", type=int, default=32)
    p.add_argument("--k-top", type=int, default=5)
    p.add_argument("--k-att", type=int, default=2)
    p.add_argument("--k-trunc", type=int, default=5)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--lr-final", type=float, default=None,
                   help="cosine-decay the learning rate to this at the last step")
    p.add_argument("--forget-bias", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--eval-batch", type=int, default=256)
    p.add_argument("--target", type=float, default=None,
                   help="stop a run once its recall accuracy reaches this")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    add_parallel_args(p)
    p.add_argument("--transfer", type=int, nargs="+", default=[2, 4],
                   help="after training at T, test recall accuracy at these multiples of T")
    p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                 "results", "make_sab_learn"))
    p.add_argument("--temperature", type=float, default=1.0,
                   help="τ of the softmax sparsifier (sab-softmax, sab-detach-softmax)")
    p.add_argument("--import-from", default=None,
                   help="results.json of an earlier grid with the same settings: its rows for "
                        "grid points listed here are copied (marked † in the table), not retrained")
    p.add_argument("--order", default="seed", choices=["seed", "T"],
                   help="outermost loop of the grid: seeds (every method at the first seeds "
                        "first) or lengths (every run at the first T first)")
    p.add_argument("--figure", default="methods", choices=["methods", "sparsifiers"],
                   help="learning_curves.png: every method in one panel per T (accuracy and "
                        "loss), or one panel per T and sparsifier, with against without mental "
                        "updates and the baselines in grey")
    p.add_argument("--fresh", action="store_true", help="retrain runs that already finished")
    p.add_argument("--plot-only", action="store_true", help="only redraw from results.json")
    # The defaults above are the first grid's; the settings file's values replace them
    # (--config experiments/configs/transfer.toml: the transfer grid, ...).
    script_defaults(p, argv, os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs",
                                          "make_sab_learn.toml"), skip=("task",))
    return p.parse_args(argv)


def add_parallel_args(p) -> None:
    """--jobs, --threads, --scheduler (minisab.train.parallel, minisab.threads)."""
    p.add_argument("--jobs", type=int, default=default_jobs(),
                   help="grid points trained side by side in worker processes (default: the "
                        "number of cores); results do not depend on it")
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS threads per run (default: $MINISAB_THREADS or 1)")
    p.add_argument("--scheduler", default=os.environ.get("MINISAB_SCHEDULER"),
                   help="address of a Dask scheduler to run the grid on (default: "
                        "$MINISAB_SCHEDULER; none: this machine); docs/parallel.md")


def model_config(args, task, label) -> Config:
    return Config(input_size=task.input_size, output_size=task.output_size, loss=task.loss,
                  hidden_size=args.hidden_size, attn_size=args.attn_size, k_top=args.k_top,
                  k_att=args.k_att, k_trunc=args.k_trunc, dtype=args.dtype, **METHODS[label],
                  **({"temperature": args.temperature}
                     if METHODS[label].get("sparsifier") == "softmax" else {}))


def count_spikes(records) -> int:
    """Loss spikes: evaluations whose held-out loss jumps above max(2 x best, best + 0.01) of the
    evaluations before them, or whose accuracy falls more than 0.2 below the best before them.
    Only onsets count: the evaluations that follow while the run recovers are the same spike."""
    spikes, best_loss, best_acc, inside = 0, math.inf, -math.inf, False
    for r in records[1:]:
        bad = (r["loss"] > max(2.0 * best_loss, best_loss + 0.01)
               or r["accuracy"] < best_acc - 0.2)
        spikes += bad and not inside
        inside = bad
        best_loss, best_acc = min(best_loss, r["loss"]), max(best_acc, r["accuracy"])
    return spikes


def _spikes(row) -> int:
    """count_spikes of a results row, from its stored curve [step, accuracy, loss]."""
    return count_spikes([{"accuracy": a, "loss": l} for _, a, l in row["curve"]])


def end_diagnosis(params, cfg, task, seed) -> dict:
    """max|h|, max logit, min Σã at T and at 2T on 64 held-out sequences (minisab.credit.probe)."""
    be = get_backend(None)
    out = {}
    for name, tk in (("T", task), ("2T", task.at_length(2 * task.T))):
        x, tg, m = tk.sample_eval(host_rng([seed, 7]), 64)
        s = summarize(diagnose(params, cfg, be.asarray(x, dtype=cfg.dtype), be.asarray(tg),
                               be.asarray(m, dtype=cfg.dtype)))
        out[name] = {k: s[k] for k in ("loss", "h_max", "logit_max", "sum_tilde_min",
                                      "g_score_max", "grad_norm", "finite")}
    return out


def run_one(args, T, steps, label, seed) -> dict:
    task = make_task("copy", T, n_digits=args.n_digits, n_symbols=args.n_symbols)
    cfg = model_config(args, task, label)
    tc = TrainConfig(steps=steps, batch=args.batch, lr=args.lr, clip=args.clip, seed=seed,
                     forget_bias=args.forget_bias, eval_every=args.eval_every,
                     eval_batch=args.eval_batch, target=args.target, lr_final=args.lr_final)
    run_dir = os.path.join(args.out, "runs", f"T{T}", label, f"seed{seed}")   # not in git
    ckpt = os.path.join(run_dir, CHECKPOINT)
    if os.path.exists(ckpt) and args.fresh:
        os.remove(ckpt)
    done, resume = None, False
    if os.path.exists(ckpt):
        meta = load_checkpoint(ckpt)["meta"]
        recs = read_metrics(run_dir)
        finished = meta["step"] >= steps or (args.target is not None and recs
                                             and recs[-1]["accuracy"] >= args.target)
        if meta["model"] != cfg.to_dict() or meta["task"] != task.spec():
            os.remove(ckpt)            # a different grid point: train it again
        elif finished:
            done = {"records": recs, "step": meta["step"], "stopped": "done (earlier)",
                    "elapsed": meta.get("elapsed", float("nan"))}
        else:
            resume = True              # cut short: continue it (the same bits as one run)
    if done is None:
        write_config(run_dir, cfg, task, tc, "numpy")
        with sigterm_as_ctrl_c():      # a stop writes the checkpoint of the last finished step
            done = train(cfg, task, tc, run_dir, resume=resume, progress=False,
                         log=lambda m: print(m, file=sys.stderr), to_continue=TO_CONTINUE)
        if done["stopped"] == "interrupted":        # no partial row: the caller stops
            raise stop_error(done["signal"])
    from minisab.train.runs import load_run
    _, _, params = load_run(run_dir)
    recs = done["records"]
    accs = [r["accuracy"] for r in recs]
    hit = next((r for r in recs if r["accuracy"] >= 0.9), None)
    hit99 = next((r for r in recs if r["accuracy"] >= 0.99), None)
    row = {"T": T, "method": label, "seed": seed, "steps": done["step"],
           "stopped": done["stopped"], "wall_s": round(float(done["elapsed"]), 1),
           "final_acc": accs[-1], "best_acc": max(accs), "final_loss": recs[-1]["loss"],
           "step_90": hit["step"] if hit else None, "time_90_s": hit["time"] if hit else None,
           "step_99": hit99["step"] if hit99 else None,
           "time_99_s": hit99["time"] if hit99 else None,
           "spikes": count_spikes(recs), "chance": task.chance,
           "curve": [[r["step"], r["accuracy"], r["loss"]] for r in recs]}
    # Transfer (no retraining): recall accuracy at f*T for each factor f of --transfer.
    row["transfer"] = {str(f * T): evaluate(params, cfg, task.at_length(f * T),
                                            task.at_length(f * T).sample_eval(
                                                host_rng([seed, 3]), args.eval_batch))["accuracy"]
                       for f in args.transfer}
    if cfg.uses_attention:
        row["diagnosis"] = end_diagnosis(params, cfg, task, seed)
    return row


def _run_point(point):
    """One grid point, in a worker process or on a Dask worker: (args, T, steps, label, seed)
    -> row."""
    return run_one(*point)


def _describe(point) -> str:
    _, T, steps, label, seed = point
    return f"T={T} {label} seed={seed}"


def load_results(path) -> list:
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)["runs"]
    return []


def save_results(args, rows) -> None:
    for r in rows:      # the stored count follows the current rule, as the table does
        r["spikes"] = _spikes(r)
    skip = ("fresh", "plot_only", "import_from", "order", "figure", "jobs", "threads",
            "scheduler")                                    # they change no result
    doc = {"settings": {k: v for k, v in vars(args).items() if k not in skip},
           "machine": machine(args.threads), "runs": rows}
    atomic_write_text(os.path.join(args.out, "results.json"), json.dumps(doc, indent=1) + "\n")
    atomic_write_text(os.path.join(args.out, "table.md"), table(rows))
    plot(args, rows)


def table(rows) -> str:
    lines = ["| T | method | seeds | steps | final acc (mean; per seed) | best acc | reached 90% "
             "(step / s) | reached 99% (step / s) | wall s (mean) | spikes | NaN stops | "
             "max \\|h\\| at T / 2T | "
             f"recall at {' / '.join(f'{f}T' for f in transfer_factors(rows))} (mean) |",
             "|" + "---|" * 13]
    keys = sorted({(r["T"], r["method"]) for r in rows},
                  key=lambda k: (k[0], list(METHODS).index(k[1])))
    for T, m in keys:
        rs = sorted((r for r in rows if r["T"] == T and r["method"] == m), key=lambda r: r["seed"])
        fin = [r["final_acc"] for r in rs]
        hmax = ("; ".join(f"{r['diagnosis']['T']['h_max']:.1f} / {r['diagnosis']['2T']['h_max']:.1f}"
                          for r in rs) if all("diagnosis" in r for r in rs) else "—")
        mark = IMPORTED if all(r.get("source") for r in rs) else \
            (f" ({IMPORTED} seed {', '.join(str(r['seed']) for r in rs if r.get('source'))})"
             if any(r.get("source") for r in rs) else "")
        lines.append(f"| {T} | {m}{mark} | {len(rs)} | {rs[0]['steps']} | {np.mean(fin):.3f}; "
                     f"{', '.join(f'{a:.2f}' for a in fin)} | "
                     f"{max(r['best_acc'] for r in rs):.3f} | {_hits(rs, 90)} | {_hits(rs, 99)} | "
                     f"{np.mean([r['wall_s'] for r in rs]):.0f} | "
                     f"{sum(_spikes(r) for r in rs)} | "
                     f"{sum(r['stopped'] == 'nan' for r in rs)} | {hmax} | "
                     f"{_transfer_text(rs)} |")
    return "\n".join(lines) + "\n"


def _hits(rs, pct) -> str:
    """'step / s' at which each run first reached pct% recall ('—' never; 's' is '?' where the
    row predates the 99% column: its step comes from the stored curve, its time was not kept)."""
    out = []
    for r in rs:
        step, secs = r.get(f"step_{pct}"), r.get(f"time_{pct}_s")
        if f"step_{pct}" not in r:
            step = next((c[0] for c in r["curve"] if c[1] >= pct / 100), None)
        out.append("—" if step is None else f"{step} / {'?' if secs is None else f'{secs:.0f}'}")
    return "; ".join(out)


def transfer_factors(rows):
    """The transfer factors recorded in the rows (length / training length)."""
    for r in rows:
        if "transfer" in r:
            return [int(k) // r["T"] for k in r["transfer"]]
    return []


def _transfer_text(rs) -> str:
    if not all("transfer" in r for r in rs):
        return "—"
    keys = list(rs[0]["transfer"])
    return " / ".join(f"{np.mean([r['transfer'][k] for r in rs]):.2f}" for k in keys)


# --figure sparsifiers: per sparsifier, SAB with and without mental updates
SPARSIFIER_PANELS = {"threshold (docs/model.md)": ("sab", "sab-detach"),
                     "top-k softmax": ("sab-softmax", "sab-detach-softmax"),
                     "top-k sparsemax": ("sab-sparsemax", "sab-detach-sparsemax")}
BASELINES = {"bptt": "-", "tbptt": ":", "softmax": "--"}


def plot_sparsifiers(args, rows) -> None:
    """Recall accuracy against step: one row of panels per T, one panel per sparsifier."""
    from minisab.plots import new_figure, style_axes
    Ts = sorted({r["T"] for r in rows})
    fig, axes = new_figure(len(Ts), len(SPARSIFIER_PANELS))
    axes = np.asarray(axes).reshape(len(Ts), len(SPARSIFIER_PANELS))
    for i, T in enumerate(Ts):
        for j, (name, (mental, detach)) in enumerate(SPARSIFIER_PANELS.items()):
            ax = axes[i, j]
            for m, style in BASELINES.items():
                for k, r in enumerate(r for r in rows if r["T"] == T and r["method"] == m):
                    c = np.asarray(r["curve"])
                    ax.plot(c[:, 0], c[:, 1], color="0.6", linestyle=style, linewidth=0.8,
                            label=f"{m} (dense attention)" if m == "softmax" and k == 0 else
                            (m if k == 0 else None))
            for m, color, what in ((mental, "#D55E00", "with mental updates"),
                                   (detach, "#009E73", "without (detach_scores)")):
                rs = [r for r in rows if r["T"] == T and r["method"] == m]
                for k, r in enumerate(rs):
                    c = np.asarray(r["curve"])
                    ax.plot(c[:, 0], c[:, 1], color=color, linewidth=1.3, alpha=0.85,
                            label=f"SAB {what}, {len(rs)} seed{'s' * (len(rs) != 1)}"
                            if k == 0 else None)
            ax.axhline(rows[0]["chance"], color="grey", linestyle=":", linewidth=0.8)
            style_axes(ax, title=f"T={T}: {name}", xlabel="training step",
                       ylabel="held-out recall accuracy" if j == 0 else None)
            ax.set_ylim(-0.02, 1.02)
            if i == 0 and j == 0:
                ax.legend(fontsize=6, frameon=False, loc="upper left")
    path = os.path.join(args.out, "learning_curves.png")
    atomic_write(path, lambda f: fig.savefig(f, format="png"))


def plot(args, rows) -> None:
    from minisab.plots import new_figure, style_axes
    if getattr(args, "figure", "methods") == "sparsifiers" and rows:
        return plot_sparsifiers(args, rows)
    Ts = sorted({r["T"] for r in rows})
    if not Ts:
        return
    fig, axes = new_figure(2, len(Ts))
    axes = np.asarray(axes).reshape(2, len(Ts))
    for col, T in enumerate(Ts):
        ax_a, ax_l = axes[0, col], axes[1, col]
        for m in METHODS:
            rs = [r for r in rows if r["T"] == T and r["method"] == m]
            for i, r in enumerate(rs):
                c = np.asarray(r["curve"])
                kw = {"color": COLORS[m], "linewidth": 1.0, "alpha": 0.8}
                ax_a.plot(c[:, 0], c[:, 1], label=f"{m} ({len(rs)} seed{'s' * (len(rs) > 1)})" if i == 0 else None,
                          **kw)
                ax_l.plot(c[:, 0], c[:, 2], **kw)
        ax_a.axhline(rows[0]["chance"], color="grey", linestyle=":", linewidth=1,
                     label="chance")
        style_axes(ax_a, title=f"copy T={T}, {args.n_digits} digits of {args.n_symbols}",
                   xlabel="training step", ylabel="held-out recall accuracy")
        ax_a.set_ylim(-0.02, 1.02)
        ax_a.legend(fontsize=7, frameon=False)
        ax_l.set_yscale("log")
        style_axes(ax_l, xlabel="training step", ylabel="held-out loss (all steps)")
    path = os.path.join(args.out, "learning_curves.png")
    atomic_write(path, lambda f: fig.savefig(f, format="png"))


def main(argv=None) -> int:
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "results.json")
    rows = load_results(path)
    if args.plot_only:
        save_results(args, rows)
        return 0
    steps_for = dict(zip(args.T, args.steps * len(args.T) if len(args.steps) == 1 else args.steps))
    wanted = {(T, label, seed) for T in args.T for label in args.methods for seed in args.seeds}
    have = {(r["T"], r["method"], r["seed"]) for r in rows}
    if args.import_from:      # copied rows keep their numbers and say where they came from
        src = os.path.relpath(args.import_from, os.path.dirname(os.path.abspath(__file__)))
        for r in load_results(args.import_from):
            key = (r["T"], r["method"], r["seed"])
            if key in wanted and key not in have and r["steps"] == steps_for[r["T"]]:
                rows.append({**r, "source": src})
                have.add(key)
        save_results(args, rows)
    # Seeds outermost (default), so that a grid cut short still has every method at the first
    # seeds; --order T finishes every run at the first length first.
    if args.order == "seed":
        grid = [(T, label, seed) for seed in args.seeds for T in args.T for label in args.methods]
    else:
        grid = [(T, label, seed) for T in args.T for seed in args.seeds for label in args.methods]
    imported = {(r["T"], r["method"], r["seed"]) for r in rows if r.get("source")}
    points = [(args, T, steps_for[T], label, seed) for T, label, seed in grid
              if (T, label, seed) not in imported]
    # Worker processes (or a Dask cluster) train grid points side by side; this process alone
    # writes results.json, after every finished point.
    try:
        with sigterm_as_ctrl_c():               # run_plan.py's stop: as Ctrl-C, here too
            for _, row in run_all(_run_point, points, jobs=args.jobs, scheduler=args.scheduler,
                                  threads=args.threads, describe=_describe):
                key = (row["T"], row["method"], row["seed"])
                rows = [r for r in rows if (r["T"], r["method"], r["seed"]) != key]
                rows.append(row)
                save_results(args, rows)
                print(f"   final acc {row['final_acc']:.3f} best {row['best_acc']:.3f} steps "
                      f"{row['steps']} wall {row['wall_s']} s stopped {row['stopped']} spikes "
                      f"{row['spikes']}", file=sys.stderr, flush=True)
    except KeyboardInterrupt as e:      # the finished rows are written; no partial one
        return stopped(e)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
