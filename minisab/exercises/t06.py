"""Checkers of tutorial 6 (transfer): a prediction of how many memories a step reads (top-k
against softmax), the bound of the state, and the open exercise (one change that bounds it)."""
from __future__ import annotations

import numpy as np

from ..backend import to_host
from ..config import Config
from ..params import init_params
from ._verdict import call as _call_plain, exercise as _verdict


def _call(label, fn, *args, **kw):
    return _call_plain(fn, *args, **kw)


def _transfer_problem(memory_write="h", k_att=1, seed=0, T=9):
    """A small SAB model (random weights, forget bias 1) and a batch of large inputs."""
    cfg = Config(input_size=3, hidden_size=5, output_size=3, attn_size=4, k_top=2, k_att=k_att,
                 method="sab", k_trunc=3, memory_write=memory_write)
    x = np.random.default_rng(60 + seed).normal(size=(3, T, 3)) * 2.0
    return cfg, init_params(cfg, seed=seed, forget_bias=1.0), x


def _weights_above_zero(attention, k_top, k_att, T=14, seed=0):
    """Measured: per step, the number of memories with a weight > 0 (max over the batch)."""
    from ..sab import forward
    method = {"topk": "sab", "softmax": "bptt"}[attention]
    cfg = Config(input_size=3, hidden_size=5, output_size=3, attn_size=4, k_top=k_top,
                 k_att=k_att, attention=attention, method=method,
                 k_trunc=3 if method == "sab" else None)
    x = np.random.default_rng(61 + seed).normal(size=(3, T, 3))
    _, cache = forward(init_params(cfg, seed=seed), x, cfg, record=True)
    attn = np.asarray(to_host(cache["record"]["attn"]))                # (T, B, n_max)
    return np.max(np.sum(attn > 0, axis=2), axis=1)                     # (T,)


