"""What a run folder shows: its Markdown summary, the comparison tables, the learning curves
and SAB's attention heat map (written by ``train`` and ``compare``, ``minisab.train.runs``).

The tables are the ones ``python -m minisab compare`` prints and writes into ``summary.md``;
``scripts/report.py`` writes the README's table with the same number format (``table_number``).
"""
from __future__ import annotations

import json
import os

import numpy as np

from ..backend import get_backend, host_rng, to_host
from ..train.checkpoint import atomic_write, load_checkpoint
from ..config import Config
from ..params import params_from_host
from ..fast import forward
from ..train.tasks import Task
from ..train.loop import CHECKPOINT, TrainConfig


def model_name(cfg: Config) -> str:
    """The model in words: "SAB (the course's one: no mental updates)", "LSTM, truncated
    BPTT (k_trunc=5)", ... (``minisab.train.runs.sab_method()`` is the course's one SAB)."""
    cut = f" (k_trunc={cfg.k_trunc})" if cfg.k_trunc is not None else " (k_trunc=none: no cut)"
    if cfg.attention is None:
        return "LSTM, full BPTT" if cfg.method == "bptt" else "LSTM, truncated BPTT" + cut
    if cfg.method == "sab":
        bounded = "" if cfg.sparsifier == "threshold" else f", {cfg.sparsifier} sparsifier"
        if cfg.detach_scores and not bounded:
            return "SAB, the course's one (no mental updates; minisab.train.runs.sab_method())"
        return ("SAB without mental updates" if cfg.detach_scores else
                "SAB with mental updates (docs/model.md's variant)") + bounded
    kind = "top-k" if cfg.attention == "topk" else "dense (softmax)"
    return f"{kind} attention, " + ("full BPTT" if cfg.method == "bptt" else
                                     "truncated BPTT" + cut)


def run_summary(name, cfg: Config, task: Task, tc: TrainConfig, result: dict,
                figures=()) -> str:
    """The Markdown summary of one run (``name``: its folder under the runs folder);
    ``figures``: the paths of the figures written beside it."""
    from ..train.provenance import describe, machine
    last = result["records"][-1] if result["records"] else {}
    metric = task.metric_name
    cut = "none (full BPTT cuts nothing)" if cfg.method == "bptt" else cfg.k_trunc
    files = ["config.json", "metrics.jsonl", "checkpoint.npz"] + [
        os.path.basename(f) for f in figures]
    lines = [f"# Run `{name}`: {model_name(cfg)}", "",
             f"- task: {task.name} {json.dumps({k: v for k, v in task.spec().items() if k != 'vocab'})}",
             f"- model: attention={cfg.attention}, method={cfg.method}, k_trunc={cut}, "
             f"H={cfg.hidden_size}, dtype={cfg.dtype}"
             + (f", k_top={cfg.k_top}, k_att={cfg.k_att}, detach_scores={cfg.detach_scores}"
                if cfg.uses_attention else ""),
             f"- training: {tc.optimizer} lr={tc.lr:g} clip={tc.clip} batch={tc.batch} "
             f"seed={tc.seed}",
             f"- stopped: {result['stopped']} at step {result['step']} after "
             f"{result['elapsed']:.1f} s",
             f"- held-out {metric}: {last.get(metric, float('nan')):.4g} "
             f"(chance {task.chance:.4g}); held-out loss: {last.get('loss', float('nan')):.4g}; "
             f"on the run's held-out set, {tc.eval_batch} sequences drawn once with seed "
             f"[{tc.seed}, 1] (image tasks: test images, all of them when that is at least "
             "the test set), the set `eval` uses without `--batch`",
             f"- machine: {describe(machine())}",
             "", "Files: " + ", ".join(f"`{f}`" for f in files) + ".", ""]
    return "\n".join(lines)


def table_number(v: float) -> str:
    """A metric or loss for a table: 3 decimals, or 3 significant digits below 0.01."""
    return f"{v:.3f}" if v == 0 or abs(v) >= 0.01 else f"{v:.2e}"


