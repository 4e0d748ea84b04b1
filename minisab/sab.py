"""The sequence forward pass (docs/model.md §2) and the one backward driver for bptt, tbptt and sab.

``forward`` runs the model over a batch of sequences and keeps what the backward needs: the LSTM
step caches, the memory buffer (each state once, however often it is read), and, per step, the
indices of the memories the sparsifier kept (plus, for docs/model.md's sparsifier, the threshold
memory; ``cfg.sparsifier``, minisab/sparsifiers.py). It keeps no per-memory
scorer activations: the backward recomputes them for the few rows it touches (docs/model.md §4).

``backward`` walks the steps in reverse. Into each ``h_t`` it accumulates the gradient from its
output ``y_t``, from step ``t+1`` (unless the method cuts that edge), and from every later step
that read ``h_t`` from memory; the method only decides which recurrent edges are cut.
"""
from __future__ import annotations

from .attention import (key_backward, key_forward, kept_rows, read_backward, read_forward,
                        score_backward, score_forward, softmax_backward, softmax_forward)
from .backend import (add_into, concat, empty, gather_rows, matmul_into, namespace, permute,
                      scatter_add_rows, swap01, tanh_into, zeros)
from .config import Config
from .losses import LOSSES, output_backward_cols, output_forward_cols
from .lstm import (cell_candidate, gates_backward, gates_forward, split_gates, stack_weights,
                   stacked_grads, stacked_input)
from .memory import Memory
from .params import check_params
from .sparsifiers import sparsify_backward, sparsify_forward


