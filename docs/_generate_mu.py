"""The paper's "are mental updates important?", per sparsifier, and which SAB the course trains.

Read from ``experiments/results/mental_updates/results.json`` (``bash
experiments/mental_updates.sh``: ``experiments/make_sab_learn.py`` over the plan's grid,
``experiments/plan.json``). Only finished runs count; while the grid is incomplete the answer
column says "pending" with the runs in. An answer is stated with Fisher's exact test on the
solved counts (docs/_generate_stats.py): "help" or "hurt" only where p < 0.05, otherwise "no
significant difference". The same test decides whether the evidence asks for another SAB than
the main job's (``minisab.train.runs.sab_method()``, read from the library).
"""
from __future__ import annotations

import sys

from _generate_plan import finished_rows, status
from _generate_results import ROOT, _json
from _generate_stats import ALPHA, fisher_exact

MU = "mental_updates"                          # the plan's name; its results file below
MU_FILE = "mental_updates/results.json"
MU_SOLVED = 0.98                               # "solved": final recall accuracy >= this
MU_SPARSIFIERS = {                             # Config.sparsifier -> (with, without) method labels
    "threshold": ("sab", "sab-detach"),
    "topk_softmax": ("sab-softmax", "sab-detach-softmax"),
    "topk_sparsemax": ("sab-sparsemax", "sab-detach-sparsemax"),
}


def _spikes(row) -> int:
    """Spike onsets of a run, by the rule of experiments/make_sab_learn.py (imported)."""
    sys.path.insert(0, str(ROOT / "experiments"))
    from make_sab_learn import _spikes as count
    return count(row)


def _words(n: int) -> str:
    return ["no", "one", "two", "three", "four", "five", "six"][n] if 0 <= n <= 6 else str(n)


def stats(method: str) -> dict:
    """One setting of the grid over every T and seed: its finished runs and the planned count."""
    rows = sorted(finished_rows(MU, method=method), key=lambda r: (r["T"], r["seed"]))
    planned = sum(k[1] == method for k in status(MU)["planned"])
    by_T: dict = {}
    for r in rows:
        by_T.setdefault(r["T"], []).append(r)
    steps = [r["step_90"] for r in rows if r.get("step_90") is not None]
    return {"method": method, "n": len(rows), "planned": planned,
            "solved": sum(r["final_acc"] >= MU_SOLVED for r in rows), "by_T": by_T,
            "spikes": sum(_spikes(r) for r in rows),
            "nan": sum(r.get("stopped") == "nan" for r in rows), "steps_90": steps}


def complete(*cells) -> bool:
    return all(c["n"] >= c["planned"] for c in cells)


def p_text(p: float) -> str:
    return f"Fisher's exact test p = {p:.2g}"


def answer(w: dict, wo: dict) -> str:
    """The answer for one sparsifier, from the solved counts with (w) and without (wo)."""
    if not complete(w, wo):
        return (f"pending: {w['n']} and {wo['n']} of {w['planned']} runs finished")
    p = fisher_exact(w["solved"], w["n"], wo["solved"], wo["n"])
    if p < ALPHA:
        word = "yes: mental updates help" if w["solved"] / w["n"] > wo["solved"] / wo["n"] \
            else "no: mental updates hurt"
        return f"{word} ({p_text(p)})"
    if max(w["solved"] / w["n"], wo["solved"] / wo["n"]) <= 0.5:
        return f"neither setting trains reliably; no significant difference ({p_text(p)})"
    return f"no significant difference ({p_text(p)})"


def cell(st: dict) -> str:
    finals = "; ".join(f"`T = {T}`: " + ", ".join(f"{r['final_acc']:.2f}" for r in rs)
                       for T, rs in sorted(st["by_T"].items()))
    s90 = st["steps_90"]
    span = (f"{min(s90):,}" if min(s90) == max(s90) else f"{min(s90):,}–{max(s90):,}") \
        if s90 else ""
    reach = (f"90% reached by {len(s90)} of {st['n']}, after {span} steps" if s90
             else "90% never reached")
    if st["n"] == 0:
        return f"no run finished yet ({st['planned']} planned)"
    so_far = "" if complete(st) else f" finished so far ({st['planned']} planned)"
    return f"**{st['solved']} of {st['n']}**{so_far} ({finals}); {reach}"


def all_stats() -> dict:
    return {sp: (stats(w), stats(wo)) for sp, (w, wo) in MU_SPARSIFIERS.items()}


def main_job_setting() -> tuple[str, bool]:
    """The main job's SAB (minisab.train.runs.sab_method()): its sparsifier and whether it has mental
    updates, read from the library so that the docs follow it."""
    from minisab.config import Config
    from minisab.train.runs import sab_method
    m = sab_method()
    return m.get("sparsifier", Config.sparsifier), not m.get("detach_scores", False)


