"""Where the credit goes: gradient-flow measurements for bptt, tbptt and sab (docs/model.md §4).

The credit matrix ``G[t, s] = ||∂L_t/∂h_s||`` says how much credit the loss at step ``t`` gives
the state ``h_s``. It comes from the backward driver (the fast engine's, equal to
``sab.backward``): one forward, then one backward per loss step ``t`` with ``dy`` non-zero only
at step ``t`` (``t_start=t`` skips the zero tail); the ``dh`` it returns is the adjoint at each
``h_s``. So what a student sees
is exactly the gradient training uses, cut edges and sparse memory reads included.

``L_t`` (one per sequence ``b``; ``G`` is the batch mean of the per-sequence norms):
  - with ``targets``: the per-position loss of docs/model.md §3 at step ``t`` (cross-entropy or mean
    squared error of ``y_{b,t}``), not divided by N; positions with ``mask = 0`` have ``L_t = 0``;
  - without: a fixed random projection ``L_t = r · y_{b,t}`` with a unit vector ``r`` (C,) drawn
    from ``host_rng(seed)``. It never saturates, so it shows the paths, not how well each step
    is already solved.

Summaries: credit *reach* is the largest ``t − s`` with ``G[t, s]`` above ``REACH_THRESHOLD``
(1e-3) times the largest entry of row ``t`` (relative, so methods and losses of any scale
compare); the *share* is the fraction of pairs ``s <= t`` (rows with a loss) above it.
Backward *work* counts state-to-state edges the backward crosses with non-zero gradient:
recurrent edges not cut, plus memory edges from a written state to a step that kept it (and to
the threshold memory, whose score sets δ); see ``backward_work``.

The other measurements read the recorded forward: which memories each step kept (``act`` of the
topk sparsifier), the graph of state-to-state edges the backward crosses, and how both change
over training. Everything returned is a host (NumPy) array or a Python number.
"""
from __future__ import annotations

import numpy as np

from ..backend import astype, concat, get_backend, host_rng, namespace, to_host, zeros
from ..config import Config
from ..losses import LOSSES, check_mask
from ..engines import engine_of
from ..fast import backward, forward

REACH_THRESHOLD = 1e-3   # credit counts as "reached" above this fraction of its row's largest entry


# ------------------------------------------------------------------------------ the matrix
def loss_step_grads(y, cfg: Config, targets=None, mask=None, seed: int = 0):
    """``dY[b, t] = ∂L_t/∂y_{b,t}`` (B, T, C) for the ``L_t`` defined in the module docstring."""
    B, T, C = y.shape
    if targets is None:
        r = host_rng(seed).standard_normal(C)
        r = _like(r / np.linalg.norm(r), y)                         # (C,)
        dY = zeros((B, T, C), like=y) + r
    else:
        # The configured loss with no mask weighs every position 1/(B·T): undo that weight.
        dY = LOSSES[cfg.loss].backward(LOSSES[cfg.loss].forward(y, targets, None)[1]) * (B * T)
    if mask is not None:
        check_mask(mask, (B, T))
        dY = dY * astype(mask, y.dtype)[:, :, None]
    return dY


