"""Checkers of tutorial 4 (sparse attentive backtracking): a SAB configuration that is BPTT,
a prediction of BPTT's replay, following the credit by hand, SAB's memory-gradient bookkeeping
(one step of the reverse walk at a time), and "SAB in one screen" (``t04_screen``).

4.3, 4.4 and 4.5 check both SABs: the course's (``detach_scores=True``, no mental updates, what
``minisab.train.runs.sab_method()`` trains) and docs/model.md's variant with mental updates
(``detach_scores=False``); the student's function is told which by an argument."""
from __future__ import annotations

import numpy as np

from ..attention import key_backward
from ..config import Config
from ._answers import load, mistakes, pick
from ._verdict import NotDone, call, close, exercise, is_close
from .t04_screen import check_sab_in_one_screen  # noqa: F401  (exercise 4.5)

REPLAY_T = (1, 2, 5, 13, 30)


@exercise("4.2", "predict: BPTT's replay", answers=("bptt_replay",))
def check_bptt_replay(bptt_replay):
    """``bptt_replay(T)`` against ``flow.backward_work(...)["per_loss"]`` of a plain LSTM."""
    got = [call(bptt_replay, T) for T in REPLAY_T]
    measured = load("t04")["4.2/per_loss"]
    for T, g, want in zip(REPLAY_T, got, measured):
        assert isinstance(g, (int, float, np.integer, np.floating)), (
            f"bptt_replay({T}) returned {g!r}: return a number")
        hint = "loss step t replays the t recurrent edges h_t -> h_{t-1} -> ... -> h_0"
        if abs(float(g) - T * (T + 1) / 2) < 1e-9:
            hint = "you counted states (t + 1 for step t), not the edges between them (t)"
        elif abs(float(g) - T * T / 2) < 1e-9 or abs(float(g) - T * T) < 1e-9:
            hint += "; sum t over t = 0 .. T-1 exactly"
        assert abs(float(g) - want) < 1e-9, f"bptt_replay({T}) = {g}, measured {want:g} -> {hint}"
    return "T(T-1)/2: quadratic in the sequence length."


@exercise("4.1", "predict: a SAB configuration that is BPTT", answers=("sab_like_bptt",),
          modules=("minisab.config",))
def check_sab_like_bptt(sab_like_bptt):
    """The returned config keeps ``method="sab"`` and gives BPTT's gradient for sequences of
    ANY length: ``k_trunc=None`` (no cut; docs/model.md §4: SAB differs from BPTT only by the
    cut recurrent edges). A large finite ``k_trunc`` (10**9) is refused: it still cuts at step
    k_trunc, so it is BPTT only for the lengths one happened to try."""
    cfg = Config(input_size=3, hidden_size=4, output_size=3, attention="topk", attn_size=3,
                 k_top=2, k_att=2, method="sab", k_trunc=3, detach_scores=True)
    new = call(sab_like_bptt, cfg)
    assert isinstance(new, Config), "return a Config (cfg.replace(...))"
    assert new.method == "sab", f"keep method='sab' (got {new.method!r})"
    same = [f for f in ("attention", "k_top", "k_att", "hidden_size", "scorer", "detach_scores",
                        "memory_write", "input_size", "output_size", "attn_size")
            if getattr(new, f) != getattr(cfg, f)]
    assert not same, f"change only the truncation (you changed {sorted(same)})"
    assert new.k_trunc is None, (
        f"k_trunc={new.k_trunc} still cuts the recurrent edge into step {new.k_trunc}: for "
        "sequences longer than that the gradient is not BPTT's. 'Any length' means no cut at "
        "all: SAB differs from BPTT only by the cut recurrent edges (docs/model.md §4).")
    return "No cut, no truncation: SAB's backward is BPTT's."


# ------------------------------------------------------------------ 4.3: follow the credit
REACH_CASES = ((2, 2, 3), (3, 1, 4), (1, 3, 2))      # (k_top, k_att, k_trunc), T = 16, B = 3
REACH_STEPS = (15, 11, 6)


