"""The LSTM step on columns, its four gates stacked: the kernels of the fast engine.

Computes the same numbers as ``minisab.lstm`` (docs/model.md §2.1; docs/derivations.md §3-4),
rearranged for speed:

- step t's pre-activations are ONE product of the stacked weights ``W = [W_h; W_x; b]``
  (``stack_weights``) with the step's input ``u_t = [h_{t-1}, x_t, 1]``, and the weight
  gradients ``[dW_h; dW_x; db] = Σ_t u_tᵀ dz_t`` need nothing else;
- every step's vectors are COLUMNS: u_t is (H+I+1, B), z_t is (4H, B), h_t and c_t are (H, B).
  Each gate's block of z_t is then one contiguous (H, B) array, and NumPy's element-wise calls
  on it cost several times less than on a (B, H) block of a (B, 4H) array
  (benchmarks/README.md);
- one ``tanh`` serves all four gates: σ(z) = (1 + tanh(z/2))/2, so the weights' i, f, o columns
  are halved once (``gate_scale``) and the gate array holds ``[i, f, σ(2 z_g), o]``, from which
  g = tanh(z_g) = 2 σ(2 z_g) − 1 follows;
- results are written into preallocated arrays (``ops.py``).
"""
from __future__ import annotations

from ..backend import concat, namespace, permute, zeros
from .ops import mul_into, sub_into, tanh_inplace, tanh_into


def gate_scale(H: int, like):
    """(4H,): 1/2 on the sigmoid gates' blocks i, f, o, 1 on the cell candidate g.

    Multiplying z (or the columns of the weights) by it gives ``[z_i/2, z_f/2, z_g, z_o/2]``,
    and one ``tanh`` of that gives tanh(z_i/2), ..., g = tanh(z_g), ...: the sigmoids follow
    from σ(z) = (1 + tanh(z/2))/2 with two cheap passes.
    """
    s = zeros((4 * H,), like=like) + 0.5
    s[2 * H:3 * H] = 1.0
    return s


def split_gates(a):
    """The i, f, g, o blocks (B, H) of a packed (B, 4H) array, as views."""
    H = a.shape[1] // 4
    return a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]


def by_gate(a):
    """A packed (B, 4H) array as (4, B, H): ``by_gate(a)[k]`` is gate k's block.

    A view when ``a`` is C-contiguous, as the step pair's own arrays are, so writing into it
    writes into ``a``.
    """
    xp = namespace(a)
    B, H = a.shape[0], a.shape[1] // 4
    return permute(xp.reshape(a, (B, 4, H)), (1, 0, 2))


def gates_forward(z4, c_prev, c, h, g, tanh_c):
    """The element-wise part of the step, written into the arrays it is given.

    Inputs:
      z4:     (4, ...) the halved pre-activations of gates i, f, g, o, ``[z_i/2, z_f/2, z_g,
              z_o/2]``, stacked along the first axis (``gate_scale``); overwritten with
              ``S = [i, f, σ(2 z_g), o]``
      c_prev: (...)    c_{t-1}: (B, H) for the step pair, (H, B) columns in the driver
      c, h, g, tanh_c: arrays shaped like c_prev that receive c_t, ĥ_t, g = tanh(z_g), tanh(c_t)
    Returns ``(S, c, h, g, tanh_c)`` (the same arrays).

    The passes over S run on the whole block; g gets its own array (it is 2 S_g − 1). The
    driver keeps only S and c per step: ``cell_candidate`` and ``tanh(c)`` give back g and
    tanh_c in the backward.
    """
    S = tanh_inplace(z4)                          # [tanh(z_i/2), tanh(z_f/2), g, tanh(z_o/2)]
    S *= 0.5
    S += 0.5                                      # σ(z) = (1 + tanh(z/2))/2; S_g = σ(2 z_g)
    i, f, o = S[0, ...], S[1, ...], S[3, ...]
    g = cell_candidate(S, out=g)
    c = mul_into(f, c_prev, out=c)
    c += i * g                                    # c_t = f ⊙ c_{t−1} + i ⊙ g
    tanh_c = tanh_into(c, out=tanh_c)
    h = mul_into(o, tanh_c, out=h)                # ĥ_t = o ⊙ tanh(c_t)
    return S, c, h, g, tanh_c


