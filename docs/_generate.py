"""Regenerate the numbers of the docs that come from results files or from minisab itself.

A generated passage sits between two HTML comments, which Markdown does not show::

    <!-- generated: NAME -->...<!-- end generated: NAME -->

and is written by the function ``NAME`` of ``BLOCKS`` below, from a committed results file under
``experiments/results/`` (made by the script named in the function) or by calling minisab's own
functions, so that the text cannot drift from the files or the code.

    python docs/_generate.py           rewrite every generated passage in docs/*.md
    python docs/_generate.py --check   list the passages that differ; exit status 1 if any

``python scripts/report.py [--check]`` runs this after the READMEs' results blocks: one command
for every generated number. ``tests/test_docs_generated.py`` runs the check. Standard library
and minisab only.
"""
from __future__ import annotations

import json
import re
import statistics
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
RESULTS = ROOT / "experiments" / "results"
sys.path.insert(0, str(ROOT))

BLOCK = re.compile(r"(<!-- generated: ([\w-]+) -->)(.*?)(<!-- end generated: \2 -->)", re.S)


def _json(path: str):
    return json.loads((RESULTS / path).read_text(encoding="utf-8"))


def _runs(path: str, **where) -> list[dict]:
    rows = [r for r in _json(path)["runs"] if all(r.get(k) == v for k, v in where.items())]
    return sorted(rows, key=lambda r: r["seed"])


def _spikes(row) -> int:
    """Spike onsets of a run, from its stored curve (the rule of experiments/make_sab_learn.py,
    which writes the table; imported from there so that the two cannot differ)."""
    sys.path.insert(0, str(ROOT / "experiments"))
    from make_sab_learn import _spikes as count
    return count(row)


def _words(n: int) -> str:
    return ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
            "ten"][n] if 0 <= n <= 10 else str(n)


# ------------------------------------------------------------------ index.md: the quick start
def compare_output() -> str:
    """What `python -m minisab compare` printed (bash experiments/compare_cpu.sh)."""
    folder = RESULTS / "compare_cpu"
    out = (folder / "stdout.txt").read_text(encoding="utf-8").rstrip("\n")
    wall = float((folder / "wall_s.txt").read_text(encoding="utf-8"))
    rows = {r["label"]: r for r in json.loads((folder / "results.json").read_text("utf-8"))}
    sab, tb, bp = rows["sab"], rows["lstm tbptt"], rows["lstm bptt"]
    c = _compare_settings()
    return (f"\nThe first trains the three models with the same budget on a copy task "
            f"({c['task']['n_digits']} digits of {c['task']['n_symbols']} symbols, "
            f"{c['task']['T']} blanks, a marker, then recall), and prints a table:\n"
            f"\n```text\n{out}\n```\n\n"
            f"The whole command took {wall:.0f} s of wall time on the 2-core machine that "
            f"recorded it (`bash experiments/compare_cpu.sh`, which keeps this output in "
            f"`experiments/results/compare_cpu/`). SAB recalls {sab['accuracy']:.3f} of the "
            f"digits, the LSTM with truncated BPTT {tb['accuracy']:.3f} (chance: 0.125) and "
            f"with full BPTT {bp['accuracy']:.3f}.\n")


def _compare_settings() -> dict:
    """Task, model, methods and training of the recorded compare run (its summary.md)."""
    text = (RESULTS / "compare_cpu" / "summary.md").read_text(encoding="utf-8")
    out = {"task": json.loads(re.search(r"^Task: \w+ (\{.*?\});", text, re.M).group(1)),
           "model": json.loads(re.search(r"^Model: (\{.*\})\.$", text, re.M).group(1)),
           "train": json.loads(re.search(r"^Training: (\{.*?\}), backend", text, re.M).group(1))}
    sab = re.search(r"sab: (\{[^}]*\})", text).group(1)
    out["sab"] = json.loads(sab)
    return out


def _sci(x: float) -> str:
    """0.01 -> 1e-2."""
    return re.sub(r"e([-+])0*(\d)", lambda m: "e" + m.group(1).replace("+", "") + m.group(2),
                  f"{x:.0e}")


