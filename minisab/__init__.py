"""minisab: Sparse Attentive Backtracking (Ke et al., NeurIPS 2018) from scratch, in NumPy."""
from .backend import get_backend, to_host
from .config import Config, ConfigError
from .params import init_params, param_shapes
from .sab import backward, forward, loss_and_grads, loss_only
from .threads import set_threads, use_threads

__version__ = "0.2.0"       # the one place (pyproject.toml reads it)
__all__ = ["Config", "ConfigError", "get_backend", "to_host", "init_params", "param_shapes",
           "forward", "backward", "loss_and_grads", "loss_only", "set_threads", "use_threads"]
