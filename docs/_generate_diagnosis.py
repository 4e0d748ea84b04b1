"""reproduction.md, "Why SAB fails where it fails": the instruments on the failing seed.

Read from ``experiments/results/diagnosis/paper_copy_T100/results.json`` (``python
experiments/diagnose_paper_copy.py``; the plan's ``diagnosis_paper_copy``). The sentences put
each quantity in words with ``minisab.train.wording`` (the number beside the word), so that a rerun
cannot leave a word standing that its number contradicts; the measurements over training are
summarised only once a seed's trace is complete, and counted as pending before.
"""
from __future__ import annotations

import json
import statistics

import _generate_plan
from _generate_plan import finished_rows, pending, plan
from _generate_real import _and
from _generate_results import _json, _rng
from minisab.train.wording import fisher_exact, weight_phrase

NAME = "diagnosis_paper_copy"
FILE = "diagnosis/paper_copy_T100/results.json"


def _pending(of: str = NAME, **where) -> list:
    """The pending measurements, matching ``where``, of every plan entry that writes the results
    file of the diagnosis ``of`` (the traces, the final models, the later seeds' traces)."""
    entries = plan()
    return [k for name, exp in entries.items() if exp["results"] == entries[of]["results"]
            for k in pending(name, **where)]


def _final(seed):
    return next((r for r in finished_rows(NAME, source="final", seed=seed)), None)


READS_LITTLE = 0.5     # recall steps whose weights sum below this read next to nothing
SATURATED = 0.5        # a scorer with this share of its tanh units at ±1 is called saturated
ROW_HEAD = ("recall | digits recalled (≥ 0.9) | weight on digit-phase memories | on the recent "
            "ones | on the null memory | weights' sum | digit's first memory kept | credit to the "
            "digit step (relative) | gradient norm (largest part) | min Σã |")


def _row(r) -> str:
    good = sum(a >= 0.9 for a in r["digit_acc"])
    total = f"{r['attn_total']:.2f}" if r.get("attn_total") is not None else "—"
    return (f"| {r['seed']} | {r['recall_acc']:.3f} | {good} of {len(r['digit_acc'])} | "
            f"{r['digit_phase_weight']:.2f} | {r['recent_weight']:.2f} | {r['null_weight']:.2f} | "
            f"{total} | "
            f"{statistics.mean(r['digit_kept']):.2f} | {statistics.mean(r['digit_credit']):.2g} | "
            f"{r['grad_norm']:.3g} (`{r['top_param']}`) | {r['sum_tilde_min']:.2g} |")


def _where(r, where: str = "") -> str:
    """Where a final model's recall steps look, in words beside the numbers (``where``: "at
    `T = 200`, ", before the seed)."""
    return (f"{where}seed {r['seed']}'s recall steps (recall {r['recall_acc']:.3f}) put "
            f"{weight_phrase(r['digit_phase_weight'], 'their')} on the memories written "
            f"while the digits were read and {weight_phrase(r['recent_weight'], 'their')} "
            f"on the most recent memories"
            + (f", and {weight_phrase(r['null_weight'], 'their')} on the null memory "
               "(which reads nothing)" if r["null_weight"] >= 0.1 else "")
            + _reads_nothing(r))


def _reads_nothing(r) -> str:
    """Why a final model's recall steps read next to nothing, where they do: tied top scores,
    which the paper's sparsifier turns into all-zero weights (docs/model.md §2.3)."""
    total = r.get("attn_total")
    if total is None or total >= READS_LITTLE:
        return ""
    text = (f", and they read next to nothing: their weights sum to {total:.2f} on average "
            f"(1 where a step reads a distribution), because at {r['top_tied']:.2f} of them the "
            "`k_top + 1` largest scores are equal, so the paper's sparsifier subtracts a "
            "threshold equal to every kept score and gives every memory zero weight")
    sat = r.get("scorer_saturated")
    if sat is not None and sat >= SATURATED:
        text += (f" ({sat:.2f} of the scorer's tanh units are at ±1 for those memories: "
                 "saturated units give one score to every memory that saturates them alike)")
    return text


