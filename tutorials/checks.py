"""Checkers for the tutorial exercises: run the checker cell, read the verdict.

Every exercise in a tutorial is a function the student writes (its body starts as
``raise NotImplementedError``) or a value the student computes. The checker cell calls one
function from this module, which

- prints ``not done yet`` and returns ``False`` while the exercise still raises
  ``NotImplementedError`` (or holds ``None``), so an untouched notebook runs from top to bottom;
- prints ``correct`` and returns ``True`` when the answer is right;
- raises ``AssertionError`` with a hint when the answer is wrong.

The checkers test on their own small random problems and compare with minisab's own functions
or with central finite differences (``minisab.gradcheck.numerical_gradient``), so they do not
depend on the state of the notebook. This module imports only minisab and NumPy.
"""
from __future__ import annotations

import numpy as np

from minisab import Config, init_params, loss_and_grads
from minisab.attention import score_forward, topk_backward, topk_forward, key_forward
from minisab.backend import to_host
from minisab.gradcheck import max_error, numerical_gradient
from minisab.lstm import lstm_step_forward

TOL = 1e-6


class _NotDone(Exception):
    pass


def _call(label, fn, *args, **kw):
    """Call the student's function; NotImplementedError means the exercise is not done."""
    if fn is None:
        raise _NotDone
    try:
        return fn(*args, **kw)
    except NotImplementedError:
        raise _NotDone from None


def _verdict(label):
    """Decorator: turns _NotDone into a friendly message, success into 'correct'."""
    def wrap(check):
        def run(*args, **kw):
            try:
                msg = check(*args, **kw)
            except _NotDone:
                print(f"{label}: not done yet -- fill in the exercise cell, run it, then run "
                      "this cell again.")
                return False
            print(f"{label}: correct." + (f" {msg}" if msg else ""))
            return True
        run.__name__, run.__doc__ = check.__name__, check.__doc__
        return run
    return wrap


def _close(name, got, want, tol=TOL, atol=1e-9):
    """Pass if max|got - want| <= tol * max|want| + atol (the gradcheck rule)."""
    assert got is not None, f"{name}: your function returned None"
    got = np.asarray(to_host(got), dtype=float)
    want = np.asarray(to_host(want), dtype=float)
    assert got.shape == want.shape, f"{name}: shape {got.shape}, expected {want.shape}"
    abs_err = float(np.max(np.abs(got - want), initial=0.0))
    assert abs_err <= tol * float(np.max(np.abs(want), initial=0.0)) + atol, (
        f"{name}: max|yours - expected| = {abs_err:.2e}, relative error {max_error(got, want):.2e}")


# ------------------------------------------------------------------------ tutorial 1: LSTM
def _lstm_problem(seed=0, B=3, H=4):
    rng = np.random.default_rng(seed)
    zx = rng.normal(size=(B, 4 * H))
    h_prev, c_prev = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    W_h = rng.normal(size=(H, 4 * H)) / np.sqrt(H)
    return rng, zx, h_prev, c_prev, W_h


@_verdict("Exercise 1.1 (LSTM step forward)")
def check_lstm_forward(my_lstm_step_forward):
    """``my_lstm_step_forward(zx, h_prev, c_prev, W_h) -> (h_hat, c)`` against minisab's step."""
    for seed in range(3):
        _, zx, h_prev, c_prev, W_h = _lstm_problem(seed)
        out = _call("1.1", my_lstm_step_forward, zx, h_prev, c_prev, W_h)
        assert isinstance(out, tuple) and len(out) >= 2, "return the tuple (h_hat, c)"
        h_hat, c, _ = lstm_step_forward(zx, h_prev, c_prev, W_h)
        _close("c (check the gate order i, f, g, o and c = f*c_prev + i*g)", out[1], c)
        _close("h_hat (h_hat = o * tanh(c))", out[0], h_hat)
    return "Your step gives minisab's h_hat and c on 3 random problems."


