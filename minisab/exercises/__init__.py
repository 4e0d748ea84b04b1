"""The tutorials' exercise checkers, installed with minisab so that a notebook works anywhere.

One module per tutorial (``t01`` ... ``t08``; ``t09`` has written answers only); a notebook
imports its own, e.g. ``from minisab.exercises import t01``, then calls
``t01.check_lstm_forward(my_function)``. Every checker prints one line (``correct``,
``not done yet``, or ``not right yet`` with a hint that names the mistake) and returns a
``Verdict``, truthy only when correct (``_verdict``). A checker calls the student's function on
its own small problems, watched so that it cannot lean on minisab (``_guard``), and compares
with stored numbers (``_answers``): the package ships no reference code to hand in.

``python -m minisab.exercises release OUTDIR`` writes a course release (``release.py``: a student
folder and an instructor folder); ``python -m minisab.exercises grade NOTEBOOK|FOLDER`` runs
the students' notebooks and judges every exercise itself (``grade.py``).
"""
from ._verdict import REGISTRY, Verdict

__all__ = ["REGISTRY", "Verdict", "modules", "TUTORIALS"]

TUTORIALS = ("t01", "t02", "t03", "t04", "t05", "t06", "t07", "t08", "t09")


def modules():
    """Every checker module, imported (this fills ``REGISTRY``: label -> ``Exercise``)."""
    import importlib
    return [importlib.import_module(f"{__name__}.{name}") for name in TUTORIALS]
