"""Every claim of the reproduction report in one table, and the adding task's verdict, read
seed by seed (docs/_generate_stats.py): a claim "holds" in a row only where it holds on every
seed, otherwise the row says on how many; beside it, each difference of means with its
bootstrap interval. Only finished runs count (docs/_generate_plan.py). The files are those of
reproduction.md's sections, named beside each constant.
"""
from __future__ import annotations

import statistics

from _generate_diagnosis import SOLVED
from _generate_plan import finished_rows, pending, status
from _generate_real import (DIGITS, FASHION, NAMES, SHORT, TEXT, TIE_ACC, TIE_BPC, _acc,
                            pending_words)
from _generate_results import RESULTS, _json
from _generate_stats import (LEVEL, N_BOOT, interval_text, seed_range, seed_support,
                             verdict)

COPY = "make_sab_learn/results.json"      # python experiments/make_sab_learn.py
ADDING = "adding/results.json"            # python experiments/adding.py
TRANSFER = "transfer/results.json"        # python experiments/make_sab_learn.py (transfer grid)
TIE_MSE = 0.002


SAME = {"sab": "sab", "tbptt": "tbptt", "bptt": "bptt", "softmax": "softmax"}
COPY_NAMES = {"sab": "sab-detach", "tbptt": "tbptt", "bptt": "bptt", "softmax": "softmax"}
# The other methods of each claim, and whether SAB must match (within the tie) or beat them.
CLAIM_OTHERS = {3: (("tbptt", "bptt"), True), 4: (("bptt", "softmax"), False)}


def _by_seed(rows, value, names) -> dict:
    """{our method name: {seed: value}} of the rows (finished runs only)."""
    out = {}
    for ours, theirs in names.items():
        vals = {r["seed"]: value(r) for r in rows if r["method"] == theirs}
        if vals:
            out[ours] = vals
    return out


def _glance_rows():
    """(experiment, claim, {method: {seed: value}}, higher_is_better, tie, format, pending[,
    solved]) per row; pending: planned runs of that row not finished yet
    (experiments/plan.json); solved, where the task defines one: (its words, the test of a
    final value)."""
    out = []

    def add(what, claim, rows, value, names, higher=True, tie=TIE_ACC, fmt=_acc, pending=0,
            solved=None):
        out.append((what, claim, _by_seed(rows, value, names), higher, tie, fmt, pending)
                   + ((solved,) if solved else ()))
    runs = _json(COPY)["runs"]
    for T in sorted({r["T"] for r in runs}):
        add(f"copy, 3 digits, `T = {T}`", 3, [r for r in runs if r["T"] == T],
            lambda r: r["final_acc"], COPY_NAMES)
    add("adding, `T = 100` (MSE)", 3, _json(ADDING)["runs"], lambda r: r["final_mse"],
        COPY_NAMES, higher=False, tie=TIE_MSE, fmt="{:.4f}".format)
    paper = finished_rows("paper_copy")
    for T in sorted({r["T"] for r in paper} | {k[0] for k in pending("paper_copy")}):
        add(f"copy, 10 digits, `T = {T}`", 3,
            [r for r in paper if r["T"] == T and "skipped" not in r],
            lambda r: r["final"], SAME, pending=len(pending("paper_copy", T=T)),
            solved=(f"final recall ≥ {SOLVED}", lambda v: v >= SOLVED))
    for T in (200, 400):
        name = f"adding_paper_T{T}"
        line = _json(f"{name}/results.json")["settings"]["solved"]
        add(f"adding, `T = {T}`, the paper's model (MSE)", 3, finished_rows(name),
            lambda r: r["final_mse"], COPY_NAMES, higher=False, tie=TIE_MSE,
            fmt="{:.4f}".format, pending=len(pending(name)),
            solved=(f"final MSE ≤ {line:g}", lambda v, line=line: v <= line))
    for path, tasks in ((DIGITS, ("digits", "pdigits")), (FASHION, ("fashion",))):
        if not (RESULTS / path).exists():
            continue
        doc = _json(path)
        for task in tasks:
            rows = [r for r in doc["runs"] if r.get("task") == task and "skipped" not in r]
            if rows:
                label = {"digits": "digits, pixel by pixel", "pdigits": "permuted digits",
                         "fashion": "Fashion-MNIST, pixel by pixel"}[task]
                add(f"{label}, `T = {_T(task, doc)}`", 3, rows,
                    lambda r: r["final"], SAME)
    if (RESULTS / TEXT).exists():
        doc = _json(TEXT)
        add(f"text, `T = {doc['settings']['T']}` (bits per character)", 3, doc["runs"],
            lambda r: r["final"], SAME, higher=False,
            tie=TIE_BPC)
    tr = _json(TRANSFER)
    longest = max(int(T) for r in tr["runs"] for T in r["transfer"])
    add(f"transfer, trained at `T = 20`, tested at `T = {longest}`", 4, tr["runs"],
        lambda r: r["transfer"][str(longest)], COPY_NAMES)
    longest = max(k[2] for k in status("transfer_long")["planned"])
    add(f"transfer, trained at `T = 100`, tested at `T = {longest:,}`", 4,
        finished_rows("transfer_long", T=longest), lambda r: r["accuracy"], SAME,
        pending=len(pending("transfer_long", T=longest)))
    return out


