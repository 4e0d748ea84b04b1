"""The passages of reproduction.md on real data and at the paper's sizes.

Each function returns the text of one ``<!-- generated: NAME -->`` passage, read from a committed
results file under ``experiments/results/`` (named beside each constant, with the script that
made it). The comparisons in the words ("above", "matches") are computed from the same files:
"matches" means the two means differ by at most ``TIE_ACC`` in accuracy or ``TIE_BPC`` in bits
per character, a tolerance stated in the passage itself. Fixed sentences are guarded by
``_claim``, which stops the generation when a rerun contradicts them.
"""
from __future__ import annotations

import json
import statistics

from _generate_plan import finished_rows, pending, plan, planned_keys, status
from _generate_results import RESULTS, _claim, _json, _n, _rng

DIGITS = "digits/results.json"            # python experiments/digits.py --tasks digits pdigits
FASHION = "fashion/results.json"          # python experiments/digits.py --tasks fashion ...
TEXT = "text/results.json"                # python experiments/text.py
PAPER_COPY = "paper_copy/results.json"    # python experiments/paper_copy.py --T 100 200 ...
TRANSFER_LONG = "transfer_long/results.json"   # python experiments/transfer_long.py
TIE_ACC = 0.01
TIE_BPC = 0.01
NAMES = {"sab": "SAB (no mental updates)", "tbptt": "LSTM, truncated BPTT",
         "bptt": "LSTM, full BPTT", "softmax": "dense attention, full BPTT",
         "sab-mental": "SAB with mental updates"}
SHORT = {"tbptt": "truncated BPTT", "bptt": "full BPTT", "softmax": "dense attention"}
ORDER = ["sab", "tbptt", "bptt", "softmax", "sab-mental"]


