"""Train briefly and trace why SAB stalls or diverges; ``python -m minisab diagnose``.

The measurements on one batch (state growth, the sparsifier near ties, gradient per path) are
``minisab.credit.probe.diagnose``; this module runs them during a short training
(``train_and_diagnose``, which also traces every step's loss, gradient norm, max|h|, min Σã and,
with ``split_paths``, the gradient through the scores), and prints the report from the command
line (``main``): a few probe rows during training and the per-step profile of the final model.
Nothing here changes the model. ``diagnose`` and ``summarize`` are re-exported from ``probe``.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

from ..backend import get_backend, host_rng, to_float, to_host
from ..config import Config
from ..credit.probe import diagnose, summarize
from ..fast import forward


COLUMNS = [("step", "{:>6}"), ("loss", "{:8.4f}"), ("acc", "{:6.3f}"),
           ("train_loss_max", "{:8.4f}"), ("h_max", "{:7.2f}"),
           ("logit_max", "{:8.2f}"), ("sum_tilde_min", "{:9.2e}"), ("select_gap_min", "{:9.2e}"),
           ("g_score_max", "{:9.2e}"), ("grad_norm", "{:9.2e}"), ("top_param", "{:>5}"),
           ("top_param_share", "{:5.2f}")]


def format_row(row: dict) -> str:
    return " ".join(fmt.format(row.get(k, float("nan"))) for k, fmt in COLUMNS)


def header() -> str:
    sample = {"step": 0, "top_param": "W_x"}
    cells = [fmt.format(sample.get(k, 1.0)) for k, fmt in COLUMNS]
    return " ".join(k[:len(c)].rjust(len(c)) for (k, _), c in zip(COLUMNS, cells))


def train_and_diagnose(cfg: Config, task, steps: int, lr: float = 2e-3, clip=1.0, batch: int = 32,
                       seed: int = 0, forget_bias: float = 1.0, every: int = 100, backend=None,
                       params=None, log=print, split_paths: bool = False):
    """Train ``cfg`` on ``task`` with Adam for ``steps`` steps and diagnose a fixed probe batch
    every ``every`` steps (and at step 0). Returns ``(rows, params)``: the last good parameters
    and one ``summarize`` row per probe, plus
    ``acc`` (task metric on the probe batch) and ``train_loss_max`` (the largest training loss
    since the previous probe: a loss spike shows there). The last row also holds ``trace``:
    per training step, the loss, the gradient norm before clipping, max|h|, max|logit|, min Σã
    and the parameter with the largest gradient (from the step's own cache). Stops at the
    first non-finite loss or gradient norm, with a last row whose ``stopped`` says so.

    ``split_paths=True`` (attention models with mental updates on) also traces, per step, the
    gradient norm split by path: ``grad_norm_value``, the gradient of the same step with the
    scorer's inputs held constant (``detach_scores=True``: credit through α m and the scorer's
    parameters only), and ``grad_norm_score``, the norm of the difference: what reached the
    parameters through the scores back into the states ĥ_t and m_j (docs/model.md §4). It costs a
    second backward per step; training itself follows the full gradient.
    """
    from ..train.optim import Optimizer
    from ..params import init_params
    be = get_backend(backend)
    opt = Optimizer("adam", lr=lr, clip=clip)
    if params is None:
        params = init_params(cfg, seed=seed, backend=be, forget_bias=forget_bias)
    state = opt.init_state(params)
    rng = host_rng(seed)
    px, pt, pm = task.sample_eval(host_rng([seed, 99]), 64)
    probe = (be.asarray(px, dtype=cfg.dtype), be.asarray(pt), be.asarray(pm, dtype=cfg.dtype))
    rows, worst, t0 = [], 0.0, time.perf_counter()
    trace = {k: [] for k in TRACE_KEYS}

    def probe_row(step):
        d = diagnose(params, cfg, *probe)
        y, _ = forward(params, probe[0], cfg)
        row = {"step": step, **summarize(d), "acc": task.metric(to_host(y), pt, pm, d["loss"]),
               "train_loss_max": worst, "time": round(time.perf_counter() - t0, 2)}
        log(format_row(row))
        return row, d

    log(header())
    rows.append(probe_row(0)[0])
    for step in range(1, steps + 1):
        x, tg, m = task.sample(rng, batch)
        from ..fast import loss_and_grads
        loss, grads, out = loss_and_grads(params, be.asarray(x, dtype=cfg.dtype), be.asarray(tg),
                                          cfg, mask=be.asarray(m, dtype=cfg.dtype))
        if split_paths:
            _trace_paths(trace, params, grads, (x, tg, m), cfg, be)
        params_new, state, norm = opt.step(params, grads, state)
        loss_f, norm_f = to_float(loss), to_float(norm)
        _trace_step(trace, step, loss_f, norm_f, grads, out)
        if not (math.isfinite(loss_f) and math.isfinite(norm_f)):
            log(f"stopped: non-finite loss {loss_f} / gradient norm {norm_f} at step {step}")
            rows.append({"step": step, "stopped": "nan", "loss": loss_f, "grad_norm": norm_f,
                         "trace": trace})
            break
        params, worst = params_new, max(worst, loss_f)
        if step % every == 0 or step == steps:
            row, _ = probe_row(step)
            rows.append(row)
            worst = 0.0
    if rows and "trace" not in rows[-1]:
        rows[-1]["trace"] = trace
    return rows, params


TRACE_KEYS = ("step", "loss", "grad_norm", "h_max", "logit_max", "sum_tilde_min", "top_param",
              "top_param_share")


def _trace_paths(trace, params, grads, batch, cfg: Config, be):
    """Per-step gradient norm through the value paths alone and through the score paths."""
    import dataclasses

    from ..train.optim import global_norm
    from ..fast import loss_and_grads
    x, tg, m = batch
    _, g_value, _ = loss_and_grads(params, be.asarray(x, dtype=cfg.dtype), be.asarray(tg),
                                   dataclasses.replace(cfg, detach_scores=True),
                                   mask=be.asarray(m, dtype=cfg.dtype))
    g_score = {k: grads[k] - g_value[k] for k in grads}
    trace.setdefault("grad_norm_value", []).append(to_float(global_norm(g_value)))
    trace.setdefault("grad_norm_score", []).append(to_float(global_norm(g_score)))


def _trace_step(trace, step, loss, norm, grads, out):
    """Cheap per-step numbers from the training step's own cache (no extra forward)."""
    cache = out["cache"]
    cfg = cache["cfg"]
    pg = {k: float(np.sum(to_host(g) ** 2)) for k, g in grads.items()}
    top = max(pg, key=pg.get)
    st = float("nan")
    if cfg.attention == "topk":
        st = min(float(np.min(np.sum(to_host(c[3][1]), axis=1))) for c in cache["attn"])  # Σã
    for k, v in zip(TRACE_KEYS, (step, loss, norm, float(np.max(np.abs(to_host(cache["hs"])))),
                                 float(np.max(np.abs(to_host(out["logits"])))), st, top,
                                 pg[top] / (sum(pg.values()) or 1.0))):
        trace[k].append(v)