def forward(params, x, cfg: Config, record: bool = False, constants=None):
    """Run the model over ``x`` (B, T, I). Returns ``(logits (B, T, C), cache)``.

    ``constants`` (from ``base_point_constants``) turns the edges that ``cfg.method`` cuts, and
    the scorer inputs under ``detach_scores``, into values recorded at a base point. The loss
    of that forward, differentiated exactly, is the method's truncated gradient: finite
    differences of it check the backward (docs/model.md §4, golden README).

    With ``record=True`` the cache also holds, for inspection and plots, ``cache["record"]``:
    ``c`` (B, T, H), dense attention weights ``attn`` and raw ``scores`` (T, B, n_max) padded
    with zeros, and ``n_mem`` (T,) (docs/model.md's golden-vector layout).
    """
    check_params(params, cfg)
    if x.ndim != 3 or x.shape[2] != cfg.input_size:
        raise ValueError(f"x has shape {tuple(x.shape)}, expected (B, T, input_size="
                         f"{cfg.input_size})")
    B, T, I = x.shape
    H = cfg.hidden_size
    xp = namespace(x)
    # Every step's vectors are stored as columns of arrays that hold all steps (lstm.py,
    # docs/derivations.md §4): step t writes its results into row t of each.
    WT = stack_weights(params["W_h"], params["W_x"], params["b"])   # (4H, H+I+1), §2.1
    U = stacked_input(x, H, like=WT)                                # U[t] = [h_{t-1}; x_t; 1]
    G = empty((T, 4 * H, B), like=WT)                               # S = [i; f; σ(2 z_g); o]
    G4 = xp.reshape(G, (T, 4, H, B))                                # the same, by gate
    cs = empty((T + 1, H, B), like=WT)                              # cs[t+1] = c_t
    cs[0, ...] = 0.0                                                # c₋₁ = 0 (h₋₁ = 0 is in U)
    g_buf, tanh_buf = empty((H, B), like=WT), empty((H, B), like=WT) # scratch, not kept
    held, attn_caches = {}, []                                      # held: (h, c)_{t-1} constants
    rec = {} if record else None
    attend = cfg.uses_attention
    if attend:
        h_hats, ss = empty((T, H, B), like=WT), empty((T, H, B), like=WT)
        h0 = U[0, :H, :].T                                          # (B, H) views from here on
        mem = Memory(cfg.n_memories(T), h0, key_forward(h0, params, cfg.scorer))  # null memory
        # One scratch buffer for the scorer's (B, n, A) activations, reused every step; stored
        # step-major like the keys, so that its first n rows are one contiguous block.
        u_buf = (zeros((cfg.n_memories(T), B, cfg.attn_size), like=WT)
                 if cfg.scorer == "mlp" else None)
        if record:
            n_max = 1 + (T - 1) // cfg.k_att                        # most memories any step reads
            rec.update(attn=zeros((T, B, n_max), like=WT), scores=zeros((T, B, n_max), like=WT),
                       n_mem=[])
    for t in range(T):
        u, c_prev = U[t, ...], cs[t, ...]
        if constants is not None and cfg.cuts(t):
            # (h, c)_{t-1} held at the base point; U keeps the real h_{t-1} for the output y_{t-1}.
            held[t] = h_c, c_c = constants["state"][t]              # (B, H) each
            u, c_prev = concat([h_c.T, U[t, H:, :]], axis=0), c_c.T
        matmul_into(WT, u, out=G[t, ...])                           # halved z_t, (4H, B)
        h_hat = h_hats[t, ...] if attend else U[t + 1, :H, :]       # where ĥ_t goes, (H, B)
        # S into G[t], c_t into cs[t+1], ĥ_t into its rows (docs/model.md §2.1)
        gates_forward(G4[t, ...], c_prev, cs[t + 1, ...], h_hat, g_buf, tanh_buf)
        if attend:
            h_hat = h_hat.T                                         # (B, H)
            M, K = mem.rows()                                       # (B, n, H), (B, n, ·)
            if constants is not None and cfg.detach_scores:        # scorer inputs held fixed
                n = K.shape[1]
                K = key_forward(constants["M"][:, :n, :], params, cfg.scorer)
                a, score_cache = score_forward(constants["h_hat"][:, t, :], K, params, cfg.scorer)
            else:
                a, score_cache = score_forward(h_hat, K, params, cfg.scorer,    # §2.2
                                               out=_rows(u_buf, K.shape[1]))   # (B, n)
            if cfg.attention == "topk":                             # §2.3
                alpha, act, sp_cache = sparsify_forward(a, cfg)     # cfg.sparsifier
                M_kept = kept_rows(M, act, alpha.shape[1])          # (B, m, H)
            else:
                (alpha, sp_cache), act, M_kept = softmax_forward(a), None, M
            s = read_forward(alpha, M_kept)                         # §2.4, (B, H)
            ss[t, ...] = s.T
            h = add_into(h_hat, s, out=U[t + 1, :H, :].T)           # h_t = ĥ_t + s_t
            attn_caches.append((score_cache, act, alpha, sp_cache))
            if record:
                _record_attention(rec, t, a, alpha, act)
            if (t + 1) % cfg.k_att == 0:                            # §2.5
                m = _memory_value(h, h_hat, cfg)                    # h_t (docs/model.md) or an option
                mem.write(m, key_forward(m, params, cfg.scorer))
    hT = U[1:, :H, :]                                               # h_t as columns, (T, H, B)
    sT = ss if attend else None
    yT = output_forward_cols(hT, sT, params["W_y"], params["b_y"])  # §2.6, (T, C, B)
    if record:
        rec["c"] = _bth(cs[1:, ...])
    # The cache's (B, T, ·) arrays are views of the column arrays.
    cache = {"cfg": cfg, "x": x, "hs": _bth(hT), "ss": _bth(ss) if attend else None,
             "h_hats": _bth(h_hats if attend else hT), "U": U, "sT": sT,
             "G": G, "cs": cs, "held": held, "lstm": StepCaches(U, G, cs, held),
             "attn": attn_caches, "mem": mem if attend else None,
             "record": rec}
    return _bth(yT), cache


def _bth(a):
    """Columns of all steps (T, D, B) as the (B, T, D) view that readers of the cache expect."""
    return permute(a, (2, 0, 1))


class StepCaches:
    """``cache["lstm"][t]``: step t's cache as ``lstm_step_forward`` returns it, ``(h_prev,
    c_prev, i, f, g, o, tanh_c, S)`` (tutorials 1-2, the exercises), made on request from the
    step-major arrays; g and tanh_c are recomputed (the forward keeps S and c only)."""

    def __init__(self, U, G, cs, held):
        self.U, self.G, self.cs, self.held = U, G, cs, held

    def __len__(self):
        return self.G.shape[0]

    def __iter__(self):
        return (self[t] for t in range(len(self)))

    def __getitem__(self, t: int):
        if not 0 <= t < len(self):
            raise IndexError(f"step {t} out of range: the sequence has {len(self)} steps")
        H, B = self.cs.shape[1], self.cs.shape[2]
        h_prev, c_prev = self.held.get(t, (self.U[t, :H, :].T, self.cs[t, ...].T))   # (B, H)
        S = self.G[t, ...].T                                        # (B, 4H)
        i, f, _, o = split_gates(S)
        S4 = namespace(S).reshape(self.G[t, ...], (4, H, B))
        g = cell_candidate(S4, out=empty((H, B), like=S)).T         # recomputed, as backward does
        tanh_c = namespace(S).tanh(self.cs[t + 1, ...].T)
        return h_prev, c_prev, i, f, g, o, tanh_c, S


