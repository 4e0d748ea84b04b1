"""The fast engine's sequence forward and backward: the numbers of ``minisab.sab``, rearranged.

``forward`` and ``backward`` here take and return what ``minisab.sab``'s do, and agree with them
to rounding (tests/fast/test_fast.py); the cache holds the same keys for its readers (``hs``,
``h_hats``, ``ss``, ``lstm``, ``attn``, ``mem``, ``record``, ``cfg``, ``x``) and, besides, the
column arrays below. What is rearranged, and why (benchmarks/README.md measures it):

- every step's vectors are stored as COLUMNS of arrays that hold all steps: the step input
  ``u_cols[t] = [h_{t-1}; x_t; 1]`` (H+I+1, B), the gates ``gates[t]`` (4H, B), the cell
  ``c_cols[t+1]`` (H, B); one product of the stacked weights gives a step's pre-activations
  (``lstm_cols.py``), and one per step gives the weight gradients;
- results are written into preallocated arrays (``ops.py``); the forward keeps only the gates
  and c, and the backward recomputes g and tanh c;
- the mlp scorer's activations go to one scratch buffer (``scorer.py``);
- the output layer runs on the columns (``output_cols.py``).

Parts of the adjoint ``dh`` are views of one another, so ``dh_b += dm`` reaches both
``dh_cols[t]`` and the memory read's ``ds``: the reference (``minisab/sab.py``) says the same with
plain sums.
"""
from __future__ import annotations

from ..attention import (key_backward, key_forward, kept_rows, read_backward, read_forward,
                         score_backward, score_forward, softmax_backward, softmax_forward)
from ..backend import (concat, empty, gather_rows, namespace, permute, scatter_add_rows, swap01,
                       zeros)
from ..config import Config
from ..memory import Memory
from ..params import check_inputs, check_params, check_t_start
from ..sab import memory_value, record_attention
from ..sparsifiers import sparsify_backward, sparsify_forward
from .lstm_cols import (cell_candidate, gates_backward, gates_forward, split_gates, stack_weights,
                        stacked_grads, stacked_input)
from .ops import add_into, matmul_into, tanh_into
from .output_cols import output_backward_cols, output_forward_cols
from .scorer import score_forward_into


