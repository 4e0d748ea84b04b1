"""Pixel-by-pixel digits: SAB against truncated and full BPTT on real images.

The task (minisab/train/datasets.py): an 8×8 UCI digit read one pixel a step (T = 64), its class
predicted at the last step only, so the one loss must reach the first pixels; ``--tasks
pdigits`` reads the pixels in a fixed random order, ``fashion`` reads Fashion-MNIST at
``--image-size`` (T = 196 or 49) from ``--data-dir``. Trains every (task, method, seed) with
minisab's training loop and writes, under ``--out`` (default ``experiments/results/digits``):

- ``runs/<task>/<method>/seed<s>/`` the run folders (not in git);
- ``results.json``                one row per run: the learning curve (step, wall time, test
                                  accuracy, test loss), final and best accuracy, the step and
                                  time at which 50%, 90% and 99% accuracy were first reached;
- ``table.md``                    the table of ``results.json``;
- ``learning_curves.png``         test accuracy against step and against wall time.

Methods (``_method_grid.py``, docs/model.md §4): ``sab`` (without mental updates, as ``compare``
trains it), ``sab-mental``, ``tbptt``, ``bptt``, ``softmax`` (where one step fits ``--max-mib``).

Settings: ``experiments/configs/digits.toml`` (the digits and permuted digits) and
``fashion.toml`` (``--config experiments/configs/fashion.toml``): every option's default comes
from the file (minisab/train/settings.py), and ``python -m minisab train --config FILE`` trains the
file's SAB run alone. Options given on the command line win over the file.

Resumable, with runs side by side in ``--jobs`` worker processes (``_method_grid.py``). The
full grid (not run by the tests)::

    python experiments/digits.py --jobs 2
    python experiments/digits.py --config experiments/configs/fashion.toml --jobs 2

A smoke run at tiny sizes: ``python experiments/digits.py --smoke --out /tmp/dg``.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _method_grid as grid  # noqa: E402


def parse_args(argv=None):
    p = grid.parser(__doc__)
    p.add_argument("--tasks", nargs="+", default=["digits"],
                   choices=["digits", "pdigits", "fashion"])
    p.add_argument("--data-dir", default=None, help="fashion: folder of the IDX files")
    p.add_argument("--image-size", type=int, default=14, choices=[14, 7, 28],
                   help="fashion: image side")
    grid.add_method_arguments(p, methods=["sab", "tbptt", "bptt"], seeds=[0, 1, 2], steps=3000)
    grid.add_training_arguments(
        p, model={"hidden_size": 64, "attn_size": 32, "k_top": 5, "k_att": 4, "k_trunc": 8},
        lr=3e-3, eval_every=100, eval_batch=360, out="digits",
        eval_batch_help="test images per evaluation (360: all the digits' test set)",
        target_help="stop a run once its test accuracy reaches this",
        smoke="tiny sizes (H=8, 4 steps, 16 test images) to check the script")
    return grid.parse_grid_args(p, argv, dict(steps=4, hidden_size=8, attn_size=4, eval_every=2,
                                              eval_batch=16, batch=4, seeds=[0]),
                                os.path.join(grid.CONFIGS, "digits.toml"))


def task_spec(args, name) -> dict:
    if name != "fashion":
        return {"name": name, "T": None}
    return {"name": name, "T": None, "data_dir": args.data_dir, "image_size": args.image_size}


def points(args) -> list:
    return [grid.make_point(args, {"task": name}, name, task_spec(args, name), m, seed)
            for seed in args.seeds          # seeds outermost: a cut grid has every method
            for name in args.tasks for m in args.methods]


def main(argv=None) -> int:
    args = parse_args(argv)
    g = grid.Grid(field="task", label="{}", value="test acc", level="acc",
                  ylabel="test accuracy (last step)", title=lambda n: f"{n}, pixel by pixel")
    return grid.main(args, g, points(args))


if __name__ == "__main__":
    sys.exit(main())
