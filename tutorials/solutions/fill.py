"""A tutorial with its exercises done: the reference solutions written into the student's cells.

``filled(path)`` returns the notebook ``tutorials/NN_*.ipynb`` with every exercise function the
solutions define (``solutions.ipynb`` for tutorials 1-4, ``NN_*_solutions.ipynb`` for 5-8)
written over the student's ``raise NotImplementedError`` version, in the same cell, before its
checker call. What a student who did everything hands in; used by the tests (the grader on a
real executed notebook) and by ``time_own_training.py`` (the training of a student's own code).
"""
from __future__ import annotations

import ast
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent


def solution_functions(tutorial: int) -> dict:
    """``{name: source}`` of the top-level functions the solution notebook defines, with the
    helpers they use (defined in the same cell before them)."""
    name = "solutions.ipynb" if tutorial <= 4 else next(
        p.name for p in HERE.glob(f"0{tutorial}_*_solutions.ipynb"))
    out = {}
    for cell in nbformat.read(str(HERE / name), as_version=4).cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        lines = cell.source.splitlines()
        helpers = []
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                src = "\n".join(lines[node.lineno - 1:node.end_lineno])
                out[node.name] = "\n\n\n".join(helpers + [src])
                helpers.append(src)
    return out


def filled(path) -> nbformat.NotebookNode:
    """The notebook at ``path`` with the solutions written into its exercise cells."""
    path = Path(path)
    solutions = solution_functions(int(path.name[:2]))
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code" or "raise NotImplementedError" not in cell.source:
            continue
        tree = ast.parse(cell.source)
        lines = cell.source.splitlines()
        for node in reversed(tree.body):
            if isinstance(node, ast.FunctionDef) and node.name in solutions:
                lines[node.lineno - 1:node.end_lineno] = solutions[node.name].splitlines()
        cell.source = "\n".join(lines)
    return nb