def _fell(seed) -> str:
    """A failing seed whose held-out recall fell well below its best before the end, in words
    ('' otherwise): its final model shows the fall, not the plateau it trained on."""
    run = next(iter(finished_rows("paper_copy", T=100, method="sab", seed=seed)), None)
    if run is None or run["final"] >= SOLVED or run["best"] - run["final"] < 0.1:
        return ""
    best = max(run["curve"], key=lambda c: c[2])
    low = [c[0] for c in run["curve"] if c[0] > best[0] and c[2] < run["final"] + 0.05]
    return (f"seed {seed}'s held-out recall was at best {best[2]:.3f} (step {best[0]:,}) and "
            f"{run['final']:.3f} at the end of training"
            + (f" (as low at step{'s' * (len(low) > 2)} "
               + ", ".join(f"{s:,}" for s in low[:-1]) + ")" if len(low) > 1 else ""))


def _trace(seed, of: str = NAME) -> str:
    """One seed's measurements over training (by the diagnosis ``of``), as the sequence of
    numbers they are; a trace still being measured says how far it has got, so that it is never
    read as complete."""
    rows = sorted(finished_rows(of, source="train", seed=seed), key=lambda r: r["step"])
    left = _pending(of, source="train", seed=seed)
    if not rows:                        # a seed measured at the end only: nothing to trace
        return f"seed {seed}: pending" if left else ""
    steps = f"steps {rows[0]['step']:,}–{rows[-1]['step']:,}" if len(rows) > 1 else \
        f"step {rows[0]['step']:,}"
    text = (f"seed {seed}, {steps}: weight on the digit-phase memories "
            + ", ".join(f"{r['digit_phase_weight']:.2f}" for r in rows)
            + "; digit's first memory kept "
            + ", ".join(f"{statistics.mean(r['digit_kept']):.2f}" for r in rows)
            + f"; recall {rows[-1]['recall_acc']:.3f} at step {rows[-1]['step']:,}")
    if left:
        text += f" ({len(left)} later measurement{'s' * (len(left) > 1)} pending)"
    differs = [r["differs_from_step"] for r in rows if r.get("differs_from_step") is not None]
    if differs:
        text += (f". **This retraining is not the run in the table above**: its held-out loss "
                 f"differs from the original's from step {min(differs):,} on (the original was "
                 "trained by an earlier minisab version, or with other BLAS kernels, whose "
                 "float32 rounding differed), so it is another run with the same seed")
    elif rows and all("differs_from_step" in r for r in rows[1:]):
        text += "; the retraining reproduces the original run, bit for bit, at every step"
    return text


def _kept_words(seed) -> str:
    """When a seed's recall steps keep the memory that first holds their digit, in words (a
    complete trace only; '' while it is being measured)."""
    rows = sorted(finished_rows(NAME, source="train", seed=seed), key=lambda r: r["step"])
    if not rows or _pending(source="train", seed=seed):
        return ""
    kept = [statistics.mean(r["digit_kept"]) for r in rows]
    last = max((i for i, k in enumerate(kept) if k > 0.005), default=None)
    who = f"seed {seed}'s recall steps"
    if last is None:
        return f"{who} keep their digit's first memory at no measured step"
    if last < len(rows) - 1:
        peak = max(range(last + 1), key=lambda i: kept[i])
        text = (f"{who} keep their digit's first memory most often at step "
                f"{rows[peak]['step']:,} ({kept[peak]:.2f} of the time)")
        if peak < last:
            text += f", at most {max(kept[peak + 1:last + 1]):.2f} of the time after it"
        return text + f", and at no measured step from step {rows[last + 1]['step']:,} on"
    return (f"{who} keep their digit's first memory {kept[-1]:.2f} of the time by step "
            f"{rows[-1]['step']:,}")


