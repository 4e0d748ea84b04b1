"""One exercise judged in a process of its own: ``python -m minisab.exercises.judge DIR LABEL``.

The grader (``grade.py``) starts this after running a student's notebook. It reads a one-time
token from stdin, imports the checkers afresh (nothing the notebook did reaches this process),
loads the student's answers for one exercise from ``DIR/LABEL.pkl`` (written by the harvest cell
of ``harvest.py``), runs the registered checker on them, and prints one line,
``minisab-verdict TOKEN {"status": ..., "message": ...}``. The grader believes only a line with
its token: a student's function that prints a verdict of its own cannot know it.

While the student's code runs (unpickling it, and every call of it), an audit hook refuses, and
records, what an answer has no business doing: reading minisab's stored answers, starting
another program, switching the profile hook off, looking at other frames (``sys._getframe``,
``tb_frame``, ``gi_frame``), walking the garbage collector's objects, or using ctypes. The
expected results are loaded only after the student's calls have returned (``_verdict``), so
there is nothing to find anyway; the hook makes sure of it. This is not a sandbox against code
written to attack the grader itself (that needs a container); it stops every ordinary route to
an answer the student did not write.
"""
from __future__ import annotations

import importlib
import json
import os
import sys

from . import _guard
from ._answers import ANSWERS_DIR

_BLOCKED = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
            "os.fork", "os.forkpty", "sys.settrace", "sys.setprofile", "sys._getframe",
            "gc.get_objects", "gc.get_referrers", "gc.get_referents", "ctypes.")
_FRAME_ATTRS = ("tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_back")
_ANSWERS = str(ANSWERS_DIR) + os.sep


class Blocked(RuntimeError):
    """Raised into the student's code by the audit hook."""


def _audit(event, args):
    if not _guard.ACTIVE["on"]:
        return
    why = None
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.abspath(os.fsdecode(args[0]))
        if path.startswith(_ANSWERS) or path.startswith("/proc/"):
            why = f"open({path!r}) (minisab's stored answers or the process's memory)"
    elif event == "object.__getattr__" and len(args) > 1 and args[1] in _FRAME_ATTRS:
        why = f"{args[1]} (looking at the grader's frames)"
    elif event.startswith(_BLOCKED):
        why = event
    if why:
        _guard.ACTIVE["violations"].append(why)
        raise Blocked(f"the grader does not allow {why}")


def _values(ex, meta, folder):
    import cloudpickle
    with open(os.path.join(folder, f"{ex.label}.pkl"), "rb") as f:
        blob = f.read()
    guard = _guard.Guard(ex.allowed, ex.modules + ("minisab.config", "minisab.train.tasks"))
    with guard:
        values = cloudpickle.loads(blob)
    if guard.violations:
        return None, guard.message(ex.hands_out)
    for v, src in zip(values, meta.get("sources") or ()):
        if src and callable(v) and not isinstance(v, type):
            try:
                v.__minisab_source__ = src              # 4.5 counts the lines of its source
            except (AttributeError, TypeError):
                pass
    return values, None


def judge(folder: str, label: str) -> dict:
    from . import REGISTRY, modules
    modules()
    ex = REGISTRY[label]
    with open(os.path.join(folder, "harvest.json"), encoding="utf-8") as f:
        meta = json.load(f)[label]
    values, refused = _values(ex, meta, folder)
    if refused:
        return {"status": "wrong", "message": refused}
    check = getattr(importlib.import_module(f"minisab.exercises.{ex.tutorial}"), ex.check)
    v = check(*values, quiet=True)
    return {"status": v.status, "message": v.message}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    folder, label = argv
    token = sys.stdin.readline().strip()
    _guard.IGNORED.add(_audit.__code__)
    sys.addaudithook(_audit)
    try:
        result = judge(folder, label)
    except BaseException as e:                      # a crash of the judge itself
        result = {"status": "error", "message": f"{type(e).__name__}: {e}"}
    sys.stdout.write(f"\nminisab-verdict {token} {json.dumps(result)}\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
