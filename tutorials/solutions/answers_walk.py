"""SAB's reverse walk with the memory bookkeeping in view: the inputs of exercise 4.4.

``walk(cfg, seed, T)`` runs a small SAB model forward and backward (top-k attention, mlp scorer,
memory_write="h") from minisab's pieces, and records, at every step t of the reverse walk, what
the walk holds just before h_t's adjoint is completed: ``dh`` (the credit from y_t and step
t+1), ``dM`` and ``dK`` (what every later read sent back to each memory, through the summaries
and through the scores' keys). It returns those (by t) with the memories ``M``, their keys ``K``
and ``W_m``, and the completed adjoints (T, B, H), which must equal ``minisab.backward``'s.
"""
from __future__ import annotations

import numpy as np

from minisab import backward, forward
from minisab.attention import (key_forward, read_backward, score_backward, score_forward,
                               topk_backward, topk_forward)
from minisab.lstm import lstm_step_backward, lstm_step_forward
from minisab.params import init_params


def walk(cfg, seed: int, T: int, B: int = 2):
    p = init_params(cfg, seed=seed, forget_bias=1.0)
    rng = np.random.default_rng(44 + cfg.k_att)
    x, dy = rng.normal(size=(B, T, cfg.input_size)), rng.normal(size=(B, T, cfg.output_size))
    H, n_max = cfg.hidden_size, cfg.n_memories(T)
    M = np.zeros((B, n_max, H))
    K = np.zeros((B, n_max, p["W_m"].shape[1]))
    K[:, 0] = key_forward(M[:, 0], p, "mlp")
    h, c, n_written, steps, hs, ss = np.zeros((B, H)), np.zeros((B, H)), 1, [], [], []
    zx = x @ p["W_x"] + p["b"]
    for t in range(T):                                               # forward
        h_hat, c, lstm_cache = lstm_step_forward(zx[:, t], h, c, p["W_h"])
        n = 1 + t // cfg.k_att
        a, score_cache = score_forward(h_hat, K[:, :n], p, "mlp")
        alpha, act, sp_cache = topk_forward(a, cfg.k_top, cfg.eps)
        m = alpha.shape[1]
        kept = np.take_along_axis(M[:, :n], act[:, :m, None], axis=1)
        s = (alpha[:, None, :] @ kept)[:, 0]
        h = h_hat + s
        steps.append((lstm_cache, score_cache, act, alpha, sp_cache, n))
        hs.append(h)
        ss.append(s)
        if (t + 1) % cfg.k_att == 0:
            M[:, n_written], K[:, n_written] = h, key_forward(h, p, "mlp")
            n_written += 1
    dh_out, ds_out = dy @ p["W_y"][:H].T, dy @ p["W_y"][H:].T
    dM, dK = np.zeros_like(M), np.zeros_like(K)
    rec = {"dh": np.zeros((T, B, H)), "dM": np.zeros((T,) + M.shape),
           "dK": np.zeros((T,) + K.shape)}
    final = np.zeros((T, B, H))
    dh_next, dc_next = np.zeros((B, H)), np.zeros((B, H))
    for t in range(T - 1, -1, -1):                                   # the reverse walk
        lstm_cache, score_cache, act, alpha, sp_cache, n = steps[t]
        dh = dh_out[:, t] + dh_next
        rec["dh"][t], rec["dM"][t], rec["dK"][t] = dh, dM, dK        # 4.4's inputs at step t
        if (t + 1) % cfg.k_att == 0:
            j = (t + 1) // cfg.k_att
            dh = dh + dM[:, j] + (0.0 if cfg.detach_scores else dK[:, j] @ p["W_m"].T)
        final[t] = dh
        m = alpha.shape[1]
        kept = np.take_along_axis(M[:, :n], act[:, :m, None], axis=1)
        dalpha, dM_kept = read_backward(dh + ds_out[:, t], alpha, kept)
        for b in range(B):
            dM[b, act[b, :m]] += dM_kept[b]
        K_act = np.take_along_axis(K[:, :n], act[:, :, None], axis=1)
        dq, dK_act, _ = score_backward(topk_backward(dalpha, sp_cache), K_act, score_cache, p,
                                       "mlp")
        for b in range(B):
            dK[b, act[b]] += dK_act[b]
        dh_hat = dh if cfg.detach_scores else dh + dq
        _, dh_next, dc_next = lstm_step_backward(dh_hat, dc_next, lstm_cache, p["W_h"])
        if t >= 1 and cfg.cuts(t):
            dh_next, dc_next = np.zeros((B, H)), np.zeros((B, H))
    _, dH = backward(dy, forward(p, x, cfg)[1], p)                   # the library agrees
    assert np.allclose(np.asarray(dH).transpose(1, 0, 2), final, rtol=1e-10, atol=1e-12)
    rec.update(M=M, K=K, W_m=p["W_m"])
    return rec, final
