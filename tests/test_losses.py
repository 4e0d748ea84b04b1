"""Output layer and losses: finite differences, masks, and refusing an all-zero mask."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

from minisab.fast.output_cols import output_backward_cols, output_forward_cols
from minisab.losses import (mse_backward, mse_forward, output_backward, output_forward,
                            xent_backward, xent_forward)
from minisab.backend import to_float

from helpers import assert_close_fd, weighted_sum


def _mask(rng, B, T, backend):
    m = (rng.random((B, T)) < 0.5).astype(float)
    m[0, 0] = 1.0                                   # at least one position counts
    return backend.asarray(m)


@given(st.integers(1, 3), st.integers(1, 4), st.integers(2, 5), st.booleans(),
       st.integers(0, 2**32 - 1))
def test_xent_backward(backend, B, T, C, masked, seed):
    rng = np.random.default_rng(seed)
    y = backend.asarray(3 * rng.normal(size=(B, T, C)))
    targets = backend.asarray(rng.integers(0, C, size=(B, T)))
    mask = _mask(rng, B, T, backend) if masked else None
    loss, cache = xent_forward(y, targets, mask)
    assert_close_fd(xent_backward(cache), lambda: xent_forward(y, targets, mask)[0], y)


@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 3), st.booleans(),
       st.integers(0, 2**32 - 1))
def test_mse_backward(backend, B, T, C, masked, seed):
    rng = np.random.default_rng(seed)
    y = backend.asarray(rng.normal(size=(B, T, C)))
    targets = backend.asarray(rng.normal(size=(B, T, C)))
    mask = _mask(rng, B, T, backend) if masked else None
    _, cache = mse_forward(y, targets, mask)
    assert_close_fd(mse_backward(cache), lambda: mse_forward(y, targets, mask)[0], y)


def test_loss_values_follow_model_md_section_3(backend):
    y = np.array([[[0.0, np.log(3.0)], [1.0, 1.0]]])              # (1, 2, 2)
    t = np.array([[1, 0]])
    mask = np.array([[1.0, 0.0]])
    loss, _ = xent_forward(backend.asarray(y), backend.asarray(t), backend.asarray(mask))
    assert abs(to_float(loss) - np.log(4.0 / 3.0)) < 1e-15      # only the first position counts
    loss, _ = mse_forward(backend.asarray(y), backend.asarray(np.zeros_like(y)),
                          backend.asarray(np.array([[0.0, 1.0]])))
    assert abs(to_float(loss) - 1.0) < 1e-15                     # mean over k of 1²


def test_all_zero_mask_is_an_error(backend):
    y = backend.asarray(np.zeros((2, 3, 4)))
    t = backend.asarray(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="mask has no 1"):
        xent_forward(y, t, backend.asarray(np.zeros((2, 3))))
    with pytest.raises(ValueError, match="only 0 and 1"):
        xent_forward(y, t, backend.asarray(np.full((2, 3), 0.5)))
    with pytest.raises(ValueError, match="expected"):
        mse_forward(y, y, backend.asarray(np.ones((3, 2))))


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.booleans(),
       st.integers(0, 2**32 - 1))
def test_output_layer_backward(backend, B, T, H, with_s, seed):
    rng = np.random.default_rng(seed)
    C = 3
    arr = lambda *s: backend.asarray(rng.normal(size=s))   # noqa: E731
    h, s = arr(B, T, H), (arr(B, T, H) if with_s else None)
    W_y, b_y, W = arr(2 * H if with_s else H, C), arr(C), arr(B, T, C)
    f = lambda: weighted_sum(backend.xp, output_forward(h, s, W_y, b_y), W)   # noqa: E731
    dh, ds, g = output_backward(W, h, s, W_y)
    assert_close_fd(dh, f, h)
    if with_s:
        assert_close_fd(ds, f, s)
    assert_close_fd(g["W_y"], f, W_y)
    assert_close_fd(g["b_y"], f, b_y)


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.booleans(),
       st.integers(0, 2**32 - 1))
def test_output_layer_on_columns_backward(backend, B, T, H, with_s, seed):
    """The sequence driver's form of the output layer, states as columns (T, H, B)."""
    rng = np.random.default_rng(seed)
    C = 3
    arr = lambda *s: backend.asarray(rng.normal(size=s))   # noqa: E731
    hT, sT = arr(T, H, B), (arr(T, H, B) if with_s else None)
    W_y, b_y, W = arr(2 * H if with_s else H, C), arr(C), arr(T, C, B)
    f = lambda: weighted_sum(backend.xp, output_forward_cols(hT, sT, W_y, b_y), W)  # noqa: E731
    dhT, dsT, g = output_backward_cols(W, hT, sT, W_y)
    assert_close_fd(dhT, f, hT)
    if with_s:
        assert_close_fd(dsT, f, sT)
    assert_close_fd(g["W_y"], f, W_y)
    assert_close_fd(g["b_y"], f, b_y)


@pytest.mark.parametrize("targets, words", [
    (np.array([[0, 3]]), "from 0 to 3; accepted are integers in \\[0, C\\) = \\[0, 3\\)"),
    (np.array([[-1, 0]]), "from -1 to 0"),
    (np.array([[0.0, 1.0]]), "dtype .*float64 for xent"),
    (np.array([0, 1]), "shape \\(2,\\) for xent"),
])
def test_xent_refuses_targets_it_cannot_use(backend, targets, words):
    """Out-of-range, negative or non-integer targets once gave a loss of -0.0 without a word."""
    y = backend.asarray(np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match=f"invalid targets.*{words}"):
        xent_forward(y, backend.asarray(targets))


def test_losses_refuse_empty_batches_and_misshapen_targets(backend):
    with pytest.raises(ValueError, match="B, T >= 1"):
        xent_forward(backend.asarray(np.zeros((0, 2, 3))), backend.asarray(np.zeros((0, 2), int)))
    with pytest.raises(ValueError, match="invalid targets of shape .* for mse"):
        mse_forward(backend.asarray(np.zeros((1, 2, 3))), backend.asarray(np.zeros((1, 2, 1))))