def cell_candidate(S4, out):
    """``g = tanh(z_g) = 2 σ(2 z_g) − 1`` from gate-stacked S (4, ...), written into ``out``."""
    g = mul_into(S4[2, ...], 2.0, out=out)
    g -= 1.0
    return g


def gates_backward(dh_hat, dc, S4, g, c_prev, tanh_c, dz4):
    """Backward of ``gates_forward``: ∂L/∂z written into ``dz4`` (4, ...), and ∂L/∂c_{t-1}.

    ``dh_hat`` = ∂L/∂ĥ_t; ``dc`` = ∂L/∂c_t from step t+1 (a number 0 at the last step); S4, g,
    c_prev, tanh_c from the forward; shapes as in ``gates_forward``. ``dz4`` receives the
    gradient of the true pre-activation z = h_{t-1} W_h + x_t W_x + b (not of the halved one:
    the halving is how the forward evaluates σ, not part of the model).
    Returns ``(dz4, dc_prev)``.
    """
    i, f, o = S4[0, ...], S4[1, ...], S4[3, ...]
    do = mul_into(dh_hat, tanh_c, out=dz4[3, ...])             # ∂L/∂o = ∂L/∂ĥ ⊙ tanh(c_t)
    # ∂L/∂c_t = ∂L/∂ĥ ⊙ o ⊙ (1 − tanh²c_t) + dc, with ∂L/∂ĥ ⊙ tanh²c_t = ∂L/∂o ⊙ tanh c_t:
    dc_total = dh_hat - do * tanh_c
    dc_total *= o
    dc_total += dc
    mul_into(dc_total, g, out=dz4[0, ...])                      # ∂L/∂i = ∂L/∂c_t ⊙ g
    mul_into(dc_total, c_prev, out=dz4[1, ...])                 # ∂L/∂f = ∂L/∂c_t ⊙ c_{t−1}
    dg = mul_into(dc_total, i, out=dz4[2, ...])                 # ∂L/∂g = ∂L/∂c_t ⊙ i,
    dg *= 4.0                                                   # times 4 (below)
    # Through the non-linearities in one pass over S: σ'(z) = σ(1 − σ) for i, f, o, and for
    # g = 2σ(2z) − 1, g'(z) = 4 σ(2z)(1 − σ(2z)) = 1 − g² (the 4 is in dg above).
    slope = S4 * S4
    sub_into(S4, slope, out=slope)                              # S(1 − S)
    dz4 *= slope
    return dz4, dc_total * f                                    # ∂L/∂c_{t−1} = ∂L/∂c_t ⊙ f


def stack_weights(W_h, W_x, b):
    """``Wᵀ`` for ``W = [W_h; W_x; b]`` (H+I+1, 4H), with the i, f, o columns of W halved
    (``gate_scale``): a contiguous (4H, H+I+1) array.

    For the step input ``u_t = [h_{t-1}, x_t, 1]``, ``u_t W`` is step t's halved pre-activation
    in one product: no separate input projection, bias addition or sum. The driver keeps u_t as
    a column (H+I+1, B) and computes ``z_tᵀ = Wᵀ u_t`` (4H, B), hence Wᵀ.
    """
    xp = namespace(W_h)
    WT = concat([W_h.T, W_x.T, xp.reshape(b, (b.shape[0], 1))], axis=1)
    return WT * gate_scale(W_h.shape[0], like=WT)[:, None]


def stacked_input(x, H: int, like):
    """The steps' inputs as columns, ``U`` (T+1, H+I+1, B): column b of ``U[t]`` is
    ``u_t = [h_{t-1}; x_t; 1]`` of sequence b.

    x (B, T, I). The x and 1 rows are filled here, ``h_{-1} = 0``; the driver writes h_t into
    ``U[t+1, :H]``. ``U[T]`` holds h_{T-1} only (its x and 1 rows are 0): the output layer
    reads all states as ``U[1:, :H]``.
    """
    B, T, I = x.shape
    U = zeros((T + 1, H + I + 1, B), like=like)
    U[:T, H:H + I, :] = permute(x, (1, 2, 0))
    U[:T, H + I, :] = 1.0
    return U


def stacked_grads(dW, H: int, I: int):
    """Split ``[dW_h; dW_x; db]`` (H+I+1, 4H) into ``(dW_h, dW_x, db)``."""
    return dW[:H, :], dW[H:H + I, :], dW[H + I, :]
