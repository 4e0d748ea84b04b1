"""The checkers of tutorials 1-6 and 8 (minisab.exercises): each rejects wrong answers and recognises
the common ones, with the hint that names the missing idea; the course commands (release, grade)
work. Fast: no notebook is executed except one tiny one for ``grade --execute``."""
from __future__ import annotations

import numpy as np
import pytest

from minisab import Config, loss_and_grads
from minisab.attention import key_backward
from minisab.exercises import course, t01, t02, t03, t04, t05, t06, t08
from minisab.exercises.__main__ import main
from minisab.lstm import lstm_step_backward, lstm_step_forward


def rejected(check, wrong, hint):
    v = check(wrong, quiet=True)
    assert v.status == "wrong" and not v, f"{check.__name__}: {v.status}: {v.message}"
    assert hint in v.message, f"{check.__name__}: expected {hint!r} in {v.message!r}"


def untouched(*args):
    raise NotImplementedError


@pytest.mark.parametrize("check", [
    t01.check_lstm_forward, t01.check_lstm_backward, t01.check_numerical_gradient,
    t02.check_tbptt_max_lag, t02.check_bptt_loop, t02.check_tbptt_loop, t02.check_credit_reach,
    t03.check_topk, t03.check_topk_backward, t03.check_scores,
    t03.check_topk_softmax_backward, t04.check_sab_like_bptt,
    t04.check_bptt_replay, t04.check_states_reached, t04.check_memory_credit,
    t04.check_sab_in_one_screen, t05.check_blank_model, t05.check_digit_memory,
    t06.check_memories_read, t06.check_h_bound, t08.check_refused_lines,
    t08.check_mean_of_top_memories], ids=lambda c: c.__name__)
def test_untouched_is_not_done(check, capsys):
    v = check(untouched)
    assert v.status == "not done" and not v
    out = capsys.readouterr().out
    assert "not done yet" in out and "False" not in out and "Traceback" not in out


# ------------------------------------------------------------------------------ tutorial 1
def _backward(dh_hat, dc, cache, W_h, hat_to_c=True, from_next=True):
    h_prev, c_prev, i, f, g, o, tanh_c = cache
    dc_t = (dc if from_next else 0.0) + (dh_hat * o * (1 - tanh_c ** 2) if hat_to_c else 0.0)
    dz = np.concatenate([dc_t * g * i * (1 - i), dc_t * c_prev * f * (1 - f),
                         dc_t * i * (1 - g ** 2), dh_hat * tanh_c * o * (1 - o)], axis=1)
    return dz, dz @ W_h.T, dc_t * f


def test_tutorial01_hints():
    def gates_swapped(zx, h_prev, c_prev, W_h):                # f and i exchanged
        H = h_prev.shape[1]
        perm = np.r_[H:2 * H, 0:H, 2 * H:4 * H]
        return lstm_step_forward(zx[:, perm], h_prev, c_prev, W_h[:, perm])[:2]

    def one_sided(f, arr, h=1e-5):
        grad, f0 = np.zeros(arr.shape), f()
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + h
            grad[idx] = (f() - f0) / h
            arr[idx] = old
        return grad

    rejected(t01.check_lstm_forward, gates_swapped, "swapped the input and forget gates")
    rejected(t01.check_lstm_backward, lambda *a: _backward(*a, hat_to_c=False),
             "h_hat -> c path is missing")
    rejected(t01.check_lstm_backward, lambda *a: _backward(*a, from_next=False),
             "credit that step t+1 sent")
    rejected(t01.check_numerical_gradient, one_sided, "one-sided difference")
    assert t01.check_lstm_backward(_backward, quiet=True)


