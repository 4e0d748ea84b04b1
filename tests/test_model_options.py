"""Model options beyond the paper, docs/model.md §6 (docs/make_sab_learn.md): finite differences and identities.

``memory_write="h_hat"`` writes the provisional state ĥ_t to memory instead of h_t = ĥ_t + s_t.
Its gradient must match finite differences of the (method-truncated) loss under every method,
attention and scorer, and the default must stay docs/model.md's model.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minisab import Config, forward, loss_and_grads, to_host
from minisab.config import ConfigError
from minisab.gradcheck import tie_gaps, truncated_loss

from helpers import assert_close_fd
from test_sab import make_problem

COMBOS = [("topk", s, m) for s in ("mlp", "release") for m in ("bptt", "tbptt", "sab")] + \
         [("softmax", s, m) for s in ("mlp", "release") for m in ("bptt", "tbptt")]


def test_default_is_model_md():
    assert Config().memory_write == "h"


def test_bad_memory_write_names_the_field_and_values():
    with pytest.raises(ConfigError, match=r"memory_write='s'.*'h', 'h_hat', 'tanh_h'"):
        Config(memory_write="s")


@pytest.mark.parametrize("write", ["h_hat", "tanh_h"])
@pytest.mark.parametrize("attention, scorer, method", COMBOS)
@settings(max_examples=3)
@given(B=st.integers(1, 2), T=st.integers(2, 9), H=st.integers(1, 3), k_top=st.integers(1, 3),
       k_att=st.integers(1, 3), k_trunc=st.integers(1, 4), detach=st.booleans(),
       scale=st.floats(0.5, 3.0), seed=st.integers(0, 2**32 - 1))
def test_memory_write_gradient_matches_finite_differences(backend, write, attention, scorer,
                                                         method, B, T, H, k_top, k_att, k_trunc,
                                                         detach, scale, seed):
    cfg = Config(input_size=2, hidden_size=H, output_size=2, attention=attention, scorer=scorer,
                 attn_size=2, k_top=k_top, k_att=k_att, k_trunc=k_trunc, method=method,
                 detach_scores=detach, memory_write=write)
    params, x, targets, mask = make_problem(backend, cfg, B, T, seed, scale)
    _, grads, out = loss_and_grads(params, x, targets, cfg, mask, record=True)
    h = 1e-6
    if attention == "topk":   # keep the step far below the smallest tie gap (docs/model.md §4)
        rec = out["cache"]["record"]
        h = min(h, 1e-3 * min(tie_gaps(rec["scores"], rec["n_mem"], k_top).values()))
    f = truncated_loss(params, x, targets, cfg, mask, out["cache"])
    for name in params:
        assert_close_fd(grads[name], f, params[name], h=h)


def test_h_hat_write_stores_the_provisional_state(backend):
    cfg = Config(input_size=2, hidden_size=3, output_size=2, attn_size=2, k_top=2, k_att=2,
                 k_trunc=3, memory_write="h_hat")
    params, x, _, _ = make_problem(backend, cfg, 2, 8, 5, scale=2.0)
    _, cache = forward(params, x, cfg)
    M, h_hats, hs = to_host(cache["mem"].M), to_host(cache["h_hats"]), to_host(cache["hs"])
    assert np.array_equal(M[:, 1:, :], h_hats[:, 1::2, :])       # memory j = ĥ at t = 2j − 1
    assert not np.allclose(M[:, 1:, :], hs[:, 1::2, :])          # ... and not h_t = ĥ_t + s_t


def test_tanh_h_write_stores_tanh_of_the_state(backend):
    cfg = Config(input_size=2, hidden_size=3, output_size=2, attn_size=2, k_top=2, k_att=1,
                 k_trunc=3, memory_write="tanh_h")
    params, x, _, _ = make_problem(backend, cfg, 2, 6, 5, scale=2.0)
    _, cache = forward(params, x, cfg)
    M, hs = to_host(cache["mem"].M), to_host(cache["hs"])
    np.testing.assert_allclose(M[:, 1:, :], np.tanh(hs), rtol=1e-15, atol=0)


@pytest.mark.parametrize("write", ["h_hat", "tanh_h"])
def test_bounded_writes_bound_the_state(backend, write):
    """|ĥ| < 1, and s is a convex combination of memories, so |h| = |ĥ + s| < 2 at any length,
    while docs/model.md's default write lets |h| grow along the sequence."""
    base = Config(input_size=2, hidden_size=4, output_size=2, attn_size=3, k_top=2, k_att=1,
                  k_trunc=5)
    sizes = {}
    for w in ("h", write):
        cfg = base.replace(memory_write=w)
        params, x, _, _ = make_problem(backend, cfg, 2, 60, 11, scale=3.0)
        params["b"] = params["b"] + 3.0       # saturated gates: ĥ near ±1 at every step
        _, cache = forward(params, x, cfg)
        sizes[w] = float(np.max(np.abs(to_host(cache["hs"]))))
    assert sizes[write] < 2.0
    assert sizes["h"] > 2.0 * sizes[write]