@_verdict("Exercise 1.2 (LSTM step backward)")
def check_lstm_backward(my_lstm_step_backward):
    """``my_lstm_step_backward(dh_hat, dc, cache, W_h) -> (dz, dh_prev, dc_prev)`` against
    central finite differences of ``L = sum(dh_hat * h_hat) + sum(dc * c)``. ``cache`` is
    ``(h_prev, c_prev, i, f, g, o, tanh_c)``, the first seven entries of minisab's step cache."""
    for seed in range(2):
        rng, zx, h_prev, c_prev, W_h = _lstm_problem(seed)
        dh_hat, dc = rng.normal(size=h_prev.shape), rng.normal(size=c_prev.shape)
        _, _, cache = lstm_step_forward(zx, h_prev, c_prev, W_h)
        out = _call("1.2", my_lstm_step_backward, dh_hat, dc, tuple(cache[:7]), W_h)
        assert isinstance(out, tuple) and len(out) == 3, "return the tuple (dz, dh_prev, dc_prev)"

        def f():
            h_hat, c, _ = lstm_step_forward(zx, h_prev, c_prev, W_h)
            return np.sum(dh_hat * h_hat) + np.sum(dc * c)
        for name, arr, got in (("dz", zx, out[0]), ("dh_prev", h_prev, out[1]),
                               ("dc_prev", c_prev, out[2])):
            _close(name, got, numerical_gradient(f, arr, 1e-6), tol=1e-6)
    return "dz, dh_prev and dc_prev match central finite differences."


@_verdict("Exercise 1.3 (central differences)")
def check_numerical_gradient(my_numerical_gradient):
    """``my_numerical_gradient(f, arr, h)`` on ``f = sum(sin(arr) * w)``: the gradient is
    ``cos(arr) * w``; ``arr`` must be unchanged afterwards."""
    rng = np.random.default_rng(3)
    arr = rng.normal(size=(3, 4))
    w = rng.normal(size=(3, 4))
    before = arr.copy()
    got = _call("1.3", my_numerical_gradient, lambda: np.sum(np.sin(arr) * w), arr, 1e-5)
    assert np.array_equal(arr, before), "restore every entry of arr after perturbing it"
    _close("gradient of sum(sin(arr) * w)", got, np.cos(arr) * w, tol=1e-8)
    return "Error below 1e-8: central differences are accurate to O(h^2)."


# ------------------------------------------------------------- tutorial 3: sparse attention
def _dense_topk(a, k_top, eps):
    alpha, act, cache = topk_forward(a, k_top, eps)
    dense = np.zeros_like(a)
    np.put_along_axis(dense, act[:, :alpha.shape[1]], alpha, axis=1)
    return dense, act, cache


def _untied_scores(rng, B, n):
    """Scores whose sorted gaps are all >= 0.05 (no ties: the sparsifier is differentiable)."""
    base = np.cumsum(rng.uniform(0.05, 0.6, size=(B, n)), axis=1)
    return np.stack([rng.permutation(row) for row in base]) - base.mean()


@_verdict("Exercise 3.1 (top-k sparsifier)")
def check_topk(my_topk):
    """``my_topk(a, k_top, eps) -> alpha`` dense (B, n), both branches, against minisab."""
    rng = np.random.default_rng(31)
    for n, k in ((10, 3), (6, 1), (4, 5), (5, 5), (1, 2)):
        a = _untied_scores(rng, 3, n)
        got = _call("3.1", my_topk, a.copy(), k, 1e-7)
        want = _dense_topk(a, k, 1e-7)[0]
        branch = "n > k_top" if n > k else "n <= k_top (delta = min a - 1)"
        _close(f"alpha for n={n}, k_top={k} ({branch})", got, want, tol=1e-9)
    return "Both branches match topk_forward."


@_verdict("Exercise 3.2 (top-k backward)")
def check_topk_backward(my_topk_backward):
    """``my_topk_backward(dalpha, a, k_top, eps) -> da`` (B, n) against finite differences."""
    rng = np.random.default_rng(32)
    for n, k in ((9, 3), (7, 1), (4, 4), (3, 5)):
        a = _untied_scores(rng, 2, n)
        r = rng.normal(size=(2, n))
        got = _call("3.2", my_topk_backward, r.copy(), a.copy(), k, 1e-7)

        def f():
            return float(np.sum(r * _dense_topk(a, k, 1e-7)[0]))
        want = numerical_gradient(f, a, 1e-6)
        hint = ("" if n > k else " (n <= k_top: delta = min a - 1 sends its gradient to the "
                "smallest score)")
        _close(f"da for n={n}, k_top={k}{hint}", got, want, tol=1e-5)
    return "Your gradient matches finite differences, threshold included."


@_verdict("Exercise 3.3 (the two scorers)")
def check_scores(my_scores):
    """``my_scores(h_hat, M, params, scorer) -> a`` (B, n) for "mlp" and "release"."""
    rng = np.random.default_rng(33)
    B, n, H = 3, 5, 4
    for scorer in ("mlp", "release"):
        cfg = Config(input_size=2, hidden_size=H, output_size=2, scorer=scorer,
                     attn_size=3 if scorer == "mlp" else None)
        params = init_params(cfg, seed=5)
        h_hat, M = rng.normal(size=(B, H)), rng.normal(size=(B, n, H))
        got = _call("3.3", my_scores, h_hat, M, params, scorer)
        want, _ = score_forward(h_hat, key_forward(M, params, scorer), params, scorer)
        _close(f"scores of scorer={scorer!r}", got, want, tol=1e-9)
    return "Both scorers match score_forward."