# ------------------------------------------------------------------------------ tutorial 2
def _loop(dh_out, caches, W_h, k_trunc=None, cut_c=True, use_c=True, shift=0):
    B, T, H = dh_out.shape
    dH, dZ = np.zeros((B, T, H)), np.zeros((B, T, 4 * H))
    dh_next, dc_next = np.zeros((B, H)), np.zeros((B, H))
    for t in range(T - 1, -1, -1):
        dH[:, t] = dh_out[:, t] + dh_next
        dZ[:, t], dh_next, dc_next = lstm_step_backward(
            dH[:, t], dc_next if use_c else np.zeros((B, H)), caches[t], W_h)
        if k_trunc is not None and t + shift >= 1 and (t + shift) % k_trunc == 0:
            dh_next = np.zeros((B, H))
            dc_next = np.zeros((B, H)) if cut_c else dc_next
    return dH, dZ


def test_tutorial02_loops_and_hints():
    assert t02.check_bptt_loop(_loop, quiet=True)
    assert t02.check_tbptt_loop(lambda a, c, W, k: _loop(a, c, W, k), quiet=True)
    rejected(t02.check_bptt_loop, lambda *a: _loop(*a, use_c=False), "the cell carries credit")
    rejected(t02.check_tbptt_loop, lambda a, c, W, k: _loop(a, c, W), "did not cut")
    rejected(t02.check_tbptt_loop, lambda a, c, W, k: _loop(a, c, W, k, cut_c=False),
             "cut h but not c")
    rejected(t02.check_tbptt_loop, lambda a, c, W, k: _loop(a, c, W, k, shift=1), "off by one")
    rejected(t02.check_tbptt_max_lag, lambda t, k: k - 1, "chunks are aligned")
    rejected(t02.check_tbptt_max_lag, lambda t, k: t, "non-zero credit up to lag")


# ------------------------------------------------------------------------------ tutorial 3
def _topk(a, k_top, eps=1e-7, kth=False):
    n = a.shape[1]
    desc = np.sort(a, axis=1)[:, ::-1]
    delta = desc[:, k_top - 1 if kth else k_top] if n > k_top else a.min(axis=1) - 1.0
    a_t = np.maximum(a - delta[:, None], 0.0)
    return a_t / (a_t.sum(axis=1, keepdims=True) + eps)


def _topk_backward_delta_constant(dalpha, a, k_top, eps=1e-7):
    n = a.shape[1]
    delta = np.sort(a, axis=1)[:, ::-1][:, k_top] if n > k_top else a.min(axis=1) - 1.0
    a_t = np.maximum(a - delta[:, None], 0.0)
    S = a_t.sum(axis=1, keepdims=True) + eps
    alpha = a_t / S
    return (dalpha - np.sum(alpha * dalpha, axis=1, keepdims=True)) / S * (a_t > 0)


def test_tutorial03_hints():
    assert t03.check_topk(_topk, quiet=True)
    rejected(t03.check_topk, lambda a, k, eps: _topk(a, k, eps, kth=True), "(k_top+1)-th")
    rejected(t03.check_topk_backward, _topk_backward_delta_constant, "held δ constant")


def _softmax_backward(dalpha, a, k_top, tau, *, fwd_tau=None, use_tau=True, use_sum=True,
                      kept_only=True, scale_alpha=True):
    """Exercise 3.4 written by hand; each keyword switches on one usual slip."""
    n = a.shape[1]
    m = n if not kept_only else min(n, k_top)
    idx = np.argsort(-a, axis=1)[:, :m]                       # the kept memories
    z = np.take_along_axis(a, idx, axis=1) / (tau if fwd_tau is None else fwd_tau)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    alpha = e / e.sum(axis=1, keepdims=True)
    d = np.take_along_axis(dalpha, idx, axis=1)
    inner = d - np.sum(alpha * d, axis=1, keepdims=True) if use_sum else d
    d_kept = (alpha * inner if scale_alpha else inner) / (tau if use_tau else 1.0)
    da = np.zeros_like(a) if scale_alpha else (dalpha - np.sum(alpha * d, axis=1,
                                                                keepdims=True)) / tau
    np.put_along_axis(da, idx, d_kept, axis=1)
    return da


