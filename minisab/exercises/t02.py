"""Checkers of tutorial 2 (BPTT and its truncation): the reverse loop of BPTT over a sequence,
the same loop truncated, the credit reach of a credit matrix, and a prediction of how far
truncated credit reaches. The loops are compared with ``minisab.sab.backward``."""
from __future__ import annotations

import numpy as np

from ..config import Config
from ..lstm import input_projection_backward, lstm_step_backward
from ..params import init_params
from ..sab import backward, forward
from ._verdict import call, close, exercise, is_close


def _reverse_walk(dh_out, caches, W_h, cut=lambda t: False, cut_c=True, use_c=True,
                  use_next=True):
    """Reference loop with switches that reproduce the usual mistakes."""
    B, T, H = dh_out.shape
    dH, dZ = np.zeros((B, T, H)), np.zeros((B, T, 4 * H))
    dh_next, dc_next = np.zeros((B, H)), np.zeros((B, H))
    for t in range(T - 1, -1, -1):
        dh = dh_out[:, t] + (dh_next if use_next else 0.0)
        dH[:, t] = dh
        dz, dh_next, dc_next = lstm_step_backward(dh, dc_next if use_c else 0.0 * dc_next,
                                                  caches[t], W_h)
        dZ[:, t] = dz
        if cut(t):
            dh_next = 0.0 * dh_next
            dc_next = 0.0 * dc_next if cut_c else dc_next
    return dH, dZ


def _lstm_problem(seed, T, k_trunc=None):
    method = "bptt" if k_trunc is None else "tbptt"
    cfg = Config(input_size=3, hidden_size=5, output_size=3, attention=None, method=method,
                 k_trunc=k_trunc)
    params = init_params(cfg, seed=seed, forget_bias=1.0)
    rng = np.random.default_rng(seed)
    x, dy = rng.normal(size=(2, T, 3)), rng.normal(size=(2, T, 3))
    _, cache = forward(params, x, cfg)
    grads, dH = backward(dy, cache, params)
    dh_out = dy @ params["W_y"].T                          # y_t = h_t W_y + b_y
    return cfg, params, x, cache, grads, dH, dh_out


def _check_loop(fn, k_trunc, mistakes):
    for seed, T in ((0, 7), (1, 12)):
        cfg, params, x, cache, grads, dH, dh_out = _lstm_problem(seed, T, k_trunc)
        args = (dh_out.copy(), list(cache["lstm"]), params["W_h"])
        out = call(fn, *args, *(() if k_trunc is None else (k_trunc,)))
        assert isinstance(out, tuple) and len(out) == 2, "return the pair (dH, dZ)"
        for kw, hint in mistakes:
            wrong = _reverse_walk(dh_out, cache["lstm"], params["W_h"], **kw)
            if all(is_close(o, w, 1e-8) for o, w in zip(out, wrong)) and not is_close(
                    wrong[0], dH, 1e-8):
                raise AssertionError(hint)
        where = f"T={T}" + ("" if k_trunc is None else f", k_trunc={k_trunc}")
        close(f"dH ({where}): the adjoint at each h_t", out[0], dH, tol=1e-9)
        dW_x, db = input_projection_backward(np.asarray(out[1]), x)
        close(f"dZ ({where}), seen through dW_x = sum_t x_t^T dz_t", dW_x, grads["W_x"], tol=1e-9)
        close(f"dZ ({where}), seen through db = sum_t dz_t", db, grads["b"], tol=1e-9)


_BPTT_MISTAKES = (
    (dict(use_c=False), "the cell carries credit too: pass dc_next (the dc_prev of step t+1) "
     "to the step backward of step t. Without it the LSTM's long path, dc_{t-1} = dc_t * f, "
     "is gone and credit vanishes as in a plain RNN."),
    (dict(use_next=False), "the adjoint of h_t is dh_out[:, t] PLUS dh_prev returned by step "
     "t+1's backward: h_t feeds the next step as well as its own output."),
)


