"""The tutorials' stated compute times, made from their measured ones (no time is typed by hand).

``benchmarks/bench_tutorials.py`` runs every notebook at its default size at least three times
beside two busy processes and writes ``benchmarks/results/bench_tutorials.md``. From that file's
median column this module makes each notebook's stated time: the median times ``FACTOR``, an
upper bound rounded up so that a student can trust it — to the next 10 s under a minute, to the
next half minute up to 10 minutes, to the next minute above — and writes it into

- the header card of each notebook, the sentence "**Compute time:** under 20 s on a 2-core
  computer busy with other work" (only that phrase changes; the rest of the file is left byte for
  byte, outputs included), and
- the compute-time column of the syllabus, ``tutorials/README.md`` ("< 20 s").

``python scripts/report.py`` runs it (``--check`` fails when a stated time differs from what the
results file gives); ``bench_tutorials.py`` judges a new measurement against these bounds.
Standard library only.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = "benchmarks/results/bench_tutorials.md"
# The margin a stated time keeps over the median measured here. It must cover the spread from
# machine to machine and from run to run: another 2-core machine, under the same condition (two
# busy processes beside, quiet before), took up to 2.1 times the times measured here
# (benchmarks/results/bench_tutorials_elsewhere.md; tests/test_bench_tutorials.py checks that
# FACTOR covers every notebook it measured), and a run beside busy processes varies by a tenth
# or two from the next. 2.5 leaves about a fifth above the largest ratio seen.
FACTOR = 2.5
MIN_RUNS = 3
SYLLABUS = "tutorials/README.md"
# The card's phrase runs from "**Compute time:** " to the end of its line or a " (" aside. In the
# .ipynb file a line ends in a JSON-escaped newline (a backslash, then n) or a closing quote.
CARD = re.compile(r'(\*\*Compute time:\*\* )([^"\\(]*?)(?= \(|\\n|")')


def bound_seconds(measured: float, half_unit: float = 0.0) -> int:
    """The stated bound, in seconds, for a measured time shown rounded to ``half_unit`` either way.

    The next multiple of the step *above* the largest time the shown figure may stand for ("10 s"
    may be 10.49 s), so that "under" the bound is true of the measurement: steps of 10 s under a
    minute, 30 s up to 10 minutes, a minute above.
    """
    top = measured + half_unit
    step = 10 if top < 60 else 30 if top < 600 else 60
    return (math.floor(top / step) + 1) * step


def stated_bound(median_cell: str) -> int:
    """The stated bound, in seconds, for a median shown as ``median_cell`` ("52 s", "1.5 min"):
    the largest time the shown figure may stand for, times ``FACTOR``, rounded up."""
    value, half_unit = parse_measured(median_cell)
    return bound_seconds(FACTOR * value, FACTOR * half_unit)


def _number(minutes: float) -> str:
    return f"{minutes:g}"


def short_phrase(bound: int) -> str:
    """The syllabus's cell: "< 20 s", "< 1 min", "< 1.5 min"."""
    return f"< {bound} s" if bound < 60 else f"< {_number(bound / 60)} min"


def card_phrase(bound: int, cores: int) -> str:
    """The notebook's sentence: "under 1.5 minutes on a 2-core computer busy with other work"."""
    amount = (f"{bound} s" if bound < 60 else
              f"{_number(bound / 60)} minute{'s' if bound > 60 else ''}")
    return f"under {amount} on a {cores}-core computer busy with other work"


def parse_short(stated: str):
    """Seconds a syllabus cell allows ("< 20 s" -> 20, "< 1.5 min" -> 90), or None."""
    m = re.fullmatch(r"<\s*([\d.]+)\s*(s|min)", (stated or "").strip())
    return None if m is None else float(m.group(1)) * {"s": 1, "min": 60}[m.group(2)]