def test_tutorial03_softmax_backward_hints():
    check = t03.check_topk_softmax_backward
    assert check(_softmax_backward, quiet=True)
    rejected(check, lambda *a: _softmax_backward(*a, use_tau=False), "forgot the 1/τ factor")
    rejected(check, lambda d, a, k, t: _softmax_backward(d, a, k, t, fwd_tau=1.0, use_tau=False),
             "left out the temperature")
    rejected(check, lambda *a: _softmax_backward(*a, use_sum=False), "forgot the −Σ_i α_i dα_i")
    rejected(check, lambda *a: _softmax_backward(*a, kept_only=False),      # softmax over all n
             "gave gradient to memories that are not kept")
    rejected(check, lambda *a: _softmax_backward(*a, scale_alpha=False),    # no α_j in front
             "the factor α_j in front is missing")
    rejected(check, lambda d, *a: np.where(_softmax_backward(d, *a) != 0, _softmax_backward(d, *a),
                                           d), "passed dα through unchanged")
    rejected(check, lambda *a: -_softmax_backward(*a), "max|yours - expected|")   # no known slip


# ------------------------------------------------------------------------------ tutorial 4
def _memory_credit(t, dh, dM, dK, M, K, params, cfg, key=True, j_offset=0):
    if (t + 1) % cfg.k_att != 0:
        return dh
    j = (t + 1) // cfg.k_att + j_offset
    dm = key_backward(dK[:, j], M[:, j], K[:, j], params, cfg.scorer)[0] if key else 0.0
    return dh + dM[:, j] + dm


def _screen_via_minisab(method):
    """A wrong "SAB in one screen": minisab's own gradient of another method."""
    def sab(p, x, targets, k_top, k_att, k_trunc, eps=1e-7):
        H, A = p["W_q"].shape
        cfg = Config(input_size=x.shape[2], hidden_size=H, output_size=p["b_y"].shape[0],
                     attn_size=A, k_top=k_top, k_att=k_att, k_trunc=k_trunc, eps=eps,
                     **method)
        loss, grads, _ = loss_and_grads(p, x, targets, cfg)
        return loss, grads
    return sab


def test_tutorial04_hints():
    assert t04.check_memory_credit(_memory_credit, quiet=True)
    rejected(t04.check_memory_credit, lambda *a: a[1], "you added nothing")
    rejected(t04.check_memory_credit, lambda *a: _memory_credit(*a, key=False),
             "not through the scores")
    rejected(t04.check_memory_credit, lambda *a: _memory_credit(*a, j_offset=-1), "off by one")
    rejected(t04.check_sab_like_bptt, lambda cfg: cfg.replace(k_trunc=10 ** 9), "Any length")
    rejected(t04.check_sab_like_bptt, lambda cfg: cfg.replace(method="bptt"), "keep method")
    rejected(t04.check_bptt_replay, lambda T: T * (T + 1) / 2, "counted states")
    rejected(t04.check_states_reached, lambda cache, b, t: list(range(t + 1)), "Too many")
    rejected(t04.check_states_reached, lambda cache, b, t: [t], "Missing")
    rejected(t04.check_sab_in_one_screen, _screen_via_minisab({"method": "bptt"}),
             "did not cut")
    rejected(t04.check_sab_in_one_screen,
             _screen_via_minisab({"method": "sab", "detach_scores": True}),
             "gradient through the scores")
    # minisab's own gradient is right, but the exercise is to write it: refused by its source
    rejected(t04.check_sab_in_one_screen, _screen_via_minisab({"method": "sab"}), "no minisab")


