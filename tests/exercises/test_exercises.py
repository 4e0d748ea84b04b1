"""The checkers of minisab.exercises: every usual mistake gets the hint that names it, every
route to minisab's own code is refused, no reference code ships, the stored answers are up to
date. Fast: no notebook is executed here (tests/exercises/test_grader.py runs real ones)."""
from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import numpy as np
import pytest

import minisab
from minisab import Config, loss_and_grads
from minisab.exercises import REGISTRY, modules, t01, t02, t03, t04, t05, t06, t07, t08

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tutorials" / "solutions"))
import student_answers as sa  # noqa: E402

modules()
CHECKS = {label: getattr(sys.modules[f"minisab.exercises.{ex.tutorial}"], ex.check)
          for label, ex in REGISTRY.items()}


def rejected(check, answer, hint):
    v = check(answer, quiet=True)
    assert v.status == "wrong" and not v, f"{check.__name__}: {v.status}: {v.message}"
    assert hint in v.message, f"{check.__name__}: expected {hint!r} in {v.message!r}"
    return v


def untouched(*args):
    raise NotImplementedError


@pytest.mark.parametrize("label", [k for k, ex in REGISTRY.items() if not
                                   ex.title.startswith("open")])
def test_untouched_is_not_done(label, capsys):
    v = CHECKS[label](untouched)
    assert v.status == "not done" and not v
    out = capsys.readouterr().out
    assert "not done yet" in out and "False" not in out and "Traceback" not in out


@pytest.mark.parametrize("label", sorted(sa.CORRECT))
def test_the_right_answer_passes(label):
    v = CHECKS[label](sa.CORRECT[label], quiet=True)
    assert v.status == "correct", v.message


# ------------------------------------------------------------ every usual mistake, named
HINTS = {       # (label, mistake): words of the hint that name the idea
    ("1.1", "gates_swapped"): "swapped the input and forget gates",
    ("1.1", "g_twice"): "do not squash it twice",
    ("1.1", "h_without_tanh"): "squashed before the output gate",
    ("1.2", "no_hat_to_c"): "h_hat -> c path is missing",
    ("1.2", "no_dc_from_next"): "credit that step t+1 sent back",
    ("1.3", "one_sided_forward"): "one-sided difference",
    ("1.3", "one_sided_backward"): "one-sided difference",
    ("1.3", "no_half"): "divide by 2h",
    ("2.2", "no_dc"): "the cell carries credit too",
    ("2.2", "no_dh_next"): "PLUS dh_prev returned by step t+1",
    ("2.2", "skip_t0"): "you skipped t = 0",
    ("2.2", "forward_order"): "runs forward in time",
    ("2.3", "no_cut"): "you did not cut anything",
    ("2.3", "cut_h_only"): "you cut h but not c",
    ("2.3", "cut_c_only"): "you cut c but not h",
    ("2.3", "cut_late"): "the cut is one step off",
    ("2.3", "cut_early"): "the cut is one step off",
    ("2.3", "end_aligned"): "aligned to the end of the sequence",
    ("2.3", "skip_t0"): "you skipped t = 0",
    ("2.3", "forward_order"): "runs forward in time",
    ("2.3", "no_dc"): "the cell carries credit too",
    ("2.3", "no_dh_next"): "PLUS dh_prev returned by step t+1",
    ("3.1", "kth_threshold"): "(k_top+1)-th largest score",
    ("3.1", "min_minus_one_always"): "only for n <= k_top",
    ("3.1", "min_without_minus_one"): "δ = min(a) - 1",
    ("3.2", "delta_constant"): "you held δ constant",
    ("3.3", "mlp_no_tanh"): "has a tanh between the sum and w_s",
    ("3.4", "no_sum_term"): "the −Σ_i α_i dα_i term is missing",
    ("3.4", "sum_of_dalpha"): "you wrote the Σ term as Σ_i dα_i",
    ("3.4", "forward_tau_only"): "you applied τ in the forward only",
    ("3.4", "tau_ignored"): "left out the temperature τ altogether",
    ("3.4", "softmax_all"): "gave gradient to memories that are not kept (masked out)",
    ("3.4", "no_alpha_factor"): "gave gradient to memories that are not kept (masked out)",
    ("3.4", "unkept_passthrough"): "gave gradient to memories that are not kept (masked out)",
    ("4.4", "added_nothing"): "you added nothing",
    ("4.4", "no_key"): "not through the scores",
    ("4.4", "key_when_detached"): "with detach_scores=True (the course's SAB",
    ("4.4", "j_off_by_one"): "off by one",
    ("4.4", "t_mod"): "not t % k_att == 0",
    ("4.4", "t_mod.next"): "not t % k_att == 0",
    ("4.4", "overwrite"): "you replaced dh instead of adding to it",
}