@_verdict("6.1 (predict: how many memories a step reads)")
def check_memories_read(memories_read):
    """``memories_read(t, k_att, k_top, attention)``: how many memories get a weight > 0 at
    step t, for ``attention="topk"`` (SAB) and ``"softmax"`` (dense). Measured on minisab's
    forward (``record["attn"]``) of small random models."""
    for attention, k_top, k_att in (("topk", 3, 1), ("topk", 2, 2), ("topk", 4, 3),
                                    ("softmax", 3, 1), ("softmax", 2, 2)):
        want = [int(w) for w in _weights_above_zero(attention, k_top, k_att, seed=k_top + k_att)]
        got = []
        for t in range(len(want)):
            g = _call("6.1", memories_read, t, k_att, k_top, attention)
            assert g is not None, f"memories_read({t}, ...) returned None: return an int"
            got.append(int(g))
        if got == want:
            continue
        t = next(u for u in range(len(want)) if got[u] != want[u])
        n = [1 + u // k_att for u in range(len(want))]             # memories at each step
        n_t = n[t]
        where = (f"memories_read(t={t}, k_att={k_att}, k_top={k_top}, {attention!r}) = {got[t]}, "
                 f"measured {want[t]}")
        hint = f"step t has n_t = 1 + t // k_att = {n_t} memories"
        if attention == "softmax" and got == [min(m, k_top) for m in n]:
            hint = ("a softmax has no k_top: it gives EVERY memory a weight "
                    f"e^{{a_j}} / sum_i e^{{a_i}} > 0, all n_t = {n_t} of them")
        elif got == [min(m - 1, k_top) if attention == "topk" else m - 1 for m in n]:
            hint = ("the null memory counts: it is memory 0, a zero vector that every step "
                    f"can read, so step t has n_t = 1 + t // k_att = {n_t} memories")
        elif attention == "softmax":
            hint = ("a softmax gives EVERY memory a weight e^{a_j} / sum_i e^{a_i} > 0, "
                    f"however small: all n_t = {n_t}. That is why its read dilutes as the "
                    "memories multiply")
        elif got == n:
            hint = ("top-k keeps only the k_top best scores when there are more memories: "
                    "the others get weight exactly 0, however many there are")
        elif got == [min(m, k_top + 1) for m in n]:
            hint = ("the threshold memory (the (k_top+1)-th score) sets δ and gets weight "
                    "exactly 0: it is touched by the backward, not read. k_top memories are "
                    "read")
        elif got[t] == k_top and n_t < k_top:
            hint = (f"only {n_t} memories exist at step {t}: when n_t <= k_top every one is "
                    "kept (δ is then below every score)")
        raise AssertionError(f"{where} -> {hint}")
    return ("SAB reads min(n_t, k_top) memories at any length; a softmax reads all "
            "n_t = 1 + t // k_att, more and more thinly.")


def _h_bound(t, k_att, memory_write):
    """The least upper bound of max|h_t| (the answer to 6.2): |ĥ_t| < 1, and s_t is a weighted
    average (weights >= 0, sum <= 1) of the t // k_att memories written so far (and the null)."""
    n_written = t // k_att
    return 1 + (n_written if memory_write == "h" else min(n_written, 1))


def _saturated_sab(memory_write, k_att, T):
    """Parameters that make |h_t| as large as the model allows: every gate saturated (c_t grows,
    so ĥ_t -> 1), a silent query, and scores that grow with the memory, so that the largest
    (most recent) memory is kept with a weight near 1 (k_top = 1)."""
    cfg = Config(input_size=1, hidden_size=3, output_size=2, attn_size=2, k_top=1,
                 k_att=k_att, method="sab", k_trunc=5, memory_write=memory_write)
    p = init_params(cfg, seed=0)
    for name in ("W_x", "W_h", "W_q"):
        p[name][...] = 0.0
    p["b"][...] = 20.0
    p["W_m"][...] = 1.0 / (2 * T * cfg.hidden_size)
    p["w_s"][...] = 1e3
    return cfg, p


@_verdict("6.2 (how large can h_t get?)")
def check_h_bound(h_bound):
    """``h_bound(t, k_att, memory_write)``: the least upper bound of max|h_t| over all
    parameters and inputs. It must hold on a worst-case model (saturated gates, the top memory
    weighted ~1) and on random ones, and it must be the least such bound."""
    from ..sab import forward
    T = 30
    for memory_write in ("h", "h_hat", "tanh_h"):
        for k_att in (1, 2, 3):
            where = f"memory_write={memory_write!r}, k_att={k_att}"
            bounds = []
            for t in range(T):
                b = _call("6.2", h_bound, t, k_att, memory_write)
                assert b is not None, f"h_bound({t}, {k_att}, {memory_write!r}) returned None"
                bounds.append(float(b))
            cfg, p = _saturated_sab(memory_write, k_att, T)
            worst = np.max(np.abs(forward(p, np.zeros((1, T, 1)), cfg)[1]["hs"]), axis=(0, 2))
            for seed in range(2):
                c2, p2, x2 = _transfer_problem(memory_write, k_att, seed, T)
                worst = np.maximum(worst, np.max(np.abs(forward(p2, x2, c2)[1]["hs"]),
                                                 axis=(0, 2)))
            for t in range(T):                          # first: does the bound hold?
                assert worst[t] <= bounds[t] + 1e-9, (
                    f"{where}: at step t={t} a model reaches max|h_t| = {worst[t]:.3f}, above "
                    f"your bound {bounds[t]:g}. Hint: |ĥ_t| < 1, and s_t is a weighted average "
                    "(weights >= 0, summing to at most 1) of the memories that exist at step t: "
                    "how large can a memory be?")
            for t in range(T):                          # then: is it the least one?
                want = _h_bound(t, k_att, memory_write)
                assert bounds[t] <= want + 1e-9, (
                    f"{where}: h_bound({t}, ...) = {bounds[t]:g} holds but is not the least bound "
                    f"(the worst-case model reaches {worst[t]:.3f} there, and a model can come "
                    "as close to the least bound as you like). Count the memories written before "
                    "step t (after steps k_att-1, 2k_att-1, ...; none before step k_att) and how "
                    "large each can be.")
                assert bounds[t] >= want - 1e-9, (
                    f"{where}: h_bound({t}, ...) = {bounds[t]:g} is too small: no model here "
                    "exceeds it, but a model can get as close as you like to a larger value at "
                    "this step (saturate every gate so that ĥ -> 1, and give the largest memory "
                    "a weight -> 1).")
    return ("With memory_write='h' each memory can hold one unit more than the one before: "
            "|h_t| < 1 + t // k_att grows with the length. Writing ĥ or tanh(h) caps it at 2.")


@_verdict("6.3 (open: bound the state at any length)")
def check_open_bounded_state(base_cfg, my_cfg):
    """The measurable part: ``my_cfg`` changes ONE field of the SAB model ``base_cfg`` and
    keeps max|h_t| below 2 at any length (the least bound of exercise 6.2 at t = 10**6, and the
    worst-case model of 6.2 measured at 60 steps)."""
    from ..sab import forward
    from .t05 import changed_fields
    if my_cfg is None:
        _call("6.3", None)
    assert isinstance(my_cfg, Config), "my_cfg must be a Config (base_cfg.replace(...))"
    changed = changed_fields(base_cfg, my_cfg)
    assert len(changed) == 1, f"change exactly one field (you changed {changed or 'none'})"
    assert my_cfg.uses_attention and my_cfg.method == base_cfg.method, (
        "keep the model SAB: the question is how SAB's state can stay bounded")
    bound = _h_bound(10 ** 6, my_cfg.k_att, my_cfg.memory_write)
    assert bound <= 2, (
        f"with {changed[0]}={getattr(my_cfg, changed[0])!r} the state can still reach "
        f"{bound:g} after 10**6 steps: each memory written as h can hold one unit more than the "
        "one before, however rarely memories are written. Change what is written, not how often")
    T = 60
    cfg, p = _saturated_sab(my_cfg.memory_write, my_cfg.k_att, T)
    worst = float(np.max(np.abs(forward(p, np.zeros((1, T, 1)), cfg)[1]["hs"])))
    assert worst < 2, f"a worst-case model reaches max|h_t| = {worst:.3f} at T = {T}"
    return (f"{changed[0]}={getattr(my_cfg, changed[0])!r}: the worst case stays at "
            f"{worst:.3f} < 2 (60 steps). Now explain what the model gives up by it.")
