"""Transfer at the paper's scale: copy-task models trained at T = 100, tested at T = 200 ... 5000.

Reads the models that ``paper_copy.py`` trained (``--runs``, default
``experiments/results/paper_copy/runs/T100``: one folder per method and seed) and evaluates each,
without retraining, at every ``--lengths``: the forward pass only, on ``--eval-batch`` held-out
sequences (the same for every model at a length) run ``--chunk`` at a time. For every
(model, length) it records the recall accuracy, the held-out loss, the wall time of the whole
evaluation, and the peak memory of one chunk's forward pass (tracemalloc, measured in a second,
traced pass over one chunk so that tracing does not slow the timed one). Writes, under ``--out``
(default ``experiments/results/transfer_long``):

- ``results.json``  one row per (method, seed, T);
- ``table.md``      recall, seconds and MiB per length;
- ``transfer.png``  recall accuracy against T (log scale), one line per model.

Resumable: rows already in ``results.json`` (same model and length) are not evaluated again.
Evaluations run side by side in ``--jobs`` worker processes, one BLAS thread each. The full run
(not run by the tests), after ``paper_copy.py``::

    python experiments/transfer_long.py --jobs 2

A smoke run: ``python experiments/transfer_long.py --smoke --runs /tmp/pc/runs/T6 --out /tmp/tl``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _grid import Results, log, parallel_map, save_figure, stopped  # noqa: E402


HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--runs", default=os.path.join(HERE, "results", "paper_copy", "runs", "T100"),
                   help="folder of <method>/seed<s>/ run folders (paper_copy.py)")
    p.add_argument("--lengths", type=int, nargs="+", default=[200, 500, 1000, 2000, 5000])
    p.add_argument("--eval-batch", type=int, default=256)
    p.add_argument("--chunk", type=int, default=32, help="sequences per forward pass")
    p.add_argument("--jobs", type=int, default=2, help="evaluations side by side")
    p.add_argument("--out", default=os.path.join(HERE, "results", "transfer_long"))
    p.add_argument("--plot-only", action="store_true")
    p.add_argument("--smoke", action="store_true", help="tiny lengths and batches")
    from minisab.train.settings import script_defaults
    script_defaults(p, argv, os.path.join(HERE, "configs", "transfer_long.toml"))
    if "--smoke" in (sys.argv[1:] if argv is None else argv):
        p.set_defaults(lengths=[8, 12], eval_batch=8, chunk=4)
    return p.parse_args(argv)


def models(runs_dir) -> list:
    """``(method, seed, run_dir)`` of every finished run under ``runs_dir`` (a run still
    training is left for a later call: its model is not the run's)."""
    from minisab.train.runs import run_finished
    out = []
    if not os.path.isdir(runs_dir):
        raise SystemExit(f"--runs {runs_dir!r} does not exist: train the models first "
                         "(python experiments/paper_copy.py)")
    for method in sorted(os.listdir(runs_dir)):
        for sd in sorted(os.listdir(os.path.join(runs_dir, method))):
            d = os.path.join(runs_dir, method, sd)
            if sd.startswith("seed") and run_finished(d):
                out.append((method, int(sd[4:]), d))
    return out


def params_digest(params) -> str:
    """SHA-256 of a model's parameters (names and bytes, host arrays): which model a row
    evaluated, so that a run trained again in the same folder is evaluated again."""
    import hashlib
    import numpy as np
    h = hashlib.sha256()
    for name in sorted(params):
        a = np.ascontiguousarray(params[name])
        h.update(f"{name}{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def evaluate_one(item) -> dict:
    """Forward-only evaluation of one model at one length: accuracy, time, peak MiB."""
    import tracemalloc

    from minisab.backend import host_rng
    from minisab.train.checkpoint import load_checkpoint
    from minisab.train.runs import load_run
    from minisab.train import evaluate
    method, seed, run_dir, T, eval_batch, chunk = item
    cfg, task, params = load_run(run_dir)
    ckpt = load_checkpoint(os.path.join(run_dir, "checkpoint.npz"))
    trained_steps, digest = int(ckpt["meta"]["step"]), params_digest(ckpt["params"])
    long = task.at_length(T)
    batch = long.sample_eval(host_rng([T, 3]), eval_batch)     # the same for every model
    log(f"eval {method} seed={seed} at T={T}")
    # The 1-minute load average at the start: the wall time is only comparable at a like load.
    load = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    t0 = time.perf_counter()
    ev = evaluate(params, cfg, long, batch, chunk=chunk)
    seconds = time.perf_counter() - t0
    one = tuple(a[:chunk] for a in batch)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        evaluate(params, cfg, long, one, chunk=chunk)
        peak = tracemalloc.get_traced_memory()[1] / 2 ** 20
    finally:
        tracemalloc.stop()
    return {"method": method, "seed": seed, "T": T, "trained_T": task.T,
            "trained_steps": trained_steps, "model": cfg.to_dict(),
            "params_sha256": digest, "accuracy": ev["accuracy"],
            "loss": ev["loss"], "eval_batch": eval_batch, "chunk": chunk,
            "seconds": round(seconds, 2), "load_before": load,
            "peak_mib_per_chunk": round(peak, 3),
            "chance": task.chance}


def table(rows) -> str:
    Ts = sorted({r["T"] for r in rows})
    lines = ["| method | seed | trained at T | " + " | ".join(
        f"T={T}: recall / s / MiB" for T in Ts) + " |", "|" + "---|" * (3 + len(Ts))]
    for (m, s) in sorted({(r["method"], r["seed"]) for r in rows}):
        rs = {r["T"]: r for r in rows if (r["method"], r["seed"]) == (m, s)}
        any_r = next(iter(rs.values()))
        cells = [f"{rs[T]['accuracy']:.3f} / {rs[T]['seconds']:.0f} / "
                 f"{rs[T]['peak_mib_per_chunk']:.0f}" if T in rs else "—" for T in Ts]
        lines.append(f"| {m} | {s} | {any_r['trained_T']} | " + " | ".join(cells) + " |")
    r0 = rows[0] if rows else None
    if r0:
        lines.append(f"\nrecall accuracy on {r0['eval_batch']} held-out sequences; seconds for "
                     f"all of them (forward only, {r0['chunk']} at a time, one thread); MiB: "
                     "peak memory of one chunk's forward pass (tracemalloc)")
    return "\n".join(lines) + "\n"


def plot(rows, path) -> None:
    from minisab.plots import method_color, new_figure, style_axes
    fig, ax = new_figure()
    for i, (m, s) in enumerate(sorted({(r["method"], r["seed"]) for r in rows})):
        rs = sorted((r for r in rows if (r["method"], r["seed"]) == (m, s)), key=lambda r: r["T"])
        ax.plot([r["T"] for r in rs], [r["accuracy"] for r in rs], marker="o",
                color=method_color(m, i), label=f"{m} seed {s}")
    if rows:
        ax.axhline(rows[0]["chance"], color="grey", linestyle=":", linewidth=1, label="chance")
    ax.set_xscale("log")
    style_axes(ax, title="copy task: trained at one length, tested at longer ones",
               xlabel="T at test", ylabel="held-out recall accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=7, frameon=False)
    save_figure(fig, path)


def main(argv=None) -> int:
    args = parse_args(argv)
    res = Results(args.out, {k: v for k, v in vars(args).items() if k not in ("plot_only",)},
                  ("method", "seed", "T"))

    def write():
        from minisab.train.checkpoint import atomic_write_text
        res.save()
        atomic_write_text(os.path.join(args.out, "table.md"), table(res.rows))
        plot(res.rows, os.path.join(args.out, "transfer.png"))

    if not args.plot_only:
        from minisab.train.checkpoint import load_checkpoint
        todo = []
        for method, seed, d in models(args.runs):
            ckpt = load_checkpoint(os.path.join(d, "checkpoint.npz"))
            meta, digest = ckpt["meta"], params_digest(ckpt["params"])
            for T in args.lengths:
                old = [r for r in res.rows if (r["method"], r["seed"], r["T"]) == (method, seed, T)]
                if old and old[0]["model"] == meta["model"] and \
                        old[0]["trained_steps"] == meta["step"] and \
                        old[0]["eval_batch"] == args.eval_batch and \
                        old[0].get("params_sha256", digest) == digest:
                    continue                                       # evaluated already
                todo.append((method, seed, d, T, args.eval_batch, args.chunk))
        # Longest lengths first: they take longest, so the pool ends with short jobs.
        todo.sort(key=lambda it: -it[3])

        def done(row):
            res.add(row)
            write()
            log(f"done {row['method']} seed={row['seed']} T={row['T']}: recall "
                f"{row['accuracy']:.3f}, {row['seconds']} s, {row['peak_mib_per_chunk']} MiB")
        try:
            parallel_map(evaluate_one, todo, args.jobs, done)
        except KeyboardInterrupt as e:
            return stopped(e, "the evaluations that finished are in results.json")
    write()
    print(table(res.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
