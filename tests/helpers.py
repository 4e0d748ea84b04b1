"""Helpers shared by the gradient tests: finite differences on any backend, and the pass rule."""
from __future__ import annotations

import numpy as np

from minisab.backend import to_host
from minisab.gradcheck import numerical_gradient


def assert_close_fd(analytic, f, arr, h=1e-6, rtol=1e-6, atol=1e-8):
    """Central differences of ``f()`` w.r.t. ``arr`` must match ``analytic``:
    max|a − n| <= rtol · max|n| + atol (the golden vectors' rule)."""
    num = numerical_gradient(f, arr, h)
    ana = to_host(analytic)
    assert ana.shape == num.shape
    err = np.max(np.abs(ana - num), initial=0.0)
    bound = rtol * np.max(np.abs(num), initial=0.0) + atol
    assert err <= bound, f"max abs error {err:.3e} > {bound:.3e}\nanalytic\n{ana}\nnumerical\n{num}"


def weighted_sum(xp, out, W):
    """A scalar f = Σ W ⊙ out, so ∂f/∂out = W: the way every unit test probes a backward pass."""
    return xp.sum(out * W)


def run_cli(argv, capsys):
    """``python -m minisab ARGV`` in this process: (exit status, stdout, stderr), whether
    ``main`` returns or exits."""
    from minisab.cli.commands import main
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err
