"""Optimisers and global-norm clipping (minisab/train/optim.py), checked against formulas and torch."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minisab.backend import to_float, to_host
from minisab.train.optim import OptimError, Optimizer, clip_by_global_norm, global_norm


def _dicts(rng, backend, scale=1.0):
    shapes = {"W": (3, 4), "b": (4,), "v": (2,)}
    host = {k: rng.normal(size=s) * scale for k, s in shapes.items()}
    return host, {k: backend.asarray(v) for k, v in host.items()}


@given(scale=st.floats(0.01, 100.0), max_norm=st.floats(0.1, 10.0), seed=st.integers(0, 50))
def test_clip_by_global_norm(backend, scale, max_norm, seed):
    host, grads = _dicts(np.random.default_rng(seed), backend, scale)
    norm = np.sqrt(sum(np.sum(g * g) for g in host.values()))
    clipped, before = clip_by_global_norm(grads, max_norm)
    assert to_float(before) == pytest.approx(norm, rel=1e-12)
    after = to_float(global_norm(clipped))
    assert after == pytest.approx(min(norm, max_norm), rel=1e-5)
    for k in host:   # direction kept
        assert np.allclose(to_host(clipped[k]), host[k] * min(1.0, max_norm / (norm + 1e-6)),
                           rtol=1e-12, atol=0)
    unclipped, _ = clip_by_global_norm(grads, None)
    assert unclipped is grads


def test_sgd_momentum_formula(backend, rng):
    host_p, params = _dicts(rng, backend)
    host_g, grads = _dicts(rng, backend)
    opt = Optimizer("sgd", lr=0.1, momentum=0.5, clip=None)
    state = opt.init_state(params)
    p1, s1, _ = opt.step(params, grads, state)
    p2, s2, _ = opt.step(p1, grads, s1)
    for k in host_p:   # v1 = g, v2 = 0.5 g + g
        assert np.allclose(to_host(p1[k]), host_p[k] - 0.1 * host_g[k])
        assert np.allclose(to_host(p2[k]), host_p[k] - 0.1 * host_g[k] - 0.1 * 1.5 * host_g[k])
    assert s2["t"] == 2 and state["t"] == 0
    assert np.array_equal(to_host(params["W"]), host_p["W"])     # inputs are never changed


def test_adam_first_step_is_lr_sign(backend, rng):
    host_p, params = _dicts(rng, backend)
    host_g, grads = _dicts(rng, backend)
    opt = Optimizer("adam", lr=0.01, eps=0.0, clip=None)
    p1, _, _ = opt.step(params, grads, opt.init_state(params))
    for k in host_p:   # bias-corrected m̂ = g, v̂ = g²: the step is lr·sign(g)
        assert np.allclose(to_host(p1[k]), host_p[k] - 0.01 * np.sign(host_g[k]))


@pytest.mark.slow
@pytest.mark.parametrize("name, clip", [("adam", None), ("adam", 0.5), ("sgd", 0.5)])
def test_matches_torch(name, clip):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    host_p = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=(4,))}
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in host_p.items()}
    topt = (torch.optim.Adam(tp.values(), lr=0.05) if name == "adam"
            else torch.optim.SGD(tp.values(), lr=0.05, momentum=0.9))
    opt = Optimizer(name, lr=0.05, momentum=0.9, clip=clip)
    params, state = dict(host_p), opt.init_state(host_p)
    for _ in range(5):
        grads = {k: rng.normal(size=v.shape) * 3.0 for k, v in host_p.items()}
        for k, t in tp.items():
            t.grad = torch.tensor(grads[k])
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(list(tp.values()), clip)
        topt.step()
        params, state, _ = opt.step(params, grads, state)
    for k in host_p:
        assert np.allclose(params[k], tp[k].detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["adam", "sgd"])
def test_minimises_a_quadratic(backend, name):
    target = backend.asarray(np.array([1.0, -2.0, 3.0]))
    params = {"w": backend.asarray(np.zeros(3))}
    opt = Optimizer(name, lr=0.1, momentum=0.5, clip=1.0)
    state = opt.init_state(params)
    for _ in range(300):
        grads = {"w": 2.0 * (params["w"] - target)}
        params, state, _ = opt.step(params, grads, state)
    assert np.allclose(to_host(params["w"]), [1.0, -2.0, 3.0], atol=1e-2)


def test_float32_stays_float32():
    params = {"w": np.ones(3, dtype=np.float32)}
    opt = Optimizer("adam", lr=0.1)
    p, s, _ = opt.step(params, {"w": np.ones(3, dtype=np.float32)}, opt.init_state(params))
    assert p["w"].dtype == np.float32 and s["m/w"].dtype == np.float32


@pytest.mark.parametrize("kw, field", [
    ({"name": "rmsprop"}, "optimizer"), ({"lr": 0.0}, "lr"), ({"lr": float("nan")}, "lr"),
    ({"momentum": 1.0}, "momentum"), ({"clip": -1.0}, "clip"), ({"beta2": 1.5}, "beta2"),
])
def test_invalid_hyperparameters(kw, field):
    with pytest.raises(OptimError, match=f"invalid {field}=.*accepted values"):
        Optimizer(**kw)