def paper_recipe() -> str:
    """The training-recipe rows of "minisab and the paper", minisab's side from the recorded
    compare run (the README's main job) and the reproduction grid's settings."""
    c = _compare_settings()
    m, t, task = c["model"], c["train"], c["task"]
    grid = _json("make_sab_learn/results.json")["settings"]
    detach = "without" if c["sab"].get("detach_scores") else "with"
    rows = [
        ("mental updates (credit through the scores into the states)",
         "on: SAB as the paper describes it (docs/model.md's default); \"no mental updates\" is "
         "the paper's ablation (docs/model.md §4)",
         f"{detach} them: `detach_scores=True` for every headline result "
         "({doc}`make_sab_learn` says why); docs/model.md's SAB (with them) is the default model "
         "and is shown beside it"),
        ("copy task", "10 digits, `T` = 100 to 300 blanks",
         f"{task['n_digits']} digits of {task['n_symbols']} symbols; `T` = {task['T']} (main job), "
         f"{' and '.join(str(T) for T in sorted(set(grid['T'])))} ({{doc}}`reproduction`)"),
        ("`k_top`, `k_trunc`, `k_att`", "released code: 10, 10, 2",
         f"{m['k_top']}, {m['k_trunc']}, {m['k_att']} (main job); {grid['k_top']}, "
         f"{grid['k_trunc']}, {grid['k_att']} (reproduction)"),
        ("optimiser", "released code: Adam, learning rate 1e-3, clipping at 1.0, batch 64",
         f"Adam, learning rate {_sci(t['lr'])}, clipping at {t['clip']:g}, batch {t['batch']}, "
         f"forget-gate bias +{t['forget_bias']:g}"),
        ("size and numbers", "released code: hidden size 128, GPU",
         f"H = {m['hidden_size']}, A = {m['attn_size']}, {m['dtype']}, NumPy on a CPU; "
         f"{t['steps']:,} steps"),
    ]
    head = ["| | the paper and its released code | minisab |", "|---|---|---|"]
    intro = (f"**The training recipe** behind every headline number of these pages and of the "
             f"README differs from the paper's: SAB {detach} mental updates, {task['n_digits']} "
             f"digits instead of 10, `k_top = k_trunc = {m['k_top']}` instead of the released "
             f"10, a learning rate of {_sci(t['lr'])}. minisab's side of this table is read from "
             f"the recorded runs' settings (`experiments/results/compare_cpu/summary.md`, "
             f"`experiments/results/make_sab_learn/results.json`):\n\n")
    assert m["k_top"] == m["k_trunc"], "the sentence above says k_top = k_trunc"
    return "\n" + intro + "\n".join(head + [f"| {a} | {b} | {c_} |" for a, b, c_ in rows]) + "\n"


# ------------------------------------------------------------------ the sparsifier, worked
def _fmt(x: float) -> str:
    return "0" if x == 0 else f"{x:.6g}".replace("-", "−")


