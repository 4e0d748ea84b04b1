"""Does the current minisab reproduce each finished paper-copy run? The first steps, retrained.

A run's numbers are only the current code's numbers if the current code gives the same run. Every
run folder of ``paper_copy.py`` holds its config and its held-out losses (``metrics.jsonl``); this
script retrains each finished run from its config for ``--steps`` steps in a temporary folder and
compares the held-out losses, bit for bit, with the original's
(``diagnose_paper_copy.first_difference``). A run trained by an earlier minisab, or with other BLAS
kernels, whose float32 rounding differed, parts from its retraining at some step: its numbers
stand as measured, but the current code would not give them bit for bit, and a retraining of it
(the diagnosis's trace) is another run with the same seed.

Only a retraining with the run's own BLAS kernel says anything about the code: a run whose
``config.json`` records another kernel for its first steps (its first start, ``segments``) than
this process's is skipped, and the script names the
``OPENBLAS_CORETYPE`` that checks it (``experiments/plan.json``'s ``blas_kernel``).

Writes ``--out`` (default ``experiments/results/paper_copy/reproduced.json``), one row per run,
atomically after each; resumable (a checked run is read back)::

    nice -n 19 python experiments/check_reproduced.py            # about 1 min per run
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from diagnose_paper_copy import first_difference  # noqa: E402

from minisab.train import TrainConfig, train  # noqa: E402
from minisab.train.checkpoint import atomic_write_text  # noqa: E402
from minisab.train.provenance import first_kernel, machine, openblas_kernel  # noqa: E402
from minisab.train.runs import load_run, read_config, run_finished  # noqa: E402


def check(run_dir, steps: int):
    """The first evaluation step at which ``steps`` retrained steps part from the run (None:
    the same run, bit for bit, over those steps)."""
    d = read_config(run_dir)
    cfg, task, _ = load_run(run_dir)
    with tempfile.TemporaryDirectory() as out:
        train(cfg, task, TrainConfig(**{**d["train"], "steps": steps}), out, resume=False,
              progress=False, log=lambda msg: None)
        return first_difference(run_dir, out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--runs", default=os.path.join(HERE, "results", "paper_copy", "runs"),
                   help="paper_copy.py's run folders: <runs>/T<T>/<method>/seed<s>/")
    p.add_argument("--steps", type=int, default=500, help="steps retrained per run")
    p.add_argument("--out", default=os.path.join(HERE, "results", "paper_copy", "reproduced.json"))
    args = p.parse_args(argv)
    if args.steps < 1:
        p.error(f"argument --steps: invalid value {args.steps}: accepted values are 1 or more")
    doc = {"steps": args.steps, "rows": []}
    if os.path.exists(args.out):
        with open(args.out, encoding="utf-8") as f:
            doc = json.load(f)
    have = {(r["T"], r["method"], r["seed"]) for r in doc["rows"]}
    here, other = openblas_kernel(machine()), []
    for t_dir in sorted(os.listdir(args.runs)):
        for method in sorted(os.listdir(os.path.join(args.runs, t_dir))):
            for sd in sorted(os.listdir(os.path.join(args.runs, t_dir, method))):
                run_dir = os.path.join(args.runs, t_dir, method, sd)
                key = (int(t_dir[1:]), method, int(sd[4:]))
                if key in have or not run_finished(run_dir):
                    continue
                kernel = first_kernel(read_config(run_dir))     # retraining: the first steps
                if kernel and here and kernel.lower() != here.lower():
                    other.append(kernel)
                    print(f"T={key[0]} {method} seed {key[2]}: not checked: trained with the "
                          f"{kernel} BLAS kernel, and this process has {here}", flush=True)
                    continue
                differs = check(run_dir, doc["steps"])
                doc["rows"].append({"T": key[0], "method": method, "seed": key[2],
                                    "differs_from_step": differs})
                atomic_write_text(args.out, json.dumps(doc, indent=1) + "\n")
                print(f"T={key[0]} {method} seed {key[2]}: "
                      + ("the same run" if differs is None else f"parts at step {differs}"),
                      flush=True)
    if other:
        print(f"{len(other)} run(s) not checked: run again with "
              + " or ".join(f"OPENBLAS_CORETYPE={k}" for k in sorted(set(other)))
              + " to check them", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
