"""Checkers of tutorial 7 (ablations): attention work, truncated replay, and the open
exercise (one knob changed, its cost measured)."""
from __future__ import annotations


from ._answers import load
from ._verdict import call, exercise

WORK_CASES = ((1, 1, 1), (7, 2, 1), (12, 3, 2), (26, 5, 1), (17, 4, 3), (9, 10, 2), (30, 1, 4))
REPLAY_CASES = ((1, 3), (5, 1), (10, 3), (26, 5), (30, 7), (12, 20), (9, None))


@exercise("7.1", "what k_top and k_att cost", answers=("attention_work",), points=2)
def check_attention_work(attention_work):
    """``attention_work(T, k_top, k_att) -> (scores, rows)`` for one sequence of T steps:
    ``scores`` = raw scores the forward computes (every step scores every memory it has, the
    null memory included); ``rows`` = memory rows the attention backward touches (the kept
    memories and the threshold memory). Measured on minisab's forward (``record["n_mem"]`` and
    the ``act`` arrays of ``cache["attn"]``)."""
    outs = [call(attention_work, *case) for case in WORK_CASES]
    measured = load("t07")["7.1/work"]                           # (cases, 2)
    for (T, k_top, k_att), got, (scores, rows) in zip(WORK_CASES, outs, measured):
        assert isinstance(got, (tuple, list)) and len(got) == 2, "return the pair (scores, rows)"
        where = f"attention_work({T}, k_top={k_top}, k_att={k_att})"
        assert int(got[0]) == scores, (
            f"{where}: {got[0]} scores, measured {scores}. Step t scores every memory it has: "
            "n_t = 1 + t // k_att (the null memory included; tutorial 3).")
        assert int(got[1]) == rows, (
            f"{where}: {got[1]} rows, measured {rows}. A step touches its k_top kept memories "
            "and the threshold memory (k_top + 1 rows) when n_t > k_top, and all n_t when "
            "n_t <= k_top.")
    return ("Forward: sum_t (1 + t // k_att), about T^2 / (2 k_att). Backward: at most "
            "k_top + 1 rows a step, however many memories there are.")


@exercise("7.2", "the replay of truncated BPTT", answers=("tbptt_replay",))
def check_tbptt_replay(tbptt_replay):
    """``tbptt_replay(T, k_trunc)`` against ``flow.backward_work(cache)["per_loss"]`` of a plain
    LSTM under ``tbptt``: the recurrent edges replayed if every loss L_t is backpropagated
    alone (``k_trunc=None``: no cut)."""
    outs = [call(tbptt_replay, *case) for case in REPLAY_CASES]
    measured = load("t07")["7.2/per_loss"]
    for (T, k), got, want in zip(REPLAY_CASES, outs, measured):
        assert got is not None and abs(float(got) - want) < 1e-9, (
            f"tbptt_replay({T}, {k}) = {got}, measured {want:g}. Loss step t replays back to "
            "the start of its chunk (tutorial 2, exercise 2.3); k_trunc=None cuts nothing "
            "(tutorial 4, exercise 4.1).")
    return ("Sum over t of (t mod k_trunc): about T (k_trunc - 1) / 2, linear in T where "
            "BPTT's T (T - 1) / 2 is quadratic.")


KNOBS = ("k_top", "k_att", "k_trunc", "detach_scores")


@exercise("7.3", "open: one knob of your own",
          answers=('run("seed", 0)["cfg"] if my_run is not None else None', "my_run",
                   "my_steps", "TARGET"), points=2)
def check_open_ablation(reference_cfg, my_run, my_steps, target=0.9):
    """The measurable part: ``my_run`` (what ``run(knob, value)`` returns) changes ONE of the
    knobs k_top, k_att, k_trunc, detach_scores of the reference, and ``my_steps`` is the step at
    which its recall accuracy first reached ``target`` in its records (None if never)."""
    from .t05 import changed_fields
    if my_run is None:
        call(None)
    assert isinstance(my_run, dict) and "cfg" in my_run and "records" in my_run, (
        "my_run must be what run(knob, value) returned")
    changed = changed_fields(reference_cfg, my_run["cfg"])
    assert len(changed) == 1 and changed[0] in KNOBS, (
        f"change exactly one of {KNOBS} (you changed {changed or 'none'})")
    hits = [r["step"] for r in my_run["records"] if r.get("accuracy", -1.0) >= target]
    want = hits[0] if hits else None
    assert my_steps == want, (
        f"my_steps = {my_steps!r}, but the records first reach {target:.0%} at step {want!r} "
        "(None: never). Read it from my_run['records'] (tutorial 5's steps_to_reach does it)")
    return (f"{changed[0]}={getattr(my_run['cfg'], changed[0])!r}: "
            + ("not reached" if want is None else f"{target:.0%} at step {want}")
            + ". Now explain it, and say how many seeds you would need to trust it.")