@exercise("2.2 (the reverse loop of BPTT)")
def check_bptt_loop(my_bptt):
    """``my_bptt(dh_out, lstm_caches, W_h) -> (dH, dZ)`` against ``sab.backward`` of a plain
    LSTM: ``dH`` (B, T, H) the adjoint at every h_t, ``dZ`` (B, T, 4H) every step's dz."""
    _check_loop(my_bptt, None, _BPTT_MISTAKES)
    return "Your loop gives sab.backward's adjoints: this is BPTT."


@exercise("2.3 (truncated BPTT)")
def check_tbptt_loop(my_tbptt):
    """``my_tbptt(dh_out, lstm_caches, W_h, k_trunc) -> (dH, dZ)`` against ``sab.backward``
    under ``method="tbptt"`` (docs/model.md §4)."""
    for k in (3, 4):
        def cuts(t, k=k):
            return t >= 1 and t % k == 0
        _check_loop(my_tbptt, k, _BPTT_MISTAKES + (
            (dict(), f"you did not cut anything: that is full BPTT. Under truncation "
             f"(k_trunc={k}) the edge (h_{{t-1}}, c_{{t-1}}) -> step t is a constant for every "
             "t >= 1 with t % k_trunc == 0: what step t sends back to t-1 must be dropped."),
            (dict(cut=cuts, cut_c=False), "you cut h but not c: the recurrent edge carries the "
             "pair (h_{t-1}, c_{t-1}); drop both dh_prev and dc_prev at a cut."),
            (dict(cut=lambda t, k=k: (t + 1) % k == 0), "off by one: the cut is the edge INTO "
             "step t when t % k_trunc == 0 (t >= 1), so chunks are [0, k), [k, 2k), ...; you "
             "cut the edge out of step t instead."),
))
    return "Your loop gives sab.backward's truncated adjoints: chunks with exact zeros between."


@exercise("2.4 (credit reach)")
def check_credit_reach(my_credit_reach):
    """``my_credit_reach(G, threshold)`` against ``flow.credit_reach``."""
    from ..flow import credit_reach
    rng = np.random.default_rng(22)
    for _ in range(3):
        T = 9
        G = np.tril(np.exp(rng.normal(scale=4, size=(T, T))))
        G[rng.integers(T)] = 0.0                                  # a step without a loss
        G[rng.random((T, T)) < 0.2] = 0.0
        got = call(my_credit_reach, G, 1e-3)
        want = credit_reach(G, 1e-3)
        got = np.asarray(got)
        hint = ""
        if got.shape == want.shape and np.array_equal(np.where(want < 0, 0, want),
                                                      np.where(got < 0, 0, got)):
            hint = " -> a row that is all zero has no reach at all: return -1 there"
        assert got.shape == want.shape and np.array_equal(got, want), (
            f"reach {got.tolist()}, expected {want.tolist()}{hint}")
    return "Same as flow.credit_reach."


@exercise("2.1 (predict: how far truncated credit reaches)")
def check_tbptt_max_lag(tbptt_max_lag):
    """``tbptt_max_lag(t, k_trunc)`` against the non-zero pattern of measured credit matrices."""
    from ..flow import credit_matrix
    rng = np.random.default_rng(23)
    T = 13
    x = rng.normal(size=(2, T, 3))
    for k in (1, 3, 5):
        cfg = Config(input_size=3, hidden_size=5, output_size=2, attention=None,
                     method="tbptt", k_trunc=k)
        G, _, _ = credit_matrix(init_params(cfg, seed=1), x, cfg)
        for t in range(T):
            measured = t - int(np.nonzero(G[t] > 0)[0].min())
            got = call(tbptt_max_lag, t, k)
            if got == k - 1 and measured != k - 1:
                raise AssertionError(
                    f"tbptt_max_lag({t}, {k}) = {got}: that is the largest lag of any step, but "
                    "chunks are aligned ([0, k), [k, 2k), ...), so a step early in its chunk "
                    "reaches less far")
            assert got == measured, (f"tbptt_max_lag({t}, {k}) = {got}, but the credit matrix "
                                     f"has non-zero credit up to lag {measured}")
    return "Loss step t reaches back to the start of its chunk: lag t mod k_trunc."