def credit_matrix(params, x, cfg: Config, targets=None, mask=None, seed: int = 0,
                  per_example: bool = False, group: int = 1):
    """The credit matrix of ``cfg.method`` on inputs ``x`` (B, T, I).

    Returns ``(G, total, cache)``:
      G      (T, T) host: ``G[t, s]`` = batch mean of ``||∂L_t/∂h_{b,s}||``; (B, T, T), one
             matrix per sequence, with ``per_example=True``. Zero above the diagonal.
      total  (T,) host: batch mean of ``||∂L/∂h_{b,s}||`` for ``L = Σ_t L_t`` (one more
             backward; credit vectors from different losses can cancel, so this is not Σ_t G).
      cache  the recorded forward (``record=True``) for the attention views below.
    Rows of steps with no loss (mask 0 everywhere) are zero and skip their backward.

    ``group`` > 1 computes ``group`` rows per backward, on ``group`` copies of the batch
    stacked along the batch axis (copy k holds ``L_t`` of its own step t only; sequences never
    interact in the model, so the rows are the same), started at the group's last step. Same
    numbers up to rounding, far fewer Python steps (T = 200: about 10× faster with 20), at
    ``group`` times the forward's memory.
    """
    if not (isinstance(group, int) and group >= 1):
        raise ValueError(f"invalid group={group!r}: accepted values are integers >= 1")
    y, cache = forward(params, x, cfg, record=cfg.uses_attention)
    xp = namespace(y)
    B, T, _ = y.shape
    dY = loss_step_grads(y, cfg, targets, mask, seed)               # (B, T, C)
    has_loss = to_host(xp.max(xp.abs(dY), axis=(0, 2))) > 0         # (T,) host bools
    Gb = zeros((B, T, T), like=y)                                   # per-sequence credit
    steps = [t for t in range(T) if has_loss[t]]
    if group == 1:
        for t in steps:
            dH = credit_row(dY, cache, params, t)                   # (B, T, H), 0 after t
            Gb[:, t, :] = xp.sqrt(xp.sum(dH * dH, axis=2))          # (B, T)
    else:
        cache_g = forward(params, concat([x] * group, axis=0), cfg)[1]    # (group·B) rows
        for i in range(0, len(steps), group):
            block = steps[i:i + group]
            dy = zeros((group * B,) + tuple(dY.shape[1:]), like=dY)  # (group·B, T, C)
            for k, t in enumerate(block):
                dy[k * B:(k + 1) * B, t, :] = dY[:, t, :]
            _, dH = backward(dy, cache_g, params, t_start=block[-1])
            norms = xp.sqrt(xp.sum(dH * dH, axis=2))                # (group·B, T)
            for k, t in enumerate(block):
                Gb[:, t, :] = norms[k * B:(k + 1) * B, :]
    _, dH = backward(dY, cache, params)
    total = xp.mean(xp.sqrt(xp.sum(dH * dH, axis=2)), axis=0)       # (T,)
    G = Gb if per_example else xp.mean(Gb, axis=0)
    return to_host(G), to_host(total), cache


def credit_row(dY, cache, params, t: int):
    """``∂L_t/∂h_s`` for every state s: dH (B, T, H), zero for s > t. One backward (of the engine that made ``cache``) with
    ``dy`` equal to ``dY`` (B, T, C) at step ``t`` and zero elsewhere, started at ``t``."""
    dy = zeros(dY.shape, like=dY)
    dy[:, t, :] = dY[:, t, :]                                       # only L_t
    return engine_of(cache).backward(dy, cache, params, t_start=t)[1]


def _like(host, like):
    """A host array on the backend and dtype of ``like`` (backend.py has no ``backend_of``)."""
    name = namespace(like).__name__.split(".")[0]
    name = {"array_api_strict": "strict"}.get(name, name)
    return get_backend(name).asarray(host, dtype=str(like.dtype).split(".")[-1])


# ---------------------------------------------------------------------------- summaries
def reached(G, threshold: float = REACH_THRESHOLD):
    """(T, T) bool: ``G[t, s] > threshold · max_s' G[t, s']``; rows without credit are False."""
    G = np.asarray(G)
    row_max = G.max(axis=-1, keepdims=True)
    return (G > threshold * row_max) & (row_max > 0)


def credit_reach(G, threshold: float = REACH_THRESHOLD):
    """Per loss step ``t`` the largest ``t − s`` with ``G[t, s]`` above the threshold
    (relative to the row's largest credit); -1 for steps without a loss. Returns (T,) ints."""
    R = reached(G, threshold)
    T = R.shape[-1]
    lag = np.arange(T)[:, None] - np.arange(T)[None, :]              # t − s
    return np.where(R, lag, -1).max(axis=-1)


