"""Plain LSTM training step: minisab against PyTorch's fused nn.LSTM.

One step = forward over T steps, output layer, cross-entropy, full backward (all parameter
gradients). Both run in this process with the same thread count, timed in alternation.

    python benchmarks/bench_lstm.py                 # B=64 I=10 C=10 H=128 T=120, float32+float64
    python benchmarks/bench_lstm.py --backend cupy  # on a GPU (torch then runs on cuda)
"""
from __future__ import annotations

import argparse

import _common as C  # noqa: I001  (threads, timing and load for every script)
import numpy as np

from minisab.config import Config
from minisab.params import init_params
try:
    from minisab.fast import loss_and_grads
    from minisab.fast.ops import matmul_into
except ImportError:                                  # a checkout from before minisab/fast/
    from minisab.backend import matmul_into
    from minisab.sab import loss_and_grads


def minisab_step(B, T, I, H, Cn, dtype, backend, seed=0):
    be = C.get_backend(backend)
    cfg = Config(input_size=I, hidden_size=H, output_size=Cn, attention=None, method="bptt",
                 k_trunc=None, dtype=dtype)
    params = init_params(cfg, seed=seed, backend=be)
    rng = np.random.default_rng(seed)
    x = be.asarray(rng.standard_normal((B, T, I)), dtype=dtype)
    targets = be.asarray(rng.integers(0, Cn, size=(B, T)))
    return lambda: loss_and_grads(params, x, targets, cfg)


def gemm_floor(B, T, I, H, Cn, dtype, backend, seed=0):
    """Only the matrix products of minisab's LSTM step, none of the rest: a floor for its time.

    The products minisab's driver does (minisab/lstm.py, docs/derivations.md §4), with states
    as columns: per step ``Wᵀ u_t`` (4H, H+I+1) x (H+I+1, B) forward, ``W_h dz_t`` and the
    weight-gradient term ``u_t dz_tᵀ`` backward, and the output layer's three small products.
    PyTorch's fused LSTM does the same products (with its own BLAS), so this column says how
    much of minisab's step is BLAS.
    """
    be = C.get_backend(backend)
    rng = np.random.default_rng(seed)
    K = H + I + 1
    arr = lambda *shape: be.asarray(rng.standard_normal(shape), dtype=dtype)   # noqa: E731
    WT, W_h, U, W_y = arr(4 * H, K), arr(H, 4 * H), arr(T + 1, K, B), arr(H, Cn)
    G, dz, dW_t = arr(T, 4 * H, B), arr(4 * H, B), arr(K, 4 * H)
    dyT, dy = arr(T, Cn, B), arr(T, B, Cn)           # ∂L/∂y as columns, and per step

    def step():
        for t in range(T):
            matmul_into(WT, U[t], out=G[t])
        yT = W_y.T @ U[1:, :H]
        for t in range(T - 1, -1, -1):
            W_h @ dz
            matmul_into(U[t], dz.T, out=dW_t)
        return yT, W_y @ dyT, U[1:, :H] @ dy           # y, ∂L/∂h, ∂L/∂W_y (summed after)
    return step


def torch_step(B, T, I, H, Cn, dtype, device, seed=0):
    torch = C.torch
    torch.manual_seed(seed)
    tdtype = getattr(torch, dtype)
    lstm = torch.nn.LSTM(I, H, batch_first=True).to(device=device, dtype=tdtype)
    out_layer = torch.nn.Linear(H, Cn).to(device=device, dtype=tdtype)
    params = list(lstm.parameters()) + list(out_layer.parameters())
    x = torch.randn(B, T, I, dtype=tdtype, device=device)
    targets = torch.randint(0, Cn, (B, T), device=device)

    def step():
        for p in params:
            p.grad = None
        h, _ = lstm(x)
        loss = torch.nn.functional.cross_entropy(out_layer(h).reshape(B * T, Cn),
                                                 targets.reshape(B * T))
        loss.backward()
    return step


def main(argv=None):
    p = C.add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    a = C.add_lstm_sizes(p).parse_args(argv)
    C.set_threads(a.threads)
    sync = C.synchronizer(a.backend)
    print(f"# plain LSTM training step, B={a.B} T={a.T} I={a.I} H={a.H} C={a.C}, "
          f"backend={a.backend}, repeats={a.repeats}")
    print("# " + C.load_line())
    print(f"{'dtype':<8} {C.COLUMNS} {'GEMMs only min (ms)':>20}")
    for dtype in a.dtypes.split(","):
        fns = {"minisab": minisab_step(a.B, a.T, a.I, a.H, a.C, dtype, a.backend),
               "gemm": gemm_floor(a.B, a.T, a.I, a.H, a.C, dtype, a.backend)}
        if C.torch is not None and not a.no_torch:
            fns["torch"] = torch_step(a.B, a.T, a.I, a.H, a.C, dtype, C.torch_device(a.backend))
        cpu = {}
        t = C.interleaved(fns, a.repeats, sync, cpu=cpu)
        print(f"{dtype:<8} {C.columns(t, cpu)} {min(t['gemm']) * 1e3:20.1f}", flush=True)
    print("# " + C.load_line())


if __name__ == "__main__":
    main()
