"""Checkers of tutorial 2 (BPTT and its truncation): a prediction of how far truncated credit
reaches, the reverse loop of BPTT, the same loop truncated, and the credit reach of a credit
matrix. The expected adjoints were made by ``minisab.backward`` (``_answers``); the usual
mistakes of the loops are recognised and named."""
from __future__ import annotations

import numpy as np

from ..lstm import lstm_step_backward, lstm_step_forward
from ._answers import load, mistakes, pick
from ._verdict import call, close, exercise, is_close, which_mistake

LOOP_HINTS = {
    "no_dc": "the cell carries credit too: pass dc_next (the dc_prev of step t+1) to the step "
             "backward of step t. Without it the LSTM's long path, dc_{t-1} = dc_t * f, is gone "
             "and credit vanishes as in a plain RNN.",
    "no_dh_next": "the adjoint of h_t is dh_out[:, t] PLUS dh_prev returned by step t+1's "
                  "backward: h_t feeds the next step as well as its own output.",
    "skip_t0": "you skipped t = 0: range(T - 1, 0, -1) stops at 1. The walk must include "
               "step 0 (range(T - 1, -1, -1)): its state has an output too.",
    "forward_order": "your loop runs forward in time (t = 0, 1, ...). The credit of h_t "
                     "comes from step t+1, which must be walked first: t = T-1, ..., 0.",
    "no_cut": "you did not cut anything: that is full BPTT. Under truncation the edge "
              "(h_{t-1}, c_{t-1}) -> step t is a constant for every t >= 1 with "
              "t % k_trunc == 0: what step t sends back to t-1 must be dropped.",
    "cut_h_only": "you cut h but not c: the recurrent edge carries the pair (h_{t-1}, "
                  "c_{t-1}); drop both dh_prev and dc_prev at a cut.",
    "cut_c_only": "you cut c but not h: the recurrent edge carries the pair (h_{t-1}, "
                  "c_{t-1}); drop both dh_prev and dc_prev at a cut.",
    "cut_late": "the cut is one step off: you cut the edge out of step t when "
                "(t + 1) % k_trunc == 0. The cut is the edge INTO step t when t % k_trunc == 0 "
                "(t >= 1), so the chunks are [0, k), [k, 2k), ...",
    "cut_early": "the cut is one step off: you cut the edge into step t + 1 for t % k_trunc "
                 "== 0. The cut is the edge INTO step t when t % k_trunc == 0 (t >= 1): "
                 "after step t's backward, drop what it sends to step t-1.",
    "end_aligned": "your chunks are aligned to the end of the sequence ((T - t) % k_trunc). "
                   "docs/model.md §4 aligns them to the start: the cuts are before steps k, 2k, "
                   "3k, ... whatever T is, so the last chunk may be short.",
}


def lstm_problem(seed, T, B=2, I=3, H=5, C=3):
    """A plain LSTM (random weights, forget bias 1), a batch ``x`` (B, T, I) and an output
    gradient ``dy`` (B, T, C); the step caches from minisab's ``lstm_step_forward``."""
    rng = np.random.default_rng(seed)
    p = {"W_x": rng.normal(size=(I, 4 * H)) / np.sqrt(I),
         "W_h": rng.normal(size=(H, 4 * H)) / np.sqrt(H),
         "b": np.concatenate([np.zeros(H), np.ones(H), np.zeros(2 * H)]),
         "W_y": rng.normal(size=(H, C)) / np.sqrt(H), "b_y": np.zeros(C)}
    x, dy = rng.normal(size=(B, T, I)), rng.normal(size=(B, T, C))
    zx = x @ p["W_x"] + p["b"]
    h, c = np.zeros((B, H)), np.zeros((B, H))
    caches, hs = [], []
    for t in range(T):
        h, c, cache = lstm_step_forward(zx[:, t], h, c, p["W_h"])
        caches.append(cache)
        hs.append(h)
    return {"params": p, "x": x, "dy": dy, "caches": caches, "hs": np.stack(hs, axis=1),
            "dh_out": dy @ p["W_y"].T}


LOOP_CASES = {"2.2": [(0, 7, None), (1, 12, None)],
              "2.3": [(0, 7, 3), (1, 12, 3), (0, 7, 4), (1, 12, 4)]}


def problems_loop(label):
    """``(problem, args)`` of exercise 2.2 or 2.3; args ``(dh_out, lstm_caches, W_h[, k])``."""
    out = []
    for seed, T, k in LOOP_CASES[label]:
        pr = lstm_problem(seed, T)
        args = (pr["dh_out"].copy(), list(pr["caches"]), pr["params"]["W_h"].copy())
        out.append((pr, args + (() if k is None else (k,))))
    return out


def _implied_grads(dZ, pr):
    """The weight gradients a dZ (B, T, 4H) implies: dW_x = Σ x_tᵀ dz_t, db = Σ dz_t,
    dW_h = Σ h_{t-1}ᵀ dz_t (h_{-1} = 0)."""
    dZ = np.asarray(dZ, dtype=float)
    h_prev = np.concatenate([np.zeros_like(pr["hs"][:, :1]), pr["hs"][:, :-1]], axis=1)
    return {"W_x": np.einsum("bti,btg->ig", pr["x"], dZ), "b": dZ.sum(axis=(0, 1)),
            "W_h": np.einsum("bth,btg->hg", h_prev, dZ)}


