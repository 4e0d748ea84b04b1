"""The paper's copy task at T = 200 and 300, measured with the instruments of
``_generate_diagnosis`` (reproduction.md, "At T = 200 and 300"): the final SAB models at the longer
lengths beside the failing seeds at T = 100, SAB's solved counts at T = 100 against the longer
lengths (Fisher's exact test), and the numbers behind one explanation of why the shortest length
fails more often, with the traces that test it.
"""
from __future__ import annotations

import json
import statistics

import _generate_plan
from _generate_diagnosis import (NAME, READS_LITTLE, ROW_HEAD, SOLVED, _row, _trace, _where)
from _generate_plan import finished_rows, pending, plan
from _generate_real import _and
from _generate_results import _rng
from minisab.train.wording import fisher_exact

# The plan's measurements of the final SAB models at the longer lengths, by T.
LONGER = {200: "diagnosis_paper_copy_T200", 300: "diagnosis_paper_copy_T300"}


def _not_reproduced() -> set:
    """(T, seed) of the SAB paper-copy runs that the current code does not give bit for bit
    (paper_copy/reproduced.json, ``experiments/check_reproduced.py``)."""
    path = _generate_plan.RESULTS / "paper_copy" / "reproduced.json"
    if not path.exists():
        return set()
    rows = json.loads(path.read_text(encoding="utf-8"))["rows"]
    return {(r["T"], r["seed"]) for r in rows
            if r["method"] == "sab" and r["differs_from_step"] is not None}


def _trace_command(T: int, seed: int) -> str:
    return (f"`python experiments/diagnose_paper_copy.py --T {T} --seeds {seed} --every 1000 "
            f"--until 6000 --out experiments/results/diagnosis/paper_copy_T{T}`")


def paper_copy_longer() -> str:
    """The final SAB models at T = 200 and 300, measured as at T = 100: every finished run's
    outcome; a failing run's final model beside a solving one, and whether it is traced yet."""
    runs = sorted((r for r in finished_rows("paper_copy", method="sab") if r["T"] in LONGER),
                  key=lambda r: (r["T"], r["seed"]))
    left = [k for k in pending("paper_copy", method="sab") if k[0] in LONGER]
    if not runs:
        return "\nNo SAB run at `T = 200` or `300` has finished yet (\"Still to run\").\n"
    measured, entries = {}, plan()
    for T, name in LONGER.items():
        for r in (finished_rows(name, source="final") if name in entries else []):
            measured[(T, r["seed"])] = r
    out = [""]
    shown = [(r["T"], r["seed"]) for r in runs if (r["T"], r["seed"]) in measured]
    if shown:
        out += ["The final models at the longer lengths, measured as above:", "",
                "| T | seed | " + ROW_HEAD, "|" + "---|" * 12]
        out += [f"| {T} " + _row(measured[(T, s)]) for T, s in shown]
        out.append("")
    solved = [r for r in runs if r["final"] >= SOLVED]
    if len(runs) == 1:
        count = (f"The one finished SAB run at `T = 200` and `300` "
                 f"{'solved' if solved else 'did not solve'} the task")
    else:
        count = (f"Of the {len(runs)} finished SAB runs at `T = 200` and `300`, {len(solved)} "
                 "solved the task")
    text = [count + f" (final recall ≥ {SOLVED})"
            + (f"; {len(left)} {'is' if len(left) == 1 else 'are'} pending" if left else "")]
    older = _not_reproduced()
    for r in runs:
        T, s, m = r["T"], r["seed"], measured.get((r["T"], r["seed"]))
        who = f"seed {s} at `T = {T}`"
        if m is not None:
            text.append(_where(m, f"at `T = {T}`, "))
            if (T, s) in older:
                text.append("an earlier minisab version trained this model, and the current "
                            "code does not give it bit for bit (the copy-task section above)")
        if r["final"] >= SOLVED:
            continue
        if m is None:
            text.append(f"{who} ended at {r['final']:.3f}: its final model is not measured yet "
                        f"(the plan's `{LONGER[T]}`)")
        elif not finished_rows(LONGER[T], source="train", seed=s):    # measured: trace it
            text.append(f"{who} ended at {r['final']:.3f}: its trace over training is still to "
                        f"run, as for the stalled seeds at `T = 100` ({_trace_command(T, s)})")
    out.append("; ".join(text) + ".")
    traces = [f"- at `T = {T}`, {line}." for T, line in
              ((r["T"], _trace(r["seed"], LONGER[r["T"]])) for r in runs
               if LONGER[r["T"]] in entries) if line]
    if traces:
        out += ["", "Over training at the longer lengths (the same runs retrained from their "
                "configs and measured as at `T = 100`):", ""] + traces
    late = _late_200(runs)
    if late:
        out += ["", late]
    counts = _solved_counts(runs)
    if counts:
        out += ["", _against_shortest(runs, *counts)]
        k1, n1, k2, n2 = counts
        chain = _through_the_chain(runs) if k1 / n1 < k2 / n2 else ""   # T = 100 fails more
        if chain:
            out += ["", chain]
    return "\n".join(out) + "\n"