def compare_table(rows: list, metric: str) -> str:
    """A Markdown table of compare results (also printed); a seed column when there are
    several seeds."""
    seeds = len({r.get("seed") for r in rows}) > 1
    head = (f"| run |{' seed |' if seeds else ''} k_trunc | steps | {metric} | loss "
            "| wall time (s) | ms/step | peak step memory (MiB) |")
    out = [head, "|" + "---|" * (9 if seeds else 8)]
    for r in rows:
        seed = f" {r.get('seed')} |" if seeds else ""
        out.append(f"| {r['label']} |{seed} {r['k_trunc']} | {r['step']} | "
                   f"{table_number(r[metric])} | {table_number(r['loss'])} | {r['time']:.1f} | "
                   f"{1000 * r['time'] / max(r['step'], 1):.1f} | {r['peak_mib']:.1f} |")
    return "\n".join(out)


def seeds_table(rows: list, metric: str) -> str:
    """Mean and range (min–max) over seeds of each method's final metric, loss and time."""
    def stat(vals, fmt):
        lo, hi = min(vals), max(vals)
        return f"{fmt(sum(vals) / len(vals))} ({fmt(lo)}–{fmt(hi)})"
    out = [f"| run | k_trunc | seeds | {metric}: mean (range) | loss: mean (range) "
           "| wall time (s): mean (range) |", "|" + "---|" * 6]
    for label in dict.fromkeys(r["label"] for r in rows):
        rs = [r for r in rows if r["label"] == label]
        out.append(f"| {label} | {rs[0]['k_trunc']} | {', '.join(str(r['seed']) for r in rs)} | "
                   f"{stat([r[metric] for r in rs], table_number)} | "
                   f"{stat([r['loss'] for r in rs], table_number)} "
                   f"| {stat([r['time'] for r in rs], lambda v: f'{v:.1f}')} |")
    return "\n".join(out)


def save_figures(run_dir, runs: dict, metric: str, attn_model=None, chance=None) -> list:
    """Learning curves of ``runs`` (with the task's ``chance`` level) and, given
    ``(params, cfg, task)``, an attention heat map."""
    from .attention import attention_heatmap
    from .curves import learning_curves
    saved = []
    fig = learning_curves(runs, metric=metric, chance=chance,
                          chance_label="chance" if metric != "mse" else "always the mean")
    path = os.path.join(run_dir, "learning_curves.png")
    atomic_write(path, lambda f: fig.savefig(f, format="png"))
    saved.append(path)
    if attn_model is not None:
        params, cfg, task = attn_model
        be_x, _, _ = task.sample_eval(host_rng(7), 4)
        x = get_backend(_backend_name(params)).asarray(be_x, dtype=cfg.dtype)
        _, cache = forward(params, x, cfg, record=True)
        rec = cache["record"]
        fig = attention_heatmap(to_host(rec["attn"]), rec["n_mem"], batch_index=0,
                                title=f"SAB attention on one {task.name} sequence "
                                      f"(k_top={cfg.k_top}, k_att={cfg.k_att})",
                                k_att=cfg.k_att)
        path = os.path.join(run_dir, "attention.png")
        atomic_write(path, lambda f: fig.savefig(f, format="png"))
        saved.append(path)
    return saved


def heatmap_model(result: dict, cfg: Config, task: Task, run_dir, be):
    """What the attention heat map is drawn from: after a NaN stop the last good checkpoint,
    never the NaN parameters; None for a model without attention."""
    if not cfg.uses_attention:
        return None
    if result["stopped"] != "nan":
        return result["params"], cfg, task
    ck = load_checkpoint(os.path.join(run_dir, CHECKPOINT))
    return params_from_host(ck["params"], cfg, be), cfg, task


def _backend_name(params):
    a = next(iter(params.values()))
    if isinstance(a, np.ndarray):
        return "numpy"
    return "cupy" if type(a).__module__.startswith("cupy") else "strict"
