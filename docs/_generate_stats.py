"""Verdicts seed by seed, and the uncertainty printed beside them.

A mean over seeds can favour SAB while SAB loses on some seeds (one very good seed outweighs a
bad one). So the generated verdicts read the runs seed by seed: a claim *holds* in a row only
where it holds on every seed, and otherwise the row says on how many ("holds on 1 of 2 seeds").
Beside it stands an uncertainty that says whether a difference is more than the spread of the
seeds:

- ``bootstrap_interval``: a percentile bootstrap interval of the difference of two means (the
  runs of each method resampled with replacement, independently), seeded, so the docs are the
  same at every generation; a difference "differs" only where its interval excludes zero.
  With two or three seeds a bootstrap interval is narrower than the truth: it is a lower bound
  on the uncertainty, and the seed count beside it says how much to trust it.
- ``fisher_exact``: Fisher's exact test on two solved counts (k1 of n1 against k2 of n2),
  two-sided: ``minisab.train.wording``'s, which the tutorials print with too
  (``tests/test_verdicts.py`` compares it with SciPy where SciPy is installed).

Standard library and minisab only (``random.Random.random``, whose sequence Python keeps stable
for a given integer seed).
"""
from __future__ import annotations

import math
import random

from minisab.train.wording import fisher_exact  # noqa: F401  (re-exported for the docs)

LEVEL = 0.95            # the intervals' coverage
N_BOOT = 10_000         # bootstrap resamples
BOOT_SEED = 2018        # any fixed integer: the docs must not change by chance
ALPHA = 0.05            # Fisher's test: "differs" below this p-value


def bootstrap_interval(xs, ys, *, level=LEVEL, n_boot=N_BOOT, seed=BOOT_SEED):
    """``(lo, hi)``: the ``level`` percentile-bootstrap interval of ``mean(xs) - mean(ys)``, or
    None where either side has fewer than two runs (one run has no spread to resample)."""
    xs, ys = list(xs), list(ys)
    if len(xs) < 2 or len(ys) < 2:
        return None
    rng = random.Random(seed)

    def resampled_mean(v):
        n = len(v)
        return sum(v[int(rng.random() * n)] for _ in range(n)) / n
    diffs = sorted(resampled_mean(xs) - resampled_mean(ys) for _ in range(n_boot))
    tail = (1 - level) / 2
    lo = diffs[math.floor(tail * (n_boot - 1))]
    return lo, diffs[math.ceil((1 - tail) * (n_boot - 1))]


def excludes_zero(interval) -> bool:
    return interval is not None and (interval[0] > 0 or interval[1] < 0)


def support(sab: float, other: float, *, higher: bool, tie: float, matches: bool) -> bool:
    """Whether one seed supports the claim against one other method: SAB at least matches it
    (``matches``: within ``tie``, or better) or beats it by more than ``tie``."""
    gain = (sab - other) if higher else (other - sab)
    return gain >= -tie if matches else gain > tie


def seed_support(sab: dict, others: dict, *, higher: bool, tie: float, matches: bool) -> dict:
    """{seed: {other method: supports?}} for every seed that SAB and at least one other method
    ran (``sab``: {seed: value}; ``others``: {method: {seed: value}})."""
    out = {}
    for seed in sorted(sab):
        row = {m: support(sab[seed], vals[seed], higher=higher, tie=tie, matches=matches)
               for m, vals in others.items() if seed in vals}
        if row:
            out[seed] = row
    return out


def count_words(k: int, n: int) -> str:
    """The verdict from k supporting seeds of n: "holds" only where every seed supports it."""
    if n == 0:
        return "no seed to compare"
    if k == n:
        return f"holds on every seed ({n} of {n})" if n > 1 else "holds (one seed)"
    if k == 0:
        return f"does not hold on any seed (0 of {n})"
    return f"holds on {k} of {n} seeds"


def verdict(by_seed: dict, names: dict) -> str:
    """The row's verdict from ``seed_support``'s answer: the seeds on which the claim holds
    against every other method, then, where that is not every seed, against each method."""
    n = len(by_seed)
    k = sum(all(row.values()) for row in by_seed.values())
    text = count_words(k, n)
    present = {m for row in by_seed.values() for m in row}
    # A method of the claim without a finished run: the verdict rests on the others only.
    missing = [name for m, name in names.items() if m not in present]
    # Each method's count where a seed lost a comparison, where a seed lacks one (a run
    # pending, or fewer seeds planned for that method), or where a method has no run at all, so
    # the reader sees what each seed rests on.
    if 0 < n and (k < n or missing or any(set(row) != present for row in by_seed.values())):
        parts = []
        for m, name in names.items():
            seeds = [s for s, row in by_seed.items() if m in row]
            if seeds:
                parts.append(f"against {name} on {sum(by_seed[s][m] for s in seeds)} of "
                             f"{len(seeds)}")
        if len(parts) > 1 or missing:
            said = [", ".join(parts)] if parts else []
            said += ["no finished run of " + " or ".join(missing)] if missing else []
            text += " (" + "; ".join(said) + ")"
    return text


def seed_range(seeds) -> str:
    """[0, 1, 2] -> '0–2'; [0, 2] -> '0, 2'; [3] -> '3'."""
    s = sorted(seeds)
    if not s:
        return "—"
    if s == list(range(s[0], s[-1] + 1)) and len(s) > 2:
        return f"{s[0]}–{s[-1]}"
    return ", ".join(map(str, s))


def signed(x: float, fmt) -> str:
    return ("+" if x >= 0 else "−") + fmt(abs(x))


def interval_text(xs, ys, fmt) -> str:
    """'+0.52 [+0.20, +0.85], differs' (the difference of means, its interval, and the word
    "differs" only where the interval excludes zero); 'one run: no interval' where a side has
    one run."""
    xs, ys = list(xs), list(ys)
    d = sum(xs) / len(xs) - sum(ys) / len(ys)
    ci = bootstrap_interval(xs, ys)
    if ci is None:
        return f"{signed(d, fmt)} (one run: no interval)"
    return (f"{signed(d, fmt)} [{signed(ci[0], fmt)}, {signed(ci[1], fmt)}]"
            + (", differs" if excludes_zero(ci) else ""))