# ------------------------------------------------------------------------------ tutorial 5
def test_tutorial05_predictions_and_hints():
    import math
    assert t05.check_blank_model(lambda T, n, V: ((T + n) / (T + 2 * n), 0.0), quiet=True)
    rejected(t05.check_blank_model, lambda T, n, V: ((T + n) / (T + 2 * n), 1 / V),
             "1 / n_symbols is chance for a model that guesses")
    rejected(t05.check_blank_model, lambda T, n, V: ((T + n - 1) / (T + 2 * n), 0.0),
             "the marker's step")                          # the marker's target is a blank too
    rejected(t05.check_blank_model, lambda T, n, V: (0.0, 0.0), "most targets ARE blanks")
    rejected(t05.check_blank_model, lambda T, n, V: (100 * (T + n) / (T + 2 * n), 0.0),
             "percentages")
    assert t05.check_digit_memory(lambda i, k: math.ceil((i + 1) / k), quiet=True)
    rejected(t05.check_digit_memory, lambda i, k: i, "null memory")
    rejected(t05.check_digit_memory, lambda i, k: (i + 1) // k, "round up")
    rejected(t05.check_digit_memory, lambda i, k: i + 1, "only every k_att steps")


# ------------------------------------------------------------------------------ tutorial 6
def _memories_read(t, k_att, k_top, attention, null=1, threshold=0, softmax_k=False):
    n_t = null + t // k_att
    if attention == "topk" or softmax_k:
        return min(n_t, k_top + threshold) if n_t > k_top else n_t
    return n_t


def test_tutorial06_predictions_and_hints():
    assert t06.check_memories_read(_memories_read, quiet=True)
    rejected(t06.check_memories_read, lambda *a: _memories_read(*a, null=0),
             "the null memory counts")
    rejected(t06.check_memories_read, lambda *a: _memories_read(*a, threshold=1),
             "the threshold memory")
    rejected(t06.check_memories_read, lambda t, k_att, k_top, att: k_top if att == "topk" else
             1 + t // k_att, "every one is kept")
    rejected(t06.check_memories_read, lambda *a: _memories_read(*a, softmax_k=True),
             "a softmax has no k_top")
    rejected(t06.check_memories_read, lambda t, k_att, k_top, att: 1 + t // k_att,
             "exactly 0, however many")
    written = lambda t, k: t // k                            # noqa: E731
    rejected(t06.check_h_bound, lambda t, k, w: 1.0, "how large can a memory be")
    rejected(t06.check_h_bound, lambda t, k, w: 1 + written(t, k), "not the least bound")
    rejected(t06.check_h_bound, lambda t, k, w: 1 + ((t + 1) // k if w == "h" else
                                                     min((t + 1) // k, 1)), "not the least bound")


# ------------------------------------------------------------------------------ tutorial 8
def test_tutorial08_predictions_and_hints():
    from minisab.backend import gather_rows, namespace, to_host, topk_indices
    assert t08.check_refused_lines(lambda: {2, 4, 5, 8, 9, 11}, quiet=True)
    rejected(t08.check_refused_lines, lambda: {2, 4, 8, 9, 11}, "DEFAULT device")
    rejected(t08.check_refused_lines, lambda: {2, 3, 4, 5, 8, 9, 11}, "Python scalar has no device")
    rejected(t08.check_refused_lines, lambda: {2, 4, 5, 9, 11}, "an index ARRAY is data too")
    rejected(t08.check_refused_lines, lambda: {12}, "there is no line 12")

    def top_mean_numpy_only(a, M, k):                  # the tutorial's NumPy-only snippet
        idx = np.argsort(-a, axis=1)[:, :k]
        return M[np.arange(a.shape[0])[:, None], idx].mean(axis=1)

    def top_mean_on_host(a, M, k):                     # right values, but left the device
        return to_host(namespace(a).mean(gather_rows(M, topk_indices(a, k)), axis=1))

    rejected(t08.check_mean_of_top_memories, top_mean_numpy_only, "NumPy-only call")
    rejected(t08.check_mean_of_top_memories, top_mean_on_host, "host (NumPy) value")


# ----------------------------------------------------------------------- release and grade
def test_release_leaves_solutions_out(tmp_path, capsys):
    out = tmp_path / "course"
    assert main(["release", str(out), "--pip-spec", "minisab-from-here"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert "01_lstm_from_scratch.ipynb" in names and "README.md" in names
    assert not any("solution" in n for n in names)
    import nbformat
    nb = nbformat.read(out / "01_lstm_from_scratch.ipynb", as_version=4)
    assert "PIP_SPEC = 'minisab-from-here'" in nb.cells[2].source
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    assert main(["release", str(out)]) == 2                  # never over an existing folder
    assert "it exists" in capsys.readouterr().err


def test_release_for_nbgrader(tmp_path):
    import nbformat
    course.release(tmp_path / "nbg", nbgrader=True)
    nb = nbformat.read(tmp_path / "nbg" / "03_memory_and_sparse_attention.ipynb", as_version=4)
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(tests) == len(answers) == 4
    assert all(c.source.startswith("assert t03.check_") for c in tests)
    assert all("check_" not in c.source for c in answers)


def _notebook(*sources):
    import nbformat
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def test_grade_reads_the_verdicts(tmp_path):
    import nbformat
    nb = _notebook("t01.check_lstm_forward(f)", "t01.check_lstm_backward(g)",
                   "t01.check_numerical_gradient(h)", "t03.check_topk(k)")
    say = ["Exercise 1.1 (LSTM step forward): correct. Fine.\n",
           "Exercise 1.2 (LSTM step backward): not right yet. dz: the h_hat -> c path.\n",
           "Exercise 1.3 (central differences): not done yet -- fill in the exercise cell.\n"]
    for cell, text in zip(nb.cells, say):
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    nbformat.write(nb, tmp_path / "student.ipynb")
    rows = course.grade(tmp_path / "student.ipynb")
    assert [(r["status"], r["passed"]) for r in rows] == [
        ("correct", True), ("wrong", False), ("not done", False), ("not run", False)]
    assert "h_hat -> c path" in rows[1]["hint"]
    assert "1 of 4 passed" in course.format_table(rows)
    assert main(["grade", str(tmp_path / "missing.ipynb")]) == 2


@pytest.mark.notebooks
def test_grade_executes_a_notebook(tmp_path, capsys):
    import nbformat
    nb = _notebook("from minisab.exercises import t04",
                   "t04.check_sab_like_bptt(lambda cfg: cfg.replace(k_trunc=None))",
                   "t04.check_bptt_replay(lambda T: T * T)")
    nbformat.write(nb, tmp_path / "student.ipynb")
    assert main(["grade", str(tmp_path / "student.ipynb"), "--execute", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"passed": true' in out and '"passed": false' in out


# ------------------------------------------------------ the open exercises of tutorials 5-7
def test_open_exercises_grade_the_measurable_part():
    from minisab.exercises import t05, t06, t07
    from minisab.tasks import make_task
    task = make_task("copy", 6, n_digits=2, n_symbols=4)
    base = Config(input_size=task.input_size, hidden_size=4, output_size=task.output_size,
                  attention=None, method="tbptt", k_trunc=3)
    L = 6 + 2 * 2
    assert t05.check_open_tbptt(base, base.replace(k_trunc=None), task, L * (L - 1) / 2,
                                quiet=True)
    rejected(lambda w, **k: t05.check_open_tbptt(base, w, task, 1.0, **k),
             base.replace(k_trunc=6), "separated by a cut")
    rejected(lambda w, **k: t05.check_open_tbptt(base, w, task, 1.0, **k),
             base.replace(method="bptt"), "keep method='tbptt'")
    rejected(lambda w, **k: t05.check_open_tbptt(base, w, task, 1.0, **k),
             base.replace(k_trunc=None), "flow.backward_work measures 45")
    sab = Config(input_size=3, hidden_size=4, output_size=3, attn_size=3, k_top=2, k_att=1,
                 method="sab", k_trunc=3)
    assert t06.check_open_bounded_state(sab, sab.replace(memory_write="h_hat"), quiet=True)
    rejected(lambda w, **k: t06.check_open_bounded_state(sab, w, **k), sab.replace(k_att=50),
             "Change what is written")
    run = {"cfg": sab.replace(k_top=3), "records": [{"step": 0, "accuracy": 0.2},
                                                     {"step": 50, "accuracy": 0.95}]}
    assert t07.check_open_ablation(sab, run, 50, quiet=True)
    rejected(lambda w, **k: t07.check_open_ablation(sab, run, w, **k), None, "first reach 90%")
    rejected(lambda w, **k: t07.check_open_ablation(sab, w, 50, **k),
             {**run, "cfg": sab.replace(k_top=3, k_att=2)}, "change exactly one")
