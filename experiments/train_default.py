"""The README's first training command, recorded: ``python -m minisab train`` with no options.

Runs the command as a new user would (in a scratch runs folder, so nothing here is touched),
times it, and writes ``experiments/results/train_default/results.json``: the command, the date,
the wall time, the 1-minute load average before and after (``os.getloadavg``), the held-out
accuracy and loss it ends at, the machine that made it (``minisab.provenance``: BLAS, kernel,
threads, versions), and whether it ends where ``compare``'s SAB at seed 0 ends in the main job
(``experiments/results/main_job/results.json``): the same settings, so on the same BLAS kernel
the same bits. Its ``summary.md`` is kept beside it. ``python scripts/report.py`` writes the
README's block from the file. About a minute on 2 cores::

    python experiments/train_default.py
"""
from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "experiments", "results", "train_default")
MAIN_JOB = os.path.join(ROOT, "experiments", "results", "main_job", "results.json")
COMMAND = ["python", "-m", "minisab", "train"]


def main() -> int:
    sys.path.insert(0, ROOT)
    from minisab.checkpoint import atomic_write_text
    from minisab.provenance import machine
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [ROOT] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))}
        load_before = os.getloadavg()[0]
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-m", "minisab", "train", "--no-progress"],
                           cwd=tmp, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        load_after = os.getloadavg()[0]
        if p.returncode != 0:
            print(p.stdout, p.stderr, file=sys.stderr)
            return p.returncode
        run = os.path.join(tmp, "runs", "copy-sab")
        with open(os.path.join(run, "metrics.jsonl"), encoding="utf-8") as f:
            last = [json.loads(line) for line in f if line.strip()][-1]
        with open(os.path.join(run, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        os.makedirs(OUT, exist_ok=True)
        shutil.copyfile(os.path.join(run, "summary.md"), os.path.join(OUT, "summary.md"))
    with open(MAIN_JOB, encoding="utf-8") as f:
        ref = next(r for r in json.load(f) if r["label"] == "sab" and r["seed"] == 0)
    doc = {"command": " ".join(COMMAND), "date": datetime.date.today().isoformat(),
           "wall_s": round(wall, 1), "load_average_start": load_before,
           "load_average_end": load_after, "niceness": os.nice(0),
           "printed": p.stdout.strip().replace(tmp, "."),
           "step": last["step"], "accuracy": last["accuracy"], "loss": last["loss"],
           "training_s": last["time"], "model": config["model"], "task": config["task"],
           "train": config["train"], "machine": machine(),
           "main_job_sab_seed0": {"accuracy": ref["accuracy"], "loss": ref["loss"],
                                  "same_bits": ref["loss"] == last["loss"]
                                  and ref["accuracy"] == last["accuracy"]}}
    atomic_write_text(os.path.join(OUT, "results.json"), json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT}: accuracy {doc['accuracy']:.3f} after {doc['wall_s']} s; the main "
          f"job's SAB at seed 0: {ref['accuracy']:.3f} (same bits: "
          f"{doc['main_job_sab_seed0']['same_bits']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
