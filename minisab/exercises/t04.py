"""Checkers of tutorial 4 (sparse attentive backtracking): a prediction of BPTT's replay, a SAB
configuration that is BPTT, following the credit by hand, SAB's memory-gradient bookkeeping
(checked inside a reverse walk against ``sab.backward``), and "SAB in one screen" (checked
against ``minisab.loss_and_grads``, see ``t04_screen``)."""
from __future__ import annotations

import numpy as np

from ..attention import kept_rows, read_backward, score_backward, topk_backward
from ..backend import gather_rows, scatter_add_rows
from ..config import Config
from ..losses import output_backward
from ..lstm import lstm_step_backward
from ..params import init_params
from ..sab import backward, forward, loss_and_grads
from ._verdict import NotDone, call, close, exercise
from .t04_screen import check_sab_in_one_screen  # noqa: F401  (exercise 4.5)


@exercise("4.2 (predict: BPTT's replay)")
def check_bptt_replay(bptt_replay):
    """``bptt_replay(T)`` against ``flow.backward_work(...)["per_loss"]`` of a plain LSTM."""
    from ..flow import backward_work
    for T in (1, 2, 5, 13, 30):
        cfg = Config(input_size=2, hidden_size=3, output_size=2, attention=None, method="bptt")
        _, cache = forward(init_params(cfg), np.zeros((1, T, 2)), cfg)
        want = backward_work(cache)["per_loss"]
        got = call(bptt_replay, T)
        assert got is not None, "return a number"
        hint = "loss step t replays the t recurrent edges h_t -> h_{t-1} -> ... -> h_0"
        if abs(float(got) - T * (T + 1) / 2) < 1e-9:
            hint = "you counted states (t + 1 for step t), not the edges between them (t)"
        elif abs(float(got) - T * T / 2) < 1e-9 or abs(float(got) - T * T) < 1e-9:
            hint += "; sum t over t = 0 .. T-1 exactly"
        assert abs(float(got) - want) < 1e-9, f"bptt_replay({T}) = {got}, measured {want:g} -> {hint}"
    return "T(T-1)/2: quadratic in the sequence length."


@exercise("4.1 (predict: a SAB configuration that is BPTT)")
def check_sab_like_bptt(sab_like_bptt):
    """The returned config keeps ``method="sab"`` and gives BPTT's gradient for sequences of
    ANY length: ``k_trunc=None`` (no cut). A large finite ``k_trunc`` (10**9) is refused: it
    still cuts at step k_trunc, so it is BPTT only for the lengths one happened to try."""
    cfg = Config(input_size=3, hidden_size=4, output_size=3, attention="topk", attn_size=3,
                 k_top=2, k_att=2, method="sab", k_trunc=3)
    new = call(sab_like_bptt, cfg)
    assert isinstance(new, Config), "return a Config (cfg.replace(...))"
    assert new.method == "sab", f"keep method='sab' (got {new.method!r})"
    same = {k: getattr(cfg, k) for k in ("attention", "k_top", "k_att", "hidden_size", "scorer",
                                         "detach_scores", "memory_write")}
    changed = sorted(k for k, v in same.items() if getattr(new, k) != v)
    assert not changed, f"change only the truncation (you changed {changed})"
    assert new.k_trunc is None, (
        f"k_trunc={new.k_trunc} still cuts the recurrent edge into step {new.k_trunc}: for "
        "sequences longer than that the gradient is not BPTT's. 'Any length' means no cut at "
        "all: SAB differs from BPTT only by the cut recurrent edges (docs/model.md §4).")
    rng = np.random.default_rng(42)
    params = init_params(cfg, seed=4)
    for T in (3, 17):
        x, tg = rng.normal(size=(2, T, 3)), rng.integers(0, 3, size=(2, T))
        _, g, _ = loss_and_grads(params, x, tg, new)
        _, g_b, _ = loss_and_grads(params, x, tg, cfg.replace(method="bptt"))
        for k in g:
            close(f"gradient of {k} at T={T}", g[k], g_b[k], tol=1e-10, atol=1e-14)
    return "No cut, no truncation: SAB's backward is BPTT's."


@exercise("4.3 (follow the credit)")
def check_states_reached(states_reached):
    """``states_reached(cache, b, t)`` against the non-zero pattern of the per-sequence credit
    matrix ``flow.credit_matrix(..., per_example=True)``."""
    from ..flow import credit_matrix
    rng = np.random.default_rng(43)
    for k_top, k_att, k_trunc in ((2, 2, 3), (3, 1, 4), (1, 3, 2)):
        cfg = Config(input_size=3, hidden_size=5, output_size=3, attention="topk", attn_size=4,
                     k_top=k_top, k_att=k_att, method="sab", k_trunc=k_trunc)
        G, _, cache = credit_matrix(init_params(cfg, seed=k_top), rng.normal(size=(3, 16, 3)),
                                    cfg, per_example=True)                 # (B, T, T)
        for b in range(3):
            for t in (15, 11, 6):
                want = set(np.nonzero(G[b, t] > 0)[0].tolist())
                got = call(states_reached, cache, b, t)
                assert got is not None, "return a list of states"
                got = {int(s) for s in got}
                where = (f"k_top={k_top}, k_att={k_att}, k_trunc={k_trunc}, sequence {b}, loss "
                         f"step {t}: you found {sorted(got)}, the credit matrix has {sorted(want)}")
                if got - want:
                    raise AssertionError(
                        f"{where}. Too many: states {sorted(got - want)} get no credit. Did you "
                        "cross a cut recurrent edge (cfg.cuts(u): the edge into step u is cut), "
                        "follow reads of a step that is not itself reached, or count a read of "
                        "the null memory alone (a zero vector: nothing flows)?")
                assert not want - got, (
                    f"{where}. Missing {sorted(want - got)}: did you include the threshold "
                    "memory (the last entry of act when n_u > k_top), and the reads made by the "
                    "memories' own chunks (a reached memory's step reads memories too)?")
    return "Credit hops: chunk, memory read, chunk, ... exactly as the backward walks."


