"""Write the checkers' expected results, ``minisab/exercises/answers/tNN.npz``.

    python tutorials/solutions/make_answers.py            # write them
    python tutorials/solutions/make_answers.py --check    # exit 1 if a stored number changed

The package holds numbers, not the code that made them: the problems come from the checkers
(``minisab.exercises.tNN.problems_*``), the right answers from minisab's own functions (the
library is the reference), the wrong answers from ``student_answers.MISTAKES``. The inputs that
need a whole SAB forward and reverse walk (exercises 4.3 and 4.4) are stored too
(``t04_inputs.npz``). Every stored mistake differs from the right answer somewhere.
"""
from __future__ import annotations

import io
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import answers_walk  # noqa: E402  (beside this file)
import student_answers as sa  # noqa: E402

from minisab import Config, backward, forward, loss_and_grads  # noqa: E402
from minisab.train.checkpoint import atomic_write  # noqa: E402
from minisab.exercises import t01, t02, t03, t04, t04_screen  # noqa: E402
from minisab.exercises._answers import ANSWERS_DIR  # noqa: E402


def _store_mistakes(out, prefix, label, args, fields, want):
    """Each mistake's outputs where it differs from the right answer ``want`` (tuple)."""
    for name, fn in sa.MISTAKES[label].items():
        got = fn(*args)
        got = got if isinstance(got, tuple) else (got,)
        if all(np.allclose(g, w, rtol=1e-12, atol=1e-14) for g, w in zip(got, want)):
            continue                                    # the same as right on this problem
        for f, g in zip(fields, got):
            out[f"{prefix}/mistake/{name}/{f}"] = np.asarray(g, dtype=float)


def tutorial1():
    from minisab.lstm import lstm_step_backward, lstm_step_forward
    out = {}
    for k, args in enumerate(t01.problems_forward()):
        h_hat, c, _ = lstm_step_forward(*args)
        out[f"1.1/{k}/h_hat"], out[f"1.1/{k}/c"] = h_hat, c
        _store_mistakes(out, f"1.1/{k}", "1.1", args, ("h_hat", "c"), (h_hat, c))
    for k, (dh_hat, dc, cache7, W_h) in enumerate(t01.problems_backward()):
        full = lstm_step_forward(*t01._lstm_problem(k)[1:])[2]
        want = lstm_step_backward(dh_hat, dc, full, W_h)
        for f, v in zip(("dz", "dh_prev", "dc_prev"), want):
            out[f"1.2/{k}/{f}"] = v
        _store_mistakes(out, f"1.2/{k}", "1.2", (dh_hat, dc, cache7, W_h),
                        ("dz", "dh_prev", "dc_prev"), want)
    rng = np.random.default_rng(3)                       # 1.3's problem, as the checker has it
    arr, w = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))

    def f():
        return np.sum(np.sin(arr) * w)
    _store_mistakes(out, "1.3/0", "1.3", (f, arr, 1e-5), ("grad",), (np.cos(arr) * w,))
    return out


def tutorial2():
    from minisab.credit.flow import credit_matrix, credit_reach
    out = {}
    for label in ("2.2", "2.3"):
        for k, (pr, args) in enumerate(t02.problems_loop(label)):
            kt = t02.LOOP_CASES[label][k][2]
            p, x, dy = pr["params"], pr["x"], pr["dy"]
            cfg = Config(input_size=x.shape[2], hidden_size=p["W_h"].shape[0],
                         output_size=dy.shape[2], attention=None,
                         method="bptt" if kt is None else "tbptt", k_trunc=kt)
            grads, dH = backward(dy, forward(p, x, cfg)[1], p)
            prefix = f"{label}/{k}"
            out[f"{prefix}/dH"] = np.asarray(dH)
            for name in ("W_x", "W_h", "b"):
                out[f"{prefix}/{name}"] = np.asarray(grads[name])
            _store_mistakes(out, prefix, label, args, ("dH",), (np.asarray(dH),))
    for k, G in enumerate(t02.problems_reach()):
        out[f"2.4/{k}/reach"] = np.asarray(credit_reach(G, 1e-3))
    lags = []
    ks, T = t02.MAX_LAG_CASES["k_trunc"], t02.MAX_LAG_CASES["T"]
    x = np.random.default_rng(23).normal(size=(2, T, 3))
    for k in ks:
        cfg = Config(input_size=3, hidden_size=5, output_size=2, attention=None, method="tbptt",
                     k_trunc=k)
        from minisab.params import init_params
        G, _, _ = credit_matrix(init_params(cfg, seed=1), x, cfg)
        lags.append([t - int(np.nonzero(G[t] > 0)[0].min()) for t in range(T)])
    out["2.1/lag"] = np.array(lags)
    return out


