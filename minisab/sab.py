"""The sequence forward pass (MODEL.md §2) and the one backward driver for bptt, tbptt and sab.

``forward`` runs the model over a batch of sequences and keeps what the backward needs: the LSTM
step caches, the memory buffer (each state once, however often it is read), and, per step, the
indices of the memories the sparsifier kept (plus, for MODEL.md's sparsifier, the threshold
memory; ``cfg.sparsifier``, minisab/sparsifiers.py). It keeps no per-memory
scorer activations: the backward recomputes them for the few rows it touches (MODEL.md §4).

``backward`` walks the steps in reverse. Into each ``h_t`` it accumulates the gradient from its
output ``y_t``, from step ``t+1`` (unless the method cuts that edge), and from every later step
that read ``h_t`` from memory; the method only decides which recurrent edges are cut.
"""
from __future__ import annotations

from .attention import (key_backward, key_forward, kept_rows, read_backward, read_forward,
                        score_backward, score_forward, softmax_backward, softmax_forward)
from .backend import (add_into, concat, empty, gather_rows, matmul_into, namespace,
                      scatter_add_rows, swap01, tanh_into, zeros)
from .config import Config
from .losses import LOSSES, output_backward, output_forward
from .lstm import (cell_candidate, gates_backward, gates_forward, split_gates, stack_weights,
                   stacked_grads, stacked_input)
from .memory import Memory
from .params import check_params
from .sparsifiers import sparsify_backward, sparsify_forward

# Steps per weight-gradient product in the backward: ∂L/∂z is kept for a block of DW_BLOCK
# steps, not all T. Four steps (4·B rows) already make an efficient matrix product, and the
# backward's memory shrinks by (T − 4)·B·4H numbers (15 MB at the benchmark's B=64, H=128,
# T=120, float32): with it the step's arrays fit in what the C library keeps for the next step,
# instead of being handed back to the OS and faulted in again, page by page
# (benchmarks/README.md, "page faults").
DW_BLOCK = 4


