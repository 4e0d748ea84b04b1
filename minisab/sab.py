"""The sequence forward pass (docs/model.md §2) and the one backward driver for bptt, tbptt and sab.

This is the reference: the model as docs/model.md and docs/derivations.md write it, on (B, ·)
rows, one step at a time. ``minisab/fast/`` computes the same numbers rearranged for speed, and
training runs that; tests/fast/test_fast.py proves the two equal.

``forward`` runs the LSTM step (``lstm.py``), and with attention the scorer, the sparsifier and
the memory read (``attention.py``, ``sparsifiers.py``), writing a state to memory every k_att
steps (``memory.py``). Per step it keeps the step's caches for the backward.

``backward`` walks the steps in reverse. Into each ``h_t`` it adds the credit from its output
``y_t``, from step ``t+1`` (unless the method cuts that edge, docs/model.md §4), and from every
later step that read ``h_t`` from memory; the method only decides which edges are cut.
"""
from __future__ import annotations

from .attention import (key_backward, key_forward, kept_rows, read_backward, read_forward,
                        score_backward, score_forward, softmax_backward, softmax_forward)
from .backend import gather_rows, namespace, scatter_add_rows, zeros
from .config import Config
from .losses import LOSSES, output_backward, output_forward
from .lstm import (input_projection, input_projection_backward, lstm_step_backward,
                   lstm_step_forward)
from .memory import Memory
from .params import check_inputs, check_params, check_t_start
from .sparsifiers import sparsify_backward, sparsify_forward


def forward(params, x, cfg: Config, record: bool = False, constants=None):
    """Run the model over ``x`` (B, T, I). Returns ``(logits (B, T, C), cache)``.

    The cache holds ``hs``, ``h_hats``, ``ss`` (B, T, H) (``ss`` None without attention), per
    step the LSTM caches ``lstm[t]`` and the attention caches ``attn[t] = (score_cache, act,
    alpha, sparsifier_cache)``, the memory ``mem``, and ``cfg``, ``x``.

    ``constants`` (from ``base_point_constants``) turns the edges that ``cfg.method`` cuts, and
    the scorer inputs under ``detach_scores``, into values recorded at a base point. The loss
    of that forward, differentiated exactly, is the method's truncated gradient: finite
    differences of it check the backward (docs/model.md §4).

    With ``record=True`` the cache also holds, for inspection and plots, ``cache["record"]``:
    ``c`` (B, T, H), dense attention weights ``attn`` and raw ``scores`` (T, B, n_max) padded
    with zeros, and ``n_mem`` (T,) (the golden vectors' layout).
    """
    check_params(params, cfg)
    check_inputs(x, cfg)                                            # (B, T, I), finite, real
    B, T, _ = x.shape
    xp = namespace(x)
    zx = input_projection(x, params["W_x"], params["b"])            # (B, T, 4H), §2.1
    h, c = zeros((B, cfg.hidden_size), like=zx), zeros((B, cfg.hidden_size), like=zx)  # h₋₁, c₋₁
    hs, h_hats, ss, cs, lstm_caches, attn_caches = [], [], [], [], [], []
    mem = Memory(cfg.n_memories(T), h, key_forward(h, params, cfg.scorer)) \
        if cfg.uses_attention else None                             # row 0: the null memory
    rec = _new_record(cfg, B, T, like=zx) if record else None
    for t in range(T):
        h_prev, c_prev = h, c
        if constants is not None and cfg.cuts(t):                   # held at the base point
            h_prev, c_prev = constants["state"][t]
        h_hat, c, step_cache = lstm_step_forward(zx[:, t, :], h_prev, c_prev, params["W_h"])
        lstm_caches.append(step_cache)
        h = h_hat
        if cfg.uses_attention:
            s, attn_cache, a = _attend(h_hat, mem, params, cfg, t, constants)   # §2.2-2.4
            h = h_hat + s                                           # h_t = ĥ_t + s_t
            attn_caches.append(attn_cache)
            ss.append(s)
            if record:
                record_attention(rec, t, a, attn_cache[2], attn_cache[1])
            if (t + 1) % cfg.k_att == 0:                            # §2.5: h_t is memory j
                m = memory_value(h, h_hat, cfg)
                mem.write(m, key_forward(m, params, cfg.scorer))
        hs.append(h)
        h_hats.append(h_hat)
        cs.append(c)
    hs, h_hats = xp.stack(hs, axis=1), xp.stack(h_hats, axis=1)     # (B, T, H)
    ss = xp.stack(ss, axis=1) if cfg.uses_attention else None
    y = output_forward(hs, ss, params["W_y"], params["b_y"])        # §2.6, (B, T, C)
    if record:
        rec["c"] = xp.stack(cs, axis=1)
    cache = {"engine": "reference", "cfg": cfg, "x": x, "hs": hs, "h_hats": h_hats, "ss": ss,
             "lstm": lstm_caches, "attn": attn_caches, "mem": mem, "record": rec}
    return y, cache


