"""Checkers of tutorial 5 (experiments): two predictions (what a model that outputs only blanks
scores on the copy task; which memory first holds a digit), and the open exercise (truncated
BPTT that solves the copy task)."""
from __future__ import annotations

import numpy as np

from ..config import Config
from ._answers import load
from ._verdict import call, exercise

BLANK_CASES = ((20, 3, 8), (5, 2, 4), (40, 10, 8), (1, 1, 3))      # (T, n_digits, n_symbols)
DIGIT_CASES = {"k_att": (1, 2, 3), "i": 5}


@exercise("5.1", "predict: what a blank-only model scores", answers=("blank_model_scores",))
def check_blank_model(blank_model_scores):
    """``blank_model_scores(T, n_digits, n_symbols) -> (every_step, recall)``: the accuracy over
    every step, and the copy task's metric (``Task.metric``, the recall accuracy), of a model
    that outputs the blank at every step. Measured on copy-task batches."""
    outs = [call(blank_model_scores, T, n, V) for T, n, V in BLANK_CASES]
    measured = load("t05")["5.1/scores"]                          # (cases, 2): every, recall
    for (T, n, V), got, (every, recall) in zip(BLANK_CASES, outs, measured):
        where = f"T={T}, n_digits={n}, n_symbols={V}"
        assert isinstance(got, (tuple, list)) and len(got) == 2, (
            "return the pair (accuracy over every step, recall accuracy)")
        got_every, got_recall = (float(v) for v in got)
        if abs(got_every - 100 * every) < 1e-9 or abs(got_recall - 100 * recall) < 1e-9 < recall:
            raise AssertionError(f"{where}: {got} look like percentages; return fractions in "
                                 "[0, 1]")
        if abs(got_recall - recall) > 1e-9:
            hint = ("the recall steps' targets are digits, and the blank is never a digit: a "
                    "model that always answers blank gets every recall wrong")
            if abs(got_recall - 1 / V) < 1e-9:
                hint = ("1 / n_symbols is chance for a model that guesses a digit at random; this "
                        "one never outputs a digit at all, so " + hint[hint.index("a model"):])
            raise AssertionError(f"{where}: recall accuracy {got_recall:.4g}, measured "
                                 f"{recall:.4g} -> {hint}")
        if abs(got_every - every) > 1e-9:
            hint = ("count the steps whose target is the blank: the n digits' input steps, the "
                    "T - 1 blanks AND the marker's step (its target is a blank too), out of "
                    "T + 2n steps")
            if abs(got_every - 0.0) < 1e-9:
                hint = ("most targets ARE blanks (every step but the n recalls): " + hint)
            raise AssertionError(f"{where}: accuracy over every step {got_every:.4g}, measured "
                                 f"{every:.4g} -> {hint}")
    return ("(T + n) / (T + 2n) of the steps, and 0 of the recalls: a loss over every step "
            "rewards blanks, so the copy task is judged by the recall accuracy.")


@exercise("5.2", "predict: which memory first holds digit i", answers=("digit_memory",))
def check_digit_memory(digit_memory):
    """``digit_memory(i, k_att)``: the index j of the first memory that holds what was read at
    step i (memory 0 is the null memory; memory j >= 1 is the state written after step
    j k_att - 1). Measured on minisab's forward: the first memory row that changes when the
    input at step i changes."""
    ks, n = DIGIT_CASES["k_att"], DIGIT_CASES["i"]
    outs = [[call(digit_memory, i, k) for i in range(n)] for k in ks]
    measured = load("t05")["5.2/memory"]                         # (len(ks), n)
    for a, k_att in enumerate(ks):
        for i in range(n):
            want, got = int(measured[a, i]), outs[a][i]
            assert got is not None, f"digit_memory({i}, {k_att}) returned None: return an int"
            got = int(got)
            if got == want:
                continue
            hint = ("memory j >= 1 is h_t of step t = j k_att - 1, and it holds digit i only if "
                    "it was written at or after step i")
            if got == (i + 1) // k_att and got < want:
                hint = ("memory (i + 1) // k_att was written before step i when k_att does not "
                        "divide i + 1: round up, to the first memory written at or after step i")
            elif got == i or (k_att == 1 and got == want - 1):
                hint = ("memory 0 is the null memory (a zero vector, written before step 0), so "
                        "the state after step t is memory t // k_att + 1 when it is written")
            elif got == i + 1 and k_att > 1:
                hint = ("a memory is written only every k_att steps (after steps k_att - 1, "
                        "2 k_att - 1, ...): the state after step i is not a memory unless "
                        "(i + 1) % k_att == 0")
            raise AssertionError(f"digit_memory({i}, k_att={k_att}) = {got}, measured {want} "
                                 f"-> {hint}")
    return "Memory ceil((i + 1) / k_att): the first state written at or after step i."


def changed_fields(base, new):
    """The Config fields in which ``new`` differs from ``base``."""
    import dataclasses
    return [f.name for f in dataclasses.fields(base) if getattr(base, f.name) != getattr(new, f.name)]


@exercise("5.3", "open: make truncated BPTT solve the copy task",
          answers=('cfgs["lstm tbptt"]', "my_cfg", "task", "my_replay"), points=2)
def check_open_tbptt(base_cfg, my_cfg, task, my_replay):
    """The measurable part of the open exercise: ``my_cfg`` changes ONE field of ``base_cfg``
    (truncated BPTT, a plain LSTM), still trains with ``method="tbptt"``, and connects every
    recall step to the step its digit was read (no cut between them); ``my_replay`` is its
    per-loss backward replay at the task's length (``flow.backward_work``). The explanation is
    graded with the rubric of the solutions."""
    from ..credit.flow import backward_work
    from ..sab import forward
    from ..params import init_params
    if my_cfg is None or my_replay is None:
        call(None)
    assert isinstance(my_cfg, Config), "my_cfg must be a Config (base_cfg.replace(...))"
    changed = changed_fields(base_cfg, my_cfg)
    assert len(changed) == 1, (f"change exactly one field (you changed {changed or 'none'}): an "
                               "open exercise asks what ONE knob does")
    assert my_cfg.method == "tbptt", ("keep method='tbptt': the question is what truncated BPTT "
                                      "needs, not which other algorithm works")
    n = task.options["n_digits"]
    for i in range(n):                      # digit i is read at step i, recalled at T + n + i
        recall = task.T + n + i
        cut = [u for u in range(i + 1, recall + 1) if my_cfg.cuts(u)]
        assert not cut, (f"the recall of digit {i} (step {recall}) and the step that read it "
                         f"(step {i}) are still separated by a cut before step {cut[0]}: no "
                         "gradient connects them, so nothing teaches the network to store it")
    L = task.sample(np.random.default_rng(0), 1)[0].shape[1]
    _, cache = forward(init_params(my_cfg), np.zeros((1, L, my_cfg.input_size)), my_cfg)
    want = backward_work(cache)["per_loss"]
    _, cache0 = forward(init_params(base_cfg), np.zeros((1, L, base_cfg.input_size)), base_cfg)
    before = backward_work(cache0)["per_loss"]
    assert abs(float(my_replay) - want) < 1e-9, (
        f"my_replay = {my_replay}, but flow.backward_work measures {want:g} recurrent edges "
        "per loss for your configuration (tutorial 7, exercise 7.2: loss step t replays back to "
        "the start of its chunk)")
    return (f"{changed[0]}={getattr(my_cfg, changed[0])!r} connects every recall to its digit; "
            f"the replay per loss grew from {before:g} to {want:g} edges ({want / before:.1f}x). "
            "Now explain, in a markdown cell, what this cost and how SAB avoids it.")