def tutorial3():
    from minisab.attention import key_forward, score_forward, topk_backward, topk_forward
    from minisab.gradcheck import numerical_gradient
    from minisab.sparsifiers import topk_softmax_backward, topk_softmax_forward
    out = {}

    def dense(values, act, n):
        d = np.zeros((values.shape[0], n))
        np.put_along_axis(d, act, values, axis=1)
        return d
    for k, (a, kt, eps) in enumerate(t03.problems_topk()):
        alpha, act, _ = topk_forward(a, kt, eps)
        want = dense(alpha, act[:, :alpha.shape[1]], a.shape[1])
        out[f"3.1/{k}/want"] = want
        _store_mistakes(out, f"3.1/{k}", "3.1", (a, kt, eps), ("want",), (want,))
    for k, (dalpha, a, kt, eps) in enumerate(t03.problems_topk_backward()):
        alpha, act, cache = topk_forward(a, kt, eps)
        m = alpha.shape[1]
        want = dense(topk_backward(np.take_along_axis(dalpha, act[:, :m], axis=1), cache), act,
                     a.shape[1])

        def loss(a=a, kt=kt, eps=eps, dalpha=dalpha):
            al, ac, _ = topk_forward(a, kt, eps)
            return float(np.sum(dalpha * dense(al, ac[:, :al.shape[1]], a.shape[1])))
        assert np.allclose(want, numerical_gradient(loss, a, 1e-6), atol=1e-6)
        out[f"3.2/{k}/want"] = want
        _store_mistakes(out, f"3.2/{k}", "3.2", (dalpha, a, kt, eps), ("want",), (want,))
    for k, (h_hat, M, params, scorer) in enumerate(t03.problems_scores()):
        want, _ = score_forward(h_hat, key_forward(M, params, scorer), params, scorer)
        out[f"3.3/{k}/want"] = want
        _store_mistakes(out, f"3.3/{k}", "3.3", (h_hat, M, params, scorer), ("want",), (want,))
    for k, (dalpha, a, kt, tau) in enumerate(t03.problems_softmax()):
        _, act, cache = topk_softmax_forward(a, kt, tau)
        want = dense(topk_softmax_backward(np.take_along_axis(dalpha, act, axis=1), cache), act,
                     a.shape[1])
        out[f"3.4/{k}/want"] = want
        _store_mistakes(out, f"3.4/{k}", "3.4", (dalpha, a, kt, tau), ("want",), (want,))
    return out


