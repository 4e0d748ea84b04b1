"""Training-step time at the sizes students run: the main job's three models.

Times ``loss_and_grads`` (forward, loss, backward) for each model of ``python -m minisab
compare`` (preset ``cpu``: copy task, 3 digits, T=20 blanks, so 26 steps; B=32, H=64, A=32,
k_top=5, k_att=1, k_trunc=5, float32) and, as a second size, the tutorials' longer runs
(T=100 blanks, k_att=2). It uses only the oldest public API (``Config``, ``init_params``,
``loss_and_grads``), so the same script times an older checkout for a before/after::

    python benchmarks/bench_steps.py                                   # this checkout
    git worktree add /tmp/before <commit>
    PYTHONPATH=/tmp/before python benchmarks/bench_steps.py --label before
"""
from __future__ import annotations

import argparse

import _common as C  # noqa: I001  (threads, timing and load for every script)
import numpy as np

import minisab
from minisab.config import Config
from minisab.params import init_params
try:                                    # the fast engine (training's), where it exists
    from minisab.fast import loss_and_grads
except ImportError:                     # a checkout from before minisab/fast/
    from minisab.sab import loss_and_grads

MODELS = {"lstm bptt": {"attention": None, "method": "bptt"},
          "lstm tbptt": {"attention": None, "method": "tbptt"},
          "sab": {"attention": "topk", "method": "sab", "detach_scores": True}}


def problem(model, T_blank, k_att, B=32, H=64, A=32, n_digits=3, n_symbols=8, seed=0):
    """``(params, x, targets, cfg)`` of one model at the students' sizes (copy task, float32)."""
    T = T_blank + 2 * n_digits
    I = C_out = n_symbols + 2                      # one-hot: symbols, blank, marker
    cfg = Config(input_size=I, hidden_size=H, output_size=C_out, attn_size=A, k_top=5,
                 k_att=k_att, k_trunc=5, dtype="float32", **MODELS[model])
    params = init_params(cfg, seed=seed)
    rng = np.random.default_rng(seed)
    x = np.eye(I, dtype=np.float32)[rng.integers(0, I, size=(B, T))]
    targets = rng.integers(0, C_out, size=(B, T))
    return params, x, targets, cfg


def step_fn(model, T_blank, k_att, **sizes):
    params, x, targets, cfg = problem(model, T_blank, k_att, **sizes)
    return lambda: loss_and_grads(params, x, targets, cfg)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--label", default="this checkout")
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--threads", type=int, default=1,
                   help="threads for NumPy's BLAS (default 1; 0 = the default)")
    args = p.parse_args(argv)
    C.set_threads(args.threads)
    print(f"# training step (forward + backward), B=32 H=64 A=32 float32; {args.label}: "
          f"minisab from {minisab.__file__}")
    print("# " + C.load_line())
    print(f"{'model':<11} {'T (blanks)':>10} {'k_att':>5} {'min (ms)':>9} {'median (ms)':>11}")
    for T_blank, k_att in ((20, 1), (100, 2)):
        for model in MODELS:
            times = C.timeit(step_fn(model, T_blank, k_att), args.repeats, warmup=2)
            print(f"{model:<11} {T_blank:>10} {k_att:>5} {1e3 * min(times):9.2f} "
                  f"{1e3 * float(np.median(times)):11.2f}")
    print("# " + C.load_line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