def paper_copy_diagnosis() -> str:
    """The final models of the failing and a solving seed, side by side; then the traces."""
    seeds = sorted({r["seed"] for r in finished_rows(NAME, source="final")})
    rows = [_final(s) for s in seeds]
    if not rows:
        return "\nNo measurement finished yet (\"Still to run\").\n"
    head = "| seed | " + ROW_HEAD
    st = _json(FILE)["settings"]
    out = ["", f"At the end of training (the final models of `paper_copy.py`, {st['batch']} "
           "held-out sequences; weights are those of the recall steps, averaged over the 10 recall "
           "positions; the credit is that of recall step i's loss at the step that read digit "
           "i, relative to the largest credit of its row; the weights' sum is 1 where a recall "
           "step reads a distribution, 0 where it reads nothing):", "", head,
           "|" + "---|" * 11]
    out += [_row(r) for r in rows]
    failed = [r for r in rows if r["recall_acc"] < 0.9]
    solved = [r for r in rows if r["recall_acc"] >= 0.9]
    words = [_where(r) for r in failed + solved]
    out += ["", "In words: " + "; ".join(words) + "."]
    fell = [text for text in (_fell(r["seed"]) for r in failed) if text]
    if fell:
        out += ["", "The final model is not what such a seed trained on for most of its run: "
                + "; ".join(fell) + "."]
    out += ["",
            "Over training (the same runs retrained from their configs, measured every "
            f"{st['every'] or 1000:,} steps; the figure shows the same numbers):", ""]
    out += [f"- {_trace(s)}." for s in seeds if _trace(s)]
    kept = [_kept_words(s) for s in seeds if _kept_words(s)]
    if kept:
        out += ["", "So, over the measured steps, " + "; ".join(kept) + "."]
    return "\n".join(out) + "\n"


SOLVED = 0.9           # final recall at which a paper-copy run counts as solved
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
    counts = _solved_counts(runs)
    if counts:
        out += ["", _against_shortest(runs, *counts)]
        k1, n1, k2, n2 = counts
        chain = _through_the_chain(runs) if k1 / n1 < k2 / n2 else ""   # T = 100 fails more
        if chain:
            out += ["", chain]
    return "\n".join(out) + "\n"


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


def _kept_after(of, seed, until, start=1000):
    """A seed's mean 'digit's first memory kept' at each traced step from ``start`` to
    ``until``: one window for every trace compared, however far each goes."""
    return [statistics.mean(r["digit_kept"]) for r in finished_rows(of, source="train", seed=seed)
            if start <= r["step"] <= until]


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
    keys = _generate_plan.planned_keys(plan()[TRACE_200])       # (source, seed, step)
    seeds = sorted({k[1] for k in keys})
    if not _traced_200():
        return (f"The traces of the solving runs at `T = 200` (the plan's `{TRACE_200}`, "
                f"{_seeds(seeds)}, still to run) will show whether their recall "
                "steps keep the digits' memories through the steps where the failing seeds at "
                "`T = 100` give them up")
    until = max(k[2] for k in keys)
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
        return text + (": every solving run at `T = 200` more often than every failing one, as "
                       "the explanation expects")
    if max(at200) < min(at100):
        return text + ": less often, so the traces do not support the explanation"
    alike = sorted(s for s, k in zip(long_, at200) if k <= max(at100))
    its = "its" if len(alike) == 1 else "their"
    return text + (": the two ranges overlap, so the traces neither support nor rule out the "
                   f"explanation ({_seeds(alike)} at `T = 200` kept {its} digits' memories no "
                   "more often than a failing seed at `T = 100`, and still solved the task)")


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


DIAGNOSIS_BLOCKS = {"paper-copy-diagnosis": paper_copy_diagnosis,
                    "paper-copy-longer": paper_copy_longer}