def sparsifier_example() -> str:
    """topk_forward / topk_backward on three scores, both branches, every intermediate."""
    import numpy as np

    from minisab.attention import topk_backward, topk_forward
    eps = 1e-7
    a = np.array([[1.5, 0.3, 0.9]])
    parts = []
    for k_top, dalpha in ((2, [1.0, -0.5]), (3, [1.0, -0.5, 0.25])):
        alpha, act, cache = topk_forward(a, k_top, eps)
        da = topk_backward(np.array([dalpha]), cache)
        i_min, a_tilde, _, denom, big = cache
        kept = [int(j) for j in act[0, :k_top]] if big else [0, 1, 2]
        delta = a[0, int(act[0, k_top])] if big else a[0].min() - 1.0
        src = f"$a_{int(act[0, k_top])}$, the third largest score" if big else \
            f"$\\min_j a_j - 1$ (the smallest score is $a_{int(i_min[0])}$)"
        d_alpha = np.array(dalpha)
        dot = float(np.sum(alpha[0] * d_alpha))
        d_tilde = (d_alpha - dot) / denom[0]
        d_delta = -float(np.sum(d_tilde))
        full = np.zeros(3)                                  # da on the three memories
        for col, j in enumerate(act[0]):
            full[int(j)] += da[0, col]
        assert abs(float(full.sum())) < 1e-12, "the gradients of the scores must sum to zero"
        # Central differences of L(a) = Σ_j dα_j α_j(a), in float64, as a check.
        fd = []
        for j in range(3):
            e = np.zeros((1, 3))
            e[0, j] = 1e-6
            lp = float(np.sum(topk_forward(a + e, k_top, eps)[0][0] * d_alpha))
            lm = float(np.sum(topk_forward(a - e, k_top, eps)[0][0] * d_alpha))
            fd.append((lp - lm) / 2e-6)

        def row(name, values):
            return f"| {name} | " + " | ".join(values) + " |"

        at = {j: c for c, j in enumerate(kept)}
        cell = lambda arr, j, at=at: _fmt(float(arr[at[j]])) if j in at else "—"  # noqa: E731
        tau = int(act[0, k_top]) if big else None
        lines = [
            f"**$k_\\text{{top}} = {k_top}$** ("
            + ("$n = 3 > k_\\text{top}$: two memories kept, the third score is the threshold)"
               if big else "$n = 3 \\le k_\\text{top}$: every memory kept)") + ".",
            "",
            f"Forward: the kept memories are {', '.join(f'$m_{j}$' for j in kept)} "
            f"(`act` = {[int(j) for j in act[0]]}); $\\delta$ = {src} = {_fmt(delta)}; "
            f"$S = \\sum_{{j\\in K}} \\tilde a_j + \\varepsilon$ = {float(denom[0]):.8g}. "
            f"Backward: $\\sum_i \\alpha_i\\,\\mathrm{{d}}\\alpha_i$ = {_fmt(dot)}, "
            f"$\\mathrm{{d}}\\delta = -\\sum_j \\mathtt{{d\\_tilde}}_j$ = {_fmt(d_delta)}"
            + (f", added to $\\mathrm{{d}}a_{int(i_min[0])}$" if not big else
               f", sent to $\\mathrm{{d}}a_{tau}$") + ".",
            "",
            "| | $m_0$ | $m_1$ | $m_2$ |",
            "|---|---|---|---|",
            row("score $a_j$", [_fmt(float(v)) for v in a[0]]),
            row("role", ["kept" if j in at else ("threshold" if j == tau else "not kept")
                         for j in range(3)]),
            row("$\\tilde a_j = \\max(a_j - \\delta, 0)$", [cell(a_tilde[0], j) for j in range(3)]),
            row("$\\alpha_j = \\tilde a_j / S$", [cell(alpha[0], j) if j in at else "0"
                                                 for j in range(3)]),
            row("$\\mathrm{d}\\alpha_j$ (given)", [cell(d_alpha, j) if j in at else "—"
                                                   for j in range(3)]),
            row("$\\mathtt{d\\_tilde}_j = (\\mathrm{d}\\alpha_j - \\sum_i \\alpha_i"
                "\\mathrm{d}\\alpha_i)/S$", [cell(d_tilde, j) for j in range(3)]),
            row("$\\mathrm{d}a_j$ (`topk_backward`)", [_fmt(float(v)) for v in full]),
            row("central difference", [_fmt(v) for v in fd]),
            "",
            "The $\\mathrm{d}a_j$ sum to zero (up to rounding): adding the same amount to "
            "every score changes no weight.",
        ]
        parts.append("\n".join(lines))
    return "\n\n" + "\n\n".join(parts) + "\n\n"


# ------------------------------------------------------------------ reproduction.md
def dense_spikes() -> str:
    """Dense attention's spikes in the copy grid (experiments/make_sab_learn.py)."""
    runs = [r for r in _runs("make_sab_learn/results.json", method="softmax")]
    n = [_spikes(r) for r in runs]
    hit = [r for r, s in zip(runs, n) if s]
    low = sorted((r for r in hit if r["best_acc"] - r["final_acc"] > 0.1),
                 key=lambda r: r["final_acc"])
    finals = " and ".join(f"{r['final_acc']:.2f}" for r in low)
    return (f"{_words(sum(n))} spikes in {_words(len(hit))} of its {_words(len(runs))} runs, "
            f"{_words(len(low))} of which end more than 0.1 below their best ({finals})")


