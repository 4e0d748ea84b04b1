"""What the grader prints and writes: a table per notebook, one CSV for a folder, JSON."""
from __future__ import annotations

import csv
import io
import json

CSV_FIELDS = ("notebook", "tutorial", "exercise", "title", "status", "points", "max_points",
              "hint")


def totals(rows) -> tuple[int, int, int]:
    """(points earned, points graded automatically, points to be marked by hand)."""
    auto = [r for r in rows if r["status"] != "by hand"]
    hand = [r for r in rows if r["status"] == "by hand"]
    return (sum(r["points"] or 0 for r in auto), sum(r["max_points"] for r in auto),
            sum(r["max_points"] for r in hand))


def format_table(report) -> str:
    """A plain-text table: exercise, result, points, hint (shortened)."""
    rows = report.rows
    if not rows:
        return f"{report.notebook}: no exercises registered for {report.tutorial}"
    w = max(8, max(len(r["exercise"]) for r in rows))
    lines = [f"{report.notebook} (tutorial {report.tutorial[1:]})",
             f"{'exercise':{w}s}  {'result':10s}  {'points':>6s}  hint", "-" * (w + 60)]
    for r in rows:
        hint = r["hint"].replace("\n", " ")
        hint = hint if len(hint) <= 110 else hint[:107] + "..."
        pts = (f"?/{r['max_points']}" if r["points"] is None else
               f"{r['points']}/{r['max_points']}")
        lines.append(f"{r['exercise']:{w}s}  {r['status']:10s}  {pts:>6s}  {hint}")
    earned, auto, hand = totals(rows)
    passed = sum(r["status"] == "passed" for r in rows)
    graded = sum(r["status"] != "by hand" for r in rows)
    lines.append(f"{passed} of {graded} exercises passed: {earned} of {auto} points"
                 + (f"; {hand} more points to be marked by hand" if hand else ""))
    return "\n".join(lines)


def to_csv(reports) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for rep in reports:
        for r in rep.rows:
            w.writerow({"notebook": rep.notebook, "tutorial": rep.tutorial,
                        **{k: ("" if r[k] is None else r[k]) for k in CSV_FIELDS[2:]}})
    return buf.getvalue()


def to_json(reports) -> str:
    return json.dumps([{"notebook": rep.notebook, "tutorial": rep.tutorial,
                        "executed": rep.executed, "problems": rep.problems, "rows": rep.rows}
                       for rep in reports], indent=1, ensure_ascii=False)
