"""The command line's parser: its commands, their options, help and examples.

The help shows the defaults a command will use: ``train``'s are the cpu preset's task, model
and training with the course's one SAB (``minisab.train.runs.sab_method()``), or a settings file's
(``--config FILE``, minisab/train/settings.py); ``compare``'s are its ``--preset``'s. Every option says
in words what it sets, with the symbol of docs/model.md in brackets; every command ends with
examples; the usage names the program as it was started (``prog_name``). The options
themselves are built from ``cliargs.py``; the commands run in ``cli.py``.
"""
from __future__ import annotations

import argparse
import os
import sys

from .checks import positive_int as _positive_int, seed_int
from .options import add_model_args, add_parallel_args, add_task_args, add_train_args
from ..config import LOSS_NAMES


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows every default, unless the help text already says what it is; keeps the
    description's paragraphs and the examples' lines as written."""

    def _get_help_string(self, action):
        if "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _preset_text(presets, chosen: str) -> str:
    import textwrap
    lines = ["Trains three models with the same budget: an LSTM with full BPTT, an LSTM with "
             "truncated BPTT, and the course's one SAB (minisab.train.runs.sab_method(): no mental "
             f"updates). Options left out take the preset's value; the defaults shown below "
             f"are those of preset {chosen} (--preset NAME --help shows another's)."]
    for name, p in presets.items():
        fields = [f"{k}={v}" for part in ("task", "model", "train") for k, v in p[part].items()]
        lines.append(f"{name}: " + " ".join(fields))
    return "\n\n".join(textwrap.fill(line, 88) for line in lines)


def prog_name() -> str:
    """The program as it was started: ``minisab`` (the installed script) or ``python -m
    minisab`` (everything else, including a call of ``main()`` from Python)."""
    name = os.path.basename(sys.argv[0] if sys.argv and sys.argv[0] else "")
    return "minisab" if os.path.splitext(name)[0] in ("minisab", "minisab-script") \
        else "python -m minisab"


def _examples(prog: str, lines) -> str:
    """An epilog: 'examples:', each command on its line and what it does below it."""
    return "examples:\n" + "\n".join(f"  {prog} {cmd}\n      {what}" for cmd, what in lines)


def _wrap(text: str) -> str:
    """A description, wrapped (the formatter keeps its line breaks as written)."""
    import textwrap
    return textwrap.fill(text, 88)


def _pre_parse(argv) -> dict:
    """What the help and the defaults depend on, read before the real parse: the command,
    train's --config FILE and compare's --preset NAME."""
    command = argv[0] if argv else None
    pre = argparse.ArgumentParser(add_help=False, prog=f"{prog_name()} {command}")
    pre.set_defaults(config=None, preset="cpu")
    if command == "train":
        pre.add_argument("--config", default=None)
    if command == "compare":
        pre.add_argument("--preset", default="cpu")
    known = pre.parse_known_args(argv[1:])[0]
    return {"command": command, "config": known.config, "preset": known.preset}


def _train_defaults(config_path):
    """train's defaults: the cpu preset's task, model and training with the course's one SAB
    (``minisab.train.runs.sab_method()``), and a settings file's values on top. Returns
    ``(shown task values, model defaults, training defaults, settings or None, source)``."""
    from ..train.runs import PRESETS, sab_method
    cpu = PRESETS["cpu"]
    task = {("task" if k == "name" else k): v for k, v in cpu["task"].items()}
    model = {**cpu["model"], **sab_method(), "detach_scores": None}   # None: on for SAB
    train = dict(cpu["train"])
    if config_path is None:
        return task, model, train, None, "the cpu preset"
    from ..train.settings import load
    s = load(config_path)
    task.update({("task" if k == "name" else k): v for k, v in s.task.items()})
    model.update(s.model)
    train.update(s.train)
    return task, model, train, s, config_path


def build_parser(argv, commands: dict) -> argparse.ArgumentParser:
    """The command line. ``argv`` (the arguments, without the program) makes the help show the
    defaults that will be used: train's with ``--config FILE``, compare's with ``--preset``;
    ``commands``: each command's function (cli.py), set as ``func``."""
    from ..train.runs import PRESETS
    prog = prog_name()
    pre = _pre_parse(list(argv) if argv is not None else [])
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Sparse Attentive Backtracking from scratch: gradient checks, training, "
                    "comparisons.",
        formatter_class=_Formatter, epilog=_examples(prog, [
            ("train", "the course's SAB on the copy task of the cpu preset"),
            ("compare", "the main job: full BPTT, truncated BPTT and SAB side by side"),
            ("train --help", "every option of a command, with the default it uses")]))
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    g = sub.add_parser("gradcheck", help="analytic vs numerical gradient, one line a parameter",
                       formatter_class=_Formatter, epilog=_examples(prog, [
                           ("gradcheck", "docs/model.md's SAB (mental updates on) on a tiny "
                                         "random batch"),
                           ("gradcheck --detach-scores", "the course's SAB, no mental updates"),
                           ("gradcheck --attention topk --method sab --k-top 2 --k-att 2 "
                            "--k-trunc 3", "the README's check"),
                           ("gradcheck --attention none --method bptt", "a plain LSTM")]))
    # The whole backward of docs/model.md's SAB, score paths included (mental updates on):
    # the most a check can cover; --detach-scores checks the course's SAB.
    add_model_args(g, hidden_size=4, attn_size=3, k_top=2, k_att=2, k_trunc=3,
                   detach_scores=False)
    g.add_argument("--input-size", type=int, default=3,
                   help="features per input step [I]")
    g.add_argument("--output-size", type=int, default=3,
                   help="classes (xent) or outputs (mse) per step [C]")
    g.add_argument("--loss", default="xent", choices=LOSS_NAMES,
                   help="'xent' cross-entropy over the classes, 'mse' mean squared error")
    g.add_argument("--batch", type=_positive_int, default=2, help="random sequences [B]")
    g.add_argument("--steps", type=_positive_int, default=10, help="sequence length [T]")
    g.add_argument("--seed", type=seed_int, default=0,
                   help="seeds the parameters, the inputs and the targets")
    g.add_argument("--engine", default="fast", choices=["fast", "reference"],
                   help="what to check: the fast engine that training runs (minisab.fast), or "
                        "the reference written as the equations (minisab.sab)")
    g.set_defaults(func=commands['gradcheck'])

    shown, model, training, settings, source = _train_defaults(
        pre["config"] if pre["command"] == "train" else None)
    t = sub.add_parser("train", help="train one model on one task (runs/<name>/)",
                       formatter_class=_Formatter,
                       description=_wrap(
                           "Trains one model on one task into a run folder. With no options: "
                           "the course's one SAB (minisab.train.runs.sab_method(), no mental "
                           "updates) on the copy task of the cpu preset, as 'compare' trains "
                           "it." + ("" if settings is None else
                                    f" The defaults below are {source}'s: {settings.about}")),
                       epilog=_examples(prog, [
                           ("train", "the course's SAB, cpu preset (compare's SAB, seed 0)"),
                           ("train --config experiments/configs/digits.toml",
                            "SAB on pixel-by-pixel digits, the settings of the results"),
                           ("train --method tbptt --attention none",
                            "an LSTM with truncated BPTT instead"),
                           ("train --task fashion --image-size 7 --download",
                            "Fashion-MNIST at 7x7, fetched once into the user cache"),
                           ("train --resume", "continue a stopped run to the same bits")]))
    t.add_argument("--config", default=None,
                   help="settings file (TOML; experiments/configs/*.toml, minisab/train/settings.py): "
                        "its [task], [model] and [train] become the defaults (options given "
                        "win; the defaults below are the file's)")
    add_task_args(t, values=shown, source=source,
                  given={("task" if k == "name" else k) for k in (settings.task if settings
                                                                 else {})})
    add_model_args(t, **model)
    add_train_args(t, values=training)
    if settings is not None:            # T and the copy task's options, and every key checked
        from ..train.settings import option_defaults
        t.set_defaults(**option_defaults(settings, t, skip=set(settings.grid)))
    t.set_defaults(func=commands['train'])

    e = sub.add_parser("eval", help="evaluate a run, also at other sequence lengths (transfer)",
                       formatter_class=_Formatter, epilog=_examples(prog, [
                           ("eval runs/copy-sab", "the held-out number of the run's summary"),
                           ("eval runs/copy-sab --T 20 40 80", "transfer to longer sequences"),
                           ("eval runs/copy-sab --batch 1024",
                            "1,024 other held-out sequences")]))
    e.add_argument("run", help="run folder, e.g. runs/copy-sab")
    e.add_argument("--T", type=_positive_int, nargs="+", default=None,
                   help="sequence lengths to evaluate at [T] (default: the training T)")
    e.add_argument("--batch", type=_positive_int, default=None,
                   help="held-out sequences: this many drawn afresh (default: the run's own "
                        "held-out set, the one its summary reports)")
    e.add_argument("--backend", default=None, choices=["numpy", "cupy", "strict"],
                   help="array library (default: $MINISAB_BACKEND, or numpy)")
    e.set_defaults(func=commands['eval'])

    chosen = pre["preset"] if pre["command"] == "compare" and pre["preset"] in PRESETS else "cpu"
    cp = PRESETS[chosen]
    source = f"preset {chosen}"
    c = sub.add_parser("compare", help="the main job: LSTM with full and truncated BPTT "
                                       "against SAB on the copy task",
                       formatter_class=_Formatter, description=_preset_text(PRESETS, chosen),
                       epilog=_examples(prog, [
                           ("compare", "the main job, preset cpu"),
                           ("compare --seeds 0 1 2", "three seeds: mean and range"),
                           ("compare --preset paper --help", "the paper preset's defaults")]))
    c.add_argument("--preset", default="cpu", choices=sorted(PRESETS),
                   help="cpu: minutes on a 2-core laptop; paper: the paper's copy task (hours)")
    add_task_args(c, preset=True, source=source,
                  values={("task" if k == "name" else k): v for k, v in cp["task"].items()})
    m = c.add_argument_group("model (docs/model.md)")
    keep = argparse.SUPPRESS

    def says(name):
        return f" (default: {cp['model'][name]}, from {source})"
    m.add_argument("--hidden-size", type=_positive_int, default=keep,
                   help="size of the LSTM state, and of each memory [H]" + says("hidden_size"))
    m.add_argument("--k-trunc", type=_positive_int, default=keep,
                   help="truncation: tbptt and sab cut the recurrent chain every this many "
                        "steps [k_trunc]" + says("k_trunc"))
    m.add_argument("--k-top", type=_positive_int, default=keep,
                   help="memories the sparse attention keeps at each step [k_top]"
                        + says("k_top"))
    m.add_argument("--k-att", type=_positive_int, default=keep,
                   help="a memory is written every this many steps [k_att]" + says("k_att"))
    m.add_argument("--dtype", default=keep, choices=["float64", "float32"],
                   help="float type of parameters and states" + says("dtype"))
    m.add_argument("--backend", default=None, choices=["numpy", "cupy", "strict"],
                   help="array library (default: $MINISAB_BACKEND, or numpy)")
    add_train_args(c, preset=True, values=cp["train"], source=source)
    c.add_argument("--seeds", type=int, nargs="+", default=None,
                   help="train every method at each of these seeds; the table gives the mean "
                        "and range (default: --seed alone)")
    add_parallel_args(c)
    c.set_defaults(func=commands['compare'])

    from ..train.download import add_download_command
    add_download_command(sub, prog, _Formatter, _examples, commands["download"])
    from .diagnose import DESCRIPTION, build_parser as diagnose_parser
    d = sub.add_parser("diagnose", parents=[diagnose_parser(add_help=False)],
                       help="train briefly and trace why SAB stalls or diverges",
                       description=DESCRIPTION, formatter_class=_Formatter,
                       epilog=_examples(prog, [("diagnose --T 50 --steps 600",
                                                "the copy task, traced every 100 steps"),
                                               ("diagnose --run runs/copy-cpu/sab",
                                                "a trained run's profile")]))
    d.set_defaults(func=commands["diagnose"])
    for command in sub.choices.values():            # every command: BLAS threads per process
        command.add_argument("--threads", type=_positive_int, default=None,
                             help="BLAS threads per process (default: $MINISAB_THREADS, or "
                                  "1: the fastest at minisab's sizes; minisab/threads.py)")
    return parser