def credit_by_lag(G):
    """Mean relative credit ``G[t, t−d] / max_s G[t, s]`` over the loss steps, for each lag
    ``d = 0 … T−1`` (T,); the profile the reach plots draw."""
    G = np.asarray(G)
    T = G.shape[0]
    row_max = G.max(axis=1)
    rows = row_max > 0
    rel = G[rows] / row_max[rows, None]                             # (T', T)
    t_idx = np.nonzero(rows)[0]
    out = np.full(T, np.nan)
    for d in range(T):
        ok = t_idx >= d
        if ok.any():
            out[d] = rel[ok, t_idx[ok] - d].mean()
    return out


def summarize(G, total, cache, threshold: float = REACH_THRESHOLD) -> dict:
    """One method's numbers: reach (largest lag above the threshold over all loss steps), the
    share of lower-triangle pairs (t, s), t with a loss, above the threshold, total credit per
    state, and the backward work beside bptt's on the same forward (``backward_work``)."""
    G = np.asarray(G)
    R = reached(G, threshold)
    rows = G.max(axis=1) > 0
    T = G.shape[0]
    pairs = int(np.sum(np.arange(1, T + 1)[rows]))                   # s <= t, rows with a loss
    return {"method": cache["cfg"].method, "threshold": threshold,
            "reach": int(credit_reach(G, threshold).max()),
            "share": float(R.sum() / pairs) if pairs else 0.0,
            "total_credit": np.asarray(total),
            "work": backward_work(cache), "work_bptt": backward_work(cache, method="bptt")}


# ------------------------------------------------------------------ selections and the graph
def selections(cache, threshold: bool = False):
    """Which memories each step read: bool (T, B, n_max), n_max = memories the last step sees.

    topk: the kept memories (``act[:, :m]``; the first ``k_top`` columns when |M| > k_top), plus
    the threshold memory (the (k_top+1)-th score, whose value δ every kept weight depends on)
    when ``threshold=True``. softmax: every memory written so far. Column 0 is the null memory.
    """
    cfg: Config = cache["cfg"]
    if not cfg.uses_attention:
        raise ValueError("selections need an attention model: cfg.attention is None")
    B, T, _ = cache["hs"].shape
    n_max = 1 + (T - 1) // cfg.k_att
    sel = np.zeros((T, B, n_max), dtype=bool)
    for t, (_, act, alpha, _) in enumerate(cache["attn"]):
        n = 1 + t // cfg.k_att
        if act is None:                                             # softmax reads every row
            sel[t, :, :n] = True
            continue
        act = to_host(act)                                          # (B, m_act)
        m = alpha.shape[1]
        cols = act if (threshold and act.shape[1] > m) else act[:, :m]
        np.put_along_axis(sel[t], cols, True, axis=1)
    return sel


def memory_edges(cache):
    """(T, B, n_max) bool: memory ``j`` passes gradient back from reading step ``t`` to the state
    that wrote it. The null memory (column 0) is a constant, not a state. Kept memories always;
    the threshold memory too (its score sets δ, docs/model.md §4) unless ``detach_scores``, or unless
    the null memory is the only memory kept (k_top = 1): ∂L/∂δ = −Σ_j ∂L/∂ã_j is then exactly 0,
    because the weight of a zero vector has no effect on the read."""
    kept = selections(cache)
    kept[:, :, 0] = False
    if cache["cfg"].detach_scores:
        return kept
    sel = selections(cache, threshold=True)
    sel[:, :, 0] = False
    return np.where(kept.any(axis=2, keepdims=True), sel, kept)


def reachability(cache, method: str | None = None):
    """(B, T, T) bool ``R[b, s, t]``: ``∂L_t/∂h_s`` is carried by a path of edges the backward
    crosses under ``method`` (default the cache's): recurrent ``h_{t-1} → h_t`` unless cut, and
    memory edges (``memory_edges``) from the writer of memory j to a step that read it."""
    cfg = _with_method(cache["cfg"], method)
    B, T, _ = cache["hs"].shape
    E = memory_edges(cache) if cfg.uses_attention else np.zeros((T, B, 1), dtype=bool)
    R = np.zeros((B, T, T), dtype=bool)
    R[:, np.arange(T), np.arange(T)] = True                         # h_t feeds y_t
    for t in range(1, T):
        if not cfg.cuts(t):
            R[:, :, t] |= R[:, :, t - 1]
        for b, j in zip(*np.nonzero(E[t])):
            R[b, :, t] |= R[b, :, j * cfg.k_att - 1]                # memory j is h_{j·k_att − 1}
    return R


