"""The plan of runs (experiments/plan.json) against the results files: what is finished, what is
still pending, and how to continue.

A planned run is *finished* when its results file has a row with its key whose training reached
the planned steps (or stopped on purpose: a NaN stop or a target reached); anything else is
*pending*: not started, still running, or stopped part-way, which the committed files cannot
tell apart. The verdicts read only finished rows (``finished_rows``), so a partial result is
never stated as final, and ``plan_status`` lists the pending runs with the command that
continues them. Standard library only.
"""
from __future__ import annotations

import itertools
import json
from pathlib import Path

from _generate_stats import seed_range

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "experiments" / "results"
PLAN = ROOT / "experiments" / "plan.json"


def plan() -> dict:
    """{name: experiment} of experiments/plan.json."""
    doc = json.loads(PLAN.read_text(encoding="utf-8"))
    return {e["name"]: e for e in doc["experiments"]}


def blas_kernel() -> str | None:
    """The OpenBLAS kernel the plan's runs train with (plan.json's ``blas_kernel``; None: none)."""
    return json.loads(PLAN.read_text(encoding="utf-8")).get("blas_kernel")


def planned_keys(exp: dict) -> list[tuple]:
    """Every planned run of ``exp`` as a tuple in the order of its ``key``."""
    keys = []
    for block in exp["runs"]:
        missing = set(exp["key"]) - set(block)
        if missing:
            raise ValueError(f"plan {exp['name']!r}: a block of runs lacks {sorted(missing)}")
        for combo in itertools.product(*(block[k] for k in exp["key"])):
            if combo not in keys:
                keys.append(combo)
    return keys


def _rows(exp: dict) -> list[dict]:
    path = RESULTS / exp["results"]
    if not path.exists():
        return []
    doc = json.loads(path.read_text(encoding="utf-8"))
    return doc["runs"] if "runs" in doc else doc["rows"]       # the diagnosis keeps "rows"


def finished(row: dict, exp: dict) -> bool:
    """Whether a results row is a finished run of the plan (see the module docstring)."""
    if "skipped" in row:                     # dense attention too large for the memory budget
        return True
    steps = exp.get("steps")
    return (steps is None or row.get("steps", 0) >= steps
            or row.get("stopped") in ("nan", "target"))


def status(name: str) -> dict:
    """{"planned": keys, "done": {key: row}, "pending": keys, "extra": rows outside the plan}."""
    exp = plan()[name]
    keys = planned_keys(exp)
    by_key = {tuple(r[k] for k in exp["key"]): r for r in _rows(exp)}
    done = {k: by_key[k] for k in keys if k in by_key and finished(by_key[k], exp)}
    return {"planned": keys, "done": done, "pending": [k for k in keys if k not in done],
            "extra": [r for k, r in by_key.items() if k not in set(keys)], "exp": exp}


def finished_rows(name: str, **where) -> list[dict]:
    """The finished rows of experiment ``name`` (planned or not) matching ``where``."""
    exp = plan()[name]
    return [r for r in _rows(exp) if finished(r, exp)
            and all(r.get(k) == v for k, v in where.items())]


def pending(name: str, **where) -> list[tuple]:
    """The pending runs of ``name`` whose key fields equal ``where``."""
    st = status(name)
    fields = st["exp"]["key"]
    return [k for k in st["pending"] if all(k[fields.index(f)] == v for f, v in where.items())]


def _groups(exp: dict, keys: list[tuple]) -> list[dict]:
    """Pending keys as command-sized groups: the runs that share every field but method and
    seed, split by their set of seeds; each group {field: values in the plan's order}."""
    fields = exp["key"]
    rest = [f for f in fields if f not in ("method", "seed")]
    out: list[dict] = []
    by_rest: dict = {}
    for k in keys:
        d = dict(zip(fields, k))
        by_rest.setdefault(tuple(d[f] for f in rest), []).append(d)
    for rv, ds in by_rest.items():
        seeds_of: dict = {}
        for d in ds:
            seeds_of.setdefault(d.get("method"), {})[d.get("seed")] = None
        by_seeds: dict = {}
        for m, s in seeds_of.items():       # the seeds in the plan's order: its priority
            by_seeds.setdefault(tuple(s), []).append(m)
        for seeds, methods in by_seeds.items():
            g = dict(zip(rest, ([v] for v in rv)))
            if "method" in fields:
                g["method"] = methods
            if "seed" in fields:
                g["seed"] = list(seeds)
            same = next((o for o in out if o.get("method") == g.get("method")
                         and o.get("seed") == g.get("seed") and set(o) == set(g)), None)
            if same is not None and len(rest) == 1:    # the same runs at another length
                same[rest[0]].append(rv[0])
            else:
                out.append(g)
    return out