def forward(params, x, cfg: Config, record: bool = False, constants=None):
    """Run the model over ``x`` (B, T, I). Returns ``(logits (B, T, C), cache)``.

    ``constants`` (from ``base_point_constants``) turns the edges that ``cfg.method`` cuts, and
    the scorer inputs under ``detach_scores``, into values recorded at a base point. The loss
    of that forward, differentiated exactly, is the method's truncated gradient: finite
    differences of it check the backward (MODEL.md §4, golden README).

    With ``record=True`` the cache also holds, for inspection and plots, ``cache["record"]``:
    ``c`` (B, T, H), dense attention weights ``attn`` and raw ``scores`` (T, B, n_max) padded
    with zeros, and ``n_mem`` (T,) (MODEL.md's golden-vector layout).
    """
    check_params(params, cfg)
    if x.ndim != 3 or x.shape[2] != cfg.input_size:
        raise ValueError(f"x has shape {tuple(x.shape)}, expected (B, T, input_size="
                         f"{cfg.input_size})")
    B, T, I = x.shape
    H = cfg.hidden_size
    # Step-major arrays for all steps (docs/derivations.md §4): each step writes its results
    # into row t, and the weight gradients are one product over them at the end.
    W = stack_weights(params["W_h"], params["W_x"], params["b"])    # (H+I+1, 4H), §2.1
    U = stacked_input(x, H, like=W)                                 # U[t] = [h_{t-1}, x_t, 1]
    G = empty((T, B, 4 * H), like=W)                                # S = [i, f, σ(2 z_g), o] of step t
    cs = empty((T + 1, B, H), like=W)                               # cs[t+1] = c_t
    cs[0, ...] = 0.0                                                # c₋₁ = 0 (h₋₁ = 0 is in U)
    g_buf, tanh_buf = empty((B, H), like=W), empty((B, H), like=W)  # scratch, not kept
    held, attn_caches = {}, []                                      # held: (h, c)_{t-1} constants
    rec = {} if record else None
    attend = cfg.uses_attention
    if attend:
        h_hats, ss = empty((T, B, H), like=W), empty((T, B, H), like=W)
        h0 = U[0, :, :H]
        mem = Memory(cfg.n_memories(T), h0, key_forward(h0, params, cfg.scorer))  # null memory
        # One scratch buffer for the scorer's (B, n, A) activations, reused every step; stored
        # step-major like the keys, so that its first n rows are one contiguous block.
        u_buf = (zeros((cfg.n_memories(T), B, cfg.attn_size), like=W)
                 if cfg.scorer == "mlp" else None)
        if record:
            n_max = 1 + (T - 1) // cfg.k_att                        # most memories any step reads
            rec.update(attn=zeros((T, B, n_max), like=W), scores=zeros((T, B, n_max), like=W),
                       n_mem=[])
    for t in range(T):
        u, c_prev = U[t, ...], cs[t, ...]
        if constants is not None and cfg.cuts(t):
            # (h, c)_{t-1} held at the base point; U keeps the real h_{t-1} for the output y_{t-1}.
            held[t] = h_c, c_prev = constants["state"][t]
            u = concat([h_c, U[t, :, H:]], axis=1)
        z = matmul_into(u, W, out=G[t, ...])                        # halved z_t, (B, 4H)
        h_hat = h_hats[t, ...] if attend else U[t + 1, :, :H]       # where ĥ_t goes
        # S into G[t], c_t into cs[t+1], ĥ_t into its row (MODEL.md §2.1)
        h_hat = gates_forward(z, c_prev, cs[t + 1, ...], h_hat, g_buf, tanh_buf)[2]
        if attend:
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
            ss[t, ...] = s
            h = add_into(h_hat, s, out=U[t + 1, :, :H])             # h_t = ĥ_t + s_t
            attn_caches.append((score_cache, act, alpha, sp_cache))
            if record:
                _record_attention(rec, t, a, alpha, act)
            if (t + 1) % cfg.k_att == 0:                            # §2.5
                m = _memory_value(h, h_hat, cfg)                    # h_t (MODEL.md) or an option
                mem.write(m, key_forward(m, params, cfg.scorer))
    hs = U[1:, :, :H]                                               # h_t, (T, B, H) step-major
    s_all = ss if attend else None
    y = output_forward(hs, s_all, params["W_y"], params["b_y"])     # §2.6, (T, B, C)
    if record:
        rec["c"] = swap01(cs[1:, ...])
    # The cache's (B, T, ·) arrays are views of the step-major ones.
    cache = {"cfg": cfg, "x": x, "hs": swap01(hs), "ss": swap01(ss) if attend else None,
             "h_hats": swap01(h_hats if attend else hs), "U": U, "ss_steps": s_all,
             "G": G, "cs": cs, "held": held, "lstm": StepCaches(U, G, cs, held),
             "attn": attn_caches, "mem": mem if attend else None,
             "record": rec}
    return swap01(y), cache


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
        H = self.cs.shape[2]
        h_prev, c_prev = self.held.get(t, (self.U[t, :, :H], self.cs[t, ...]))
        S = self.G[t, ...]
        i, f, _, o = split_gates(S)
        g = cell_candidate(S, out=empty(c_prev.shape, like=S))
        tanh_c = namespace(S).tanh(self.cs[t + 1, ...])
        return h_prev, c_prev, i, f, g, o, tanh_c, S


def _rows(buf, n):
    """The first n rows of a step-major (n_max, B, ·) scratch buffer, as a (B, n, ·) view."""
    return None if buf is None else swap01(buf[:n, :, :])


