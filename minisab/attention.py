"""Attention over the memory (docs/model.md §2, steps 2-4), each piece a forward/backward pair.

- keys: what a memory contributes to every score, computed once when the memory is written;
- scorers: raw scores ``a`` (B, n) of the current provisional state against the memories;
- sparsifiers: ``topk`` (SAB, docs/model.md §2.3) and ``softmax`` (dense baseline), scores ->
  weights ``α`` (the bounded top-k sparsifiers of docs/model.md §6 live in ``sparsifiers.py``);
- the memory read ``s = Σ_j α_j m_j``.

Every backward takes only the rows it is given: the SAB driver passes the ``k_top`` selected
memories and the threshold memory, so its backward never touches the others.
"""
from __future__ import annotations

from .backend import arange, astype, concat, gather_rows, namespace, take_cols, topk_indices


# ---------------------------------------------------------------- keys (computed at write time)
def key_forward(m, params, scorer):
    """A memory's key.  m (B, H) -> (B, A) ``m W_m`` for mlp, (B, H) ``tanh(m)`` for release."""
    if scorer == "mlp":
        return m @ params["W_m"]
    return namespace(m).tanh(m)


def key_backward(dkey, m, key, params, scorer):
    """Backward of ``key_forward``: returns ``(dm (B, H), grads)``; grads holds ``W_m`` for mlp."""
    if scorer == "mlp":
        return dkey @ params["W_m"].T, {"W_m": m.T @ dkey}
    return dkey * (1.0 - key * key), {}


# ------------------------------------------------------------------------------- scorers
def score_forward(h_hat, K, params, scorer):
    """Raw scores of ĥ_t (B, H) against memory keys K (B, n, ·) -> a (B, n), cache.

    mlp:     a_j = w_s · tanh(ĥ W_q + m_j W_m)              (K holds m_j W_m)
    release: a_j = w_s[:H] · tanh(ĥ) + w_s[H:] · tanh(m_j)   (K holds tanh(m_j))

    The cache holds ĥ_t and what every score shares (the query ĥ W_q, or tanh ĥ); the mlp
    scorer's hidden layer tanh(ĥ W_q + m_j W_m), (B, n, A), is not kept: ``score_backward``
    recomputes it for the few rows it is given (docs/derivations.md §7).
    """
    xp = namespace(h_hat)
    w_s = params["w_s"]
    if scorer == "mlp":
        q = h_hat @ params["W_q"]                                   # the query, (B, A)
        hid = xp.tanh(q[:, None, :] + K)                            # (B, n, A)
        return hid @ w_s, (h_hat, q)                                # (B, n)
    H = h_hat.shape[1]
    th = xp.tanh(h_hat)                                             # (B, H)
    a = xp.sum(th * w_s[:H], axis=1)[:, None] + K @ w_s[H:]         # (B, n)
    return a, (h_hat, th)


def score_backward(da, K, cache, params, scorer):
    """Backward of ``score_forward`` for the memories whose keys are ``K`` (B, m, ·).

    ``da`` (B, m) holds ∂L/∂a for those memories only (the others get no gradient).
    Returns ``(dh_hat (B, H), dK (B, m, ·), grads)`` with grads for W_q / w_s.
    """
    xp = namespace(da)
    w_s = params["w_s"]
    if scorer == "mlp":
        h_hat, q = cache
        B, m, A = K.shape
        hid = xp.tanh(q[:, None, :] + K)                            # recomputed, (B, m, A)
        d_pre = (1.0 - hid * hid) * w_s                             # tanh' · w_s, (B, m, A)
        d_pre *= da[:, :, None]
        dq = xp.sum(d_pre, axis=1)                                  # (B, A)
        # ∂L/∂w_s = Σ_{b,j} da_bj hid_bj: one (1, B·m) @ (B·m, A) product
        dw_s = xp.reshape(xp.reshape(da, (1, B * m)) @ xp.reshape(hid, (B * m, A)), (A,))
        grads = {"W_q": h_hat.T @ dq, "w_s": dw_s}
        return dq @ params["W_q"].T, d_pre, grads
    h_hat, th = cache
    H = th.shape[1]
    da_sum = xp.sum(da, axis=1)                                     # (B,): ĥ adds to every score
    dw1 = xp.sum(da_sum[:, None] * th, axis=0)
    dw2 = xp.sum(xp.reshape(da[:, :, None] * K, (-1, H)), axis=0)
    dh_hat = da_sum[:, None] * w_s[:H] * (1.0 - th * th)
    dK = da[:, :, None] * w_s[H:]
    return dh_hat, dK, {"w_s": concat([dw1, dw2], axis=0)}


