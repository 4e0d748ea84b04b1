"""A training command the README shows, measured: what it reaches today and how long it takes.

Runs ``python -m minisab train OPTIONS --no-progress`` as a user would (in a scratch runs
folder, so nothing here is touched), times it, and writes
``experiments/results/train_commands/NAME.json``: the command, the date, the wall time, the
1-minute load average before and after, the niceness, the held-out metric and loss it ends at,
its training time, its model, task and training, the machine that made it
(``minisab.train.provenance``), and, with ``--ref FILE:TASK:METHOD``, the seed-0 row of a results file
it trains the settings of, and whether it ended at the same bits. ``--from-run DIR`` records a
run folder made before by the same command instead of training again (no wall time then).
``python scripts/report.py`` writes the README's blocks from these files::

    python experiments/measure_train.py default --ref experiments/results/main_job/results.json::sab
    python experiments/measure_train.py digits_sab \\
        --ref experiments/results/digits/results.json:digits:sab \\
        -- --config experiments/configs/digits.toml

(``default`` is ``python -m minisab train`` with no options; ``pdigits_bptt`` and
``text_tbptt`` are the README's other commands, the same way.)
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "experiments", "results", "train_commands")


def _last(run):
    with open(os.path.join(run, "metrics.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()][-1]


def _reference(spec):
    """The seed-0 row of ``FILE:TASK:METHOD`` (TASK empty: a file without tasks)."""
    path, task, method = spec.rsplit(":", 2)
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        doc = json.load(f)
    rows = doc["runs"] if isinstance(doc, dict) else doc
    row = next(r for r in rows if r.get("seed") == 0 and (r.get("method") or r.get("label"))
               == method and (not task or r.get("task") == task))
    final = row["final"] if "final" in row else row["accuracy"]
    return {"file": path, "task": task or None, "method": method, "seed": 0, "final": final,
            "loss": row["curve"][-1][3] if "curve" in row else row["loss"],
            "training_s": row.get("wall_s", row.get("time"))}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("name", help="the results file's name under experiments/results/train_commands/")
    p.add_argument("--ref", default=None, help="FILE:TASK:METHOD of the row it reproduces")
    p.add_argument("--from-run", default=None, help="record this run folder, do not train")
    p.add_argument("--note", default=None, help="how a --from-run folder was made (load, nice)")
    argv = sys.argv[1:] if argv is None else list(argv)
    cut = argv.index("--") if "--" in argv else len(argv)      # train's options come after --
    args = p.parse_args(argv[:cut])
    args.options = argv[cut + 1:]
    sys.path.insert(0, ROOT)
    from minisab.train.checkpoint import atomic_write_text
    from minisab.train.provenance import machine
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [ROOT] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))}
    with tempfile.TemporaryDirectory() as tmp:
        wall = load_before = load_after = printed = None
        if args.from_run:
            run = args.from_run
        else:
            load_before = os.getloadavg()[0]
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "minisab", "train", *args.options,
                                   "--no-progress", "--runs-dir", os.path.join(tmp, "runs")],
                                  cwd=ROOT, env=env, capture_output=True, text=True)
            wall, load_after = round(time.perf_counter() - t0, 1), os.getloadavg()[0]
            if proc.returncode != 0:
                print(proc.stdout, proc.stderr, file=sys.stderr)
                return proc.returncode
            printed = proc.stdout.strip().replace(tmp + "/", "")
            (run,) = [os.path.join(tmp, "runs", d) for d in os.listdir(os.path.join(tmp, "runs"))]
        last = _last(run)
        with open(os.path.join(run, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        os.makedirs(OUT, exist_ok=True)
        shutil.copyfile(os.path.join(run, "summary.md"), os.path.join(OUT, f"{args.name}.md"))
    metric = next(k for k in ("accuracy", "bpc", "mse") if k in last)
    doc = {"command": " ".join(["python -m minisab train", *args.options]),
           "date": datetime.date.today().isoformat(), "wall_s": wall,
           "load_average_start": load_before, "load_average_end": load_after,
           "niceness": None if args.from_run else os.nice(0), "printed": printed, "step": last["step"], "metric": metric,
           "final": last[metric], "loss": last["loss"], "training_s": last["time"],
           "model": config["model"], "task": config["task"], "train": config["train"],
           "machine": config.get("machine") or machine()}
    if args.from_run:
        doc["note"] = (f"recorded from a run folder made by: {config.get('command')}"
                       + (f"; {args.note}" if args.note else ""))
    if args.ref:
        ref = _reference(args.ref)
        ref["same_bits"] = ref["final"] == doc["final"] and ref["loss"] == doc["loss"]
        doc["reference"] = ref
    atomic_write_text(os.path.join(OUT, f"{args.name}.json"), json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT}/{args.name}.json: {metric} {doc['final']:.4g}"
          + (f" (the results file's row: {doc['reference']['final']:.4g})" if args.ref else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
