"""The training loop's progress bar: tqdm with the loss and the metric, or a silent stand-in."""
from __future__ import annotations

import sys


class Progress:
    """A tqdm bar with loss and metric (a silent stand-in when ``enabled`` is False)."""

    def __init__(self, total, initial, metric_name, enabled):
        self.metric_name, self.bar, self.loss = metric_name, None, None
        if enabled:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=total, initial=initial, file=sys.stderr, dynamic_ncols=True,
                            leave=False)
        self.post = {}

    def update(self, loss):
        self.loss = loss if self.loss is None else 0.95 * self.loss + 0.05 * loss
        if self.bar is not None:
            self.bar.update(1)
            if self.bar.n % 20 == 0:
                self.post["loss"] = f"{self.loss:.4f}"
                self.bar.set_postfix(self.post, refresh=False)

    def show(self, rec):
        if self.bar is not None and rec is not None:
            self.post[self.metric_name] = f"{rec[self.metric_name]:.4g}"
            self.post["loss"] = f"{(self.loss if self.loss is not None else rec['loss']):.4f}"
            self.bar.set_postfix(self.post)

    def close(self):
        if self.bar is not None:
            self.bar.close()
