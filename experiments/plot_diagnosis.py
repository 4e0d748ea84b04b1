"""Figure of a ``python -m minisab diagnose --json`` trace: what happens at a loss spike.

Four panels against the training step: training loss, gradient norm before clipping (split
into the part that came through the scores into the states and the rest, for a trace made with
``--split-paths``), max|h| over the batch, and min Σã (the sparsifier's normaliser; ∂α/∂a ~ 1/(Σã + ε)). Several JSON
files are drawn on the same axes, labelled by their ``memory_write``/``lr`` (or ``--labels``).

    python experiments/plot_diagnosis.py OUT.png A.json [B.json ...] [--labels a b ...]

With ``--profile`` it draws instead the per-step profile of the final model (the JSON's
``profile``: max|h|, max|s|, min Σã and |∂L/∂a| along the sequence).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

from minisab.train.checkpoint import atomic_write
from minisab.plots import new_figure, style_axes

PANELS = [("loss", "training loss", True), ("grad_norm", "gradient norm (before clipping)", True),
          ("h_max", "max |h| in the batch", False),
          ("sum_tilde_min", "min Σã over steps and batch", True)]
PROFILE = [("h_max", "max |h_t| along the sequence", False),
           ("s_max", "max |s_t| (the memory read)", False),
           ("sum_tilde_min", "min Σã over the batch", True),
           ("g_score", "|∂L/∂a_t| (gradient into the scores)", True)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out")
    p.add_argument("inputs", nargs="+")
    p.add_argument("--labels", nargs="+", default=None)
    p.add_argument("--profile", action="store_true", help="per-step profile of the final model")
    args = p.parse_args(argv)
    panels = PROFILE if args.profile else PANELS
    fig, axes = new_figure(2, 2, size=(10, 6.5))
    for i, path in enumerate(args.inputs):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        tr = doc["profile"] if args.profile else doc["rows"][-1]["trace"]
        xs = np.arange(len(tr["h_max"])) if args.profile else np.asarray(tr["step"])
        label = (args.labels[i] if args.labels else
                 f"{doc['config'].get('memory_write', 'h')} ({os.path.basename(path)})")
        for ax, (key, title, log) in zip(np.asarray(axes).flat, panels):
            y = np.asarray(tr[key], dtype=float)
            if np.all(np.isnan(y)):
                continue
            if key == "grad_norm" and "grad_norm_score" in tr:
                # --split-paths traces: the two parts of the gradient, not their sum
                ax.plot(xs, np.asarray(tr["grad_norm_score"]), linewidth=0.8,
                        color="#D55E00", label="through the scores into the states")
                ax.plot(xs, np.asarray(tr["grad_norm_value"]), linewidth=0.8,
                        color="#0072B2", label="without them (detach_scores)")
                ax.legend(fontsize=8, frameon=False)
            else:
                ax.plot(xs, y, linewidth=0.8, label=label)
            if log:
                ax.set_yscale("log")
            style_axes(ax, title=title, xlabel="step t of the sequence" if args.profile
                       else "training step")
    np.asarray(axes).flat[0].legend(fontsize=8, frameon=False)
    atomic_write(args.out, lambda f: fig.savefig(f, format="png"))
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