def _and(words) -> str:
    """['a', 'b', 'c'] -> 'a, b and c'."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _grouped(pairs) -> str:
    """[('ends above', 'x (1)'), ('ends above', 'y (2)'), ('matches', 'z (3)')]
    -> 'ends above x (1) and y (2), and matches z (3)'."""
    groups: dict[str, list[str]] = {}
    for rel, what in pairs:
        groups.setdefault(rel, []).append(what)
    return ", and ".join(f"{rel} {_and(whats)}" for rel, whats in groups.items())


def _tie_note(words, what: str) -> str:
    """' ("matches": within ...)' where a comparison is a match, else nothing."""
    return f' ("matches": {what})' if any(rel == "matches" for rel, _ in words) else ""


def _acc(v: float) -> str:
    return f"{v:.3f}"


def _rows(doc, **where) -> list[dict]:
    rows = [r for r in doc["runs"] if "skipped" not in r
            and all(r.get(k) == v for k, v in where.items())]
    return sorted(rows, key=lambda r: (ORDER.index(r["method"]), r["seed"]))


def _compare(sab: float, other: float, higher: bool, tie: float) -> str:
    """'above' / 'below' / 'matches' for SAB's mean against another method's mean."""
    if abs(sab - other) <= tie:
        return "matches"
    return "above" if (sab > other) == higher else "below"


def _word(rel: str, higher: bool) -> str:
    """The comparison in words a reader of that metric expects (bits per character: lower)."""
    if rel == "matches":
        return "matches"
    if higher:
        return "ends above" if rel == "above" else "ends below"
    return "ends better than" if rel == "above" else "ends worse than"


# ------------------------------------------------------------- real data: pixel-by-pixel images
def digits_verdict() -> str:
    """Pixel-by-pixel digits and permuted digits: SAB, truncated and full BPTT (digits/)."""
    doc = _json(DIGITS)
    st = doc["settings"]
    out = [f"{len(st['seeds'])} seeds, {_n(st['steps'])} steps, `H = {st['hidden_size']}`, "
           f"`k_top = {st['k_top']}`, `k_att = {st['k_att']}`, `k_trunc = {st['k_trunc']}`, "
           f"learning rate {st['lr']:g}, test accuracy on the {st['eval_batch']} held-out "
           "images (chance 0.1); mean (range) over seeds, then the step at which each seed "
           "first reached 90%.", "",
           "| task | method | final test accuracy | reached 90% (step, per seed) |",
           "|---|---|---|---|"]
    mean = {}
    for task in st["tasks"]:
        for m in st["methods"]:
            rs = _rows(doc, task=task, method=m)
            acc = [r["final"] for r in rs]
            mean[task, m] = statistics.mean(acc)
            reach = ", ".join("—" if r["step_0.9"] is None else _n(r["step_0.9"]) for r in rs)
            out.append(f"| {task} | {NAMES[m]} | {statistics.mean(acc):.3f} "
                       f"({_rng(acc, _acc)}) | {reach} |")
    for task in st["tasks"]:
        _claim(mean[task, "sab"] > mean[task, "tbptt"],
               f"SAB ends above truncated BPTT on {task}")
        _claim(mean[task, "bptt"] >= mean[task, "sab"],
               f"full BPTT ends at or above SAB on {task}")
    out += ["", "On both tasks SAB ends above truncated BPTT with the same cut (the loss at the "
            "last pixel needs credit that reaches the first rows), and full BPTT, which replays "
            "every one of the 64 steps, ends at or above SAB: at this length an LSTM with full "
            "BPTT carries the credit itself, so SAB's advantage here is over truncation, not "
            "over BPTT."]
    return "\n" + "\n".join(out) + "\n"


def fashion_verdict() -> str:
    """Fashion-MNIST pixel by pixel: SAB, truncated and full BPTT (fashion/)."""
    doc = _json(FASHION)
    st = doc["settings"]
    side = st["image_size"]
    out = [f"Fashion-MNIST at {side}×{side} pixels (`T = {side * side}`), {len(st['seeds'])} "
           f"seeds, {_n(st['steps'])} steps of {st['batch']} images, `H = {st['hidden_size']}`, "
           f"`k_top = {st['k_top']}`, `k_att = {st['k_att']}`, `k_trunc = {st['k_trunc']}`, "
           f"learning rate {st['lr']:g}; test accuracy on {_n(st['eval_batch'])} test images "
           "(chance 0.1); mean (range) over seeds, the step at which each seed first reached "
           "50%, and the mean training time (two runs side by side on 2 cores).", "",
           "| method | final test accuracy | best test accuracy | reached 50% (step, per seed) "
           "| training time |", "|---|---|---|---|---|"]
    mean = {}
    for m in [m for m in ORDER if m in st["methods"]]:
        rs = _rows(doc, task="fashion", method=m)
        if not rs:
            continue
        acc = [r["final"] for r in rs]
        mean[m] = statistics.mean(acc)
        reach = ", ".join("—" if r["step_0.5"] is None else _n(r["step_0.5"]) for r in rs)
        minutes = statistics.mean(r["wall_s"] for r in rs) / 60
        out.append(f"| {NAMES[m]} | {mean[m]:.3f} ({_rng(acc, _acc)}) | "
                   f"{statistics.mean(r['best'] for r in rs):.3f} | {reach} | {minutes:.0f} min |")
    words = [(_word(_compare(mean['sab'], mean[m], True, TIE_ACC), True),
              f"{SHORT[m]} ({mean[m]:.3f})") for m in ("tbptt", "bptt", "softmax") if m in mean]
    if "sab" in mean and words:
        out += ["", f"On the mean over seeds SAB ({mean['sab']:.3f}) " + _grouped(words)
                + _tie_note(words, f"within {TIE_ACC} of each other") + "."]
    return "\n" + "\n".join(out) + "\n"


# ------------------------------------------------------------- real text: bits per character
def text_verdict() -> str:
    """Character-level language modelling on pydoc_data.topics (text/)."""
    doc = _json(TEXT)
    st = doc["settings"]
    rows = _rows(doc)
    corpus = ("the standard library's `pydoc_data.topics`" if st["text_file"] is None
              else f"`{st['text_file']}`")
    chance = rows[0]["chance"]
    out = [f"Next-character prediction on {corpus} (vocabulary of {round(2 ** chance)} "
           f"characters: a uniform guess costs {chance:.2f} bits), windows of `T = {st['T']}`, "
           f"{len(st['seeds'])} seeds, {_n(st['steps'])} steps of {st['batch']} windows, "
           f"`H = {st['hidden_size']}`, `k_top = {st['k_top']}`, `k_att = {st['k_att']}`, "
           f"`k_trunc = {st['k_trunc']}`, learning rate {st['lr']:g}; bits per character on "
           f"{st['eval_batch']} held-out windows (lower is better); mean (range) over seeds "
           "and the mean training time.", "",
           "| method | final held-out bpc | best held-out bpc | training time |",
           "|---|---|---|---|"]
    mean = {}
    for m in [m for m in ORDER if m in st["methods"]]:
        rs = [r for r in rows if r["method"] == m]
        if not rs:
            continue
        bpc = [r["final"] for r in rs]
        mean[m] = statistics.mean(bpc)
        minutes = statistics.mean(r["wall_s"] for r in rs) / 60
        out.append(f"| {NAMES[m]} | {mean[m]:.3f} ({_rng(bpc, _acc)}) | "
                   f"{statistics.mean(r['best'] for r in rs):.3f} | {minutes:.0f} min |")
    words = [(_word(_compare(mean['sab'], mean[m], False, TIE_BPC), False),
              f"{SHORT[m]} ({mean[m]:.3f})") for m in ("tbptt", "bptt") if m in mean]
    if "sab" in mean and words:
        out += ["", f"On the mean over seeds SAB ({mean['sab']:.3f} bits per character) "
                + _grouped(words) + _tie_note(words, f"within {TIE_BPC} bits of each other")
                + "."]
    return "\n" + "\n".join(out) + "\n"


# ------------------------------------------------------------- the paper's copy task (10 digits)
def _against(sab: dict, other: dict, name: str) -> str:
    """SAB against one other method seed by seed: 'ends above full BPTT on seed 0, below it on
    seed 1 (0.343 against 0.373)' ({seed: final} each; seeds that both ran)."""
    seeds = [s for s in sorted(sab) if s in other]
    rel: dict[str, list] = {}
    for s in seeds:
        rel.setdefault(_compare(sab[s], other[s], True, TIE_ACC), []).append(s)
    if len(rel) == 1:
        (r, ss), = rel.items()
        where = f"on every seed ({len(ss)} of {len(ss)})" if len(ss) > 1 else f"on seed {ss[0]}"
        return f"{_word(r, True)} {name} {where}"
    parts = []
    for i, (r, ss) in enumerate(sorted(rel.items(), key=lambda kv: kv[1][0])):
        vs = ", ".join(f"{sab[s]:.3f} against {other[s]:.3f}" for s in ss)
        word = _word(r, True) if i == 0 else _word(r, True).replace("ends ", "")
        parts.append(f"{word} {name if i == 0 else 'it'} on seed{'s' * (len(ss) > 1)} "
                     f"{_and([str(s) for s in ss])} ({vs})")
    return ", ".join(parts)