def _describe(g: dict) -> str:
    head = ", ".join(f"{f} = " + ", ".join(f"{v:,}" if isinstance(v, int) else str(v)
                                           for v in g[f])
                     for f in g if f not in ("method", "seed"))
    what = ", ".join(f"`{m}`" for m in g.get("method", []))
    seeds = g.get("seed")
    text = (head + ": " if head else "") + what
    if seeds is not None:
        text += f" seed{'s' * (len(seeds) > 1)} {seed_range(seeds)}"
    return text


def _command(exp: dict, g: dict) -> str:
    fill = {f: " ".join(map(str, vals)) for f, vals in g.items()}
    return exp["command"].format(**fill)


def _hours(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def _wall(row: dict) -> float | None:
    """The row's wall time in seconds, or None where its script did not record one."""
    t = row.get("wall_s", row.get("seconds"))
    return None if t is None else float(t)


def _wall_text(rows: list[dict]) -> str:
    """The finished runs' summed wall time, saying how many rows had none recorded."""
    if not rows:
        return "—"
    times = [t for t in map(_wall, rows) if t is not None]
    if not times:
        return "not recorded"
    if len(times) < len(rows):
        return f"{_hours(sum(times))} ({len(rows) - len(times)} of {len(rows)} not recorded)"
    return _hours(sum(times))


def continue_commands(name: str) -> list[str]:
    """The commands that continue experiment ``name``'s pending runs (none when all finished),
    in the plan's order: one per group of runs where the command names its runs, else the one
    command (which skips what it finished)."""
    exp = plan()[name]
    groups = _groups(exp, status(name)["pending"])
    if not groups:
        return []
    placeholders = any("{" + f + "}" in exp["command"] for f in exp["key"])
    cmds = [_command(exp, g) for g in groups] if placeholders else [exp["command"]]
    return list(dict.fromkeys(cmds))


def plan_status() -> str:
    """reproduction.md, "Still to run": every experiment of the plan, its finished and pending
    runs, the wall time spent, and the commands that continue it."""
    lines = ["| experiment | planned runs | finished | wall time of the finished runs | "
             "pending (running or not started) |", "|---|---|---|---|---|"]
    commands = []
    for name, exp in plan().items():
        st = status(name)
        done = list(st["done"].values())
        groups = _groups(exp, st["pending"])
        pend = "; ".join(_describe(g) for g in groups) or "none"
        if len(groups) > 4:                 # too many to list: the command continues them all
            pend = f"{len(st['pending'])} runs (the command below continues them)"
        lines.append(f"| `{name}`: {exp['what']} | {len(st['planned'])} | {len(done)} | "
                     f"{_wall_text(done)} | {pend} |")
        commands += continue_commands(name)
    out = ("\nThe plan of runs is `experiments/plan.json`; this table compares it with the "
           "results files (a run counts as finished once its row reached the planned steps; "
           "the files cannot tell a running run from one not started, so both are "
           "\"pending\"). The verdicts above use finished runs only.\n\n" + "\n".join(lines)
           + "\n")
    if commands:
        kernel = blas_kernel()
        env = f"OPENBLAS_CORETYPE={kernel} " if kernel else ""
        out += ("\nTo continue (each command skips the runs it finished, resumes or restarts "
                "the others; `nice -n 19` keeps a shared machine usable"
                + (f"; `{env.strip()}` is the plan's BLAS kernel, which `run_plan.py` "
                   "sets by itself" if kernel else "")
                + "):\n\n```bash\n" + "\n".join(env + c for c in commands) + "\n```\n")
    return out


PLAN_BLOCKS = {"plan-status": plan_status}