def profile_text(d: dict, every: int = 0, k_att: int = 1) -> str:
    """The per-step profile of one ``diagnose`` result as a table (every ``every``-th step)."""
    T = len(d["h_max"])
    k = max(1, k_att)
    every = every or max(k, (T // 12) // k * k)
    keys = ["h_max", "s_max", "logit_max", "sum_tilde_min", "select_gap", "g_out", "g_rec",
            "g_mem", "g_key", "g_score"]
    lines = ["    t " + " ".join(f"{name:>12}" for name in keys)]
    # Steps whose state is written to memory ((t+1) % k_att == 0) so that g_mem shows.
    steps = list(range(k - 1, T, every))
    if steps[-1] != T - 1:
        steps.append(T - 1)
    for t in steps:
        lines.append(f"{t:5d} " + " ".join(f"{float(d[name][t]):12.4g}" for name in keys))
    return "\n".join(lines)


DESCRIPTION = ("Train a model briefly on the copy task (or load a run folder) and report the "
               "quantities that show why SAB stalls or diverges.")


def build_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """The options of ``python -m minisab diagnose`` (the CLI adds them as a subcommand)."""
    p = argparse.ArgumentParser(
        prog="python -m minisab diagnose", description=DESCRIPTION, add_help=add_help,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--run", default=None, help="a run folder (train/compare) to diagnose instead")
    p.add_argument("--T", type=int, default=50)
    p.add_argument("--n-digits", type=int, default=3)
    p.add_argument("--n-symbols", type=int, default=8)
    p.add_argument("--hidden-size", type=int, default=64)
    p.add_argument("--attn-size", type=int, default=32)
    p.add_argument("--attention", default="topk", choices=["topk", "softmax", "none"])
    p.add_argument("--method", default="sab", choices=["bptt", "tbptt", "sab"])
    p.add_argument("--k-top", type=int, default=5)
    p.add_argument("--k-att", type=int, default=2)
    p.add_argument("--k-trunc", type=int, default=5)
    p.add_argument("--eps", type=float, default=1e-7)
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--model-option", action="append", default=[], metavar="FIELD=VALUE",
                   help="any other Config field (JSON value), e.g. memory_write=\"h_hat\"")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--every", type=int, default=100)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--clip", type=float, default=1.0, help="global-norm clip (<= 0: off)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--forget-bias", type=float, default=1.0)
    p.add_argument("--profile-T", type=int, default=None,
                   help="also print the per-step profile on sequences of this length "
                        "(default: the training T)")
    p.add_argument("--split-paths", action="store_true",
                   help="also trace the gradient norm through the score paths and without them "
                        "(a second backward per step)")
    p.add_argument("--json", default=None, help="write the rows and the final profile here")
    return p


def main(argv=None) -> int:
    return run(build_parser().parse_args(argv))


def run(args) -> int:
    """``python -m minisab diagnose``: train and trace (or load ``--run``), print the profile."""
    from ..train.checkpoint import atomic_write_text
    from ..train.tasks import make_task
    be = get_backend(None)
    try:
        if args.run:
            from ..train.runs import load_run
            cfg, task, params = load_run(args.run)
            rows = []
        else:
            extra = {}
            for item in args.model_option:
                k, _, v = item.partition("=")
                extra[k] = json.loads(v)
            task = make_task("copy", args.T, n_digits=args.n_digits, n_symbols=args.n_symbols)
            cfg = Config(input_size=task.input_size, output_size=task.output_size,
                         hidden_size=args.hidden_size, attn_size=args.attn_size,
                         attention=None if args.attention == "none" else args.attention,
                         method=args.method, k_top=args.k_top, k_att=args.k_att,
                         k_trunc=args.k_trunc, eps=args.eps, dtype=args.dtype, **extra)
            from ..params import init_params
            params = init_params(cfg, seed=args.seed, backend=be, forget_bias=args.forget_bias)
            rows, params = train_and_diagnose(cfg, task, args.steps, lr=args.lr,
                                              clip=args.clip if args.clip > 0 else None,
                                              batch=args.batch, seed=args.seed,
                                              every=args.every, params=params,
                                              split_paths=args.split_paths)
    except (ValueError, TypeError) as e:
        print(f"python -m minisab diagnose: error: {e}", file=sys.stderr)
        return 2
    # The per-step profile of the last good parameters, at the training length or longer.
    ptask = task.at_length(args.profile_T) if args.profile_T else task
    px, pt, pm = ptask.sample_eval(host_rng([args.seed, 98]), 64)
    d = diagnose(params, cfg, be.asarray(px, dtype=cfg.dtype), be.asarray(pt),
                 be.asarray(pm, dtype=cfg.dtype))
    print(f"\nper-step profile at T={ptask.T} ({cfg.attention}, {cfg.method}):")
    print(profile_text(d, k_att=cfg.k_att or 1))
    s = summarize(d)
    print("summary: " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                  for k, v in s.items()))
    if args.json:
        prof = {k: [float(v) for v in d[k]] for k in d if isinstance(d[k], np.ndarray)}
        doc = {"config": cfg.to_dict(), "task": ptask.spec(), "rows": rows, "profile": prof,
               "summary": s}
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        atomic_write_text(args.json, json.dumps(doc, indent=1) + "\n")
    stopped = rows and rows[-1].get("stopped") == "nan"
    return 1 if stopped else 0

