"""The documentation stays true to the code: references, derivations, layers, and the site build.

- every "docs/model.md §N" (or §N.M) cited in the code, tests and docs exists in docs/model.md;
- every backward pass in minisab/ is derived in docs/derivations.md;
- the imports of minisab follow the layer table of docs/design.md (one way, no cycle);
- docs/conf.py's helpers (plain docstrings to reST, tutorial discovery) do what they say;
- the site builds with -W, notebooks not executed, and has a page for every tutorial and every
  module (needs Sphinx and myst-nb, which ``pip install -e '.[dev]'`` installs; skipped without
  them, except where ``MINISAB_DOCS_REQUIRED=1``, as in ``.ci/run``, which makes it fail).
"""
from __future__ import annotations

import ast
import functools
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PACKAGE = ROOT / "minisab"


def load_conf():
    """docs/conf.py as a module (it needs no Sphinx to import)."""
    spec = importlib.util.spec_from_file_location("minisab_docs_conf", DOCS / "conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    return conf


@functools.lru_cache(maxsize=1)
def modules() -> dict[str, ast.Module]:
    """Top-level modules of minisab by name (``sab``), and each folder's modules dotted
    (``train.loop``)."""
    out = {p.stem: ast.parse(p.read_text(encoding="utf-8"))
           for p in sorted(PACKAGE.glob("*.py")) if not p.stem.startswith("_")}
    for p in sorted(PACKAGE.glob("*/*.py")):
        if p.parent.name != "data" and (p.stem == "__init__" or not p.stem.startswith("_")):
            name = p.parent.name if p.stem == "__init__" else f"{p.parent.name}.{p.stem}"
            out[name] = ast.parse(p.read_text(encoding="utf-8"))
    return out


def unit(name: str) -> str:
    """The part of the tree a module belongs to: a top-level module, or its folder."""
    return name.split(".")[0]


# ------------------------------------------------------------------ docs/model.md references
REF = re.compile(r"model\.md\W{0,3}(?:§\s?|section\s)(\d+)(?:\.(\d+))?")


def model_sections() -> dict[int, str]:
    """Section number -> its text, from the "## N. Title" headings of docs/model.md."""
    text = (DOCS / "model.md").read_text(encoding="utf-8")
    parts = re.split(r"^## (\d+)\. .*$", text, flags=re.M)
    return {int(parts[k]): parts[k + 1] for k in range(1, len(parts), 2)}


def cited_files():
    folders = ["minisab", "tests", "benchmarks", "experiments", "tutorials", "docs"]
    for folder in folders:
        base = ROOT / folder
        if not base.is_dir():
            continue
        for p in base.rglob("*"):
            if (p.suffix in (".py", ".md", ".ipynb") and "_build" not in p.parts
                    and "_tutorials" not in p.parts and p != DOCS / "model.md"):
                yield p


def test_model_copy_has_its_note_and_sections():
    text = (DOCS / "model.md").read_text(encoding="utf-8")
    assert "the project's copy of the model contract" in text.splitlines()[2]
    assert sorted(model_sections()) == [1, 2, 3, 4, 5, 6]


def test_the_options_of_model_md_section_6_are_the_configs():
    """§6 names the bounded sparsifiers and what a step may write; Config accepts exactly those
    (with §2.3's threshold and §2.5's h), so the copy and the code cannot drift apart."""
    from minisab.config import MEMORY_WRITES, SPARSIFIERS
    sec6 = model_sections()[6]
    named = re.findall(r"^- \*\*`(\w+)`", sec6, flags=re.M)
    assert set(named) - {"memory_write"} == set(SPARSIFIERS) - {"threshold"}
    line = sec6[sec6.index("**`memory_write`**"):].split("\n")[0]
    assert re.findall(r'"(\w+)"', line) == list(MEMORY_WRITES)


def test_every_model_reference_exists():
    sections = model_sections()
    bad = []
    n_refs = 0
    for path in cited_files():
        for m in REF.finditer(path.read_text(encoding="utf-8", errors="replace")):
            n_refs += 1
            sec, item = int(m.group(1)), m.group(2)
            ok = sec in sections and (
                item is None or re.search(rf"^{item}\. ", sections[sec], flags=re.M))
            if not ok:
                bad.append(f"{path.relative_to(ROOT)}: {m.group(0)!r}")
    assert n_refs > 20, "the scan found almost no docs/model.md references: is the pattern broken?"
    assert not bad, ("references to sections or steps that docs/model.md does not have:\n"
                     + "\n".join(bad))


def test_reference_pattern_reads_items():
    m = REF.search("see docs/model.md §2.3 here")
    assert (m.group(1), m.group(2)) == ("2", "3")
    assert not re.search(r"^9\. ", model_sections()[2], flags=re.M)   # a step that is not there


# ------------------------------------------------------------------ derivations
def test_every_backward_pass_is_derived():
    text = (DOCS / "derivations.md").read_text(encoding="utf-8")
    missing = []
    for mod, tree in modules().items():
        if unit(mod) == "exercises":            # checkers of the students' backward passes
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and (node.name.endswith("_backward")
                                                      or node.name == "backward"):
                if f"`{node.name}`" not in text and f"`{mod}.{node.name}`" not in text \
                        and f"`{mod.split('.')[0]}.{node.name}`" not in text:
                    missing.append(f"minisab.{mod}.{node.name}")
    assert not missing, ("backward passes without a derivation in docs/derivations.md (name "
                         "them in backticks where they are derived): " + ", ".join(missing))


# ------------------------------------------------------------------ the data-flow block
FLOW_MARKER = "<!-- The test reads this block"
CALL_LINE = re.compile(r"^( *)(\w+)\.(\w+)\b")


def flow_edges(text: str) -> list[tuple[str, str]]:
    """(caller, callee) pairs "module.function" of design.md's call tree: a name drawn under
    another, indented further, is called by it; ``for`` lines are only a loop, not a call."""
    block = text.split(FLOW_MARKER, 1)[1].split("```text", 1)[1].split("```", 1)[0]
    stack, edges = [], []                                  # (indent, name or None for a loop)
    for line in block.splitlines():
        loop = re.match(r"^( *)for ", line)
        m = CALL_LINE.match(line)
        if not (loop or m):
            continue
        indent = len((loop or m).group(1))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        name = None if loop else f"{m.group(2)}.{m.group(3)}"
        callers = [n for _, n in stack if n is not None]
        if name and callers:
            edges.append((callers[-1], name))
        stack.append((indent, name))
    return edges


def calls_in(module: str, function: str) -> set[str]:
    """Names called inside a top-level function of minisab/<module>.py (f(...) or x.f(...))."""
    tree = modules()[module]
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function), None)
    assert fn is not None, f"minisab.{module} has no function {function}"
    return {n.func.id if isinstance(n.func, ast.Name) else n.func.attr
            for n in ast.walk(fn) if isinstance(n, ast.Call)
            and isinstance(n.func, (ast.Name, ast.Attribute))}


