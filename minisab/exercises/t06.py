"""Checkers of tutorial 6 (transfer): a prediction of how many memories a step reads (top-k
against softmax), the bound of the state, and the open exercise (one change that bounds it)."""
from __future__ import annotations


from ..config import Config
from ._answers import load
from ._verdict import call, exercise

READ_CASES = (("topk", 3, 1), ("topk", 2, 2), ("topk", 4, 3), ("softmax", 3, 1),
              ("softmax", 2, 2))                                  # (attention, k_top, k_att)
READ_T = 14
BOUND_WRITES, BOUND_K_ATT, BOUND_T = ("h", "h_hat", "tanh_h"), (1, 2, 3), 30


@exercise("6.1", "predict: how many memories a step reads", answers=("memories_read",))
def check_memories_read(memories_read):
    """``memories_read(t, k_att, k_top, attention)``: how many memories get a weight > 0 at
    step t, for ``attention="topk"`` (SAB) and ``"softmax"`` (dense). Measured on minisab's
    forward (``record["attn"]``) of small random models."""
    outs = [[call(memories_read, t, k_att, k_top, att) for t in range(READ_T)]
            for att, k_top, k_att in READ_CASES]
    measured = load("t06")["6.1/read"]                           # (cases, READ_T)
    for (attention, k_top, k_att), got, want in zip(READ_CASES, outs, measured):
        want = [int(w) for w in want]
        for t, g in enumerate(got):
            assert g is not None, f"memories_read({t}, ...) returned None: return an int"
        got = [int(g) for g in got]
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


@exercise("6.2", "how large can h_t get?", answers=("h_bound",), points=2)
def check_h_bound(h_bound):
    """``h_bound(t, k_att, memory_write)``: the least upper bound of max|h_t| over all
    parameters and inputs. It must hold on a worst-case model (saturated gates, the top memory
    weighted ~1) and on random ones, and it must be the least such bound."""
    T = BOUND_T
    outs = [[[call(h_bound, t, k_att, w) for t in range(T)] for k_att in BOUND_K_ATT]
            for w in BOUND_WRITES]
    data = load("t06")
    least, measured = data["6.2/least"], data["6.2/worst"]     # (writes, k_atts, T)
    for a, memory_write in enumerate(BOUND_WRITES):
        for c, k_att in enumerate(BOUND_K_ATT):
            where = f"memory_write={memory_write!r}, k_att={k_att}"
            bounds = []
            for t, b in enumerate(outs[a][c]):
                assert b is not None, f"h_bound({t}, {k_att}, {memory_write!r}) returned None"
                try:
                    bounds.append(float(b))
                except (TypeError, ValueError):
                    raise AssertionError(f"h_bound({t}, ...) returned {b!r}: return a number") \
                        from None
            worst = measured[a, c]
            for t in range(T):                          # first: does the bound hold?
                assert worst[t] <= bounds[t] + 1e-9, (
                    f"{where}: at step t={t} a model reaches max|h_t| = {worst[t]:.3f}, above "
                    f"your bound {bounds[t]:g}. Hint: |ĥ_t| < 1, and s_t is a weighted average "
                    "(weights >= 0, summing to at most 1) of the memories that exist at step t: "
                    "how large can a memory be?")
            for t in range(T):                          # then: is it the least one?
                want = float(least[a, c, t])
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


@exercise("6.3", "open: bound the state at any length",
          answers=('trained["sab"][0]', "my_cfg"), points=2)
def check_open_bounded_state(base_cfg, my_cfg):
    """The measurable part: ``my_cfg`` changes ONE field of the SAB model ``base_cfg`` and
    keeps max|h_t| below 2 at any length (the least bound of exercise 6.2 at t = 10**6, and the
    worst-case model of 6.2 measured at 60 steps)."""
    from .t05 import changed_fields
    if my_cfg is None:
        call(None)
    assert isinstance(my_cfg, Config), "my_cfg must be a Config (base_cfg.replace(...))"
    changed = changed_fields(base_cfg, my_cfg)
    assert len(changed) == 1, f"change exactly one field (you changed {changed or 'none'})"
    assert my_cfg.uses_attention and my_cfg.method == base_cfg.method, (
        "keep the model SAB: the question is how SAB's state can stay bounded")
    bound = 1 + (10 ** 6 // my_cfg.k_att if my_cfg.memory_write == "h" else 1)
    assert bound <= 2, (
        f"with {changed[0]}={getattr(my_cfg, changed[0])!r} the state can still reach "
        f"{bound:g} after 10**6 steps: each memory written as h can hold one unit more than the "
        "one before, however rarely memories are written. Change what is written, not how often")
    worst = load("t06").get(f"6.3/worst/{my_cfg.memory_write}/{my_cfg.k_att}")
    shown = "" if worst is None else (f": the worst case stays below 2 (max|h_t| = "
                                      f"{float(worst):.6f} over 60 steps)")
    assert worst is None or float(worst) < 2, (
        f"a worst-case model reaches max|h_t| = {float(worst):.3f} at T = 60")
    return (f"{changed[0]}={getattr(my_cfg, changed[0])!r}{shown}. Now explain what the model "
            "gives up by it.")