def _T(task, doc) -> int:
    return 64 if task in ("digits", "pdigits") else doc["settings"]["image_size"] ** 2


def glance_verdict(claim, vals, higher, tie) -> str:
    """The verdict of one row, seed by seed (docs/_generate_stats.py): claim 3 where SAB
    matches or beats both BPTT variants on a seed, claim 4 where it beats full BPTT and dense
    attention on a seed."""
    others, matches = CLAIM_OTHERS[claim]
    by_seed = seed_support(vals["sab"], {m: vals[m] for m in others if m in vals},
                           higher=higher, tie=tie, matches=matches)
    return verdict(by_seed, {m: SHORT[m] for m in others})


def difference(vals, m, fmt) -> str:
    """SAB minus method ``m`` over the seeds both ran ('full BPTT +0.52 [+0.20, +0.85],
    differs'), with those seeds named where SAB ran others too: a mean over SAB's five seeds
    against another method's one would compare different seeds, not the methods."""
    common = sorted(set(vals["sab"]) & set(vals[m]))
    text = interval_text([vals["sab"][s] for s in common], [vals[m][s] for s in common], fmt)
    if common == sorted(vals["sab"]):
        return f"{SHORT[m]} {text}"
    seeds = f"seed {common[0]} only" if len(common) == 1 else f"seeds {seed_range(common)}"
    return f"{SHORT[m]}, {seeds}: {text}"


def solved_counts(vals, words, test) -> str:
    """'; solved (final recall ≥ 0.9): SAB on 2 of 3, full BPTT on 0 of 3': how many of
    each method's runs solved the task, so that a seed where SAB beats BPTT with every method
    near chance is not read as a seed where SAB solved it."""
    parts = [f"{SHORT[m] if m != 'sab' else 'SAB'} on {sum(map(test, vals[m].values()))} of "
             f"{len(vals[m])}" for m in ("sab", "tbptt", "bptt", "softmax") if m in vals]
    return f"; solved ({words}): " + ", ".join(parts)


def _seeds_cell(vals, pending_n) -> str:
    text = seed_range(vals["sab"])
    for m in ("tbptt", "bptt", "softmax"):
        if m in vals and sorted(vals[m]) != sorted(vals["sab"]):
            text += f"; {SHORT[m]}: {seed_range(vals[m])}"
    return text + (f" ({_runs(pending_n)} pending)" if pending_n else "")


def _runs(n: int) -> str:
    return f"{n} run" + "s" * (n != 1)


def claims_glance() -> str:
    """One row per experiment: the seeds, each method's mean, SAB's difference from the other
    methods of the claim with its bootstrap interval, and the verdict seed by seed."""
    out = ["| experiment | claim | seeds | SAB | truncated BPTT | full BPTT | dense attention "
           "| SAB minus the others: difference of means [95% bootstrap interval] | verdict |",
           "|---|---|---|---|---|---|---|---|---|"]
    waiting = []
    for what, claim, vals, higher, tie, fmt, pend, *solved in _glance_rows():
        if "sab" not in vals:               # SAB still training there
            waiting.append(f"{what} ({_runs(pend)} pending)")
            continue
        means = {m: statistics.mean(v.values()) for m, v in vals.items()}
        cells = [fmt(means[m]) if m in means else "—" for m in ("sab", "tbptt", "bptt", "softmax")]
        others = [m for m in CLAIM_OTHERS[claim][0] if m in vals]
        diff = "; ".join(difference(vals, m, fmt) for m in others) or \
            "— (no other method has finished a run)"
        out.append(f"| {what} | {claim} | {_seeds_cell(vals, pend)} | " + " | ".join(cells)
                   + f" | {diff} | {glance_verdict(claim, vals, higher, tie)}"
                   + (solved_counts(vals, *solved[0]) if solved else "") + " |")
    intro = ("\nFinal metric, mean over seeds (accuracy unless the row says otherwise; for MSE "
             "and bits per character lower is better, so there SAB is better where its "
             "difference is negative). The verdict is read seed by seed: claim 3 holds on a "
             "seed where SAB matches or beats both BPTT variants run with that seed, claim 4 "
             "where it beats full BPTT and dense attention at the longest length; a row says "
             "\"holds on every seed\" only where every seed supports the claim, and otherwise "
             f"on how many. \"Matches\" means within {TIE_ACC} in accuracy, {TIE_BPC} in bits "
             f"per character, {TIE_MSE} in MSE. The interval is a {LEVEL:.0%} percentile "
             "bootstrap interval of the difference of the means over the seeds both methods "
             "ran (named where SAB ran more; each method's runs resampled, "
             f"{N_BOOT:,} times, seeded); \"differs\" marks an interval that excludes zero. With "
             "two or three seeds such an interval understates the uncertainty: read the seed "
             "count beside it. Where the task says when a run has solved it, the verdict "
             "cell also counts each method's solved runs, so that a seed where every "
             "method failed is not read as a seed that SAB solved. Runs still pending "
             "(`experiments/plan.json`, \"Still to run\" below) are not in the means.\n\n")
    text = intro + "\n".join(out) + "\n"
    if waiting:
        text += "\nNo finished SAB run yet: " + "; ".join(waiting) + ".\n"
    return text


