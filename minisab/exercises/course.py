"""The course around the tutorials: a student release, and grading an executed notebook.

``release(outdir)`` copies the tutorial notebooks (never ``tutorials/solutions/``) with their
outputs cleared into a new folder, written whole or not at all (built beside it, then renamed).
``pip_spec`` fills in the setup cell's ``PIP_SPEC``, so that the notebooks install minisab
themselves where it is missing (Colab). ``nbgrader=True`` marks the cells for nbgrader: each
exercise cell (``raise NotImplementedError``) becomes an answer cell, each checker cell a locked,
autograded test cell of one point whose checker call is asserted — run the release through
``nbgrader generate_assignment`` as a source notebook.

``grade(path)`` reads the verdict lines the checkers printed into an executed notebook (or runs
it first, ``execute=True``) and returns one row per exercise: passed or not, and the hint.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from . import REGISTRY, modules
from ._verdict import STATUS_TEXT

CHECK_CALL = re.compile(r"\b(?:t0\d|checks)\.(check_\w+)\(")
_ASSERTABLE = re.compile(r"^(\s*)(?:(\w+)\s*=\s*)?((?:t0\d|checks)\.check_\w+\(.*\))\s*$")


def default_tutorials() -> Path:
    """``tutorials/`` of the repository this minisab was installed from (editable installs)."""
    return Path(__file__).resolve().parents[2] / "tutorials"


def _read(path):
    import nbformat
    return nbformat.read(str(path), as_version=4)


def _clear(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)


def _split_answer_and_check(nb):
    """nbgrader needs an answer cell apart from its test cell: split a cell that holds both
    at its first checker line."""
    import nbformat
    cells = []
    for cell in nb.cells:
        lines = cell.source.splitlines()
        at = next((k for k, ln in enumerate(lines) if _ASSERTABLE.match(ln)), None)
        if (cell.cell_type == "code" and at and "raise NotImplementedError" in cell.source
                and "raise NotImplementedError" not in "\n".join(lines[at:])):
            cells.append(nbformat.v4.new_code_cell("\n".join(lines[:at]).rstrip()))
            cells.append(nbformat.v4.new_code_cell("\n".join(lines[at:])))
        else:
            cells.append(cell)
    nb.cells = cells


def _mark_for_nbgrader(nb, stem):
    """nbgrader source-notebook metadata; checker calls become assertions (a test cell fails
    only by raising)."""
    _split_answer_and_check(nb)
    for k, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = {"schema_version": 3, "grade_id": f"{stem}-cell-{k}"}
        if "raise NotImplementedError" in cell.source:
            meta.update(solution=True, grade=False, locked=False)
        elif CHECK_CALL.search(cell.source):
            lines = []
            for line in cell.source.splitlines():
                m = _ASSERTABLE.match(line)
                if m and m.group(2):
                    line = f"{line}\n{m.group(1)}assert {m.group(2)}"
                elif m:
                    line = f"{m.group(1)}assert {m.group(3)}"
                lines.append(line)
            cell.source = "\n".join(lines)
            meta.update(solution=False, grade=True, locked=True, points=1)
        else:
            continue
        cell.metadata["nbgrader"] = meta


def release(outdir, tutorials=None, pip_spec: str | None = None, nbgrader: bool = False):
    """Write the student release into ``outdir`` (which must not exist). Returns the files."""
    import nbformat
    src = Path(tutorials) if tutorials is not None else default_tutorials()
    out = Path(outdir)
    notebooks = sorted(src.glob("*.ipynb"))
    if not notebooks:
        raise ValueError(f"invalid tutorials={str(src)!r}: no notebooks there (pass the "
                         "tutorials/ folder of a minisab checkout)")
    if out.exists():
        raise ValueError(f"invalid outdir={str(out)!r}: it exists; the release goes into a new "
                         "folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        written = []
        for path in notebooks:
            nb = _read(path)
            _clear(nb)
            if pip_spec:
                for cell in nb.cells:
                    cell.source = cell.source.replace("PIP_SPEC = None", f"PIP_SPEC = {pip_spec!r}")
            if nbgrader:
                _mark_for_nbgrader(nb, path.stem)
            nbformat.write(nb, str(tmp / path.name))
            written.append(path.name)
        for extra in ("README.md",):                       # the syllabus
            if (src / extra).exists():
                shutil.copy2(src / extra, tmp / extra)
                written.append(extra)
        os.replace(tmp, out)                                # whole or nothing
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [out / name for name in written]


def execute(path, timeout: int = 600):
    """Run a notebook in its own folder, errors allowed (each checker reports on its own)."""
    from nbclient import NotebookClient
    nb = _read(path)
    NotebookClient(nb, kernel_name="python3", timeout=timeout, allow_errors=True,
                   resources={"metadata": {"path": str(Path(path).resolve().parent)}}).execute()
    return nb


def grade(path, execute_first: bool = False, timeout: int = 600):
    """Rows ``{"exercise", "status", "passed", "hint"}`` for every checker cell of a notebook."""
    if not Path(path).is_file():
        raise ValueError(f"invalid notebook={str(path)!r}: no such file")
    nb = execute(path, timeout) if execute_first else _read(path)
    modules()                                               # fill REGISTRY
    words = {text.split(" --")[0].rstrip("."): status for status, text in STATUS_TEXT.items()}
    rows = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for name in CHECK_CALL.findall(cell.source):
            label = REGISTRY.get(name, name)
            text = "".join(o.get("text", "") for o in cell.get("outputs", [])
                           if o.get("output_type") == "stream")
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            status, hint = "not run", ""
            at = text.find(f"{label}: ")
            if at >= 0:
                rest = text[at + len(label) + 2:]
                for word, st in words.items():
                    if rest.startswith(word):
                        status = st
                        hint = rest[len(word):].strip().split("\n")[0].lstrip(". ")
                        break
            elif errors:
                status, hint = "error", f"{errors[0].get('ename')}: {errors[0].get('evalue')}"
            rows.append({"exercise": label, "status": status, "passed": status == "correct",
                         "hint": "" if status == "correct" else hint})
    return rows


def format_table(rows) -> str:
    """A plain-text table: exercise, result, hint (shortened)."""
    if not rows:
        return "no exercises found (no checker calls in this notebook)"
    w = max(len(r["exercise"]) for r in rows)
    lines = [f"{'exercise':{w}s}  {'result':9s}  hint", "-" * (w + 40)]
    for r in rows:
        hint = r["hint"] if len(r["hint"]) <= 100 else r["hint"][:97] + "..."
        lines.append(f"{r['exercise']:{w}s}  {('passed' if r['passed'] else r['status']):9s}  "
                     f"{hint}")
    n = sum(r["passed"] for r in rows)
    lines.append(f"{n} of {len(rows)} passed")
    return "\n".join(lines)


def to_json(rows) -> str:
    return json.dumps(rows, indent=1, ensure_ascii=False)