def problems_reached():
    """Exercise 4.3's arguments ``(kept, threshold, k_att, k_trunc, t, detach_scores)`` for one
    sequence of a small SAB model, with where each comes from: ``(case, b, t, detach)``."""
    data = load("t04_inputs")
    out = []
    for c, (_k_top, k_att, k_trunc) in enumerate(REACH_CASES):
        kept_all, thr_all = data[f"4.3/{c}/kept"], data[f"4.3/{c}/threshold"]   # (B, T, n)
        for detach in (True, False):
            for b in range(kept_all.shape[0]):
                kept = [np.nonzero(row)[0].tolist() for row in kept_all[b]]
                thr = [None if j < 0 else int(j) for j in thr_all[b]]
                for t in REACH_STEPS:
                    out.append(((c, b, t, detach), (kept, thr, k_att, k_trunc, t, detach)))
    return out


@exercise("4.3", "follow the credit", answers=("states_reached",), points=2)
def check_states_reached(states_reached):
    """``states_reached(kept, threshold, k_att, k_trunc, t, detach_scores)`` against the
    non-zero pattern of the per-sequence credit matrix (``flow.credit_matrix``)."""
    cases = problems_reached()
    outs = [call(states_reached, *args) for _, args in cases]
    key = load("t04")
    for ((c, b, t, detach), _args), got in zip(cases, outs):
        assert got is not None, "return a list of states"
        try:
            got = {int(s) for s in got}
        except (TypeError, ValueError):
            raise AssertionError("return a list of ints (the states h_s reached)") from None
        row = key[f"4.3/{c}/{int(detach)}/reached"][b, t]             # (T,) bool
        want = set(np.nonzero(row)[0].tolist())
        k_top, k_att, k_trunc = REACH_CASES[c]
        where = (f"k_top={k_top}, k_att={k_att}, k_trunc={k_trunc}, detach_scores={detach}, "
                 f"loss step {t}: you found {sorted(got)}, the credit matrix has {sorted(want)}")
        if got - want:
            extra = ("With detach_scores=True no credit flows through a score into a state: the "
                     "threshold memory (weight 0) gets nothing. " if detach else "")
            raise AssertionError(
                f"{where}. Too many: states {sorted(got - want)} get no credit. {extra}Did you "
                "cross a cut recurrent edge (the edge into step u is cut when u >= 1 and "
                "u % k_trunc == 0), follow reads of a step that is not itself reached, or count "
                "a read of the null memory alone (a zero vector: nothing flows)?")
        assert not want - got, (
            f"{where}. Missing {sorted(want - got)}: did you include the reads made by the "
            "memories' own chunks (a reached memory's step reads memories too)"
            + ("?" if detach else ", and the threshold memory (its score sets δ, so with "
               "detach_scores=False it gets credit through the scores)?"))
    return "Credit hops: chunk, memory read, chunk, ... exactly as the backward walks."


# ------------------------------------------------------------- 4.4: the memory bookkeeping
MEMORY_CASES = ((2, 2, 11), (3, 1, 13))             # (k_att, k_top, T); k_trunc = 3
MEMORY_HINTS = {
    "added_nothing": "you added nothing: the state h_t that was written as memory "
                     "j = (t+1) // k_att gets credit from every later read of it (dM[:, j])",
    "no_key": "you added what the reads sent through the summaries (dM) but not through the "
              "scores: with detach_scores=False (mental updates) each read also differentiates "
              "a_j = w_s·tanh(q + m_j W_m) with respect to m_j, collected in dK[:, j]; "
              "key_backward turns it into a gradient of m_j",
    "key_when_detached": "with detach_scores=True (the course's SAB, no mental updates) the "
                         "scores are constants for the states: dK[:, j] trains W_m only, and "
                         "nothing of it joins h_t. Add dM[:, j] alone.",
    "j_off_by_one": "off by one: h_t is written after step t when (t + 1) % k_att == 0, as "
                    "memory j = (t+1) // k_att (memory 0 is the null memory)",
    "t_mod": "the test is (t + 1) % k_att == 0, not t % k_att == 0: h_t is written AFTER step "
             "t, so the states written are h_{k_att-1}, h_{2k_att-1}, ... (memory j is "
             "h_{j k_att - 1})",
    "overwrite": "you replaced dh instead of adding to it: dh already holds the credit from "
                 "h_t's own output and from step t+1; the reads' credit joins it (dh + ...)",
}


