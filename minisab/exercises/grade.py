"""Grade a student's notebook without believing anything it printed.

``grade_notebook(path, out_dir, timeout)``:

1. reads the notebook (``GradeError`` if the file is not a notebook) and tells which tutorial
   it is (its metadata, its ``from minisab.exercises import tNN`` line, or its file name);
2. runs it in a Jupyter kernel in its own folder (``execute.run``: errors allowed, a cell that
   times out is stopped, a cell that kills the kernel is skipped on a fresh one), then runs the
   harvest cell (``harvest.py``), which sends the student's named answers to a private folder;
3. judges every exercise registered for that tutorial in a fresh Python process of its own
   (``judge.py``), with a fresh import of the checkers: what the notebook printed, deleted or
   redefined (a checker replaced by a lambda, a fake "correct." line, a deleted call) changes
   nothing; a deleted answer is "missing"; the last definition of an answer is the one judged;
4. lists the written answers (markdown cells marked ``{"minisab": {"answer": ...}}``) as
   "by hand", and writes the executed copy into ``out_dir``.

Every expected exercise gets one row: passed, wrong (with the hint), not done, missing, timed
out, error, or by hand (written answers), with its points.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import REGISTRY, TUTORIALS, modules
from .written import written_rows

STATUS = {"correct": "passed", "wrong": "wrong", "not done": "not done", "error": "error"}


class GradeError(ValueError):
    """A notebook that cannot be graded at all (not a notebook, no tutorial)."""


@dataclass
class Report:
    notebook: str
    tutorial: str
    rows: list
    problems: list = field(default_factory=list)     # what went wrong running it (stderr)
    executed: str | None = None


def read_notebook(path):
    import nbformat
    path = Path(path)
    if not path.is_file():
        raise GradeError(f"invalid notebook={str(path)!r}: no such file")
    try:
        nb = nbformat.read(str(path), as_version=4)
        nbformat.validate(nb)
    except Exception as e:                          # JSON, or JSON that is not a notebook
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise GradeError(f"invalid notebook={str(path)!r}: not a Jupyter notebook "
                         f"({type(e).__name__}: {first})") from None
    return nb


def tutorial_of(nb, path) -> str:
    """``"t04"``: from the notebook's metadata, its checker import, or its file name."""
    meta = nb.metadata.get("minisab", {}).get("tutorial")
    if meta in TUTORIALS:
        return meta
    for cell in nb.cells:
        m = re.search(r"from minisab\.exercises import (t0\d)\b", cell.source)
        if cell.cell_type == "code" and m and m.group(1) in TUTORIALS:
            return m.group(1)
    m = re.match(r"(\d\d)_", Path(path).name)
    if m and f"t{m.group(1)}" in TUTORIALS:
        return f"t{m.group(1)}"
    raise GradeError(f"invalid notebook={str(path)!r}: cannot tell which tutorial it is (no "
                     "minisab metadata, no 'from minisab.exercises import tNN', no NN_ prefix)")


def _defining_cell(nb, expr: str):
    """The last code cell that defines the answer's first name (``def f`` or ``f = ...``)."""
    name = re.match(r"\w+", expr).group(0)
    pattern = re.compile(rf"^(?:def\s+{name}\b|{name}\s*(?::[^=]+)?=[^=])", re.M)
    found = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and
             pattern.search(c.source)]
    return found[-1] if found else None


def _judge(folder, label, timeout) -> dict:
    token = secrets.token_hex(16)
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parents[2])            # the minisab we are
    env["PYTHONPATH"] = here + os.pathsep + env.get("PYTHONPATH", "")
    try:
        proc = subprocess.run([sys.executable, "-m", "minisab.exercises.judge", str(folder),
                               label], input=token + "\n", capture_output=True, text=True,
                              timeout=timeout, cwd=folder, env=env)
    except subprocess.TimeoutExpired:
        return {"status": "timed out", "message": f"checking it took longer than {timeout} s "
                "(an endless loop, or a function far too slow for its small problems)"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(f"minisab-verdict {token} "):
            return json.loads(line.split(" ", 2)[2])
    tail = (proc.stderr.strip().splitlines() or ["no message"])[-1]
    return {"status": "error", "message": f"the check ended without a verdict (exit code "
            f"{proc.returncode}; {tail})"}


def _row(ex, status, hint=""):
    return {"exercise": ex.label, "title": ex.title, "status": status,
            "points": ex.points if status == "passed" else 0, "max_points": ex.points,
            "hint": hint.strip()}


def _exercise_row(ex, nb, runs, meta, folder, timeout, harvest_problem=None):
    entry = meta.get(ex.label)
    cell = _defining_cell(nb, ex.answers[0]) if ex.answers else None
    run = runs.get(cell)
    if entry is None or entry["status"] != "ok":
        if run is not None and run.status in ("timed out", "kernel died", "not run"):
            status = "timed out" if run.status == "timed out" else "error"
            return _row(ex, status, f"cell {cell}: {run.detail}")
        if run is not None and run.status == "error":
            return _row(ex, "error", f"cell {cell} raised {run.detail}")
        if entry is None:
            return _row(ex, "error", "the grader could not collect the answers: "
                        f"{harvest_problem or 'the notebook did not run to the end'}")
        return _row(ex, entry["status"], entry.get("detail", ""))
    v = _judge(folder, ex.label, timeout)
    return _row(ex, STATUS.get(v["status"], v["status"]), v.get("message", ""))


def grade_notebook(path, out_dir, timeout: int = 600, smoke: bool = False) -> Report:
    """Run, judge and tabulate one notebook (module docstring); the executed copy goes to
    ``out_dir/<name>``."""
    import nbformat

    from .execute import run
    from .harvest import harvest_source
    nb = read_notebook(path)
    tut = tutorial_of(nb, path)
    modules()
    exercises = sorted((ex for ex in REGISTRY.values() if ex.tutorial == tut),
                       key=lambda ex: tuple(int(n) for n in ex.label.split(".")))
    env = dict(os.environ, **({"MINISAB_SMOKE": "1"} if smoke else {}))
    report = Report(str(path), tut, [])
    with tempfile.TemporaryDirectory(prefix="minisab-grade-") as folder:
        wanted = {ex.label: ex.answers for ex in exercises}
        runs, problem = run(nb, Path(path).resolve().parent, timeout, env,
                            harvest_source(folder, wanted), extra_timeout=max(timeout, 60))
        meta = {}
        if problem is None:
            with open(os.path.join(folder, "harvest.json"), encoding="utf-8") as f:
                meta = json.load(f)
        for i, r in sorted(runs.items()):
            if r.status in ("timed out", "kernel died", "not run"):
                report.problems.append(f"{path}: cell {i} {r.status}: {r.detail}")
        if problem is not None:
            report.problems.append(f"{path}: the answers could not be collected: {problem}")
        report.rows = [_exercise_row(ex, nb, runs, meta, folder, timeout, problem)
                       for ex in exercises]
    report.rows += written_rows(nb, tut)
    out = Path(out_dir) / Path(path).name
    from ..train.checkpoint import atomic_write_text
    atomic_write_text(out, nbformat.writes(nb))
    report.executed = str(out)
    return report
