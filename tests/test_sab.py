"""The whole sequence: finite differences of the loss under every method x attention x scorer,
and the identities of docs/model.md §4."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minisab import Config, backward, forward, init_params, loss_and_grads, to_host
from minisab.gradcheck import tie_gaps, truncated_loss

from helpers import assert_close_fd

COMBOS = [(None, "mlp", m) for m in ("bptt", "tbptt")] + \
         [("topk", s, m) for s in ("mlp", "release") for m in ("bptt", "tbptt", "sab")] + \
         [("softmax", s, m) for s in ("mlp", "release") for m in ("bptt", "tbptt")]


def make_problem(backend, cfg, B, T, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    params = init_params(cfg, seed=seed, backend=backend)
    if scale != 1.0:
        params = {k: v * scale for k, v in params.items()}
    x = backend.asarray(rng.normal(size=(B, T, cfg.input_size)))
    if cfg.loss == "xent":
        targets = backend.asarray(rng.integers(0, cfg.output_size, size=(B, T)))
    else:
        targets = backend.asarray(rng.normal(size=(B, T, cfg.output_size)))
    mask = (rng.random((B, T)) < 0.7).astype(float)
    mask[0, -1] = 1.0
    return params, x, targets, backend.asarray(mask)


@pytest.mark.parametrize("attention, scorer, method", COMBOS)
@settings(max_examples=5)
@given(B=st.integers(1, 2), T=st.integers(1, 9), H=st.integers(1, 3), k_top=st.integers(1, 3),
       k_att=st.integers(1, 3), k_trunc=st.integers(1, 4), detach=st.booleans(),
       loss=st.sampled_from(["xent", "mse"]), scale=st.floats(0.5, 3.0),
       seed=st.integers(0, 2**32 - 1))
def test_sequence_gradient_matches_finite_differences(backend, attention, scorer, method, B, T, H,
                                                      k_top, k_att, k_trunc, detach, loss, scale,
                                                      seed):
    cfg = Config(input_size=2, hidden_size=H, output_size=2, attention=attention, scorer=scorer,
                 attn_size=2, k_top=k_top, k_att=k_att, k_trunc=k_trunc, method=method,
                 detach_scores=detach and attention is not None, loss=loss)
    params, x, targets, mask = make_problem(backend, cfg, B, T, seed, scale)
    _, grads, out = loss_and_grads(params, x, targets, cfg, mask, record=True)
    h = 1e-6
    if attention == "topk":   # keep the step far below the smallest tie gap (docs/model.md §4)
        rec = out["cache"]["record"]
        h = min(h, 1e-3 * min(tie_gaps(rec["scores"], rec["n_mem"], k_top).values()))
    f = truncated_loss(params, x, targets, cfg, mask, out["cache"])
    for name in params:
        assert_close_fd(grads[name], f, params[name], h=h)


def _grads(backend, cfg, B=2, T=12, seed=3):
    params, x, targets, mask = make_problem(backend, cfg, B, T, seed)
    _, grads, out = loss_and_grads(params, x, targets, cfg, mask)
    return {k: to_host(v) for k, v in grads.items()}, to_host(out["dh"])


SMALL = dict(input_size=3, hidden_size=4, output_size=3, attn_size=3, k_top=2, k_att=2)


@pytest.mark.parametrize("attention", [None, "topk", "softmax"])
def test_no_cut_within_the_sequence_equals_bptt(backend, attention):
    base = Config(**SMALL, attention=attention, method="bptt")
    exact, _ = _grads(backend, base)
    for method in ("tbptt", "sab") if attention == "topk" else ("tbptt",):
        for k_trunc in (12, 50, None):
            got, _ = _grads(backend, base.replace(method=method, k_trunc=k_trunc))
            for k in exact:
                np.testing.assert_array_equal(got[k], exact[k])


def test_sab_and_tbptt_cut_the_same_edges(backend):
    cfg = Config(**SMALL, attention="topk", method="sab", k_trunc=3)
    g_sab, dh_sab = _grads(backend, cfg)
    g_tb, dh_tb = _grads(backend, cfg.replace(method="tbptt"))
    g_bptt, _ = _grads(backend, cfg.replace(method="bptt"))
    np.testing.assert_array_equal(dh_sab, dh_tb)
    for k in g_sab:
        np.testing.assert_array_equal(g_sab[k], g_tb[k])
    assert any(np.max(np.abs(g_sab[k] - g_bptt[k])) > 1e-8 for k in g_sab)   # the cut matters


def test_sab_k_trunc_1_leaves_only_output_and_memory_credit(backend):
    """docs/model.md §4: with k_trunc=1, dL/dh_t of a state that no step read (never written, or
    written but neither kept nor the threshold anywhere) is exactly its own output's gradient."""
    cfg = Config(**{**SMALL, "k_top": 2, "k_att": 1}, attention="topk", method="sab", k_trunc=1)
    B, T = 3, 14
    params, x, targets, mask = make_problem(backend, cfg, B, T, seed=5)
    from minisab.losses import xent_backward, xent_forward
    y, cache = forward(params, x, cfg)
    dy = xent_backward(xent_forward(y, targets, mask)[1])
    _, dh = backward(dy, cache, params)
    dh_out = to_host(dy) @ to_host(params["W_y"])[:cfg.hidden_size].T     # from y_t alone
    dh = to_host(dh)
    touched = np.zeros((B, T), dtype=bool)             # touched[b, t]: h_t read by a later step
    for _, act, _, _ in cache["attn"]:
        for b, row in enumerate(to_host(act)):
            for j in row:
                if j >= 1:
                    touched[b, j * cfg.k_att - 1] = True
    assert touched.any() and (~touched).any()
    np.testing.assert_array_equal(dh[~touched], dh_out[~touched])
    # (a read at a step whose own gradient is 0, e.g. masked out, sends nothing either)
    assert np.any(np.abs(dh[touched] - dh_out[touched]).max(axis=-1) > 0)


def _single_step_dh(backend, cfg, t, B=2, T=15, seed=7):
    params, x, _, _ = make_problem(backend, cfg, B, T, seed)
    y, cache = forward(params, x, cfg)
    dy = np.zeros(tuple(y.shape))
    dy[:, t, :] = np.random.default_rng(0).normal(size=(B, cfg.output_size))
    _, dh = backward(backend.asarray(dy), cache, params, t_start=t)
    return np.linalg.norm(to_host(dh), axis=(0, 2))     # (T,) credit of each state from L_t


def test_tbptt_gives_exactly_zero_credit_before_the_chunk(backend):
    cfg = Config(**SMALL, attention=None, method="tbptt", k_trunc=4)
    t = 13                                             # chunk [12, 16)
    credit = _single_step_dh(backend, cfg, t)
    assert np.all(credit[:12] == 0.0) and np.all(credit[12:t + 1] > 0)
    credit_bptt = _single_step_dh(backend, cfg.replace(method="bptt"), t)
    assert np.all(credit_bptt[:t + 1] > 0)


def test_sab_credit_crosses_chunks_through_memory(backend):
    cfg = Config(**SMALL, attention="topk", method="sab", k_trunc=4)
    credit = _single_step_dh(backend, cfg, 13)
    assert np.any(credit[:12] > 0)                     # reached only through memory reads
    assert np.all(credit[14:] == 0.0)                  # nothing flows backwards in time