# --------------------------------------------------------------------------- sparsifiers
def topk_forward(a, k_top, eps):
    """SAB's sparsifier (docs/model.md §2.3) over scores a (B, n).

    Returns ``(alpha, act, cache)``:
      act   (B, m_act) int: the memories the backward will touch, distinct per row. If n > k_top:
            the k_top largest scores, largest first, then the (k_top+1)-th (the threshold δ).
            Otherwise all n memories (δ = min a - 1 comes from one of them).
      alpha (B, m) weights of the kept memories act[:, :m], m = min(n, k_top); every other
            memory has weight exactly 0.
    """
    xp = namespace(a)
    B, n = a.shape
    if n > k_top:
        act = topk_indices(a, k_top + 1)                            # (B, k+1)
        a_act = take_cols(a, act)                                   # (B, k+1)
        delta = a_act[:, k_top]                                     # (k+1)-th largest, (B,)
        a_kept = a_act[:, :k_top]
    else:
        act = xp.broadcast_to(arange(n, like=a)[None, :], (B, n))
        a_kept = a
        delta = xp.min(a, axis=1) - 1.0
    a_tilde = xp.maximum(a_kept - delta[:, None], 0.0)              # (B, m)
    denom = xp.sum(a_tilde, axis=1) + eps                           # (B,)
    alpha = a_tilde / denom[:, None]
    # The cache holds O(k_top) numbers per row, never the whole score row (B, n): over a
    # sequence that would be O(T²). When n <= k_top, δ's gradient needs only argmin a.
    i_min = None if n > k_top else xp.argmin(a, axis=1)             # (B,)
    return alpha, act, (i_min, a_tilde, alpha, denom, n > k_top)


def topk_backward(dalpha, cache):
    """Backward of ``topk_forward``: dalpha (B, m) -> da (B, m_act), aligned with ``act``.

    With S = Σ ã + ε:  ∂L/∂ã_j = (∂L/∂α_j − Σ_i α_i ∂L/∂α_i) / S  (0 where ã_j = 0),
    and since ã_j = a_j − δ, the threshold receives ∂L/∂δ = −Σ_j ∂L/∂ã_j.
    """
    xp = namespace(dalpha)
    i_min, a_tilde, alpha, denom, big = cache
    d_tilde = (dalpha - xp.sum(alpha * dalpha, axis=1)[:, None]) / denom[:, None]
    d_tilde = d_tilde * astype(a_tilde > 0, d_tilde.dtype)          # max(·, 0) passes nothing at 0
    d_delta = -xp.sum(d_tilde, axis=1)                              # (B,)
    if big:   # δ is the (k+1)-th score: its own column of act
        return concat([d_tilde, d_delta[:, None]], axis=1)
    # δ = min a − 1: its gradient goes to the smallest score, one of the kept memories
    is_min = i_min[:, None] == arange(a_tilde.shape[1], like=a_tilde)[None, :]   # (B, n)
    return d_tilde + d_delta[:, None] * astype(is_min, d_tilde.dtype)


def softmax_forward(a):
    """Dense attention: α = softmax(a) over all n memories.  a (B, n) -> (alpha, cache)."""
    xp = namespace(a)
    e = xp.exp(a - xp.max(a, axis=1, keepdims=True))
    alpha = e / xp.sum(e, axis=1, keepdims=True)
    return alpha, alpha


def softmax_backward(dalpha, alpha):
    """∂L/∂a_j = α_j (∂L/∂α_j − Σ_i α_i ∂L/∂α_i)."""
    xp = namespace(dalpha)
    return alpha * (dalpha - xp.sum(alpha * dalpha, axis=1, keepdims=True))


# ---------------------------------------------------------------------------- memory read
def read_forward(alpha, M_kept):
    """s = Σ_j α_j m_j.  alpha (B, m), M_kept (B, m, H) -> s (B, H)."""
    return (alpha[:, None, :] @ M_kept)[:, 0, :]


def read_backward(ds, alpha, M_kept):
    """Backward of ``read_forward``: ds (B, H) -> (dalpha (B, m), dM_kept (B, m, H))."""
    dalpha = (M_kept @ ds[:, :, None])[:, :, 0]
    dM_kept = alpha[:, :, None] * ds[:, None, :]
    return dalpha, dM_kept


def kept_rows(M, act, m):
    """The memory rows read by a topk step: M (B, n, ·), act (B, m_act) -> (B, m, ·)."""
    return gather_rows(M, act[:, :m])