def _attend(h_hat, mem, params, cfg: Config, t: int, constants):
    """Steps 2-4 of docs/model.md §2 at step t: scores, sparse weights, the memory read.

    Returns ``(s (B, H), (score_cache, act, alpha, sparsifier_cache), a (B, n))``; ``act``
    (B, m_act) are the memories the backward touches (None for dense attention, which reads
    every memory).
    """
    M, K = mem.rows()                                               # (B, n, H), (B, n, ·)
    h_query = h_hat
    if constants is not None and cfg.detach_scores:                 # scorer inputs held fixed
        K = key_forward(constants["M"][:, :K.shape[1], :], params, cfg.scorer)
        h_query = constants["h_hat"][:, t, :]
    a, score_cache = score_forward(h_query, K, params, cfg.scorer)  # §2.2, (B, n)
    if cfg.attention == "topk":                                     # §2.3
        alpha, act, sp_cache = sparsify_forward(a, cfg)             # alpha (B, m), m <= k_top
        s = read_forward(alpha, kept_rows(M, act, alpha.shape[1]))  # §2.4
    else:                                                           # dense: softmax over all
        (alpha, sp_cache), act = softmax_forward(a), None
        s = read_forward(alpha, M)
    return s, (score_cache, act, alpha, sp_cache), a


def memory_value(h, h_hat, cfg: Config):
    """What step t writes to memory: h_t (docs/model.md §2.5) unless ``cfg.memory_write`` says
    otherwise ("h_hat": ĥ_t; "tanh_h": tanh(h_t)); docs/make_sab_learn.md."""
    if cfg.memory_write == "h_hat":
        return h_hat
    if cfg.memory_write == "tanh_h":
        return namespace(h).tanh(h)
    return h