def _late_200(runs) -> str:
    """Where the failing seed at T = 200 parts from a solving seed that, up to step 6,000, kept
    no more of its digits' memories (the plan's LATE_200): each seed's numbers over the later
    steps, and whether the solving seed takes up the digits' memories there and the failing one
    does not. Pending until both traces are measured; '' where the plan has no such entry."""
    if LATE_200 not in plan():
        return ""
    seeds, first, until = _planned(LATE_200)
    final = {r["seed"]: r["final"] for r in runs if r["T"] == 200}
    if pending(LATE_200, source="train") or not all(s in final for s in seeds):
        return (f"The traces of {_seeds(seeds)} on to step {until:,} (the plan's `{LATE_200}`, "
                "still to run) will show whether, and where, the failing seed parts from the "
                "solving one.")
    taken, parts = {}, []
    for s in seeds:
        rows = _window(LONGER[200], s, first, until)
        kept = [statistics.mean(r["digit_kept"]) for r in rows]
        taken[s] = next((r["step"] for r, k in zip(rows, kept) if k >= TAKEN_UP), None)
        parts.append(
            f"seed {s} ({'solved' if final[s] >= SOLVED else 'failed'}: final recall "
            f"{final[s]:.3f}) keeps its digit's first memory {_rng(kept, _f2)} of the time, puts "
            f"{_rng([r['digit_phase_weight'] for r in rows], _f2)} of its weight on the "
            f"digit-phase memories and {_rng([r['null_weight'] for r in rows], _f2)} on the null "
            f"memory, and recalls {rows[-1]['recall_acc']:.3f} at step {rows[-1]['step']:,}")
    text = (f"From step {first:,} to step {until:,} (the same traces, continued): "
            + "; ".join(parts) + ".")
    good = [s for s in seeds if final[s] >= SOLVED]
    bad = [s for s in seeds if final[s] < SOLVED]
    if good and bad and all(taken[s] is not None for s in good) and \
            all(taken[s] is None for s in bad):
        text += (f" So the two part here: the recall steps of {_seeds(good)} take up the "
                 "digits' memories (their digit's first memory kept at least "
                 f"{TAKEN_UP} of the time) from step "
                 + _and([f"{taken[s]:,}" for s in good]) + " on, those of "
                 + _seeds(bad) + " at no measured step.")
    elif good and bad:
        text += (" These steps do not part them: whether the recall steps take up the "
                 f"digits' memories (kept at least {TAKEN_UP} of the time) does not follow "
                 "which seed solved the task.")
    return text


def _solved_counts(longer):
    """(solved, finished) of SAB's runs at T = 100, then of ``longer`` (None until both exist)."""
    short = finished_rows("paper_copy", method="sab", T=100)
    if not short or not longer:
        return None
    return (sum(r["final"] >= SOLVED for r in short), len(short),
            sum(r["final"] >= SOLVED for r in longer), len(longer))