def tutorial4():
    from minisab.credit.flow import backward_work, credit_matrix, selections
    from minisab.params import init_params
    out, inputs = {}, {}
    per_loss = []
    for T in t04.REPLAY_T:
        cfg = Config(input_size=2, hidden_size=3, output_size=2, attention=None, method="bptt")
        per_loss.append(backward_work(forward(init_params(cfg), np.zeros((1, T, 2)), cfg)[1])
                        ["per_loss"])
    out["4.2/per_loss"] = np.array(per_loss)
    rng = np.random.default_rng(43)
    for c, (k_top, k_att, k_trunc) in enumerate(t04.REACH_CASES):
        cfg = Config(input_size=3, hidden_size=5, output_size=3, attention="topk", attn_size=4,
                     k_top=k_top, k_att=k_att, method="sab", k_trunc=k_trunc)
        params, x = init_params(cfg, seed=k_top), rng.normal(size=(3, 16, 3))
        for detach in (True, False):
            G, _, cache = credit_matrix(params, x, cfg.replace(detach_scores=detach),
                                        per_example=True)               # (B, T, T)
            out[f"4.3/{c}/{int(detach)}/reached"] = np.asarray(G) > 0
        kept = selections(cache).transpose(1, 0, 2)                     # (B, T, n)
        with_thr = selections(cache, threshold=True).transpose(1, 0, 2)
        extra = with_thr & ~kept
        inputs[f"4.3/{c}/kept"] = kept
        inputs[f"4.3/{c}/threshold"] = np.where(extra.any(axis=2), extra.argmax(axis=2), -1)
    for c, (k_att, k_top, T) in enumerate(t04.MEMORY_CASES):
        for detach in (True, False):
            cfg = t04.memory_cfg(k_att, k_top, detach)
            prefix = f"4.4/{c}/{int(detach)}"
            steps, final = answers_walk.walk(cfg, seed=k_att, T=T)
            for name, v in steps.items():
                inputs[f"{prefix}/{name}"] = v
            out[f"{prefix}/dh"] = final
            for name, fn in sa.MISTAKES["4.4"].items():
                got = np.stack([fn(t, steps["dh"][t], steps["dM"][t], steps["dK"][t],
                                   steps["M"], steps["K"], {"W_m": steps["W_m"]}, cfg)
                                for t in range(T)])
                if not np.allclose(got, final, rtol=1e-12, atol=1e-14):
                    out[f"{prefix}/mistake/{name}/dh"] = got
    for key, args in t04_screen.problems():
        p, x, tg, k_top, k_att, k_trunc, eps, detach = args
        cfg = Config(input_size=x.shape[2], hidden_size=p["W_h"].shape[0],
                     output_size=p["b_y"].shape[0], attention="topk", scorer="mlp",
                     attn_size=p["W_q"].shape[1], k_top=k_top, k_att=k_att, method="sab",
                     k_trunc=k_trunc, eps=eps, detach_scores=detach)
        loss, grads, _ = loss_and_grads(p, x, tg, cfg)
        out[f"4.5/{key}/loss"] = np.asarray(float(loss))
        if key.startswith("prefix/"):
            continue
        for name, g in grads.items():
            out[f"4.5/{key}/grads/{name}"] = np.asarray(g)
        if key.startswith("main/"):
            for name, other in (("no_cut", cfg.replace(method="bptt", k_trunc=None)),
                                ("mental_swapped", cfg.replace(detach_scores=not detach))):
                g2 = loss_and_grads(p, x, tg, other)[1]
                if any(not np.allclose(g2[n], grads[n], rtol=1e-12, atol=1e-14) for n in grads):
                    for n, g in g2.items():
                        out[f"4.5/{key}/mistake/{name}/grads/{n}"] = np.asarray(g)
    return out, inputs


def tutorials5to8():
    import later_answers
    return later_answers.tutorial5(), later_answers.tutorial6(), later_answers.tutorial7(), \
        later_answers.tutorial8()


def build() -> dict:
    t4, t4_inputs = tutorial4()
    t5, t6, t7, t8 = tutorials5to8()
    return {"t01": tutorial1(), "t02": tutorial2(), "t03": tutorial3(), "t04": t4,
            "t04_inputs": t4_inputs, "t05": t5, "t06": t6, "t07": t7, "t08": t8}


def _npz_bytes(arrays: dict) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def main(argv=None) -> int:
    check = "--check" in (argv if argv is not None else sys.argv[1:])
    changed = []
    for name, arrays in build().items():
        path = ANSWERS_DIR / f"{name}.npz"
        if check:
            with np.load(path) as z:
                old = {k: z[k] for k in z.files}
            if set(old) != set(arrays) or any(
                    not np.allclose(old[k], arrays[k], rtol=1e-9, atol=1e-12) for k in arrays):
                changed.append(name)
            continue
        atomic_write(path, lambda f, a=arrays: f.write(_npz_bytes(a)))
        print(f"wrote {path} ({len(arrays)} arrays)")
    if changed:
        print("out of date: " + ", ".join(changed) + " (run tutorials/solutions/make_answers.py)")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
