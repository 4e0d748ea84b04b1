"""Checkers of tutorial 3 (memory and sparse attention): the top-k sparsifier, its backward,
the two scorers, and the backward of a bounded sparsifier (top-k softmax at temperature τ).
Each knows the usual wrong answers (the k-th score as the threshold, δ held constant, a
forgotten 1/τ or Σ_i α_i dα_i, gradient given to unkept memories) and names the idea they
miss."""
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


# ------------------------------------------------------------- 3.4: a bounded sparsifier
def _dense_cols(values, act, n):
    """Scatter (B, m) values aligned with ``act`` into a dense (B, n) array (zeros elsewhere)."""
    out = np.zeros((values.shape[0], n))
    np.put_along_axis(out, act, values, axis=1)
    return out


def _softmax_wrong_answers(dalpha, a, k_top, tau):
    """What the usual slips of 3.4 return, with the concept each one misses."""
    from ..sparsifiers import topk_softmax_forward
    n = a.shape[1]
    alpha_k, act, _ = topk_softmax_forward(a, k_top, tau)
    alpha = _dense_cols(alpha_k, act, n)                            # (B, n), 0 off the kept set
    dot = np.sum(alpha * dalpha, axis=1, keepdims=True)             # Σ_i α_i dα_i (kept only)
    kept = alpha > 0
    alpha_1 = _dense_cols(topk_softmax_forward(a, k_top, 1.0)[0], act, n)   # τ ignored
    z = a / tau                                                      # softmax over every memory
    e = np.exp(z - z.max(axis=1, keepdims=True))
    full = e / e.sum(axis=1, keepdims=True)
    return (
        (alpha * (dalpha - dot),
         "you forgot the 1/τ factor. α = softmax(a_K / τ): the chain rule through z_j = a_j / τ "
         "divides every ∂α_i/∂a_j by τ (docs/derivations.md §6.3)."),
        (alpha_1 * (dalpha - np.sum(alpha_1 * dalpha, axis=1, keepdims=True)),
         "you left out the temperature τ altogether (the weights at τ = 1, and no 1/τ): "
         "α = softmax(a_K / τ), and the chain rule through z_j = a_j / τ divides by τ."),
        (alpha * dalpha / tau,
         "you forgot the −Σ_i α_i dα_i term. Every weight depends on every kept score through "
         "the normaliser Σ_i exp(a_i / τ), so ∂α_i/∂a_j = α_i([i=j] − α_j) / τ has an "
         "off-diagonal part: da_j = α_j (dα_j − Σ_i α_i dα_i) / τ."),
        (full * (dalpha - np.sum(full * dalpha, axis=1, keepdims=True)) / tau,
         "you gave gradient to memories that are not kept: that is the backward of a softmax "
         "over all n memories. Only the k_top largest scores enter the softmax; an unkept "
         "memory's weight is 0 whatever its score (as long as it stays unkept), so its "
         "gradient is exactly 0, and dα of an unkept memory must not count either."),
        ((dalpha - dot) / tau,
         "you gave gradient to memories that are not kept (and the wrong one to the kept): "
         "the factor α_j in front is missing. ∂α_i/∂a_j = α_i([i=j] − α_j) / τ, summed over i "
         "with dα_i, gives da_j = α_j (dα_j − Σ_i α_i dα_i) / τ, which is 0 where α_j = 0."),
        (np.where(kept, alpha * (dalpha - dot) / tau, dalpha),
         "you gave gradient to memories that are not kept: you passed dα through unchanged "
         "for them. An unkept memory's weight is the constant 0, so its score gets da_j = 0."),
    )


@exercise("3.4 (top-k softmax backward)")
def check_topk_softmax_backward(my_backward):
    """``my_backward(dalpha, a, k_top, tau) -> da`` (B, n) for α = softmax(a_K / τ) over the
    k_top largest scores K (0 elsewhere), against minisab's ``topk_softmax_backward``."""
    from ..sparsifiers import topk_softmax_backward, topk_softmax_forward
    rng = np.random.default_rng(34)
    # τ ≠ 1 first (a missing 1/τ shows), n > k_top and n <= k_top, and k_top = 1 last
    # (one kept memory: α = 1 whatever its score, so every da is 0).
    for n, k, tau in ((8, 3, 0.5), (6, 2, 2.0), (4, 5, 0.7), (7, 4, 1.0), (5, 1, 1.5)):
        a = _untied_scores(rng, 3, n)
        dalpha = rng.normal(size=(3, n))            # dense: the unkept entries are noise too
        got = call(my_backward, dalpha.copy(), a.copy(), k, tau)
        _, act, cache = topk_softmax_forward(a, k, tau)
        want = _dense_cols(topk_softmax_backward(np.take_along_axis(dalpha, act, axis=1),
                                                 cache), act, n)
        close(f"da for n={n}, k_top={k}, tau={tau}", got, want, tol=1e-9,
              known_wrong=_softmax_wrong_answers(dalpha, a, k, tau))
    return "Your backward matches topk_softmax_backward: kept scores only, 1/τ included."
