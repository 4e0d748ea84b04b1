"""Tests of minisab.credit.flow: the credit matrix's structure under each method (docs/model.md §4), its
entries against finite differences, the summaries and the attention views."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minisab import Config, forward, get_backend, init_params, to_host
from minisab.credit.flow import (backward_work, credit_by_lag, credit_matrix, credit_reach, credit_row,
                          loss_step_grads, memory_edges, reachability, reached, selection_history,
                          selections, summarize)
from minisab.gradcheck import numerical_gradient, tie_gaps, truncated_loss
from minisab.sab import backward, base_point_constants

B, T, I, H, C = 2, 12, 3, 4, 3


def make(backend, seed=0, T=T, **kw):
    """A small model and inputs on ``backend``; kw overrides the Config fields."""
    base = dict(input_size=I, hidden_size=H, output_size=C, attention="topk", attn_size=4,
                k_top=2, k_att=2, method="sab", k_trunc=3)
    base.update(kw)
    cfg = Config(**base)
    params = init_params(cfg, seed=seed, backend=backend)
    rng = np.random.default_rng(seed + 100)
    x = backend.asarray(rng.standard_normal((B, T, I)))
    targets = backend.asarray(rng.integers(0, C, size=(B, T)))
    return cfg, params, x, targets


def enumerate_reach(cache):
    """Independent of flow: ``anc[b][t]`` = the states s with a path of allowed edges to y_t,
    built from the recorded selections (``act`` of each step) by plain set unions."""
    cfg = cache["cfg"]
    Bn, Tn, _ = cache["hs"].shape
    out = []
    for b in range(Bn):
        anc = []
        for t in range(Tn):
            preds = [] if (t == 0 or cfg.cuts(t)) else [t - 1]
            if cfg.uses_attention:
                _, act, alpha, _ = cache["attn"][t]
                n = 1 + t // cfg.k_att
                if act is None:                                     # softmax: every memory
                    js = list(range(n))
                else:
                    row = [int(j) for j in to_host(act)[b]]
                    m = alpha.shape[1]
                    # The threshold memory's score sets δ: an edge unless scores are detached,
                    # or only the null memory was kept (∂L/∂δ = 0: a zero vector's weight
                    # changes nothing).
                    null_only = all(j == 0 for j in row[:m])
                    js = row[:m] if (cfg.detach_scores or null_only) else row
                preds += [j * cfg.k_att - 1 for j in js if j >= 1]  # memory j is h_{j·k_att-1}
            anc.append({t}.union(*(anc[p] for p in preds)))
        out.append(anc)
    return out


def support_from(anc, Tn):
    S = np.zeros((len(anc), Tn, Tn), dtype=bool)
    for b, rows in enumerate(anc):
        for t, states in enumerate(rows):
            S[b, t, sorted(states)] = True
    return S


# ------------------------------------------------------------------------------ structure
@pytest.mark.parametrize("kw", [dict(attention=None, method="bptt"),
                                dict(attention=None, method="tbptt"),
                                dict(method="sab"), dict(attention="softmax", method="bptt")])
def test_credit_matrix_is_lower_triangular_with_positive_diagonal(backend, kw):
    cfg, params, x, _ = make(backend, **kw)
    Gb, total, _ = credit_matrix(params, x, cfg, per_example=True)
    assert Gb.shape == (B, T, T) and total.shape == (T,)
    assert np.all(np.triu(Gb, k=1) == 0.0)                         # exactly: no future credit
    assert np.all(np.diagonal(Gb, axis1=1, axis2=2) > 0)            # h_t feeds y_t directly
    G, _, _ = credit_matrix(params, x, cfg)
    np.testing.assert_allclose(G, Gb.mean(axis=0), rtol=1e-12, atol=0)


@pytest.mark.parametrize("k_trunc", [1, 3, 5])
def test_tbptt_credit_is_exactly_zero_outside_the_chunks(backend, k_trunc):
    cfg, params, x, targets = make(backend, attention=None, method="tbptt", k_trunc=k_trunc)
    G, _, _ = credit_matrix(params, x, cfg, targets=targets)
    t, s = np.meshgrid(np.arange(T), np.arange(T), indexing="ij")
    in_chunk = (s <= t) & (s // k_trunc == t // k_trunc)
    assert np.all(G[~in_chunk] == 0.0)
    assert np.all(G[in_chunk] > 0)


def test_bptt_credit_fills_the_lower_triangle(backend):
    cfg, params, x, _ = make(backend, attention=None, method="bptt")
    G, _, _ = credit_matrix(params, x, cfg)
    assert np.all(G[np.tril_indices(T)] > 0)


@settings(max_examples=10)
@given(seed=st.integers(0, 10_000), k_top=st.integers(1, 3), k_att=st.integers(1, 3),
       k_trunc=st.integers(1, 5), detach=st.booleans(), scorer=st.sampled_from(["mlp", "release"]))
def test_sab_credit_support_is_the_enumerated_reachability(backend, seed, k_top, k_att, k_trunc,
                                                           detach, scorer):
    cfg, params, x, targets = make(backend, seed=seed, k_top=k_top, k_att=k_att, k_trunc=k_trunc,
                                   detach_scores=detach, scorer=scorer)
    Gb, _, cache = credit_matrix(params, x, cfg, targets=targets, per_example=True)
    expected = support_from(enumerate_reach(cache), T)
    np.testing.assert_array_equal(Gb > 0, expected)
    np.testing.assert_array_equal(reachability(cache).transpose(0, 2, 1), expected)


@pytest.mark.parametrize("kw", [dict(attention="softmax", method="tbptt", k_trunc=4),
                                dict(attention="topk", method="tbptt", k_trunc=2, k_top=1),
                                dict(attention="topk", method="bptt", k_top=1)])
def test_other_attention_supports_match_the_enumeration(backend, kw):
    cfg, params, x, _ = make(backend, **kw)
    Gb, _, cache = credit_matrix(params, x, cfg, per_example=True)
    np.testing.assert_array_equal(Gb > 0, support_from(enumerate_reach(cache), T))


@pytest.mark.parametrize("group", [2, 5])
def test_grouped_rows_equal_one_backward_per_row(backend, group):
    cfg, params, x, targets = make(backend, k_top=1, k_trunc=4)
    mask = np.ones((B, T))
    mask[:, [0, 3, 4]] = 0.0                                        # 9 rows: groups don't divide
    mask = backend.asarray(mask)
    G1, total1, _ = credit_matrix(params, x, cfg, targets=targets, mask=mask, per_example=True)
    Gg, totalg, _ = credit_matrix(params, x, cfg, targets=targets, mask=mask, per_example=True,
                                  group=group)
    np.testing.assert_allclose(Gg, G1, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(Gg > 0, G1 > 0)
    np.testing.assert_array_equal(totalg, total1)
    with pytest.raises(ValueError, match="group"):
        credit_matrix(params, x, cfg, group=0)


def test_steps_without_loss_have_zero_rows(backend):
    cfg, params, x, targets = make(backend)
    mask = np.zeros((B, T))
    mask[:, [4, 9]] = 1.0
    G, _, _ = credit_matrix(params, x, cfg, targets=targets, mask=backend.asarray(mask))
    rows = G.max(axis=1) > 0
    np.testing.assert_array_equal(rows, mask[0] > 0)
    with pytest.raises(ValueError, match="mask"):
        credit_matrix(params, x, cfg, targets=targets, mask=backend.asarray(np.ones((B, T + 1))))


# ----------------------------------------------------------------------- finite differences
@pytest.mark.parametrize("attention", [None, "topk"])
@pytest.mark.parametrize("s,t", [(1, 3), (4, 5), (4, 9), (6, 10)])
def test_credit_entries_match_finite_differences_of_the_state(attention, s, t):
    """Under bptt, ∂L_t (t > s) reaches a state h_s that is not a memory only through step
    s+1. The core's own constants mechanism makes h_s an input: a tbptt forward cut exactly
    before step s+1 (k_trunc = s+1) with its recorded recurrent input (h_s, c_s) as constants
    computes the same L_t for t < 2(s+1), and perturbing the constant h_s perturbs every later
    use of h_s. So central differences w.r.t. that constant give ∂L_t/∂h_s exactly (c_s held
    fixed: it is a separate node), including every path through later memories."""
    bk = get_backend("numpy")
    cfg, params, x, targets = make(bk, seed=7, attention=attention, method="bptt", k_att=3)
    assert (s + 1) % cfg.k_att != 0 and s < t < 2 * (s + 1)       # h_s is not a memory
    Gb, _, cache = credit_matrix(params, x, cfg, targets=targets, per_example=True)
    y, _ = forward(params, x, cfg)
    dY = loss_step_grads(y, cfg, targets)
    dH = credit_row(dY, cache, params, t)                           # (B, T, H)
    np.testing.assert_allclose(np.linalg.norm(dH, axis=2), Gb[:, t, :], rtol=1e-12)

    cfg_fd = cfg.replace(method="tbptt", k_trunc=s + 1)
    consts = base_point_constants(forward(params, x, cfg_fd)[1])
    h_s = consts["state"][s + 1][0]                                 # (B, H), the cut input
    onehot = np.eye(C)[targets[:, t]]                               # (B, C)

    def L_t():                                                      # Σ_b per-position xent
        y_fd, _ = forward(params, x, cfg_fd, constants=consts)
        z = y_fd[:, t, :]
        logp = z - np.log(np.sum(np.exp(z - z.max(1, keepdims=True)), 1, keepdims=True)) \
            - z.max(1, keepdims=True)
        return -np.sum(logp * onehot)

    h = 1e-6
    if attention:
        rec = forward(params, x, cfg, record=True)[1]["record"]
        h = min(h, 1e-3 * min(tie_gaps(rec["scores"], rec["n_mem"], cfg.k_top).values()))
    num = numerical_gradient(L_t, h_s, h)
    np.testing.assert_allclose(dH[:, s, :], num, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("kw", [dict(method="sab"), dict(method="sab", detach_scores=True),
                                dict(attention=None, method="tbptt")])
def test_one_step_backward_is_the_gradient_of_L_t(kw):
    """For the method's truncated graph (gradcheck.truncated_loss) the parameter gradient of
    the backward that produces row t equals the finite differences of L_t: the loss restricted
    to step t by a mask (×B, since the mask mean divides by B). So row t really is the credit of
    the loss at step t, and ``t_start=t`` skips nothing that matters."""
    bk = get_backend("numpy")
    t = 7
    cfg, params, x, targets = make(bk, seed=3, **kw)
    y, cache = forward(params, x, cfg, record=True)
    dY = loss_step_grads(y, cfg, targets)
    dy = np.zeros_like(dY)
    dy[:, t, :] = dY[:, t, :]
    grads, dH = backward(dy, cache, params, t_start=t)
    grads_full, dH_full = backward(dy, cache, params)               # no early start
    np.testing.assert_array_equal(dH, dH_full)
    np.testing.assert_allclose(dH, credit_row(dY, cache, params, t), rtol=0, atol=0)
    mask = np.zeros((B, T))
    mask[:, t] = 1.0
    f = truncated_loss(params, x, targets, cfg, mask, cache)
    h = 1e-6
    if cfg.uses_attention:
        rec = cache["record"]
        h = min(h, 1e-3 * min(tie_gaps(rec["scores"], rec["n_mem"], cfg.k_top).values()))
    for name in ("W_h", "W_x") + (("w_s",) if cfg.uses_attention else ()):
        num = B * numerical_gradient(f, params[name], h)
        np.testing.assert_allclose(grads[name], num, rtol=1e-6, atol=1e-8, err_msg=name)
        np.testing.assert_allclose(grads_full[name], grads[name], rtol=1e-12, atol=1e-15)


def test_projection_loss_is_a_fixed_unit_vector(backend):
    cfg, params, x, _ = make(backend)
    y, _ = forward(params, x, cfg)
    dY = to_host(loss_step_grads(y, cfg, seed=5))
    r = dY[0, 0]
    assert np.isclose(np.linalg.norm(r), 1.0)
    assert np.all(dY == r)
    assert not np.allclose(to_host(loss_step_grads(y, cfg, seed=6))[0, 0], r)


def test_total_credit_is_the_norm_of_the_summed_loss_adjoint(backend):
    cfg, params, x, targets = make(backend)
    _, total, cache = credit_matrix(params, x, cfg, targets=targets)
    y = forward(params, x, cfg)[0]
    dH = to_host(backward(loss_step_grads(y, cfg, targets), cache, params)[1])
    np.testing.assert_allclose(total, np.linalg.norm(dH, axis=2).mean(axis=0), rtol=1e-12)


# ------------------------------------------------------------------------------- summaries
def test_reach_share_and_lag_profile_on_a_hand_made_matrix():
    G = np.array([[1.0, 0, 0, 0],
                  [0.5, 1.0, 0, 0],
                  [1e-5, 0.0, 2.0, 0],
                  [0.0, 0.0, 0.0, 0.0]])                            # last step has no loss
    np.testing.assert_array_equal(credit_reach(G, 1e-3), [0, 1, 0, -1])
    np.testing.assert_array_equal(credit_reach(G, 1e-6), [0, 1, 2, -1])
    assert reached(G, 1e-3).sum() == 4
    np.testing.assert_allclose(credit_by_lag(G)[:3], [1.0, 0.25, 5e-6])
    assert np.isnan(credit_by_lag(G)[3])


def test_backward_work_of_the_plain_lstm(backend):
    Tn = 12
    for method, k, rec, per_loss in [("bptt", 3, Tn - 1, Tn * (Tn - 1) // 2),
                                     ("tbptt", 3, Tn - 1 - 3, 4 * 3)]:
        cfg, params, x, _ = make(backend, attention=None, method=method, k_trunc=k)
        G, total, cache = credit_matrix(params, x, cfg)
        s = summarize(G, total, cache)
        w = s["work"]
        assert (w["recurrent"], w["memory"], w["threshold"]) == (rec, 0, 0)
        assert w["edges"] == rec and w["per_loss"] == per_loss
        assert s["work_bptt"]["edges"] == Tn - 1
        assert s["share"] == pytest.approx(reached(G).sum() / (Tn * (Tn + 1) / 2))


@pytest.mark.parametrize("detach", [False, True])
def test_backward_work_counts_the_enumerated_edges(backend, detach):
    cfg, params, x, _ = make(backend, seed=11, k_top=1, k_att=2, k_trunc=4, detach_scores=detach)
    _, cache = forward(params, x, cfg)
    w = backward_work(cache)
    kept = thr = 0
    indeg = np.zeros((B, T))
    for t in range(T):
        _, act, alpha, _ = cache["attn"][t]
        act, m = to_host(act), alpha.shape[1]
        n_kept = np.sum(act[:, :m] >= 1, axis=1)                    # (B,) non-null kept
        kept += n_kept.sum()
        has_thr = (act[:, m] >= 1) & (n_kept > 0) if (act.shape[1] > m and not detach) else 0
        thr += np.sum(has_thr)
        indeg[:, t] = (t > 0 and not cfg.cuts(t)) + n_kept + has_thr
    anc = enumerate_reach(cache)
    per_loss = sum(indeg[b, v] for b in range(B) for t in range(T) for v in anc[b][t]) / B
    assert w["recurrent"] == T - 1 - len([t for t in range(1, T) if t % 4 == 0])
    assert w["memory"] == pytest.approx(kept / B) and w["threshold"] == pytest.approx(thr / B)
    assert w["per_loss"] == pytest.approx(per_loss)
    wb = backward_work(cache, method="bptt")
    assert wb["recurrent"] == T - 1 and wb["memory"] == w["memory"]
    assert wb["per_loss"] > w["per_loss"]


# --------------------------------------------------------------------------- attention views
def test_selections_are_the_nonzero_recorded_weights(backend):
    cfg, params, x, _ = make(backend, k_top=2, k_att=1)
    _, cache = forward(params, x, cfg, record=True)
    sel = selections(cache)
    attn = to_host(cache["record"]["attn"])                         # (T, B, n_max)
    np.testing.assert_array_equal(sel, attn > 0)
    n_mem = np.asarray(cache["record"]["n_mem"])
    np.testing.assert_array_equal(sel.sum(axis=2), np.minimum(n_mem, 2)[:, None] * np.ones(B))
    thr = selections(cache, threshold=True)
    assert np.all(thr >= sel)
    np.testing.assert_array_equal(thr.sum(axis=2) - sel.sum(axis=2),
                                  np.broadcast_to((n_mem > 2)[:, None], (T, B)))
    edges = memory_edges(cache)
    assert not edges[:, :, 0].any() and np.all(edges <= thr)


def test_selections_need_attention_and_softmax_reads_everything(backend):
    cfg, params, x, _ = make(backend, attention=None, method="bptt")
    with pytest.raises(ValueError, match="attention"):
        selections(forward(params, x, cfg)[1])
    cfg, params, x, _ = make(backend, attention="softmax", method="bptt", k_att=3)
    sel = selections(forward(params, x, cfg)[1])
    np.testing.assert_array_equal(sel.sum(axis=2)[:, 0], [1 + t // 3 for t in range(T)])


def test_selection_history_tracks_changes(backend):
    cfg, params, x, _ = make(backend, k_top=2, k_att=2)
    other = init_params(cfg, seed=99, backend=backend)
    hist = selection_history([(0, params), (10, params), (20, other)], x, cfg)
    assert list(hist["steps"]) == [0, 10, 20]
    assert hist["selected"].shape == (3, T, B, 1 + (T - 1) // 2)
    assert np.isnan(hist["changed"][0]) and hist["changed"][1] == 0.0
    assert hist["changed"][2] > 0
    np.testing.assert_allclose(hist["lag"].sum(axis=1), 1.0)
    assert np.all((0 <= hist["null_share"]) & (hist["null_share"] <= 1))
    assert hist["lag"][:, 0].sum() == 0                             # a memory is read later
    with pytest.raises(ValueError, match="snapshots"):
        selection_history([], x, cfg)
