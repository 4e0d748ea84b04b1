"""Answers to the core exercises as students write them: the right one and the usual wrong ones.

For teachers and for the tests, never shipped (the student release leaves ``solutions/`` out,
and the package holds only the numbers these functions give, ``minisab/exercises/answers/``).
``CORRECT[label]`` is a right answer; ``MISTAKES[label][name]`` a usual mistake, whose output
``make_answers.py`` stores so that the checker can recognise it and name it
(``minisab.exercises.tNN``: the hints are keyed by the same names). Each wrong answer is the
right one with one switch changed, written the way a student would get it wrong.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from minisab.attention import key_backward
from minisab.lstm import lstm_step_backward


def sig(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


# ------------------------------------------------------------------------------ tutorial 1
def lstm_forward(zx, h_prev, c_prev, W_h, swap=False, g_twice=False, no_tanh=False):
    H = h_prev.shape[1]
    z = zx + h_prev @ W_h
    i, f, g, o = sig(z[:, :H]), sig(z[:, H:2 * H]), np.tanh(z[:, 2 * H:3 * H]), sig(z[:, 3 * H:])
    if swap:
        i, f = f, i
    if g_twice:
        g = np.tanh(g)
    c = f * c_prev + i * g
    return (o * c if no_tanh else o * np.tanh(c)), c


def lstm_backward(dh_hat, dc, cache, W_h, hat_to_c=True, from_next=True):
    h_prev, c_prev, i, f, g, o, tanh_c = cache
    dc_t = (dc if from_next else 0.0) + (dh_hat * o * (1 - tanh_c ** 2) if hat_to_c else 0.0)
    dz = np.concatenate([dc_t * g * i * (1 - i), dc_t * c_prev * f * (1 - f),
                         dc_t * i * (1 - g ** 2), dh_hat * tanh_c * o * (1 - o)], axis=1)
    return dz, dz @ W_h.T, dc_t * f


def differences(f, arr, h=1e-5, kind="central"):
    grad = np.zeros(arr.shape)
    for idx in np.ndindex(arr.shape):
        old = arr[idx]
        arr[idx] = old + h
        fp = f()
        arr[idx] = old - h
        fm = f()
        arr[idx] = old
        f0 = f()
        grad[idx] = {"central": (fp - fm) / (2 * h), "forward": (fp - f0) / h,
                     "backward": (f0 - fm) / h, "no_half": (fp - fm) / h}[kind]
    return grad


# ------------------------------------------------------------------------------ tutorial 2
def _cut(t, T, k):
    return k is not None and t >= 1 and t % k == 0


def loop(dh_out, caches, W_h, k_trunc=None, *, cut=_cut, cut_h=True, cut_c=True, use_c=True,
         use_next=True, order="reverse"):
    B, T, H = dh_out.shape
    dH, dZ = np.zeros((B, T, H)), np.zeros((B, T, 4 * H))
    dh_next, dc_next = np.zeros((B, H)), np.zeros((B, H))
    steps = {"reverse": range(T - 1, -1, -1), "skip_t0": range(T - 1, 0, -1),
             "forward": range(T)}[order]
    for t in steps:
        dH[:, t] = dh_out[:, t] + (dh_next if use_next else 0.0)
        dZ[:, t], dh_next, dc_next = lstm_step_backward(
            dH[:, t], dc_next if use_c else np.zeros((B, H)), caches[t], W_h)
        if cut(t, T, k_trunc):
            dh_next = np.zeros((B, H)) if cut_h else dh_next
            dc_next = np.zeros((B, H)) if cut_c else dc_next
    return dH, dZ


def credit_reach(G, threshold=1e-3):
    G = np.asarray(G)
    out = np.full(G.shape[0], -1)
    for t in range(G.shape[0]):
        if G[t].max() > 0:
            out[t] = t - np.nonzero(G[t] > threshold * G[t].max())[0].min()
    return out


# ------------------------------------------------------------------------------ tutorial 3
def topk(a, k_top, eps=1e-7, rule="right"):
    n = a.shape[1]
    desc = np.sort(a, axis=1)[:, ::-1]
    if rule == "kth":
        delta = desc[:, k_top - 1] if n > k_top else a.min(axis=1) - 1.0
    elif rule == "min_minus_one":
        delta = a.min(axis=1) - 1.0
    elif rule == "min":
        delta = desc[:, k_top] if n > k_top else a.min(axis=1)
    else:
        delta = desc[:, k_top] if n > k_top else a.min(axis=1) - 1.0
    a_t = np.maximum(a - delta[:, None], 0.0)
    return a_t / (a_t.sum(axis=1, keepdims=True) + eps)


def topk_backward(dalpha, a, k_top, eps=1e-7, delta_grad=True):
    B, n = a.shape
    rows = np.arange(B)
    thr = np.argsort(-a, axis=1)[:, k_top] if n > k_top else np.argmin(a, axis=1)
    delta = a[rows, thr] - (0.0 if n > k_top else 1.0)
    a_t = np.maximum(a - delta[:, None], 0.0)
    S = a_t.sum(axis=1, keepdims=True) + eps
    alpha = a_t / S
    d_t = (dalpha - np.sum(alpha * dalpha, axis=1, keepdims=True)) / S * (a_t > 0)
    da = d_t.copy()
    if delta_grad:
        da[rows, thr] -= d_t.sum(axis=1)
    return da


def scores(h_hat, M, params, scorer, tanh=True):
    w_s = params["w_s"]
    if scorer == "mlp":
        pre = (h_hat @ params["W_q"])[:, None, :] + M @ params["W_m"]
        return (np.tanh(pre) if tanh else pre) @ w_s
    H = h_hat.shape[1]
    return (np.tanh(h_hat) @ w_s[:H])[:, None] + np.tanh(M) @ w_s[H:]


def softmax_backward(dalpha, a, k_top, tau, slip=None):
    n = a.shape[1]
    m = n if slip == "softmax_all" else min(n, k_top)
    keep = np.argsort(-a, axis=1)[:, :m]
    fwd_tau = 1.0 if slip == "tau_ignored" else tau
    bwd_tau = 1.0 if slip in ("tau_ignored", "forward_tau_only") else tau
    z = np.take_along_axis(a, keep, axis=1) / fwd_tau
    e = np.exp(z - z.max(axis=1, keepdims=True))
    alpha = e / e.sum(axis=1, keepdims=True)
    d = np.take_along_axis(dalpha, keep, axis=1)
    dot = {"no_sum_term": 0.0, "sum_of_dalpha": np.sum(d, axis=1, keepdims=True)}.get(
        slip, np.sum(alpha * d, axis=1, keepdims=True))
    kept = (alpha if slip != "no_alpha_factor" else 1.0) * (d - dot) / bwd_tau
    da = np.zeros_like(a)
    if slip == "no_alpha_factor":
        da = (dalpha - np.sum(alpha * d, axis=1, keepdims=True)) / tau
    elif slip == "unkept_passthrough":
        da = dalpha.copy()
    np.put_along_axis(da, keep, kept, axis=1)
    return da


# ------------------------------------------------------------------------------ tutorial 4
def states_reached(kept, threshold, k_att, k_trunc, t, detach_scores=True):
    alive = np.zeros(t + 1, dtype=bool)
    alive[t] = True
    for u in range(t, -1, -1):                 # every consumer of h_u comes later
        if not alive[u]:
            continue
        reads = list(kept[u])
        if reads and any(j >= 1 for j in reads) and not detach_scores and threshold[u] is not None:
            reads.append(threshold[u])         # its score sets δ: credit through the scores
        for j in reads:
            if j >= 1:
                alive[j * k_att - 1] = True    # memory j is h_{j k_att - 1}
        if u >= 1 and not (k_trunc is not None and u % k_trunc == 0):
            alive[u - 1] = True
    return np.nonzero(alive)[0].tolist()


def memory_credit(t, dh, dM, dK, M, K, params, cfg, slip=None):
    test = t % cfg.k_att == 0 if slip in ("t_mod", "t_mod.next") else (t + 1) % cfg.k_att == 0
    if not test or slip == "added_nothing":
        return dh
    j = {"t_mod": t // cfg.k_att, "j_off_by_one": (t + 1) // cfg.k_att - 1}.get(
        slip, (t + 1) // cfg.k_att)
    dm = dM[:, j]
    use_key = {"no_key": False, "key_when_detached": True}.get(slip, not cfg.detach_scores)
    if use_key:                     # mental updates: credit through the scores' keys too
        dm = dm + key_backward(dK[:, j], M[:, j], K[:, j], params, cfg.scorer)[0]
    return dm if slip == "overwrite" else dh + dm


CORRECT = {
    "1.1": lstm_forward, "1.2": lstm_backward, "1.3": differences,
    "2.2": loop, "2.3": loop, "2.4": credit_reach,
    "3.1": topk, "3.2": topk_backward, "3.3": scores, "3.4": softmax_backward,
    "4.3": states_reached, "4.4": memory_credit,
}
MISTAKES = {
    "1.1": {"gates_swapped": partial(lstm_forward, swap=True),
            "g_twice": partial(lstm_forward, g_twice=True),
            "h_without_tanh": partial(lstm_forward, no_tanh=True)},
    "1.2": {"no_hat_to_c": partial(lstm_backward, hat_to_c=False),
            "no_dc_from_next": partial(lstm_backward, from_next=False)},
    "1.3": {"one_sided_forward": partial(differences, kind="forward"),
            "one_sided_backward": partial(differences, kind="backward"),
            "no_half": partial(differences, kind="no_half")},
    "2.2": {"no_dc": partial(loop, use_c=False), "no_dh_next": partial(loop, use_next=False),
            "skip_t0": partial(loop, order="skip_t0"),
            "forward_order": partial(loop, order="forward")},
    "2.3": {"no_cut": partial(loop, cut=lambda t, T, k: False),
            "cut_h_only": partial(loop, cut_c=False), "cut_c_only": partial(loop, cut_h=False),
            "cut_late": partial(loop, cut=lambda t, T, k: (t + 1) % k == 0),
            "cut_early": partial(loop, cut=lambda t, T, k: t >= 2 and (t - 1) % k == 0),
            "end_aligned": partial(loop, cut=lambda t, T, k: t >= 1 and (T - t) % k == 0),
            "no_dc": partial(loop, use_c=False), "no_dh_next": partial(loop, use_next=False),
            "skip_t0": partial(loop, order="skip_t0"),
            "forward_order": partial(loop, order="forward")},
    "3.1": {"kth_threshold": partial(topk, rule="kth"),
            "min_minus_one_always": partial(topk, rule="min_minus_one"),
            "min_without_minus_one": partial(topk, rule="min")},
    "3.2": {"delta_constant": partial(topk_backward, delta_grad=False)},
    "3.3": {"mlp_no_tanh": partial(scores, tanh=False)},
    "3.4": {name: partial(softmax_backward, slip=name) for name in (
        "forward_tau_only", "tau_ignored", "no_sum_term", "sum_of_dalpha", "softmax_all",
        "no_alpha_factor", "unkept_passthrough")},
    "4.4": {name: partial(memory_credit, slip=name) for name in (
        "added_nothing", "no_key", "key_when_detached", "j_off_by_one", "t_mod", "t_mod.next",
        "overwrite")},
}



from screen_answer import sab_in_one_screen  # noqa: E402  (exercise 4.5, beside this)

CORRECT["4.5"] = sab_in_one_screen
