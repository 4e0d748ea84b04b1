"""Checkers of tutorial 3 (memory and sparse attention): the top-k sparsifier, its backward,
the two scorers, and the backward of a bounded sparsifier (top-k softmax at temperature τ).
The expected results were made by minisab's own functions (``_answers``); each checker names
the usual mistakes (the k-th score as the threshold, δ held constant, a forgotten 1/τ or
Σ_i α_i dα_i, gradient given to unkept memories)."""
from __future__ import annotations

import numpy as np

from ._answers import load, mistakes
from ._verdict import call, close, exercise

TOPK_HINTS = {
    "kth_threshold": "your threshold δ is the k_top-th largest score, so only k_top - 1 memories "
                     "survive (none when k_top = 1). δ is the (k_top+1)-th largest score: the "
                     "best score that is NOT kept (docs/model.md §2.3).",
    "min_minus_one_always": "with n > k_top, δ is the (k_top+1)-th largest score; min(a) - 1 is "
                            "only for n <= k_top (every memory kept)",
    "min_without_minus_one": "with n <= k_top every memory is kept: δ = min(a) - 1, so that "
                             "even the smallest score keeps a positive weight",
}
TOPK_BACKWARD_HINTS = {
    "delta_constant": "you held δ constant. δ is itself a score ({where}): raising it lowers "
                      "every ã_j = a_j - δ by the same amount and changes the weights, so it "
                      "receives ∂L/∂δ = -Σ_j ∂L/∂ã_j (docs/derivations.md §6.1).",
}
SCORE_HINTS = {"mlp_no_tanh": "the mlp scorer has a tanh between the sum and w_s: "
                              "a_j = w_s · tanh(ĥ W_q + m_j W_m)"}
SOFTMAX_HINTS = {
    "forward_tau_only": "you applied τ in the forward only: α = softmax(a_K / τ) is right, but "
                        "the backward lacks the 1/τ factor. The chain rule through z_j = a_j / τ "
                        "divides every ∂α_i/∂a_j by τ (docs/derivations.md §6.3).",
    "tau_ignored": "you left out the temperature τ altogether (the weights at τ = 1, and no "
                   "1/τ): α = softmax(a_K / τ), and the chain rule through z_j = a_j / τ divides "
                   "by τ.",
    "no_sum_term": "the −Σ_i α_i dα_i term is missing. Every weight depends on every kept score "
                   "through the normaliser Σ_i exp(a_i / τ), so ∂α_i/∂a_j = α_i([i=j] − α_j) / τ "
                   "has an off-diagonal part: da_j = α_j (dα_j − Σ_i α_i dα_i) / τ.",
    "sum_of_dalpha": "you wrote the Σ term as Σ_i dα_i: it is Σ_i α_i dα_i, the weights times "
                     "their gradients (the off-diagonal part of ∂α_i/∂a_j = α_i([i=j] − α_j)/τ "
                     "summed with dα_i), so da_j = α_j (dα_j − Σ_i α_i dα_i) / τ.",
    "softmax_all": "you gave gradient to memories that are not kept (masked out): that is the "
                   "backward of a softmax over all n memories. Only the k_top largest scores "
                   "enter the softmax; an unkept memory's weight is 0 whatever its score (as "
                   "long as it stays unkept), so its gradient is exactly 0, and its dα must not "
                   "count either.",
    "no_alpha_factor": "you gave gradient to memories that are not kept (masked out), and the "
                       "wrong one to the kept: the factor α_j in front is missing. "
                       "da_j = α_j (dα_j − Σ_i α_i dα_i) / τ, which is 0 where α_j = 0.",
    "unkept_passthrough": "you gave gradient to memories that are not kept (masked out): you "
                          "passed dα through unchanged for them. An unkept memory's weight is "
                          "the constant 0, so its score gets da_j = 0.",
}


def untied_scores(rng, B, n):
    """Scores whose sorted gaps are all >= 0.05 (no ties: the sparsifier is differentiable)."""
    base = np.cumsum(rng.uniform(0.05, 0.6, size=(B, n)), axis=1)
    return np.stack([rng.permutation(row) for row in base]) - base.mean()


TOPK_CASES = ((10, 3), (6, 1), (4, 5), (5, 5), (1, 2))
TOPK_BACKWARD_CASES = ((9, 3), (7, 1), (4, 4), (3, 5))
SOFTMAX_CASES = ((8, 3, 0.5), (6, 2, 2.0), (4, 5, 0.7), (7, 4, 1.0), (5, 1, 1.5))


def problems_topk():
    """Exercise 3.1's arguments ``(a, k_top, eps)``."""
    rng = np.random.default_rng(31)
    return [(untied_scores(rng, 3, n), k, 1e-7) for n, k in TOPK_CASES]


