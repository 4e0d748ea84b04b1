"""Elementwise forms of the scorer and the gates: cost per element and accuracy.

The mlp scorer evaluates ``a_j = w_s · tanh(q + K_j)`` over (B, n, A) every step. This script
times the form minisab uses against two exact rewrites that trade the ``tanh`` for cheaper
operations, on the scorer's own shape, timed in alternation with one thread:

- ``add+tanh``  (minisab): U = tanh(q + K) into a scratch buffer, then a = U w_s;
- ``exp-ident``: tanh x = 1 − 2/(1 + e^{2x}) and e^{2(q+k)} = e^{2q} e^{2k}, with E = e^{2K}
  stored when a memory is written: per step a product, an add and a reciprocal, then
  a = Σ w_s − 2 (1/(1 + e^{2q} E)) w_s;
- ``add-ident``: tanh(x + y) = (tanh x + tanh y) / (1 + tanh x tanh y), with tanh K stored.

and, for the LSTM gates on a (B, 4H) block, σ(z) = 1/(1 + e^{−z}) against (1 + tanh(z/2))/2.
Accuracy: the largest absolute difference of the scores from a float64 ``tanh`` reference.

    python benchmarks/bench_ops.py > benchmarks/results/ops.txt
"""
from __future__ import annotations

import argparse

import _common as C  # noqa: I001
import numpy as np


def scorer_forms(q, K, w):
    """The three forms as closures over preallocated buffers (in place, as minisab does)."""
    buf = np.empty_like(K)
    E = np.exp(2.0 * np.clip(K, -150.0, 150.0))         # stored at write time (not timed)
    tK = np.tanh(K)                                      # stored at write time (not timed)
    w_sum = w.sum()

    def add_tanh():
        np.add(q[:, None, :], K, out=buf)
        np.tanh(buf, out=buf)
        return buf @ w

    def exp_ident():
        e_q = np.exp(2.0 * np.clip(q, -150.0, 150.0))    # (B, A): small
        np.multiply(e_q[:, None, :], E, out=buf)
        np.add(buf, 1.0, out=buf)
        np.reciprocal(buf, out=buf)
        return w_sum - 2.0 * (buf @ w)

    def add_ident():
        t_q = np.tanh(q)[:, None, :]
        num = t_q + tK
        np.multiply(t_q, tK, out=buf)
        np.add(buf, 1.0, out=buf)
        np.divide(num, buf, out=buf)
        return buf @ w
    return {"add+tanh": add_tanh, "exp-ident": exp_ident, "add-ident": add_ident}


def gate_forms(z0):
    z = np.empty_like(z0)

    def sig_exp():
        np.negative(z0, out=z)
        with np.errstate(over="ignore"):
            np.exp(z, out=z)
        np.add(z, 1.0, out=z)
        return np.reciprocal(z, out=z)

    def sig_tanh():
        np.multiply(z0, 0.5, out=z)
        np.tanh(z, out=z)
        np.multiply(z, 0.5, out=z)
        np.add(z, 0.5, out=z)
        return z
    return {"1/(1+e^-z)": sig_exp, "(1+tanh(z/2))/2": sig_tanh}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--B", type=int, default=64)
    p.add_argument("--n", type=int, default=60, help="memories scored (T=120, k_att=2: up to 61)")
    p.add_argument("--A", type=int, default=64)
    p.add_argument("--H", type=int, default=128)
    a = p.parse_args(argv)
    C.set_threads(a.threads)
    print(f"# scorer forms on (B, n, A) = ({a.B}, {a.n}, {a.A}); gates on (B, 4H) = ({a.B}, "
          f"{4 * a.H}); ns per element, min / median of {a.repeats} alternated repeats")
    print("# " + C.load_line())
    print(f"{'dtype':<8} {'form':<18} {'min ns/elem':>11} {'med ns/elem':>11} "
          f"{'max |error|':>11}")
    rng = np.random.default_rng(0)
    for dtype in ("float32", "float64"):
        # Pre-activations spread like a trained scorer's (a few units), some saturated.
        K = (2.0 * rng.standard_normal((a.B, a.n, a.A))).astype(dtype)
        q = (2.0 * rng.standard_normal((a.B, a.A))).astype(dtype)
        w = rng.standard_normal(a.A).astype(dtype)
        ref = np.tanh(q.astype(np.float64)[:, None, :] + K.astype(np.float64)) @ w.astype(np.float64)
        forms = scorer_forms(q, K, w)
        reps = 20
        t = C.interleaved({k: (lambda f=f, reps=reps: [f() for _ in range(reps)]) for k, f in forms.items()},
                          a.repeats)
        for name, f in forms.items():
            err = float(np.max(np.abs(f().astype(np.float64) - ref)))
            lo, med = C.stats(t[name])
            print(f"{dtype:<8} {name:<18} {lo / reps / K.size * 1e9:11.3f} "
                  f"{med / reps / K.size * 1e9:11.3f} {err:11.2e}")
        z0 = (3.0 * rng.standard_normal((a.B, 4 * a.H))).astype(dtype)
        ref = 1.0 / (1.0 + np.exp(-z0.astype(np.float64)))
        forms = gate_forms(z0)
        reps = 200
        t = C.interleaved({k: (lambda f=f, reps=reps: [f() for _ in range(reps)]) for k, f in forms.items()},
                          a.repeats)
        for name, f in forms.items():
            err = float(np.max(np.abs(f().astype(np.float64) - ref)))
            lo, med = C.stats(t[name])
            print(f"{dtype:<8} {name:<18} {lo / reps / z0.size * 1e9:11.3f} "
                  f"{med / reps / z0.size * 1e9:11.3f} {err:11.2e}")
    print("# " + C.load_line())


if __name__ == "__main__":
    main()