def _rows(buf, n):
    """The first n rows of a step-major (n_max, B, ·) scratch buffer, as a (B, n, ·) view."""
    return None if buf is None else swap01(buf[:n, :, :])


def _memory_value(h, h_hat, cfg: Config):
    """What step t writes to memory: h_t (docs/model.md §2.5) unless ``cfg.memory_write`` says
    otherwise ("h_hat": ĥ_t; "tanh_h": tanh(h_t)); docs/make_sab_learn.md."""
    if cfg.memory_write == "h_hat":
        return h_hat
    if cfg.memory_write == "tanh_h":
        return namespace(h).tanh(h)
    return h


def base_point_constants(cache):
    """What ``forward(constants=...)`` holds fixed, recorded from a base-point forward cache."""
    cfg = cache["cfg"]
    T = cache["hs"].shape[1]
    state = {t: cache["lstm"][t][:2] for t in range(T) if cfg.cuts(t)}   # (h_{t-1}, c_{t-1})
    mem = cache["mem"]
    return {"state": state, "h_hat": cache["h_hats"], "M": None if mem is None else mem.M}


def _record_attention(rec, t, a, alpha, act):
    n = a.shape[1]
    rec["scores"][t, :, :n] = a
    if act is None:
        rec["attn"][t, :, :n] = alpha
    else:
        dense = zeros((a.shape[0], n, 1), like=a)
        scatter_add_rows(dense, act[:, :alpha.shape[1]], alpha[:, :, None])
        rec["attn"][t, :, :n] = dense[:, :, 0]
    rec["n_mem"].append(n)


