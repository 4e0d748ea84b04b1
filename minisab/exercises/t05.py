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
