"""SAB at long sequences: peak memory and backward time per step.

Each measurement runs in a fresh subprocess, so peak memory (ru_maxrss, and NumPy's own
allocations through tracemalloc) belongs to that one model and length alone. Model: topk, mlp,
A=64, k_top=5, k_att=2, k_trunc=5, B=64, H=128, I=C=10. The backward walks every step but
touches only the k_top+1 memories each step read, so its time per step should not grow with T.

    python benchmarks/bench_scale.py                         # minisab at T = 120, 320, 1020
    python benchmarks/bench_scale.py --torch-T 120,320,520   # PyTorch autograd SAB peak memory
    python benchmarks/bench_scale.py --backend cupy          # GPU (peak from CuPy's pool)
    python benchmarks/bench_scale.py --sparsifier topk_sparsemax  # a bounded sparsifier
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def child(args):
    """Runs inside the subprocess: one length, one library; prints a JSON line."""
    import resource
    import time
    import tracemalloc

    sys.path.insert(0, HERE)
    import _common as C
    import bench_sab as bs
    C.set_threads(args.threads)
    cfg = bs.sab_config(H=args.H, dtype=args.dtype).replace(sparsifier=args.sparsifier)
    T, B = int(args.T), args.B
    sync = C.synchronizer(args.backend)
    out = {"lib": args.lib, "T": T, "dtype": args.dtype, "sparsifier": args.sparsifier}
    if args.lib == "torch":
        step = bs.torch_step(cfg, B, T, C.torch_device(args.backend))
        t0 = time.perf_counter()
        step()
        sync()
        out["step_s"] = time.perf_counter() - t0
    else:
        from minisab.losses import LOSSES
        from minisab.fast import backward, forward, loss_forward
        be, params, x, targets = bs.make_problem(cfg, B, T, args.backend)
        x, targets = be.asarray(x, dtype=cfg.dtype), be.asarray(targets)
        tracemalloc.start()
        fwd, bwd = [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            y, cache = forward(params, x, cfg)
            loss, l_cache = loss_forward(y, targets, cfg)
            dy = LOSSES[cfg.loss].backward(l_cache)
            sync()
            t1 = time.perf_counter()
            backward(dy, cache, params)
            sync()
            t2 = time.perf_counter()
            fwd.append(t1 - t0)
            bwd.append(t2 - t1)
            del y, cache, dy, l_cache
        out["tracemalloc_peak_MB"] = tracemalloc.get_traced_memory()[1] / 2**20
        out.update(fwd_s=min(fwd), bwd_s=min(bwd), bwd_ms_per_step=min(bwd) / T * 1e3)
        if args.backend == "cupy":
            import cupy
            out["gpu_pool_MB"] = cupy.get_default_memory_pool().total_bytes() / 2**20
    out["maxrss_MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(out), flush=True)


def run_child(lib, T, a):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--lib", lib, "--T", str(T),
           "--B", str(a.B), "--H", str(a.H), "--dtype", a.dtype, "--backend", a.backend,
           "--repeats", str(a.repeats), "--threads", str(a.threads),
           "--sparsifier", a.sparsifier]
    p = subprocess.run(cmd, capture_output=True, text=True)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"lib": lib, "T": T, "error": (p.stderr.strip().splitlines() or ["?"])[-1]}


def main(argv=None):
    from minisab.config import SPARSIFIERS
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--T", default="120,320,1020")
    p.add_argument("--torch-T", default="", help="lengths for the PyTorch SAB (memory grows as T²)")
    p.add_argument("--B", type=int, default=64)
    p.add_argument("--H", type=int, default=128)
    p.add_argument("--dtype", default="float32")
    p.add_argument("--backend", default="numpy", choices=["numpy", "cupy", "strict"])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1,
                   help="threads for NumPy's BLAS and for PyTorch (default 1; 0 = defaults)")
    p.add_argument("--sparsifier", default="threshold", choices=list(SPARSIFIERS),
                   help="weights of the topk attention (minisab/sparsifiers.py; torch rows "
                        "always use docs/model.md's threshold sparsifier)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--lib", default="minisab", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        return child(a)
    sys.path.insert(0, HERE)
    import _common as C
    C.set_threads(a.threads)
    print(f"# SAB scale: B={a.B} H={a.H} {a.dtype}, backend={a.backend}, repeats={a.repeats}, "
          f"sparsifier={a.sparsifier} "
          "(each row a fresh subprocess)")
    print("# " + C.load_line())
    print(f"{'lib':<8} {'T':>5} {'fwd (s)':>8} {'bwd (s)':>8} {'bwd ms/step':>11} "
          f"{'tracemalloc peak MB':>19} {'maxrss MB':>9}")
    base = None
    for T in (int(v) for v in a.T.split(",") if v):
        r = run_child("minisab", T, a)
        if "error" in r:
            print(f"minisab  {T:5d}  failed: {r['error']}")
            continue
        base = base or r["bwd_ms_per_step"]
        print(f"minisab  {T:5d} {r['fwd_s']:8.2f} {r['bwd_s']:8.2f} {r['bwd_ms_per_step']:11.2f} "
              f"{r['tracemalloc_peak_MB']:19.0f} {r['maxrss_MB']:9.0f}   "
              f"(bwd/step vs first row: {r['bwd_ms_per_step'] / base:.2f}x)", flush=True)
    for T in (int(v) for v in a.torch_T.split(",") if v):
        r = run_child("torch", T, a)
        if "error" in r:
            print(f"torch    {T:5d}  failed: {r['error']}")
            continue
        print(f"torch    {T:5d} {'step':>8} {r['step_s']:8.2f} {'':>11} {'':>19} "
              f"{r['maxrss_MB']:9.0f}", flush=True)
    print("# " + C.load_line())


if __name__ == "__main__":
    main()