# ---------------------------------------------------------------- tutorial 2: BPTT, truncation
@_verdict("Exercise 2.1 (where truncation cuts)")
def check_cuts(my_cuts):
    """``my_cuts(T, k_trunc)`` -> sorted list of cut steps, against ``Config.cuts``."""
    for T, k in ((10, 3), (12, 4), (7, 1), (5, 5), (9, 20), (6, None)):
        cfg = Config(input_size=1, output_size=1, attention=None, method="tbptt", k_trunc=k)
        want = [t for t in range(T) if cfg.cuts(t)]
        got = _call("2.1", my_cuts, T, k)
        assert got is not None and [int(t) for t in got] == want, (
            f"my_cuts({T}, {k}) = {got}, expected {want} (t >= 1 with t % k_trunc == 0)")
    return "Cuts before every step t >= 1 with t % k_trunc == 0."


@_verdict("Exercise 2.2 (credit reach)")
def check_credit_reach(my_credit_reach):
    """``my_credit_reach(G, threshold)`` against ``flow.credit_reach``."""
    from minisab.flow import credit_reach
    rng = np.random.default_rng(22)
    for _ in range(3):
        T = 9
        G = np.tril(np.exp(rng.normal(scale=4, size=(T, T))))
        G[rng.integers(T)] = 0.0                                  # a step without a loss
        G[rng.random((T, T)) < 0.2] = 0.0
        got = _call("2.2", my_credit_reach, G, 1e-3)
        want = credit_reach(G, 1e-3)
        assert got is not None and np.array_equal(np.asarray(got), want), (
            f"reach {np.asarray(got).tolist()}, expected {want.tolist()}")
    return "Same as flow.credit_reach."


@_verdict("Exercise 2.3 (how far truncated credit reaches)")
def check_tbptt_max_lag(tbptt_max_lag):
    """``tbptt_max_lag(t, k_trunc)`` against the non-zero pattern of measured credit matrices."""
    from minisab.flow import credit_matrix
    rng = np.random.default_rng(23)
    T = 13
    x = rng.normal(size=(2, T, 3))
    for k in (1, 3, 5):
        cfg = Config(input_size=3, hidden_size=5, output_size=2, attention=None,
                     method="tbptt", k_trunc=k)
        G, _, _ = credit_matrix(init_params(cfg, seed=1), x, cfg)
        for t in range(T):
            measured = t - int(np.nonzero(G[t] > 0)[0].min())
            got = _call("2.3", tbptt_max_lag, t, k)
            assert got == measured, (f"tbptt_max_lag({t}, {k}) = {got}, but the credit matrix "
                                     f"has non-zero credit up to lag {measured}")
    return "Loss step t reaches back to the start of its chunk: lag t mod k_trunc."


# ------------------------------------------------------------------ tutorial 4: SAB's credit
@_verdict("Exercise 4.1 (BPTT's replay)")
def check_bptt_replay(bptt_replay):
    """``bptt_replay(T)`` against ``flow.backward_work(...)["per_loss"]`` of a plain LSTM."""
    from minisab.flow import backward_work
    from minisab.sab import forward
    for T in (1, 2, 5, 13, 30):
        cfg = Config(input_size=2, hidden_size=3, output_size=2, attention=None, method="bptt")
        _, cache = forward(init_params(cfg), np.zeros((1, T, 2)), cfg)
        want = backward_work(cache)["per_loss"]
        got = _call("4.1", bptt_replay, T)
        assert got is not None and abs(float(got) - want) < 1e-9, (
            f"bptt_replay({T}) = {got}, measured {want:g}")
    return "T(T-1)/2: quadratic in the sequence length."


@_verdict("Exercise 4.2 (SAB that equals BPTT)")
def check_sab_like_bptt(sab_like_bptt):
    """The returned config keeps ``method="sab"`` and gives BPTT's gradient at T = 3 and 17."""
    cfg = Config(input_size=3, hidden_size=4, output_size=3, attention="topk", attn_size=3,
                 k_top=2, k_att=2, method="sab", k_trunc=3)
    new = _call("4.2", sab_like_bptt, cfg)
    assert isinstance(new, Config), "return a Config (cfg.replace(...))"
    assert new.method == "sab", f"keep method='sab' (got {new.method!r})"
    same = {k: getattr(cfg, k) for k in ("attention", "k_top", "k_att", "hidden_size", "scorer")}
    assert all(getattr(new, k) == v for k, v in same.items()), "change only the truncation"
    rng = np.random.default_rng(42)
    params = init_params(cfg, seed=4)
    for T in (3, 17):
        x, tg = rng.normal(size=(2, T, 3)), rng.integers(0, 3, size=(2, T))
        _, g, _ = loss_and_grads(params, x, tg, new)
        _, g_b, _ = loss_and_grads(params, x, tg, cfg.replace(method="bptt"))
        for k in g:
            _close(f"gradient of {k} at T={T}", g[k], g_b[k], tol=1e-10, atol=1e-14)
    return "No cut, no truncation: SAB's backward is BPTT's."


