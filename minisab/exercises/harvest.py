"""The one cell the grader adds after a student's notebook: it collects the answers.

``harvest_source(folder, wanted)`` is the code of that cell. ``wanted`` maps an exercise label
to the expressions of its answers in the notebook (``Exercise.answers``: ``"my_bptt"``,
``'cfgs["lstm tbptt"]'``). For each exercise the cell evaluates them in the notebook's namespace
and writes them, with the source of each function, into ``folder`` with cloudpickle (functions
defined in the notebook travel by value, with the helpers and globals they use), for
``judge.py`` to load in a fresh process. ``folder/harvest.json`` says, per exercise, "ok",
"missing" (a name the notebook never defined) or "error" (and why). The folder is made by the
grader after the student's cells have run, so they cannot know it.
"""
from __future__ import annotations

import json

_CELL = '''
def __minisab_harvest(folder, wanted):
    import inspect, json, os
    import cloudpickle
    meta = {}
    for label, exprs in wanted.items():
        try:
            values = [eval(e, globals()) for e in exprs]
        except NameError as e:
            meta[label] = {"status": "missing", "detail": str(e)}
            continue
        except BaseException as e:
            meta[label] = {"status": "error", "detail": f"{type(e).__name__}: {e}"}
            continue
        sources = []
        for v in values:
            try:
                sources.append(inspect.getsource(v) if callable(v) else None)
            except Exception:
                sources.append(None)
        try:
            blob = cloudpickle.dumps(values)
        except BaseException as e:
            meta[label] = {"status": "error", "detail": "the answer cannot be sent to the "
                           f"grader: {type(e).__name__}: {e}"}
            continue
        with open(os.path.join(folder, label + ".pkl"), "wb") as f:
            f.write(blob)
        meta[label] = {"status": "ok", "sources": sources}
    with open(os.path.join(folder, "harvest.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f)


__minisab_harvest(FOLDER, WANTED)
del __minisab_harvest
'''


def harvest_source(folder, wanted: dict) -> str:
    """The harvest cell for ``wanted`` (label -> expressions), writing into ``folder``."""
    return (_CELL.replace("FOLDER", json.dumps(str(folder)))
            .replace("WANTED", json.dumps({k: list(v) for k, v in wanted.items()})))
