"""Checkers of tutorial 3 (memory and sparse attention): the top-k sparsifier, its backward,
the two scorers. Each knows the usual wrong answers (the k-th score as the threshold, δ held
constant) and names the idea they miss."""
from __future__ import annotations

import numpy as np

from ..attention import key_forward, score_forward, topk_forward
from ..config import Config
from ..gradcheck import numerical_gradient
from ..params import init_params
from ._verdict import call, close, exercise


def _dense_topk(a, k_top, eps):
    alpha, act, cache = topk_forward(a, k_top, eps)
    dense = np.zeros_like(a)
    np.put_along_axis(dense, act[:, :alpha.shape[1]], alpha, axis=1)
    return dense, act, cache


def _untied_scores(rng, B, n):
    """Scores whose sorted gaps are all >= 0.05 (no ties: the sparsifier is differentiable)."""
    base = np.cumsum(rng.uniform(0.05, 0.6, size=(B, n)), axis=1)
    return np.stack([rng.permutation(row) for row in base]) - base.mean()


def _topk_with(a, k_top, eps, delta):
    a_t = np.maximum(a - delta[:, None], 0.0)
    return a_t / (a_t.sum(axis=1, keepdims=True) + eps)


@exercise("3.1 (top-k sparsifier)")
def check_topk(my_topk):
    """``my_topk(a, k_top, eps) -> alpha`` dense (B, n), both branches, against minisab."""
    rng = np.random.default_rng(31)
    for n, k in ((10, 3), (6, 1), (4, 5), (5, 5), (1, 2)):
        a = _untied_scores(rng, 3, n)
        got = call(my_topk, a.copy(), k, 1e-7)
        want = _dense_topk(a, k, 1e-7)[0]
        desc = np.sort(a, axis=1)[:, ::-1]
        wrong = []
        if n > k:
            wrong.append((_topk_with(a, k, 1e-7, desc[:, k - 1]),
                          "your threshold δ is the k_top-th largest score, so only k_top - 1 "
                          "memories survive (none when k_top = 1). δ is the (k_top+1)-th largest "
                          "score: the best score that is NOT kept (docs/model.md §2.3)."))
            wrong.append((_topk_with(a, k, 1e-7, a.min(axis=1) - 1.0),
                          "with n > k_top, δ is the (k_top+1)-th largest score; min(a) - 1 is "
                          "only for n <= k_top (every memory kept)"))
        else:
            wrong.append((_topk_with(a, k, 1e-7, a.min(axis=1)),
                          "with n <= k_top every memory is kept: δ = min(a) - 1, so that even "
                          "the smallest score keeps a positive weight"))
        branch = "n > k_top" if n > k else "n <= k_top (delta = min a - 1)"
        close(f"alpha for n={n}, k_top={k} ({branch})", got, want, tol=1e-9, known_wrong=wrong)
    return "Both branches match topk_forward."


def _grad_delta_constant(dalpha, a, k_top, eps):
    """The trap of tutorial 3: the backward with δ treated as a constant."""
    n = a.shape[1]
    delta = (np.sort(a, axis=1)[:, ::-1][:, k_top] if n > k_top else a.min(axis=1) - 1.0)
    a_t = np.maximum(a - delta[:, None], 0.0)
    S = a_t.sum(axis=1, keepdims=True) + eps
    alpha = a_t / S
    return (dalpha - np.sum(alpha * dalpha, axis=1, keepdims=True)) / S * (a_t > 0)


@exercise("3.2 (top-k backward)")
def check_topk_backward(my_topk_backward):
    """``my_topk_backward(dalpha, a, k_top, eps) -> da`` (B, n) against finite differences."""
    rng = np.random.default_rng(32)
    for n, k in ((9, 3), (7, 1), (4, 4), (3, 5)):
        a = _untied_scores(rng, 2, n)
        r = rng.normal(size=(2, n))
        got = call(my_topk_backward, r.copy(), a.copy(), k, 1e-7)

        def f():
            return float(np.sum(r * _dense_topk(a, k, 1e-7)[0]))
        want = numerical_gradient(f, a, 1e-6)
        where = "the (k_top+1)-th score" if n > k else "the smallest score (δ = min a - 1)"
        close(f"da for n={n}, k_top={k}", got, want, tol=1e-5, known_wrong=(
            (_grad_delta_constant(r, a, k, 1e-7),
             "you held δ constant. δ is itself a score, " + where + ": raising it lowers every "
             "ã_j = a_j - δ by the same amount and changes the weights, so it receives "
             "∂L/∂δ = -Σ_j ∂L/∂ã_j (docs/derivations.md §6.1)."),))
    return "Your gradient matches finite differences, threshold included."


@exercise("3.3 (the two scorers)")
def check_scores(my_scores):
    """``my_scores(h_hat, M, params, scorer) -> a`` (B, n) for "mlp" and "release"."""
    rng = np.random.default_rng(33)
    B, n, H = 3, 5, 4
    for scorer in ("mlp", "release"):
        cfg = Config(input_size=2, hidden_size=H, output_size=2, scorer=scorer,
                     attn_size=3 if scorer == "mlp" else None)
        params = init_params(cfg, seed=5)
        h_hat, M = rng.normal(size=(B, H)), rng.normal(size=(B, n, H))
        got = call(my_scores, h_hat, M, params, scorer)
        want, _ = score_forward(h_hat, key_forward(M, params, scorer), params, scorer)
        wrong = []
        if scorer == "mlp":
            wrong.append((((h_hat @ params["W_q"])[:, None, :] + M @ params["W_m"]) @ params["w_s"],
                          "the mlp scorer has a tanh between the sum and w_s: "
                          "a_j = w_s · tanh(ĥ W_q + m_j W_m)"))
        close(f"scores of scorer={scorer!r}", got, want, tol=1e-9, known_wrong=wrong)
    return "Both scorers match score_forward."
