"""reproduction.md, "Why SAB fails where it fails": the instruments on the failing seed.

Read from ``experiments/results/diagnosis/paper_copy_T100/results.json`` (``python
experiments/diagnose_paper_copy.py``; the plan's ``diagnosis_paper_copy``). The sentences put
each quantity in words with ``minisab.train.wording`` (the number beside the word), so that a rerun
cannot leave a word standing that its number contradicts; the measurements over training are
summarised only once a seed's trace is complete, and counted as pending before.
"""
from __future__ import annotations

import statistics

from _generate_plan import finished_rows, pending, plan
from _generate_results import _json
from minisab.train.wording import weight_phrase

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
DIAGNOSIS_BLOCKS = {"paper-copy-diagnosis": paper_copy_diagnosis}