def memory_cfg(k_att, k_top, detach):
    return Config(input_size=3, hidden_size=5, output_size=3, attention="topk", attn_size=4,
                  k_top=k_top, k_att=k_att, method="sab", k_trunc=3, detach_scores=detach)


def problems_memory():
    """Exercise 4.4's arguments, one step of the reverse walk each:
    ``(t, dh, dM, dK, M, K, params, cfg)`` with dh, dM, dK as the walk has them at step t."""
    data = load("t04_inputs")
    out = []
    for c, (k_att, k_top, T) in enumerate(MEMORY_CASES):
        for detach in (True, False):
            d = pick(data, f"4.4/{c}/{int(detach)}")
            params = {"W_m": d["W_m"]}
            cfg = memory_cfg(k_att, k_top, detach)
            steps = [(t, d["dh"][t].copy(), d["dM"][t].copy(), d["dK"][t].copy(), d["M"].copy(),
                      d["K"].copy(), {k: v.copy() for k, v in params.items()}, cfg)
                     for t in range(T - 1, -1, -1)]
            out.append(((c, detach), steps))
    return out


@exercise("4.4", "SAB's memory-gradient bookkeeping", answers=("add_memory_credit",), points=3,
          allowed=(key_backward,), modules=("minisab.config",),
          hands_out="it hands out key_backward only.")
def check_memory_credit(add_memory_credit):
    """``add_memory_credit(t, dh, dM, dK, M, K, params, cfg) -> dh``, called at every step of
    the reverse walk of ``minisab.backward`` with what the walk holds there, for both SABs
    (``cfg.detach_scores``); the result must be h_t's whole adjoint."""
    cases = problems_memory()
    outs = []
    for _, steps in cases:
        got = [call(add_memory_credit, *args) for args in steps]
        if any(g is None for g in got):
            raise NotDone
        outs.append(got)
    key = load("t04")
    for ((c, detach), steps), got in zip(cases, outs):
        k_att, k_top, T = MEMORY_CASES[c]
        d = pick(key, f"4.4/{c}/{int(detach)}")
        want = d["dh"][::-1]                                 # stored by t, walked T-1 .. 0
        where = f"k_att={k_att}, detach_scores={detach}"
        shapes = {np.shape(g) for g in got}
        assert shapes == {want.shape[1:]}, f"{where}: return dh of shape {want.shape[1:]}"
        got = np.stack([np.asarray(g) for g in got])
        if is_close(got, want, 1e-9) and got.dtype == np.float64:
            continue
        for name, wrong in mistakes(key, f"4.4/{c}/{int(detach)}").items():
            if is_close(got, wrong["dh"][::-1], 1e-8):        # variants: "t_mod.next", ...
                raise AssertionError(f"{where}: {MEMORY_HINTS[name.split('.')[0]]}")
        bad = next((i for i in range(len(steps)) if not is_close(got[i], want[i], 1e-9)), 0)
        t = steps[bad][0]
        written = (t + 1) % k_att == 0
        close(f"{where}, step t={t} (h_{t} is " + (f"memory {(t + 1) // k_att})" if written
                                                    else "not a memory)"),
              got[bad], want[bad], tol=1e-9)
    return "Every read of a memory sends its credit back to the state that was written."
