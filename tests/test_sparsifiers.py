"""The bounded sparsifiers (minisab/sparsifiers.py): finite differences, the simplex,
sparsity of the backward, and the spectral norm of ∂α/∂a at and near ties against docs/model.md's."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from minisab import Config, backward, forward, loss_and_grads
from minisab.attention import topk_backward, topk_forward
from minisab.backend import gather_rows, to_host
from minisab.config import ConfigError
from minisab.gradcheck import tie_gaps, truncated_loss
from minisab.sparsifiers import (sparsify_backward, sparsify_forward, topk_softmax_backward,
                                 topk_softmax_forward, topk_sparsemax_backward,
                                 topk_sparsemax_forward)

from helpers import assert_close_fd, weighted_sum
from strategies import gapped_scores
from test_attention import dense
from test_sab import SMALL, make_problem


def support_gap(z, alpha) -> float:
    """Smallest |z_j − τ| over the kept scores z (B, m) of sparsemax: where α_j switches on/off.
    τ = z_0 − α_0 (the largest score is always in the support)."""
    z, alpha = to_host(z), to_host(alpha)
    tau = z[:, :1] - alpha[:, :1]
    return float(np.min(np.abs(z - tau)))


@given(st.integers(1, 3), st.integers(1, 7), st.integers(1, 5), st.floats(0.2, 3.0), st.data())
def test_topk_softmax_backward(backend, B, n, k_top, tau, data):
    a = backend.asarray(data.draw(gapped_scores(B, n)))
    W = backend.asarray(np.random.default_rng(data.draw(st.integers(0, 99))).normal(size=(B, n)))
    xp = backend.xp

    def f():
        alpha, act, _ = topk_softmax_forward(a, k_top, tau)
        return weighted_sum(xp, dense(alpha, act, n), W)

    alpha, act, cache = topk_softmax_forward(a, k_top, tau)
    m = min(n, k_top)
    assert act.shape == (B, m) and alpha.shape == (B, m)            # no threshold column
    da = dense(topk_softmax_backward(gather_rows(W[:, :, None], act)[:, :, 0], cache), act, n)
    assert_close_fd(da, f, a)
    al = to_host(alpha)
    np.testing.assert_allclose(al.sum(axis=1), 1.0, rtol=1e-14)
    assert np.all(al > 0)
    kept = np.sort(to_host(a), axis=1)[:, n - m:]                   # the m largest scores
    np.testing.assert_allclose(np.sort(to_host(take(a, act)), axis=1), kept)
    assert np.all((to_host(da) != 0).sum(axis=1) <= m)               # kept scores only


def take(a, act):
    return gather_rows(a[:, :, None], act)[:, :, 0]


@given(st.integers(1, 3), st.integers(1, 7), st.integers(1, 5), st.floats(0.05, 3.0), st.data())
def test_topk_sparsemax_backward(backend, B, n, k_top, scale, data):
    a = backend.asarray(scale * data.draw(gapped_scores(B, n)))
    W = backend.asarray(np.random.default_rng(data.draw(st.integers(0, 99))).normal(size=(B, n)))
    xp = backend.xp

    def f():
        alpha, act, _ = topk_sparsemax_forward(a, k_top)
        return weighted_sum(xp, dense(alpha, act, n), W)

    alpha, act, cache = topk_sparsemax_forward(a, k_top)
    m = min(n, k_top)
    assert act.shape == (B, m)
    # the step stays far below the kinks: the selection gap (≥ 0.05 · scale) and |z_j − τ|
    gap = min(0.05 * scale, support_gap(take(a, act), alpha))
    assume(gap > 1e-5)
    da = dense(topk_sparsemax_backward(take(W, act), cache), act, n)
    assert_close_fd(da, f, a, h=min(1e-6, 1e-3 * gap))
    # α is the Euclidean projection of the kept scores z onto the simplex (KKT conditions):
    # α ≥ 0, Σα = 1, z_j − α_j = τ on the support and z_j ≤ τ off it.
    z, al = to_host(take(a, act)), to_host(alpha)
    np.testing.assert_allclose(al.sum(axis=1), 1.0, rtol=1e-13)
    assert np.all(al >= 0) and np.all((al > 0).sum(axis=1) >= 1)
    tau = z[:, :1] - al[:, :1]
    on = al > 0
    np.testing.assert_allclose(np.where(on, z - al, tau), np.broadcast_to(tau, z.shape),
                               atol=1e-12)
    assert np.all(z[~on] <= np.broadcast_to(tau, z.shape)[~on] + 1e-12)
    assert np.all((to_host(da) != 0).sum(axis=1) <= on.sum(axis=1))   # support only


def test_sparsemax_known_values(backend):
    a = backend.asarray(np.array([[0.0, 2.0, 1.5, 0.2], [1.0, 1.0, 1.0, 5.0]]))
    alpha, act, _ = topk_sparsemax_forward(a, 3)      # kept (2, 1.5, 0.2): τ = 0.75
    assert to_host(act)[0].tolist() == [1, 2, 3]
    np.testing.assert_allclose(to_host(alpha)[0], [0.75, 0.25, 0.0], rtol=1e-15)
    np.testing.assert_allclose(to_host(alpha)[1], [1.0, 0.0, 0.0])   # one score 4 above: argmax
    alpha, _, _ = topk_sparsemax_forward(a[:, :1], 5)  # only the null memory: weight 1
    np.testing.assert_allclose(to_host(alpha), [[1.0], [1.0]])


def test_softmax_temperature_known_values(backend):
    a = backend.asarray(np.array([[0.0, 2.0, 1.0]]))
    alpha, act, _ = topk_softmax_forward(a, 2, 0.5)    # softmax((2, 1) / 0.5)
    e = np.exp([4.0, 2.0])
    np.testing.assert_allclose(to_host(alpha), [e / e.sum()], rtol=1e-14)


# ------------------------------------------------------- the Jacobian at and near exact ties
def jacobian(kind, a, k_top, tau=1.0):
    """∂α/∂a (m, n) of row 0, built row by row from the backward (vector-Jacobian products with
    the unit vectors e_i of ∂L/∂α): so this checks the code, not a formula."""
    if kind == "threshold":
        alpha, act, cache = topk_forward(a, k_top, 1e-7)
        back = lambda g: topk_backward(g, cache)                     # noqa: E731
    elif kind == "softmax":
        alpha, act, cache = topk_softmax_forward(a, k_top, tau)
        back = lambda g: topk_softmax_backward(g, cache)              # noqa: E731
    else:
        alpha, act, cache = topk_sparsemax_forward(a, k_top)
        back = lambda g: topk_sparsemax_backward(g, cache)            # noqa: E731
    m, n = alpha.shape[1], a.shape[1]
    J = np.zeros((m, n))
    for i in range(m):
        e = np.zeros((1, m))
        e[0, i] = 1.0
        J[i] = to_host(dense(back(_like(a, e)), act, n))[0]
    return J


def _like(a, v):
    from minisab.backend import namespace
    xp = namespace(a)
    return v if xp is np else xp.asarray(v, dtype=a.dtype, device=a.device)


@st.composite
def near_ties(draw, spread_choices=(0.0, 1e-12, 1e-8, 1e-6, 1e-4, 1e-2, 1.0)):
    """A score row whose k_top + 1 largest lie within ``spread`` of each other (0: exact ties),
    the others well below; plus k_top."""
    k_top = draw(st.integers(2, 4))
    n = draw(st.integers(k_top + 1, 8))
    spread = draw(st.sampled_from(spread_choices))
    c = draw(st.floats(-2.0, 2.0))
    u = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=k_top + 1, max_size=k_top + 1)))
    low = c - 1.0 - np.array(draw(st.lists(st.floats(0.0, 2.0), min_size=n - k_top - 1,
                                           max_size=n - k_top - 1)))
    row = np.concatenate([c + spread * u, low])
    return row[list(draw(st.permutations(range(n))))][None, :], k_top, spread


@given(near_ties(), st.floats(0.1, 4.0))
def test_bounded_sparsifiers_have_bounded_jacobians_at_and_near_ties(backend, tie, tau):
    row, k_top, _ = tie
    a = backend.asarray(row)
    norm_soft = np.linalg.norm(jacobian("softmax", a, k_top, tau), 2)
    norm_sparse = np.linalg.norm(jacobian("sparsemax", a, k_top), 2)
    assert norm_soft <= 1.0 / (2.0 * tau) * (1 + 1e-12)
    assert norm_sparse <= 1.0 + 1e-12


@given(near_ties(spread_choices=(1e-8, 1e-7, 1e-6)))
def test_model_md_sparsifier_jacobian_explodes_near_ties(backend, tie):
    """The contrast that makes the bound above mean something: docs/model.md's ã/(Σã + ε) has
    ‖∂α/∂a‖ > 1e3 once the k_top + 1 leading scores lie within 1e-6 of each other."""
    row, k_top, spread = tie
    a = backend.asarray(row)
    # the draw must actually be near a tie: at least one kept score strictly above the threshold
    s = -np.sort(-row[0])
    assume(s[0] - s[k_top] > spread / 100)
    assert np.linalg.norm(jacobian("threshold", a, k_top), 2) > 1e3


# ------------------------------------------------------------------ config and dispatch
def test_default_sparsifier_is_model_md():
    assert Config().sparsifier == "threshold" and Config().temperature == 1.0


@pytest.mark.parametrize("kw, match", [
    ({"sparsifier": "entmax"},
     r"sparsifier='entmax'.*'threshold', 'topk_softmax', 'topk_sparsemax'"),
    ({"sparsifier": "softmax", "temperature": 0.0}, r"temperature=0\.0.*> 0"),
    ({"sparsifier": "softmax", "temperature": float("inf")}, r"temperature=inf.*finite"),
    ({"sparsifier": "softmax", "temperature": "1"}, r"temperature='1'"),
    ({"temperature": 0.5}, r"temperature=0\.5.*unless sparsifier='topk_softmax'"),
    ({"sparsifier": "sparsemax", "attention": "softmax", "method": "bptt"},
     r"sparsifier='topk_sparsemax'.*unless attention='topk'"),
])
def test_bad_sparsifier_settings_name_the_field(kw, match):
    with pytest.raises(ConfigError, match=match):
        Config(**kw)


@pytest.mark.parametrize("kind", ["threshold", "topk_softmax", "topk_sparsemax"])
def test_dispatch_matches_the_pairs(backend, kind):
    rng = np.random.default_rng(0)
    a = backend.asarray(rng.normal(size=(2, 6)))
    g = backend.asarray(rng.normal(size=(2, 3)))
    cfg = Config(k_top=3, sparsifier=kind, temperature=0.5 if kind == "topk_softmax" else 1.0)
    alpha, act, cache = sparsify_forward(a, cfg)
    assert act.shape[1] == (4 if kind == "threshold" else 3)        # threshold memory or not
    da = to_host(sparsify_backward(g, cache, cfg))
    ref = {"threshold": lambda: topk_backward(g, topk_forward(a, 3, cfg.eps)[2]),
           "topk_softmax": lambda: topk_softmax_backward(g, topk_softmax_forward(a, 3, 0.5)[2]),
           "topk_sparsemax": lambda: topk_sparsemax_backward(g, topk_sparsemax_forward(a, 3)[2])}
    np.testing.assert_array_equal(da, to_host(ref[kind]()))


# ------------------------------------------------------------ the whole sequence, method sab
def sequence_support_gap(rec, k_top) -> float:
    """``support_gap`` of every sparsemax step of a recorded forward (cache["record"])."""
    scores, attn = to_host(rec["scores"]), to_host(rec["attn"])
    gap = np.inf
    for t, n in enumerate(rec["n_mem"]):
        order = np.argsort(-scores[t, :, :n], axis=1, kind="stable")[:, :min(n, k_top)]
        z = np.take_along_axis(scores[t, :, :n], order, axis=1)
        gap = min(gap, support_gap(z, np.take_along_axis(attn[t, :, :n], order, axis=1)))
    return gap


@pytest.mark.parametrize("sparsifier", ["topk_softmax", "topk_sparsemax"])
@pytest.mark.parametrize("scorer, method", [("mlp", "sab"), ("release", "sab"), ("mlp", "bptt"),
                                            ("mlp", "tbptt")])
@settings(max_examples=5)
@given(B=st.integers(1, 2), T=st.integers(1, 9), H=st.integers(1, 3), k_top=st.integers(1, 3),
       k_att=st.integers(1, 3), k_trunc=st.integers(1, 4), detach=st.booleans(),
       loss=st.sampled_from(["xent", "mse"]), scale=st.floats(0.5, 3.0),
       tau=st.floats(0.3, 2.0), seed=st.integers(0, 2**32 - 1))
def test_sequence_gradient_with_bounded_sparsifiers(backend, sparsifier, scorer, method, B, T, H,
                                                    k_top, k_att, k_trunc, detach, loss, scale,
                                                    tau, seed):
    cfg = Config(input_size=2, hidden_size=H, output_size=2, attention="topk", scorer=scorer,
                 attn_size=2, k_top=k_top, k_att=k_att, k_trunc=k_trunc, method=method,
                 detach_scores=detach, loss=loss, sparsifier=sparsifier,
                 temperature=tau if sparsifier == "topk_softmax" else 1.0)
    params, x, targets, mask = make_problem(backend, cfg, B, T, seed, scale)
    _, grads, out = loss_and_grads(params, x, targets, cfg, mask, record=True)
    rec = out["cache"]["record"]
    gap = tie_gaps(rec["scores"], rec["n_mem"], k_top)["select"]    # the selection's kink
    if sparsifier == "topk_sparsemax":
        gap = min(gap, sequence_support_gap(rec, k_top))            # and sparsemax's own
    # a step far below the kinks, but not so small that rounding of the loss swamps it
    h = min(1e-6, 1e-2 * gap)
    assume(h >= 1e-7)
    f = truncated_loss(params, x, targets, cfg, mask, out["cache"])
    for name in params:
        assert_close_fd(grads[name], f, params[name], h=h)


@pytest.mark.parametrize("sparsifier", ["threshold", "topk_softmax", "topk_sparsemax"])
def test_sab_backward_touches_only_kept_memories(backend, sparsifier):
    """docs/model.md §4 with k_trunc=1: a state gets credit beyond its own output only if a later
    step read it, i.e. kept it (or, for "threshold", used it as the threshold). Every other
    state's adjoint is exactly its output's gradient."""
    cfg = Config(**{**SMALL, "k_top": 2, "k_att": 1}, attention="topk", method="sab", k_trunc=1,
                 sparsifier=sparsifier)
    B, T = 3, 14
    params, x, targets, mask = make_problem(backend, cfg, B, T, seed=5)
    from minisab.losses import xent_backward, xent_forward
    y, cache = forward(params, x, cfg)
    dy = xent_backward(xent_forward(y, targets, mask)[1])
    _, dh = backward(dy, cache, params)
    dh_out = to_host(dy) @ to_host(params["W_y"])[:cfg.hidden_size].T
    dh = to_host(dh)
    touched = np.zeros((B, T), dtype=bool)
    for t_read, (_, act, _, _) in enumerate(cache["attn"]):
        m_act = act.shape[1]
        assert m_act == min(t_read + 1, 2) + (sparsifier == "threshold" and t_read + 1 > 2)
        for b, row in enumerate(to_host(act)):
            for j in row:
                if j >= 1:
                    touched[b, j * cfg.k_att - 1] = True
    assert touched.any() and (~touched).any()
    np.testing.assert_array_equal(dh[~touched], dh_out[~touched])


@pytest.mark.parametrize("sparsifier", ["threshold", "topk_softmax", "topk_sparsemax"])
def test_forward_cache_is_linear_in_T(backend, sparsifier):
    """What the forward keeps for the backward grows like T, not T² (docs/model.md §4): per step the
    sparsifier keeps O(k_top) numbers per row and the driver the k_top (+1) indices, never the
    step's whole score row; the memory buffer holds each state once."""
    def cached_numbers(T):
        cfg = Config(**{**SMALL, "k_top": 2, "k_att": 1}, attention="topk", method="sab",
                     k_trunc=3, sparsifier=sparsifier)
        params, x, _, _ = make_problem(backend, cfg, 2, T, seed=1)
        _, cache = forward(params, x, cfg)
        arrays = []
        for score_cache, act, alpha, sp_cache in cache["attn"]:
            arrays += [act, alpha, *score_cache]
            arrays += [v for v in (sp_cache if isinstance(sp_cache, tuple) else (sp_cache,))
                       if hasattr(v, "shape")]
        return sum(int(np.prod(a.shape)) for a in arrays)
    n20, n40, n80 = cached_numbers(20), cached_numbers(40), cached_numbers(80)
    # exactly affine in T once every step reads at least k_top + 1 memories: constant per step
    assert n80 - n40 == 2 * (n40 - n20)


