"""Checkers of tutorial 1 (an LSTM from scratch): the step forward, the step backward, central
differences. Each calls the student's function on its own small problems, then compares with
stored results (``_answers``), and names the usual mistakes."""
from __future__ import annotations

import numpy as np

from ..lstm import lstm_step_forward
from ._answers import load, mistakes, pick
from ._verdict import call, close, exercise, is_close, which_mistake

FORWARD_HINTS = {
    "gates_swapped": "you swapped the input and forget gates: the 4H axis holds i, f, g, o in "
                     "that order, and c = f*c_prev + i*g",
    "g_twice": "g is already tanh(z_g): do not squash it twice",
    "h_without_tanh": "h_hat = o * tanh(c): the cell is squashed before the output gate",
}
BACKWARD_HINTS = {
    "no_hat_to_c": "the cell c_t also reaches the loss through h_hat = o * tanh(c_t): its "
                   "adjoint is dc (from step t+1) PLUS dh_hat * o * (1 - tanh(c_t)^2). You kept "
                   "only the first term (the h_hat -> c path is missing).",
    "no_dc_from_next": "the cell's adjoint must include dc, the credit that step t+1 sent back "
                       "along the cell: dc_t = dc + dh_hat * o * (1 - tanh(c_t)^2).",
}
GRADIENT_HINTS = {
    "one_sided_forward": "you used a one-sided difference (f(θ+h) - f(θ))/h, whose error is "
                         "O(h) (here ~1e-5). The central difference (f(θ+h) - f(θ-h))/(2h) "
                         "cancels the second-order term: its error is O(h^2) (~1e-10).",
    "one_sided_backward": "you used a one-sided difference (f(θ) - f(θ-h))/h, whose error is "
                          "O(h) (here ~1e-5). The central difference (f(θ+h) - f(θ-h))/(2h) "
                          "cancels the second-order term: its error is O(h^2) (~1e-10).",
    "no_half": "divide by 2h, not h: the two points are 2h apart",
}


def _lstm_problem(seed=0, B=3, H=4):
    rng = np.random.default_rng(seed)
    zx = rng.normal(size=(B, 4 * H))
    h_prev, c_prev = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    W_h = rng.normal(size=(H, 4 * H)) / np.sqrt(H)
    return rng, zx, h_prev, c_prev, W_h


def problems_forward():
    """Exercise 1.1's arguments ``(zx, h_prev, c_prev, W_h)``, three problems."""
    return [_lstm_problem(seed)[1:] for seed in range(3)]


def problems_backward():
    """Exercise 1.2's arguments ``(dh_hat, dc, cache, W_h)``, two problems; ``cache`` is the
    first seven entries of minisab's step cache, ``(h_prev, c_prev, i, f, g, o, tanh_c)``."""
    out = []
    for seed in range(2):
        rng, zx, h_prev, c_prev, W_h = _lstm_problem(seed)
        dh_hat, dc = rng.normal(size=h_prev.shape), rng.normal(size=c_prev.shape)
        cache = tuple(lstm_step_forward(zx, h_prev, c_prev, W_h)[2][:7])
        out.append((dh_hat, dc, cache, W_h))
    return out


@exercise("1.1", "LSTM step forward", answers=("my_lstm_step_forward",), points=2)
def check_lstm_forward(my_lstm_step_forward):
    """``my_lstm_step_forward(zx, h_prev, c_prev, W_h) -> (h_hat, c)`` on 3 random problems."""
    outs = [call(my_lstm_step_forward, *p) for p in problems_forward()]
    key = load("t01")
    for k, out in enumerate(outs):
        assert isinstance(out, tuple) and len(out) >= 2, "return the tuple (h_hat, c)"
        want, wrong = pick(key, f"1.1/{k}"), mistakes(key, f"1.1/{k}")
        close("c", out[1], want["c"], known_wrong=[
            (wrong[m]["c"], FORWARD_HINTS[m]) for m in ("gates_swapped", "g_twice")])
        close("h_hat", out[0], want["h_hat"], known_wrong=[
            (wrong["h_without_tanh"]["h_hat"], FORWARD_HINTS["h_without_tanh"])])
    return "Your step gives minisab's h_hat and c on 3 random problems."


@exercise("1.2", "LSTM step backward", answers=("my_lstm_step_backward",), points=3)
def check_lstm_backward(my_lstm_step_backward):
    """``my_lstm_step_backward(dh_hat, dc, cache, W_h) -> (dz, dh_prev, dc_prev)``, the
    gradients of ``L = sum(dh_hat * h_hat) + sum(dc * c)`` (checked against central finite
    differences when the answers were made)."""
    fields = ("dz", "dh_prev", "dc_prev")
    outs = [call(my_lstm_step_backward, *p) for p in problems_backward()]
    key = load("t01")
    for k, out in enumerate(outs):
        assert isinstance(out, tuple) and len(out) == 3, "return the tuple (dz, dh_prev, dc_prev)"
        want = pick(key, f"1.2/{k}")
        if not all(is_close(o, want[f], 1e-6) for o, f in zip(out, fields)):
            name = which_mistake(out, mistakes(key, f"1.2/{k}"), fields, 1e-6)
            assert name is None, BACKWARD_HINTS.get(name, name)
        for got, f in zip(out, fields):
            close(f, got, want[f], tol=1e-6)
    return "dz, dh_prev and dc_prev match central finite differences."


@exercise("1.3", "central differences", answers=("my_numerical_gradient",), points=1)
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
    wrong = mistakes(load("t01"), "1.3/0")
    want = np.cos(arr) * w
    close("gradient of sum(sin(arr) * w)", got, want, tol=1e-8, known_wrong=[
        (wrong[m]["grad"], hint) for m, hint in GRADIENT_HINTS.items()])
    return "Error below 1e-8: central differences are accurate to O(h^2)."