@_verdict("Exercise 4.3 (follow the credit)")
def check_states_reached(states_reached):
    """``states_reached(cache, b, t)`` against the non-zero pattern of the per-sequence credit
    matrix ``flow.credit_matrix(..., per_example=True)``."""
    from minisab.flow import credit_matrix
    rng = np.random.default_rng(43)
    for k_top, k_att, k_trunc in ((2, 2, 3), (3, 1, 4), (1, 3, 2)):
        cfg = Config(input_size=3, hidden_size=5, output_size=3, attention="topk", attn_size=4,
                     k_top=k_top, k_att=k_att, method="sab", k_trunc=k_trunc)
        params = init_params(cfg, seed=k_top)
        x = rng.normal(size=(3, 16, 3))
        G, _, cache = credit_matrix(params, x, cfg, per_example=True)      # (B, T, T)
        for b in range(3):
            for t in (15, 11, 6):
                want = np.nonzero(G[b, t] > 0)[0].tolist()
                got = _call("4.3", states_reached, cache, b, t)
                assert got is not None and sorted(int(s) for s in got) == want, (
                    f"k_top={k_top}, k_att={k_att}, k_trunc={k_trunc}, sequence {b}, loss step "
                    f"{t}: you found {sorted(got) if got is not None else None}, the credit "
                    f"matrix has {want}. (Did you include the threshold memory, and the "
                    "reads made by the memories' own chunks?)")
    return "Credit hops: chunk, memory read, chunk, ... exactly as the backward walks."


# ======================================================================================
# tutorial 8: backends (NumPy, CuPy, strict) -- begin
# ======================================================================================
# The device errors a NumPy-only call raises on the strict backend (or on CuPy).
_DEVICE_ERRORS = (RuntimeError, TypeError, ValueError, AttributeError, IndexError)


def _backends_here():
    """NumPy, the strict backend (array_api_strict on device1), and CuPy where a GPU is."""
    from minisab.backend import BackendError, get_backend
    found = []
    for name in ("numpy", "strict", "cupy"):
        try:
            found.append(get_backend(name))
        except BackendError:
            pass
    return found


def _call_on_device(label, where, fn, *args):
    """``_call``, turning a NumPy-only call on a device array into a hint."""
    try:
        return _call(label, fn, *args)
    except _DEVICE_ERRORS as e:
        raise AssertionError(
            f"{where}: your function raised {type(e).__name__}: {e}\n-> a NumPy-only call met an "
            "array that lives on another device (what the strict backend is there to catch). "
            "Use the array's own namespace (minisab.backend.namespace), the helpers of "
            "minisab.backend, and to_host for explicit copies to the host.") from None


@_verdict("Exercise 8.1 (compare parameters across backends)")
def check_max_param_difference(max_param_difference):
    """``max_param_difference(p, q)`` -> float: max over every parameter and entry of
    |p - q|, for p and q on every pair of the backends present (NumPy, strict, CuPy)."""
    from minisab.params import params_from_host, params_to_host
    cfg = Config(input_size=3, hidden_size=4, output_size=3, attention="topk", attn_size=3)
    host = params_to_host(init_params(cfg, seed=8))
    bumped = {k: v.copy() for k, v in host.items()}
    bumped["W_h"][1, 2] += 0.25               # p - q has its largest |entry| in a late key,
    bumped["b_y"][0] -= 0.75                  # of one sign in one order, the other in the other
    bumped["W_x"][0, 0] += 1e-3
    backends = _backends_here()
    for be_p in backends:
        for be_q in backends:
            for first, second, want in ((host, bumped, 0.75), (bumped, host, 0.75),
                                        (host, host, 0.0)):
                p = params_from_host(first, cfg, be_p)
                q = params_from_host(second, cfg, be_q)
                where = f"p on {be_p.name}, q on {be_q.name}"
                got = _call_on_device("8.1", where, max_param_difference, p, q)
                assert got is not None, f"{where}: your function returned None"
                assert isinstance(got, (float, int, np.floating, np.integer)), (
                    f"{where}: you returned a {type(got).__module__}.{type(got).__name__}; "
                    "return a Python float (float(...) of a host value, or to_float)")
                assert abs(float(got) - want) <= 1e-12, (
                    f"{where}: you returned {float(got):.6g}, expected {want:g} (the largest "
                    "|p[k] - q[k]| over every key k and every entry: abs first, then max over "
                    "all parameters, not just the first)")
    names = ", ".join(be.name for be in backends)
    return f"Right on every pair of backends present ({names})."


