"""Experiment settings in files: one TOML file per experiment (``experiments/configs/*.toml``).

A file holds what made one experiment's results, read into minisab's own types, so that the
experiment's script, ``python -m minisab train --config FILE`` and the docs all take the same
values from one place::

    about = "Pixel-by-pixel UCI digits: SAB against truncated and full BPTT"
    script = "experiments/digits.py"                # the script that reads it by default
    results = "experiments/results/digits/results.json"

    [task]      # make_task's arguments: name, T, n_digits, n_symbols, mask, text_file,
    name = "digits"                                 # data_dir, image_size
    [model]     # Config fields (minisab/config.py); the sizes come from the task
    hidden_size = 64
    [train]     # TrainConfig fields (minisab/train/loop.py)
    lr = 3e-3
    [grid]      # what the script trains beyond one run: methods, seeds, lengths ...
    methods = ["sab", "tbptt", "bptt"]

``script`` and ``results`` are relative to the repository root; a script writes into the folder
of ``results`` unless given ``--out``. TOML has no null: a field left out keeps its default, and the string ``"none"`` stands for
None where a field accepts it (``k_trunc``, ``clip``, ``attention``, ``target``, ``lr_final``).

``load(path)`` checks every key and value when it reads the file (a ``SettingsError`` names the
file, the table and the key, and the accepted ones): the model through ``Config``, the training
through ``TrainConfig``. ``train --config`` takes [task], [model] and [train] (a script's [grid]
is the script's own); a script takes the file's values as the defaults of its options
(``script_defaults``). Options given on the command line win over the file in both.
Read with the standard library's ``tomllib`` (Python >= 3.11) or its backport ``tomli``.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

from ..config import Config, ConfigError

try:
    import tomllib
except ModuleNotFoundError:         # Python 3.10: the backport, a dependency there
    import tomli as tomllib

TABLES = ("task", "model", "train", "grid")
TOP_KEYS = ("about", "script", "results")
TASK_KEYS = ("name", "T", "n_digits", "n_symbols", "mask", "text_file", "data_dir",
             "image_size")
SIZES = ("input_size", "output_size", "loss")           # the task gives these
NONE_OK = ("k_trunc", "clip", "attention", "target", "lr_final", "attn_size", "k_top",
           "k_att", "T")


class SettingsError(ConfigError):
    """A settings file minisab cannot use (a ConfigError: the command line exits with 2)."""


@dataclass(frozen=True)
class Settings:
    """One experiment's settings file, checked. ``model`` and ``train`` hold only the keys the
    file gives (``config()`` and ``train_config()`` fill in the rest)."""
    path: str
    about: str = ""
    script: str | None = None
    results: str | None = None
    task: dict = field(default_factory=dict)
    model: dict = field(default_factory=dict)
    train: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)

    def config(self, task, **method) -> Config:
        """The model ``Config`` on ``task`` (its sizes), with ``method``'s fields on top."""
        return Config(input_size=task.input_size, output_size=task.output_size, loss=task.loss,
                      **{**self.model, **method})

    def train_config(self, **changes):
        """The ``TrainConfig`` of the file, with ``changes`` (e.g. ``seed=1``) on top."""
        from .loop import TrainConfig
        return TrainConfig(**{**self.train, **changes})

    def flat(self) -> dict:
        """Every value by its option's name, for a script's or ``train``'s options: [task]
        (``name`` as ``task``), [model], [train], then [grid] (which wins where it repeats a
        name, e.g. a list of lengths ``T``)."""
        task = {("task" if k == "name" else k): v for k, v in self.task.items()}
        return {**task, **self.model, **self.train, **self.grid}


def _none(table: str, key: str, value):
    if value == "none" and key in NONE_OK:
        return None
    return value


def _where(path, table, key=None) -> str:
    return f"{os.fspath(path)!r} [{table}]" + (f" {key}" if key else "")