def test_every_stored_mistake_has_a_test():
    assert set(HINTS) == {(label, m) for label, ms in sa.MISTAKES.items() for m in ms}


@pytest.mark.parametrize("label, mistake", sorted(HINTS))
def test_each_mistake_is_named(label, mistake):
    rejected(CHECKS[label], sa.MISTAKES[label][mistake], HINTS[label, mistake])


def _negated(fn):
    def wrong(*args):
        out = fn(*args)
        if isinstance(out, tuple) and isinstance(out[-1], dict):          # 4.5: (loss, grads)
            return out[0], {k: -v for k, v in out[1].items()}
        return tuple(-o for o in out) if isinstance(out, tuple) else -np.asarray(out)
    return wrong


def _float32(fn):
    def wrong(*args):
        out = fn(*args)
        if isinstance(out, tuple) and isinstance(out[-1], dict):
            return out[0], {k: v.astype(np.float32) for k, v in out[1].items()}
        if isinstance(out, tuple):
            return tuple(np.asarray(o, dtype=np.float32) for o in out)
        return np.asarray(out, dtype=np.float32)
    return wrong


NUMERIC = ("1.1", "1.2", "2.2", "2.3", "3.1", "3.2", "3.3", "3.4", "4.4", "4.5")


@pytest.mark.parametrize("label", NUMERIC)
def test_a_flipped_sign_is_named(label):
    rejected(CHECKS[label], _negated(sa.CORRECT[label]), "the sign is flipped")


@pytest.mark.parametrize("label", NUMERIC)
def test_float32_is_named(label):
    rejected(CHECKS[label], _float32(sa.CORRECT[label]), "Keep float64: the tolerance is 1e-9")


def test_states_reached_names_both_sabs():
    def with_threshold(kept, thr, k_att, k_trunc, t, detach=True):   # the variant's answer
        return sa.states_reached(kept, thr, k_att, k_trunc, t, detach_scores=False)

    def without_threshold(kept, thr, k_att, k_trunc, t, detach=True):
        return sa.states_reached(kept, thr, k_att, k_trunc, t, detach_scores=True)
    rejected(t04.check_states_reached, with_threshold, "the threshold memory (weight 0) gets")
    rejected(t04.check_states_reached, without_threshold, "and the threshold memory")
    rejected(t04.check_states_reached, lambda *a: list(range(a[4] + 1)), "Too many")
    rejected(t04.check_states_reached, lambda *a: [a[4]], "Missing")


@pytest.mark.parametrize("slip, hint", [
    ("gates_swapped", "your forward first differs at step 0; at step 0 only the null memory"),
    ("write_early", "first differs at step 1"),
    ("no_delta_grad", "The smallest problem that fails is one memory"),
    ("no_cut", "you did not cut the recurrent edges"),
    ("always_mental", "The course's SAB detaches them (detach_scores=True)"),
    ("never_mental", "with detach_scores=False (the variant with mental updates)"),
])
def test_sab_in_one_screen_says_where(slip, hint):
    rejected(t04.check_sab_in_one_screen, partial(sa.sab_in_one_screen, slip=slip), hint)


# ------------------------------------------------- no answer ships, none can be borrowed
def _dense_softmax_backward(dalpha, a, k, tau):                # a wrapper of minisab's own
    from minisab.sparsifiers import topk_softmax_backward, topk_softmax_forward
    _, act, cache = topk_softmax_forward(a, k, tau)
    da = np.zeros_like(a)
    np.put_along_axis(da, act, topk_softmax_backward(np.take_along_axis(dalpha, act, 1), cache), 1)
    return da


def _screen(p, x, tg, k_top, k_att, k_trunc, eps=1e-7, detach_scores=True, _f=loss_and_grads):
    H, A = p["W_q"].shape                                      # a default argument
    cfg = Config(input_size=x.shape[2], hidden_size=H, output_size=p["b_y"].shape[0],
                 attn_size=A, k_top=k_top, k_att=k_att, k_trunc=k_trunc, eps=eps,
                 method="sab", detach_scores=detach_scores)
    loss, grads, _ = _f(p, x, tg, cfg)
    return loss, grads


def _closure():
    backward = minisab.sab.backward                            # a closure over minisab

    def my_bptt(dh_out, caches, W_h):
        backward(None, None, None)
    return my_bptt


def _helper(dh_out, caches, W_h):                              # a helper, an attribute lookup
    return sa.loop(dh_out, caches, W_h)[:1] + (minisab.backward,)


