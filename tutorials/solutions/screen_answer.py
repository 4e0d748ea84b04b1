"""Exercise 4.5, SAB in one screen, as a student writes it: the solution of solutions.ipynb,
with ``slip`` switching on one usual mistake (for the tests of the checker's diagnosis)."""
from __future__ import annotations

import numpy as np


def sig(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def sab_in_one_screen(p, x, targets, k_top, k_att, k_trunc, eps=1e-7, detach_scores=True,
                      slip=None):
    """Exercise 4.5 (the solution of solutions.ipynb), with ``slip`` switching on one mistake:
    "gates_swapped", "write_early" (forward); "no_delta_grad", "no_cut", "always_mental",
    "never_mental" (backward); "float32", "sign" (every exercise)."""
    B, T, _ = x.shape
    H = p["W_h"].shape[0]
    h, c = np.zeros((B, H)), np.zeros((B, H))
    M, steps, hs, ss = [np.zeros((B, H))], [], [], []                 # M[0]: the null memory
    for t in range(T):                                                # ---- forward
        z = x[:, t] @ p["W_x"] + h @ p["W_h"] + p["b"]
        i, f, o = sig(z[:, :H]), sig(z[:, H:2 * H]), sig(z[:, 3 * H:])
        if slip == "gates_swapped":
            i, f = f, i
        g = np.tanh(z[:, 2 * H:3 * H])
        c_prev, c = c, f * c + i * g
        tc = np.tanh(c)
        hh = o * tc                                                   # ĥ_t
        Mt = np.stack(M, axis=1)                                      # (B, n, H)
        U = np.tanh((hh @ p["W_q"])[:, None, :] + Mt @ p["W_m"])       # (B, n, A)
        a = U @ p["w_s"]                                              # (B, n) raw scores
        n = a.shape[1]
        thr = np.argsort(-a, axis=1)[:, k_top] if n > k_top else np.argmin(a, axis=1)
        delta = a[np.arange(B), thr] - (0.0 if n > k_top else 1.0)    # δ
        at = np.maximum(a - delta[:, None], 0.0)                      # ã
        S = at.sum(axis=1, keepdims=True) + eps
        alpha = at / S
        s = np.einsum("bn,bnh->bh", alpha, Mt)                        # s_t = Σ α_j m_j
        steps.append((h, c_prev, i, f, g, o, tc, hh, Mt, U, at, S, alpha, thr))
        h = hh + s
        hs.append(h)
        ss.append(s)
        if ((t % k_att == 0) if slip == "write_early" else ((t + 1) % k_att == 0)):
            M.append(h)                                               # memory write
    hs, ss = np.stack(hs, axis=1), np.stack(ss, axis=1)              # (B, T, H)
    y = hs @ p["W_y"][:H] + ss @ p["W_y"][H:] + p["b_y"]
    y = y - y.max(axis=2, keepdims=True)
    logp = y - np.log(np.exp(y).sum(axis=2, keepdims=True))
    onehot = np.eye(y.shape[2])[targets]
    loss = -np.sum(onehot * logp) / (B * T)
    dy = (np.exp(logp) - onehot) / (B * T)                            # ---- backward
    gr = {k: np.zeros_like(v) for k, v in p.items()}
    gr["W_y"] = np.concatenate([np.einsum("bth,btc->hc", hs, dy),
                                np.einsum("bth,btc->hc", ss, dy)])
    gr["b_y"] = dy.sum(axis=(0, 1))
    dh_out, ds_out = dy @ p["W_y"][:H].T, dy @ p["W_y"][H:].T
    dM = np.zeros((B, len(M), H))                                    # credit of each memory
    mental = {"always_mental": True, "never_mental": False}.get(slip, not detach_scores)
    dh_next, dc_next = np.zeros((B, H)), np.zeros((B, H))
    for t in range(T - 1, -1, -1):
        h_prev, c_prev, i, f, g, o, tc, hh, Mt, U, at, S, alpha, thr = steps[t]
        n = Mt.shape[1]
        dh = dh_out[:, t] + dh_next
        if (t + 1) % k_att == 0 and slip != "write_early":             # h_t is memory j
            dh = dh + dM[:, (t + 1) // k_att]                         # every read of it is done
        ds = dh + ds_out[:, t]
        dalpha = np.einsum("bnh,bh->bn", Mt, ds)
        dM[:, :n] += alpha[:, :, None] * ds[:, None, :]
        dat = (dalpha - np.sum(alpha * dalpha, axis=1, keepdims=True)) / S * (at > 0)
        da = dat.copy()
        if slip != "no_delta_grad":
            da[np.arange(B), thr] -= dat.sum(axis=1)                  # ∂L/∂δ to its score
        dpre = da[:, :, None] * p["w_s"] * (1 - U ** 2)               # (B, n, A)
        gr["w_s"] += np.einsum("bn,bna->a", da, U)
        gr["W_q"] += hh.T @ dpre.sum(axis=1)
        gr["W_m"] += np.einsum("bnh,bna->ha", Mt, dpre)
        dhh = dh
        if mental:                                                    # through the scores
            dM[:, :n] += dpre @ p["W_m"].T
            dhh = dh + dpre.sum(axis=1) @ p["W_q"].T
        dc = dc_next + dhh * o * (1 - tc ** 2)
        dz = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f),
                             dc * i * (1 - g ** 2), dhh * tc * o * (1 - o)], axis=1)
        gr["W_x"] += x[:, t].T @ dz
        gr["b"] += dz.sum(axis=0)
        gr["W_h"] += h_prev.T @ dz
        cut = k_trunc is not None and t >= 1 and t % k_trunc == 0 and slip != "no_cut"
        dh_next = 0.0 * dh if cut else dz @ p["W_h"].T
        dc_next = 0.0 * dc if cut else dc * f
    if slip == "float32":
        gr = {k: v.astype(np.float32) for k, v in gr.items()}
    if slip == "sign":
        gr = {k: -v for k, v in gr.items()}
    return loss, gr