def backward(dy, cache, params, t_start: int | None = None):
    """Backpropagate ``dy = ∂L/∂y`` (B, T, C) under ``cache["cfg"].method``.

    Returns ``(grads, dh)``: ``grads`` has one array per parameter (same keys as ``params``);
    ``dh`` (B, T, H) is the adjoint at each node h_t (what reached it from y_t, step t+1 and
    memory reads). ``t_start`` starts the reverse walk early when ``dy`` is zero after it.
    """
    cfg: Config = cache["cfg"]
    xp = namespace(dy)
    hs, ss, mem, x = cache["hs"], cache["ss"], cache["mem"], cache["x"]
    B, T, H = hs.shape
    dh_out, ds_out, grads = output_backward(dy, hs, ss, params["W_y"])   # (B, T, H) each
    for name in params:
        grads.setdefault(name, xp.zeros_like(params[name]))
    dH = zeros((B, T, H), like=hs)                                  # h_t's whole adjoint
    dZ = zeros((B, T, 4 * H), like=hs)                              # ∂L/∂z_t
    if cfg.uses_attention:
        dM, dK = xp.zeros_like(mem.M), xp.zeros_like(mem.K)         # credit of memories, keys
    dh_next, dc_next = zeros((B, H), like=hs), zeros((B, H), like=hs)  # nothing after T-1
    t_last = check_t_start(t_start, T)                              # None: the last step
    for t in range(t_last, -1, -1):
        dh = dh_out[:, t, :] + dh_next                              # from y_t and step t+1
        dh_hat = 0.0                                                # what only ĥ_t receives
        if cfg.uses_attention and (t + 1) % cfg.k_att == 0:
            # h_t is memory j, and every step that read it is already walked: add its credit.
            dm = _memory_credit(dM, dK, (t + 1) // cfg.k_att, mem, params, cfg, grads)
            if cfg.memory_write == "h":                             # m_j = h_t
                dh = dh + dm
            elif cfg.memory_write == "tanh_h":                      # m_j = tanh(h_t)
                dh = dh + dm * (1.0 - mem.M[:, (t + 1) // cfg.k_att, :] ** 2)
            else:                                                   # m_j = ĥ_t
                dh_hat = dm
        dH[:, t, :] = dh
        dh_hat = dh_hat + dh                                        # h_t = ĥ_t + s_t
        if cfg.uses_attention:
            ds = dh + ds_out[:, t, :]                               # s_t feeds h_t and y_t
            dh_query = _attend_backward(ds, cache["attn"][t], dM, dK, t, mem, params, cfg, grads)
            if not cfg.detach_scores:                               # mental updates
                dh_hat = dh_hat + dh_query
        h_prev = cache["lstm"][t][0]
        dz, dh_prev, dc_prev = lstm_step_backward(dh_hat, dc_next, cache["lstm"][t],
                                                  params["W_h"])
        dZ[:, t, :] = dz
        grads["W_h"] += h_prev.T @ dz
        if cfg.cuts(t):                                             # docs/model.md §4
            dh_next, dc_next = zeros((B, H), like=hs), zeros((B, H), like=hs)
        else:
            dh_next, dc_next = dh_prev, dc_prev
    grads["W_x"], grads["b"] = input_projection_backward(dZ, x)
    return grads, dH


def _memory_credit(dM, dK, j, mem, params, cfg: Config, grads):
    """The credit of memory j: through its reads (dM) and, with mental updates, its key (dK)."""
    dm_key, dparams = key_backward(dK[:, j, :], mem.M[:, j, :], mem.K[:, j, :], params,
                                   cfg.scorer)
    _accumulate(grads, dparams)                                     # W_m learns either way
    return dM[:, j, :] if cfg.detach_scores else dM[:, j, :] + dm_key


def _attend_backward(ds, attn_cache, dM, dK, t: int, mem, params, cfg: Config, grads):
    """Backward of ``_attend``: adds into dM, dK and grads; returns ∂L/∂ĥ_t through the scores.

    For top-k attention only the kept memories and the threshold memory receive credit
    (docs/derivations.md §5-7).
    """
    score_cache, act, alpha, sp_cache = attn_cache
    n = 1 + t // cfg.k_att
    M, K = mem.M[:, :n, :], mem.K[:, :n, :]
    if act is not None:                                             # top-k
        m = alpha.shape[1]
        dalpha, dM_kept = read_backward(ds, alpha, kept_rows(M, act, m))
        scatter_add_rows(dM, act[:, :m], dM_kept)
        da = sparsify_backward(dalpha, sp_cache, cfg)               # (B, m_act), like act
        dh_query, dK_act, dparams = score_backward(da, gather_rows(K, act), score_cache, params,
                                                   cfg.scorer)
        scatter_add_rows(dK, act, dK_act)
    else:                                                           # dense: every memory
        dalpha, dM_n = read_backward(ds, alpha, M)
        dM[:, :n, :] += dM_n
        da = softmax_backward(dalpha, sp_cache)
        dh_query, dK_n, dparams = score_backward(da, K, score_cache, params, cfg.scorer)
        dK[:, :n, :] += dK_n
    _accumulate(grads, dparams)
    return dh_query


def _accumulate(grads, dparams):
    for name, value in dparams.items():
        grads[name] += value          # in place: the arrays are this call's own zeros


# ------------------------------------------------------------------- losses and instruments
def loss_forward(y, targets, cfg: Config, mask=None):
    """The configured loss (docs/model.md §3). Returns ``(L, cache)``."""
    return LOSSES[cfg.loss].forward(y, targets, mask)


def loss_and_grads(params, x, targets, cfg: Config, mask=None, record: bool = False):
    """Forward, loss and backward in one call.

    Returns ``(loss, grads, out)`` where ``out`` holds ``logits``, ``dh`` and the forward
    ``cache`` (with ``cache["record"]`` when ``record=True``).
    """
    y, cache = forward(params, x, cfg, record=record)
    loss, l_cache = loss_forward(y, targets, cfg, mask)
    grads, dh = backward(LOSSES[cfg.loss].backward(l_cache), cache, params)
    return loss, grads, {"logits": y, "dh": dh, "cache": cache}


def loss_only(params, x, targets, cfg: Config, mask=None):
    """The loss alone (for finite differences and evaluation)."""
    y, _ = forward(params, x, cfg)
    return loss_forward(y, targets, cfg, mask)[0]


def base_point_constants(cache):
    """What ``forward(constants=...)`` holds fixed, recorded from a base-point forward cache
    (of either engine)."""
    cfg = cache["cfg"]
    T = cache["hs"].shape[1]
    state = {t: cache["lstm"][t][:2] for t in range(T) if cfg.cuts(t)}   # (h_{t-1}, c_{t-1})
    mem = cache["mem"]
    return {"state": state, "h_hat": cache["h_hats"], "M": None if mem is None else mem.M}


def _new_record(cfg: Config, B: int, T: int, like) -> dict:
    rec = {"n_mem": []}
    if cfg.uses_attention:
        n_max = 1 + (T - 1) // cfg.k_att                            # most memories any step reads
        rec.update(attn=zeros((T, B, n_max), like=like), scores=zeros((T, B, n_max), like=like))
    return rec


def record_attention(rec, t, a, alpha, act):
    """Write step t's raw scores and dense weights (zero-padded) into ``rec``."""
    n = a.shape[1]
    rec["scores"][t, :, :n] = a
    if act is None:
        rec["attn"][t, :, :n] = alpha
    else:
        dense = zeros((a.shape[0], n, 1), like=a)
        scatter_add_rows(dense, act[:, :alpha.shape[1]], alpha[:, :, None])
        rec["attn"][t, :, :n] = dense[:, :, 0]
    rec["n_mem"].append(n)
