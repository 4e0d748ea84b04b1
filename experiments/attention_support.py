"""How many memories the trained SAB models read: the support of the attention weights.

For every finished run of a make_sab_learn grid (``<out>/runs/T<T>/<method>/seed<s>/``) with
top-k attention, one forward pass on 64 held-out copy sequences (the seeds of the grid's
end-of-run diagnosis) records the weights α of every step, and this script reports

- ``support``: the mean number of memories with non-zero weight per step and sequence;
- ``one_memory``: the share of (step, sequence) pairs where a single memory has all the weight
  (sparsemax's Jacobian is then exactly 0: no gradient reaches the scores);
- ``null_all``: the share where the null memory has all the weight ("recall nothing").

Writes ``<out>/support.json`` and ``<out>/support.md`` atomically::

    python experiments/attention_support.py --out experiments/results/mental_updates
"""
from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")

from minisab.backend import get_backend, host_rng, to_host  # noqa: E402
from minisab.train.checkpoint import atomic_write_text  # noqa: E402
from minisab.train.runs import load_run  # noqa: E402
from minisab.fast import forward  # noqa: E402
from minisab.train.tasks import make_task  # noqa: E402


def measure(run_dir, T, seed, n_digits, n_symbols) -> dict:
    cfg, _, params = load_run(run_dir)[:3]
    task = make_task("copy", T, n_digits=n_digits, n_symbols=n_symbols)
    x, _, _ = task.sample_eval(host_rng([seed, 7]), 64)
    be = get_backend(None)
    _, cache = forward(params, be.asarray(x, dtype=cfg.dtype), cfg, record=True)
    attn = to_host(cache["record"]["attn"])                        # (T, B, n_max), zero-padded
    nz = (attn > 0).sum(axis=2)
    return {"support": float(nz.mean()), "one_memory": float((nz == 1).mean()),
            "null_all": float((attn[:, :, 0] >= 1 - 1e-6).mean())}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                 "results", "mental_updates"))
    a = p.parse_args(argv)
    with open(os.path.join(a.out, "results.json"), encoding="utf-8") as f:
        doc = json.load(f)
    st = doc["settings"]
    rows = []
    for r in sorted(doc["runs"], key=lambda r: (r["T"], r["method"], r["seed"])):
        run_dir = os.path.join(a.out, "runs", f"T{r['T']}", r["method"], f"seed{r['seed']}")
        if r.get("source") or "diagnosis" not in r or not os.path.isdir(run_dir):
            continue                    # copied rows (their runs live elsewhere), plain LSTMs
        cfg = load_run(run_dir)[0]
        if cfg.attention != "topk":
            continue
        rows.append({"T": r["T"], "method": r["method"], "seed": r["seed"],
                     "final_acc": r["final_acc"],
                     **measure(run_dir, r["T"], r["seed"], st["n_digits"], st["n_symbols"])})
    lines = ["| T | method | seed | final acc | memories read (mean) | one memory has all | "
             "null memory has all |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['T']} | {r['method']} | {r['seed']} | {r['final_acc']:.2f} | "
              f"{r['support']:.2f} | {r['one_memory']:.2f} | {r['null_all']:.2f} |" for r in rows]
    atomic_write_text(os.path.join(a.out, "support.json"), json.dumps(rows, indent=1) + "\n")
    atomic_write_text(os.path.join(a.out, "support.md"), "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
