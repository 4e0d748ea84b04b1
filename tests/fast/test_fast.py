"""The fast engine (minisab/fast/) computes what the reference (minisab/sab.py) computes.

The reference is the model as the equations write it; the engine rearranges the same arithmetic
for speed (columns, stacked gates, in-place writes, recomputation). Rounding differs, so the
two agree to 1e-12 relative in float64, not bit for bit: a test of every option together.
"""
from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings, strategies as st

from minisab import fast, sab
from minisab.backend import to_host
from minisab.config import Config, ConfigError
from minisab.gradcheck import tie_gaps, truncated_loss
from minisab.params import init_params

from helpers import assert_close_fd
from test_sab import make_problem

RTOL = 1e-12


def assert_equal_to_rounding(name, got, want):
    got, want = to_host(got), to_host(want)
    assert got.shape == want.shape, f"{name}: shape {got.shape} != {want.shape}"
    err = float(np.max(np.abs(got - want), initial=0.0))
    bound = RTOL * float(np.max(np.abs(want), initial=0.0)) + 1e-300
    assert err <= bound, f"{name}: max|fast - reference| = {err:.3e} > {bound:.3e}"


@st.composite
def configs(draw):
    attention = draw(st.sampled_from([None, "topk", "softmax"]))
    method = draw(st.sampled_from(["bptt", "tbptt", "sab"] if attention == "topk"
                                  else ["bptt", "tbptt"]))
    kw = dict(input_size=2, hidden_size=draw(st.integers(1, 4)), output_size=2,
              attention=attention, method=method, k_trunc=draw(st.integers(1, 4)),
              loss=draw(st.sampled_from(["xent", "mse"])))
    if attention is not None:
        kw.update(scorer=draw(st.sampled_from(["mlp", "release"])),
                  attn_size=draw(st.integers(1, 3)),
                  k_top=draw(st.integers(1, 3)), k_att=draw(st.integers(1, 3)),
                  detach_scores=draw(st.booleans()),
                  memory_write=draw(st.sampled_from(["h", "h_hat", "tanh_h"])))
    if attention == "topk":
        sparsifier = draw(st.sampled_from(["threshold", "topk_softmax", "topk_sparsemax"]))
        kw.update(sparsifier=sparsifier,
                  temperature=draw(st.floats(0.3, 2.0)) if sparsifier == "topk_softmax" else 1.0)
    try:
        return Config(**kw)
    except ConfigError:                       # a combination the contract refuses
        assume(False)


@settings(max_examples=60)
@given(cfg=configs(), B=st.integers(1, 3), T=st.integers(1, 10), scale=st.floats(0.5, 3.0),
       seed=st.integers(0, 2**32 - 1), t_start=st.integers(0, 9) | st.none())
def test_fast_engine_equals_the_reference(backend, cfg, B, T, scale, seed, t_start):
    """Loss, logits, states, every gradient and the adjoints dh, for every option and method."""
    params, x, targets, mask = make_problem(backend, cfg, B, T, seed, scale)
    y_ref, cache_ref = sab.forward(params, x, cfg, record=True)
    if cfg.attention == "topk":
        # A tie within rounding may select other memories in the two engines: stay away from it.
        rec = cache_ref["record"]
        assume(min(tie_gaps(rec["scores"], rec["n_mem"], cfg.k_top).values()) > 1e-8)
    y_fast, cache_fast = fast.forward(params, x, cfg, record=True)
    for key in ("hs", "h_hats", "ss"):
        if cache_ref[key] is not None:
            assert_equal_to_rounding(key, cache_fast[key], cache_ref[key])
    for key in ("attn", "scores", "c"):
        if key in cache_ref["record"]:
            assert_equal_to_rounding(key, cache_fast["record"][key], cache_ref["record"][key])
    assert_equal_to_rounding("logits", y_fast, y_ref)
    loss_ref, l_cache = sab.loss_forward(y_ref, targets, cfg, mask)
    loss_fast, _ = fast.loss_forward(y_fast, targets, cfg, mask)
    assert_equal_to_rounding("loss", loss_fast, loss_ref)
    dy = sab.LOSSES[cfg.loss].backward(l_cache)
    t_start = None if t_start is None else min(t_start, T - 1)
    g_ref, dh_ref = sab.backward(dy, cache_ref, params, t_start=t_start)
    g_fast, dh_fast = fast.backward(dy, cache_fast, params, t_start=t_start)
    assert sorted(g_fast) == sorted(g_ref) == sorted(params)
    assert_equal_to_rounding("dh", dh_fast, dh_ref)
    for name in params:
        assert_equal_to_rounding("grad " + name, g_fast[name], g_ref[name])


@settings(max_examples=20)
@given(cfg=configs(), T=st.integers(1, 8), seed=st.integers(0, 2**32 - 1))
def test_the_gradient_check_mode_agrees(backend, cfg, T, seed):
    """``forward(constants=...)``, the loss whose exact gradient is the method's (docs/model.md
    §4), is the same function in both engines: equal at a point away from the base point."""
    params, x, targets, mask = make_problem(backend, cfg, 2, T, seed)
    f_ref = truncated_loss(params, x, targets, cfg, mask, engine="reference")
    f_fast = truncated_loss(params, x, targets, cfg, mask, engine="fast")
    params["W_h"] += 0.01                                            # move off the base point
    params["W_y"] *= 1.1
    assert_equal_to_rounding("truncated loss", f_fast(), f_ref())


@settings(max_examples=8)
@given(cfg=configs(), T=st.integers(1, 7), seed=st.integers(0, 2**32 - 1))
def test_fast_engine_gradient_matches_finite_differences(backend, cfg, T, seed):
    """The engine that trains, checked directly against central differences as well."""
    params, x, targets, mask = make_problem(backend, cfg, 2, T, seed)
    _, grads, out = fast.loss_and_grads(params, x, targets, cfg, mask, record=True)
    h = 1e-6
    if cfg.attention == "topk":   # keep the step far below the smallest tie gap (docs/model.md §4)
        rec = out["cache"]["record"]
        h = min(h, 1e-3 * min(tie_gaps(rec["scores"], rec["n_mem"], cfg.k_top).values()))
    f = truncated_loss(params, x, targets, cfg, mask, out["cache"], engine="fast")
    for name in params:
        assert_close_fd(grads[name], f, params[name], h=h)


def test_fast_step_caches_are_the_reference_step_caches(backend):
    """``cache["lstm"][t]`` of the fast engine rebuilds the reference step's cache
    ``(h_prev, c_prev, i, f, g, o, tanh_c)`` from its column arrays."""
    import pytest

    cfg = Config(input_size=3, hidden_size=4, output_size=2, attn_size=3, k_top=2, k_att=2,
                 k_trunc=3)
    params = init_params(cfg, seed=1, backend=backend)
    x = backend.asarray(np.random.default_rng(1).normal(size=(2, 7, 3)))
    ref, got = sab.forward(params, x, cfg)[1]["lstm"], fast.forward(params, x, cfg)[1]["lstm"]
    assert len(got) == len(ref) == 7 and len(list(got)) == 7
    with pytest.raises(IndexError):
        got[7]
    for t in range(7):
        for name, a, b in zip(("h_prev", "c_prev", "i", "f", "g", "o", "tanh_c"), got[t], ref[t],
                              strict=True):
            assert_equal_to_rounding(f"step {t}: {name}", a, b)