def _memory_value(h, h_hat, cfg: Config):
    """What step t writes to memory: h_t (MODEL.md §2.5) unless ``cfg.memory_write`` says
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
    g_buf, tanh_buf = empty((B, H), like=G), empty((B, H), like=G)  # scratch
    W_h = params["W_h"]
    # The output layer on the step-major arrays: dH[t] starts as ∂L/∂h_t from y_t alone.
    dH, ds_out, grads = output_backward(swap01(dy), U[1:, :, :H], cache["ss_steps"],
                                        params["W_y"])              # (T, B, H) each
    for name in params:
        if name not in grads:
            grads[name] = xp.zeros_like(params[name])
    t_last = T - 1 if t_start is None else t_start
    if t_last < T - 1:                                              # steps the walk skips
        dH[t_last + 1:, ...] = 0.0
    # ∂L/∂z_t of a block of DW_BLOCK steps; at the start of a block the weight gradients of its
    # steps are one product (docs/derivations.md §4): [dW_h; dW_x; db] += Σ u_tᵀ dz_t.
    width = U.shape[2]                                              # H + I + 1
    dZ = empty((min(DW_BLOCK, T), B, 4 * H), like=dH)
    dW = zeros((width, 4 * H), like=dH)
    dh_next, dc_next = None, 0.0                                    # nothing after step T-1
    attend, detach = cfg.uses_attention, cfg.detach_scores
    if attend:
        dM, dK = xp.zeros_like(mem.M), xp.zeros_like(mem.K)          # gradients of memories, keys
    for t in range(t_last, -1, -1):
        dh = dH[t, ...]                                             # becomes h_t's whole adjoint
        if dh_next is not None:
            dh += dh_next                                           # from step t+1
        dm = 0.0
        if attend and (t + 1) % cfg.k_att == 0:
            # h_t is memory j: every step that read it has been walked already (they come later).
            j = (t + 1) // cfg.k_att
            m_t = mem.M[:, j, :]                                    # what was written
            dm_key, g = key_backward(dK[:, j, :], m_t, mem.K[:, j, :], params, cfg.scorer)
            _accumulate(grads, g)
            dm = dM[:, j, :] + (0.0 if detach else dm_key)
            # memory_write (docs/make_sab_learn.md): "h" m = h_t; "tanh_h" m = tanh(h_t);
            # "h_hat" m = ĥ_t, whose gradient joins ĥ_t's adjoint below instead of h_t's.
            if cfg.memory_write == "h":
                dh += dm
                dm = 0.0
            elif cfg.memory_write == "tanh_h":
                dh += dm * (1.0 - m_t * m_t)
                dm = 0.0
        dh_hat = dh if isinstance(dm, float) else dh + dm           # h_t = ĥ_t + s_t
        if attend:
            score_cache, act, alpha, sp_cache = cache["attn"][t]
            n = 1 + t // cfg.k_att
            M, K = mem.M[:, :n, :], mem.K[:, :n, :]
            ds = dh + ds_out[t, ...]                                # s_t feeds h_t and y_t
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
                dh_hat = dh_hat + dh_q
        S, c_prev = G[t, ...], held[t][1] if t in held else cs[t, ...]
        g_t = cell_candidate(S, out=g_buf)                          # recomputed, not kept
        tanh_c = tanh_into(cs[t + 1, ...], out=tanh_buf)
        j = t % DW_BLOCK                                            # t's row in the block
        dz, dc_prev = gates_backward(dh_hat, dc_next, S, g_t, c_prev, tanh_c, dZ[j, ...])
        if j == 0:                                                  # block t .. t+m-1 done
            m = min(DW_BLOCK, t_last + 1 - t)
            dW += (xp.reshape(U[t:t + m, ...], (m * B, width)).T
                   @ xp.reshape(dZ[:m, ...], (m * B, 4 * H)))
        if t == 0 or cfg.cuts(t):   # MODEL.md §4: (h_{t-1}, c_{t-1}) -> step t is a constant
            dh_next, dc_next = None, 0.0
        else:
            dh_next, dc_next = dz @ W_h.T, dc_prev                  # ∂L/∂h_{t-1}, ∂L/∂c_{t-1}
    grads["W_h"], grads["W_x"], grads["b"] = stacked_grads(dW, H, width - H - 1)
    return grads, swap01(dH)


def _accumulate(grads, g):
    for name, value in g.items():
        grads[name] += value          # in place: the arrays are this call's own zeros


def loss_forward(y, targets, cfg: Config, mask=None):
    """The configured loss (MODEL.md §3). Returns ``(L, cache)``."""
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
