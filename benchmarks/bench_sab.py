"""SAB training step: minisab against the PyTorch autograd SAB of torch_sab.py.

Model: topk attention, mlp scorer, A=64, k_top=5, k_att=2, k_trunc=5, method sab; B=64, I=10,
C=10, H=128. One step = forward, cross-entropy, backward. Timed in alternation, same threads.

    python benchmarks/bench_sab.py                       # T=120 and T=320, float32 and float64
    python benchmarks/bench_sab.py --T 120 --dtypes float32 --repeats 9
    python benchmarks/bench_sab.py --backend cupy        # on a GPU (torch then runs on cuda)
"""
from __future__ import annotations

import argparse

import _common as C  # noqa: I001  (threads, timing and load for every script)
import numpy as np

from minisab.config import Config
from minisab.params import init_params, params_to_host
try:
    from minisab.fast import loss_and_grads
except ImportError:                                  # a checkout from before minisab/fast/
    from minisab.sab import loss_and_grads


def sab_config(I=10, H=128, Cn=10, dtype="float32", A=64, k_top=5, k_att=2, k_trunc=5):
    return Config(input_size=I, hidden_size=H, output_size=Cn, attention="topk", scorer="mlp",
                  attn_size=A, k_top=k_top, k_att=k_att, method="sab", k_trunc=k_trunc,
                  dtype=dtype)


def make_problem(cfg, B, T, backend, seed=0):
    be = C.get_backend(backend)
    params = init_params(cfg, seed=seed, backend=be)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, T, cfg.input_size))
    targets = rng.integers(0, cfg.output_size, size=(B, T))
    return be, params, x, targets


def minisab_step(cfg, B, T, backend, seed=0):
    be, params, x, targets = make_problem(cfg, B, T, backend, seed)
    x, targets = be.asarray(x, dtype=cfg.dtype), be.asarray(targets)
    return lambda: loss_and_grads(params, x, targets, cfg)


def torch_step(cfg, B, T, device, seed=0):
    import torch_sab
    torch = C.torch
    _, params, x, targets = make_problem(cfg, B, T, "numpy", seed)
    tdtype = getattr(torch, cfg.dtype)
    p = torch_sab.make_params(params_to_host(params), tdtype, device)
    x = torch.tensor(x, dtype=tdtype, device=device)
    targets = torch.tensor(targets, device=device)
    return lambda: torch_sab.train_step(p, x, targets, cfg)


def main(argv=None):
    p = C.add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    p.add_argument("--B", type=int, default=64)
    p.add_argument("--T", default="120,320", help="comma-separated sequence lengths")
    p.add_argument("--H", type=int, default=128)
    p.add_argument("--A", type=int, default=64, help="scorer size attn_size")
    p.add_argument("--k-att", type=int, default=2, help="write period k_att")
    p.set_defaults(repeats=5)
    a = p.parse_args(argv)
    C.set_threads(a.threads)
    sync = C.synchronizer(a.backend)
    print(f"# SAB training step (topk, mlp, A={a.A}, k_top=5, k_att={a.k_att}, k_trunc=5), B={a.B} "
          f"H={a.H} I=10 C=10, backend={a.backend}, repeats={a.repeats}")
    print("# " + C.load_line())
    print(f"{'T':>5} {'dtype':<8} {C.COLUMNS}")
    for T in (int(v) for v in a.T.split(",")):
        for dtype in a.dtypes.split(","):
            cfg = sab_config(H=a.H, dtype=dtype, A=a.A, k_att=a.k_att)
            fns = {"minisab": minisab_step(cfg, a.B, T, a.backend)}
            if C.torch is not None and not a.no_torch:
                fns["torch"] = torch_step(cfg, a.B, T, C.torch_device(a.backend))
            cpu = {}
            t = C.interleaved(fns, a.repeats, sync, cpu=cpu)
            print(f"{T:5d} {dtype:<8} {C.columns(t, cpu)}", flush=True)
    print("# " + C.load_line())


if __name__ == "__main__":
    main()
