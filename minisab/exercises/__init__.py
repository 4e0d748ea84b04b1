"""The tutorials' exercise checkers, installed with minisab so that a notebook works anywhere.

One module per tutorial (``t01`` ... ``t08``); a notebook imports its own, e.g.
``from minisab.exercises import t01``, then calls ``t01.check_lstm_forward(my_function)``.
Every checker prints one line (``correct``, ``not done yet``, or ``not right yet`` with a hint
that names the missing idea) and returns a ``Verdict``, truthy only when correct (see
``_verdict``). The checkers test on their own small problems against minisab's own functions or
central finite differences, so they do not depend on the state of the notebook.

``python -m minisab.exercises release OUTDIR`` writes a student release of the tutorials
(no solutions); ``python -m minisab.exercises grade NOTEBOOK`` prints a table of a student's
exercises from an executed notebook (``--execute`` runs it first). See ``course.py``.
"""
from ._verdict import REGISTRY, Verdict

__all__ = ["REGISTRY", "Verdict", "modules"]

TUTORIALS = ("t01", "t02", "t03", "t04", "t05", "t06", "t07", "t08")


def modules():
    """Every checker module, imported (this fills ``REGISTRY``: checker name -> label)."""
    import importlib
    return [importlib.import_module(f"{__name__}.{name}") for name in TUTORIALS]
