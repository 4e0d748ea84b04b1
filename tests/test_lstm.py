"""LSTM step and input projection: backward against central finite differences (float64)."""
from __future__ import annotations

import numpy as np
from hypothesis import given, strategies as st

from minisab.lstm import (input_projection, input_projection_backward, lstm_step_backward,
                          lstm_step_forward, sigmoid)
from minisab.backend import to_host

from helpers import assert_close_fd, weighted_sum

sizes = st.tuples(st.integers(1, 3), st.integers(1, 4))       # (B, H)


@given(sizes, st.integers(0, 2**32 - 1), st.floats(0.1, 3.0))
def test_lstm_step_backward(backend, BH, seed, scale):
    B, H = BH
    rng = np.random.default_rng(seed)
    xp = backend.xp
    arr = lambda *s: backend.asarray(scale * rng.normal(size=s))   # noqa: E731
    zx, h_prev, c_prev, W_h = arr(B, 4 * H), arr(B, H), arr(B, H), arr(H, 4 * H)
    Wh_out, Wc_out = arr(B, H), arr(B, H)          # f = Σ Wh ⊙ ĥ + Σ Wc ⊙ c

    def f():
        h_hat, c, _ = lstm_step_forward(zx, h_prev, c_prev, W_h)
        return weighted_sum(xp, h_hat, Wh_out) + weighted_sum(xp, c, Wc_out)

    _, _, cache = lstm_step_forward(zx, h_prev, c_prev, W_h)
    dz, dh_prev, dc_prev = lstm_step_backward(Wh_out, Wc_out, cache, W_h)
    assert_close_fd(dz, f, zx)
    assert_close_fd(dh_prev, f, h_prev)
    assert_close_fd(dc_prev, f, c_prev)
    assert_close_fd(h_prev.T @ dz, f, W_h)         # dW_h = h_prevᵀ dz (summed by the driver)


@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_input_projection_backward(backend, B, T, I, seed):
    rng = np.random.default_rng(seed)
    H = 2
    x = backend.asarray(rng.normal(size=(B, T, I)))
    W_x = backend.asarray(rng.normal(size=(I, 4 * H)))
    b = backend.asarray(rng.normal(size=(4 * H,)))
    W = backend.asarray(rng.normal(size=(B, T, 4 * H)))
    f = lambda: weighted_sum(backend.xp, input_projection(x, W_x, b), W)   # noqa: E731
    dW_x, db = input_projection_backward(W, x)
    assert_close_fd(dW_x, f, W_x)
    assert_close_fd(db, f, b)


def test_sigmoid_is_stable_and_exact(backend):
    z = backend.asarray(np.array([-800.0, -3.0, 0.0, 2.0, 800.0]))
    want = 1.0 / (1.0 + np.exp(-np.array([-700.0, -3.0, 0.0, 2.0, 700.0])))
    got = to_host(sigmoid(z))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got[1:4], want[1:4], rtol=1e-15)
    assert got[0] == 0.0 and got[-1] == 1.0
