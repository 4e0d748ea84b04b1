"""The backend module: selection, errors, and the operations the array API lacks."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

from minisab.backend import (BackendError, gather_rows, get_backend, scatter_add_rows, swap01,
                             to_host, topk_indices, zeros)


def test_unknown_backend_named_in_error():
    with pytest.raises(BackendError, match="accepted values are 'numpy', 'cupy', 'strict'"):
        get_backend("jax")


def test_environment_variable_selects_backend(monkeypatch):
    monkeypatch.setenv("MINISAB_BACKEND", "strict")
    assert get_backend().name == "strict"
    monkeypatch.delenv("MINISAB_BACKEND")
    assert get_backend().name == "numpy"


def test_cupy_missing_or_without_gpu_is_a_clear_error():
    try:
        import cupy  # noqa: F401
    except ImportError:
        with pytest.raises(BackendError, match="not installed"):
            get_backend("cupy")
        return
    try:
        get_backend("cupy")
    except BackendError as e:
        assert "no GPU" in str(e)


def test_strict_backend_refuses_implicit_numpy():
    be = get_backend("strict")
    a = be.asarray(np.ones((2, 3)))
    with pytest.raises((RuntimeError, TypeError)):
        np.asarray(a)
    with pytest.raises(TypeError):
        a + np.ones(3)
    assert to_host(a).sum() == 6.0


@given(st.integers(1, 4), st.integers(1, 9), st.data())
def test_topk_gather_scatter(backend, B, n, data):
    k = data.draw(st.integers(1, n))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    a = rng.permuted(np.tile(np.arange(n, dtype=float), (B, 1)), axis=1)   # distinct scores
    idx = to_host(topk_indices(backend.asarray(a), k))
    assert idx.shape == (B, k)
    np.testing.assert_array_equal(np.take_along_axis(a, idx, 1), -np.sort(-a, axis=1)[:, :k])
    M = rng.normal(size=(B, n, 3))
    got = to_host(gather_rows(backend.asarray(M), backend.asarray(idx)))
    np.testing.assert_array_equal(got, np.take_along_axis(M, idx[:, :, None], 1))
    v = rng.normal(size=(B, k, 3))
    dM = backend.asarray(np.ones((B, n, 3)))
    scatter_add_rows(dM, backend.asarray(idx), backend.asarray(v))
    want = np.ones((B, n, 3))
    for b in range(B):
        want[b, idx[b]] += v[b]
    np.testing.assert_allclose(to_host(dM), want, rtol=0, atol=1e-15)
    z = zeros((2, 2), like=backend.asarray(a))
    assert to_host(z).sum() == 0


def test_swap01_and_step_major_memory_keys(backend):
    """swap01 swaps the first two axes; Memory stores keys step-major behind a (B, n, D) view,
    so that writes land in row j of every batch row and the rows in use are contiguous."""
    from minisab.memory import Memory
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 2, 4))
    np.testing.assert_array_equal(to_host(swap01(backend.asarray(a))), a.transpose(1, 0, 2))
    B, H, D = 2, 3, 4
    mem = Memory(5, backend.asarray(np.zeros((B, H))), backend.asarray(np.zeros((B, D))))
    keys = [rng.standard_normal((B, D)) for _ in range(3)]
    for k in keys:
        mem.write(backend.asarray(rng.standard_normal((B, H))), backend.asarray(k))
    M, K = mem.rows()
    assert tuple(K.shape) == (B, 4, D)
    np.testing.assert_array_equal(to_host(K)[:, 1:, :], np.stack(keys, axis=1))
    if backend.name == "numpy":   # the (B, n, D) view of a contiguous (n, B, D) block
        assert np.ascontiguousarray(K.swapaxes(0, 1)).ctypes.data == K.swapaxes(0, 1).ctypes.data


def test_into_helpers_write_into_a_view_on_every_backend(backend):
    """``*_into`` write their result into ``out`` on every backend (``out=`` on NumPy/CuPy,
    ``out[...] = value`` on strict): the LSTM driver relies on it to fill row t of its
    per-sequence arrays. ``out`` here is a column block of a larger array, as in the driver."""
    from minisab.backend import empty
    from minisab.fast.ops import add_into, matmul_into, mul_into, sub_into, tanh_into
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    m = rng.standard_normal((3, 3))
    cases = [(add_into, (a, b), a + b), (sub_into, (1.0, b), 1.0 - b), (mul_into, (a, b), a * b),
             (matmul_into, (a, m), a @ m), (tanh_into, (a,), np.tanh(a))]
    for fn, args, want in cases:
        big = backend.asarray(np.zeros((2, 9)))
        out = big[:, 3:6]
        args = [backend.asarray(x) if isinstance(x, np.ndarray) else x for x in args]
        got = fn(*args, out=out)
        host = to_host(big)
        np.testing.assert_allclose(host[:, 3:6], want, rtol=1e-15, atol=1e-15)
        assert not host[:, :3].any() and not host[:, 6:].any(), fn.__name__   # only the block
        np.testing.assert_allclose(to_host(got), want, rtol=1e-15, atol=1e-15)
    e = empty((2, 5), like=backend.asarray(a))
    assert tuple(e.shape) == (2, 5) and e.dtype == backend.asarray(a).dtype