def test_the_data_flow_block_draws_real_calls():
    edges = flow_edges((DOCS / "design.md").read_text(encoding="utf-8"))
    assert len(edges) >= 20, "the scan found almost no calls in design.md's block"
    wrong = [f"{a} does not call {b}" for a, b in edges
             if b.split(".")[1] not in calls_in(*a.split("."))]
    assert not wrong, "docs/design.md's data-flow block draws calls the code does not make:\n" \
        + "\n".join(wrong)


def test_the_data_flow_check_can_fail():
    text = (f"{FLOW_MARKER} -->\n```text\nsab.backward\n  for t:\n    lstm.lstm_step_forward\n"
            "  losses.output_backward\n```\n")
    assert flow_edges(text) == [("sab.backward", "lstm.lstm_step_forward"),
                                ("sab.backward", "losses.output_backward")]
    assert "lstm_step_forward" not in calls_in("sab", "backward")


# ------------------------------------------------------------------ layers
def imports_of(tree: ast.Module, name: str = "") -> set[str]:
    """The parts of minisab (top-level modules, folders) imported anywhere in the module
    ``name`` (dotted below minisab: ``train.loop``), by relative or absolute imports."""
    here = name.split(".")[:-1]                      # the folder of a module in a folder
    if name and (PACKAGE / name.replace(".", "/")).is_dir():
        here = name.split(".")                      # a folder's __init__
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - (node.level - 1)] if node.level > 1 else here
                target = base + (node.module.split(".") if node.module else [])
                if target:
                    out.add(target[0])
                else:                                   # from . import x, at the top
                    out.update(a.name for a in node.names)
            elif node.module and node.module.startswith("minisab."):
                out.add(node.module.split(".")[1])
            elif node.module == "minisab":
                out.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[1] for a in node.names
                       if a.name.startswith("minisab."))
    return out


