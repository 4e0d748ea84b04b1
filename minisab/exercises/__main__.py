"""``python -m minisab.exercises release OUTDIR`` / ``grade NOTEBOOK`` (see ``course.py``)."""
from __future__ import annotations

import argparse
import sys

from .course import format_table, grade, release, to_json


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m minisab.exercises",
                                 description="The tutorials as a course: release, grade.")
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("release", help="write the tutorials without solutions into a new folder")
    r.add_argument("outdir")
    r.add_argument("--from", dest="tutorials", default=None,
                   help="the tutorials/ folder (default: the one beside this minisab)")
    r.add_argument("--pip-spec", default=None, help="what the notebooks' setup cell installs "
                   "where minisab is missing, e.g. 'git+https://.../minisab.git'")
    r.add_argument("--nbgrader", action="store_true",
                   help="mark answer and test cells for nbgrader (a source notebook)")
    g = sub.add_parser("grade", help="a table of a student's exercises from an executed notebook")
    g.add_argument("notebook")
    g.add_argument("--execute", action="store_true", help="run the notebook first")
    g.add_argument("--timeout", type=int, default=600, help="seconds per cell with --execute")
    g.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = ap.parse_args(argv)
    try:
        if args.command == "release":
            files = release(args.outdir, args.tutorials, args.pip_spec, args.nbgrader)
            print(f"wrote {len(files)} files to {args.outdir} (no solutions)")
        else:
            rows = grade(args.notebook, args.execute, args.timeout)
            print(to_json(rows) if args.json else format_table(rows))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