def backward_work(cache, method: str | None = None) -> dict:
    """State-to-state edges the backward crosses under ``method`` (default the cache's), per
    sequence (batch mean):

      recurrent  ``h_{t-1} → h_t`` edges not cut;  memory  memory-read edges to kept memories;
      threshold  edges to the threshold memory (0 with ``detach_scores`` or softmax);
      edges      their sum: what ONE backward of L = Σ_t L_t crosses;
      per_loss   Σ_t edges on some path into y_t: the work when every loss is backpropagated
                 alone (online learning); for a plain LSTM under bptt T(T−1)/2.
    """
    cfg = _with_method(cache["cfg"], method)
    B, T, _ = cache["hs"].shape
    rec = sum(1 for t in range(1, T) if not cfg.cuts(t))
    mem = thr = 0.0
    indeg = np.zeros((B, T))
    indeg[:, 1:] = [0 if cfg.cuts(t) else 1 for t in range(1, T)]
    if cfg.uses_attention:
        kept = selections(cache)
        kept[:, :, 0] = False
        E = memory_edges(cache)
        mem = float(kept.sum() / B)
        thr = float((E & ~kept).sum() / B)
        indeg += E.sum(axis=2).T
    R = reachability(cache, cfg.method)                             # (B, s, t)
    per_loss = float(np.einsum("bv,bvt->", indeg, R) / B)           # Σ_t Σ_{v→t} indeg(v)
    return {"recurrent": rec, "memory": mem, "threshold": thr, "edges": rec + mem + thr,
            "per_loss": per_loss}


def _with_method(cfg: Config, method):
    """The same model under another method (same forward, other cuts); ConfigError if invalid."""
    return cfg if method is None or method == cfg.method else cfg.replace(method=method)


# -------------------------------------------------------------------- over training
def selection_history(snapshots, x, cfg: Config) -> dict:
    """How the kept memories change over training, on a fixed probe batch ``x`` (B, T, I).

    ``snapshots``: a sequence of ``(step, params)``. Returns host arrays over the K snapshots:
      steps (K,); selected (K, T, B, n_max) bool (``selections``); lag (K, T): share of the kept
      non-null memories read ``d`` steps after they were written (index d); null_share (K,):
      share of kept slots on the null memory; changed (K,): share of (t, b) rows whose kept set
      differs from the previous snapshot (nan for the first).
    """
    if not cfg.uses_attention:
        raise ValueError("selection_history needs an attention model: cfg.attention is None")
    steps, sels = [], []
    for step, params in snapshots:
        _, cache = forward(params, x, cfg)
        steps.append(step)
        sels.append(selections(cache))
    if not sels:
        raise ValueError("snapshots is empty: expected a sequence of (step, params)")
    S = np.stack(sels)                                              # (K, T, B, n_max)
    K, T, B, n_max = S.shape
    written = np.arange(n_max) * cfg.k_att - 1                      # step that wrote memory j
    lag = np.arange(T)[:, None] - written[None, :]                  # (T, n_max)
    lag_hist = np.zeros((K, T))
    for k in range(K):
        kept = S[k, :, :, 1:]                                       # (T, B, n_max-1)
        d = np.broadcast_to(lag[:, None, 1:], kept.shape)[kept]
        if d.size:
            lag_hist[k] = np.bincount(d, minlength=T)[:T] / d.size
    slots = S.sum(axis=(1, 2, 3))
    changed = np.full(K, np.nan)
    changed[1:] = np.any(S[1:] != S[:-1], axis=3).mean(axis=(1, 2))
    return {"steps": np.asarray(steps), "selected": S, "lag": lag_hist,
            "null_share": S[:, :, :, 0].sum(axis=(1, 2)) / slots, "changed": changed}
