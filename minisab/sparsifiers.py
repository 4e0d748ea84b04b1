"""Bounded sparsifiers over the k_top largest scores: docs/model.md §6, beyond the paper.

docs/model.md §2.3's sparsifier (``sparsifier="threshold"``, in ``attention.py``) divides by
``Σã + ε``, so its Jacobian ∂α/∂a grows like ``1/(Σã + ε)`` when the kept scores nearly tie
with the threshold (docs/make_sab_learn.md). The two here keep the same selection, the
``k_top`` largest scores of the row (the null memory competes like any other), but weight the
kept set with a map whose Jacobian is bounded everywhere (docs/derivations.md):

- ``topk_softmax``:   α_S = softmax(a_S / τ),  ‖∂α/∂a‖₂ <= 1 / (2τ);
- ``topk_sparsemax``: α_S = sparsemax(a_S) (Martins & Astudillo 2016), the Euclidean projection of
  a_S onto the simplex,  ‖∂α/∂a‖₂ <= 1 (it is an orthogonal projection on the support).

Both return ``act`` holding only the kept memories (no threshold memory): their backward sends
gradient to the kept scores alone. ``sparsify_forward`` / ``sparsify_backward`` pick the
configured sparsifier for the SAB driver.
"""
from __future__ import annotations

from .attention import topk_backward, topk_forward
from .backend import arange, astype, cumsum, namespace, take_cols, topk_indices


def _select(a, k_top):
    """The kept memories: act (B, m) the m = min(n, k_top) largest scores, largest first."""
    m = min(a.shape[1], k_top)
    act = topk_indices(a, m)                                        # (B, m), sorted
    return act, take_cols(a, act)                                   # a_S (B, m), descending


def topk_softmax_forward(a, k_top, temperature):
    """α_S = softmax(a_S / τ) over the k_top largest scores.  a (B, n) -> (alpha (B, m), act, cache)."""
    xp = namespace(a)
    act, a_kept = _select(a, k_top)
    z = a_kept / temperature
    e = xp.exp(z - z[:, :1])                                        # a_kept[:, 0] is the row max
    alpha = e / xp.sum(e, axis=1, keepdims=True)
    return alpha, act, (alpha, temperature)


def topk_softmax_backward(dalpha, cache):
    """∂L/∂a_j = α_j (∂L/∂α_j − Σ_i α_i ∂L/∂α_i) / τ for the kept j (aligned with ``act``)."""
    xp = namespace(dalpha)
    alpha, temperature = cache
    return alpha * (dalpha - xp.sum(alpha * dalpha, axis=1, keepdims=True)) / temperature


def topk_sparsemax_forward(a, k_top):
    """α_S = sparsemax(a_S) over the k_top largest scores.  a (B, n) -> (alpha (B, m), act, cache).

    With z = a_S sorted descending and c_r = z_1 + ... + z_r, the support is the first
    k = max{r : 1 + r z_r > c_r} entries and τ = (c_k − 1) / k (Martins & Astudillo 2016, eq. 3);
    α = max(z − τ, 0) sums to 1 and has between 1 and m non-zero entries.
    """
    xp = namespace(a)
    act, z = _select(a, k_top)                                      # (B, m), descending
    m = z.shape[1]
    r = astype(arange(m, like=z) + 1, z.dtype)                      # 1, ..., m
    c = cumsum(z, axis=1)                                           # (B, m)
    in_support = astype(1.0 + r * z > c, z.dtype)                   # a prefix of each row
    k = xp.sum(in_support, axis=1)                                  # support size (B,) >= 1
    c_k = take_cols(c, astype(k - 1.0, act.dtype)[:, None])[:, 0]   # (B,)
    tau = (c_k - 1.0) / k
    alpha = xp.maximum(z - tau[:, None], 0.0)
    return alpha, act, alpha


def topk_sparsemax_backward(dalpha, alpha):
    """On the support (α_j > 0): ∂L/∂a_j = ∂L/∂α_j − mean_{i∈s} ∂L/∂α_i; 0 elsewhere."""
    xp = namespace(dalpha)
    support = astype(alpha > 0, dalpha.dtype)                       # (B, m)
    mean = (xp.sum(support * dalpha, axis=1, keepdims=True)
            / xp.sum(support, axis=1, keepdims=True))
    return support * (dalpha - mean)


def sparsify_forward(a, cfg):
    """The configured sparsifier of ``attention="topk"``: a (B, n) -> (alpha (B, m), act, cache).

    ``act[:, :m]`` are the kept memories (alpha's columns); for ``threshold`` act has one more
    column, the threshold memory, which its backward also sends gradient to.
    """
    if cfg.sparsifier == "topk_softmax":
        return topk_softmax_forward(a, cfg.k_top, cfg.temperature)
    if cfg.sparsifier == "topk_sparsemax":
        return topk_sparsemax_forward(a, cfg.k_top)
    return topk_forward(a, cfg.k_top, cfg.eps)


def sparsify_backward(dalpha, cache, cfg):
    """Backward of ``sparsify_forward``: dalpha (B, m) -> da (B, m_act), aligned with ``act``."""
    if cfg.sparsifier == "topk_softmax":
        return topk_softmax_backward(dalpha, cache)
    if cfg.sparsifier == "topk_sparsemax":
        return topk_sparsemax_backward(dalpha, cache)
    return topk_backward(dalpha, cache)
