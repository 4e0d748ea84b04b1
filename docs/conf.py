"""Sphinx configuration for the minisab site (Sphinx + MyST via myst-nb).

Build (from the repository root; must stay free of warnings):

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Tutorials: every notebook at the top of ``tutorials/`` (``*.ipynb``, or jupytext/MyST ``*.md``
with a ``jupytext`` or ``kernelspec`` front matter) is copied into ``docs/_tutorials/`` (ignored
by git) and listed in the index, found by glob: a new notebook needs no edit here.

Executing them: the notebooks are committed without outputs, so by default (``auto``) the build
runs every notebook that has none, in ``docs/_tutorials/``,
and the site shows the tutorials with their outputs and figures. ``MINISAB_SMOKE=1`` makes the
notebooks run at small sizes (seconds each). ``MINISAB_DOCS_EXECUTE`` chooses:

- ``off`` (or ``0``, ``no``, ``false``): render the notebooks as stored, without running them.
  CI and ``tests/test_docs.py`` build this way;
- ``auto`` (or ``1``, ``on``, unset): run the notebooks that have no outputs (the default);
- ``cache``: run them through jupyter-cache (``docs/_build/.jupyter_cache``), so a rebuild only
  re-runs the notebooks that changed; ``force``: re-run every notebook, outputs or not.

A notebook that raises fails the build. ``MINISAB_DOCS_TIMEOUT`` (seconds, default 900) bounds
each cell's execution.

The published site is built with every tutorial executed, at full size::

    MINISAB_DOCS_EXECUTE=force python -m sphinx -E -W --keep-going -b html docs docs/_build/html

Offline: MathJax comes from PyPI (``sphinx-mathjax-offline``, in the ``docs`` and ``dev`` extras)
and is copied into ``_static/mathjax``, so no page loads anything from a CDN.
``_static/minisab.css`` makes long display equations and wide tables scroll inside the content
column. The two pictures of the method are drawn by ``minisab.plots.diagrams`` into ``_generated/`` at
every build; a notebook's title is shown without TeX (``plain_title``). ``tests/test_site.py``
checks all of this in headless Chromium. The numbers marked ``<!-- generated: ... -->`` in the
pages are written by ``docs/_generate.py`` from the results files.

Nothing here reads outside the repository: the model contract is the copy in ``docs/model.md``.
"""
from __future__ import annotations

import importlib
import inspect
import io
import json
import keyword
import os
import pkgutil
import re
import shutil
import sys
import textwrap
import tokenize
import unicodedata
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))        # autodoc imports the checkout's minisab, installed or not

project = "minisab"
author = "the minisab authors"
copyright = "2026, the minisab authors"
from minisab import __version__ as release          # the one place; no side effects
version = release