def _mean_of_top_host(a, M, k):
    idx = np.argsort(-a, axis=1)[:, :k]
    return np.take_along_axis(M, idx[:, :, None], axis=1).mean(axis=1)


@_verdict("Exercise 8.2 (a device-clean top-k read)")
def check_mean_of_top_memories(mean_of_top_memories):
    """``mean_of_top_memories(a, M, k)`` -> (B, H) on every backend present, the result on the
    device of the inputs."""
    from minisab.backend import namespace
    rng = np.random.default_rng(82)
    backends = _backends_here()
    for be in backends:
        for B, n, H, k in ((3, 6, 4, 2), (2, 5, 3, 5), (4, 9, 2, 1)):
            a = _untied_scores(rng, B, n)
            M = rng.normal(size=(B, n, H))
            where = f"on the {be.name} backend (B={B}, n={n}, H={H}, k={k})"
            got = _call_on_device("8.2", where, mean_of_top_memories, be.asarray(a),
                                  be.asarray(M), k)
            assert got is not None, f"{where}: your function returned None"
            if be.name != "numpy":
                assert not isinstance(got, (np.ndarray, np.generic, float)), (
                    f"{where}: you returned a host (NumPy) value. The result must stay on the "
                    "device of its inputs: no to_host inside a model function")
                assert namespace(got) is be.xp, (
                    f"{where}: the result is a {type(got).__module__} array, expected one of "
                    f"{be.xp.__name__}")
                if be.device is not None:
                    assert got.device == be.device, (
                        f"{where}: the result is on {got.device}, expected {be.device} (make "
                        "new arrays with minisab.backend.zeros/arange(..., like=a))")
            _close(f"{where}: the mean of the {k} best-scored memories", got,
                   _mean_of_top_host(a, M, k), tol=1e-12)
    names = ", ".join(be.name for be in backends)
    return f"Same result on {names}, and it stays on the device."
# ======================================================================================
# tutorial 8: backends (NumPy, CuPy, strict) -- end
# ======================================================================================


# ======================================================================================
# tutorial 5: experiments (learning curves, recall accuracy) -- begin
# ======================================================================================
def _t5_copy_problem(rng, T, n, V, B, p_recall, p_blank):
    """A copy-task batch and logits that are right at a share ``p_recall`` of the recall steps
    and ``p_blank`` of the other steps (so the recall, the first n and all steps differ)."""
    from minisab.tasks import make_task
    task = make_task("copy", T, n_digits=n, n_symbols=V)
    x, targets, mask = task.sample(rng, B)
    logits = rng.normal(size=targets.shape + (task.output_size,))
    right = rng.random(targets.shape) < np.where(np.arange(targets.shape[1]) >= T + n,
                                                 p_recall, p_blank)
    np.put_along_axis(logits, targets[:, :, None], 6.0 * right[:, :, None], axis=2)
    return task, logits, targets, mask


@_verdict("Exercise 5.1 (recall accuracy)")
def check_recall_accuracy(my_recall_accuracy):
    """``my_recall_accuracy(logits, targets, n_digits)`` -> float, against the copy task's
    metric ``Task.metric`` (``tasks.recall_accuracy``) on batches where the recall steps, the
    first ``n_digits`` steps and the whole sequence give different accuracies."""
    rng = np.random.default_rng(51)
    for T, n, V, B, p_recall, p_blank in ((6, 3, 4, 5, 0.4, 0.9), (10, 2, 8, 7, 0.7, 0.2),
                                          (3, 4, 5, 6, 0.5, 0.95), (5, 1, 3, 9, 0.3, 0.8)):
        task, logits, targets, mask = _t5_copy_problem(rng, T, n, V, B, p_recall, p_blank)
        want = task.metric(logits, targets, mask, 0.0)
        pred = np.argmax(logits, axis=2)
        got = _call("5.1", my_recall_accuracy, logits.copy(), targets.copy(), n)
        where = f"T={T}, n_digits={n}, batch {B}"
        assert got is not None, f"{where}: your function returned None"
        assert np.ndim(got) == 0, (f"{where}: you returned an array of shape {np.shape(got)}; "
                                   "return one number, the mean over sequences and recall steps")
        got = float(got)
        if abs(got - 100 * want) < 1e-9 and want > 0:
            raise AssertionError(f"{where}: {got:g} looks like a percentage; return a fraction "
                                 "in [0, 1]")
        if abs(got - want) > 1e-9:
            hint = "the recall steps are the last n_digits steps of each sequence"
            if abs(got - float(np.mean(pred == targets))) < 1e-9:
                hint = ("you counted every step, blanks included; the metric counts only the "
                        "last n_digits steps (the recall)")
            elif abs(got - float(np.mean(pred[:, :n] == targets[:, :n]))) < 1e-9:
                hint = "you scored the first n_digits steps (the digits' input); score the last"
            raise AssertionError(f"{where}: you returned {got:.4f}, expected {want:.4f} -> {hint}")
    return "Same as the copy task's metric: the blanks do not count."


