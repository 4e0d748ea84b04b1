"""The tutorials: every notebook runs in a real Jupyter kernel, and the exercise checkers judge.

- ``test_notebook_runs`` executes each ``tutorials/*.ipynb`` and ``tutorials/solutions/*.ipynb``
  with nbclient (kernel ``python3``), in smoke mode (``MINISAB_SMOKE=1``: small sizes, each
  notebook well under a minute on 2 cores), with ``tutorials/`` as the working directory, and
  fails on the first cell that raises. The solutions notebook asserts that every checker accepts
  its solution. Marked ``notebooks``: deselect with ``-m "not notebooks"``.
  It also asserts that no checker cell shows a value (an untouched exercise prints "not done
  yet" and nothing that reads as a failure, no bare ``False``).
  Each notebook must also finish within the minute that smoke mode promises (with room for a
  busy machine): a cell that stalls (the credit explorer once did) fails it.
- The other tests are fast: notebooks are committed without outputs; every written answer has
  its marked answer cell; no notebook shows an exercise's answer before the exercise; the
  syllabus counts the notebooks right; the measured own-training sentences match their results
  file. The checkers have their own tests (tests/exercises/test_exercises.py, tests/exercises/test_grader.py).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("*.ipynb")) + sorted((TUTORIALS / "solutions").glob("*.ipynb"))
CELL_TIMEOUT = 300          # seconds per cell; smoke mode needs a few at most
SMOKE_BOUND = 120           # seconds per notebook in smoke mode ("well under a minute", busy)


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
    t0 = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as e:
        pytest.fail(f"{path.relative_to(ROOT)} failed in smoke mode:\n{e}", pytrace=False)
    elapsed = time.perf_counter() - t0
    assert elapsed < SMOKE_BOUND, f"{path.name}: {elapsed:.0f} s in smoke mode (a stalled cell?)"
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
    """Every checker of minisab.exercises under one name."""
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
    """Tutorials 1-8 (and the solutions of 5-8) work from any folder: they import their
    checkers from minisab.exercises, installed with minisab, never from a file beside them."""
    paths = sorted(TUTORIALS.glob("0[1-8]_*.ipynb"))
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert "from minisab.exercises import" in text and "import checks" not in text, path.name
        assert "find_spec(\\\"minisab\\\")" in text, f"{path.name}: no setup cell"
    for path in sorted((TUTORIALS / "solutions").glob("0[5-8]_*.ipynb")):
        text = path.read_text(encoding="utf-8")
        assert "from minisab.exercises import" in text and "import checks" not in text, path.name


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


# ------------------------------------------------------------- the course around the cells
def _nb(name):
    import nbformat
    return nbformat.read(TUTORIALS / name, as_version=4)


def _first(nb, text):
    return next(i for i, c in enumerate(nb.cells) if text in c.source)


@pytest.mark.parametrize("path", sorted(TUTORIALS.glob("0*.ipynb")), ids=lambda p: p.name)
def test_written_answers_have_their_cells(path):
    from minisab.exercises.written import WRITTEN, answer_cell_text, answer_cells
    import nbformat
    nb = nbformat.read(path, as_version=4)
    expected = WRITTEN[f"t{path.name[:2]}"]
    cells = answer_cells(nb)
    assert sorted(cells) == sorted(label for label, _, _ in expected), path.name
    for label, what, _ in expected:                       # committed unanswered
        assert cells[label].source == answer_cell_text(label, what)


def test_answers_come_after_their_exercises():
    nb = _nb("04_sparse_attentive_backtracking.ipynb")      # sab.backward holds 4.4's answer
    assert _first(nb, "sab.backward, sab._memory_credit") > _first(nb, "t04.check_memory_credit(")
    nb = _nb("03_memory_and_sparse_attention.ipynb")       # the top-k softmax Jacobian: 3.4(a)
    assert _first(nb, r"\mathrm{diag}\,\alpha - \alpha\alpha^\top") > _first(
        nb, "t03.check_topk_softmax_backward(")


def test_the_syllabus_counts_the_notebooks():
    names = sorted(p.name for p in TUTORIALS.glob("0*.ipynb"))
    assert len(names) == 9
    readme = (TUTORIALS / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# minisab tutorials") and "Nine notebooks" in readme
    assert all(f"`{n}`" in readme for n in names)
    assert "first of nine tutorials" in _nb(names[0]).cells[0].source


def test_own_training_sentences_match_their_results():
    sys.path.insert(0, str(TUTORIALS / "solutions"))
    import time_own_training as tot
    results = json.loads(tot.RESULTS.read_text(encoding="utf-8"))
    for tutorial, name in tot.NOTEBOOKS.items():
        text = "\n".join(c.source for c in _nb(name).cells)
        assert tot.sentence(tutorial, results[tutorial]) in text, name
