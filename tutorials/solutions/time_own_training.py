"""How long does training the student's own code take, and does it learn? Run by hand (minutes).

Tutorials 2 and 4 end their exercises with a cell that trains the student's own code once it
passes (2: a plain LSTM with the student's BPTT and truncated BPTT loops; 4: the student's SAB
in one screen, and the same function without memories, which is truncated BPTT). This script
writes the reference solutions into the tutorials (``fill.py``), runs each at its default size
in a Jupyter kernel while ``--busy`` processes (default 2) spin beside it, times the training
cell, runs it again with ``OWN_SEED`` 1 and 2, and writes

- ``tutorials/solutions/own_training.json``: per tutorial, the seconds of each run of the cell,
  the final recall accuracies it printed per seed, the date, the machine's cores and load;
- the sentence after the marker ``<!-- own-training:tNN -->`` in each tutorial, from that file
  (``tests/test_tutorials.py`` checks that they agree), so nobody types these numbers.

    python tutorials/solutions/time_own_training.py            # both, about 5 minutes
    python tutorials/solutions/time_own_training.py --write     # only rewrite the sentences
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
RESULTS = HERE / "own_training.json"
NOTEBOOKS = {"t02": "02_bptt_and_truncation.ipynb", "t04": "04_sparse_attentive_backtracking.ipynb"}
SEEDS = (0, 1, 2)
LINE = re.compile(r"^(\S.*?)\s+recall accuracy ([0-9.]+) after (\d+) steps", re.M)


def measure(tutorial: str, busy: int) -> dict:
    from nbclient import NotebookClient

    import fill
    nb = fill.filled(ROOT / "tutorials" / NOTEBOOKS[tutorial])
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
    load_before = os.getloadavg()[0]
    runs = []
    try:
        client = NotebookClient(nb, kernel_name="python3", timeout=1800,
                                resources={"metadata": {"path": str(ROOT / "tutorials")}})
        env = {k: v for k, v in os.environ.items() if k != "MINISAB_SMOKE"}
        with client.setup_kernel(env=env):
            for i, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                if "OWN_SEED = 0" not in cell.source:
                    client.execute_cell(cell, i)
                    continue
                for seed in SEEDS:
                    cell.source = re.sub(r"OWN_SEED = \d+", f"OWN_SEED = {seed}", cell.source)
                    t0 = time.perf_counter()
                    client.execute_cell(cell, i)
                    text = "".join(o.get("text", "") for o in cell.outputs
                                   if o.get("output_type") == "stream")
                    runs.append({"seed": seed, "seconds": round(time.perf_counter() - t0, 1),
                                 "accuracy": {m.group(1): float(m.group(2))
                                              for m in LINE.finditer(text)}})
                break
    finally:
        for p in spinners:
            p.kill()
    return {"date": datetime.date.today().isoformat(), "cores": os.cpu_count(), "busy": busy,
            "load_before": round(load_before, 1), "load_after": round(os.getloadavg()[0], 1),
            "runs": runs}


def sentence(tutorial: str, result: dict) -> str:
    """The marked sentence of a tutorial, made from its measurement."""
    runs = result["runs"]
    labels = list(runs[0]["accuracy"])
    ranges = []
    for label in labels:
        values = [r["accuracy"][label] for r in runs]
        lo, hi = f"{min(values):.2f}", f"{max(values):.2f}"
        ranges.append(f"{label} {lo}" + ("" if lo == hi else f"–{hi}"))
    seconds = max(r["seconds"] for r in runs)
    return (f"<!-- own-training:{tutorial} --> When this was measured ({result['date']}, on a "
            f"{result['cores']}-core computer beside {result['busy']} busy processes, load "
            f"average {result['load_before']} at the start, with the "
            f"reference solution; `python tutorials/solutions/time_own_training.py`, "
            f"`tutorials/solutions/own_training.json`), the cell took at most {seconds:.0f} s, "
            f"and the final recall accuracies over seeds {SEEDS[0]}–{SEEDS[-1]} were "
            + "; ".join(ranges) + ".")


def write_sentences(results: dict) -> None:
    import nbformat

    from minisab.train.checkpoint import atomic_write_text
    for tutorial, name in NOTEBOOKS.items():
        path = ROOT / "tutorials" / name
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            if f"<!-- own-training:{tutorial} -->" in cell.source:
                cell.source = re.sub(rf"<!-- own-training:{tutorial} -->[^\n]*",
                                     sentence(tutorial, results[tutorial]), cell.source)
        atomic_write_text(path, nbformat.writes(nb) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--busy", type=int, default=2, help="busy processes beside the run")
    ap.add_argument("--write", action="store_true", help="only rewrite the sentences")
    args = ap.parse_args(argv)
    from minisab.train.checkpoint import atomic_write_text
    if not args.write:
        results = {t: measure(t, args.busy) for t in NOTEBOOKS}
        atomic_write_text(RESULTS, json.dumps(results, indent=1) + "\n")
    write_sentences(json.loads(RESULTS.read_text(encoding="utf-8")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
