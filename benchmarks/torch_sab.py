"""The same SAB model (docs/model.md) written with PyTorch autograd, as the released code does it.

The memory grows with ``torch.cat`` every ``k_att`` steps, and each memory's key ``m W_m`` is
computed once, when the memory is written, and appended to ``K`` (as minisab does); every step
then scores all memories with ``tanh(q + K) w_s``. The sparsifier is dense over all memories
(``relu(a − δ)`` then normalise), so autograd keeps every step's (B, n, ·) tensors alive until
the backward: memory O(T²). Truncation is ``.detach()`` on (h, c) before the cut steps. The
input projection is computed for all steps at once and split with ``unbind`` (a ``zx[:, t]``
select would make autograd zero-fill a (B, T, 4H) gradient per step: O(T²) time).
This is the comparison point for benchmarks/bench_sab.py and bench_scale.py; ``check`` proves on
a small case that it computes minisab's loss and gradients.
"""
from __future__ import annotations

import torch

from minisab.config import Config


def make_params(host_params: dict, dtype, device="cpu"):
    """Leaf tensors (requires_grad) from a dict of host arrays named as in docs/model.md §1."""
    return {k: torch.tensor(v, dtype=dtype, device=device, requires_grad=True)
            for k, v in host_params.items()}


def sab_loss(p, x, targets, cfg: Config):
    """Cross-entropy of the topk/mlp SAB model over x (B, T, I); targets (B, T) long."""
    B, T, _ = x.shape
    H = cfg.hidden_size
    h = x.new_zeros(B, H)
    c = x.new_zeros(B, H)
    M = x.new_zeros(B, 1, H)                         # the null memory
    K = M @ p["W_m"]                                 # (B, 1, A) keys m W_m
    zx = (x @ p["W_x"] + p["b"]).unbind(1)           # input projection, hoisted: T × (B, 4H)
    ys = []
    for t in range(T):
        if cfg.cuts(t):
            h, c = h.detach(), c.detach()
        z = zx[t] + h @ p["W_h"]
        zi, zf, zg, zo = z.chunk(4, dim=1)
        c = torch.sigmoid(zf) * c + torch.sigmoid(zi) * torch.tanh(zg)
        h_hat = torch.sigmoid(zo) * torch.tanh(c)
        q = h_hat @ p["W_q"]                                          # (B, A)
        a = torch.tanh(q[:, None, :] + K) @ p["w_s"]                  # (B, n)
        n = a.shape[1]
        if n > cfg.k_top:
            delta = torch.topk(a, cfg.k_top + 1, dim=1).values[:, cfg.k_top]
        else:
            delta = a.min(dim=1).values - 1.0
        a_tilde = torch.relu(a - delta[:, None])
        alpha = a_tilde / (a_tilde.sum(dim=1, keepdim=True) + cfg.eps)
        s = (alpha[:, None, :] @ M)[:, 0, :]                          # (B, H)
        h = h_hat + s
        if (t + 1) % cfg.k_att == 0:                                  # grow the memory
            M = torch.cat([M, h[:, None, :]], dim=1)
            K = torch.cat([K, (h @ p["W_m"])[:, None, :]], dim=1)
        ys.append(torch.cat([h, s], dim=1) @ p["W_y"] + p["b_y"])
    y = torch.stack(ys, dim=1)                                        # (B, T, C)
    return torch.nn.functional.cross_entropy(y.reshape(B * T, -1), targets.reshape(B * T))


def train_step(p, x, targets, cfg):
    for v in p.values():
        v.grad = None
    loss = sab_loss(p, x, targets, cfg)
    loss.backward()
    return loss


def check(seed=0, atol=1e-9):
    """minisab and this script agree on loss and gradients (float64, small case)."""
    import numpy as np

    from minisab.params import init_params, params_to_host
    from minisab.fast import loss_and_grads
    cfg = Config(input_size=4, hidden_size=8, output_size=3, attn_size=6, k_top=3, k_att=2,
                 k_trunc=4, method="sab", dtype="float64")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((5, 23, 4))
    tg = rng.integers(0, 3, size=(5, 23))
    params = init_params(cfg, seed=seed)
    loss, grads, _ = loss_and_grads(params, x, tg, cfg)
    p = make_params(params_to_host(params), torch.float64)
    tl = train_step(p, torch.tensor(x), torch.tensor(tg), cfg).detach()
    err = max(float(np.max(np.abs(grads[k] - p[k].grad.numpy()))) for k in p)
    err = max(err, abs(float(loss) - tl.item()))
    assert err < atol, f"torch SAB and minisab disagree by {err:.2e}"
    return err


if __name__ == "__main__":
    print(f"torch SAB matches minisab: max abs difference {check():.2e}")
