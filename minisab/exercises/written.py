"""The written answers: markdown cells a teacher marks by hand.

Each tutorial's derivations, explanations of the open exercises and "To think about" questions
have an answer cell right after them, a markdown cell whose metadata is
``{"minisab": {"answer": LABEL, "points": P}}`` and whose text starts with ``ANSWER_PROMPT``.
``WRITTEN[tutorial]`` lists them (label, what is asked, points); ``tests/test_tutorials.py``
checks that the notebooks hold exactly these cells. The grader lists them as "by hand" with the
number of words written, the release marks them for nbgrader as manually graded cells.
"""
from __future__ import annotations

ANSWER_PROMPT = "**Your answer"          # the cell's first words, before the label

WRITTEN = {
    "t01": (("1.T", "To think about: the best h, and float32", 1),),
    "t02": (("2.T", "To think about (a)–(b)", 2),),
    "t03": (("3.4(a)", "the top-k softmax Jacobian, derived", 2),
            ("3.T", "To think about (a)–(c)", 3)),
    "t04": (("4.T", "To think about (a)–(b)", 2),),
    "t05": (("5.T", "To think about (a)–(d)", 4),
            ("5.3(b)", "the open exercise, explained", 4)),
    "t06": (("6.T", "To think about (a)–(d)", 4),
            ("6.3(b)", "the open exercise, explained", 4)),
    "t07": (("7.T", "To think about (a)–(d)", 4),
            ("7.3(b)", "the open exercise, explained", 4)),
    "t08": (("8.T", "To think about (a)–(c)", 3),),
    "t09": (("9.T", "To think about (a)–(d)", 4),),
}


def answer_cell_text(label: str, what: str) -> str:
    """The text of an empty answer cell."""
    return (f"{ANSWER_PROMPT} ({label}, {what}; marked by hand):** "
            "*write it here, in this cell.*")


def answer_cells(nb) -> dict:
    """``{label: cell}`` of the notebook's written-answer cells."""
    return {c.metadata["minisab"]["answer"]: c for c in nb.cells
            if c.cell_type == "markdown" and "answer" in c.metadata.get("minisab", {})}


def words_written(cell, label: str, what: str) -> int:
    """Words the student wrote in an answer cell (the prompt does not count)."""
    text = cell.source.replace(answer_cell_text(label, what), " ")
    text = text.split(":**", 1)[1] if text.lstrip().startswith(ANSWER_PROMPT) else text
    return len(text.replace("*write it here, in this cell.*", " ").split())


def written_rows(nb, tutorial: str) -> list:
    """One "by hand" row per expected written answer ("missing" if its cell is gone)."""
    cells = answer_cells(nb)
    rows = []
    for label, what, points in WRITTEN.get(tutorial, ()):
        cell = cells.get(label)
        if cell is None:
            rows.append({"exercise": label, "title": what, "status": "missing", "points": 0,
                         "max_points": points, "hint": "the answer cell was deleted"})
            continue
        n = words_written(cell, label, what)
        rows.append({"exercise": label, "title": what, "status": "by hand", "points": None,
                     "max_points": points,
                     "hint": "to be marked by hand: " + (f"{n} words written" if n else
                                                          "not answered")})
    return rows