extensions = [
    "myst_nb",                      # MyST markdown + notebooks (loads myst_parser itself)
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",       # MathJax 3 from PyPI, copied into _static: no CDN, works offline
    "sphinx.ext.viewcode",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
# _tutorials/ is the build's copy of ../tutorials: only its top-level notebooks are pages.
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints", "_tutorials/*/**",
                    "_generated"]

# --- MyST -------------------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3            # "model.md#4-backward-pass-..." links to docs/model.md's sections
myst_dmath_double_inline = True

# --- notebooks (myst-nb) ----------------------------------------------------------------------
_EXEC_MODES = {"0": "off", "off": "off", "false": "off", "no": "off",
               "": "auto", "1": "auto", "on": "auto", "true": "auto", "yes": "auto",
               "auto": "auto", "cache": "cache", "force": "force", "inline": "inline"}
_exec = os.environ.get("MINISAB_DOCS_EXECUTE", "").strip().lower()
if _exec not in _EXEC_MODES:
    raise ValueError(f"invalid MINISAB_DOCS_EXECUTE={_exec!r}: accepted values are "
                     f"{', '.join(repr(k) for k in _EXEC_MODES if k)} (unset: auto)")
nb_execution_mode = _EXEC_MODES[_exec]
nb_execution_timeout = int(os.environ.get("MINISAB_DOCS_TIMEOUT", "900"))
nb_execution_raise_on_error = True          # a tutorial that fails fails the build
nb_execution_show_tb = True
# The site is offline (no widget JavaScript from a CDN), so a widget would render as nothing:
# drop the widget view, and outputs that carry both (minisab.plots.explorer) show their static PNG.
nb_mime_priority_overrides = [("*", "application/vnd.jupyter.widget-view+json", None)]
nb_merge_streams = True

# --- autodoc ----------------------------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "signature"
autodoc_mock_imports = ["cupy"]             # the GPU backend is imported lazily anyway
napoleon_google_docstring = False
napoleon_numpy_docstring = True

# --- HTML -------------------------------------------------------------------------------------
try:
    import furo  # noqa: F401
    html_theme = "furo"
except ImportError:                         # the default theme works too, just plainer
    html_theme = "alabaster"
html_title = f"minisab {release}"
html_static_path = ["_static"]
html_css_files = ["minisab.css"]       # display maths and wide tables scroll inside the column

# The API page lists the modules in the order of the layer table in docs/design.md (the pieces
# before what is built from them; tests/test_docs.py checks the imports against that table). A
# module missing from the table still gets its section, at the end: the API reference cannot
# fall behind the package.
_LAYER_ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*`([A-Za-z_][A-Za-z0-9_]*)`\s*\|")


def layer_table(path: Path = DOCS / "design.md") -> dict[str, int]:
    """Module name -> layer, from the rows ``| layer | `module` | ... |`` of docs/design.md."""
    rows = (_LAYER_ROW.match(line) for line in path.read_text(encoding="utf-8").splitlines())
    return {m.group(2): int(m.group(1)) for m in rows if m}


API_MARKER = "<!-- minisab-api-modules -->"
TUTORIALS_MARKER = "<!-- minisab-tutorials-toctree -->"
EXTRA_MARKER = "<!-- minisab-extra-pages-toctree -->"
TUTORIALS_SRC = ROOT / "tutorials"
TUTORIALS_DST = DOCS / "_tutorials"


def package_modules() -> list[str]:
    """minisab's modules (found on disk, not imported), dotted below ``minisab``: the top-level
    modules and the folders in the layer order of docs/design.md, each folder followed by its
    own modules (``train``, ``train.loop``, ...), then anything the table does not place."""
    pkg = ROOT / "minisab"
    found = {m.name: m.ispkg for m in pkgutil.iter_modules([str(pkg)])
             if not m.name.startswith("_")}
    order = [m for m in layer_table() if m in found]          # file order = layer order
    out = []
    for name in order + sorted(set(found) - set(order)):
        out.append(name)
        if found[name]:
            out += [f"{name}.{m.name}" for m in pkgutil.iter_modules([str(pkg / name)])
                    if not m.name.startswith("_")]
    return out


def api_markdown() -> str:
    blocks = []
    for name in package_modules():
        blocks.append(f"## `minisab.{name}`\n\n```{{eval-rst}}\n.. automodule:: minisab.{name}\n"
                      f"   :members:\n   :undoc-members:\n```\n")
    return "\n".join(blocks)


# A jupytext/MyST notebook: front matter (between the first two "---") with jupytext or kernelspec.
_FRONT = re.compile(r"\A---[ \t]*\n(?:(?!---)[^\n]*\n)*?(jupytext|kernelspec):", re.M)


def tutorial_notebooks(folder: Path = TUTORIALS_SRC) -> list[Path]:
    """The tutorial pages: notebooks at the top of ``tutorials/``, ``.ipynb`` files and jupytext
    MyST ``.md`` files that have no ``.ipynb`` twin (a paired notebook is shown once, from the
    ``.ipynb`` and its outputs). Subfolders (solutions, data, helpers) are copied, not shown."""
    if not folder.is_dir():
        return []
    ipynb = sorted(folder.glob("*.ipynb"))
    stems = {p.with_suffix("") for p in ipynb}
    md = sorted(p for p in folder.glob("*.md") if p.with_suffix("") not in stems
                and _FRONT.match(p.read_text(encoding="utf-8")))
    return sorted(ipynb + md)


def sync_tutorials(app) -> None:
    """Mirror ``tutorials/`` into ``docs/_tutorials/`` (Sphinx reads only below ``docs/``)."""
    if TUTORIALS_DST.exists():
        shutil.rmtree(TUTORIALS_DST)
    if not tutorial_notebooks():
        return
    shutil.copytree(TUTORIALS_SRC, TUTORIALS_DST, copy_function=shutil.copy2,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "runs"))
    for md in TUTORIALS_DST.rglob("*.md"):      # plain markdown next to the notebooks stays out
        if md.with_suffix(".ipynb").exists() or not _FRONT.match(md.read_text(encoding="utf-8")):
            md.unlink()
    for nb in TUTORIALS_DST.glob("*.ipynb"):
        plain_notebook_title(nb)


# A page title is plain text (browser tab, prev/next links, search): TeX in a notebook's "# "
# heading would show raw there. The build's copy gets the heading with each $...$ written as a
# literal (``$k_\text{top}$`` -> ``k_top``); the notebook itself is not changed.
_INLINE_MATH = re.compile(r"\$([^$]+)\$")
_TEX_WRAPPER = re.compile(r"\\(?:text|mathrm|mathit|mathbf|operatorname)\{([^{}]*)\}")
_ACCENTS = {"hat": "\u0302", "tilde": "\u0303", "bar": "\u0304"}      # ĥ, ã, ā (combining)
_ACCENT = re.compile(r"\\(hat|tilde|bar)\s*\{?\s*([A-Za-z])\}?")
_GREEK = {"alpha": "α", "delta": "δ", "varepsilon": "ε", "epsilon": "ε", "sigma": "σ",
          "tau": "τ", "odot": "⊙", "to": "→", "le": "≤", "ge": "≥", "cdot": "·", "sum": "Σ"}


def plain_title(line: str) -> str:
    """``# A $k_\\text{top}$ title`` -> ``# A `k_top` title`` (headings only; other lines as given)."""
    if not line.startswith("#"):
        return line

    def literal(m: re.Match) -> str:
        tex = _TEX_WRAPPER.sub(r"\1", m.group(1))
        tex = _ACCENT.sub(lambda a: a.group(2) + _ACCENTS[a.group(1)], tex)
        tex = re.sub(r"\\([A-Za-z]+)\s*", lambda c: _GREEK.get(c.group(1), c.group(1)), tex)
        tex = unicodedata.normalize("NFC", tex.replace("{", "").replace("}", "").strip())
        return f"`{tex}`"
    return _INLINE_MATH.sub(literal, line)


def plain_notebook_title(path: Path) -> None:
    """Rewrite the first heading of a notebook copy with :func:`plain_title`."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        src = cell["source"] if isinstance(cell["source"], list) else cell["source"].splitlines(True)
        for k, line in enumerate(src):
            if line.startswith("# "):
                new = plain_title(line)
                if new != line:
                    src[k] = new
                    cell["source"] = src
                    path.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n",
                                    encoding="utf-8")
                return


# The pictures of the method (one SAB step, the credit paths) are drawn by minisab.plots.diagrams at
# every build, into docs/_generated/ (ignored by git): they cannot fall behind the code, and no
# PNG is committed. The pages show them as ``_generated/<name>.png``.
GENERATED = DOCS / "_generated"


def draw_figures(app) -> None:
    from minisab.plots.diagrams import save_all
    save_all(GENERATED)


def tutorials_toctree() -> str:
    docs = [p.relative_to(TUTORIALS_SRC).with_suffix("").as_posix() for p in tutorial_notebooks()]
    if not docs:
        return ""
    entries = "\n".join(f"_tutorials/{d}" for d in docs)
    return f"```{{toctree}}\n:maxdepth: 1\n:caption: Tutorials\n\n{entries}\n```\n"


_TOCTREE = re.compile(r"^```\{toctree\}[^\n]*\n(.*?)^```", re.S | re.M)


def extra_pages(index_text: str) -> list[str]:
    """Top-level pages of docs/ that no toctree of the index lists (a page a colleague adds):
    they are listed under "More" instead of failing the build as "not in any toctree"."""
    listed = {line.strip() for block in _TOCTREE.findall(index_text)
              for line in block.splitlines() if line.strip() and not line.startswith(":")}
    pages = {p.stem for p in DOCS.glob("*.md")} | {p.stem for p in DOCS.glob("*.ipynb")}
    return sorted(pages - listed - {"index"})


def extra_toctree(index_text: str) -> str:
    pages = extra_pages(index_text)
    if not pages:
        return ""
    return "```{toctree}\n:maxdepth: 1\n:caption: More\n\n" + "\n".join(pages) + "\n```\n"


def fill_markers(app, docname, source) -> None:
    if docname == "api":
        source[0] = source[0].replace(API_MARKER, api_markdown())
    elif docname == "index":
        source[0] = (source[0].replace(TUTORIALS_MARKER, tutorials_toctree())
                     .replace(EXTRA_MARKER, extra_toctree(source[0])))


# --- plain-text docstrings ----------------------------------------------------------------
# minisab's docstrings are written to be read in the source: indented, column-aligned lists of
# arrays and their shapes, norms written |x|, PyTorch names such as clip_grad_norm_. reST reads
# those as definition lists, block quotes, substitutions and references, and warns. This hook
# (run after napoleon) shows every indented block that follows a plain paragraph as a literal
# block, which keeps its columns, and escapes "|" and a word's trailing "_" in prose.
# Docstrings that already use reST structures (lists, fields, directives, "::" blocks) keep them.
_STRUCTURED = re.compile(r"^\s*([-*+] |\d+[.)] |:|\.\. |>>> )")
_BULLET = re.compile(r"^\s*([-*+]|\d+[.)]) ")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


_TRAILING_UNDERSCORE = re.compile(r"(?<=\w)(_+)(?=[\s.,;:!?)\]}'\"]|$)")


def _escape_prose(line: str) -> str:
    """Escape "|" (substitutions) and a word's trailing "_" (references) outside ``literals``."""
    parts = line.split("``")            # even parts are outside ``inline literals``
    for k in range(0, len(parts), 2):
        p = parts[k].replace("|", r"\|")
        parts[k] = _TRAILING_UNDERSCORE.sub(lambda m: r"\_" * len(m.group(1)), p)
    return "``".join(parts)


def plain_docstring_to_rst(lines: list[str]) -> list[str]:
    out: list[str] = []
    literal_base = None     # indentation of the paragraph a literal block hangs from, if in one
    prev = ""               # the previous non-blank line outside literal blocks
    for line in lines:
        blank = not line.strip()
        if literal_base is not None:
            if blank or _indent(line) > literal_base:
                out.append(line)
                continue
            literal_base = None
            if out and out[-1].strip():
                out.append("")          # a literal block must end with a blank line
        if blank:
            out.append(line)
            continue
        if prev and _indent(line) > _indent(prev) and not _STRUCTURED.match(prev):
            if not prev.rstrip().endswith("::"):          # not already a literal block
                if out and out[-1].strip():
                    out.append("")
                out.extend(["::", ""])                    # a "::" paragraph alone renders nothing
            literal_base = _indent(prev)
            out.append(line)
            continue
        if _BULLET.match(line) and prev and not _STRUCTURED.match(prev) and out[-1].strip():
            out.append("")              # a list needs a blank line before it
        out.append(_escape_prose(line))
        prev = line
    return out


# --- dataclass fields documented by comments ---------------------------------------------
# The fields of Config, TrainConfig, Backend, ... are documented by a comment at the end of their
# line (continued on comment-only lines starting in the same column), as the source is meant to
# be read. autodoc does not read such comments: this hook shows them as the field's description.
def field_comments(source: str) -> dict[str, str]:
    """Field name -> its trailing comment, for the ``name: type = value  # comment`` lines of a
    class's source: its body's own lines, not those of its methods."""
    out: dict[str, str] = {}
    body_col = None         # indentation of the class body
    field = None            # the field of the current logical line, if it is one
    last = None             # (field, column) of the last trailing comment, for continuations
    first_token = True      # at the first token of a logical line
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    try:
        for tok in tokens:
            if tok.type == tokenize.INDENT and body_col is None:
                body_col = len(tok.string)
            if tok.type in (tokenize.INDENT, tokenize.DEDENT):
                continue
            if tok.type == tokenize.COMMENT:
                text = tok.string.lstrip("#").strip()
                if not first_token and field is not None:            # after a field's code
                    out[field] = text
                    last = (field, tok.start[1])
                elif first_token and last and tok.start[1] == last[1] and text:  # continuation
                    out[last[0]] += " " + text
                else:
                    last = None
                continue
            if tok.type in (tokenize.NL, tokenize.NEWLINE):
                if tok.type == tokenize.NEWLINE:
                    first_token, field = True, None
                continue
            if first_token:
                first_token = False
                last = None
                field = (tok.string if tok.type == tokenize.NAME and tok.start[1] == body_col
                         and not keyword.iskeyword(tok.string) else None)
    except (tokenize.TokenError, IndentationError):      # pragma: no cover - not Python source
        return out
    return out


def _owner(qualname: str):
    """The object that ``a.b.C`` names (importing ``a.b``), or None."""
    parts = qualname.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def field_comment(module: str, qualname: str) -> str:
    """The trailing comment of field ``Class.field`` of ``module`` ("" if it has none)."""
    owner_name, _, field = qualname.rpartition(".")
    owner = _owner(f"{module}.{owner_name}") if module and owner_name else None
    if not inspect.isclass(owner):
        return ""
    try:
        source = textwrap.dedent(inspect.getsource(owner))
    except (OSError, TypeError):
        return ""
    return field_comments(source).get(field, "")


def _describe_fields(app, domain, objtype, contentnode) -> None:
    """An attribute documented only by its comment gets the comment as its description.
    (autodoc gives no docstring event for a plain dataclass field, so this runs on the
    rendered node.)"""
    from docutils import nodes
    if domain != "py" or objtype != "attribute" or any(
            isinstance(c, nodes.paragraph) for c in contentnode.children):
        return
    signature = contentnode.parent[0] if contentnode.parent is not None else None
    if signature is None or not signature.get("module", "").startswith("minisab"):
        return
    text = field_comment(signature["module"], signature.get("fullname", ""))
    if text:
        contentnode.insert(0, nodes.paragraph(text, text))


def _process_docstring(app, what, name, obj, options, lines) -> None:
    lines[:] = plain_docstring_to_rst(lines)


def always_reread(app, env, added, changed, removed) -> list[str]:
    """index and api are filled in at read time (tutorials, modules): read them on every build."""
    return ["index", "api"]


def setup(app):
    app.connect("builder-inited", sync_tutorials)
    app.connect("builder-inited", draw_figures)
    app.connect("source-read", fill_markers)
    app.connect("env-get-outdated", always_reread)
    app.connect("autodoc-process-docstring", _process_docstring, priority=600)
    app.connect("object-description-transform", _describe_fields)
    return {"parallel_read_safe": True}