def test_imports_follow_the_layer_table():
    layers = load_conf().layer_table()
    mods = modules()
    units = {unit(m) for m in mods}
    unplaced = sorted(units - set(layers))
    assert not unplaced, (f"parts of minisab missing from the layer table of docs/design.md: "
                          f"{unplaced}; add a row '| layer | `name` | one idea |'")
    graph = {u: set() for u in units}
    for m, tree in mods.items():
        graph[unit(m)] |= {i for i in imports_of(tree, m) if i in units and i != unit(m)}
    upward = [f"minisab.{m} (layer {layers[m]}) imports minisab.{i} (layer {layers[i]})"
              for m, deps in graph.items() for i in deps if layers[i] > layers[m]]
    assert not upward, "imports against the layers of docs/design.md:\n" + "\n".join(upward)
    # Same-layer imports are allowed, cycles are not.
    state = {}

    def visit(m, path):
        state[m] = "open"
        for i in graph[m]:
            assert state.get(i) != "open", f"import cycle: {' -> '.join(path + [m, i])}"
            if i not in state:
                visit(i, path + [m])
        state[m] = "done"
    for m in graph:
        if m not in state:
            visit(m, [])


def test_import_scan_finds_the_core_dependencies():
    graph = imports_of(modules()["sab"])
    assert {"attention", "backend", "config", "losses", "lstm", "memory"} <= graph


# ------------------------------------------------------------------ docs/conf.py helpers
def test_plain_docstrings_become_warning_free_rest():
    conf = load_conf()
    doc = ["Returns ``(h, c)``:",
           "  h   (B, H) the state",
           "      continued",
           "  c   (B, H)",
           "Norm |x| and ``a|b``, as torch's clip_grad_norm_.",
           "Example::",
           "",
           "    y = 1",
           "- item",
           "  more"]
    out = conf.plain_docstring_to_rst(doc)
    assert out[:4] == ["Returns ``(h, c)``:", "", "::", ""]           # a literal block
    assert out[4:7] == doc[1:4] and out[7] == ""                       # columns kept, closed
    assert out[8] == r"Norm \|x\| and ``a|b``, as torch's clip_grad_norm\_."
    assert out[9:12] == doc[5:8]                                       # existing :: untouched
    assert out[12:] == ["", "- item", "  more"]                        # list gets its blank line


def test_api_page_lists_every_module():
    conf = load_conf()
    text = conf.api_markdown()
    for name in modules():
        assert f".. automodule:: minisab.{name}\n" in text
    order = conf.package_modules()
    assert order.index("backend") < order.index("sab") < order.index("cli")
    assert order.index("train") < order.index("train.loop") < order.index("plots")


def test_pages_missing_from_the_index_are_listed():
    conf = load_conf()
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    assert not {"model", "derivations", "costs", "api"} & set(conf.extra_pages(index))
    few = "```{toctree}\n:maxdepth: 2\n\nmodel\nderivations\n```\n"
    extra = conf.extra_pages(few)
    assert "costs" in extra and "model" not in extra and "index" not in extra
    assert "costs" in conf.extra_toctree(few)


