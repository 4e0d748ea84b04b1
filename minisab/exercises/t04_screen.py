"""Exercise 4.5, "SAB in one screen": a complete, self-contained NumPy forward and backward of
a small SAB model (mlp scorer, top-k attention, cross-entropy, memory_write="h"), checked against
stored results of ``minisab.loss_and_grads`` to 1e-9 in float64, for both SABs: the course's
(``detach_scores=True``, no mental updates) and the variant with mental updates.

Where the answer is wrong the checker says where: for the forward, the first step whose loss
differs (the student's function is also run on the first 1, 2, ... steps of a problem) and what
happens first at that step; for the backward, the smallest problem that fails (T = 1, T = 2, one
memory, k_trunc = 1) and the gradients that differ there."""
from __future__ import annotations

import inspect

import numpy as np

from ._answers import load, mistakes, pick
from ._verdict import call, exercise, generic_mistake, is_close

MAX_LINES = 90          # "one screen": about 80 lines of code, with a little slack
MAIN = ((2, 2, 3, 9), (1, 1, 4, 8), (3, 3, None, 10))         # (k_top, k_att, k_trunc, T)
SUB = (("T = 1", (2, 2, 3, 1)), ("T = 2", (2, 2, 3, 2)), ("one memory", (2, 2, 3, 3)),
       ("k_trunc = 1", (2, 1, 1, 5)))
SIZES = {"I": 3, "H": 4, "A": 3, "C": 3, "B": 2}
HINTS = {
    "no_cut": "you did not cut the recurrent edges: under SAB, at every t >= 1 with "
              "t % k_trunc == 0, nothing flows from step t back into (h_{t-1}, c_{t-1})",
    "mental_swapped": None,          # the hint depends on which SAB failed (below)
}


def screen_problem(seed, k_top, k_att, k_trunc, T):
    """``(p, x, targets, k_top, k_att, k_trunc, eps)``: random parameters of every SAB shape."""
    I, H, A, C, B = (SIZES[k] for k in "IHACB")
    rng = np.random.default_rng(45 + seed)
    p = {"W_x": rng.normal(size=(I, 4 * H)) / np.sqrt(I),
         "W_h": rng.normal(size=(H, 4 * H)) / np.sqrt(H),
         "b": np.concatenate([np.zeros(H), np.ones(H), np.zeros(2 * H)]),
         "W_q": rng.normal(size=(H, A)), "W_m": rng.normal(size=(H, A)), "w_s": rng.normal(size=A),
         "W_y": rng.normal(size=(2 * H, C)) / np.sqrt(2 * H), "b_y": np.zeros(C)}
    x, targets = rng.normal(size=(B, T, I)), rng.integers(0, C, size=(B, T))
    return p, x, targets, k_top, k_att, k_trunc, 1e-7


def problems():
    """Every call the checker makes, as ``(key, args)``: the three problems with both SABs,
    the small ones with the course's SAB, and the prefixes of problem 0 (forward diagnosis)."""
    out = []
    for detach in (True, False):
        for k, case in enumerate(MAIN):
            out.append((f"main/{k}/{int(detach)}", screen_problem(k, *case) + (detach,)))
    for k, (_, case) in enumerate(SUB):
        out.append((f"sub/{k}", screen_problem(10 + k, *case) + (True,)))
    p, x, tg, *rest = screen_problem(0, *MAIN[0])
    for n in range(1, MAIN[0][3] + 1):
        out.append((f"prefix/{n}", (p, x[:, :n].copy(), tg[:, :n].copy(), *rest, True)))
    return out


def _forward_hint(t, k_top, k_att) -> str:
    """What happens first at step t of a SAB forward (the suspects when its loss differs)."""
    if t == 0:
        return ("at step 0 only the null memory exists (s_0 = 0, h_0 = ĥ_0): check the LSTM "
                "step (gates i, f, g, o in that order, c_t, ĥ_t = o·tanh c_t), the output "
                "y_t = [h_t; s_t] W_y + b_y and the mean cross-entropy over all B·T positions")
    if t < k_att:
        return ("steps before it agree, and only the null memory can be read before step "
                "k_att: check what step t takes from step t-1 (h_{t-1} = ĥ_{t-1} + s_{t-1}, "
                "c_{t-1}), and that no memory is written before step k_att-1 (h_t is written "
                "after step t when (t+1) % k_att == 0)")
    if t == k_att:
        return (f"step {t} is the first that reads a written memory (h_{k_att - 1}, written "
                "after step k_att-1): check the memory write ((t+1) % k_att == 0), the scores "
                "a_j = w_s·tanh(ĥ_t W_q + m_j W_m), δ = min a - 1 with every memory kept, ε, "
                "and s_t = Σ_j α_j m_j")
    if t == k_top * k_att:
        return (f"step {t} is the first with more memories than k_top = {k_top}: check the "
                "n > k_top branch, δ = the (k_top+1)-th largest score, and that only the k_top "
                "best memories get a weight")
    return ("check the memory writes (after step t when (t+1) % k_att == 0) and the reads at "
            "this step")


def _source_lines(fn) -> int | None:
    fn = getattr(fn, "fn", fn)                       # the student's function inside Guarded
    src = getattr(fn, "__minisab_source__", None)    # set by the grader, which has no file
    if src is None:
        try:
            src = inspect.getsource(fn)
        except (OSError, TypeError):
            return None
    return len([ln for ln in src.splitlines() if ln.strip() and not ln.strip().startswith("#")])