def mental_updates_verdict() -> str:
    """reproduction.md and make_sab_learn.md: the table of the grid and its answers."""
    st = all_stats()
    g = _json(MU_FILE)["settings"]
    Ts = " and ".join(str(T) for T in g["T"])
    rows = ["| sparsifier | with mental updates: solved | without: solved | answer |",
            "|---|---|---|---|"]
    for sp, (w, wo) in st.items():
        rows.append(f"| `{sp}` | {cell(w)} | {cell(wo)} | {answer(w, wo)} |")
    spikes = "; ".join(f"`{sp}` {w['spikes']} / {wo['spikes']}" for sp, (w, wo) in st.items())
    nans = sum(w["nan"] + wo["nan"] for w, wo in st.values())
    intro = (f"Copy task, {g['n_digits']} digits of {g['n_symbols']} symbols, `T` = {Ts}, "
             f"seeds {g['seeds'][0]}–{g['seeds'][-1]} at each length "
             f"({len(g['seeds']) * len(g['T'])} runs per cell), {g['steps'][0]:,} steps, "
             f"`k_top = {g['k_top']}`, `k_att = {g['k_att']}`, `k_trunc = {g['k_trunc']}`, "
             f"top-k softmax at `τ = {g['temperature']:g}`. \"Solved\": final recall accuracy "
             f"≥ {MU_SOLVED} (the final accuracies per run, in the order of the seeds); then "
             f"how many runs ever reached 90% held-out recall, and at which steps (evaluations "
             f"every {g['eval_every']} steps). The answer compares the solved counts with "
             f"Fisher's exact test (both lengths together) and says \"help\" or \"hurt\" only "
             f"where p < {ALPHA}.")
    return ("\n" + intro + "\n\n" + "\n".join(rows) + "\n\n" + main_job_text(st)
            + f" Loss spikes with / without mental updates: {spikes}; NaN stops: "
              f"{_words(nans)}.\n")


def main_job_text(st: dict) -> str:
    """Which SAB the main job uses, what the grid says of it, and what would change it."""
    sp_main, mu_main = main_job_setting()
    main = st[sp_main][0 if mu_main else 1]
    how = "with" if mu_main else "without"
    text = (f"**The main job's SAB** (`python -m minisab compare`, `minisab.train.runs.sab_method()`) "
            f"is the `{sp_main}` sparsifier {how} mental updates.")
    cells = [c for pair in st.values() for c in pair]
    rule = (" What would change this choice: a SAB setting that solves significantly more runs "
            f"of this grid than the main job's (Fisher's exact test, p < {ALPHA}); a lead "
            "within chance keeps the main job's SAB, so that the course does not change its "
            "one SAB on noise.")
    if not complete(*cells):
        done = sum(c["n"] for c in cells)
        planned = sum(c["planned"] for c in cells)
        return (text + f" The grid that tests this choice is being rerun with the current code "
                f"({done} of {planned} runs finished; the list of pending runs is in "
                "{doc}`reproduction`, \"Still to run\"); no answer is drawn from it until "
                "every run is in." + rule)
    n = main["n"]
    text += f" It solved {main['solved']} of {n} runs here"
    better = sorted((c for c in cells if c is not main and c["solved"] > main["solved"]),
                    key=lambda c: -c["solved"])
    if better:
        b = better[0]
        p = fisher_exact(b["solved"], b["n"], main["solved"], n)
        if p < ALPHA:
            text += (f"; `{b['method']}` solved {b['solved']} of {b['n']} ({p_text(p)}): **the "
                     "evidence asks for that setting as the course's SAB** "
                     "(`minisab.train.runs.sab_method()`)")
        else:
            text += (f"; the most solved by any setting is {b['solved']} of {b['n']} "
                     f"(`{b['method']}`; against the main job's, {p_text(p)}): no significant "
                     "difference, so the main job keeps its SAB")
    else:
        text += ", as many as any SAB setting or more"
    with_mu = max((pair[0] for pair in st.values()), key=lambda c: c["solved"])
    best_sp = next(sp for sp, pair in st.items() if pair[0] is with_mu)
    text += (f". **For the paper's mental updates, `sparsifier=\"{best_sp}\"`** "
             f"(`Config(sparsifier=\"{best_sp}\", detach_scores=False)`; `python -m minisab train "
             f"--sparsifier {best_sp}`) is the setting with mental updates that solved the most "
             f"runs ({with_mu['solved']} of {with_mu['n']})")
    if with_mu is not main:
        p = fisher_exact(with_mu["solved"], with_mu["n"], main["solved"], n)
        text += f"; against the main job's {main['solved']} of {n}, {p_text(p)}"
    return text + "." + paper_size_text(sp_main, mu_main) + rule


def paper_size_text(sp_main: str, mu_main: bool) -> str:
    """What the paper's size adds: top-k softmax with mental updates beside the main job's
    setting on the same seeds of the 10-digit copy task at T = 100 (reproduction.md, "The change
    tried: top-k softmax with mental updates"); "" before a seed has run both."""
    from _generate_changes import SOLVED, TOPK_SOFTMAX, runs_by_seed
    if (sp_main, mu_main) != ("threshold", False):
        return ""                   # the paper-size base runs are that setting's
    base, fix = runs_by_seed(), runs_by_seed(TOPK_SOFTMAX)
    both = sorted(set(base) & set(fix))
    if not both:
        return ""
    n = len(both)
    k_fix = sum(fix[s]["final"] >= SOLVED for s in both)
    k_base = sum(base[s]["final"] >= SOLVED for s in both)
    p = fisher_exact(k_fix, n, k_base, n)
    left = status(TOPK_SOFTMAX["name"])["pending"]
    text = (" At the paper's size (the 10-digit copy task at `T = 100`, final recall ≥ "
            f"{SOLVED} counted as solved; the reproduction report, \"The change tried: top-k "
            "softmax with mental updates\"), top-k softmax with mental updates solved "
            f"{k_fix} of {n} seeds and the main job's setting {k_base} of the same {n} "
            f"({p_text(p)})")
    if left:
        return text + f"; {len(left)} more of its planned runs are pending."
    if p >= ALPHA:
        return text + ": no significant difference at that size."
    return text + (f": it solved {'more' if k_fix > k_base else 'fewer'} at that size, a "
                   "significant difference.")


def main_job_sab() -> str:
    """make_sab_learn.md: the same statement, with the comparison it rests on."""
    return " " + main_job_text(all_stats()) + " "


MU_BLOCKS = {
    "mental-updates-verdict": mental_updates_verdict,
    "main-job-sab": main_job_sab,
}