_T5_CURVE = [{"step": 0, "loss": 2.3, "accuracy": 0.12},
             {"step": 100, "loss": 1.1, "accuracy": 0.4},
             {"step": 150, "loss": 1.0},                                # no metric: skip it
             {"step": 200, "loss": 0.4, "accuracy": 0.92},
             {"step": 300, "loss": 0.5, "accuracy": 0.85},
             {"step": 400, "loss": 0.2, "accuracy": 0.97}]
_T5_MSE_CURVE = [{"step": 0, "loss": 1.1, "mse": 1.1}, {"step": 50, "loss": 0.16, "mse": 0.16},
                 {"step": 100, "loss": 0.009, "mse": 0.009},
                 {"step": 150, "loss": 0.02, "mse": 0.02},
                 {"step": 200, "loss": 0.001, "mse": 0.001}]


@_verdict("Exercise 5.2 (steps to reach a threshold)")
def check_steps_to_reach(steps_to_reach):
    """``steps_to_reach(records, metric, threshold, higher_is_better)`` -> the "step" of the
    first record whose metric reaches the threshold (>= or <=), None if none does."""
    cases = ((_T5_CURVE, "accuracy", 0.9, True, 200, "the FIRST record at or above the threshold, "
              "even if a later one falls below it again"),
             (_T5_CURVE, "accuracy", 0.4, True, 100, "reaching means >=: 0.4 reaches 0.4"),
             (_T5_CURVE, "accuracy", 0.1, True, 0, "step 0 is an answer like any other (careful "
              "with `if step:`, 0 is falsy)"),
             (_T5_CURVE, "accuracy", 0.99, True, None, "never reached: return None"),
             (_T5_CURVE, "loss", 0.45, False, 200, "lower is better: the first value <= threshold"),
             (_T5_MSE_CURVE, "mse", 0.01, False, 100,
              "lower is better: the first value <= threshold"),
             (_T5_MSE_CURVE, "mse", 0.0001, False, None, "never reached: return None"),
             ([], "accuracy", 0.5, True, None, "no records: return None"))
    for records, metric, threshold, higher, want, hint in cases:
        try:
            got = _call("5.2", steps_to_reach, [dict(r) for r in records], metric, threshold,
                        higher)
        except KeyError as e:
            raise AssertionError(f"your function raised KeyError: {e} -> some records lack the "
                                 "metric (evaluations that did not measure it): skip them, e.g. "
                                 "with `if metric in r`") from None
        assert (got is None) == (want is None) and (want is None or got == want), (
            f"steps_to_reach(records, {metric!r}, {threshold}, higher_is_better={higher}) = "
            f"{got!r}, expected {want!r} -> {hint}. (Records: "
            f"{[(r['step'], r.get(metric)) for r in records]})")
    return "First crossing, in either direction, None when never."
# ======================================================================================
# tutorial 5: experiments (learning curves, recall accuracy) -- end
# ======================================================================================


# ======================================================================================
# tutorial 6: transfer to longer sequences (state size, its bound) -- begin
# ======================================================================================
def _transfer_problem(memory_write="h", k_att=1, seed=0, T=9):
    """A small SAB model (random weights, forget bias 1) and a batch of large inputs."""
    cfg = Config(input_size=3, hidden_size=5, output_size=3, attn_size=4, k_top=2, k_att=k_att,
                 method="sab", k_trunc=3, memory_write=memory_write)
    x = np.random.default_rng(60 + seed).normal(size=(3, T, 3)) * 2.0
    return cfg, init_params(cfg, seed=seed, forget_bias=1.0), x


