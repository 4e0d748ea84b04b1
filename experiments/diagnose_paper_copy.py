"""Why an SAB seed fails on the paper's copy task: minisab's instruments on the failing run.

The 10-digit copy task at T = 100 (``paper_copy.py``) has SAB seeds that solve it and seeds that
stall (docs/reproduction.md). This script measures, on one held-out batch, what each suspect
would move, for the models of the seeds given (``--seeds``, the failing one beside one that
learned):

- **which digits are recalled** (``digit_acc``, per recall position) and **where the recall steps
  look** (``digit_weight``: the weight recall step i puts on the memory that first holds digit i,
  ``digit_kept``: how often that memory is among the kept ones; ``digit_phase_weight``: the
  weight on every memory written by the end of the digits, which hold them if the state kept
  them; ``recent_weight``: on the last ``k_top`` memories; ``null_weight``: on the null
  memory). A recall step that reads the digits' memories but outputs the wrong symbol points at
  the decoding; one that never keeps them points at the scorer;
- **credit reaching the digit steps** (``flow.credit_matrix`` with the task's loss):
  ``digit_credit``, the credit from recall step i to the step that read digit i, relative to the
  largest credit of that recall step's row; the credit SAB's backward can carry at all;
- **gradient norms** and **the sparsifier near ties** (``probe.diagnose``): the global gradient
  norm and the parameter that dominates it, the largest score gradient, the smallest
  normaliser Σã (∂α/∂a grows like 1/(Σã + ε)) and the smallest selection gap, max|h|;
- **whether the recall steps read anything** (``reads_nothing``): their weights' sum, how often
  their ``k_top + 1`` largest scores tie (the paper's sparsifier then gives every memory zero
  weight) and how saturated the scorer's tanh units are for those memories.

``--every N`` also retrains each seed from scratch in ``--out``/runs/seed<s> (the same config,
so the same run, bit for bit, on the machine and the minisab version that made it; each row
records ``differs_from_step``, where the retraining's held-out loss first differs from the
original's, None where it never does) and measures every N steps: the
instruments over training, which show *when* a failing seed's recall steps stop looking for their
digits. Resumable: a measured step is read back from results.json, the retraining continues
from its checkpoint. Writes ``results.json``, ``table.md`` and ``diagnosis.png`` under ``--out``
(default ``experiments/results/diagnosis/paper_copy_T100``); atomically. Each row records its
``wall_s``: the seconds its measurement took (for a trace row, the retraining up to it too).

    python experiments/diagnose_paper_copy.py --runs <paper_copy out>/runs --seeds 1 0
    nice -n 19 python experiments/diagnose_paper_copy.py --runs ... --seeds 1 0 --every 1000

The final models take seconds; ``--every 1000`` retrains 20,000 steps per seed (about 20 min of
one core each); ``--until 6000`` stops the retraining there, where the selection has formed.
``--smoke`` runs a tiny paper_copy grid first and diagnoses it.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

from minisab.backend import get_backend, host_rng, to_host
from minisab.train.checkpoint import atomic_write, atomic_write_text
from minisab.credit.flow import credit_matrix, selections
from minisab.credit.probe import diagnose, summarize
from minisab.train.runs import load_run, read_config, run_finished
from minisab.sab import forward
from minisab.threads import use_threads
from minisab.train import TrainConfig, train
from minisab.train.faults import sigterm_as_ctrl_c, stop_error

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)                # _grid.py; paper_copy.py, for --smoke
from _grid import stopped  # noqa: E402  (experiments/_grid.py)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--runs", default=os.path.join(HERE, "results", "paper_copy", "runs"),
                   help="paper_copy.py's run folders: <runs>/T<T>/<method>/seed<s>/")
    p.add_argument("--T", type=int, default=100)
    p.add_argument("--method", default="sab")
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 0])
    p.add_argument("--every", type=int, default=0,
                   help="also retrain each seed and measure every this many steps (0: no)")
    p.add_argument("--until", type=int, default=0,
                   help="with --every: measure over training up to this step only (0: the whole "
                        "run); the selection forms in the first few thousand steps")
    p.add_argument("--batch", type=int, default=64, help="held-out sequences measured")
    p.add_argument("--out", default=os.path.join(HERE, "results", "diagnosis", "paper_copy_T100"))
    p.add_argument("--smoke", action="store_true", help="a tiny paper_copy grid, then this")
    return p.parse_args(argv)


def measure(params, cfg, task, seed: int, batch: int) -> dict:
    """Every instrument on one held-out batch (seeded by the run's seed): see the docstring."""
    be = get_backend(None)
    x, tg, m = task.sample_eval(host_rng([seed, 7]), batch)
    n, T = task.options["n_digits"], task.T
    xb = be.asarray(x, dtype=cfg.dtype)
    y, cache = forward(params, xb, cfg, record=True)
    recall = np.arange(T + n, T + 2 * n)                          # the recall steps
    pred = to_host(y).argmax(axis=2)                              # (B, steps)
    out = {"digit_acc": [float(np.mean(pred[:, t] == tg[:, t])) for t in recall]}
    digit_mem = [math.ceil((i + 1) / cfg.k_att) for i in range(n)]
    attn = to_host(cache["record"]["attn"])                       # (steps, B, n_max)
    kept = selections(cache)                                      # (steps, B, n_max) bool
    out["digit_weight"] = [float(attn[t, :, j].mean()) for t, j in zip(recall, digit_mem)]
    out["digit_kept"] = [float(kept[t, :, j].mean()) for t, j in zip(recall, digit_mem)]
    out["null_weight"] = float(attn[recall, :, 0].mean())
    # the memories written by the end of the digits (each holds some of them, if the state
    # kept them) against the recent ones (the last k_top memories before the recall step)
    last_digit_mem = math.ceil(n / cfg.k_att)
    out["digit_phase_weight"] = float(attn[recall][:, :, 1:last_digit_mem + 1].sum(axis=2).mean())
    recent = [float(attn[t, :, max(1, t // cfg.k_att - cfg.k_top + 1):t // cfg.k_att + 1]
                    .sum(axis=1).mean()) for t in recall]
    out["recent_weight"] = float(np.mean(recent))
    out.update(reads_nothing(params, cfg, cache, recall))
    G, _, _ = credit_matrix(params, xb, cfg, be.asarray(tg), be.asarray(m, dtype=cfg.dtype),
                            group=min(20, len(recall)))
    rel = G / np.maximum(G.max(axis=1, keepdims=True), 1e-30)
    out["digit_credit"] = [float(rel[t, i]) for i, t in enumerate(recall)]
    d = diagnose(params, cfg, xb, be.asarray(tg), be.asarray(m, dtype=cfg.dtype))
    s = summarize(d)
    out.update({k: s[k] for k in ("loss", "grad_norm", "top_param", "top_param_share",
                                  "g_score_max", "sum_tilde_min", "select_gap_min", "h_max")})
    out["recall_acc"] = float(np.mean(out["digit_acc"]))
    return out


def reads_nothing(params, cfg, cache, recall) -> dict:
    """Whether the recall steps read anything, and why not (docs/model.md §2.3).

    ``attn_total``: the recall steps' weights summed over the memories, averaged (1 where each
    reads a distribution). ``top_tied``: how often the ``k_top + 1`` largest scores of a recall
    step are equal; the paper's sparsifier then subtracts a threshold δ equal to every kept
    score, so every ``ã`` and every weight is 0 and the step reads nothing.
    ``scorer_saturated`` (mlp scorer): the share of the scorer's hidden units ``tanh(ĥ W_q +
    m W_m)`` at exactly ±1, over those ``k_top + 1`` memories; saturated units make equal scores.
    """
    rec = cache["record"]
    attn, scores = to_host(rec["attn"]), to_host(rec["scores"])
    out = {"attn_total": float(attn[recall].sum(axis=2).mean())}
    k = cfg.k_top
    h_hats, keys = to_host(cache["h_hats"]), to_host(cache["mem"].K)   # (B, T, H), (B, n, A)
    tied, saturated = [], []
    for t in recall:
        n = rec["n_mem"][t]
        if n <= k:                          # every memory is kept: no threshold to tie with
            continue
        a = scores[t, :, :n]                                          # (B, n)
        top = np.argsort(-a, axis=1, kind="stable")[:, :k + 1]        # (B, k+1)
        ranked = np.take_along_axis(a, top, axis=1)
        tied.append(ranked[:, 0] == ranked[:, k])
        if cfg.scorer == "mlp":
            q = h_hats[:, t, :] @ to_host(params["W_q"])                   # (B, A)
            K = np.take_along_axis(keys[:, :n, :], top[:, :, None], axis=1)   # (B, k+1, A)
            hid = np.tanh((q[:, None, :] + K).astype(scores.dtype))    # (B, k+1, A)
            saturated.append(np.mean(np.abs(hid) == 1.0))
    out["top_tied"] = float(np.mean(tied)) if tied else 0.0
    out["scorer_saturated"] = float(np.mean(saturated)) if saturated else None
    return out


def _load(path):
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    return {"rows": []}


def first_difference(run_dir, out_dir):
    """The first evaluation step at which the retrained run's held-out loss differs from the
    original run's (None where every step both measured agrees, bit for bit). A run trained by
    an earlier minisab whose float32 rounding differed is not reproduced: its retraining is
    another run with the same seed, and its trace must not be read as the original's."""
    def losses(folder):
        with open(os.path.join(folder, "metrics.jsonl"), encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        return {r["step"]: r["loss"] for r in rows if "loss" in r and "accuracy" in r}
    a, b = losses(run_dir), losses(out_dir)
    return next((s for s in sorted(set(a) & set(b)) if a[s] != b[s]), None)


def refresh_differs(doc, seed, run_dir, out_dir) -> None:
    """Restate ``differs_from_step`` of ``seed``'s trace rows against the run in ``run_dir`` now:
    a run trained again with the current code (``adopt_rerun.py``) may be the retraining's run
    where the one measured before was not."""
    if not os.path.exists(os.path.join(out_dir, "metrics.jsonl")):
        return
    first = first_difference(run_dir, out_dir)
    for r in doc["rows"]:
        if r["source"] == "train" and r["seed"] == seed:
            r["differs_from_step"] = first if first is not None and first <= r["step"] else None


def retrain(run_dir, out_dir, seed, every, batch, have, add, until=0) -> None:
    """Train the run of ``run_dir`` again in ``out_dir``, measuring every ``every`` steps (up to
    step ``until`` where it is given)."""
    d = read_config(run_dir)
    cfg, task, _ = load_run(run_dir)
    tc = TrainConfig(**d["train"])
    last = min(until, tc.steps) if until else tc.steps
    stops = list(range(0, last, every)) + [last]
    for stop in stops:
        if ("train", seed, stop) in have:
            continue
        start = time.perf_counter()           # the row's wall time: training to it, measuring
        if stop > 0:
            with sigterm_as_ctrl_c():       # a stop keeps the last finished step
                res = train(cfg, task, TrainConfig(**{**d["train"], "steps": stop}), out_dir,
                            resume=os.path.exists(os.path.join(out_dir, "checkpoint.npz")),
                            progress=False, log=lambda msg: None)
            if res["stopped"] == "interrupted":     # Ctrl-C or SIGTERM: the checkpoint is kept
                raise stop_error(res["signal"])
            params = res["params"]
        else:
            from minisab.params import init_params
            params = init_params(cfg, seed=tc.seed, forget_bias=tc.forget_bias)
        differs = first_difference(run_dir, out_dir) if stop > 0 else None
        row = measure(params, cfg, task, seed, batch)
        add({"source": "train", "seed": seed, "step": stop, "differs_from_step": differs,
             **row, "wall_s": time.perf_counter() - start})


def table(rows) -> str:
    head = ("| seed | model | step | recall | digits recalled (≥ 0.9) | weight on the digit's "
            "memory (mean; min) | digit memory kept | weight: digit-phase / recent / null "
            "memories | weights' sum; top scores tied | credit to the digit (relative; min) | "
            "grad norm (top param) | min Σã | min select gap |")
    lines = [head, "|" + "---|" * 13]
    for r in sorted(rows, key=lambda r: (r["seed"], r["source"] != "final", r["step"])):
        dw, dc = r["digit_weight"], r["digit_credit"]
        lines.append(
            f"| {r['seed']} | {r['source']} | {r['step']} | {r['recall_acc']:.3f} | "
            f"{sum(a >= 0.9 for a in r['digit_acc'])} of {len(r['digit_acc'])} | "
            f"{np.mean(dw):.2f}; {min(dw):.2f} | {np.mean(r['digit_kept']):.2f} | "
            f"{r['digit_phase_weight']:.2f} / {r['recent_weight']:.2f} / {r['null_weight']:.2f} | "
            + (f"{r['attn_total']:.2f}; {r['top_tied']:.2f} | " if "attn_total" in r else
               "not measured | ") +
            f"{np.mean(dc):.2g}; {min(dc):.2g} | "
            f"{r['grad_norm']:.3g} ({r['top_param']}) | {r['sum_tilde_min']:.2g} | "
            f"{r['select_gap_min']:.2g} |")
    return "\n".join(lines) + "\n"


def figure(rows, path) -> None:
    """Per seed over training: recall, weight on the digit's memory, credit to the digit."""
    from minisab.plots import new_figure, style_axes
    tr = [r for r in rows if r["source"] == "train"]
    if not tr:
        return
    fig, axes = new_figure(1, 3, size=(13, 3.8))
    axes = np.ravel(axes)
    for seed in sorted({r["seed"] for r in tr}):
        rs = sorted((r for r in tr if r["seed"] == seed), key=lambda r: r["step"])
        steps = [r["step"] for r in rs]
        for ax, key in zip(axes, ("recall_acc", "digit_phase_weight", "digit_credit")):
            ax.plot(steps, [np.mean(r[key]) if isinstance(r[key], list) else r[key] for r in rs],
                    marker="o", markersize=3, label=f"seed {seed}")
    for ax, title in zip(axes, ("recall accuracy", "recall steps' weight on digit-phase memories",
                                "credit to the digit step (relative)")):
        style_axes(ax, title, "training step", None)
    axes[2].set_yscale("log")
    axes[0].legend(fontsize=8, frameon=False)
    atomic_write(path, lambda f: fig.savefig(f, format="png"))


def main(argv=None) -> int:
    args = parse_args(argv)
    # minisab's BLAS threads (one unless MINISAB_THREADS says otherwise; minisab/threads.py) for
    # the measurements as for the training: a float32 matrix product summed by another number of
    # threads rounds otherwise, so the numbers would depend on the caller's OPENBLAS_NUM_THREADS.
    with use_threads():
        return _diagnose(args)


def _diagnose(args) -> int:
    if args.smoke:                  # a tiny paper_copy grid to diagnose
        import paper_copy
        paper_copy.main(["--smoke", "--methods", args.method, "--seeds", *map(str, args.seeds),
                         "--out", os.path.join(args.out, "smoke_grid"), "--jobs", "1"])
        args.runs, args.T = os.path.join(args.out, "smoke_grid", "runs"), 6
        args.batch = min(args.batch, 8)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "results.json")
    doc = _load(path)
    root = os.path.dirname(HERE)          # paths in the results file relative to the clone
    doc["settings"] = {k: (os.path.relpath(v, root) if k in ("runs", "out") else v)
                       for k, v in vars(args).items() if k != "smoke"}

    def add(row):
        doc["rows"] = [r for r in doc["rows"] if (r["source"], r["seed"], r["step"])
                       != (row["source"], row["seed"], row["step"])] + [row]
        atomic_write_text(path, json.dumps(doc, indent=1) + "\n")
        atomic_write_text(os.path.join(args.out, "table.md"), table(doc["rows"]))
        print(f"seed {row['seed']} {row['source']} step {row['step']}: recall "
              f"{row['recall_acc']:.3f}, weight on the digit's memory "
              f"{np.mean(row['digit_weight']):.2f}", file=sys.stderr, flush=True)
    ready = []
    for seed in args.seeds:
        run_dir = os.path.join(args.runs, f"T{args.T}", args.method, f"seed{seed}")
        if not run_finished(run_dir):       # measured by a later call, once it has finished
            print(f"seed {seed}: {run_dir} has not finished training; skipped",
                  file=sys.stderr, flush=True)
            continue
        ready.append(seed)
        cfg, task, params = load_run(run_dir)
        step = read_config(run_dir)["train"]["steps"]
        refresh_differs(doc, seed, run_dir, os.path.join(args.out, "runs", f"seed{seed}"))
        start = time.perf_counter()
        row = measure(params, cfg, task, seed, args.batch)
        add({"source": "final", "seed": seed, "step": step,       # writes the refresh too
             **row, "wall_s": time.perf_counter() - start})
    if args.every:
        for seed in ready:
            run_dir = os.path.join(args.runs, f"T{args.T}", args.method, f"seed{seed}")
            have = {(r["source"], r["seed"], r["step"]) for r in doc["rows"]}
            try:
                retrain(run_dir, os.path.join(args.out, "runs", f"seed{seed}"), seed,
                        args.every, args.batch, have, add, until=args.until)
            except KeyboardInterrupt as e:      # Ctrl-C or SIGTERM: the measured rows are written
                return stopped(e, "the retraining kept the checkpoint of its last finished "
                                  "step, and the measured rows are in results.json")
        figure(doc["rows"], os.path.join(args.out, "diagnosis.png"))
    print(table(doc["rows"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
