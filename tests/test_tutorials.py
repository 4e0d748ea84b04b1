"""The tutorials: every notebook runs in a real Jupyter kernel, and the exercise checkers judge.

- ``test_notebook_runs`` executes each ``tutorials/*.ipynb`` and ``tutorials/solutions/*.ipynb``
  with nbclient (kernel ``python3``), in smoke mode (``MINISAB_SMOKE=1``: small sizes, each
  notebook well under a minute on 2 cores), with ``tutorials/`` as the working directory, and
  fails on the first cell that raises. The solutions notebook asserts that every checker accepts
  its solution. Marked ``notebooks``: deselect with ``-m "not notebooks"``.
  It also asserts that no checker cell shows a value (an untouched exercise prints "not done
  yet" and nothing that reads as a failure, no bare ``False``).
- The other tests are fast: notebooks are committed without outputs; every checker of
  ``minisab.exercises`` rejects wrong answers, and recognises the common ones with the hint that
  names the missing idea (tests/test_exercises.py); an untouched exercise is "not done".
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("*.ipynb")) + sorted((TUTORIALS / "solutions").glob("*.ipynb"))
CELL_TIMEOUT = 300          # seconds per cell; smoke mode needs a few at most


def _ids(paths):
    return [str(p.relative_to(TUTORIALS)) for p in paths]


def test_there_are_tutorials():
    names = [p.name for p in TUTORIALS.glob("*.ipynb")]
    assert "01_lstm_from_scratch.ipynb" in names and len(names) >= 4, names


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs(path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    monkeypatch.setenv("MINISAB_SMOKE", "1")           # the kernel inherits the environment
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT,
                            resources={"metadata": {"path": str(TUTORIALS)}})
    try:
        client.execute()
    except CellExecutionError as e:
        pytest.fail(f"{path.relative_to(ROOT)} failed in smoke mode:\n{e}", pytrace=False)
    for cell in nb.cells:          # the credit explorer: a widget, and a PNG where none renders
        if cell.cell_type == "code" and "CreditExplorer(" in cell.source:
            shown = [o for o in cell.outputs if o.output_type == "execute_result"]
            assert shown and "image/png" in shown[0]["data"], f"{path.name}: no static explorer"
            assert "application/vnd.jupyter.widget-view+json" in shown[0]["data"], path.name
    for i, cell in enumerate(nb.cells):       # a checker cell prints its verdict, shows no value
        if cell.cell_type == "code" and ".check_" in cell.source:
            shown = [o for o in cell.outputs if o.output_type == "execute_result"]
            assert not shown, f"{path.name}, cell {i} shows a value: {shown[0].get('data')}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_committed_without_outputs(path):
    import nbformat
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, (
                f"{path.name}, cell {i}: clear outputs before committing "
                "(jupyter nbconvert --clear-output --inplace tutorials/*.ipynb)")


@pytest.fixture
def checks():
    """Every checker of minisab.exercises under one name (as tutorials/checks.py offers them)."""
    from types import SimpleNamespace

    from minisab import exercises
    ns = {}
    for mod in exercises.modules():
        ns.update({k: v for k, v in vars(mod).items() if k.startswith("check_")})
    return SimpleNamespace(**ns)


def rejected(check, wrong, hint=None):
    """The checker's verdict on ``wrong`` is "not right yet" (with ``hint`` in its message)."""
    v = check(wrong, quiet=True)
    assert v.status == "wrong" and not v, f"{check.__name__}: {v.status}: {v.message}"
    assert hint is None or hint in v.message, f"{check.__name__}: hint {v.message!r}"
    return v


def test_checker_reports_an_untouched_exercise(checks, capsys):
    def untouched(*args):
        raise NotImplementedError
    v = checks.check_topk(untouched)
    assert not v and v.status == "not done"
    assert hasattr(v, "_ipython_display_")               # a notebook shows no bare False
    out = capsys.readouterr().out
    assert "not done yet" in out and "False" not in out


def test_tutorials_import_checkers_from_the_package():
    """Tutorials 1-4 work from any folder: they import minisab.exercises, not tutorials/checks."""
    for path in sorted(TUTORIALS.glob("0[1-4]_*.ipynb")):
        text = path.read_text(encoding="utf-8")
        assert "from minisab.exercises import" in text and "import checks" not in text, path.name
        assert "find_spec(\\\"minisab\\\")" in text, f"{path.name}: no setup cell"


def test_backend_checkers_reject_numpy_only_answers(checks):
    """Tutorial 8: an answer that calls NumPy on a device array (the strict backend plays the
    GPU), copies a model result to the host, or compares the wrong way is rejected."""
    from minisab.backend import gather_rows, namespace, to_host, topk_indices
    from minisab.params import params_to_host

    def max_diff_implicit_numpy(p, q):                 # np.asarray on a device array
        return max(float(np.max(np.abs(np.asarray(p[k]) - np.asarray(q[k])))) for k in p)

    def max_diff_without_abs(p, q):
        hp, hq = params_to_host(p), params_to_host(q)
        return max(float(np.max(hp[k] - hq[k])) for k in hp)

    def top_mean_numpy_only(a, M, k):                  # the tutorial's NumPy-only snippet
        idx = np.argsort(-a, axis=1)[:, :k]
        return M[np.arange(a.shape[0])[:, None], idx].mean(axis=1)

    def top_mean_on_host(a, M, k):                     # right values, but left the device
        return to_host(namespace(a).mean(gather_rows(M, topk_indices(a, k)), axis=1))

    for check, wrong in ((checks.check_max_param_difference, max_diff_implicit_numpy),
                         (checks.check_max_param_difference, max_diff_without_abs),
                         (checks.check_mean_of_top_memories, top_mean_numpy_only),
                         (checks.check_mean_of_top_memories, top_mean_on_host)):
        rejected(check, wrong)


