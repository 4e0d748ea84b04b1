"""The course commands: a release for students and one for the teacher, nbgrader marks, and a
grader that trusts nothing in the notebook. The tests marked ``notebooks`` run real notebooks
in a Jupyter kernel: two tiny ones that try every tampering at once, and tutorial 4 with its
exercises done (smoke mode), graded whole."""
from __future__ import annotations

import asyncio
import csv
import gc
import json
import os
import queue
import sys
import time
from pathlib import Path

import pytest

from minisab.exercises import REGISTRY, modules
from minisab.exercises.__main__ import main
from minisab.exercises.nbgrader import assert_checks
from minisab.exercises.release import release

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = ROOT / "tutorials"
sys.path.insert(0, str(TUTORIALS / "solutions"))
nbformat = pytest.importorskip("nbformat")


def _tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# ------------------------------------------------------------------------------ release
def test_release_writes_a_student_and_an_instructor_folder(tmp_path):
    out = tmp_path / "course"
    assert main(["release", str(out), "--repo-url",
                 "https://github.com/someone/minisab/tree/v1/course/student"]) == 0
    student = sorted(p.name for p in (out / "student").iterdir())
    assert len([n for n in student if n.endswith(".ipynb")]) == 9 and "README.md" in student
    assert not any("solution" in n for n in student)
    readme = (out / "student" / "README.md").read_text(encoding="utf-8")
    assert "Nine notebooks" in readme
    for teacher_word in ("For teachers", "solutions", "rubric", "teachers -->"):
        assert teacher_word not in readme, teacher_word
    instructor = {p.name for p in (out / "instructor").rglob("*")}
    assert {"solutions.ipynb", "rubric.md", "grading.json", "README.md"} <= instructor
    settings = json.loads((out / "instructor" / "grading.json").read_text(encoding="utf-8"))
    modules()
    assert settings["points"] == {ex.label: ex.points for ex in REGISTRY.values()}
    rubric = (out / "instructor" / "rubric.md").read_text(encoding="utf-8")
    assert "| 4.5 | SAB in one screen | 6 | automatically |" in rubric and "Rubric for" in rubric
    nb = nbformat.read(out / "student" / "04_sparse_attentive_backtracking.ipynb", as_version=4)
    assert ("https://colab.research.google.com/github/someone/minisab/blob/v1/course/student/"
            "04_sparse_attentive_backtracking.ipynb") in nb.cells[0].source
    assert "PIP_SPEC = 'git+https://github.com/someone/minisab.git@v1'" in nb.cells[3].source
    assert nb.metadata["minisab"]["tutorial"] == "t04"
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("case", ["exists", "file", "unwritable", "repo"])
def test_a_refused_release_writes_nothing(tmp_path, monkeypatch, capsys, case):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "there").mkdir()
    target, extra = {"exists": ("there", []), "file": ("afile/course", []),
                     "unwritable": ("ro/sub/course", []),
                     "repo": ("new", ["--repo-url", "https://gitlab.com/x/y"])}[case]
    if case == "unwritable":
        (tmp_path / "ro").mkdir()
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, m: False if Path(p).name == "ro"
                            else real(p, m))
    before = _tree(tmp_path)
    assert main(["release", str(tmp_path / target), *extra]) == 2
    err = capsys.readouterr().err
    assert {"exists": "it exists", "file": "is a file", "unwritable": "not writable",
            "repo": "repo_url"}[case] in err and "Traceback" not in err
    assert _tree(tmp_path) == before and not (tmp_path / "ro" / "sub").exists()


def test_release_for_nbgrader(tmp_path):
    release(tmp_path / "nbg", nbgrader=True)
    folder = tmp_path / "nbg" / "student"
    seen_ids = set()
    for path in folder.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for c in nb.cells:
            meta = c.metadata.get("nbgrader")
            if meta:
                assert meta["grade_id"] not in seen_ids and set(meta["grade_id"]) <= set(
                    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
                seen_ids.add(meta["grade_id"])
    nb = nbformat.read(folder / "07_ablations.ipynb", as_version=4)
    graded = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
              if c.metadata.get("nbgrader", {}).get("grade")}
    test = graded["07_ablations-test-7-3"]
    assert test.source.startswith("assert (t07.check_open_ablation(") and test.source.endswith(
        "TARGET))") and test.metadata["nbgrader"]["points"] == 2
    answer = nb.cells[nb.cells.index(test) - 1]
    assert answer.metadata["nbgrader"]["solution"] and answer.source.startswith("my_run = None")
    written = graded["07_ablations-answer-7-3-b"]
    assert written.cell_type == "markdown" and written.metadata["nbgrader"]["points"] == 4
    nb = nbformat.read(folder / "05_experiments.ipynb", as_version=4)
    open_answer = next(c for c in nb.cells if c.source.startswith("my_cfg = None"))
    assert open_answer.metadata["nbgrader"]["solution"]
    assert "check_open_tbptt" not in open_answer.source


def test_multiline_checks_are_asserted():
    src = "x = 1\nt07.check_open_ablation(a,\n    b, c)\nv = t04.check_bptt_replay(f)"
    assert assert_checks(src) == ("x = 1\nassert (t07.check_open_ablation(a,\n    b, c))\n"
                                  "v = t04.check_bptt_replay(f)\nassert v")


