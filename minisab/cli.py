"""The command line: ``python -m minisab <command>``.

Every invalid argument or combination ends with a message that names the argument and its
accepted values, exit status 2, and no traceback.
"""
from __future__ import annotations

import argparse
import sys

from .config import ATTENTIONS, LOSSES, METHODS, SCORERS, Config, ConfigError


def _none_or_int(text: str):
    if text.lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'none', got {text!r}")


def add_model_args(p: argparse.ArgumentParser, **defaults) -> None:
    """The Config fields as options (MODEL.md); ``defaults`` overrides the dataclass defaults."""
    d = Config().to_dict()
    d.update(defaults)
    g = p.add_argument_group("model (MODEL.md)")
    g.add_argument("--hidden-size", type=int, default=d["hidden_size"], help="H")
    g.add_argument("--attention", default="none" if d["attention"] is None else d["attention"],
                   choices=["none", "topk", "softmax"], help="attention kind")
    g.add_argument("--scorer", default=d["scorer"], choices=SCORERS, help="attention scorer")
    g.add_argument("--attn-size", type=int, default=d["attn_size"], help="A, mlp scorer size")
    g.add_argument("--k-top", type=int, default=d["k_top"], help="memories kept by topk")
    g.add_argument("--k-att", type=int, default=d["k_att"], help="write a memory every k_att steps")
    g.add_argument("--k-trunc", type=_none_or_int, default=d["k_trunc"],
                   help="truncation length ('none': no cut)")
    g.add_argument("--method", default=d["method"], choices=METHODS, help="credit assignment")
    g.add_argument("--detach-scores", action="store_true", default=d["detach_scores"],
                   help="no mental updates: scorer inputs are constants")
    g.add_argument("--dtype", default=d["dtype"], choices=["float64", "float32"])
    g.add_argument("--backend", default=None, choices=["numpy", "cupy", "strict"],
                   help="array backend (default: $MINISAB_BACKEND or numpy)")


def config_from_args(args, **sizes) -> Config:
    """Build the Config from parsed options; raises ConfigError on invalid combinations."""
    return Config(hidden_size=args.hidden_size,
                  attention=None if args.attention == "none" else args.attention,
                  scorer=args.scorer, attn_size=args.attn_size, k_top=args.k_top,
                  k_att=args.k_att, k_trunc=args.k_trunc, method=args.method,
                  detach_scores=args.detach_scores, dtype=args.dtype, **sizes)


def cmd_gradcheck(args) -> int:
    import numpy as np

    from .backend import get_backend
    from .gradcheck import check_model, format_report, passes
    from .params import init_params

    cfg = config_from_args(args, input_size=args.input_size, output_size=args.output_size,
                           loss=args.loss)
    if cfg.dtype != "float64":
        raise ConfigError(f"invalid dtype={cfg.dtype!r} for gradcheck: accepted values are "
                          "'float64' (finite differences need double precision)")
    be = get_backend(args.backend)
    rng = np.random.default_rng(args.seed)
    params = init_params(cfg, seed=args.seed, backend=be)
    x = be.asarray(rng.normal(size=(args.batch, args.steps, cfg.input_size)))
    if cfg.loss == "xent":
        targets = be.asarray(rng.integers(0, cfg.output_size, size=(args.batch, args.steps)))
    else:
        targets = be.asarray(rng.normal(size=(args.batch, args.steps, cfg.output_size)))
    print(f"gradcheck: {cfg}")
    print(f"B={args.batch} T={args.steps} seed={args.seed} backend={be.name}\n")
    rows = check_model(params, x, targets, cfg)
    print(format_report(rows))
    return 0 if all(passes(r[3], r[2]) for r in rows) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m minisab",
        description="Sparse Attentive Backtracking from scratch: gradient checks, training, "
                    "comparisons.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    g = sub.add_parser("gradcheck", help="analytic vs numerical gradient, one line a parameter",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_model_args(g, hidden_size=4, attn_size=3, k_top=2, k_att=2, k_trunc=3)
    g.add_argument("--input-size", type=int, default=3, help="I")
    g.add_argument("--output-size", type=int, default=3, help="C")
    g.add_argument("--loss", default="xent", choices=LOSSES)
    g.add_argument("--batch", type=int, default=2, help="B")
    g.add_argument("--steps", type=int, default=10, help="T")
    g.add_argument("--seed", type=int, default=0)
    g.set_defaults(func=cmd_gradcheck)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as e:
        parser.exit(2, f"{parser.prog} {args.command}: error: {e}\n")
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