def _through_the_chain(longer) -> str:
    """Where the failing seeds at T = 100 get what they recall, beside full BPTT's recall at
    each length: the numbers behind one explanation of why T = 100 fails more often ('' where
    the failing seeds do read the digits' memories)."""
    finals = {r["seed"]: r for r in finished_rows(NAME, source="final")}
    runs = finished_rows("paper_copy", method="sab", T=100)
    failing = [finals[r["seed"]] for r in runs if r["final"] < SOLVED and r["seed"] in finals
               and (finals[r["seed"]].get("attn_total") or 1.0) >= READS_LITTLE]
    if not failing or max(f["digit_phase_weight"] for f in failing) >= 0.1:
        return ""
    Ts = sorted({r["T"] for r in longer})
    short = [r["final"] for r in finished_rows("paper_copy", method="bptt", T=100)]
    long_ = [r["final"] for r in finished_rows("paper_copy", method="bptt") if r["T"] in Ts]
    who = _seeds(sorted(f["seed"] for f in failing))
    text = (f"Where the failing seeds at `T = 100` get what they recall: {who} (those whose recall "
            f"steps read a distribution) recall {_rng([f['recall_acc'] for f in failing], _f3)} "
            "on the diagnosis's held-out batch while their recall steps put at most "
            f"{max(f['digit_phase_weight'] for f in failing):.2f} of their weight on the "
            "digit-phase memories, so what they recall reaches the recall steps through the "
            "states (the recurrent chain, and the recent memories, which are states), not "
            "through a memory of the digits.")
    if short and long_:
        where = " and ".join(f"`T = {T}`" for T in Ts)
        text += (f" Full BPTT, which has only the recurrent chain, ends at {_rng(short, _f3)} at "
                 f"`T = 100` and {_rng(long_, _f3)} at {where}")
        if min(short) > max(long_):
            text += (": every one of its runs at `T = 100` above every one at the longer lengths. "
                     "One explanation these numbers allow"
                     + ("" if _traced_200() else ", not tested here") + ": at `T = 100` the "
                     "recurrent chain gives a partial answer that a run can settle into before its "
                     "recall steps have learned to select the digits' memories, and at the longer "
                     "lengths it gives less, so that selecting them is the only way to recall")
            test = _chain_test(runs)
            if test:
                text += ". " + test
        else:
            text += (", so the recurrent chain does not recall more at `T = 100` on every run, "
                     "and these numbers do not single out the chain")
        text += "."
    return text


TRACE_200 = "diagnosis_paper_copy_T200_trace"
FAILING_200 = "diagnosis_paper_copy_T200_failing"     # a failing seed's trace, same file
LATE_200 = "diagnosis_paper_copy_T200_late"           # that seed and a solving one, traced on
TAKEN_UP = 0.1         # a recall step keeps its digit's first memory this often: taken up


def _planned(name) -> tuple[list, int, int]:
    """(seeds, first step, last step) of the plan's trace entry ``name``."""
    keys = _generate_plan.planned_keys(plan()[name])            # (source, seed, step)
    steps = [k[2] for k in keys]
    return sorted({k[1] for k in keys}), min(steps), max(steps)


def _window(of, seed, start, until) -> list:
    """A seed's trace rows (by the diagnosis ``of``) from step ``start`` to ``until``, in order."""
    return sorted((r for r in finished_rows(of, source="train", seed=seed)
                   if start <= r["step"] <= until), key=lambda r: r["step"])


def _kept_after(of, seed, until, start=1000):
    """A seed's mean 'digit's first memory kept' at each traced step from ``start`` to
    ``until``: one window for every trace compared, however far each goes."""
    return [statistics.mean(r["digit_kept"]) for r in _window(of, seed, start, until)]


def _traced_200() -> bool:
    """Whether every trace of the solving runs at T = 200 is measured (that entry's own: another
    entry tracing a failing seed into the same file does not hold the comparison back)."""
    return TRACE_200 in plan() and not pending(TRACE_200, source="train")


