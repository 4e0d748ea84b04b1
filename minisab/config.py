"""The one model configuration (docs/model.md), validated when it is constructed.

Every field a model can have lives here, so a config read from a checkpoint or a golden test
vector describes the model completely. Invalid values and combinations raise a ``ConfigError``
(a ``ValueError``) that names the field and the values it accepts.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

ATTENTIONS = (None, "topk", "softmax")
SCORERS = ("mlp", "release")
METHODS = ("bptt", "tbptt", "sab")
LOSS_NAMES = ("xent", "mse")    # the functions are minisab.losses.LOSSES
DTYPES = ("float64", "float32")
MEMORY_WRITES = ("h", "h_hat", "tanh_h")
SPARSIFIERS = ("threshold", "topk_softmax", "topk_sparsemax")
# Earlier names of the bounded sparsifiers, still accepted and read as the new ones: "softmax"
# also names the dense attention (attention="softmax"), so the sparsifiers say "topk_".
OLD_SPARSIFIER_NAMES = {"softmax": "topk_softmax", "sparsemax": "topk_sparsemax"}


class ConfigError(ValueError):
    """A configuration field holds a value minisab does not accept."""


@dataclass(frozen=True)
class Config:
    # --- sizes (docs/model.md notation) ---
    input_size: int = 10            # I: features per input step (one-hot width for the tasks)
    hidden_size: int = 128          # H: LSTM state size; memories have this size too
    output_size: int = 10           # C: classes (xent) or regression outputs (mse)
    # --- attention (docs/model.md §2, steps 2-5) ---
    attention: str | None = "topk"  # None: plain LSTM; "topk": SAB's sparse attention; "softmax": dense
    scorer: str = "mlp"             # "mlp": w_s·tanh(ĥW_q + mW_m); "release": w_s·tanh([ĥ; m]) as released
    attn_size: int | None = 64   # A: hidden size of the mlp scorer (unused by "release")
    k_top: int | None = 5        # memories kept by the topk sparsifier
    k_att: int | None = 2        # a memory is written every k_att steps
    # --- credit assignment (docs/model.md §4) ---
    method: str = "sab"             # "bptt": exact; "tbptt"/"sab": cut the recurrent edge every k_trunc steps
    k_trunc: int | None = 5      # chunk length of the cuts; None = no cut
    detach_scores: bool = False     # True: no "mental updates", scorer inputs are constants (docs/model.md §4)
    # --- loss and numbers ---
    loss: str = "xent"              # "xent": masked cross-entropy; "mse": masked mean squared error
    dtype: str = "float64"          # "float64" for gradient checks, "float32" for speed
    eps: float = 1e-7               # ε in the topk normaliser α = ã / (Σã + ε) (docs/model.md §2.3)
    # --- model options beyond the paper: docs/model.md §6 (docs/make_sab_learn.md) ---
    memory_write: str = "h"         # "h": write h_t = ĥ_t + s_t (docs/model.md §2.5, the default);
                                    # "h_hat": write the provisional ĥ_t; "tanh_h": write
                                    # tanh(h_t). Both keep |m| < 1, so |h| < 2 at any length.
    sparsifier: str = "threshold"   # weights of attention="topk" (minisab/sparsifiers.py):
                                    # "threshold": ã/(Σã+ε), ã = a − (k+1)-th score (docs/model.md
                                    # §2.3, the default); "topk_softmax": softmax(a_S/τ) over
                                    # the k_top largest; "topk_sparsemax": sparsemax(a_S) over
                                    # them ("softmax"/"sparsemax" are read as these)
    temperature: float = 1.0        # τ of sparsifier="topk_softmax"; its Jacobian is <= 1/(2τ)

    def __post_init__(self):
        if self.sparsifier in OLD_SPARSIFIER_NAMES:          # frozen: set through object
            object.__setattr__(self, "sparsifier", OLD_SPARSIFIER_NAMES[self.sparsifier])

        def need(ok, field, accepted):
            if not ok:
                value = getattr(self, field)
                raise ConfigError(f"invalid {field}={value!r}: accepted values are {accepted}")

        for name in ("input_size", "hidden_size", "output_size"):
            need(_is_int(getattr(self, name)) and getattr(self, name) >= 1, name, "an integer >= 1")
        need(self.attention in ATTENTIONS, "attention", _fmt(ATTENTIONS))
        need(self.method in METHODS, "method", _fmt(METHODS))
        need(self.loss in LOSS_NAMES, "loss", _fmt(LOSS_NAMES))
        need(self.dtype in DTYPES, "dtype", _fmt(DTYPES))
        need(self.memory_write in MEMORY_WRITES, "memory_write", _fmt(MEMORY_WRITES))
        need(isinstance(self.detach_scores, bool), "detach_scores", "True or False")
        need(self.k_trunc is None or (_is_int(self.k_trunc) and self.k_trunc >= 1),
             "k_trunc", "None (no cut) or an integer >= 1")
        need(isinstance(self.eps, (int, float)) and not isinstance(self.eps, bool) and self.eps >= 0,
             "eps", "a number >= 0")
        need(self.sparsifier in SPARSIFIERS, "sparsifier", _fmt(SPARSIFIERS))
        need(isinstance(self.temperature, (int, float)) and not isinstance(self.temperature, bool)
             and 0 < self.temperature < float("inf"), "temperature", "a finite number > 0")
        if self.sparsifier != "threshold":
            need(self.attention == "topk", "sparsifier",
                 "'threshold' (the default) unless attention='topk'")
        if self.temperature != 1.0:
            need(self.sparsifier == "topk_softmax", "temperature",
                 "1.0 unless sparsifier='topk_softmax' (the only sparsifier with a temperature)")
        # Below the dtype's machine epsilon softmax(a/τ) is an argmax at the dtype's precision
        # (and a τ like 1e-300 rounds to 0 in float32: NaN from the first step).
        need(self.temperature >= _EPS[self.dtype], "temperature",
             f"finite numbers >= {_EPS[self.dtype]:.3g} for dtype={self.dtype!r} (its machine "
             "epsilon)")
        if self.attention is None:
            if self.method == "sab":
                raise ConfigError("invalid method='sab' with attention=None: sab needs "
                                  "attention='topk'; use method='bptt' or 'tbptt' for a plain LSTM")
            need(not self.detach_scores, "detach_scores", "False when attention=None (no scores)")
            return
        need(self.scorer in SCORERS, "scorer", _fmt(SCORERS))
        need(_is_int(self.k_att) and self.k_att >= 1, "k_att", "an integer >= 1")
        if self.scorer == "mlp":
            need(_is_int(self.attn_size) and self.attn_size >= 1, "attn_size",
                 "an integer >= 1 for scorer='mlp'")
        if self.attention == "topk":
            need(_is_int(self.k_top) and self.k_top >= 1, "k_top", "an integer >= 1")
        if self.method == "sab" and self.attention != "topk":
            raise ConfigError(f"invalid method='sab' with attention={self.attention!r}: sab "
                              "needs attention='topk'; use 'bptt' or 'tbptt' for dense attention")

    # --- derived sizes ---
    @property
    def uses_attention(self) -> bool:
        return self.attention is not None

    def n_memories(self, T: int) -> int:
        """|M| after T steps, counting the null memory (docs/model.md §2.5)."""
        return 1 + T // self.k_att if self.uses_attention else 0

    def cuts(self, t: int) -> bool:
        """True if the recurrent edge (h_{t-1}, c_{t-1}) -> step t is cut (docs/model.md §4)."""
        return (self.method != "bptt" and self.k_trunc is not None
                and t >= 1 and t % self.k_trunc == 0)

    def replace(self, **changes) -> Config:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Config:
        """Build from a dict (a checkpoint or a golden vector); unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"unknown config field(s) {unknown}: accepted fields are {sorted(names)}")
        d = dict(d)
        if d.get("attention") is None:   # fields a plain LSTM does not use may be null
            for k in ("k_top", "k_att", "attn_size"):
                if k in d and d[k] is None:
                    d.pop(k)
        return cls(**d)


_EPS = {"float32": 2.0 ** -23, "float64": 2.0 ** -52}     # machine epsilon of each dtype


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _fmt(values) -> str:
    return ", ".join(repr(v) for v in values)
