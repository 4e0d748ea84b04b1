"""The training application around the model: the loop (``loop``), its options
(``trainconfig``), run folders and their record (``runs``, ``runrecord``, ``runlock``,
``runfolder``, ``checkpoint``), the tasks and data (``tasks``, ``corpus``, ``datasets``,
``download``), optimisers (``optim``), comparisons and grids (``compare``, ``parallel``), what a
run folder shows (``reports``), settings files and provenance (``settings``, ``provenance``), and
the memory estimate and fault points (``footprint``, ``faults``). The model knows nothing of any
of it.
"""
from .loop import evaluate, train
from .runrecord import CHECKPOINT, TrainError, read_metrics
from .trainconfig import TrainConfig

__all__ = ["train", "evaluate", "TrainConfig", "TrainError", "CHECKPOINT", "read_metrics"]
