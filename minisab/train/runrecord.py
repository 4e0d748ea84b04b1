"""The record of a run that the training loop keeps beside its checkpoint.

- ``metrics.jsonl``: one JSON row per evaluation, appended; a torn last line (a crash during
  the append) is dropped when it is read, a damaged line before it is an error;
- ``changes.jsonl``: the training options a resume changed (only with ``allow_changes``);
- the resume check: a checkpoint continues only under the model, task and training options it
  was made with (``steps`` and ``target`` may change, see ``FREE_ON_RESUME``).
"""
from __future__ import annotations

import json
import os
import time

from .checkpoint import atomic_write_text, check_matches, load_checkpoint

CHECKPOINT, METRICS, CONFIG = "checkpoint.npz", "metrics.jsonl", "config.json"
CHANGES = "changes.jsonl"
# Training options a resumed run may change without being a different run: the number of steps
# (to train longer; but not with a decaying lr, whose schedule spans the steps) and the
# early-stopping target. Any other change needs allow_changes=True (--allow-changes).
FREE_ON_RESUME = ("steps", "target")


class TrainError(ValueError):
    """A training option or a run folder that cannot be used as asked."""


class FirstCheckpointError(TrainError):
    """A run's first checkpoint could not be written (a full disk, a folder that cannot be
    written): there is nothing to continue, so the advice is to run the command again."""

    def __init__(self, error: OSError, path):
        self.error = error
        super().__init__(f"{error.strerror or error} writing {path!r}: the run's first "
                         "checkpoint could not be written, so there is nothing to continue yet; "
                         "free some space (or choose a --runs-dir you can write to), then run "
                         "the same command again, without --resume")


def read_metrics(run_dir, log=None) -> list:
    """The records of ``metrics.jsonl`` (an empty list if there is none).

    A last line that is not a complete record (a crash during an append tears it) is dropped,
    with a note to ``log``; a damaged line before it raises ``TrainError``.
    """
    path = os.path.join(run_dir, METRICS)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = [line for line in f.read().split("\n")]
    records = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            if not (isinstance(rec, dict) and isinstance(rec.get("step"), int)):
                raise ValueError("not a record with a step")
        except ValueError as e:
            if all(not rest.strip() for rest in lines[i + 1:]):     # the last line: torn
                if log is not None:
                    log(f"note: dropped a torn last line of {path} ({line[:40]!r}...)")
                break
            raise TrainError(f"{path!r} line {i + 1} is damaged ({e}); delete the line, or "
                             "the file (the checkpoint holds the run)") from None
        records.append(rec)
    return records


def write_metrics(run_dir, records) -> None:
    atomic_write_text(os.path.join(run_dir, METRICS),
                      "".join(json.dumps(r) + "\n" for r in records))


def append_metric(run_dir, record) -> None:
    with open(os.path.join(run_dir, METRICS), "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def changed_options(saved: dict, tc) -> dict:
    """``{name: (old, new)}`` of the training options ``tc`` (a ``TrainConfig``) changes against a checkpoint's
    ``saved`` ones, leaving out those in ``FREE_ON_RESUME`` (``steps`` only without lr decay)."""
    now = tc.to_dict()
    free = set(FREE_ON_RESUME) - ({"steps"} if tc.lr_final is not None else set())
    return {k: (saved.get(k), now.get(k)) for k in sorted(set(saved) | set(now))
            if k not in free and saved.get(k) != now.get(k)}


def check_resumable(run_dir, cfg, task, tc,
                    allow_changes: bool = False) -> dict:
    """Raise a clear error unless ``run_dir``'s checkpoint can be resumed as ``cfg``, ``task``,
    ``tc``; return the checkpoint. Changed training options are refused, by name with the old
    and new values, unless ``allow_changes``; so is ``tc.steps`` below the checkpoint's step.
    Reads only: a refusal changes no file."""
    path = os.path.join(run_dir, CHECKPOINT)
    ck = load_checkpoint(path)
    check_matches(ck["meta"], cfg.to_dict(), task.spec(), path)
    at = ck["meta"]["step"]
    if isinstance(at, int) and tc.steps < at:
        raise TrainError(f"invalid steps={tc.steps} (--steps): the checkpoint in "
                         f"{os.fspath(run_dir)!r} is at step {at}; accepted are steps >= {at} "
                         "(a resumed run continues up to --steps)")
    changes = changed_options(ck["meta"].get("train", {}), tc)
    if changes and not allow_changes:
        detail = ", ".join(f"{k}: {old!r} in the run, {new!r} now" for k, (old, new)
                           in changes.items())
        raise TrainError(f"resume with changed training options ({detail}): give the run's "
                         f"options again (its {CONFIG}), or allow the change (--allow-changes, "
                         f"allow_changes=True), which is recorded in {CHANGES}")
    return ck


def record_changes(run_dir, step: int, changes: dict) -> None:
    """Append the training options a resume changed to ``changes.jsonl`` (rewritten atomically)."""
    path = os.path.join(run_dir, CHANGES)
    old = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            old = f.read()
    row = {"step": step, "changed": {k: {"old": a, "new": b} for k, (a, b) in changes.items()},
           "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    atomic_write_text(path, old + json.dumps(row) + "\n")
