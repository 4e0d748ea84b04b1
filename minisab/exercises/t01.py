"""Checkers of tutorial 1 (an LSTM from scratch): the step forward, the step backward, central
differences. Each knows the usual wrong answers and names the idea they miss."""
from __future__ import annotations

import numpy as np

from ..gradcheck import numerical_gradient
from ..lstm import lstm_step_forward
from ._verdict import call, close, exercise, is_close


def _lstm_problem(seed=0, B=3, H=4):
    rng = np.random.default_rng(seed)
    zx = rng.normal(size=(B, 4 * H))
    h_prev, c_prev = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    W_h = rng.normal(size=(H, 4 * H)) / np.sqrt(H)
    return rng, zx, h_prev, c_prev, W_h


@exercise("1.1 (LSTM step forward)")
def check_lstm_forward(my_lstm_step_forward):
    """``my_lstm_step_forward(zx, h_prev, c_prev, W_h) -> (h_hat, c)`` against minisab's step."""
    for seed in range(3):
        _, zx, h_prev, c_prev, W_h = _lstm_problem(seed)
        out = call(my_lstm_step_forward, zx, h_prev, c_prev, W_h)
        assert isinstance(out, tuple) and len(out) >= 2, "return the tuple (h_hat, c)"
        h_hat, c, cache = lstm_step_forward(zx, h_prev, c_prev, W_h)
        i, f, g, o = cache[2:6]
        close("c", out[1], c, known_wrong=(
            (i * c_prev + f * g, "you swapped the input and forget gates: the 4H axis holds "
             "i, f, g, o in that order, and c = f*c_prev + i*g"),
            (f * c_prev + i * np.tanh(g), "g is already tanh(z_g): do not squash it twice"),))
        close("h_hat", out[0], h_hat, known_wrong=(
            (o * c, "h_hat = o * tanh(c): the cell is squashed before the output gate"),))
    return "Your step gives minisab's h_hat and c on 3 random problems."


def _step_backward(dh_hat, dc, cache, W_h, hat_to_c=True, from_next=True):
    """The step backward, optionally without the ĥ→c path or without dc from step t+1."""
    h_prev, c_prev, i, f, g, o, tanh_c = cache
    dc_t = (dc if from_next else 0.0) + (dh_hat * o * (1 - tanh_c ** 2) if hat_to_c else 0.0)
    dz = np.concatenate([dc_t * g * i * (1 - i), dc_t * c_prev * f * (1 - f),
                         dc_t * i * (1 - g ** 2), dh_hat * tanh_c * o * (1 - o)], axis=1)
    return dz, dz @ W_h.T, dc_t * f


_BACKWARD_MISTAKES = (
    (dict(hat_to_c=False), "the cell c_t also reaches the loss through h_hat = o * tanh(c_t): "
     "its adjoint is dc (from step t+1) PLUS dh_hat * o * (1 - tanh(c_t)^2). You kept only the "
     "first term (the h_hat -> c path is missing)."),
    (dict(from_next=False), "the cell's adjoint must include dc, the credit that step t+1 sent "
     "back along the cell: dc_t = dc + dh_hat * o * (1 - tanh(c_t)^2)."),
)


@exercise("1.2 (LSTM step backward)")
def check_lstm_backward(my_lstm_step_backward):
    """``my_lstm_step_backward(dh_hat, dc, cache, W_h) -> (dz, dh_prev, dc_prev)`` against
    central finite differences of ``L = sum(dh_hat * h_hat) + sum(dc * c)``. ``cache`` is
    ``(h_prev, c_prev, i, f, g, o, tanh_c)``, the first seven entries of minisab's step cache."""
    for seed in range(2):
        rng, zx, h_prev, c_prev, W_h = _lstm_problem(seed)
        dh_hat, dc = rng.normal(size=h_prev.shape), rng.normal(size=c_prev.shape)
        cache = tuple(lstm_step_forward(zx, h_prev, c_prev, W_h)[2][:7])
        out = call(my_lstm_step_backward, dh_hat, dc, cache, W_h)
        assert isinstance(out, tuple) and len(out) == 3, "return the tuple (dz, dh_prev, dc_prev)"
        for kw, hint in _BACKWARD_MISTAKES:             # a known mistake, recognised as a whole
            wrong = _step_backward(dh_hat, dc, cache, W_h, **kw)
            if all(is_close(o, w, 1e-6) for o, w in zip(out, wrong)):
                raise AssertionError(hint)

        def f():
            h_hat, c, _ = lstm_step_forward(zx, h_prev, c_prev, W_h)
            return np.sum(dh_hat * h_hat) + np.sum(dc * c)
        for name, arr, got in (("dz", zx, out[0]), ("dh_prev", h_prev, out[1]),
                               ("dc_prev", c_prev, out[2])):
            close(name, got, numerical_gradient(f, arr, 1e-6), tol=1e-6)
    return "dz, dh_prev and dc_prev match central finite differences."


def _one_sided(f, arr, h, sign):
    grad, f0 = np.zeros(arr.shape), f()
    for idx in np.ndindex(arr.shape):
        old = arr[idx]
        arr[idx] = old + sign * h
        grad[idx] = sign * (f() - f0) / h
        arr[idx] = old
    return grad


@exercise("1.3 (central differences)")
def check_numerical_gradient(my_numerical_gradient):
    """``my_numerical_gradient(f, arr, h)`` on ``f = sum(sin(arr) * w)``: the gradient is
    ``cos(arr) * w``; ``arr`` must be unchanged afterwards."""
    rng = np.random.default_rng(3)
    arr = rng.normal(size=(3, 4))
    w = rng.normal(size=(3, 4))
    before = arr.copy()

    def f():
        return np.sum(np.sin(arr) * w)
    got = call(my_numerical_gradient, f, arr, 1e-5)
    assert np.array_equal(arr, before), "restore every entry of arr after perturbing it"
    one_sided = ("you used a one-sided difference (f(θ+h) - f(θ))/h, whose error is O(h) "
                 "(here ~1e-5). The central difference (f(θ+h) - f(θ-h))/(2h) cancels the "
                 "second-order term: its error is O(h^2) (~1e-10).")
    close("gradient of sum(sin(arr) * w)", got, np.cos(arr) * w, tol=1e-8, known_wrong=(
        (_one_sided(f, arr, 1e-5, +1), one_sided), (_one_sided(f, arr, 1e-5, -1), one_sided),
        (2 * np.cos(arr) * w, "divide by 2h, not h: the two points are 2h apart")))
    return "Error below 1e-8: central differences are accurate to O(h^2)."