def adding_verdict() -> str:
    """The adding task at T = 100 (adding/): SAB against each BPTT variant seed by seed, with
    the interval of the difference of the mean MSEs; and dense attention."""
    vals = _by_seed(_json(ADDING)["runs"], lambda r: r["final_mse"], COPY_NAMES)
    sab = vals["sab"]
    fmt = "{:.4f}".format
    parts = []
    for m in ("tbptt", "bptt"):
        by_seed = seed_support(sab, {m: vals[m]}, higher=False, tie=TIE_MSE, matches=True)
        pairs = ", ".join(f"{fmt(sab[s])} against {fmt(vals[m][s])}" for s in by_seed)
        parts.append(f"{verdict(by_seed, {m: SHORT[m]})} against {SHORT[m]} (seeds "
                     f"{seed_range(by_seed)}: {pairs}; difference of the means "
                     f"{interval_text(sab.values(), vals[m].values(), fmt)})")
    dense = seed_support(sab, {"softmax": vals["softmax"]}, higher=False, tie=0.0, matches=False)
    lower = sum(not row["softmax"] for row in dense.values())
    return (f"claim 3 {parts[0]}; it {parts[1]}. \"Matches\" "
            f"allows {TIE_MSE} of MSE. Dense attention ends lower than SAB on {lower} of "
            f"{len(dense)} seeds.")


ADDING_PAPER = {200: "adding_paper_T200", 400: "adding_paper_T400"}   # experiments/plan.json
PAPER_NAMES = {COPY_NAMES[m]: NAMES[m] for m in ("sab", "tbptt", "bptt")}   # the table's order


def adding_paper_runs() -> str:
    """The adding task at the paper's size (adding_paper_T200/, _T400/): every finished run with
    its MSE and wall time, and what is still pending; the verdict is the glance table's row."""
    rows, left, planned = [], 0, 0
    for name in ADDING_PAPER.values():
        rows += finished_rows(name)
        state = status(name)
        left, planned = left + len(state["pending"]), planned + len(state["planned"])
    if not rows:
        return f"\nNo run has finished yet ({planned} planned: \"Still to run\").\n"
    order = list(PAPER_NAMES)
    rows.sort(key=lambda r: (r["T"], order.index(r["method"]), r["seed"]))
    st = _json(f"{ADDING_PAPER[rows[0]['T']]}/results.json")["settings"]   # all but T alike
    out = ["", f"`H = {st['hidden_size']}`, `A = {st['attn_size']}`, `k_top = {st['k_top']}`, "
           f"`k_att = {st['k_att']}`, `k_trunc = {st['k_trunc']}`, learning rate {st['lr']:g}, "
           f"batch {st['batch']}, {st['steps']:,} steps; held-out MSE on {st['eval_batch']} "
           "sequences (always answering the mean gives 1/6); the table gives the step where a run "
           f"first reached an MSE of {st['solved']:g} or less, and says where it ended above that "
           "again. Training "
           "times as measured on a shared 2-core machine with other "
           "runs beside them, so they vary with the load and with the processor (a run "
           "resumed in a later session may have trained on another one):", "",
           f"| T | method | seed | final MSE | best MSE | MSE ≤ {st['solved']:g} first at step | "
           "training time |",
           "|---|---|---|---|---|---|---|"]
    for r in rows:
        hit = "—" if r.get("step_solved") is None else f"{r['step_solved']:,}"
        if r.get("step_solved") is not None and r["final_mse"] > st["solved"]:
            hit += " (ends above it)"
        out.append(f"| {r['T']} | {PAPER_NAMES[r['method']]} | {r['seed']} | "
                   f"{r['final_mse']:.2g} | {r['best_mse']:.2g} | {hit} | "
                   f"{r['wall_s'] / 60:.0f} min |")
    out += ["", f"{len(rows)} of the {planned} planned runs {'has' if len(rows) == 1 else 'have'} "
            "finished" + (f"; {pending_words(left, 'ones')}" if left else "") + ". The verdict, "
            "seed by seed, is the glance table's row, once a run of another method has "
            "finished beside SAB's."]
    return "\n".join(out) + "\n"


GLANCE_BLOCKS = {
    "claims-glance": claims_glance,
    "adding-verdict": adding_verdict,
    "adding-paper": adding_paper_runs,
}