def _reruns(parts) -> str:
    """What the plan's ``paper_copy_rerun`` says of the runs not reproduced: trained again with
    the current code; a finished rerun takes its run's place (experiments/adopt_rerun.py)."""
    if "paper_copy_rerun" not in plan():
        return ""
    keys = {(r["T"], r["method"], r["seed"]) for r in parts}
    planned = keys & set(planned_keys(plan()["paper_copy_rerun"]))
    if not planned:
        return ""
    waiting = keys & set(pending("paper_copy_rerun"))
    who = ("Each" if len(planned) == len(keys) else f"{len(planned)} of them")
    return (f"{who} {'is' if who == 'Each' or len(planned) == 1 else 'are'} planned to train "
            "again with the current code (`paper_copy_rerun` under \"Still to run\"; "
            f"{len(waiting)} of {len(planned)} reruns not finished yet), and "
            "`python experiments/adopt_rerun.py` puts each finished rerun in its run's place")


def _reproduced(rows) -> list[str]:
    """Which finished runs the current code gives bit for bit over their first steps
    (paper_copy/reproduced.json, python experiments/check_reproduced.py)."""
    path = RESULTS / "paper_copy" / "reproduced.json"
    if not path.exists():
        return []
    doc = json.loads(path.read_text(encoding="utf-8"))
    checked = {(r["T"], r["method"], r["seed"]): r["differs_from_step"] for r in doc["rows"]}

    def name(r):
        return f"{NAMES[r['method']]} at `T = {r['T']}` seed {r['seed']}"
    keys = [(r["T"], r["method"], r["seed"]) for r in rows]
    same = [r for r, k in zip(rows, keys) if k in checked and checked[k] is None]
    parts = [r for r, k in zip(rows, keys) if k in checked and checked[k] is not None]
    unchecked = len(rows) - len(same) - len(parts)
    text = (f"Retrained from their configs for their first {_n(doc['steps'])} steps with the "
            "current code (`python experiments/check_reproduced.py`), " + str(len(same))
            + f" of the {len(rows)} runs above are the same runs, bit for bit")
    if parts:
        many = len(parts) > 1
        where = [f"{name(r)} (from step {_n(checked[(r['T'], r['method'], r['seed'])])})"
                 for r in parts]
        text += ("; " + _and(where) + (" part" if many else " parts") + " from "
                 + ("their" if many else "its") + " retraining: " + ("they were" if many else
                                                                      "it was")
                 + " trained by an earlier minisab version, or with other BLAS kernels, whose "
                 "float32 rounding differed. " + ("Their" if many else "Its") + " numbers stand "
                 "as measured, but the current code does not give " + ("them" if many else "it")
                 + " bit for bit, and with the same seed it trains another run")
        rerun = _reruns(parts)
        if rerun:
            text += (". " + rerun)
    if unchecked:
        text += f"; {unchecked} not checked yet"
    return ["", text + "."]