def test_tutorial05_checkers_reject_wrong_answers(checks, capsys):
    """Tutorial 5: a recall accuracy that counts the blanks or the wrong steps, and a threshold
    step that ignores the direction, takes the last crossing, or uses '>', are rejected."""
    def untouched(*args):
        raise NotImplementedError

    def accuracy_of_every_step(logits, targets, n_digits):         # the blanks count too
        return float(np.mean(np.argmax(logits, axis=2) == targets))

    def accuracy_of_first_steps(logits, targets, n_digits):        # the digits' input steps
        return float(np.mean(np.argmax(logits[:, :n_digits], axis=2) == targets[:, :n_digits]))

    def crossing(records, metric, threshold, higher_is_better, pick=0, strict=False,
                 direction=True):
        hits = [r["step"] for r in records if metric in r
                and ((r[metric] > threshold if strict else r[metric] >= threshold)
                     if (higher_is_better or not direction) else r[metric] <= threshold)]
        return hits[pick] if hits else None

    for check, wrong in (
            (checks.check_recall_accuracy, accuracy_of_every_step),
            (checks.check_recall_accuracy, accuracy_of_first_steps),
            (checks.check_steps_to_reach,                              # always '>='
             lambda r, m, t, h=True: crossing(r, m, t, h, direction=False)),
            (checks.check_steps_to_reach,                              # the last crossing
             lambda r, m, t, h=True: crossing(r, m, t, h, pick=-1)),
            (checks.check_steps_to_reach,                              # '>' instead of '>='
             lambda r, m, t, h=True: crossing(r, m, t, h, strict=True))):
        rejected(check, wrong)
    assert checks.check_steps_to_reach(lambda r, m, t, h=True: crossing(r, m, t, h))
    assert checks.check_recall_accuracy(untouched).status == "not done"
    assert "not done yet" in capsys.readouterr().out


def test_tutorial06_checkers_reject_wrong_answers(checks, capsys):
    from minisab import forward

    def untouched(*args):
        raise NotImplementedError

    def profile_of_h_hat(params, cfg, x):          # the LSTM's output, not the state passed on
        return np.max(np.abs(forward(params, x, cfg)[1]["h_hats"]), axis=(0, 2))

    def profile_signed(params, cfg, x):            # the largest entry, not the largest |entry|
        return np.max(forward(params, x, cfg)[1]["hs"], axis=(0, 2))

    def bound_of_h_hat(t, k_att, memory_write):    # forgets the summary s_t
        return 1.0

    def bound_ignoring_option(t, k_att, memory_write):   # holds, but too loose for h_hat/tanh_h
        return 1 + t // k_att

    def bound_one_memory_early(t, k_att, memory_write):  # counts a memory before step k_att
        written = (t + 1) // k_att
        return 1 + (written if memory_write == "h" else min(written, 1))

    for check, wrong in ((checks.check_h_max_profile, profile_of_h_hat),
                         (checks.check_h_max_profile, profile_signed),
                         (checks.check_h_bound, bound_of_h_hat),
                         (checks.check_h_bound, bound_ignoring_option),
                         (checks.check_h_bound, bound_one_memory_early)):
        rejected(check, wrong)
    assert checks.check_h_max_profile(untouched).status == "not done"
    assert checks.check_h_bound(untouched).status == "not done"
    assert "not done yet" in capsys.readouterr().out


def test_tutorial07_checkers_reject_wrong_answers(checks, capsys):
    def untouched(*args):
        raise NotImplementedError

    def work_without_threshold(T, k_top, k_att):   # forgets the threshold memory's row
        n = [1 + t // k_att for t in range(T)]
        return sum(n), sum(min(nt, k_top) for nt in n)

    def work_without_null(T, k_top, k_att):        # forgets the null memory
        n = [t // k_att for t in range(T)]
        return sum(n), sum(min(nt, k_top + 1) for nt in n)

    def replay_of_bptt(T, k_trunc):                # ignores the cuts
        return T * (T - 1) / 2

    def replay_whole_chunks(T, k_trunc):           # a full chunk for every loss step
        return T * (T - 1) / 2 if k_trunc is None else T * (k_trunc - 1)

    for check, wrong in ((checks.check_attention_work, work_without_threshold),
                         (checks.check_attention_work, work_without_null),
                         (checks.check_tbptt_replay, replay_of_bptt),
                         (checks.check_tbptt_replay, replay_whole_chunks)):
        rejected(check, wrong)
    assert checks.check_attention_work(untouched).status == "not done"
    assert checks.check_tbptt_replay(untouched).status == "not done"
    assert "not done yet" in capsys.readouterr().out