def adding_first() -> str:
    """Which method reaches an MSE of 0.01 first on the adding task (experiments/adding.py)."""
    sab = {r["seed"]: r["step_solved"] for r in _runs("adding/results.json", method="sab-detach")}
    others = [r for r in _json("adding/results.json")["runs"] if r["method"] != "sab-detach"]
    first = [s for s in sorted(sab) if all(r["step_solved"] is None or r["step_solved"] > sab[s]
                                           for r in others if r["seed"] == s)]
    beaten = {s: min((r for r in others if r["seed"] == s and r["step_solved"] is not None
                      and r["step_solved"] <= sab[s]), key=lambda r: r["step_solved"])
              for s in sorted(sab) if s not in first}
    steps = sorted(sab.values())
    text = (f"SAB without mental updates reaches an MSE of 0.01 after {steps[0]}–{steps[-1]} "
            f"steps on every seed, first of all methods on seed"
            f"{'s' * (len(first) > 1)} {' and '.join(map(str, first))}")
    names = {"softmax": "dense attention", "bptt": "full BPTT", "tbptt": "truncated BPTT"}
    for s, r in beaten.items():
        text += (f"; on seed {s} {names[r['method']]} is first ({r['step_solved']} steps "
                 f"against {sab[s]})")
    final = [r["final_mse"] for r in _runs("adding/results.json", method="sab-detach")]
    return text + f", and it ends at {statistics.mean(final):.4f} ± {statistics.pstdev(final):.4f}"


# ------------------------------------------------------------------ make_sab_learn.md
def state_growth() -> str:
    """max|h| along the traced run (experiments/results/diagnosis/sab_T50_lr1e-2_split.json,
    written by python -m minisab diagnose, command in docs/make_sab_learn.md)."""
    d = _json("diagnosis/sab_T50_lr1e-2_split.json")
    tr = d["rows"][-1]["trace"]
    steps, h, loss = tr["step"], tr["h_max"], tr["loss"]
    # The collapse: the first training step after step 1000 whose loss exceeds 2 (the median
    # training loss of steps 1000-1499 is about 0.06).
    collapse = next(s for s, v in zip(steps, loss) if s >= 1000 and v > 2.0)
    first = max(range(len(steps)), key=lambda i: h[i] if steps[i] < 20 else -1)
    mid = [v for s, v in zip(steps, h) if 20 <= s < collapse]
    after = max(v for s, v in zip(steps, h) if s >= collapse)
    return (f"`max|h|` is {h[first]:.2f} at training step {steps[first]}, in the first "
            f"steps of training (the spike at the left of the figure's third panel), which "
            f"no collapse follows; from step 20 until the collapse (training loss above 2 "
            f"from step {collapse:,}) it stays between {min(mid):.1f} and {max(mid):.1f} (median "
            f"{statistics.median(mid):.1f}), and during the collapse it reaches {after:.1f}")


def _trace_table(name: str) -> dict:
    """The every-N-steps table of a diagnose text file: column -> list of values."""
    lines = (RESULTS / "diagnosis" / name).read_text(encoding="utf-8").splitlines()
    head = lines[0].split()
    rows = []
    for line in lines[1:]:
        cells = line.split()
        if not cells or not cells[0].isdigit():
            break
        rows.append(cells)
    return {h: [float(r[i]) if re.match(r"^-?[\d.]+(e[-+]\d+)?$", r[i]) else r[i] for r in rows]
            for i, h in enumerate(head[: len(rows[0])])}