def problems_topk_backward():
    """Exercise 3.2's arguments ``(dalpha, a, k_top, eps)``."""
    rng = np.random.default_rng(32)
    out = []
    for n, k in TOPK_BACKWARD_CASES:
        a = untied_scores(rng, 2, n)
        out.append((rng.normal(size=(2, n)), a, k, 1e-7))
    return out


def problems_scores():
    """Exercise 3.3's arguments ``(h_hat, M, params, scorer)``, mlp then release."""
    rng = np.random.default_rng(33)
    B, n, H, A = 3, 5, 4, 3
    out = []
    for scorer in ("mlp", "release"):
        params = ({"W_q": rng.normal(size=(H, A)) / 2, "W_m": rng.normal(size=(H, A)) / 2,
                   "w_s": rng.normal(size=A)} if scorer == "mlp" else
                  {"w_s": rng.normal(size=2 * H)})
        out.append((rng.normal(size=(B, H)), rng.normal(size=(B, n, H)), params, scorer))
    return out


def problems_softmax():
    """Exercise 3.4's arguments ``(dalpha, a, k_top, tau)``: τ ≠ 1 first (a missing 1/τ
    shows), n > k_top and n <= k_top, k_top = 1 last (α = 1 whatever the score: da = 0)."""
    rng = np.random.default_rng(34)
    out = []
    for n, k, tau in SOFTMAX_CASES:
        a = untied_scores(rng, 3, n)
        out.append((rng.normal(size=(3, n)), a, k, tau))    # dα dense: unkept entries too
    return out


def _compare(label, outs, name_of, hints, tol, fmt=lambda m, k: m):
    key = load("t03")
    for k, got in enumerate(outs):
        wrong = mistakes(key, f"{label}/{k}")
        close(name_of(k), got, key[f"{label}/{k}/want"], tol=tol, known_wrong=[
            (v["want"], fmt(hints[m], k)) for m, v in wrong.items()])


@exercise("3.1", "top-k sparsifier", answers=("my_topk",), points=2)
def check_topk(my_topk):
    """``my_topk(a, k_top, eps) -> alpha`` dense (B, n), both branches, as ``topk_forward``."""
    outs = [call(my_topk, *p) for p in problems_topk()]

    def name(k):
        n, kt = TOPK_CASES[k]
        branch = "n > k_top" if n > kt else "n <= k_top (delta = min a - 1)"
        return f"alpha for n={n}, k_top={kt} ({branch})"
    _compare("3.1", outs, name, TOPK_HINTS, 1e-9)
    return "Both branches match topk_forward."


@exercise("3.2", "top-k backward", answers=("my_topk_backward",), points=3)
def check_topk_backward(my_topk_backward):
    """``my_topk_backward(dalpha, a, k_top, eps) -> da`` (B, n), as finite differences give it."""
    outs = [call(my_topk_backward, *p) for p in problems_topk_backward()]

    def where(k):
        n, kt = TOPK_BACKWARD_CASES[k]
        return "the (k_top+1)-th score" if n > kt else "the smallest score (δ = min a - 1)"
    _compare("3.2", outs, lambda k: "da for n={}, k_top={}".format(*TOPK_BACKWARD_CASES[k]),
             TOPK_BACKWARD_HINTS, 1e-5, fmt=lambda hint, k: hint.format(where=where(k)))
    return "Your gradient matches finite differences, threshold included."


@exercise("3.3", "the two scorers", answers=("my_scores",), points=2)
def check_scores(my_scores):
    """``my_scores(h_hat, M, params, scorer) -> a`` (B, n) for "mlp" and "release"."""
    outs = [call(my_scores, *p) for p in problems_scores()]
    _compare("3.3", outs, lambda k: f"scores of scorer={('mlp', 'release')[k]!r}", SCORE_HINTS,
             1e-9)
    return "Both scorers match score_forward."


@exercise("3.4", "top-k softmax backward", answers=("my_topk_softmax_backward",), points=3)
def check_topk_softmax_backward(my_backward):
    """``my_backward(dalpha, a, k_top, tau) -> da`` (B, n) for α = softmax(a_K / τ) over the
    k_top largest scores K (0 elsewhere), as minisab's ``topk_softmax_backward`` gives it."""
    outs = [call(my_backward, *p) for p in problems_softmax()]
    _compare("3.4", outs, lambda k: "da for n={}, k_top={}, tau={}".format(*SOFTMAX_CASES[k]),
             SOFTMAX_HINTS, 1e-9)
    return "Your backward matches topk_softmax_backward: kept scores only, 1/τ included."
