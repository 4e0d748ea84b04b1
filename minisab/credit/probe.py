"""Why SAB stalls or diverges: the quantities that reveal it, measured on one batch.

``diagnose(params, cfg, x, targets, mask)`` runs one forward and backward and returns, per step
``t`` (host NumPy arrays of shape (T,)) and as one-line summaries:

- **state growth** (docs/model.md §2.4): ``h_max`` = max|h_t|, ``h_hat_max`` = max|ĥ_t|,
  ``s_max`` = max|s_t|, and ``logit_max`` = max|y_t|. Since ``h_t = ĥ_t + s_t`` is written to
  memory and later summaries add it in again, a chain of reads can make |h| grow along the
  sequence; |ĥ| <= 1 always (an LSTM output).
- **the sparsifier near ties** (docs/model.md §2.3, topk only): ``sum_tilde_min`` = min over the batch
  of Σ ã (the normaliser without ε), ``select_gap`` and ``threshold_gap`` (``gradcheck.tie_gaps``
  at that step). ∂α/∂a scales like 1/(Σã + ε): a small Σã is a large gain on the score gradient.
- **gradient per path** into every state h_t (batch mean of the L2 norm): ``g_out`` (from y_t),
  ``g_rec`` (from step t+1, the recurrent edge), ``g_mem`` (from later reads of h_t as a memory
  value, Σ α m) and ``g_key`` (through the scores of later reads, mlp/release key); and ``g_score``
  = |∂L/∂a| at step t, what the sparsifier passes to the scorer.
- ``param_grad_norms``: the global gradient norm split by parameter (which one dominates what
  global-norm clipping divides by); ``finite``: whether loss and gradients are finite;
  ``float32_headroom``: log10(float32 max / largest magnitude seen in states, logits, gradients).

``python -m minisab diagnose`` (``minisab/cli/diagnose.py``) trains a model briefly while tracing these.
Nothing here changes the model.
"""
from __future__ import annotations

import math

import numpy as np

from ..attention import key_backward, kept_rows, read_backward, score_backward, softmax_backward
from ..backend import gather_rows, namespace, scatter_add_rows, to_float, to_host
from ..config import Config
from ..gradcheck import tie_gaps
from ..losses import LOSSES, output_backward
from ..fast import backward, forward, loss_forward
from ..sparsifiers import sparsify_backward

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
            da = sparsify_backward(dalpha, sp_cache, cfg)
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
    """Per step (T,): min Σã over the batch (sparsifier="threshold" only; NaN otherwise), and
    the select / threshold tie gaps (topk only).
    ``cache`` is a ``forward(..., record=True)`` cache (the tie gaps need the raw scores)."""
    cfg: Config = cache["cfg"]
    T = cache["hs"].shape[1]
    out = {k: np.full(T, np.nan) for k in ("sum_tilde_min", "select_gap", "threshold_gap")}
    if cfg.attention != "topk":
        return out
    scores = to_host(cache["record"]["scores"])                    # (T, B, n_max), padded
    for t in range(T):
        if cfg.sparsifier == "threshold":        # Σã exists for docs/model.md's sparsifier only
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
    dy = LOSSES[cfg.loss].backward(l_cache)
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
