"""The measured answers of tutorials 5-8's predictions, for ``make_answers.py``.

Each is measured on minisab's own forward (not computed from the formula the student must
find): what a blank-only model scores, which memory first holds a digit, how many memories a
step reads, the largest state a worst-case model reaches, the attention's work, truncated
BPTT's replay, and the device-clean top-k read.
"""
from __future__ import annotations

import numpy as np

from minisab import Config, forward
from minisab.backend import to_host
from minisab.exercises import t05, t06, t07, t08
from minisab.params import init_params


def tutorial5():
    from minisab.train.tasks import make_task
    rng = np.random.default_rng(51)
    scores = []
    for T, n, V in t05.BLANK_CASES:
        task = make_task("copy", T, n_digits=n, n_symbols=V)
        x, targets, mask = task.sample(rng, 4)
        logits = np.zeros(x.shape[:2] + (task.output_size,))
        logits[:, :, 0] = 1.0                                  # the blank at every step
        scores.append((float(np.mean(np.argmax(logits, axis=2) == targets)),
                       float(task.metric(logits, targets, mask, 0.0))))
    memory = []
    for k_att in t05.DIGIT_CASES["k_att"]:
        row = []
        for i in range(t05.DIGIT_CASES["i"]):
            cfg = Config(input_size=2, hidden_size=3, output_size=2, attn_size=2, k_top=2,
                         k_att=k_att, method="sab", k_trunc=3)
            params = init_params(cfg, seed=5)
            x = np.random.default_rng(i).normal(size=(1, 9, 2))
            x2 = x.copy()
            x2[:, i] += 1.0                        # which memory row changes first?
            M1 = to_host(forward(params, x, cfg)[1]["mem"].M)
            M2 = to_host(forward(params, x2, cfg)[1]["mem"].M)
            row.append(int(np.nonzero(np.max(np.abs(M1 - M2), axis=(0, 2)) > 0)[0][0]))
        memory.append(row)
    return {"5.1/scores": np.array(scores), "5.2/memory": np.array(memory)}


def _saturated_sab(memory_write, k_att, T):
    """Every gate saturated (c_t grows, so ĥ_t -> 1), a silent query, and scores that grow
    with the memory: the largest (most recent) memory kept with a weight near 1 (k_top = 1)."""
    cfg = Config(input_size=1, hidden_size=3, output_size=2, attn_size=2, k_top=1,
                 k_att=k_att, method="sab", k_trunc=5, memory_write=memory_write)
    p = init_params(cfg, seed=0)
    for name in ("W_x", "W_h", "W_q"):
        p[name][...] = 0.0
    p["b"][...] = 20.0
    p["W_m"][...] = 1.0 / (2 * T * cfg.hidden_size)
    p["w_s"][...] = 1e3
    return cfg, p


def _max_h(p, x, cfg):
    return np.max(np.abs(to_host(forward(p, x, cfg)[1]["hs"])), axis=(0, 2))     # (T,)


def tutorial6():
    read = []
    for attention, k_top, k_att in t06.READ_CASES:
        method = {"topk": "sab", "softmax": "bptt"}[attention]
        cfg = Config(input_size=3, hidden_size=5, output_size=3, attn_size=4, k_top=k_top,
                     k_att=k_att, attention=attention, method=method,
                     k_trunc=3 if method == "sab" else None)
        seed = k_top + k_att
        x = np.random.default_rng(61 + seed).normal(size=(3, t06.READ_T, 3))
        _, cache = forward(init_params(cfg, seed=seed), x, cfg, record=True)
        attn = np.asarray(to_host(cache["record"]["attn"]))              # (T, B, n_max)
        read.append(np.max(np.sum(attn > 0, axis=2), axis=1))
    T = t06.BOUND_T
    least = np.zeros((3, 3, T))
    worst = np.zeros((3, 3, T))
    for a, write in enumerate(t06.BOUND_WRITES):
        for c, k_att in enumerate(t06.BOUND_K_ATT):
            n_written = np.arange(T) // k_att
            least[a, c] = 1 + (n_written if write == "h" else np.minimum(n_written, 1))
            cfg, p = _saturated_sab(write, k_att, T)
            w = _max_h(p, np.zeros((1, T, 1)), cfg)
            for seed in range(2):                  # and two random models with large inputs
                c2 = Config(input_size=3, hidden_size=5, output_size=3, attn_size=4, k_top=2,
                            k_att=k_att, method="sab", k_trunc=3, memory_write=write)
                x2 = np.random.default_rng(60 + seed).normal(size=(3, T, 3)) * 2.0
                w = np.maximum(w, _max_h(init_params(c2, seed=seed, forget_bias=1.0), x2, c2))
            assert np.all(w < least[a, c])
            worst[a, c] = w
    out = {"6.1/read": np.array(read), "6.2/least": least, "6.2/worst": worst}
    for write in t06.BOUND_WRITES:
        for k_att in (1, 2, 3, 4):
            cfg, p = _saturated_sab(write, k_att, 60)
            out[f"6.3/worst/{write}/{k_att}"] = np.asarray(
                float(np.max(_max_h(p, np.zeros((1, 60, 1)), cfg))))
    return out


def tutorial7():
    from minisab.credit.flow import backward_work
    work = []
    for T, k_top, k_att in t07.WORK_CASES:
        cfg = Config(input_size=2, hidden_size=3, output_size=2, attn_size=2, k_top=k_top,
                     k_att=k_att, method="sab", k_trunc=4)
        x = np.random.default_rng(T).normal(size=(1, T, 2))
        _, cache = forward(init_params(cfg, seed=0), x, cfg, record=True)
        work.append((int(sum(cache["record"]["n_mem"])),
                     int(sum(a[1].shape[1] for a in cache["attn"]))))
    replay = []
    for T, k in t07.REPLAY_CASES:
        cfg = Config(input_size=2, hidden_size=3, output_size=2, attention=None,
                     method="tbptt", k_trunc=k)
        replay.append(backward_work(forward(init_params(cfg), np.zeros((1, T, 2)), cfg)[1])
                      ["per_loss"])
    return {"7.1/work": np.array(work), "7.2/per_loss": np.array(replay)}


def tutorial8():
    out = {}
    for k, (a, M, kk) in enumerate(t08.problems_top_mean()):
        idx = np.argsort(-a, axis=1)[:, :kk]
        out[f"8.2/{k}/want"] = np.take_along_axis(M, idx[:, :, None], axis=1).mean(axis=1)
    return out