def load(path) -> Settings:
    """Read and check one settings file (module docstring)."""
    from .tasks import TASKS
    from .loop import TrainConfig, TrainError
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise SettingsError(f"invalid config={os.fspath(path)!r}: no such file (settings "
                            "files are in experiments/configs/)") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise SettingsError(f"invalid config={os.fspath(path)!r}: not valid TOML ({e})") from None
    except OSError as e:
        raise SettingsError(f"invalid config={os.fspath(path)!r}: cannot be read "
                            f"({e.strerror})") from None
    unknown = sorted(set(doc) - set(TABLES) - set(TOP_KEYS))
    if unknown:
        raise SettingsError(f"{os.fspath(path)!r}: unknown key or table {unknown[0]!r}: accepted "
                            f"are the tables {', '.join(TABLES)} and the keys "
                            f"{', '.join(TOP_KEYS)}")
    tables = {}
    for name in TABLES:
        t = doc.get(name, {})
        if not isinstance(t, dict):
            raise SettingsError(f"{_where(path, name)} must be a table ([{name}])")
        tables[name] = {k: _none(name, k, v) for k, v in t.items()}
    accepted = {"task": TASK_KEYS,
                "model": tuple(f.name for f in dataclasses.fields(Config) if f.name not in SIZES),
                "train": tuple(f.name for f in dataclasses.fields(TrainConfig))}
    for name, keys in accepted.items():
        bad = sorted(set(tables[name]) - set(keys))
        if bad:
            raise SettingsError(f"{_where(path, name, bad[0])}: unknown key; accepted keys are "
                                f"{', '.join(keys)}")
    if "name" in tables["task"] and tables["task"]["name"] not in TASKS:
        raise SettingsError(f"{_where(path, 'task', 'name')} = {tables['task']['name']!r}: "
                            f"accepted values are {', '.join(map(repr, TASKS))}")
    try:                                        # the values, checked by the dataclasses
        Config(**tables["model"])
    except (ConfigError, TypeError) as e:
        raise SettingsError(f"{_where(path, 'model')}: {e}") from None
    try:
        TrainConfig(**tables["train"])
    except (TrainError, TypeError) as e:
        raise SettingsError(f"{_where(path, 'train')}: {e}") from None
    for key in TOP_KEYS:
        if key in doc and not isinstance(doc[key], str):
            raise SettingsError(f"{os.fspath(path)!r}: {key} must be a string")
    return Settings(path=os.fspath(path), about=doc.get("about", ""), script=doc.get("script"),
                    results=doc.get("results"), **tables)


# ------------------------------------------------------------------ scripts and the CLI
def option_defaults(settings: Settings, parser, skip=()) -> dict:
    """``settings.flat()`` as defaults for ``parser``'s options: a key the parser has no option
    for is refused (naming the options it has); a single value becomes a list for an option
    that takes several (``nargs="+"``). ``skip``: keys this parser ignores (e.g. [grid] for
    ``train``)."""
    actions = {a.dest: a for a in parser._actions}
    out = {}
    for key, value in settings.flat().items():
        if key in skip:
            continue
        if key not in actions or key in ("help", "config"):
            names = sorted(d for d in actions if d not in ("help", "config"))
            raise SettingsError(f"{settings.path!r}: {key!r} is not an option of "
                                f"{parser.prog}: accepted keys are {', '.join(names)}")
        if actions[key].nargs in ("+", "*") and not isinstance(value, list):
            value = [value]
        if key == "attention" and value is None:
            value = "none"                      # the command line's word for no attention
        out[key] = value
    return out


def script_defaults(parser, argv, default_path, skip=()) -> None:
    """For an experiment script: add ``--config`` (default ``default_path``) to ``parser`` and
    make the file's values the defaults of its options (options given still win); ``skip``:
    keys of the file the script does not take as options."""
    import argparse
    import sys
    parser.add_argument("--config", default=default_path,
                        help="settings file (TOML, minisab/train/settings.py) whose values are the "
                             "defaults of the options above")
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config", default=default_path)
    path = pre.parse_known_args(sys.argv[1:] if argv is None else argv)[0].config
    try:
        s = load(path)
        defaults = option_defaults(s, parser, skip)
    except SettingsError as e:
        parser.error(str(e))
    if s.results and "out" in {a.dest for a in parser._actions}:
        defaults["out"] = os.path.dirname(os.path.join(repository_root(path), s.results))
    parser.set_defaults(**defaults)


def repository_root(path) -> str:
    """The folder that ``script`` and ``results`` of a settings file are relative to: the
    repository root for a file in ``experiments/configs/``, else the current folder."""
    here = os.path.dirname(os.path.abspath(path))
    if os.path.basename(here) == "configs" and os.path.basename(os.path.dirname(here)) == "experiments":
        return os.path.dirname(os.path.dirname(here))
    return os.getcwd()
