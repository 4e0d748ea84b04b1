"""Checkers of tutorial 6 (transfer): the size of the state along a sequence, its bound, and the
open exercise (one change that bounds the state)."""
from __future__ import annotations

import numpy as np

from ..backend import to_host
from ..config import Config
from ..params import init_params
from ._verdict import call as _call_plain, close as _close, exercise as _verdict


def _call(label, fn, *args, **kw):
    return _call_plain(fn, *args, **kw)


def _transfer_problem(memory_write="h", k_att=1, seed=0, T=9):
    """A small SAB model (random weights, forget bias 1) and a batch of large inputs."""
    cfg = Config(input_size=3, hidden_size=5, output_size=3, attn_size=4, k_top=2, k_att=k_att,
                 method="sab", k_trunc=3, memory_write=memory_write)
    x = np.random.default_rng(60 + seed).normal(size=(3, T, 3)) * 2.0
    return cfg, init_params(cfg, seed=seed, forget_bias=1.0), x


@_verdict("6.1 (the size of the state along a sequence)")
def check_h_max_profile(h_max_profile):
    """``h_max_profile(params, cfg, x) -> (T,)``: max over the batch and the units of |h_t|,
    against ``minisab.diagnose.diagnose(...)["h_max"]``, for SAB and for a plain LSTM."""
    from ..diagnose import diagnose
    for memory_write, k_att, seed in (("h", 1, 0), ("h", 2, 1), ("h_hat", 1, 2), (None, 1, 3)):
        cfg, params, x = _transfer_problem(memory_write or "h", k_att, seed)
        what = f"SAB, memory_write={memory_write!r}, k_att={k_att}"
        if memory_write is None:
            cfg = Config(input_size=3, hidden_size=5, output_size=3, attention=None,
                         method="bptt")
            params, what = init_params(cfg, seed=seed), "a plain LSTM"
        want = diagnose(params, cfg, x, np.zeros(x.shape[:2], dtype=np.int64))["h_max"]
        got = _call("6.1", h_max_profile, params, cfg, x)
        assert got is not None, "your function returned None: return one number per step"
        got = np.asarray(to_host(got), dtype=float)
        assert got.shape == want.shape, (
            f"{what}: shape {got.shape}, expected {want.shape}: one number per step t (reduce "
            "cache['hs'] (B, T, H) over the batch axis 0 and the unit axis 2)")
        _close(f"max|h_t| per step, {what} (h_t is cache['hs'][:, t, :], the state after the "
               "summary is added, not h_hat; and take the absolute value)", got, want, tol=1e-9)
    return "Same as diagnose's h_max, for SAB with both memory writes and for a plain LSTM."


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
