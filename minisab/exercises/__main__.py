"""``python -m minisab.exercises release OUTDIR`` / ``grade NOTEBOOK|FOLDER``.

``grade`` runs each notebook in a Jupyter kernel and judges every exercise of its tutorial in a
process of its own (``grade.py``): it prints a table per notebook and writes the executed
copies and ``grades.csv`` into ``--out`` (default: a folder ``graded`` beside the notebook, or
inside the folder). It exits 2, after writing what it could, when a file is not a notebook or
a cell timed out or killed the kernel (the table still lists every exercise).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _timeout(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid --timeout={text!r}: accepted values are "
                                         "whole seconds >= 1 (per cell and per exercise)")
    return value


def _parser():
    ap = argparse.ArgumentParser(prog="python -m minisab.exercises",
                                 description="The tutorials as a course: release, grade.")
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("release", help="write a student folder and an instructor folder "
                       "into a new folder OUTDIR")
    r.add_argument("outdir")
    r.add_argument("--from", dest="tutorials", default=None,
                   help="the tutorials/ folder (default: the one beside this minisab)")
    r.add_argument("--pip-spec", default=None, help="what the notebooks' setup cell installs "
                   "where minisab is missing, e.g. 'git+https://.../minisab.git'")
    r.add_argument("--repo-url", default=None, help="a GitHub URL https://github.com/OWNER/"
                   "REPO[/tree/REF[/FOLDER]]: an 'Open in Colab' link on every notebook (to "
                   "FOLDER, default tutorials, at REF, default main), and the setup cell "
                   "installs minisab from that repository")
    r.add_argument("--nbgrader", action="store_true",
                   help="mark answer, test and manually graded cells for nbgrader")
    g = sub.add_parser("grade", help="run students' notebooks and judge every exercise")
    g.add_argument("path", help="a notebook, or a folder of notebooks (searched recursively)")
    g.add_argument("--out", default=None, help="where the executed copies and grades.csv go "
                   "(default: PATH's folder/graded)")
    g.add_argument("--timeout", type=_timeout, default=None,
                   help="seconds per cell, and per exercise's check (whole seconds >= 1; "
                   "default 600, or the settings' timeout)")
    g.add_argument("--settings", default=None, help="a release's instructor/grading.json: "
                   "the points of each exercise and written answer, and the timeout")
    g.add_argument("--smoke", action="store_true", help="run the notebooks with "
                   "MINISAB_SMOKE=1 (small sizes: fast; fine for tutorials 1-4 and 8, not for "
                   "the open exercises of 5-7, whose answers are numbers read off a run)")
    g.add_argument("--json", action="store_true", help="print the rows as JSON")
    return ap


def _notebooks(path: Path, out: Path):
    """The notebooks to grade: ``path``, or every one under it but the grader's own output."""
    if path.is_dir():
        out = out.resolve()
        return sorted(p for p in path.rglob("*.ipynb") if out not in p.resolve().parents and
                      ".ipynb_checkpoints" not in p.parts)
    return [path]


def _grade(args) -> int:
    from ..train.checkpoint import atomic_write_text
    from .grade import GradeError, grade_notebook
    from .gradetable import apply_points, format_table, read_settings, to_csv, to_json
    settings = read_settings(args.settings) if args.settings else {}
    timeout = args.timeout or settings.get("timeout", 600)
    path = Path(args.path)
    if not path.exists():
        raise ValueError(f"invalid path={args.path!r}: no such notebook or folder")
    out = Path(args.out) if args.out else (path if path.is_dir() else path.parent) / "graded"
    if out.exists() and not out.is_dir():
        raise ValueError(f"invalid --out={str(out)!r}: it is a file, not a folder")
    notebooks = _notebooks(path, out)
    if not notebooks:
        raise ValueError(f"invalid path={args.path!r}: no notebooks there")
    reports, problems = [], []
    for nb in notebooks:
        rel = nb.relative_to(path) if path.is_dir() else Path(nb.name)
        try:
            rep = grade_notebook(nb, out / rel.parent, timeout, args.smoke)
        except GradeError as e:
            problems.append(str(e))
            continue
        apply_points(rep.rows, settings)
        reports.append(rep)
        problems += rep.problems
        if not args.json:
            print(format_table(rep) + "\n")
    if reports:
        atomic_write_text(out / "grades.csv", to_csv(reports))
    if args.json:
        print(to_json(reports))
    elif reports:
        print(f"executed copies and grades.csv in {out}")
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    return 2 if problems else 0


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "release":
            from .release import release
            files = release(args.outdir, args.tutorials, args.pip_spec, args.nbgrader,
                            args.repo_url)
            print(f"wrote {len(files)} files to {args.outdir}: student/ for the students, "
                  "instructor/ for you (solutions, rubric, grader settings)")
            return 0
        return _grade(args)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {e.strerror or e}: {e.filename or ''}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