def forward(params, x, cfg: Config, record: bool = False, constants=None):
    """``minisab.sab.forward``, on columns: the same arguments, logits and cache keys."""
    check_params(params, cfg)
    check_inputs(x, cfg)                                            # (B, T, I), finite, real
    B, T, I = x.shape
    H = cfg.hidden_size
    xp = namespace(x)
    # Every step's vectors are stored as columns of arrays that hold all steps (lstm_cols.py,
    # docs/derivations.md §4): step t writes its results into row t of each.
    W_stack = stack_weights(params["W_h"], params["W_x"], params["b"])  # transposed: (4H, H+I+1)
    u_cols = stacked_input(x, H, like=W_stack)                           # [h_{t-1}; x_t; 1] per t
    gates = empty((T, 4 * H, B), like=W_stack)                           # [i; f; σ(2 z_g); o]
    gates4 = xp.reshape(gates, (T, 4, H, B))                        # the same, by gate
    c_cols = empty((T + 1, H, B), like=W_stack)                          # c_cols[t+1] = c_t
    c_cols[0, ...] = 0.0                                            # c₋₁ = 0 (h₋₁ = 0: u_cols)
    g_buf, tanh_buf = empty((H, B), like=W_stack), empty((H, B), like=W_stack)  # scratch, not kept
    held, attn_caches = {}, []                                      # held: (h, c)_{t-1} constants
    rec = {} if record else None
    attend = cfg.uses_attention
    if attend:
        h_hats, s_all = empty((T, H, B), like=W_stack), empty((T, H, B), like=W_stack)
        h0 = u_cols[0, :H, :].T                                     # (B, H) views from here on
        mem = Memory(cfg.n_memories(T), h0, key_forward(h0, params, cfg.scorer))  # null memory
        # One scratch buffer for the scorer's (B, n, A) activations, reused every step; stored
        # step-major like the keys, so that its first n rows are one contiguous block.
        hid_buf = (zeros((cfg.n_memories(T), B, cfg.attn_size), like=W_stack)
                   if cfg.scorer == "mlp" else None)
        if record:
            n_max = 1 + (T - 1) // cfg.k_att                        # most memories any step reads
            rec.update(attn=zeros((T, B, n_max), like=W_stack),
                       scores=zeros((T, B, n_max), like=W_stack),
                       n_mem=[])
    for t in range(T):
        u, c_prev = u_cols[t, ...], c_cols[t, ...]
        if constants is not None and cfg.cuts(t):
            # (h, c)_{t-1} held at the base point; u_cols keeps the real h_{t-1} for y_{t-1}.
            held[t] = h_c, c_c = constants["state"][t]              # (B, H) each
            u, c_prev = concat([h_c.T, u_cols[t, H:, :]], axis=0), c_c.T
        matmul_into(W_stack, u, out=gates[t, ...])                       # halved z_t, (4H, B)
        h_hat = h_hats[t, ...] if attend else u_cols[t + 1, :H, :]  # where ĥ_t goes, (H, B)
        # gates into gates[t], c_t into c_cols[t+1], ĥ_t into its rows (docs/model.md §2.1)
        gates_forward(gates4[t, ...], c_prev, c_cols[t + 1, ...], h_hat, g_buf, tanh_buf)
        if attend:
            h_hat = h_hat.T                                         # (B, H)
            M, K = mem.rows()                                       # (B, n, H), (B, n, ·)
            if constants is not None and cfg.detach_scores:        # scorer inputs held fixed
                n = K.shape[1]
                K = key_forward(constants["M"][:, :n, :], params, cfg.scorer)
                a, score_cache = score_forward(constants["h_hat"][:, t, :], K, params, cfg.scorer)
            else:
                a, score_cache = score_forward_into(h_hat, K, params, cfg.scorer,  # §2.2
                                                    out=_rows(hid_buf, K.shape[1]))  # (B, n)
            if cfg.attention == "topk":                             # §2.3
                alpha, act, sp_cache = sparsify_forward(a, cfg)     # cfg.sparsifier
                M_kept = kept_rows(M, act, alpha.shape[1])          # (B, m, H)
            else:
                (alpha, sp_cache), act, M_kept = softmax_forward(a), None, M
            s = read_forward(alpha, M_kept)                         # §2.4, (B, H)
            s_all[t, ...] = s.T
            h = add_into(h_hat, s, out=u_cols[t + 1, :H, :].T)      # h_t = ĥ_t + s_t
            attn_caches.append((score_cache, act, alpha, sp_cache))
            if record:
                record_attention(rec, t, a, alpha, act)
            if (t + 1) % cfg.k_att == 0:                            # §2.5
                m = memory_value(h, h_hat, cfg)                     # h_t, or an option
                mem.write(m, key_forward(m, params, cfg.scorer))
    h_cols = u_cols[1:, :H, :]                                      # h_t as columns, (T, H, B)
    s_cols = s_all if attend else None
    y_cols = output_forward_cols(h_cols, s_cols, params["W_y"], params["b_y"])  # §2.6, (T, C, B)
    if record:
        rec["c"] = _bth(c_cols[1:, ...])
    # The cache's (B, T, ·) arrays are views of the column arrays.
    cache = {"engine": "fast", "cfg": cfg, "x": x, "hs": _bth(h_cols),
             "ss": _bth(s_all) if attend else None,
             "h_hats": _bth(h_hats if attend else h_cols), "u_cols": u_cols, "s_cols": s_cols,
             "gates": gates, "c_cols": c_cols, "held": held,
             "lstm": StepCaches(u_cols, gates, c_cols, held),
             "attn": attn_caches, "mem": mem if attend else None,
             "record": rec}
    return _bth(y_cols), cache


def _bth(a):
    """Columns of all steps (T, D, B) as the (B, T, D) view that readers of the cache expect."""
    return permute(a, (2, 0, 1))


class StepCaches:
    """``cache["lstm"][t]``: step t's cache as ``minisab.lstm.lstm_step_forward`` returns it,
    ``(h_prev, c_prev, i, f, g, o, tanh_c)``, each (B, H), made on request from the step-major
    arrays; g and tanh_c are recomputed (the forward keeps the gates and c only)."""

    def __init__(self, u_cols, gates, c_cols, held):
        self.u_cols, self.gates, self.c_cols, self.held = u_cols, gates, c_cols, held

    def __len__(self):
        return self.gates.shape[0]

    def __iter__(self):
        return (self[t] for t in range(len(self)))

    def __getitem__(self, t: int):
        if not 0 <= t < len(self):
            raise IndexError(f"step {t} out of range: the sequence has {len(self)} steps")
        H, B = self.c_cols.shape[1], self.c_cols.shape[2]
        h_prev, c_prev = self.held.get(t, (self.u_cols[t, :H, :].T, self.c_cols[t, ...].T))
        gates = self.gates[t, ...].T                                # (B, 4H)
        i, f, _, o = split_gates(gates)
        gates4 = namespace(gates).reshape(self.gates[t, ...], (4, H, B))
        g = cell_candidate(gates4, out=empty((H, B), like=gates)).T  # as the backward does
        tanh_c = namespace(gates).tanh(self.c_cols[t + 1, ...].T)
        return h_prev, c_prev, i, f, g, o, tanh_c


def _rows(buf, n):
    """The first n rows of a step-major (n_max, B, ·) scratch buffer, as a (B, n, ·) view."""
    return None if buf is None else swap01(buf[:n, :, :])


