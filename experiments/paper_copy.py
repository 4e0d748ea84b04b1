"""The paper's copy task: 10 digits of 8 symbols recalled after T = 100, 200 and 300 blanks.

Trains every (T, method, seed) with minisab's training loop and writes, under ``--out``
(default ``experiments/results/paper_copy``):

- ``runs/T<T>/<method>/seed<s>/`` the run folders (config.json, metrics.jsonl, checkpoint.npz;
                                  not in git); ``transfer_long.py`` reads the T=100 ones;
- ``results.json``                one row per run: the learning curve (step, wall time, recall
                                  accuracy, held-out loss), final and best recall, the step and
                                  time at which 50%, 90% and 99% recall were first reached;
- ``table.md``                    the table of ``results.json``;
- ``learning_curves.png``         recall accuracy against step and against wall time.

Methods (``_method_grid.py``, docs/model.md §4): ``sab`` (without mental updates, as ``compare``
trains it), ``sab-mental``, ``tbptt``, ``bptt``, ``softmax`` (where one step fits ``--max-mib``).
``--sparsifier`` (and ``--temperature``) sets the SAB methods' sparsifier (``Config.sparsifier``,
docs/derivations.md §6.3; default docs/model.md's ``threshold``).

Settings: ``experiments/configs/paper_copy.toml``, the ``paper`` preset of ``python -m
minisab compare`` (every option's default comes from it; options given win).

Resumable, with runs side by side in ``--jobs`` worker processes (``_method_grid.py``). The
full grid (not run by the tests)::

    python experiments/paper_copy.py --jobs 2

A smoke run at tiny sizes: ``python experiments/paper_copy.py --smoke --out /tmp/pc``.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _method_grid as grid  # noqa: E402


def parse_args(argv=None):
    p = grid.parser(__doc__)
    p.add_argument("--T", type=int, nargs="+", default=[100, 200, 300])
    grid.add_method_arguments(p, methods=["sab", "tbptt", "bptt", "softmax"], seeds=[0],
                              steps=20000)
    p.add_argument("--n-digits", type=int, default=10)
    p.add_argument("--n-symbols", type=int, default=8)
    grid.add_training_arguments(
        p, model={"hidden_size": 128, "attn_size": 64, "k_top": 5, "k_att": 2, "k_trunc": 5},
        lr=1e-3, eval_every=500, eval_batch=512, out="paper_copy",
        target_help="stop a run once its recall accuracy reaches this (e.g. 0.99)",
        smoke="tiny sizes (T=6, 2 digits, H=8, 4 steps) to check the script")
    return grid.parse_grid_args(p, argv, dict(T=[6], steps=4, n_digits=2, hidden_size=8,
                                              attn_size=4, eval_every=2, eval_batch=8, batch=4,
                                              seeds=[0]),
                                os.path.join(grid.CONFIGS, "paper_copy.toml"))


def task_spec(args, T) -> dict:
    return {"name": "copy", "T": T, "n_digits": args.n_digits, "n_symbols": args.n_symbols,
            "mask": "all"}


def points(args) -> list:
    return [grid.make_point(args, {"T": T}, f"T{T}", task_spec(args, T), m, seed)
            for seed in args.seeds          # seeds outermost: a cut grid has every method
            for T in args.T for m in args.methods]


def main(argv=None) -> int:
    args = parse_args(argv)
    g = grid.Grid(field="T", label="T={}", value="recall", level="recall",
                  ylabel="held-out recall accuracy",
                  title=lambda T: f"copy T={T}, {args.n_digits} digits of {args.n_symbols}")
    return grid.main(args, g, points(args))


if __name__ == "__main__":
    sys.exit(main())
