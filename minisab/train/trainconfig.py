"""``TrainConfig``: everything about training that is not the model (``Config``) or the task,
validated when it is made (each invalid field raises a ``TrainError`` naming it)."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from .optim import Optimizer
from .runrecord import TrainError


@dataclass(frozen=True)
class TrainConfig:
    """Everything about training that is not the model (``Config``) or the task."""
    steps: int = 2000                    # total optimiser steps (a resumed run continues to it)
    batch: int = 32
    optimizer: str = "adam"              # "adam" or "sgd"
    lr: float = 1e-3
    momentum: float = 0.9                # sgd only
    clip: float | None = 1.0          # global-norm clipping inside the update; None: off
    seed: int = 0
    forget_bias: float = 0.0             # added to the forget-gate bias at initialisation
    eval_every: int = 100                # evaluate and checkpoint every this many steps
    eval_batch: int = 256                # held-out sequences per evaluation
    target: float | None = None       # stop early once the metric reaches it
    lr_final: float | None = None     # cosine decay of the lr to this value at the last
                                         # step (None: constant lr; see lr_at)

    def __post_init__(self):
        for name in ("steps", "batch", "eval_every", "eval_batch"):
            v = getattr(self, name)
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= 1):
                raise TrainError(f"invalid {name}={v!r}: accepted values are integers >= 1")
        if not (isinstance(self.seed, int) and not isinstance(self.seed, bool)
                and 0 <= self.seed < 2 ** 63):
            raise TrainError(f"invalid seed={self.seed!r}: accepted values are integers "
                             "from 0 to 2**63 - 1")
        for name in ("forget_bias", "momentum") + (("target",) if self.target is not None
                                                   else ()):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)):
                raise TrainError(f"invalid {name}={v!r}: accepted values are finite numbers"
                                 + (" or None (no early stop)" if name == "target" else ""))
        try:
            self.optimizer_obj()                                    # validates lr, clip, ...
        except ValueError as e:
            raise TrainError(str(e)) from None
        if self.lr_final is not None and not (
                isinstance(self.lr_final, (int, float)) and not isinstance(self.lr_final, bool)
                and 0 < self.lr_final <= self.lr):
            raise TrainError(f"invalid lr_final={self.lr_final!r}: accepted values are None "
                             f"(constant learning rate) or numbers in (0, lr={self.lr:g}]")

    def lr_at(self, step: int) -> float:
        """Learning rate of the update that follows ``step`` finished steps: ``lr`` throughout,
        or with ``lr_final`` a cosine from ``lr`` (step 0) to ``lr_final`` (the last update).
        A function of the step alone, so a resumed run follows the same schedule (as long as
        ``steps`` is unchanged: the schedule spans ``steps``)."""
        if self.lr_final is None:
            return self.lr
        frac = step / max(self.steps - 1, 1)
        return self.lr_final + 0.5 * (self.lr - self.lr_final) * (1.0 + math.cos(math.pi * frac))

    def optimizer_obj(self) -> Optimizer:
        return Optimizer(self.optimizer, lr=self.lr, momentum=self.momentum, clip=self.clip)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