@_verdict("Exercise 6.1 (the size of the state along a sequence)")
def check_h_max_profile(h_max_profile):
    """``h_max_profile(params, cfg, x) -> (T,)``: max over the batch and the units of |h_t|,
    against ``minisab.diagnose.diagnose(...)["h_max"]``, for SAB and for a plain LSTM."""
    from minisab.diagnose import diagnose
    for memory_write, k_att, seed in (("h", 1, 0), ("h", 2, 1), ("h_hat", 1, 2), (None, 1, 3)):
        cfg, params, x = _transfer_problem(memory_write or "h", k_att, seed)
        what = f"SAB, memory_write={memory_write!r}, k_att={k_att}"
        if memory_write is None:
            cfg = Config(input_size=3, hidden_size=5, output_size=3, attention=None,
                         method="bptt")
            params, what = init_params(cfg, seed=seed), "a plain LSTM"
        want = diagnose(params, cfg, x, np.zeros(x.shape[:2], dtype=np.int64))["h_max"]
        got = _call("6.1", h_max_profile, params, cfg, x)
        assert got is not None, "your function returned None: return one number per step"
        got = np.asarray(to_host(got), dtype=float)
        assert got.shape == want.shape, (
            f"{what}: shape {got.shape}, expected {want.shape}: one number per step t (reduce "
            "cache['hs'] (B, T, H) over the batch axis 0 and the unit axis 2)")
        _close(f"max|h_t| per step, {what} (h_t is cache['hs'][:, t, :], the state after the "
               "summary is added, not h_hat; and take the absolute value)", got, want, tol=1e-9)
    return "Same as diagnose's h_max, for SAB with both memory writes and for a plain LSTM."


def _h_bound(t, k_att, memory_write):
    """The least upper bound of max|h_t| (the answer to 6.2): |ĥ_t| < 1, and s_t is a weighted
    average (weights >= 0, sum <= 1) of the t // k_att memories written so far (and the null)."""
    n_written = t // k_att
    return 1 + (n_written if memory_write == "h" else min(n_written, 1))


def _saturated_sab(memory_write, k_att, T):
    """Parameters that make |h_t| as large as the model allows: every gate saturated (c_t grows,
    so ĥ_t -> 1), a silent query, and scores that grow with the memory, so that the largest
    (most recent) memory is kept with a weight near 1 (k_top = 1)."""
    cfg = Config(input_size=1, hidden_size=3, output_size=2, attn_size=2, k_top=1,
                 k_att=k_att, method="sab", k_trunc=5, memory_write=memory_write)
    p = init_params(cfg, seed=0)
    for name in ("W_x", "W_h", "W_q"):
        p[name][...] = 0.0
    p["b"][...] = 20.0
    p["W_m"][...] = 1.0 / (2 * T * cfg.hidden_size)
    p["w_s"][...] = 1e3
    return cfg, p


@_verdict("Exercise 6.2 (how large can h_t get?)")
def check_h_bound(h_bound):
    """``h_bound(t, k_att, memory_write)``: the least upper bound of max|h_t| over all
    parameters and inputs. It must hold on a worst-case model (saturated gates, the top memory
    weighted ~1) and on random ones, and it must be the least such bound."""
    from minisab.sab import forward
    T = 30
    for memory_write in ("h", "h_hat", "tanh_h"):
        for k_att in (1, 2, 3):
            where = f"memory_write={memory_write!r}, k_att={k_att}"
            bounds = []
            for t in range(T):
                b = _call("6.2", h_bound, t, k_att, memory_write)
                assert b is not None, f"h_bound({t}, {k_att}, {memory_write!r}) returned None"
                bounds.append(float(b))
            cfg, p = _saturated_sab(memory_write, k_att, T)
            worst = np.max(np.abs(forward(p, np.zeros((1, T, 1)), cfg)[1]["hs"]), axis=(0, 2))
            for seed in range(2):
                c2, p2, x2 = _transfer_problem(memory_write, k_att, seed, T)
                worst = np.maximum(worst, np.max(np.abs(forward(p2, x2, c2)[1]["hs"]),
                                                 axis=(0, 2)))
            for t in range(T):                          # first: does the bound hold?
                assert worst[t] <= bounds[t] + 1e-9, (
                    f"{where}: at step t={t} a model reaches max|h_t| = {worst[t]:.3f}, above "
                    f"your bound {bounds[t]:g}. Hint: |ĥ_t| < 1, and s_t is a weighted average "
                    "(weights >= 0, summing to at most 1) of the memories that exist at step t: "
                    "how large can a memory be?")
            for t in range(T):                          # then: is it the least one?
                want = _h_bound(t, k_att, memory_write)
                assert bounds[t] <= want + 1e-9, (
                    f"{where}: h_bound({t}, ...) = {bounds[t]:g} holds but is not the least bound "
                    f"(the worst-case model reaches {worst[t]:.3f} there, and a model can come "
                    "as close to the least bound as you like). Count the memories written before "
                    "step t (after steps k_att-1, 2k_att-1, ...; none before step k_att) and how "
                    "large each can be.")
                assert bounds[t] >= want - 1e-9, (
                    f"{where}: h_bound({t}, ...) = {bounds[t]:g} is too small: no model here "
                    "exceeds it, but a model can get as close as you like to a larger value at "
                    "this step (saturate every gate so that ĥ -> 1, and give the largest memory "
                    "a weight -> 1).")
    return ("With memory_write='h' each memory can hold one unit more than the one before: "
            "|h_t| < 1 + t // k_att grows with the length. Writing ĥ or tanh(h) caps it at 2.")
