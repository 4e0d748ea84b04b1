"""Mark a tutorial for nbgrader: answer cells, locked test cells, manually graded answers.

``mark(nb, tutorial, stem)`` turns a tutorial into an nbgrader source notebook:

- a code cell with the student's part and a checker call is split at the first checker call
  (found with ``ast``, so a call over several lines counts): the part before becomes an answer
  cell (``solution``), the rest a locked test cell (``grade``) worth the exercise's points;
- in a test cell every checker call becomes an assertion, however many lines it spans
  (``assert (t07.check_...(...))``; a verdict is falsy unless the answer is right, so the cell
  fails for "not done" too), and ``v = check(...)`` is followed by ``assert v``;
- the written-answer cells (``written.py``) become manually graded answer cells with their
  points.
"""
from __future__ import annotations

import ast
import re

from . import REGISTRY, modules
from .written import WRITTEN

CHECK = re.compile(r"^(t0\d)\.(check_\w+)$")


def _check_name(node):
    """``"check_x"`` if ``node`` is a call ``tNN.check_x(...)``, else None."""
    if isinstance(node, ast.Call):
        m = CHECK.match(ast.unparse(node.func))
        return m.group(2) if m else None
    return None


def _checks(source):
    """Top-level statements that call a checker: ``(first line, last line, kind, target)``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    out = []
    for st in tree.body:
        if isinstance(st, ast.Expr) and _check_name(st.value):
            out.append((st.lineno, st.end_lineno, "expr", None))
        elif (isinstance(st, ast.Assign) and _check_name(st.value) and len(st.targets) == 1
              and isinstance(st.targets[0], ast.Name)):
            out.append((st.lineno, st.end_lineno, "assign", st.targets[0].id))
    return out


def assert_checks(source: str) -> str:
    """Every top-level checker call of ``source`` made an assertion."""
    lines = source.splitlines()
    for first, last, kind, target in reversed(_checks(source)):
        block = lines[first - 1:last]
        if kind == "expr":
            indent = block[0][:len(block[0]) - len(block[0].lstrip())]
            block = [f"{indent}assert ({block[0].lstrip()}"] + block[1:]
            block[-1] += ")"
        else:
            block = block + [f"assert {target}"]
        lines[first - 1:last] = block
    return "\n".join(lines)


def _labels_by_check(tutorial):
    modules()                                   # fill REGISTRY
    return {ex.check: ex for ex in REGISTRY.values() if ex.tutorial == tutorial}


def split_answers(nb):
    """Cells holding the student's part and a checker call, split at the first call."""
    import nbformat
    cells = []
    for cell in nb.cells:
        found = _checks(cell.source) if cell.cell_type == "code" else []
        if found and found[0][0] > 1:
            lines = cell.source.splitlines()
            head = "\n".join(lines[:found[0][0] - 1]).rstrip()
            if head.strip():
                cells.append(nbformat.v4.new_code_cell(head))
                cells.append(nbformat.v4.new_code_cell("\n".join(lines[found[0][0] - 1:])))
                continue
        cells.append(cell)
    nb.cells = cells


def mark(nb, tutorial: str, stem: str):
    """Add nbgrader metadata to ``nb`` in place (module docstring)."""
    split_answers(nb)
    by_check = _labels_by_check(tutorial)
    answer_names = {n for ex in by_check.values() for a in ex.answers          # the student's
                    if (n := re.match(r"\w+", a).group(0)).startswith("my_")}  # (not task)
    points = {label: p for label, _, p in WRITTEN.get(tutorial, ())}
    used = set()
    for k, cell in enumerate(nb.cells):
        meta = {"schema_version": 3, "grade_id": f"{stem}-cell-{k}"}
        if cell.cell_type == "markdown":
            label = cell.metadata.get("minisab", {}).get("answer")
            if label is None:
                continue
            meta.update(grade_id=f"{stem}-answer-{label}", solution=True, grade=True,
                        locked=False, points=points.get(label, 1))
        elif cell.cell_type != "code":
            continue
        elif _checks(cell.source):
            checks = [re.search(r"check_\w+", cell.source.splitlines()[c[0] - 1]).group(0)
                      for c in _checks(cell.source)]
            exs = [by_check[c] for c in checks if c in by_check and c not in used]
            used.update(checks)
            cell.source = assert_checks(cell.source)
            meta.update(solution=False, grade=True, locked=True,
                        points=sum(ex.points for ex in exs) or 1)
            if exs:
                meta["grade_id"] = f"{stem}-test-{exs[0].label}"
        elif "raise NotImplementedError" in cell.source or any(
                re.search(rf"^{re.escape(n)}\s*=", cell.source, re.M) for n in answer_names):
            meta.update(solution=True, grade=False, locked=False)
        else:
            continue
        meta["grade_id"] = re.sub(r"[^A-Za-z0-9_-]+", "-", meta["grade_id"]).strip("-")
        cell.metadata["nbgrader"] = meta           # (nbgrader: letters, digits, - and _ only)
