"""Where the time of minisab's plain LSTM training step goes: its parts, timed in
alternation in one process, one thread, with the page faults each part takes.

    python benchmarks/bench_lstm_parts.py            # B=64 I=10 C=10 H=128 T=120, float32+float64

Parts: the whole step (``loss_and_grads``), the forward (``sab.forward``), the loss and its
gradient, the backward (``sab.backward``), and the step's matrix products alone
(``bench_lstm.gemm_floor``). "faults" is the median number of minor page faults of one call
(``getrusage``): memory that the C library handed back to the operating system and that the
call touches again, one page at a time. The line "step, alone in a loop" runs the step
``repeats`` times in a row first, as a training loop does, before anything else has run in
that dtype: its faults and system (kernel) time per step are what a training run pays.
"""
from __future__ import annotations

import argparse
import resource
import statistics

import _common as C  # noqa: I001  (threads, timing and load for every script)
import numpy as np

from bench_lstm import gemm_floor
from minisab.config import Config
from minisab.losses import LOSSES
from minisab.params import init_params
from minisab.fast import backward, forward, loss_and_grads, loss_forward


def problem(B, T, I, H, Cn, dtype, seed=0):
    cfg = Config(input_size=I, hidden_size=H, output_size=Cn, attention=None, method="bptt",
                 k_trunc=None, dtype=dtype)
    params = init_params(cfg, seed=seed)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, T, I)).astype(dtype)
    return cfg, params, x, rng.integers(0, Cn, size=(B, T))


def parts(B, T, I, H, Cn, dtype, seed=0):
    cfg, params, x, targets = problem(B, T, I, H, Cn, dtype, seed)
    y, cache = forward(params, x, cfg)
    dy = LOSSES[cfg.loss].backward(loss_forward(y, targets, cfg)[1])
    return {"step (loss_and_grads)": lambda: loss_and_grads(params, x, targets, cfg),
            "forward": lambda: forward(params, x, cfg),
            "loss and its gradient": lambda: LOSSES[cfg.loss].backward(loss_forward(y, targets, cfg)[1]),
            "backward": lambda: backward(dy, cache, params),
            "matrix products alone": gemm_floor(B, T, I, H, Cn, dtype, "numpy")}


def counting(fn, faults):
    def run():
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        fn()
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    return run


def main(argv=None):
    p = C.add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    a = C.add_lstm_sizes(p).parse_args(argv)
    C.set_threads(a.threads)
    print(f"# plain LSTM training step by parts, B={a.B} T={a.T} I={a.I} H={a.H} C={a.C}, "
          f"repeats={a.repeats}")
    print("# " + C.load_line())
    print(f"{'dtype':<8} {'part':<24} {'min (ms)':>9} {'median (ms)':>12} {'faults':>7}")
    for dtype in a.dtypes.split(","):
        cfg, params, x, targets = problem(a.B, a.T, a.I, a.H, a.C, dtype)
        alone = lambda params=params, x=x, targets=targets, cfg=cfg: loss_and_grads(  # noqa: E731
            params, x, targets, cfg)
        alone()
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        for _ in range(a.repeats):
            alone()
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        print(f"{dtype:<8} step, alone in a loop: {(r1.ru_minflt - r0.ru_minflt) / a.repeats:.0f} "
              f"page faults and {(r1.ru_stime - r0.ru_stime) / a.repeats * 1e3:.1f} ms of system "
              f"time per step, {(r1.ru_utime - r0.ru_utime) / a.repeats * 1e3:.1f} ms user time")
        fns = parts(a.B, a.T, a.I, a.H, a.C, dtype)
        faults = {name: [] for name in fns}
        t = C.interleaved({n: counting(f, faults[n]) for n, f in fns.items()}, a.repeats)
        for name in fns:
            lo, med = C.stats(t[name])
            print(f"{dtype:<8} {name:<24} {lo * 1e3:9.1f} {med * 1e3:12.1f} "
                  f"{statistics.median(faults[name][1:]):7.0f}")
    print("# " + C.load_line())


if __name__ == "__main__":
    main()
