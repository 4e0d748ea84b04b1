"""Put the finished reruns in place of the paper-copy runs that the current code does not
reproduce.

``check_reproduced.py`` finds the runs of ``paper_copy.py`` that an earlier minisab trained and
the current one would not give bit for bit. Their reruns train with the current code in a folder
of their own (the plan's ``paper_copy_rerun``), so that the report keeps the measured runs, marked,
until a rerun has finished::

    python experiments/paper_copy.py --out experiments/results/paper_copy_rerun --T 100 \\
        --methods sab --seeds 0 --jobs 1

This script then moves each *finished* rerun (its checkpoint reached its planned steps) into the
grid: its row replaces the old one in ``<into>/results.json``, its run folder replaces the old
folder, the old run's line in ``<into>/reproduced.json`` is dropped (so that
``check_reproduced.py`` checks the new run), and so are the old model's rows of
``transfer_long.py`` (so that its next call evaluates the new one); ``table.md`` and the figure
are redrawn. The rerun's own ``results.json`` keeps its rows, the record of what was rerun. A
rerun still training is left where it is. Safe to run again at any point: for each run the old
checks go first, then the row (the results file is replaced atomically), then the folders are
swapped, and whatever a call cut short is done by the next::

    python experiments/adopt_rerun.py
    nice -n 19 python experiments/check_reproduced.py      # then check the adopted runs
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _grid import Results  # noqa: E402

from minisab.train.checkpoint import atomic_write_text  # noqa: E402
from minisab.train.runlock import holder  # noqa: E402
from minisab.train.runs import read_config, run_finished  # noqa: E402

KEY = ("T", "method", "seed")


def run_dir(grid: str, row: dict) -> str:
    return os.path.join(grid, "runs", f"T{row['T']}", row["method"], f"seed{row['seed']}")


def swap_in(src: str, dst: str) -> None:
    """Replace the folder ``dst`` by ``src``; ``dst.old`` holds the old run until the end (a
    call cut short before then is finished by the next)."""
    old = dst + ".old"
    if os.path.isdir(dst):
        if os.path.isdir(old):          # an earlier call stopped after moving dst aside
            shutil.rmtree(old)
        os.replace(dst, old)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    os.replace(src, dst)
    if os.path.isdir(old):
        shutil.rmtree(old)


def adopt(rerun: str, into: str, transfer: str | None = None, log=print) -> list:
    """Adopt every finished rerun of ``rerun`` into the grid ``into``; return their keys.
    ``transfer``: ``transfer_long.py``'s results file, whose rows of a replaced model go."""
    with open(os.path.join(rerun, "results.json"), encoding="utf-8") as f:
        rows = json.load(f)["runs"]
    res = Results(into, _settings(into), KEY)
    adopted = []
    for row in rows:
        src, dst = run_dir(rerun, row), run_dir(into, row)
        key = tuple(row[k] for k in KEY)
        if not os.path.isdir(src):          # adopted by an earlier call
            if os.path.isdir(dst + ".old"):     # which stopped before removing the old run
                shutil.rmtree(dst + ".old")
            continue
        if not run_finished(src):
            log(f"T={key[0]} {key[1]} seed {key[2]}: still training; left where it is")
            continue
        if os.path.isdir(dst):
            _same_settings(src, dst)
        for folder in (src, dst):
            if holder(folder):
                raise SystemExit(f"{folder} is being written by another process: wait for it "
                                 "to finish, then adopt")
        # What described the old model goes first, then its row, then its folder: a call cut
        # short anywhere leaves src in place, and the next call does it all again.
        _drop_rows(os.path.join(into, "reproduced.json"), "rows", KEY, key)
        if transfer:
            _drop_rows(transfer, "runs", ("trained_T", "method", "seed"), key)
        res.add(row)
        swap_in(src, dst)
        adopted.append(key)
        log(f"T={key[0]} {key[1]} seed {key[2]}: adopted (final {row['final']:.3f})")
    return adopted


def _same_settings(src: str, dst: str) -> None:
    """A rerun trains the same model, task and training as the run it replaces."""
    a, b = read_config(src), read_config(dst)
    for part in ("model", "task", "train"):
        if a[part] != b[part]:
            diff = sorted(k for k in set(a[part]) | set(b[part])
                          if a[part].get(k) != b[part].get(k))
            raise SystemExit(f"{src} is not a rerun of {dst}: its {part} settings differ "
                             f"({', '.join(diff)}); rerun with the same settings")


def _drop_rows(path: str, field: str, fields: tuple, key: tuple) -> None:
    """Drop the rows of the JSON file ``path`` (its list ``field``) whose ``fields`` equal
    ``key``: the reproduction check of a replaced run (``check_reproduced.py`` checks the new
    one), or ``transfer_long.py``'s rows of a replaced model (its next call evaluates the new
    one)."""
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    kept = [r for r in doc[field] if tuple(r[k] for k in fields) != key]
    if len(kept) != len(doc[field]):
        doc[field] = kept
        atomic_write_text(path, json.dumps(doc, indent=1) + "\n")


def _settings(into: str) -> dict:
    path = os.path.join(into, "results.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f).get("settings", {})


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "),
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--rerun", default=os.path.join(HERE, "results", "paper_copy_rerun"),
                   help="the reruns: paper_copy.py's --out")
    p.add_argument("--into", default=os.path.join(HERE, "results", "paper_copy"),
                   help="the grid whose runs they replace")
    p.add_argument("--transfer", default=os.path.join(HERE, "results", "transfer_long",
                                                      "results.json"),
                   help="transfer_long.py's results: the rows of a replaced model go")
    args = p.parse_args(argv)
    for name in ("rerun", "into"):
        if not os.path.exists(os.path.join(getattr(args, name), "results.json")):
            p.error(f"argument --{name}: {getattr(args, name)} holds no results.json: accepted "
                    "values are a paper_copy.py --out folder")
    adopted = adopt(args.rerun, args.into, args.transfer)
    if adopted:
        import paper_copy               # table.md and the figure, from the new rows
        paper_copy.main(["--out", args.into, "--plot-only"])
        print(f"{len(adopted)} run(s) adopted; now check them with experiments/check_reproduced.py")
        for T in sorted({k[0] for k in adopted if k[1] == "sab"}):   # the diagnosis measures
            seeds = " ".join(sorted(str(k[2]) for k in adopted if k[:2] == (T, "sab")))
            print("and measure the new final models: python experiments/diagnose_paper_copy.py "
                  f"--T {T} --seeds {seeds} --out experiments/results/diagnosis/paper_copy_T{T}")
    else:
        print("nothing to adopt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