def backward(dy, cache, params, t_start: int | None = None):
    """Backpropagate ``dy = ∂L/∂y`` (B, T, C) under ``cache["cfg"].method``.

    Returns ``(grads, dh)``: ``grads`` has one array per parameter (same keys as ``params``);
    ``dh`` (B, T, H) is the adjoint at each node h_t (what reached it from y_t, step t+1 and
    memory reads). ``t_start`` starts the reverse walk early when ``dy`` is zero after it.
    """
    cfg: Config = cache["cfg"]
    xp = namespace(dy)
    hs, u_cols, mem = cache["hs"], cache["u_cols"], cache["mem"]
    gates, c_cols, held = cache["gates"], cache["c_cols"], cache["held"]
    B, T, H = hs.shape
    gates4 = xp.reshape(gates, (T, 4, H, B))                        # by gate, as in forward
    g_buf, tanh_buf = empty((H, B), like=gates), empty((H, B), like=gates)  # scratch
    W_h = params["W_h"]
    # The output layer on the columns: dh_cols[t] (H, B) starts as ∂L/∂h_t from y_t alone.
    dh_cols, ds_cols, grads = output_backward_cols(permute(dy, (1, 2, 0)), u_cols[1:, :H, :],
                                                   cache["s_cols"], params["W_y"])  # (T, H, B)
    for name in params:
        if name not in grads:
            grads[name] = xp.zeros_like(params[name])
    t_last = check_t_start(t_start, T)                              # None: the last step
    if t_last < T - 1:                                              # steps the walk skips
        dh_cols[t_last + 1:, ...] = 0.0
    dz = empty((4 * H, B), like=gates)                              # ∂L/∂z_t, one step at a time
    dz4 = xp.reshape(dz, (4, H, B))                                 # the same, by gate
    dW = zeros((u_cols.shape[1], 4 * H), like=gates)                # [dW_h; dW_x; db]
    dW_t = empty((u_cols.shape[1], 4 * H), like=gates)
    dh_next, dc_next = None, 0.0                                    # nothing after step T-1
    attend, detach = cfg.uses_attention, cfg.detach_scores
    if attend:
        dM, dK = xp.zeros_like(mem.M), xp.zeros_like(mem.K)          # gradients of memories, keys
    for t in range(t_last, -1, -1):
        dh = dh_cols[t, ...]                                        # becomes h_t's whole adjoint
        if dh_next is not None:
            dh += dh_next                                           # from step t+1
        dh_hat = dh                                                 # h_t = ĥ_t + s_t
        if attend:
            dh_b = dh.T                                             # (B, H) view: dh_b += dh
            if (t + 1) % cfg.k_att == 0:
                # h_t is memory j: every step that read it has been walked already.
                j = (t + 1) // cfg.k_att
                m_t = mem.M[:, j, :]                                # what was written
                dm_key, dparams = key_backward(dK[:, j, :], m_t, mem.K[:, j, :], params,
                                               cfg.scorer)
                _accumulate(grads, dparams)
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
            ds = dh_b + ds_cols[t, ...].T                           # s_t feeds h_t and y_t
            if act is not None:                                     # topk: kept rows only
                M_kept = kept_rows(M, act, alpha.shape[1])
                dalpha, dM_kept = read_backward(ds, alpha, M_kept)
                scatter_add_rows(dM, act[:, :alpha.shape[1]], dM_kept)
                da = sparsify_backward(dalpha, sp_cache, cfg)       # kept (+ threshold)
                dh_q, dK_act, dparams = score_backward(da, gather_rows(K, act), score_cache,
                                                       params, cfg.scorer)
                scatter_add_rows(dK, act, dK_act)
            else:                                                   # softmax: every row
                dalpha, dM_kept = read_backward(ds, alpha, M)
                dM[:, :n, :] += dM_kept
                da = softmax_backward(dalpha, sp_cache)
                dh_q, dK_n, dparams = score_backward(da, K, score_cache, params, cfg.scorer)
                dK[:, :n, :] += dK_n
            _accumulate(grads, dparams)
            if not detach:
                dh_hat = dh_hat + dh_q.T
        gates_t = gates4[t, ...]
        c_prev = held[t][1].T if t in held else c_cols[t, ...]
        g_t = cell_candidate(gates_t, out=g_buf)                    # recomputed, not kept
        tanh_c = tanh_into(c_cols[t + 1, ...], out=tanh_buf)
        _, dc_prev = gates_backward(dh_hat, dc_next, gates_t, g_t, c_prev, tanh_c, dz4)  # dz
        # The weight gradients, step by step (derivations §4): [dW_h; dW_x; db] += u_t dz_tᵀ.
        dW += matmul_into(u_cols[t, ...], dz.T, out=dW_t)
        if t == 0 or cfg.cuts(t):   # docs/model.md §4: (h_{t-1}, c_{t-1}) -> step t is a constant
            dh_next, dc_next = None, 0.0
        else:
            dh_next, dc_next = W_h @ dz, dc_prev                    # ∂L/∂h_{t-1}, ∂L/∂c_{t-1}
    grads["W_h"], grads["W_x"], grads["b"] = stacked_grads(dW, H, u_cols.shape[1] - H - 1)
    return grads, _bth(dh_cols)


def _accumulate(grads, dparams):
    for name, value in dparams.items():
        grads[name] += value          # in place: the arrays are this call's own zeros


