"""Checkers of tutorial 5 (experiments): recall accuracy, steps to reach a threshold, and the
open exercise (truncated BPTT that solves the copy task)."""
from __future__ import annotations

import numpy as np

from ..backend import to_host
from ..config import Config
from ..params import init_params
from ._verdict import call as _call_plain, close as _close, exercise as _verdict


def _call(label, fn, *args, **kw):
    return _call_plain(fn, *args, **kw)


def _t5_copy_problem(rng, T, n, V, B, p_recall, p_blank):
    """A copy-task batch and logits that are right at a share ``p_recall`` of the recall steps
    and ``p_blank`` of the other steps (so the recall, the first n and all steps differ)."""
    from ..tasks import make_task
    task = make_task("copy", T, n_digits=n, n_symbols=V)
    x, targets, mask = task.sample(rng, B)
    logits = rng.normal(size=targets.shape + (task.output_size,))
    right = rng.random(targets.shape) < np.where(np.arange(targets.shape[1]) >= T + n,
                                                 p_recall, p_blank)
    np.put_along_axis(logits, targets[:, :, None], 6.0 * right[:, :, None], axis=2)
    return task, logits, targets, mask


@_verdict("5.1 (recall accuracy)")
def check_recall_accuracy(my_recall_accuracy):
    """``my_recall_accuracy(logits, targets, n_digits)`` -> float, against the copy task's
    metric ``Task.metric`` (``tasks.recall_accuracy``) on batches where the recall steps, the
    first ``n_digits`` steps and the whole sequence give different accuracies."""
    rng = np.random.default_rng(51)
    for T, n, V, B, p_recall, p_blank in ((6, 3, 4, 5, 0.4, 0.9), (10, 2, 8, 7, 0.7, 0.2),
                                          (3, 4, 5, 6, 0.5, 0.95), (5, 1, 3, 9, 0.3, 0.8)):
        task, logits, targets, mask = _t5_copy_problem(rng, T, n, V, B, p_recall, p_blank)
        want = task.metric(logits, targets, mask, 0.0)
        pred = np.argmax(logits, axis=2)
        got = _call("5.1", my_recall_accuracy, logits.copy(), targets.copy(), n)
        where = f"T={T}, n_digits={n}, batch {B}"
        assert got is not None, f"{where}: your function returned None"
        assert np.ndim(got) == 0, (f"{where}: you returned an array of shape {np.shape(got)}; "
                                   "return one number, the mean over sequences and recall steps")
        got = float(got)
        if abs(got - 100 * want) < 1e-9 and want > 0:
            raise AssertionError(f"{where}: {got:g} looks like a percentage; return a fraction "
                                 "in [0, 1]")
        if abs(got - want) > 1e-9:
            hint = "the recall steps are the last n_digits steps of each sequence"
            if abs(got - float(np.mean(pred == targets))) < 1e-9:
                hint = ("you counted every step, blanks included; the metric counts only the "
                        "last n_digits steps (the recall)")
            elif abs(got - float(np.mean(pred[:, :n] == targets[:, :n]))) < 1e-9:
                hint = "you scored the first n_digits steps (the digits' input); score the last"
            raise AssertionError(f"{where}: you returned {got:.4f}, expected {want:.4f} -> {hint}")
    return "Same as the copy task's metric: the blanks do not count."


_T5_CURVE = [{"step": 0, "loss": 2.3, "accuracy": 0.12},
             {"step": 100, "loss": 1.1, "accuracy": 0.4},
             {"step": 150, "loss": 1.0},                                # no metric: skip it
             {"step": 200, "loss": 0.4, "accuracy": 0.92},
             {"step": 300, "loss": 0.5, "accuracy": 0.85},
             {"step": 400, "loss": 0.2, "accuracy": 0.97}]
_T5_MSE_CURVE = [{"step": 0, "loss": 1.1, "mse": 1.1}, {"step": 50, "loss": 0.16, "mse": 0.16},
                 {"step": 100, "loss": 0.009, "mse": 0.009},
                 {"step": 150, "loss": 0.02, "mse": 0.02},
                 {"step": 200, "loss": 0.001, "mse": 0.001}]


@_verdict("5.2 (steps to reach a threshold)")
def check_steps_to_reach(steps_to_reach):
    """``steps_to_reach(records, metric, threshold, higher_is_better)`` -> the "step" of the
    first record whose metric reaches the threshold (>= or <=), None if none does."""
    cases = ((_T5_CURVE, "accuracy", 0.9, True, 200, "the FIRST record at or above the threshold, "
              "even if a later one falls below it again"),
             (_T5_CURVE, "accuracy", 0.4, True, 100, "reaching means >=: 0.4 reaches 0.4"),
             (_T5_CURVE, "accuracy", 0.1, True, 0, "step 0 is an answer like any other (careful "
              "with `if step:`, 0 is falsy)"),
             (_T5_CURVE, "accuracy", 0.99, True, None, "never reached: return None"),
             (_T5_CURVE, "loss", 0.45, False, 200, "lower is better: the first value <= threshold"),
             (_T5_MSE_CURVE, "mse", 0.01, False, 100,
              "lower is better: the first value <= threshold"),
             (_T5_MSE_CURVE, "mse", 0.0001, False, None, "never reached: return None"),
             ([], "accuracy", 0.5, True, None, "no records: return None"))
    for records, metric, threshold, higher, want, hint in cases:
        try:
            got = _call("5.2", steps_to_reach, [dict(r) for r in records], metric, threshold,
                        higher)
        except KeyError as e:
            raise AssertionError(f"your function raised KeyError: {e} -> some records lack the "
                                 "metric (evaluations that did not measure it): skip them, e.g. "
                                 "with `if metric in r`") from None
        assert (got is None) == (want is None) and (want is None or got == want), (
            f"steps_to_reach(records, {metric!r}, {threshold}, higher_is_better={higher}) = "
            f"{got!r}, expected {want!r} -> {hint}. (Records: "
            f"{[(r['step'], r.get(metric)) for r in records]})")
    return "First crossing, in either direction, None when never."


def changed_fields(base, new):
    """The Config fields in which ``new`` differs from ``base``."""
    import dataclasses
    return [f.name for f in dataclasses.fields(base) if getattr(base, f.name) != getattr(new, f.name)]


@_verdict("5.3 (open: make truncated BPTT solve the copy task)")
def check_open_tbptt(base_cfg, my_cfg, task, my_replay):
    """The measurable part of the open exercise: ``my_cfg`` changes ONE field of ``base_cfg``
    (truncated BPTT, a plain LSTM), still trains with ``method="tbptt"``, and connects every
    recall step to the step its digit was read (no cut between them); ``my_replay`` is its
    per-loss backward replay at the task's length (``flow.backward_work``). The explanation is
    graded with the rubric of the solutions."""
    from ..flow import backward_work
    from ..sab import forward
    if my_cfg is None or my_replay is None:
        _call("5.3", None)
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
