"""What a run folder holds, and the checks that keep one command from overwriting another's.

A folder under ``--runs-dir`` holds one of two kinds of run:

- a **train** run: ``config.json``, ``metrics.jsonl``, ``checkpoint.npz`` at its top;
- a **comparison**: ``results.json`` at its top, or run folders one level down
  (``<name>/<label>/``, one seed) or two (``<name>/seed<s>/<label>/``, several seeds).

``check_folder`` refuses a name that holds another kind of run, or a comparison of other seeds
(with a message naming ``--overwrite`` and a free name), and a folder that holds files minisab
did not write (``--overwrite`` never deletes those). ``clear_folder`` empties a run folder for
``--overwrite``, so that the new run starts clean (no ``changes.jsonl`` of the old one).
"""
from __future__ import annotations

import json
import os
import shutil

from .checkpoint import TMP_PREFIX
from ..config import ConfigError
from .runlock import LOCK
from .runrecord import CHECKPOINT, CONFIG, METRICS

RUN_FILES = (CONFIG, CHECKPOINT, METRICS)
COMPARE_FILES = ("results.json",)


def _entries(path) -> list:
    """The names in ``path`` apart from the lock, temporary files and folders that hold
    nothing else ([] if it is missing): what a run killed before its first write leaves."""
    if not os.path.isdir(path):
        return []
    return sorted(n for n in os.listdir(path) if n != LOCK and not n.startswith(TMP_PREFIX)
                  and not (os.path.isdir(os.path.join(path, n))
                           and not os.path.islink(os.path.join(path, n))
                           and not _entries(os.path.join(path, n))))


def is_run(path) -> bool:
    return any(os.path.exists(os.path.join(path, n)) for n in RUN_FILES)


def _seed_dirs(top) -> dict:
    """``{seed: folder}`` of the ``seed<s>`` folders of ``top`` that hold runs."""
    out = {}
    for n in _entries(top):
        d = os.path.join(top, n)
        if n.startswith("seed") and n[4:].isdigit() and os.path.isdir(d) and any(
                is_run(os.path.join(d, m)) for m in _entries(d)):
            out[int(n[4:])] = d
    return out


def _label_dirs(top) -> list:
    return [os.path.join(top, n) for n in _entries(top) if is_run(os.path.join(top, n))]


def folder_kind(path) -> str | None:
    """None (missing, or nothing but a lock or temporary files), "train", "compare" or
    "other" (files minisab did not write)."""
    if not _entries(path):
        return None
    if is_run(path):
        return "train"
    if any(os.path.exists(os.path.join(path, n)) for n in COMPARE_FILES) \
            or _seed_dirs(path) or _label_dirs(path):
        return "compare"
    return "other"


def comparison_seeds(top) -> list | None:
    """The seeds of the comparison in ``top``: from ``results.json``, else from its folders
    (``seed<s>``, or the ``train`` section of one run's ``config.json``); None if unknown."""
    try:
        with open(os.path.join(top, "results.json"), encoding="utf-8") as f:
            rows = json.load(f)
        seeds = sorted({int(r["seed"]) for r in rows})
        if seeds:
            return seeds
    except (OSError, ValueError, TypeError, KeyError):
        pass
    by_folder = _seed_dirs(top)
    if by_folder:
        return sorted(by_folder)
    for d in _label_dirs(top):
        try:
            with open(os.path.join(d, CONFIG), encoding="utf-8") as f:
                return [int(json.load(f)["train"]["seed"])]
        except (OSError, ValueError, TypeError, KeyError):
            continue
    return None


def free_name(runs_dir, name: str) -> str:
    """``name-2``, ``name-3``, ...: the first that names no folder in ``runs_dir``."""
    i = 2
    while os.path.exists(os.path.join(runs_dir, f"{name}-{i}")):
        i += 1
    return f"{name}-{i}"


def check_folder(runs_dir, name: str, kind: str, overwrite: bool, seeds=None) -> str | None:
    """Refuse (``ConfigError``) to write a ``kind`` run ("train" or "compare", with ``seeds``)
    into ``runs_dir/name`` when that folder holds another kind of run, a comparison of other
    seeds (both unless ``overwrite``), or files minisab did not write. Returns the folder's
    kind (None: a new folder)."""
    top = os.path.join(runs_dir, name)
    found = folder_kind(top)
    free = free_name(runs_dir, name)
    if found == "other":
        shown = ", ".join(repr(n) for n in _entries(top)[:3])
        raise ConfigError(f"invalid --name={name!r}: {top!r} holds files that are not a minisab "
                          f"run ({shown}{', ...' if len(_entries(top)) > 3 else ''}), which "
                          f"--overwrite does not delete; accepted is a new or run folder's "
                          f"name, e.g. --name {free}")
    if found is None or overwrite:
        return found
    what = {"train": "a run of 'python -m minisab train'",
            "compare": "a comparison ('python -m minisab compare')"}
    if found != kind:
        raise ConfigError(f"invalid --name={name!r}: {top!r} holds {what[found]}, not "
                          f"{what[kind].split(' (')[0]}: pick a free name (--name {free}), or "
                          "--overwrite to delete it and start again")
    if kind == "compare" and seeds is not None:
        have = comparison_seeds(top)
        layout_now = bool(_seed_dirs(top)) or (have is not None and len(have) > 1)
        if (have is not None and sorted(have) != sorted(seeds)) or layout_now != (len(seeds) > 1):
            shown = "unknown seeds" if have is None else \
                "seed" + "s" * (len(have) > 1) + " " + ", ".join(map(str, have))
            raise ConfigError(f"invalid seeds: {top!r} holds a comparison of {shown}, not of "
                              f"{', '.join(map(str, seeds))}; its results would be "
                              f"overwritten: pick a free name (--name {free}), or --overwrite "
                              "to delete it and start again")
    return found


def check_not_held_below(path) -> None:
    """Refuse (``RunFolderBusy``, naming the process) to clear ``path`` while a process other
    than this one holds a run folder inside it."""
    from .runlock import RunFolderBusy, describe_holder, holder
    for folder, _, names in os.walk(path):
        if LOCK in names and os.path.realpath(folder) != os.path.realpath(path):
            who = holder(folder)
            if who is not None:
                raise RunFolderBusy(f"run folder {folder!r} is being written by "
                                    f"{describe_holder(who)}: wait for it to finish, or stop "
                                    "it, before --overwrite deletes it")


def clear_folder(path) -> list:
    """Delete what a run folder holds (not its lock): ``--overwrite`` starts clean. Returns the
    names deleted."""
    gone = [n for n in os.listdir(path) if n != LOCK] if os.path.isdir(path) else []
    for n in gone:
        p = os.path.join(path, n)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        else:
            os.remove(p)
    return gone