def paper_copy_verdict() -> str:
    """The 10-digit copy task at T = 100, 200 and 300 (paper_copy/), one row per finished run,
    compared seed by seed; the planned runs not finished yet are counted (experiments/plan.json)."""
    doc = _json(PAPER_COPY)
    st = doc["settings"]
    rows = [r for r in finished_rows("paper_copy") if "skipped" not in r]
    rows.sort(key=lambda r: (r["T"], ORDER.index(r["method"]), r["seed"]))

    sab_minutes = [r["wall_s"] / 60 for r in rows if (r["method"], r["T"]) == ("sab", rows[0]["T"])]

    def hit(r, lv):
        return "—" if r[f"step_{lv}"] is None else _n(r[f"step_{lv}"])
    out = [f"{st['n_digits']} digits of {st['n_symbols']} symbols, `H = {st['hidden_size']}`, "
           f"`k_top = {st['k_top']}`, `k_att = {st['k_att']}`, `k_trunc = {st['k_trunc']}`, "
           f"learning rate {st['lr']:g}, batch {st['batch']}, held-out recall accuracy (chance "
           f"{1 / st['n_symbols']:.3f}); training times as measured on a shared 2-core machine "
           "with one to three other runs beside them, so they vary with the load and with the "
           "processor of the session that trained them (SAB at `T = "
           f"{rows[0]['T']}`: {_rng(sab_minutes)} min):",
           "", "| T | method | seed | steps | final recall | best recall | 50% / 90% / 99% at "
           "step | training time |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['T']} | {NAMES[r['method']]} | {r['seed']} | {_n(r['steps'])} | "
                   f"{r['final']:.3f} | "
                   f"{r['best']:.3f} | {hit(r, 0.5)} / {hit(r, 0.9)} / {hit(r, 0.99)} | "
                   f"{r['wall_s'] / 60:.0f} min |")
    for T in sorted({r["T"] for r in rows}):
        final = {m: {r["seed"]: r["final"] for r in rows if (r["T"], r["method"]) == (T, m)}
                 for m in ORDER}
        sab = final["sab"]
        if not sab:
            continue
        head = (f"At `T = {T}` SAB ends at " + _and([f"{v:.3f}" for v in sab.values()])
                + f" (seed{'s' * (len(sab) > 1)} {_and([str(s) for s in sab])})")
        for lv in (0.99, 0.9, 0.5):                 # the highest level every seed reached
            reached = [r[f"step_{lv}"] for r in rows if (r["T"], r["method"]) == (T, "sab")
                       and r[f"step_{lv}"] is not None]
            if len(reached) == len(sab):
                head += (f", {lv:.0%} recall reached " + ("on every seed " if len(sab) > 1 else "")
                         + f"after {_rng(reached)} steps")
                break
        words = [_against(sab, final[m], SHORT[m]) for m in ("tbptt", "bptt", "softmax")
                 if set(final[m]) & set(sab)]
        out += ["", head + ("; it " + "; it ".join(words) if words else "") + "."]
    out += _reproduced(rows)
    done, todo = len(status("paper_copy")["done"]), len(status("paper_copy")["pending"])
    counts = [sum(1 for r in rows if (r["T"], r["method"]) == tm)
              for tm in {(r["T"], r["method"]) for r in rows}]
    lo, hi = min(counts), max(counts)
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
    n = (f"{words.get(lo, lo)} seed{'s' * (lo > 1)}" if lo == hi
         else f"{words.get(lo, lo)} to {words.get(hi, hi)} seeds")
    out += ["", f"These rows are {n} per method and length, {done} finished runs of the "
            f"{done + todo} planned (`experiments/plan.json`); {pending_words(todo)}."]
    return "\n" + "\n".join(out) + "\n"