@pytest.mark.parametrize("label, answer, name", [
    ("3.4", _dense_softmax_backward, "minisab.sparsifiers.topk_softmax_forward"),
    ("4.5", _screen, "minisab.sab.loss_and_grads"),
    ("2.2", _closure(), "minisab.sab.backward"),
    ("3.1", lambda a, k, eps: t03.load("t03")["3.1/0/want"], "minisab.exercises._answers.load"),
    ("1.1", lambda *a: t01._lstm_problem(0)[1:3], "minisab.exercises.t01._lstm_problem"),
    ("2.4", lambda G, thr: minisab.credit.flow.credit_reach(G, thr), "minisab.credit.flow.credit_reach"),
])
def test_borrowed_minisab_code_is_refused(label, answer, name):
    import minisab.credit.flow  # noqa: F401
    v = rejected(CHECKS[label], answer, name)
    assert "write it yourself" in v.message


def test_what_an_exercise_hands_out_is_allowed():
    assert t02.check_bptt_loop(sa.CORRECT["2.2"], quiet=True)     # calls lstm_step_backward
    assert t04.check_memory_credit(sa.CORRECT["4.4"], quiet=True)  # calls key_backward
    v = t02.check_bptt_loop(_helper, quiet=True)                  # returns a function
    assert v.status == "wrong" and "return arrays" in v.message


def test_no_reference_code_in_the_checkers():
    """The helpers the checkers used to carry (each passed when handed in) are gone."""
    for mod, name in ((t02, "_reverse_walk"), (t04, "_bookkeeping"), (t03, "_dense_topk"),
                      (t06, "_h_bound"), (t08, "_mean_of_top_host"), (t01, "_step_backward"),
                      (t05, "_first_memory_holding"), (t04, "_walk")):
        assert not hasattr(mod, name), f"{mod.__name__}.{name}"
    for mod in (t01, t02, t03, t04, t06, t07):
        assert "from ..sab import" not in Path(mod.__file__).read_text(encoding="utf-8")


def test_the_stored_answers_are_up_to_date():
    import make_answers
    assert make_answers.main(["--check"]) == 0


# ------------------------------------------------------ the predictions and open exercises
def test_tutorial05_to_08_hints():
    import math
    assert t05.check_blank_model(lambda T, n, V: ((T + n) / (T + 2 * n), 0.0), quiet=True)
    rejected(t05.check_blank_model, lambda T, n, V: ((T + n) / (T + 2 * n), 1 / V),
             "1 / n_symbols is chance")
    rejected(t05.check_blank_model, lambda T, n, V: (0.0, 0.0), "most targets ARE blanks")
    assert t05.check_digit_memory(lambda i, k: math.ceil((i + 1) / k), quiet=True)
    rejected(t05.check_digit_memory, lambda i, k: (i + 1) // k, "round up")
    rejected(t06.check_memories_read, lambda t, k_att, k_top, att: 1 + t // k_att,
             "exactly 0, however many")
    rejected(t06.check_h_bound, lambda t, k, w: 1.0, "how large can a memory be")
    assert t06.check_h_bound(lambda t, k, w: 1 + (t // k if w == "h" else min(t // k, 1)),
                             quiet=True)
    assert t07.check_tbptt_replay(lambda T, k: T * (T - 1) / 2 if k is None else
                                  sum(t % k for t in range(T)), quiet=True)
    rejected(t08.check_refused_lines, lambda: {2, 4, 8, 9, 11}, "DEFAULT device")


def test_open_exercises_grade_the_measurable_part():
    from minisab.train.tasks import make_task
    task = make_task("copy", 6, n_digits=2, n_symbols=4)
    base = Config(input_size=task.input_size, hidden_size=4, output_size=task.output_size,
                  attention=None, method="tbptt", k_trunc=3)
    L = 6 + 2 * 2
    assert t05.check_open_tbptt(base, base.replace(k_trunc=None), task, L * (L - 1) / 2,
                                quiet=True)
    v = t05.check_open_tbptt(base, base.replace(k_trunc=6), task, 1.0, quiet=True)
    assert v.status == "wrong" and "separated by a cut" in v.message
    sab = Config(input_size=3, hidden_size=4, output_size=3, attn_size=3, k_top=2, k_att=1,
                 method="sab", k_trunc=3)
    assert t06.check_open_bounded_state(sab, sab.replace(memory_write="h_hat"), quiet=True)
    v = t06.check_open_bounded_state(sab, sab.replace(k_att=50), quiet=True)
    assert "Change what is written" in v.message
    run = {"cfg": sab.replace(k_top=3), "records": [{"step": 0, "accuracy": 0.2},
                                                     {"step": 50, "accuracy": 0.95}]}
    assert t07.check_open_ablation(sab, run, 50, quiet=True)
    assert not t07.check_open_ablation(sab, run, None, quiet=True)
    assert t07.check_open_ablation(sab, None, None, quiet=True).status == "not done"
