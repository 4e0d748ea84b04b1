"""The tutorials: every notebook runs in a real Jupyter kernel, and the exercise checkers judge.

- ``test_notebook_runs`` executes each ``tutorials/*.ipynb`` and ``tutorials/solutions/*.ipynb``
  with nbclient (kernel ``python3``), in smoke mode (``MINISAB_SMOKE=1``: small sizes, each
  notebook well under a minute on 2 cores), with ``tutorials/`` as the working directory, and
  fails on the first cell that raises. The solutions notebook asserts that every checker accepts
  its solution. Marked ``notebooks``: deselect with ``-m "not notebooks"``.
- The other tests are fast: notebooks are committed without outputs, and a checker rejects a
  wrong answer and reports an untouched exercise as not done (so the checkers can fail).
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
    sys.path.insert(0, str(TUTORIALS))
    try:
        import checks as mod
        yield mod
    finally:
        sys.path.remove(str(TUTORIALS))


def test_checker_reports_an_untouched_exercise(checks, capsys):
    def untouched(*args):
        raise NotImplementedError
    assert checks.check_topk(untouched) is False
    assert "not done yet" in capsys.readouterr().out


def test_checker_rejects_wrong_answers(checks):
    from minisab.lstm import lstm_step_forward

    def forward_gates_swapped(zx, h_prev, c_prev, W_h):         # f and i exchanged
        H = h_prev.shape[1]
        zx = np.concatenate([zx[:, H:2 * H], zx[:, :H], zx[:, 2 * H:]], axis=1)
        W_h = np.concatenate([W_h[:, H:2 * H], W_h[:, :H], W_h[:, 2 * H:]], axis=1)
        return lstm_step_forward(zx, h_prev, c_prev, W_h)[:2]

    def backward_without_cell_path(dh_hat, dc, cache, W_h):      # forgets dc from step t+1
        h_prev, c_prev, i, f, g, o, tanh_c = cache
        dc_t = dh_hat * o * (1 - tanh_c ** 2)                    # bug: "+ dc" missing
        dz = np.concatenate([dc_t * g * i * (1 - i), dc_t * c_prev * f * (1 - f),
                             dc_t * i * (1 - g ** 2), dh_hat * tanh_c * o * (1 - o)], axis=1)
        return dz, dz @ W_h.T, dc_t * f

    def topk_backward_delta_constant(dalpha, a, k_top, eps=1e-7):   # drops dL/d(delta)
        n = a.shape[1]
        order = np.argsort(-a, axis=1)
        delta = np.take_along_axis(a, order[:, min(k_top, n - 1):][:, :1], axis=1)
        if n <= k_top:
            delta = a.min(axis=1, keepdims=True) - 1.0
        a_t = np.maximum(a - delta, 0.0)
        S = a_t.sum(axis=1, keepdims=True) + eps
        alpha = a_t / S
        return (dalpha - np.sum(alpha * dalpha, axis=1, keepdims=True)) / S * (a_t > 0)

    for check, wrong in ((checks.check_lstm_forward, forward_gates_swapped),
                         (checks.check_lstm_backward, backward_without_cell_path),
                         (checks.check_topk_backward, topk_backward_delta_constant),
                         (checks.check_tbptt_max_lag, lambda t, k: t),
                         (checks.check_bptt_replay, lambda T: T * T / 2)):
        with pytest.raises(AssertionError):
            check(wrong)
