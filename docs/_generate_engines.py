"""The passage of costs.md on what reading the reference costs against the fast engine.

Read from ``benchmarks/results/bench_engines.json`` and ``bench_engines_busy.json``, made by
``python benchmarks/bench_engines.py [--busy 2] --out ...``; docs/_generate.py registers the
block in its ``BLOCKS``.
"""
from __future__ import annotations

import json
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "results"
FILES = {"no `--busy`": "bench_engines.json", "`--busy 2`": "bench_engines_busy.json"}


def engines_cost() -> str:
    runs = {label: json.loads((BENCH / name).read_text(encoding="utf-8"))
            for label, name in FILES.items()}
    first = next(iter(runs.values()))["settings"]
    ratios = [r["ratio_median"] for run in runs.values() for r in run["rows"]]
    loads = ", ".join(f"{label}: {run['settings']['load_before'].split()[2]}"
                      for label, run in runs.items())
    lines = ["", f"Measured by `python benchmarks/bench_engines.py` ({first['date']}; "
             f"`benchmarks/results/{FILES['no `--busy`']}`, and with `--busy 2` "
             f"`{FILES['`--busy 2`']}`): one training step "
             "(`loss_and_grads`: forward, loss, backward) of each engine at the students' "
             f"sizes (B = 32, H = 64, A = 32, float32, `k_top = 5`, `k_trunc = 5`), timed in "
             f"alternation in one process, one BLAS thread, {first['repeats']} pairs, on a machine shared with other work "
             f"(load average before each run, 2 cores: {loads}). **The reference costs "
             f"{min(ratios):.2f}–{max(ratios):.2f} times the fast engine per step** (median "
             "ratio of the pairs):", "",
             "| model | T (blanks) | k_att | " + " | ".join(
                 f"reference / fast, {label}" for label in runs) + " |",
             "|---|---|---|" + "---|" * len(runs)]
    keys = [(r["model"], r["T_blank"], r["k_att"]) for r in next(iter(runs.values()))["rows"]]
    for i, (model, T, k_att) in enumerate(keys):
        cells = []
        for run in runs.values():
            r = run["rows"][i]
            cells.append(f"{r['reference_ms']:.1f} / {r['fast_ms']:.1f} ms = "
                         f"{r['ratio_median']:.2f}")
        lines.append(f"| {model} | {T} | {k_att} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


ENGINE_BLOCKS = {"engines-cost": engines_cost}