def _walk(dy, cache, params, add_credit):
    """sab.backward's reverse walk (topk, memory_write="h") with the memory bookkeeping left
    to ``add_credit``; returns dH (B, T, H). Only what the exercise needs: no weight grads."""
    cfg, mem, hs, ss = cache["cfg"], cache["mem"], cache["hs"], cache["ss"]
    B, T, H = hs.shape
    dh_out, ds_out, _ = output_backward(dy, hs, ss, params["W_y"])
    dM, dK, dH = np.zeros_like(mem.M), np.zeros_like(mem.K), np.zeros((B, T, H))
    dh_next, dc_next = np.zeros((B, H)), np.zeros((B, H))
    for t in range(T - 1, -1, -1):
        dh = call(add_credit, t, dh_out[:, t] + dh_next, dM.copy(), dK.copy(),
                  mem.M.copy(), mem.K.copy(), params, cfg)
        if dh is None:
            raise NotDone
        dH[:, t] = dh
        score_cache, act, alpha, sp_cache = cache["attn"][t]
        n, m = 1 + t // cfg.k_att, alpha.shape[1]
        dalpha, dM_kept = read_backward(dh + ds_out[:, t], alpha, kept_rows(mem.M[:, :n], act, m))
        scatter_add_rows(dM, act[:, :m], dM_kept)                # through s_t = Σ α_j m_j
        dh_q, dK_act, _ = score_backward(topk_backward(dalpha, sp_cache),
                                         gather_rows(mem.K[:, :n], act), score_cache, params,
                                         cfg.scorer)
        scatter_add_rows(dK, act, dK_act)                        # through the scores' keys
        _, dh_next, dc_next = lstm_step_backward(dh + dh_q, dc_next, cache["lstm"][t],
                                                 params["W_h"])
        if cfg.cuts(t):
            dh_next, dc_next = 0.0 * dh_next, 0.0 * dc_next
    return dH


def _bookkeeping(t, dh, dM, dK, M, K, params, cfg, key=True, j_offset=0):
    from ..attention import key_backward
    if (t + 1) % cfg.k_att != 0:
        return dh
    j = (t + 1) // cfg.k_att + j_offset
    dm_key = key_backward(dK[:, j], M[:, j], K[:, j], params, cfg.scorer)[0] if key else 0.0
    return dh + dM[:, j] + dm_key


@exercise("4.4 (SAB's memory-gradient bookkeeping)")
def check_memory_credit(add_memory_credit):
    """``add_memory_credit(t, dh, dM, dK, M, K, params, cfg) -> dh`` plugged into the reverse
    walk of ``sab.backward``: the adjoints dH must be those of ``sab.backward``."""
    for k_att, k_top, T in ((2, 2, 11), (3, 1, 13)):
        cfg = Config(input_size=3, hidden_size=5, output_size=3, attention="topk", attn_size=4,
                     k_top=k_top, k_att=k_att, method="sab", k_trunc=3)
        params = init_params(cfg, seed=k_att, forget_bias=1.0)
        rng = np.random.default_rng(44 + k_att)
        x, dy = rng.normal(size=(2, T, 3)), rng.normal(size=(2, T, 3))
        _, cache = forward(params, x, cfg)
        want = backward(dy, cache, params)[1]
        got = _walk(dy, cache, params, add_memory_credit)
        close(f"dH with k_att={k_att}, k_top={k_top}", got, want, tol=1e-9, known_wrong=(
            (_walk(dy, cache, params, lambda *a: a[1]), "you added nothing: the state h_t that "
             "was written as memory j = (t+1) // k_att gets credit from every later read of it"),
            (_walk(dy, cache, params, lambda *a: _bookkeeping(*a, key=False)), "you added what "
             "the reads sent through the summaries (dM) but not through the scores: each read "
             "also differentiates a_j = w_s·tanh(q + m_j W_m) with respect to m_j, collected in "
             "dK[:, j]; key_backward turns it into a gradient of m_j"),
            (_walk(dy, cache, params, lambda *a: _bookkeeping(*a, j_offset=-1)), "off by one: "
             "h_t is written after step t when (t + 1) % k_att == 0, as memory j = (t+1) // k_att "
             "(memory 0 is the null memory)"),))
    return "Every read of a memory sends its credit back to the state that was written."
