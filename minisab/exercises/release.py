"""A course release: a folder for the students and a separate one for the teacher.

``release(outdir)`` writes ``outdir/student/`` (the tutorial notebooks with their outputs
cleared, and the syllabus without its sections for teachers) and ``outdir/instructor/`` (the
solution notebooks, ``rubric.md``: every exercise and written answer with its points and the
rubrics of the solutions, ``grading.json``: the grader's settings, and ``README.md``: the
syllabus's sections for teachers). ``outdir`` must not exist; it is built beside itself and
renamed, so it appears whole or not at all, and a refused release changes nothing.

- ``pip_spec`` fills in the setup cell's ``PIP_SPEC``: the notebooks install minisab
  themselves where it is missing (Colab, a course server).
- ``repo_url`` (``https://github.com/OWNER/REPO[/tree/REF[/DIR]]``) puts an "Open in Colab"
  link at the top of every student notebook, to ``DIR/<notebook>`` of that repository at REF
  (defaults: ``main``, ``tutorials``; commit the student folder there, or keep the
  repository's own ``tutorials/``), and makes the setup cell install minisab from it.
- ``nbgrader=True`` marks the notebooks for nbgrader (``nbgrader.py``).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from . import REGISTRY, modules
from .written import WRITTEN

TEACHERS = re.compile(r"<!-- teachers -->.*?<!-- /teachers -->\n?", re.S)
GITHUB = re.compile(r"^https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?"
                    r"(?:/tree/([\w./-]+?))?/?$")
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


def default_tutorials() -> Path:
    """``tutorials/`` of the repository this minisab was installed from (editable installs)."""
    return Path(__file__).resolve().parents[2] / "tutorials"


def _check_outdir(out: Path) -> Path:
    """The first existing ancestor of ``out``, which must be a writable folder."""
    if out.exists() or out.is_symlink():
        raise ValueError(f"invalid outdir={str(out)!r}: it exists; the release goes into a new "
                         "folder")
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"invalid outdir={str(out)!r}: {str(parent)!r} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"invalid outdir={str(out)!r}: {str(parent)!r} is not writable")
    return parent


def parse_repo_url(url: str):
    """``(owner, repo, ref, folder)`` of a GitHub URL; ValueError naming --repo-url."""
    m = GITHUB.match(url or "")
    if not m:
        raise ValueError(f"invalid repo_url={url!r}: accepted values are GitHub URLs "
                         "https://github.com/OWNER/REPO or https://github.com/OWNER/REPO/tree/"
                         "REF/FOLDER (Colab opens notebooks from GitHub)")
    owner, repo, tree = m.groups()
    ref, _, folder = (tree or "main").partition("/")
    return owner, repo, ref, folder or "tutorials"


def _student_notebook(path: Path, pip_spec, colab, nbgrader: bool):
    import nbformat

    from . import nbgrader as nbg
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            if pip_spec:
                cell.source = cell.source.replace("PIP_SPEC = None",
                                                  f"PIP_SPEC = {pip_spec!r}")
        cell.metadata.pop("execution", None)
    tutorial = f"t{path.name[:2]}"
    nb.metadata["minisab"] = {"tutorial": tutorial}
    if colab:
        owner, repo, ref, folder = colab
        link = (f"https://colab.research.google.com/github/{owner}/{repo}/blob/{ref}/"
                f"{folder}/{path.name}")
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(
            f"[![Open In Colab]({COLAB_BADGE})]({link}) (the first code cell installs minisab "
            "there)"))
    if nbgrader:
        nbg.mark(nb, tutorial, path.stem)
    return nb


def _rubric(solutions: Path) -> str:
    """Every exercise and written answer with its points, then the solutions' rubrics."""
    import nbformat
    modules()
    lines = ["# Rubric and points", "", "Graded automatically by `python -m minisab.exercises "
             "grade` (the points a passed exercise earns), and by hand (the written answers; "
             "their answers and rubrics are in the solution notebooks).", ""]
    for tut in sorted({ex.tutorial for ex in REGISTRY.values()} | set(WRITTEN)):
        lines += [f"## Tutorial {int(tut[1:])}", "", "| exercise | what | points | graded |",
                  "|---|---|---|---|"]
        lines += [f"| {ex.label} | {ex.title} | {ex.points} | automatically |"
                  for ex in REGISTRY.values() if ex.tutorial == tut]
        lines += [f"| {label} | {what} | {p} | by hand |" for label, what, p in
                  WRITTEN.get(tut, ())]
        lines.append("")
    for path in sorted(solutions.glob("*.ipynb")):
        texts = [c.source for c in nbformat.read(str(path), as_version=4).cells
                 if c.cell_type == "markdown" and "**Rubric" in c.source]
        if texts:
            lines += [f"## From `{path.name}`", ""] + [t + "\n" for t in texts]
    return "\n".join(lines)


def _grading_settings() -> dict:
    modules()
    return {"timeout": 600,
            "points": {ex.label: ex.points for ex in REGISTRY.values()},
            "written": {label: p for rows in WRITTEN.values() for label, _, p in rows}}


def release(outdir, tutorials=None, pip_spec: str | None = None, nbgrader: bool = False,
            repo_url: str | None = None):
    """Write the release into ``outdir`` (module docstring). Returns the files written."""
    import nbformat
    src = Path(tutorials) if tutorials is not None else default_tutorials()
    out = Path(outdir)
    notebooks = sorted(src.glob("*.ipynb"))
    if not notebooks:
        raise ValueError(f"invalid tutorials={str(src)!r}: no notebooks there (pass the "
                         "tutorials/ folder of a minisab checkout)")
    colab = parse_repo_url(repo_url) if repo_url is not None else None
    if colab and not pip_spec:
        pip_spec = f"git+https://github.com/{colab[0]}/{colab[1]}.git@{colab[2]}"
    existing = _check_outdir(out)
    made = []                                           # parent folders this call creates
    for p in reversed(out.parents):
        if not p.exists() and existing in p.parents:
            made.append(p)
    tmp = None
    try:
        for p in made:
            p.mkdir()
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        (tmp / "student").mkdir()
        (tmp / "instructor" / "solutions").mkdir(parents=True)
        written = []
        for path in notebooks:
            nb = _student_notebook(path, pip_spec, colab, nbgrader)
            nbformat.write(nb, str(tmp / "student" / path.name))
            written.append(f"student/{path.name}")
        readme = (src / "README.md").read_text(encoding="utf-8") if (src / "README.md").exists() \
            else ""
        (tmp / "student" / "README.md").write_text(TEACHERS.sub("", readme), encoding="utf-8")
        teachers = "\n".join(m.group(0) for m in TEACHERS.finditer(readme))
        (tmp / "instructor" / "README.md").write_text(
            "# For teachers\n\n" + teachers.replace("<!-- teachers -->", "")
            .replace("<!-- /teachers -->", ""), encoding="utf-8")
        for path in sorted((src / "solutions").glob("*.ipynb")):
            shutil.copy2(path, tmp / "instructor" / "solutions" / path.name)
            written.append(f"instructor/solutions/{path.name}")
        (tmp / "instructor" / "rubric.md").write_text(_rubric(src / "solutions"),
                                                      encoding="utf-8")
        (tmp / "instructor" / "grading.json").write_text(
            json.dumps(_grading_settings(), indent=1) + "\n", encoding="utf-8")
        written += ["student/README.md", "instructor/README.md", "instructor/rubric.md",
                    "instructor/grading.json"]
        os.replace(tmp, out)                                # whole or nothing
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        for p in reversed(made):
            shutil.rmtree(p, ignore_errors=True)
        raise
    return [out / name for name in written]
