"""Exercise 4.5, "SAB in one screen": a complete, self-contained NumPy forward and backward of
a small SAB model (mlp scorer, top-k attention, cross-entropy, memory_write="h"), checked
against ``minisab.loss_and_grads`` to 1e-9 in float64."""
from __future__ import annotations

import inspect

import numpy as np

from ..config import Config
from ..params import init_params
from ..sab import loss_and_grads
from ._verdict import call, exercise, is_close

MAX_LINES = 90          # "one screen": about 80 lines of code, with a little slack


def _problems():
    """(cfg, params, x, targets) for three small models: both sparsifier branches, cuts."""
    for seed, (k_top, k_att, k_trunc, T) in enumerate(((2, 2, 3, 9), (1, 1, 4, 8),
                                                      (3, 3, None, 10))):
        cfg = Config(input_size=3, hidden_size=4, output_size=3, attention="topk", attn_size=3,
                     k_top=k_top, k_att=k_att, method="sab", k_trunc=k_trunc)
        rng = np.random.default_rng(45 + seed)
        yield (cfg, init_params(cfg, seed=seed, forget_bias=1.0), rng.normal(size=(2, T, 3)),
               rng.integers(0, 3, size=(2, T)))


def _uses_minisab(fn) -> bool:
    """Does ``fn`` (or a function nested in it) reach a minisab object by name?"""
    import types
    codes, names = [fn.__code__], set()
    while codes:
        code = codes.pop()
        names.update(code.co_names)
        codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    cells = {n: c.cell_contents for n, c in zip(fn.__code__.co_freevars, fn.__closure__ or ())
             if n}
    for name in names:
        obj = cells.get(name, fn.__globals__.get(name))
        if not (callable(obj) or isinstance(obj, types.ModuleType)):
            continue                         # data (a Config, an array) is not minisab's code
        mod = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", "")
        if isinstance(mod, str) and mod.split(".")[0] == "minisab":
            return True
    return False


def _source_problem(fn):
    if _uses_minisab(fn):
        return ("the exercise is to write it all yourself: your function calls minisab "
                "(NumPy only, no minisab inside)")
    try:
        src = inspect.getsource(fn)
    except (OSError, TypeError):
        return None                                  # defined where the source is not kept
    code = [ln for ln in src.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    if "minisab" in src:
        return ("the exercise is to write it all yourself: no minisab inside your function "
                "(NumPy only)")
    if len(code) > MAX_LINES:
        return (f"{len(code)} lines of code: one screen is about 80. Loop over time once "
                "forward and once backward, and keep per-step values in a list")
    return None


@exercise("4.5 (SAB in one screen)")
def check_sab_in_one_screen(sab_in_one_screen):
    """``sab_in_one_screen(p, x, targets, k_top, k_att, k_trunc, eps) -> (loss, grads)``
    against ``minisab.loss_and_grads`` with ``Config(method="sab", scorer="mlp", loss="xent")``
    to 1e-9 (relative), every parameter."""
    for cfg, params, x, tg in _problems():
        args = ({k: v.copy() for k, v in params.items()}, x.copy(), tg.copy(), cfg.k_top,
                cfg.k_att, cfg.k_trunc, cfg.eps)
        out = call(sab_in_one_screen, *args)
        assert isinstance(out, tuple) and len(out) == 2, "return the pair (loss, grads)"
        loss, grads = out
        where = f"k_top={cfg.k_top}, k_att={cfg.k_att}, k_trunc={cfg.k_trunc}, T={x.shape[1]}"
        want_loss, want, _ = loss_and_grads(params, x, tg, cfg)
        assert abs(float(loss) - float(want_loss)) <= 1e-9 * abs(float(want_loss)), (
            f"{where}: loss {float(loss):.12g}, expected {float(want_loss):.12g} -> the forward "
            "differs: check the gates (i, f, g, o), the null memory (a zero row read from step "
            "0 on), the threshold δ, h_t = ĥ_t + s_t, and y_t = [h_t; s_t] W_y + b_y")
        missing = sorted(set(want) - set(grads))
        assert not missing, f"{where}: grads lacks {missing}"
        bad = [k for k in want if not is_close(grads[k], want[k], 1e-9, 1e-13)]
        if bad:
            for other, hint in ((cfg.replace(method="bptt"), "you did not cut the recurrent "
                                 "edges: under SAB, at every t >= 1 with t % k_trunc == 0, "
                                 "nothing flows from step t back into (h_{t-1}, c_{t-1})"),
                                (cfg.replace(detach_scores=True), "you left out the gradient "
                                 "through the scores (the 'mental update'): each read "
                                 "differentiates a_j = w_s·tanh(ĥW_q + m_jW_m) with respect "
                                 "to ĥ_t and to the memories, threshold memory included")):
                g_other = loss_and_grads(params, x, tg, other)[1]
                if all(is_close(grads[k], g_other[k], 1e-9, 1e-13) for k in want):
                    raise AssertionError(f"{where}: {hint}")
            raise AssertionError(f"{where}: the gradients of {bad} differ from minisab's (the "
                                 "others match). Walk back from the parameters that are wrong.")
    problem = _source_problem(sab_in_one_screen)
    assert problem is None, problem
    return ("Loss and every gradient equal minisab's to 1e-9: you have written SAB, forward "
            "and backward.")