def parse_measured(cell: str):
    """("3 s" -> (3, 0.5), "1.5 min" -> (90, 3)): the value and half its last shown digit."""
    m = re.fullmatch(r"([\d.]+) (s|min)", cell.strip())
    if m is None:
        return None
    digits = len(m.group(1).partition(".")[2])
    unit = {"s": 1, "min": 60}[m.group(2)]
    return float(m.group(1)) * unit, 0.5 * 10 ** -digits * unit


def measured(results: str) -> tuple:
    """(cores, {notebook name: bound in seconds}) from the text of the results file.

    Refuses a smoke-mode table, a median of fewer than ``MIN_RUNS`` runs, a notebook that failed
    and a time it cannot read: a bound must come from full runs at the default sizes.
    """
    if "default sizes" not in results.splitlines()[0]:
        raise ValueError(f"{RESULTS} is not a default-size run (its first line says how it was "
                         "measured): run python benchmarks/bench_tutorials.py without --smoke")
    runs = re.search(r"median of (\d+) run", results.splitlines()[0])
    if runs is None or int(runs.group(1)) < MIN_RUNS:
        raise ValueError(f"{RESULTS} is not a median of at least {MIN_RUNS} runs of each "
                         "notebook: run python benchmarks/bench_tutorials.py (--repeats 3)")
    cores = int(re.search(r"(\d+) CPU core", results).group(1))
    header, bounds = None, {}
    for line in results.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "notebook":
            header = cells
        elif header and cells[0].startswith("`0") and len(cells) == len(header):
            row = dict(zip(header, cells))
            name, time = cells[0].strip("`"), parse_measured(row["median"])
            if row.get("error") or time is None:
                raise ValueError(f"{RESULTS}: {name} has no usable time ({row['median']!r}, "
                                 f"error {row.get('error')!r})")
            bounds[name] = stated_bound(row["median"])
    return cores, bounds


def restate_notebook(text: str, phrase: str, name: str = "notebook") -> str:
    """The .ipynb text with its one "**Compute time:**" phrase replaced, nothing else touched."""
    if len(CARD.findall(text)) != 1:
        raise ValueError(f"{name}: expected one '**Compute time:** ...' sentence in its header "
                         f"card, found {len(CARD.findall(text))}")
    return CARD.sub(lambda m: m.group(1) + phrase, text)


def restate_syllabus(text: str, shorts: dict) -> str:
    """The syllabus with the compute-time cell (the 5th) of each notebook's row replaced."""
    lines, seen = text.split("\n"), set()
    for i, line in enumerate(lines):
        parts = line.split("|")     # "| 1 | `01_x.ipynb` | ... | 1.5 h | < 15 s | 1.1 |"
        name = parts[2].strip().strip("`") if len(parts) >= 7 else ""
        if parts[0] == "" and name.startswith("0") and name.endswith(".ipynb"):
            if name not in shorts:
                raise ValueError(f"{SYLLABUS} lists {name}, which {RESULTS} has not measured: "
                                 "run python benchmarks/bench_tutorials.py")
            parts[5] = f" {shorts[name]} "
            lines[i], seen = "|".join(parts), seen | {name}
    if seen != set(shorts):
        raise ValueError(f"{SYLLABUS} has no syllabus row for {sorted(set(shorts) - seen)}")
    return "\n".join(lines)


def targets(root: Path = ROOT) -> list:
    """[(path relative to root, function old text -> new text)] for the syllabus and notebooks."""
    cores, bounds = measured((root / RESULTS).read_text(encoding="utf-8"))
    notebooks = sorted((root / "tutorials").glob("0*.ipynb"))
    missing = sorted({p.name for p in notebooks} - set(bounds))
    if missing:
        raise ValueError(f"{RESULTS} has no measured time for {missing}: run python "
                         "benchmarks/bench_tutorials.py")
    out = [(SYLLABUS, lambda t: restate_syllabus(t, {n: short_phrase(b)
                                                     for n, b in bounds.items()}))]
    for p in notebooks:
        phrase = card_phrase(bounds[p.name], cores)
        out.append((f"tutorials/{p.name}",
                    lambda t, phrase=phrase, name=p.name: restate_notebook(t, phrase, name)))
    return out