# ======================================================================================
# tutorial 6: transfer to longer sequences (state size, its bound) -- end
# ======================================================================================


# ======================================================================================
# tutorial 7: ablations (attention work, truncated replay) -- begin
# ======================================================================================
@_verdict("Exercise 7.1 (what k_top and k_att cost)")
def check_attention_work(attention_work):
    """``attention_work(T, k_top, k_att) -> (scores, rows)`` for one sequence of T steps:
    ``scores`` = raw scores the forward computes (every step scores every memory it has, the
    null memory included); ``rows`` = memory rows the attention backward touches (the kept
    memories and the threshold memory). Measured on minisab's forward (``record["n_mem"]`` and
    the ``act`` arrays of ``cache["attn"]``)."""
    from minisab.sab import forward
    for T, k_top, k_att in ((1, 1, 1), (7, 2, 1), (12, 3, 2), (26, 5, 1), (17, 4, 3),
                            (9, 10, 2), (30, 1, 4)):
        cfg = Config(input_size=2, hidden_size=3, output_size=2, attn_size=2, k_top=k_top,
                     k_att=k_att, method="sab", k_trunc=4)
        x = np.random.default_rng(T).normal(size=(1, T, 2))
        _, cache = forward(init_params(cfg, seed=0), x, cfg, record=True)
        scores = int(sum(cache["record"]["n_mem"]))
        rows = int(sum(a[1].shape[1] for a in cache["attn"]))
        got = _call("7.1", attention_work, T, k_top, k_att)
        assert isinstance(got, (tuple, list)) and len(got) == 2, "return the pair (scores, rows)"
        where = f"attention_work({T}, k_top={k_top}, k_att={k_att})"
        assert int(got[0]) == scores, (
            f"{where}: {got[0]} scores, measured {scores}. Step t scores every memory it has: "
            "n_t = 1 + t // k_att (the null memory included; tutorial 3).")
        assert int(got[1]) == rows, (
            f"{where}: {got[1]} rows, measured {rows}. A step touches its k_top kept memories "
            "and the threshold memory (k_top + 1 rows) when n_t > k_top, and all n_t when "
            "n_t <= k_top.")
    return ("Forward: sum_t (1 + t // k_att), about T^2 / (2 k_att). Backward: at most "
            "k_top + 1 rows a step, however many memories there are.")


@_verdict("Exercise 7.2 (the replay of truncated BPTT)")
def check_tbptt_replay(tbptt_replay):
    """``tbptt_replay(T, k_trunc)`` against ``flow.backward_work(cache)["per_loss"]`` of a plain
    LSTM under ``tbptt``: the recurrent edges replayed if every loss L_t is backpropagated
    alone (``k_trunc=None``: no cut)."""
    from minisab.flow import backward_work
    from minisab.sab import forward
    for T, k in ((1, 3), (5, 1), (10, 3), (26, 5), (30, 7), (12, 20), (9, None)):
        cfg = Config(input_size=2, hidden_size=3, output_size=2, attention=None,
                     method="tbptt", k_trunc=k)
        _, cache = forward(init_params(cfg), np.zeros((1, T, 2)), cfg)
        want = backward_work(cache)["per_loss"]
        got = _call("7.2", tbptt_replay, T, k)
        assert got is not None and abs(float(got) - want) < 1e-9, (
            f"tbptt_replay({T}, {k}) = {got}, measured {want:g}. Loss step t replays back to "
            "the start of its chunk (tutorial 2, exercise 2.3); k_trunc=None cuts nothing "
            "(tutorial 4, exercise 4.1).")
    return ("Sum over t of (t mod k_trunc): about T (k_trunc - 1) / 2, linear in T where "
            "BPTT's T (T - 1) / 2 is quadratic.")
# ======================================================================================
# tutorial 7: ablations (attention work, truncated replay) -- end
# ======================================================================================