def _unpack(out, where):
    assert isinstance(out, tuple) and len(out) == 2, f"{where}: return the pair (loss, grads)"
    loss, grads = out
    assert isinstance(grads, dict), f"{where}: grads must be a dict of arrays, one per parameter"
    try:
        return float(loss), grads
    except (TypeError, ValueError):
        raise AssertionError(f"{where}: the loss must be a number") from None


def _bad_grads(grads, want) -> list:
    return [k for k in want if k not in grads or not is_close(grads[k], want[k], 1e-9, 1e-13)]


def _describe(case, detach=True):
    k_top, k_att, k_trunc, T = case
    return (f"k_top={k_top}, k_att={k_att}, k_trunc={k_trunc}, T={T}, "
            f"detach_scores={detach}")


@exercise("4.5", "SAB in one screen", answers=("sab_in_one_screen",), points=6)
def check_sab_in_one_screen(sab_in_one_screen):
    """``sab_in_one_screen(p, x, targets, k_top, k_att, k_trunc, eps, detach_scores) ->
    (loss, grads)`` as ``minisab.loss_and_grads`` gives them with ``Config(method="sab",
    scorer="mlp", loss="xent", detach_scores=...)``, to 1e-9 (relative), every parameter;
    ``detach_scores=True`` is the course's SAB, ``False`` the variant with mental updates."""
    calls = problems()
    outs = {key: call(sab_in_one_screen, *args) for key, args in calls}
    data = load("t04")
    for key in [k for k, _ in calls if k.startswith("main/")]:
        _, k, detach = key.split("/")
        case, detach = MAIN[int(k)], detach == "1"
        where = _describe(case, detach)
        loss, grads = _unpack(outs[key], where)
        want = pick(data, f"4.5/{key}")
        want_grads = {n[6:]: v for n, v in want.items() if n.startswith("grads/")}
        for name in ("loss", *want_grads):
            got = loss if name == "loss" else grads.get(name)
            hint = got is not None and generic_mistake(
                f"{where}: {name}", got, want["loss" if name == "loss" else f"grads/{name}"],
                1e-9, 1e-13)
            assert not hint, hint
        if abs(loss - float(want["loss"])) > 1e-9 * abs(float(want["loss"])):
            first = next((n for n in range(1, MAIN[0][3] + 1)
                          if abs(_unpack(outs[f"prefix/{n}"], where)[0]
                                 - float(data[f"4.5/prefix/{n}/loss"]))
                          > 1e-9 * abs(float(data[f"4.5/prefix/{n}/loss"]))), None)
            detail = (f"On {_describe(MAIN[0])} the loss over the first {first} steps already "
                      f"differs, the first {first - 1} agree: your forward first differs at step "
                      f"{first - 1}; {_forward_hint(first - 1, *MAIN[0][:2])}." if first else
                      "Check the forward step by step against minisab.forward's values.")
            raise AssertionError(f"{where}: loss {loss:.12g}, expected {float(want['loss']):.12g}"
                                 f" -> the forward differs. {detail}")
        missing = sorted(set(want_grads) - set(grads))
        assert not missing, f"{where}: grads lacks {missing}"
        bad = _bad_grads(grads, want_grads)
        if not bad:
            continue
        for name, wrong in mistakes(data, f"4.5/{key}").items():
            if not _bad_grads(grads, {n[6:]: v for n, v in wrong.items() if n.startswith("grads/")}):
                raise AssertionError(f"{where}: " + (HINTS[name] or (
                    "you let credit flow through the scores into ĥ_t and the memories (mental "
                    "updates). The course's SAB detaches them (detach_scores=True): the scores "
                    "still train W_q, W_m and w_s, but nothing of da reaches a state."
                    if detach else "with detach_scores=False (the variant with mental updates) "
                    "each read also differentiates a_j = w_s·tanh(ĥ_t W_q + m_j W_m) with respect "
                    "to ĥ_t and to the memories, threshold memory included")))
        smallest = ""
        for k_sub, (label, case) in enumerate(SUB):
            loss_s, grads_s = _unpack(outs[f"sub/{k_sub}"], label)
            ws = pick(data, f"4.5/sub/{k_sub}")
            bad_s = _bad_grads(grads_s, {n[6:]: v for n, v in ws.items() if n.startswith("grads/")})
            if bad_s or abs(loss_s - float(ws["loss"])) > 1e-9 * abs(float(ws["loss"])):
                smallest = (f" The smallest problem that fails is {label} ({_describe(case)}): "
                            + (f"gradients of {bad_s} differ there." if bad_s else
                               "its loss differs there."))
                break
        raise AssertionError(f"{where}: the gradients of {bad} differ from minisab's (the "
                             f"others match).{smallest or ' Every smaller problem passes.'}")
    lines = _source_lines(sab_in_one_screen)
    assert lines is None or lines <= MAX_LINES, (
        f"{lines} lines of code: one screen is about 80. Loop over time once forward and once "
        "backward, and keep per-step values in a list")
    return ("Loss and every gradient equal minisab's to 1e-9, for both SABs: you have written "
            "SAB, forward and backward.")