def _check_loop(fn, label):
    cases = problems_loop(label)
    outs = [call(fn, *args) for _, args in cases]
    key = load("t02")
    for k, ((pr, _args), out) in enumerate(zip(cases, outs)):
        assert isinstance(out, tuple) and len(out) == 2, "return the pair (dH, dZ)"
        seed, T, kt = LOOP_CASES[label][k]
        where = f"T={T}" + ("" if kt is None else f", k_trunc={kt}")
        want = pick(key, f"{label}/{k}")
        if not is_close(out[0], want["dH"], 1e-9):
            name = which_mistake(out[:1], mistakes(key, f"{label}/{k}"), ("dH",), 1e-8)
            assert name is None, f"{where}: {LOOP_HINTS[name]}"
        close(f"dH ({where}): the adjoint at each h_t", out[0], want["dH"], tol=1e-9)
        dZ = np.asarray(out[1])
        want_shape = pr["dy"].shape[:2] + (pr["params"]["W_h"].shape[1],)
        assert dZ.shape == want_shape, f"dZ ({where}): shape {dZ.shape}, expected {want_shape}"
        for name, g in _implied_grads(dZ, pr).items():
            close(f"dZ ({where}), seen through d{name}", g, want[name], tol=1e-9)


@exercise("2.2", "the reverse loop of BPTT", answers=("my_bptt",), points=3,
          allowed=(lstm_step_backward,), hands_out="it hands out lstm_step_backward only "
          "(a sequence backward such as minisab.backward is the answer).")
def check_bptt_loop(my_bptt):
    """``my_bptt(dh_out, lstm_caches, W_h) -> (dH, dZ)``: ``dH`` (B, T, H) the adjoint at every
    h_t, ``dZ`` (B, T, 4H) every step's dz, as ``minisab.backward`` gives them."""
    _check_loop(my_bptt, "2.2")
    return "Your loop gives minisab.backward's adjoints: this is BPTT."


@exercise("2.3", "truncated BPTT", answers=("my_tbptt",), points=2,
          allowed=(lstm_step_backward,), hands_out="it hands out lstm_step_backward only.")
def check_tbptt_loop(my_tbptt):
    """``my_tbptt(dh_out, lstm_caches, W_h, k_trunc) -> (dH, dZ)`` as ``minisab.backward``
    gives them under ``method="tbptt"`` (docs/model.md §4)."""
    _check_loop(my_tbptt, "2.3")
    return "Your loop gives truncated adjoints: chunks with exact zeros between."


def problems_reach():
    """Exercise 2.4's credit matrices G (T, T): random, with a row of zeros and holes."""
    rng = np.random.default_rng(22)
    out = []
    for _ in range(3):
        T = 9
        G = np.tril(np.exp(rng.normal(scale=4, size=(T, T))))
        G[rng.integers(T)] = 0.0                                  # a step without a loss
        G[rng.random((T, T)) < 0.2] = 0.0
        out.append(G)
    return out


@exercise("2.4", "credit reach", answers=("my_credit_reach",), points=1)
def check_credit_reach(my_credit_reach):
    """``my_credit_reach(G, threshold)`` as ``flow.credit_reach`` gives it."""
    outs = [call(my_credit_reach, G, 1e-3) for G in problems_reach()]
    key = load("t02")
    for k, got in enumerate(outs):
        want = key[f"2.4/{k}/reach"]
        got = np.asarray(got)
        hint = ""
        if got.shape == want.shape and np.array_equal(np.where(want < 0, 0, want),
                                                      np.where(got < 0, 0, got)):
            hint = " -> a row that is all zero has no reach at all: return -1 there"
        assert got.shape == want.shape and np.array_equal(got, want), (
            f"reach {got.tolist()}, expected {want.tolist()}{hint}")
    return "Same as flow.credit_reach."


MAX_LAG_CASES = {"k_trunc": (1, 3, 5), "T": 13}


@exercise("2.1", "predict: how far truncated credit reaches", answers=("tbptt_max_lag",))
def check_tbptt_max_lag(tbptt_max_lag):
    """``tbptt_max_lag(t, k_trunc)`` against the non-zero pattern of measured credit matrices."""
    ks, T = MAX_LAG_CASES["k_trunc"], MAX_LAG_CASES["T"]
    got = [[call(tbptt_max_lag, t, k) for t in range(T)] for k in ks]
    measured = load("t02")["2.1/lag"]                          # (len(ks), T)
    for i, k in enumerate(ks):
        for t in range(T):
            g, want = got[i][t], int(measured[i, t])
            assert isinstance(g, (int, np.integer)) and not isinstance(g, bool), (
                f"tbptt_max_lag({t}, {k}) returned {g!r}: return an int")
            if g == k - 1 and want != k - 1:
                raise AssertionError(
                    f"tbptt_max_lag({t}, {k}) = {g}: that is the largest lag of any step, but "
                    "chunks are aligned ([0, k), [k, 2k), ...), so a step early in its chunk "
                    "reaches less far")
            assert g == want, (f"tbptt_max_lag({t}, {k}) = {g}, but the credit matrix has "
                               f"non-zero credit up to lag {want}")
    return "Loss step t reaches back to the start of its chunk: lag t mod k_trunc."