@pytest.mark.parametrize("sparsifier", ["topk_softmax", "topk_sparsemax"])
def test_probe_replays_the_bounded_sparsifiers(backend, sparsifier):
    """minisab.credit.probe replays the memory reads with the configured sparsifier: its per-path
    adjoints add up to the driver's, and Σã (docs/model.md's sparsifier only) is reported as NaN."""
    from minisab.credit.probe import diagnose, summarize
    cfg = Config(**SMALL, attention="topk", method="sab", k_trunc=1, sparsifier=sparsifier)
    params, x, targets, mask = make_problem(backend, cfg, 2, 12, seed=2)
    d = diagnose(params, cfg, x, targets, mask)
    s = summarize(d)
    assert s["finite"] and np.isnan(s["sum_tilde_min"]) and s["g_score_max"] > 0
    # k_trunc=1: no recurrent credit, so what is left after the memory paths is ~0
    np.testing.assert_allclose(d["g_rec"], 0.0, atol=1e-12)


@pytest.mark.parametrize("old, new", [("softmax", "topk_softmax"), ("sparsemax", "topk_sparsemax")])
def test_the_earlier_sparsifier_names_are_read_as_the_new_ones(old, new):
    """"softmax" also names the dense attention, so the sparsifiers are now "topk_softmax" and
    "topk_sparsemax"; configs, checkpoints and commands written with the old names still load."""
    cfg = Config(k_top=3, sparsifier=old)
    assert cfg.sparsifier == new and cfg == Config(k_top=3, sparsifier=new)
    assert Config.from_dict({**cfg.to_dict(), "sparsifier": old}) == cfg
