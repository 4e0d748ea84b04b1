"""Words for a run's own numbers, so that the prose a tutorial prints cannot contradict them.

A notebook that says "SAB puts nearly all its weight on the digit's memory" is wrong on the run
where that weight is 0.76. So the tutorials print their qualitative sentences from the numbers
of the student's run, with the number beside the word, in fixed forms that
``tests/test_tutorial_claims.py`` reads back and checks against its own ranges:

- ``share(x)``: a fraction of a whole, "all or nearly all" (>= 0.9), "most" (>= 0.6),
  "about half" (>= 0.4), "some" (>= 0.1), "little or none"; printed as
  ``"<words> of its weight (0.76)"`` by ``weight_phrase``;
- ``relation(a, b)``: "above", "below" or "level with" (within ``tie``), of the numbers; as
  ``"<relation> <name> (0.540 against 0.730)"`` by ``versus``;
- ``sooner(a, b)``: "sooner", "later" or "at the same step" for the steps at which two runs
  reached a level; printed as ``"<word> than <name> (step 700 against 1,200)"`` by
  ``steps_versus``.

Also ``fisher_exact``, the two-sided exact test on two solved counts that the docs and the
tutorials use to say whether one setting solved more runs than another beyond chance.
Plain Python; no array anywhere.
"""
from __future__ import annotations

import math

SHARES = ((0.9, "all or nearly all"), (0.6, "most"), (0.4, "about half"), (0.1, "some"),
          (-math.inf, "little or none"))


def share(x: float) -> str:
    """The words for a fraction ``x`` of a whole (a weight, a share of runs)."""
    return next(words for lo, words in SHARES if x >= lo)


def weight_phrase(x: float, whose: str = "its") -> str:
    """'most of its weight (0.76)'."""
    return f"{share(x)} of {whose} weight ({x:.2f})"


def relation(a: float, b: float, *, tie: float = 0.01) -> str:
    """How the number ``a`` stands to ``b``: "above", "below" or "level with" (``|a - b| <=
    tie``). The words compare numbers, not merits: for an error, "below" is the better side,
    and the sentence around the words says which metric it is."""
    if abs(a - b) <= tie:
        return "level with"
    return "above" if a > b else "below"


def versus(a: float, b: float, name: str, *, tie: float = 0.01, digits: int = 3) -> str:
    """'above truncated BPTT (0.540 against 0.730)'."""
    return f"{relation(a, b, tie=tie)} {name} ({a:.{digits}f} against {b:.{digits}f})"


def sooner(a, b) -> str:
    """Reached a level at step ``a`` against step ``b``: "sooner", "later", "at the same step"."""
    return "sooner" if a < b else "later" if a > b else "at the same step"


def steps_versus(a: int, b: int, name: str) -> str:
    """'sooner than minisab's SAB (step 700 against 1,200)'."""
    return f"{sooner(a, b)} than {name} (step {a:,} against {b:,})"


def fisher_exact(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p-value of Fisher's exact test on the table [[k1, n1 - k1], [k2, n2 - k2]]
    (k1 of n1 runs solved against k2 of n2): the probability, given both margins, of a table
    at most as likely as the one observed."""
    for name, k, n in (("k1", k1, n1), ("k2", k2, n2)):
        if not 0 <= k <= n:
            raise ValueError(f"{name}={k} must lie between 0 and its n={n}")
    solved = k1 + k2
    denom = math.comb(n1 + n2, solved)

    def prob(x):
        return math.comb(n1, x) * math.comb(n2, solved - x) / denom
    observed = prob(k1)
    lo, hi = max(0, solved - n2), min(n1, solved)
    return min(1.0, sum(p for x in range(lo, hi + 1) if (p := prob(x)) <= observed * (1 + 1e-7)))