def _chain_test(runs) -> str:
    """The test of the explanation above: do the solving runs at T = 200 keep their digits'
    memories, over the first steps of training, more often than the failing seeds at T = 100
    (of SAB's ``runs`` there; the solving ones beside them)? Pending until every planned trace is
    measured; then the numbers, and the words they allow."""
    if TRACE_200 not in plan():
        return ""
    seeds, _, until = _planned(TRACE_200)
    if not _traced_200():
        return (f"The traces of the solving runs at `T = 200` (the plan's `{TRACE_200}`, "
                f"{_seeds(seeds)}, still to run) will show whether their recall "
                "steps keep the digits' memories through the steps where the failing seeds at "
                "`T = 100` give them up")
    long_ = {s: _kept_after(LONGER[200], s, until) for s in seeds}
    short = {r["seed"]: _kept_after(NAME, r["seed"], until) for r in runs if r["final"] < SOLVED}
    short = {s: k for s, k in short.items() if k}
    if not all(long_.values()) or not short:
        return ""
    good = {r["seed"]: _kept_after(NAME, r["seed"], until) for r in runs
            if r["final"] >= SOLVED}
    good = {s: statistics.mean(k) for s, k in good.items() if k}
    at200 = [statistics.mean(k) for k in long_.values()]       # one mean per seed
    at100 = [statistics.mean(k) for k in short.values()]
    text = (f"From step 1,000 to step {until:,}, the recall steps of the solving runs at "
            f"`T = 200` keep their digit's first memory {_rng(at200, _f2)} of the time on "
            f"average ({_seeds(seeds)}), those of the failing seeds at "
            f"`T = 100` {_rng(at100, _f2)} ({_seeds(sorted(short))}"
            + "".join(f"; the solving seed {s} there: {k:.2f}" for s, k in sorted(good.items()))
            + ")")
    if min(at200) > max(at100):
        text += (": every solving run at `T = 200` more often than every failing one, as "
                 "the explanation expects")
    elif max(at200) < min(at100):
        text += ": less often, so the traces do not support the explanation"
    else:
        alike = sorted(s for s, k in zip(long_, at200) if k <= max(at100))
        its = "its" if len(alike) == 1 else "their"
        text += (": the two ranges overlap, so the traces neither support nor rule out the "
                 f"explanation ({_seeds(alike)} at `T = 200` kept {its} digits' memories no "
                 "more often than a failing seed at `T = 100`, and still solved the task)")
    return text + _failing_200(until, at200, at100)


def _failing_200(until, at200, at100) -> str:
    """The failing seeds at T = 200, once their trace is measured: how often their recall steps
    kept the digit's first memory over the same window, beside the two ranges above."""
    if FAILING_200 not in plan() or pending(FAILING_200, source="train"):
        return ""
    out = []
    for s in _planned(FAILING_200)[0]:
        kept = _kept_after(LONGER[200], s, until)
        if not kept:
            continue
        k = statistics.mean(kept)
        vs_solving = ("less often than every solving run there" if k < min(at200) else
                      "more often than every solving run there" if k > max(at200) else
                      "within the solving runs' range")
        vs_failing = ("less often than every failing seed at `T = 100`" if k < min(at100) else
                      "more often than every failing seed at `T = 100`" if k > max(at100) else
                      "within the failing seeds' range at `T = 100`")
        out.append(f". Seed {s} at `T = 200`, which failed, kept its digit's first memory "
                   f"{k:.2f} of the time over the same steps: {vs_solving}, and {vs_failing}")
    return "".join(out)


def _seeds(seeds) -> str:
    """[1, 2, 4] -> 'seeds 1, 2 and 4'; [1] -> 'seed 1'."""
    return f"seed{'s' * (len(seeds) > 1)} " + _and([str(s) for s in seeds])


def _f2(x) -> str:
    return f"{x:.2f}"


def _f3(x) -> str:
    return f"{x:.3f}"


def _against_shortest(longer, k1, n1, k2, n2) -> str:
    """SAB's solved count at T = 100 (k1 of n1) beside the longer lengths' (k2 of n2, the runs
    ``longer``), with Fisher's exact test: is the paper's shortest length where SAB fails?"""
    p = fisher_exact(k1, n1, k2, n2)
    if k1 / n1 < k2 / n2:
        how = "fewer of its runs at `T = 100` than at the longer lengths"
    elif k1 / n1 > k2 / n2:
        how = "more of its runs at `T = 100` than at the longer lengths"
    else:
        how = "as large a share of its runs at `T = 100` as at the longer lengths"
    Ts = sorted({r["T"] for r in longer})
    text = (f"Against `T = 100`: SAB solved {k1} of its {n1} finished runs there and {k2} of "
            f"{n2} at {' and '.join(f'`T = {T}`' for T in Ts)} (Fisher's exact test on the solved "
            f"counts, p = {p:.2g}), so on these seeds it solves {how}")
    if p < 0.05:
        text += (f". That is below the 5% level, but the comparison was drawn after the runs "
                 f"were seen and rests on {n1 + n2} runs: a lead to follow, not a finding")
    else:
        text += f"; with {n1 + n2} runs that difference is within chance"
    return text + "."


LONGER_BLOCKS = {"paper-copy-longer": paper_copy_longer}
