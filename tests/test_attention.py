"""Keys, scorers, sparsifiers and the memory read: finite differences, and the sparsity of topk."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

from minisab.attention import (key_backward, key_forward, read_backward, read_forward,
                               score_backward, score_forward, softmax_backward, softmax_forward,
                               topk_backward, topk_forward)
from minisab.backend import gather_rows, scatter_add_rows, to_host, zeros
from minisab.gradcheck import tie_gaps

from helpers import assert_close_fd, weighted_sum
from strategies import gapped_scores

EPS = 1e-7


def dense(values, act, n):
    """Scatter per-row values (B, m) at act[:, :m] into a zero (B, n) array."""
    out = zeros((values.shape[0], n, 1), like=values)
    scatter_add_rows(out, act[:, :values.shape[1]], values[:, :, None])
    return out[:, :, 0]


@given(st.integers(1, 3), st.integers(1, 7), st.integers(1, 5), st.data())
def test_topk_backward(backend, B, n, k_top, data):
    a = backend.asarray(data.draw(gapped_scores(B, n)))
    W = backend.asarray(np.random.default_rng(data.draw(st.integers(0, 99))).normal(size=(B, n)))
    xp = backend.xp

    def f():
        alpha, act, _ = topk_forward(a, k_top, EPS)
        return weighted_sum(xp, dense(alpha, act, n), W)

    alpha, act, cache = topk_forward(a, k_top, EPS)
    da_act = topk_backward(gather_rows(W[:, :, None], act[:, :alpha.shape[1]])[:, :, 0], cache)
    da = dense(da_act, act, n)
    assert_close_fd(da, f, a)
    # exactly min(n, k_top) non-zero weights, summing to 1/(1 + ε/Σã)
    nonzero = (to_host(dense(alpha, act, n)) != 0).sum(axis=1)
    assert np.all(nonzero == min(n, k_top))
    # gradient reaches only the kept scores and the threshold: at most k_top + 1 per row
    assert np.all((to_host(da) != 0).sum(axis=1) <= min(n, k_top + 1))


def test_topk_threshold_branches(backend):
    a = backend.asarray(np.array([[3.0, 1.0, 2.0, 0.0]]))
    alpha, act, _ = topk_forward(a, 2, 0.0)          # δ = 1.0 (3rd largest): ã = (2, 1)
    assert to_host(act).tolist() == [[0, 2, 1]]
    np.testing.assert_allclose(to_host(alpha), [[2 / 3, 1 / 3]], rtol=1e-15)
    alpha, act, _ = topk_forward(a, 4, 0.0)          # n <= k_top: δ = min − 1 = −1
    np.testing.assert_allclose(to_host(alpha), [[4 / 10, 2 / 10, 3 / 10, 1 / 10]], rtol=1e-15)
    alpha, _, _ = topk_forward(a[:, :1], 3, EPS)     # only the null memory: 1/(1+ε)
    assert to_float_exact(alpha) == 1.0 / (1.0 + EPS)


def to_float_exact(a):
    return float(to_host(a)[0, 0])


@given(st.integers(1, 3), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_softmax_backward(backend, B, n, seed):
    rng = np.random.default_rng(seed)
    a = backend.asarray(2 * rng.normal(size=(B, n)))
    W = backend.asarray(rng.normal(size=(B, n)))
    f = lambda: weighted_sum(backend.xp, softmax_forward(a)[0], W)   # noqa: E731
    alpha, cache = softmax_forward(a)
    assert_close_fd(softmax_backward(W, cache), f, a)


@pytest.mark.parametrize("scorer", ["mlp", "release"])
@given(st.integers(1, 3), st.integers(1, 5), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_scorer_and_key_backward(backend, scorer, B, n, H, seed):
    rng = np.random.default_rng(seed)
    A = 3
    arr = lambda *s: backend.asarray(rng.normal(size=s))   # noqa: E731
    params = {"W_q": arr(H, A), "W_m": arr(H, A), "w_s": arr(A if scorer == "mlp" else 2 * H)}
    h_hat, M, W = arr(B, H), arr(B, n, H), arr(B, n)
    xp = backend.xp

    def keys():   # one key per memory row, as the memory buffer computes them at write time
        return xp.stack([key_forward(M[:, j, :], params, scorer) for j in range(n)], axis=1)

    f = lambda: weighted_sum(xp, score_forward(h_hat, keys(), params, scorer)[0], W)   # noqa: E731
    K = keys()
    _, cache = score_forward(h_hat, K, params, scorer)
    dh_hat, dK, grads = score_backward(W, K, cache, params, scorer)
    assert_close_fd(dh_hat, f, h_hat)
    for name, g in grads.items():
        assert_close_fd(g, f, params[name])
    dM, dW_m = [], 0.0
    for j in range(n):
        dm, g = key_backward(dK[:, j, :], M[:, j, :], K[:, j, :], params, scorer)
        dM.append(dm)
        dW_m = dW_m + g.get("W_m", 0.0)
    assert_close_fd(xp.stack(dM, axis=1), f, M)
    if scorer == "mlp":
        assert_close_fd(dW_m, f, params["W_m"])


def test_release_scorer_query_cannot_change_the_selection(backend):
    """docs/model.md §2.2: w_s[:H]·tanh(ĥ) adds the same amount to every score of a row."""
    rng = np.random.default_rng(0)
    H, n = 4, 6
    params = {"w_s": backend.asarray(rng.normal(size=2 * H))}
    K = key_forward(backend.asarray(rng.normal(size=(1, n, H))), params, "release")
    orders = {tuple(np.argsort(to_host(score_forward(backend.asarray(rng.normal(size=(1, H))), K,
                                                       params, "release")[0])[0]))
              for _ in range(5)}
    assert len(orders) == 1


@given(st.integers(1, 3), st.integers(1, 5), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_read_backward(backend, B, m, H, seed):
    rng = np.random.default_rng(seed)
    alpha = backend.asarray(rng.random((B, m)))
    M = backend.asarray(rng.normal(size=(B, m, H)))
    W = backend.asarray(rng.normal(size=(B, H)))
    f = lambda: weighted_sum(backend.xp, read_forward(alpha, M), W)   # noqa: E731
    dalpha, dM = read_backward(W, alpha, M)
    assert_close_fd(dalpha, f, alpha)
    assert_close_fd(dM, f, M)


@given(st.integers(1, 3), st.integers(2, 8), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_one_attention_step_gives_unselected_memories_exactly_zero(backend, B, n, k_top, seed):
    """Scores -> topk -> read, composed as the SAB driver does: every memory that is neither kept
    nor the threshold gets exactly 0, and the rest agrees with finite differences."""
    rng = np.random.default_rng(seed)
    H, A = 3, 4
    arr = lambda *s: backend.asarray(rng.normal(size=s))   # noqa: E731
    params = {"W_q": arr(H, A), "W_m": arr(H, A), "w_s": arr(A)}
    h_hat, M, W = arr(B, H), arr(B, n, H), arr(B, H)
    xp = backend.xp

    def step():
        K = key_forward(M, params, "mlp")                   # (B, n, A): keys of all rows at once
        a, sc = score_forward(h_hat, K, params, "mlp")
        alpha, act, sp = topk_forward(a, k_top, EPS)
        M_kept = gather_rows(M, act[:, :alpha.shape[1]])
        return read_forward(alpha, M_kept), (K, a, sc, alpha, act, sp, M_kept)

    s, (K, a, sc, alpha, act, sp, M_kept) = step()
    dalpha, dM_kept = read_backward(W, alpha, M_kept)
    da = topk_backward(dalpha, sp)
    _, dK_act, _ = score_backward(da, gather_rows(K, act), sc, params, "mlp")
    dK = scatter_add_rows(xp.zeros_like(K), act, dK_act)
    dM = scatter_add_rows(xp.zeros_like(M), act[:, :alpha.shape[1]], dM_kept)
    dM = dM + dK @ params["W_m"].T                      # key_backward's dm for every row
    touched = np.zeros((B, n), dtype=bool)
    np.put_along_axis(touched, to_host(act), True, axis=1)
    assert np.all(to_host(dM)[~touched] == 0.0)
    # finite differences, with a step far below the smallest tie gap of these scores
    gaps = tie_gaps(to_host(a)[None], [n], k_top)
    h = min(1e-6, 1e-3 * min(gaps.values()))
    assert_close_fd(dM, lambda: weighted_sum(xp, step()[0], W), M, h=h, atol=1e-7)