def test_field_comments_are_read():
    conf = load_conf()
    src = ("@dataclass\n"
           "class C:\n"
           "    # --- a section ---\n"
           "    a: int = 1         # the first\n"
           "    b: str = \"x#y\"     # the second, which\n"
           "                       # goes on here\n"
           "    # not b's\n"
           "    c: float = 0.0\n"
           "    d: dict = field(\n"
           "        default_factory=dict)  # the fourth\n"
           "\n"
           "    def f(self):       # not a field\n"
           "        x = 1          # nor this\n"
           "        return x\n")
    assert conf.field_comments(src) == {"a": "the first", "b": "the second, which goes on here",
                                        "d": "the fourth"}
    assert "topk sparsifier" in conf.field_comment("minisab.config", "Config.k_top")
    assert conf.field_comment("minisab.config", "Config.no_such_field") == ""
    assert conf.field_comment("minisab.config", "NoSuchClass.k_top") == ""


@pytest.mark.parametrize("value, mode", [(None, "auto"), ("", "auto"), ("1", "auto"),
                                         ("off", "off"), ("0", "off"), ("FORCE", "force"),
                                         ("cache", "cache")])
def test_notebook_execution_is_switchable(monkeypatch, value, mode):
    if value is None:
        monkeypatch.delenv("MINISAB_DOCS_EXECUTE", raising=False)
    else:
        monkeypatch.setenv("MINISAB_DOCS_EXECUTE", value)
    assert load_conf().nb_execution_mode == mode


def test_bad_execution_mode_is_an_error(monkeypatch):
    monkeypatch.setenv("MINISAB_DOCS_EXECUTE", "sometimes")
    with pytest.raises(ValueError, match="MINISAB_DOCS_EXECUTE"):
        load_conf()


def _notebook(path: Path):
    nb = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb), encoding="utf-8")


def test_tutorial_discovery(tmp_path):
    conf = load_conf()
    assert conf.tutorial_notebooks(tmp_path / "absent") == []
    _notebook(tmp_path / "01_lstm.ipynb")
    (tmp_path / "01_lstm.md").write_text("---\njupytext:\n  x: 1\n---\n# paired\n")
    (tmp_path / "02_sab.md").write_text("---\nkernelspec:\n  name: python3\n---\n# text nb\n")
    (tmp_path / "README.md").write_text("# not a notebook\n")
    (tmp_path / "solutions").mkdir()
    _notebook(tmp_path / "solutions" / "01_lstm.ipynb")
    found = [p.relative_to(tmp_path).as_posix() for p in conf.tutorial_notebooks(tmp_path)]
    assert found == ["01_lstm.ipynb", "02_sab.md"]


# ------------------------------------------------------------------ the site
def _need(module: str) -> None:
    """Skip without a docs dependency, unless the environment requires the build (CI)."""
    required = os.environ.get("MINISAB_DOCS_REQUIRED", "").strip() not in ("", "0")
    if required and importlib.util.find_spec(module) is None:
        pytest.fail(f"MINISAB_DOCS_REQUIRED is set but {module} is not installed: "
                    "pip install -e '.[dev]'", pytrace=False)
    pytest.importorskip(module)


def test_site_builds_without_warnings(tmp_path):
    """The CI build: every warning is an error (-W); notebooks rendered as stored, not run."""
    _need("sphinx")
    _need("myst_nb")
    env = dict(os.environ, MINISAB_DOCS_EXECUTE="off")
    out = tmp_path / "html"
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-q",
                           "-b", "html", str(DOCS), str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"the site does not build cleanly:\n{proc.stderr[-5000:]}"
    pages = ["index", "model", "derivations", "design", "departures", "costs", "reproduction",
             "api"]
    missing = [p for p in pages if not (out / f"{p}.html").exists()]
    assert not missing, f"pages missing from the site: {missing}"
    conf = load_conf()
    tutorials = [p.stem for p in conf.tutorial_notebooks()]
    missing = [t for t in tutorials if not (out / "_tutorials" / f"{t}.html").exists()]
    assert not missing, f"tutorials missing from the site: {missing}"
    index = (out / "index.html").read_text(encoding="utf-8")
    assert all(f"_tutorials/{t}.html" in index for t in tutorials)
    api = (out / "api.html").read_text(encoding="utf-8")
    absent = [m for m in modules() if f'id="module-minisab.{m}"' not in api]
    assert not absent, f"modules missing from the API reference: {absent}"
    assert 'id="minisab.sab.forward"' in api and 'id="minisab.config.Config.k_top"' in api