def backward(dy, cache, params, t_start: int | None = None):
    """Backpropagate ``dy = ∂L/∂y`` (B, T, C) under ``cache["cfg"].method``.

    Returns ``(grads, dh)``: ``grads`` has one array per parameter (same keys as ``params``);
    ``dh`` (B, T, H) is the adjoint at each node h_t (what reached it from y_t, step t+1 and
    memory reads). ``t_start`` starts the reverse walk early when ``dy`` is zero after it.
    """
    cfg: Config = cache["cfg"]
    xp = namespace(dy)
    hs, U, mem = cache["hs"], cache["U"], cache["mem"]
    G, cs, held = cache["G"], cache["cs"], cache["held"]
    B, T, H = hs.shape
    G4 = xp.reshape(G, (T, 4, H, B))                                # S by gate, as in forward
    g_buf, tanh_buf = empty((H, B), like=G), empty((H, B), like=G)  # scratch
    W_h = params["W_h"]
    # The output layer on the columns: dH[t] (H, B) starts as ∂L/∂h_t from y_t alone.
    dH, dsT, grads = output_backward_cols(permute(dy, (1, 2, 0)), U[1:, :H, :],
                                          cache["sT"], params["W_y"])     # (T, H, B) each
    for name in params:
        if name not in grads:
            grads[name] = xp.zeros_like(params[name])
    t_last = T - 1 if t_start is None else t_start
    if t_last < T - 1:                                              # steps the walk skips
        dH[t_last + 1:, ...] = 0.0
    dz = empty((4 * H, B), like=G)                                  # ∂L/∂z_t, one step at a time
    dz4 = xp.reshape(dz, (4, H, B))                                 # the same, by gate
    dW = zeros((U.shape[1], 4 * H), like=G)                         # [dW_h; dW_x; db]
    dW_t = empty((U.shape[1], 4 * H), like=G)
    dh_next, dc_next = None, 0.0                                    # nothing after step T-1
    attend, detach = cfg.uses_attention, cfg.detach_scores
    if attend:
        dM, dK = xp.zeros_like(mem.M), xp.zeros_like(mem.K)          # gradients of memories, keys
    for t in range(t_last, -1, -1):
        dh = dH[t, ...]                                             # becomes h_t's whole adjoint
        if dh_next is not None:
            dh += dh_next                                           # from step t+1
        dh_hat = dh                                                 # h_t = ĥ_t + s_t
        if attend:
            dh_b = dh.T                                             # (B, H) view: dh_b += dh
            if (t + 1) % cfg.k_att == 0:
                # h_t is memory j: every step that read it has been walked already.
                j = (t + 1) // cfg.k_att
                m_t = mem.M[:, j, :]                                # what was written
                dm_key, g = key_backward(dK[:, j, :], m_t, mem.K[:, j, :], params, cfg.scorer)
                _accumulate(grads, g)
                dm = dM[:, j, :] + (0.0 if detach else dm_key)
                # memory_write (docs/make_sab_learn.md): "h" m = h_t; "tanh_h" m = tanh(h_t);
                # "h_hat" m = ĥ_t, whose gradient joins ĥ_t's adjoint below instead of h_t's.
                if cfg.memory_write == "h":
                    dh_b += dm
                elif cfg.memory_write == "tanh_h":
                    dh_b += dm * (1.0 - m_t * m_t)
                else:
                    dh_hat = dh + dm.T
            score_cache, act, alpha, sp_cache = cache["attn"][t]
            n = 1 + t // cfg.k_att
            M, K = mem.M[:, :n, :], mem.K[:, :n, :]
            ds = dh_b + dsT[t, ...].T                               # s_t feeds h_t and y_t
            if act is not None:                                     # topk: kept rows only
                M_kept = kept_rows(M, act, alpha.shape[1])
                dalpha, dM_kept = read_backward(ds, alpha, M_kept)
                scatter_add_rows(dM, act[:, :alpha.shape[1]], dM_kept)
                da = sparsify_backward(dalpha, sp_cache, cfg)       # kept (+ threshold)
                dh_q, dK_act, g = score_backward(da, gather_rows(K, act), score_cache,
                                                 params, cfg.scorer)
                scatter_add_rows(dK, act, dK_act)
            else:                                                   # softmax: every row
                dalpha, dM_kept = read_backward(ds, alpha, M)
                dM[:, :n, :] += dM_kept
                da = softmax_backward(dalpha, sp_cache)
                dh_q, dK_n, g = score_backward(da, K, score_cache, params, cfg.scorer)
                dK[:, :n, :] += dK_n
            _accumulate(grads, g)
            if not detach:
                dh_hat = dh_hat + dh_q.T
        S4 = G4[t, ...]
        c_prev = held[t][1].T if t in held else cs[t, ...]
        g_t = cell_candidate(S4, out=g_buf)                         # recomputed, not kept
        tanh_c = tanh_into(cs[t + 1, ...], out=tanh_buf)
        _, dc_prev = gates_backward(dh_hat, dc_next, S4, g_t, c_prev, tanh_c, dz4)  # into dz
        # The weight gradients, step by step (derivations §4): [dW_h; dW_x; db] += u_t dz_tᵀ.
        dW += matmul_into(U[t, ...], dz.T, out=dW_t)
        if t == 0 or cfg.cuts(t):   # docs/model.md §4: (h_{t-1}, c_{t-1}) -> step t is a constant
            dh_next, dc_next = None, 0.0
        else:
            dh_next, dc_next = W_h @ dz, dc_prev                    # ∂L/∂h_{t-1}, ∂L/∂c_{t-1}
    grads["W_h"], grads["W_x"], grads["b"] = stacked_grads(dW, H, U.shape[1] - H - 1)
    return grads, _bth(dH)


def _accumulate(grads, g):
    for name, value in g.items():
        grads[name] += value          # in place: the arrays are this call's own zeros


def loss_forward(y, targets, cfg: Config, mask=None):
    """The configured loss (docs/model.md §3). Returns ``(L, cache)``."""
    return LOSSES[cfg.loss][0](y, targets, mask)


def loss_and_grads(params, x, targets, cfg: Config, mask=None, record: bool = False):
    """Forward, loss and backward in one call.

    Returns ``(loss, grads, out)`` where ``out`` holds ``logits``, ``dh`` and the forward
    ``cache`` (with ``cache["record"]`` when ``record=True``).
    """
    y, cache = forward(params, x, cfg, record=record)
    loss, l_cache = loss_forward(y, targets, cfg, mask)
    dy = LOSSES[cfg.loss][1](l_cache)
    grads, dh = backward(dy, cache, params)
    return loss, grads, {"logits": y, "dh": dh, "cache": cache}


def loss_only(params, x, targets, cfg: Config, mask=None):
    """The loss alone (for finite differences and evaluation)."""
    y, _ = forward(params, x, cfg)
    return loss_forward(y, targets, cfg, mask)[0]
