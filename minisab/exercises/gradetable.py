"""What the grader prints and writes: a table per notebook, one CSV for a folder, JSON."""
from __future__ import annotations

import csv
import io
import json

CSV_FIELDS = ("notebook", "tutorial", "exercise", "title", "status", "points", "max_points",
              "hint")


def apply_points(rows, settings: dict) -> list:
    """The rows with the points of a teacher's ``grading.json`` (``points``: exercise label ->
    points; ``written``: written-answer label -> points) instead of the defaults."""
    points = {**settings.get("points", {}), **settings.get("written", {})}
    for r in rows:
        if r["exercise"] in points:
            r["max_points"] = int(points[r["exercise"]])
            if r["points"] is not None:
                r["points"] = r["max_points"] if r["status"] == "passed" else 0
    return rows


def read_settings(path) -> dict:
    """A ``grading.json`` (as ``release`` writes it); ValueError naming the file if it is not."""
    try:
        with open(path, encoding="utf-8") as f:
            settings = json.load(f)
        ok = isinstance(settings, dict) and all(
            isinstance(settings.get(k, {}), dict) and all(
                isinstance(v, int) and v >= 0 for v in settings.get(k, {}).values())
            for k in ("points", "written"))
        timeout = settings.get("timeout", 1)
        ok = ok and isinstance(timeout, int) and timeout >= 1
    except (OSError, ValueError) as e:
        raise ValueError(f"invalid --settings={str(path)!r}: {e}") from None
    if not ok:
        raise ValueError(f"invalid --settings={str(path)!r}: expected the grading.json of a "
                         "release: {\"timeout\": seconds >= 1, \"points\": {label: points >= 0}, "
                         "\"written\": {label: points >= 0}}")
    return settings


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
                 + (f"; {hand} more point{'s' if hand != 1 else ''} to be marked by hand"
                    if hand else ""))
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