def pending_words(todo: int, plural: str = "runs") -> str:
    """What the pending runs are, in words that agree with their number (``plural``: "runs",
    or "ones" where the sentence has just said "runs")."""
    if todo == 0:
        return "none is pending"
    if todo == 1:
        return "the pending one is listed under \"Still to run\" and is in no number above"
    return (f"the {todo} pending {plural} are listed under \"Still to run\" and are in no "
            "number above")


def transfer_long_verdict() -> str:
    """Models trained at T = 100 evaluated at longer T, forward only (transfer_long/)."""
    doc = _json(TRANSFER_LONG)
    rows = doc["runs"]
    Ts = sorted({r["T"] for r in rows})
    models = sorted({(r["method"], r["seed"]) for r in rows},
                    key=lambda ms: (ORDER.index(ms[0]), ms[1]))
    names = {**NAMES, "sab": "SAB"}
    out = ["Recall accuracy, then the wall time of the evaluation and the peak memory of one "
           f"chunk's forward pass, on {doc['settings']['eval_batch']} held-out sequences:", "",
           "| model | " + " | ".join(f"T = {T:,}" for T in Ts) + " |",
           "|---|" + "---|" * len(Ts)]
    for m, seed in models:
        cells = []
        for T in Ts:
            r = next((r for r in rows if (r["method"], r["seed"], r["T"]) == (m, seed, T)), None)
            cells.append("—" if r is None else f"{r['accuracy']:.3f} ({r['seconds']:.1f} s, "
                         f"{r['peak_mib_per_chunk']:,.0f} MiB)")
        out.append(f"| {names.get(m, m)}, seed {seed} | " + " | ".join(cells) + " |")
    out += ["", _load_words([r.get("load_before") for r in rows])]
    return "\n" + "\n".join(out) + "\n"


def _load_words(loads) -> str:
    """The machine's load when the times were measured: times are comparable at a like load."""
    known = [x for x in loads if x is not None]
    text = ("The times were measured on a shared 2-core machine, often beside training runs, "
            "and vary with its load")
    if known:
        lo, hi = f"{min(known):.1f}", f"{max(known):.1f}"
        text += ("; 1-minute load average at the start of an evaluation: "
                 + (lo if lo == hi else f"{lo} to {hi}"))
    if len(known) < len(loads):
        text += (f" ({len(loads) - len(known)} of the {len(loads)} evaluations were timed before "
                 "the load was recorded)" if known else " (the load was not recorded)")
    return text + "."


REAL_BLOCKS = {
    "digits-verdict": digits_verdict,
    "fashion-verdict": fashion_verdict,
    "text-verdict": text_verdict,
    "paper-copy-verdict": paper_copy_verdict,
    "transfer-long-verdict": transfer_long_verdict,
}
