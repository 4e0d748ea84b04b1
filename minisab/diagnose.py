"""Why SAB stalls or diverges: the quantities that reveal it, measured on one batch (issue 6).

``diagnose(params, cfg, x, targets, mask)`` runs one forward and backward and returns, per step
``t`` (host NumPy arrays of shape (T,)) and as one-line summaries:

- **state growth** (MODEL.md §2.4): ``h_max`` = max|h_t|, ``h_hat_max`` = max|ĥ_t|,
  ``s_max`` = max|s_t|, and ``logit_max`` = max|y_t|. Since ``h_t = ĥ_t + s_t`` is written to
  memory and later summaries add it in again, a chain of reads can make |h| grow along the
  sequence; |ĥ| <= 1 always (an LSTM output).
- **the sparsifier near ties** (MODEL.md §2.3, topk only): ``sum_tilde_min`` = min over the batch
  of Σ ã (the normaliser without ε), ``select_gap`` and ``threshold_gap`` (``gradcheck.tie_gaps``
  at that step). ∂α/∂a scales like 1/(Σã + ε): a small Σã is a large gain on the score gradient.
- **gradient per path** into every state h_t (batch mean of the L2 norm): ``g_out`` (from y_t),
  ``g_rec`` (from step t+1, the recurrent edge), ``g_mem`` (from later reads of h_t as a memory
  value, Σ α m) and ``g_key`` (through the scores of later reads, mlp/release key); and ``g_score``
  = |∂L/∂a| at step t, what the sparsifier passes to the scorer.
- ``param_grad_norms``: the global gradient norm split by parameter (which one dominates what
  global-norm clipping divides by); ``finite``: whether loss and gradients are finite;
  ``float32_headroom``: log10(float32 max / largest magnitude seen in states, logits, gradients).

``python -m minisab.diagnose`` trains a model briefly (or loads a run folder) and prints the
report at a few points of training; see ``main``. Nothing here changes the model.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

from .attention import (key_backward, kept_rows, read_backward, score_backward, softmax_backward,
                        topk_backward)
from .backend import (gather_rows, get_backend, host_rng, namespace, scatter_add_rows, to_float,
                      to_host)
from .config import Config
from .gradcheck import tie_gaps
from .losses import LOSSES, output_backward
from .sab import backward, forward, loss_forward

F32_MAX = float(np.finfo(np.float32).max)


def _norms(a) -> np.ndarray:
    """Batch mean of the L2 norm over the last axis: (B, T, H) -> (T,), (B, H) -> scalar."""
    a = to_host(a)
    return np.mean(np.sqrt(np.sum(a * a, axis=-1)), axis=0)


def replay_memory_reads(cache, params, dy, dH):
    """Replay the memory reads of ``sab.backward`` from the final adjoints ``dH`` (B, T, H).

    Returns ``(mem_value, mem_key, g_score)``: ``mem_value[t]`` and ``mem_key[t]`` (host (B, H),
    only for states h_t written to memory) are the gradient h_t received from later reads as a
    memory value (through α m) and through its key (the scores); ``g_score`` (T,) is the
    batch-mean norm of ∂L/∂a at each step (what the sparsifier passes on to the scorer).
    """
    cfg: Config = cache["cfg"]
    hs, ss, mem = cache["hs"], cache["ss"], cache["mem"]
    T = hs.shape[1]
    mem_value, mem_key, g_score = {}, {}, np.zeros(T)
    if not cfg.uses_attention:
        return mem_value, mem_key, g_score
    xp = namespace(dH)
    _, ds_out, _ = output_backward(dy, hs, ss, params["W_y"])
    dM, dK = xp.zeros_like(mem.M), xp.zeros_like(mem.K)
    for t in range(T - 1, -1, -1):
        if (t + 1) % cfg.k_att == 0:         # h_t is memory j; all its readers are done
            j = (t + 1) // cfg.k_att
            dm_key, _ = key_backward(dK[:, j, :], hs[:, t, :], mem.K[:, j, :], params, cfg.scorer)
            mem_value[t] = to_host(dM[:, j, :])
            mem_key[t] = to_host(dm_key) * (0.0 if cfg.detach_scores else 1.0)
        score_cache, act, alpha, sp_cache = cache["attn"][t]
        n = 1 + t // cfg.k_att
        M, K = mem.M[:, :n, :], mem.K[:, :n, :]
        ds = dH[:, t, :] + ds_out[:, t, :]                          # s_t feeds h_t and y_t
        if act is not None:                                         # topk: kept rows only
            dalpha, dM_kept = read_backward(ds, alpha, kept_rows(M, act, alpha.shape[1]))
            scatter_add_rows(dM, act[:, :alpha.shape[1]], dM_kept)
            da = topk_backward(dalpha, sp_cache)
            _, dK_act, _ = score_backward(da, gather_rows(K, act), score_cache, params, cfg.scorer)
            scatter_add_rows(dK, act, dK_act)
        else:
            dalpha, dM_n = read_backward(ds, alpha, M)
            dM[:, :n, :] += dM_n
            da = softmax_backward(dalpha, sp_cache)
            _, dK_n, _ = score_backward(da, K, score_cache, params, cfg.scorer)
            dK[:, :n, :] += dK_n
        g_score[t] = _norms(da)
    return mem_value, mem_key, g_score


def sparsifier_profile(cache):
    """Per step (T,): min Σã over the batch, and the select / threshold tie gaps (topk only).
    ``cache`` is a ``forward(..., record=True)`` cache (the tie gaps need the raw scores)."""
    cfg: Config = cache["cfg"]
    T = cache["hs"].shape[1]
    out = {k: np.full(T, np.nan) for k in ("sum_tilde_min", "select_gap", "threshold_gap")}
    if cfg.attention != "topk":
        return out
    scores = to_host(cache["record"]["scores"])                    # (T, B, n_max), padded
    for t in range(T):
        a_tilde = cache["attn"][t][3][1]
        out["sum_tilde_min"][t] = float(np.min(np.sum(to_host(a_tilde), axis=1)))
        a_h = scores[t, :, :1 + t // cfg.k_att]                     # the n_t scores of step t
        gaps = tie_gaps(a_h[None, :, :], [a_h.shape[1]], cfg.k_top)
        out["select_gap"][t], out["threshold_gap"][t] = gaps["select"], gaps["threshold"]
    return out


def diagnose(params, cfg: Config, x, targets, mask=None) -> dict:
    """Measure one batch (arrays on the params' backend). See the module docstring."""
    y, cache = forward(params, x, cfg, record=True)        # record: the raw score rows
    loss, l_cache = loss_forward(y, targets, cfg, mask)
    dy = LOSSES[cfg.loss][1](l_cache)
    grads, dH = backward(dy, cache, params)
    hs = to_host(cache["hs"])
    h_hats = to_host(cache["h_hats"])
    out = {"loss": to_float(loss),
           "h_max": np.max(np.abs(hs), axis=(0, 2)),
           "h_hat_max": np.max(np.abs(h_hats), axis=(0, 2)),
           "s_max": (np.max(np.abs(to_host(cache["ss"])), axis=(0, 2)) if cfg.uses_attention
                     else np.zeros(hs.shape[1])),
           "logit_max": np.max(np.abs(to_host(y)), axis=(0, 2))}
    out.update(sparsifier_profile(cache))
    dh_out, _, _ = output_backward(dy, cache["hs"], cache["ss"], params["W_y"])
    mem_value, mem_key, g_score = replay_memory_reads(cache, params, dy, dH)
    T = hs.shape[1]
    rec = to_host(dH) - to_host(dh_out)           # what is left is the recurrent part
    g_mem, g_key = np.zeros(T), np.zeros(T)
    for t in mem_value:
        if cfg.memory_write != "h_hat":     # with "h_hat" it goes to ĥ_t, not to dH
            gain = 1.0
            if cfg.memory_write == "tanh_h":  # m = tanh(h): dm/dh = 1 − m²
                gain = 1.0 - to_host(cache["mem"].M[:, (t + 1) // cfg.k_att, :]) ** 2
            rec[:, t, :] -= (mem_value[t] + mem_key[t]) * gain
        g_mem[t], g_key[t] = _norms(mem_value[t]), _norms(mem_key[t])
    out["g_out"], out["g_rec"], out["g_total"] = _norms(dh_out), _norms(rec), _norms(dH)
    out["g_mem"], out["g_key"], out["g_score"] = g_mem, g_key, g_score
    pg = {k: math.sqrt(float(np.sum(to_host(g) ** 2))) for k, g in grads.items()}
    out["param_grad_norms"] = pg
    out["grad_norm"] = math.sqrt(sum(v * v for v in pg.values()))
    biggest = max(float(np.max(np.abs(hs))), float(np.max(out["logit_max"])),
                  max(float(np.max(np.abs(to_host(g)))) for g in grads.values()))
    out["finite"] = bool(math.isfinite(out["loss"]) and math.isfinite(out["grad_norm"]))
    out["float32_headroom"] = (math.log10(F32_MAX / biggest) if math.isfinite(biggest)
                               and biggest > 0 else float("nan"))
    return out


def summarize(d: dict) -> dict:
    """One-line numbers from a ``diagnose`` result (JSON-friendly floats)."""
    T = len(d["h_max"])
    pg = d["param_grad_norms"]
    total2 = sum(v * v for v in pg.values()) or 1.0
    top = max(pg, key=pg.get)

    def fmin(a):
        a = a[np.isfinite(a)]
        return float(np.min(a)) if a.size else float("nan")
    return {"loss": d["loss"], "h_max": float(np.max(d["h_max"])),
            "h_max_first_quarter": float(np.max(d["h_max"][:max(1, T // 4)])),
            "h_max_last_quarter": float(np.max(d["h_max"][-max(1, T // 4):])),
            "s_max": float(np.max(d["s_max"])), "logit_max": float(np.max(d["logit_max"])),
            "sum_tilde_min": fmin(d["sum_tilde_min"]), "select_gap_min": fmin(d["select_gap"]),
            "threshold_gap_min": fmin(d["threshold_gap"]),
            "g_score_max": float(np.max(d["g_score"])),
            "g_rec_total": float(np.sum(d["g_rec"])), "g_mem_total": float(np.sum(d["g_mem"])),
            "g_key_total": float(np.sum(d["g_key"])), "g_out_total": float(np.sum(d["g_out"])),
            "grad_norm": d["grad_norm"], "top_param": top,
            "top_param_share": pg[top] ** 2 / total2,
            "finite": d["finite"], "float32_headroom": d["float32_headroom"]}


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
    parameters through the scores back into the states ĥ_t and m_j (MODEL.md §4). It costs a
    second backward per step; training itself follows the full gradient.
    """
    from .optim import Optimizer
    from .params import init_params
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
        from .sab import loss_and_grads
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

    from .optim import global_norm
    from .sab import loss_and_grads
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m minisab.diagnose",
        description="Train a model briefly on the copy task (or load a run folder) and report "
                    "the quantities that show why SAB stalls or diverges (issue 6).",
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
    from .checkpoint import atomic_write_text
    from .tasks import make_task
    args = build_parser().parse_args(argv)
    be = get_backend(None)
    try:
        if args.run:
            from .runs import load_run
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
            from .params import init_params
            params = init_params(cfg, seed=args.seed, backend=be, forget_bias=args.forget_bias)
            rows, params = train_and_diagnose(cfg, task, args.steps, lr=args.lr,
                                              clip=args.clip if args.clip > 0 else None,
                                              batch=args.batch, seed=args.seed,
                                              every=args.every, params=params,
                                              split_paths=args.split_paths)
    except (ValueError, TypeError) as e:
        print(f"python -m minisab.diagnose: error: {e}", file=sys.stderr)
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


if __name__ == "__main__":
    sys.exit(main())