def not_fixed_table() -> str:
    """The 'What does not fix it' table, from the diagnosis files it cites."""
    lr = _trace_table("sab_T50_lr3e-3.txt")
    ep = _trace_table("sab_eps1e-2_T50_lr1e-2.txt")
    hh = _trace_table("earlier_sabhhat_T50_lr2e-3.txt")
    return "\n".join([
        "",
        "| change | kind | outcome at `T = 50` | file |",
        "|---|---|---|---|",
        f"| learning rate 3e-3 | training choice | still bursts (gradient norm up to "
        f"{max(lr['grad_norm'][1:]):.1f} at the logged steps after step 0); the state grows to "
        f"{max(lr['h_max']):.1f}; recall {lr['acc'][-1]:.2f} after {lr['step'][-1]:,.0f} "
        f"steps | `sab_T50_lr3e-3.txt` |",
        f"| `ε = 1e-2` (docs/model.md: 1e-7) | training choice | no bursts (gradient norm at most "
        f"{max(ep['grad_norm'][1:]):.2f} after step 0), but it learns nothing: recall at most "
        f"{max(ep['acc']):.2f} in {ep['step'][-1]:,.0f} steps, near chance (a large ε turns "
        f"near-ties into \"read nothing\") | `sab_eps1e-2_T50_lr1e-2.txt` |",
        f"| `memory_write=\"h_hat\"` (bounded memories) | model option | the state stays "
        # "\\|": a bar inside a table cell splits the cell even within backticks (GFM, MyST)
        f"bounded (`max\\|h\\|` at most {max(hh['h_max']):.2f}), but at learning rate 2e-3 recall "
        f"stays near chance (at most {max(hh['acc']):.2f} in {hh['step'][-1]:,.0f} steps) | "
        f"`earlier_sabhhat_T50_lr2e-3.txt` |",
        "",
    ])


BLOCKS = {
    "compare-output": compare_output,
    "paper-recipe": paper_recipe,
    "sparsifier-example": sparsifier_example,
    "dense-spikes": dense_spikes,
    "adding-first": adding_first,
    "state-growth": state_growth,
    "not-fixed-table": not_fixed_table,
}

# The result sentences of reproduction.md, make_sab_learn.md and costs.md,
# and those on real data and at the paper's sizes: one function per passage, in their
# own modules so that this one stays readable.
sys.path.insert(0, str(DOCS))
from _generate_real import REAL_BLOCKS  # noqa: E402
from _generate_results import RESULT_BLOCKS  # noqa: E402
from _generate_mu import MU_BLOCKS  # noqa: E402
from _generate_glance import GLANCE_BLOCKS  # noqa: E402
from _generate_plan import PLAN_BLOCKS  # noqa: E402
from _generate_diagnosis import DIAGNOSIS_BLOCKS  # noqa: E402
from _generate_longer import LONGER_BLOCKS  # noqa: E402
from _generate_changes import CHANGE_BLOCKS  # noqa: E402

from _generate_engines import ENGINE_BLOCKS  # noqa: E402

for _more in (RESULT_BLOCKS, REAL_BLOCKS, MU_BLOCKS, GLANCE_BLOCKS, PLAN_BLOCKS,
              DIAGNOSIS_BLOCKS, LONGER_BLOCKS, CHANGE_BLOCKS, ENGINE_BLOCKS):
    assert not set(_more) & set(BLOCKS), "a block name is defined twice"
    BLOCKS.update(_more)



def render(text: str) -> str:
    """``text`` with every generated passage rewritten."""
    def sub(m: re.Match) -> str:
        name = m.group(2)
        if name not in BLOCKS:
            raise KeyError(f"unknown generated block {name!r}: known are {sorted(BLOCKS)}")
        return m.group(1) + BLOCKS[name]() + m.group(4)
    return BLOCK.sub(sub, text)


def pages() -> list[Path]:
    return sorted(p for p in DOCS.glob("*.md") if BLOCK.search(p.read_text(encoding="utf-8")))


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv not in ([], ["--check"]):
        print("usage: python docs/_generate.py [--check]", file=sys.stderr)
        return 2
    stale = []
    for page in pages():
        old = page.read_text(encoding="utf-8")
        new = render(old)
        if new != old:
            stale.append(page.relative_to(ROOT).as_posix())
            if not argv:
                from minisab.train.checkpoint import atomic_write_text    # never a half-written page
                atomic_write_text(page, new)
    verb = "differ from their results files" if argv else "rewritten"
    print(f"{len(stale)} page(s) {verb}: {', '.join(stale) or '-'}")
    return 1 if (argv and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