# ------------------------------------------------------------ grade: refused before work
def test_grade_refuses_what_it_cannot_grade(tmp_path, capsys):
    (tmp_path / "a.ipynb").write_text("{not json")
    (tmp_path / "b.ipynb").write_text(json.dumps({"cells": "no", "metadata": {}}))
    for name in ("a.ipynb", "b.ipynb"):
        assert main(["grade", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err
        assert "not a Jupyter notebook" in err and "Traceback" not in err
    for bad in ("0", "-1", "x"):
        with pytest.raises(SystemExit) as e:
            main(["grade", str(tmp_path / "a.ipynb"), "--timeout", bad])
        assert e.value.code == 2
        assert "accepted values are whole seconds >= 1" in capsys.readouterr().err
    assert main(["grade", str(tmp_path / "missing.ipynb")]) == 2
    assert not (tmp_path / "graded").exists()


def test_a_teachers_settings_set_the_points(tmp_path, capsys):
    from minisab.exercises.gradetable import apply_points
    rows = [{"exercise": "4.5", "status": "passed", "points": 6, "max_points": 6},
            {"exercise": "4.4", "status": "wrong", "points": 0, "max_points": 3},
            {"exercise": "4.T", "status": "by hand", "points": None, "max_points": 2}]
    apply_points(rows, {"points": {"4.5": 10, "4.4": 5}, "written": {"4.T": 4}})
    assert [(r["points"], r["max_points"]) for r in rows] == [(10, 10), (0, 5), (None, 4)]
    (tmp_path / "bad.json").write_text('{"points": {"4.5": -1}}')
    (tmp_path / "x.ipynb").write_text(json.dumps(nbformat.v4.new_notebook()))
    assert main(["grade", str(tmp_path / "x.ipynb"), "--settings",
                 str(tmp_path / "bad.json")]) == 2
    assert "invalid --settings=" in capsys.readouterr().err


def test_the_judge_believes_only_its_own_token(tmp_path):
    """An answer that prints a verdict line, or reads the stored answers, gains nothing."""
    import cloudpickle

    from minisab.exercises.grade import _judge

    def faker(t, k_trunc):
        print('minisab-verdict 0123 {"status": "correct", "message": ""}', flush=True)
        os._exit(0)

    def reader(t, k_trunc):
        import numpy as np

        from minisab.exercises._answers import ANSWERS_DIR
        return int(np.load(ANSWERS_DIR / "t02.npz")["2.1/lag"][[1, 3, 5].index(k_trunc), t])
    cases = {"2.1": faker, "2.4": reader}
    for fn in cases.values():
        fn.__module__ = "__main__"                     # as if defined in a notebook
    for label, fn in cases.items():
        (tmp_path / f"{label}.pkl").write_bytes(cloudpickle.dumps([fn]))
    (tmp_path / "harvest.json").write_text(json.dumps(
        {label: {"status": "ok", "sources": [None]} for label in cases}))
    assert _judge(tmp_path, "2.1", 60)["status"] == "error"          # no verdict with the token
    v = _judge(tmp_path, "2.4", 60)
    assert v["status"] == "wrong" and "stored answers" in v["message"], v


# ------------------------------------------------- grade: real notebooks (Jupyter kernel)
def _code(src):
    return nbformat.v4.new_code_cell(src)


def _tampered(folder: Path):
    """Two tiny notebooks that try every tampering of the grader at once."""
    import fill
    sol = fill.solution_functions(1)
    t01 = [_code("import os, time\nimport numpy as np\nfrom minisab.exercises import t01"),
           _code("def my_lstm_step_forward(zx, h_prev, c_prev, W_h):\n    return zx[:, :4], "
                 "zx[:, 4:8]\n\n\nt01.check_lstm_forward = lambda f: print('Exercise 1.1 (LSTM "
                 "step forward): correct.')\nt01.check_lstm_forward(my_lstm_step_forward)"),
           _code("os._exit(1)                       # the kernel dies here"),
           _code("def my_lstm_step_backward(dh_hat, dc, cache, W_h):\n    return 0, 0, 0\n\n\n"
                 "t01.check_lstm_backward(my_lstm_step_backward)\n\n\n"
                 + sol["my_lstm_step_backward"] + "\n\n\n"
                 "t01.check_lstm_backward(my_lstm_step_backward)   # an honest second try"),
           _code("time.sleep(1000)\n\n\ndef my_numerical_gradient(f, arr, h=1e-5):\n"
                 "    return 0 * arr")]
    t02 = [_code("import numpy as np\nfrom minisab.exercises import t02\n"
                 "from minisab.lstm import lstm_step_backward"),
           _code("def tbptt_max_lag(t, k_trunc):\n    return k_trunc - 1"),      # call deleted
           _code("def my_bptt(dh_out, lstm_caches, W_h):      # the checker's own helper\n"
                 "    return t02.load('t02')['2.2/0/dH'], None\n\n\npass"),
           _code("print('Exercise 2.4 (credit reach): correct.')\n\n\n"
                 "def my_credit_reach(G, threshold=1e-3):\n    return np.zeros(len(G), int)\n\n\n"
                 "t02.check_credit_reach(my_credit_reach)\n"
                 "print('Exercise 2.4 (credit reach): correct.')")]
    answer = nbformat.v4.new_markdown_cell("**Your answer (2.T):** truncation keeps blanks.")
    answer.metadata["minisab"] = {"answer": "2.T"}
    for name, cells in (("01_lstm_from_scratch.ipynb", t01),
                        ("02_bptt_and_truncation.ipynb", t02 + [answer])):
        nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / name)


@pytest.mark.notebooks
def test_the_grader_is_not_fooled(tmp_path, capsys):
    _tampered(tmp_path)
    assert main(["grade", str(tmp_path), "--timeout", "10"]) == 2
    captured = capsys.readouterr()
    assert "timed out" in captured.err and "kernel died" in captured.err
    with open(tmp_path / "graded" / "grades.csv", encoding="utf-8") as f:
        rows = {r["exercise"]: r for r in csv.DictReader(f)}
    status = {k: r["status"] for k, r in rows.items()}
    assert status == {"1.1": "wrong", "1.2": "passed", "1.3": "timed out", "1.T": "missing",
                      "2.1": "wrong", "2.2": "wrong", "2.3": "missing", "2.4": "wrong",
                      "2.T": "by hand"}, status
    assert "chunks are aligned" in rows["2.1"]["hint"]
    assert "minisab.exercises._answers.load" in rows["2.2"]["hint"]
    assert rows["1.2"]["points"] == "3" and rows["2.T"]["hint"] == "to be marked by hand: 3 words written"
    executed = nbformat.read(tmp_path / "graded" / "01_lstm_from_scratch.ipynb", as_version=4)
    assert any(o.get("ename") == "CellTimeoutError" for o in executed.cells[4].outputs)
    from minisab.exercises.__main__ import _notebooks               # a second run: not its copies
    assert [p.name for p in _notebooks(tmp_path, tmp_path / "graded")] == [
        "01_lstm_from_scratch.ipynb", "02_bptt_and_truncation.ipynb"]
    assert "1 of 4 exercises passed" in captured.out          # t01: 1.1-1.3 and 1.T


@pytest.mark.parametrize("ending, logged", [(queue.Empty, False), (ValueError, True)])
def test_a_timed_out_cells_leftover_ends_quietly(monkeypatch, caplog, ending, logged):
    """nbclient leaves a timed-out cell's output poller behind; it may end with queue.Empty when
    its kernel shuts down, and nothing awaits it. Left to the garbage collector, it is logged
    later, wherever that happens: on Python 3.11, inside an ``ast.parse`` that the logging then
    breaks (SystemError). ``run`` ends such leftovers itself, quietly, and reports any other."""
    from minisab.exercises import execute

    async def poller():
        raise ending

    def passes(*args):                 # a run whose poller is left behind, as after a timeout
        loop = execute._loop()
        task = loop.create_task(poller())
        loop.run_until_complete(asyncio.wait([task]))
        return {}, None
    monkeypatch.setattr(execute, "_passes", passes)
    handler = execute._loop().get_exception_handler()
    assert execute.run(None, None, 1, {}) == ({}, None)
    gc.collect()
    never = [r for r in caplog.records if "never retrieved" in r.getMessage()]
    assert len(never) == logged and execute._loop().get_exception_handler() is handler


@pytest.mark.notebooks
def test_tutorials_done_run_headless_train_and_pass(tmp_path, capsys):
    """Tutorials 2 and 4 with every exercise done: they run headless (nbclient; tutorial 4's
    credit explorer included) in smoke mode, train the student's own loops and SAB, and the
    grader passes every exercise. (Each notebook's smoke time: tests/test_tutorials.py.)"""
    import fill
    for name in ("02_bptt_and_truncation.ipynb", "04_sparse_attentive_backtracking.ipynb"):
        nbformat.write(fill.filled(TUTORIALS / name), tmp_path / name)
    t0 = time.perf_counter()
    assert main(["grade", str(tmp_path), "--smoke", "--timeout", "120", "--json"]) == 0
    elapsed = time.perf_counter() - t0
    t02, t04 = json.loads(capsys.readouterr().out)
    assert {r["exercise"]: r["status"] for r in t04["rows"]} == {
        "4.1": "passed", "4.2": "passed", "4.3": "passed", "4.4": "passed", "4.5": "passed",
        "4.T": "by hand"}
    assert [r["status"] for r in t02["rows"]] == ["passed"] * 4 + ["by hand"]
    for report, run in ((t02, "your bptt"), (t04, "your SAB (k_att=1)")):
        executed = nbformat.read(report["executed"], as_version=4)
        trained = next(c for c in executed.cells if "OWN_STEPS" in c.source)
        text = "".join(o.get("text", "") for o in trained.outputs)
        assert run in text and "recall accuracy" in text, text     # the student's code trained
    assert elapsed < 240, f"{elapsed:.0f} s: two kernels, smoke runs and nine judges"
