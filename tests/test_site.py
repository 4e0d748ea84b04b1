"""The built site as a reader sees it, offline.

- no page loads anything from a CDN: MathJax comes from PyPI (``sphinx-mathjax-offline``) and is
  copied into ``_static/``;
- in a headless Chromium with no network, every formula of the method pages renders (no raw
  ``\\(`` left in the text, no MathJax error) and nothing overflows the content column at 1280 px
  (long display equations and wide tables scroll inside it);
- no page title holds TeX; the figures of docs/ are on their pages.

The site is built once for the module (notebooks rendered as stored, as in CI). Without Sphinx,
or without Chromium, the tests skip, unless ``MINISAB_DOCS_REQUIRED=1`` (set by ``.ci/run``),
which makes them fail instead.
"""
from __future__ import annotations

import concurrent.futures
import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow          # over ten seconds: left out of the quick lane

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
REQUIRED = os.environ.get("MINISAB_DOCS_REQUIRED", "").strip() not in ("", "0")

# Hosts that serve MathJax, KaTeX, require.js and the like: the site must need none of them.
CDN = re.compile(r"(cdn\.jsdelivr\.net|cdnjs\.cloudflare\.com|unpkg\.com|polyfill\.io|"
                 r"cdn\.mathjax\.org|googleapis\.com|jsdelivr|cdn\.plot\.ly)", re.I)
# An element that fetches something: <script src>, <link href>, <img src>, <iframe src>.
FETCH = re.compile(r"<(?:script|img|iframe)\b[^>]*\bsrc=\"([^\"]+)\"|<link\b[^>]*\bhref=\"([^\"]+)\"")

# Pages whose formulas are checked in the browser, and pages checked for overflow at 1280 px.
MATH_PAGES = ["derivations", "costs", "glossary", "sparsifier_example",
              "_tutorials/07_ablations"]
WIDE_PAGES = MATH_PAGES + ["index", "model", "reproduction", "make_sab_learn", "departures"]


def _need(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        if REQUIRED:
            pytest.fail(f"MINISAB_DOCS_REQUIRED is set but {module} is not installed: "
                        "pip install -e '.[dev]'", pytrace=False)
        pytest.skip(f"{module} is not installed")


def chromium() -> str:
    """The Chromium binary (Debian's ``chromium``), or skip/fail as the environment says."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if REQUIRED:
        pytest.fail("MINISAB_DOCS_REQUIRED is set but Chromium is not installed "
                    "(apt-get install -y chromium; .ci/run does this)", pytrace=False)
    pytest.skip("Chromium is not installed (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    _need("sphinx")
    _need("myst_nb")
    _need("sphinx-mathjax-offline")
    out = tmp_path_factory.mktemp("site") / "html"
    env = dict(os.environ, MINISAB_DOCS_EXECUTE="off")
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-q",
                           "-b", "html", str(DOCS), str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"the site does not build cleanly:\n{proc.stderr[-5000:]}"
    return out


def pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.parts)


# ------------------------------------------------------------------ no CDN
def test_no_page_loads_anything_from_a_cdn(site):
    bad = []
    for page in pages(site):
        text = page.read_text(encoding="utf-8")
        for m in FETCH.finditer(text):
            url = m.group(1) or m.group(2)
            if re.match(r"(https?:)?//", url):
                bad.append(f"{page.relative_to(site)}: fetches {url}")
        for m in CDN.finditer(text):
            bad.append(f"{page.relative_to(site)}: mentions {m.group(0)}")
    assert not bad, "pages that need the network:\n" + "\n".join(sorted(set(bad))[:20])
    derivations = (site / "derivations.html").read_text(encoding="utf-8")
    src = re.findall(r"<script[^>]*src=\"([^\"]*mathjax[^\"]*)\"", derivations, flags=re.I)
    assert src, "derivations.html loads no MathJax at all"
    for s in src:
        assert (site / s.split("?")[0]).is_file(), f"MathJax script {s} is not in the build"


# ------------------------------------------------------------------ in the browser
# Runs after MathJax has typeset the page; writes its findings into <pre id="minisab-report">,
# which --dump-dom returns. "raw" counts TeX delimiters left in the visible text outside code.
REPORT_JS = r"""
<script>
window.addEventListener('load', function () {
  function report() {
    var art = document.querySelector('article, div.body, [role=main]') || document.body;
    var right = art.getBoundingClientRect().right + 10;   /* headings' anchors reach 8 px out */
    var wide = [];
    art.querySelectorAll('*').forEach(function (el) {
      var r = el.getBoundingClientRect();
      if (r.width === 0 || r.right <= right) return;
      if (getComputedStyle(el).visibility === 'hidden') return;
      if (el.parentElement && el.parentElement.getBoundingClientRect().right > right) return;
      for (var a = el.parentElement; a && a !== art; a = a.parentElement) {
        var ox = getComputedStyle(a).overflowX;
        if ((ox === 'auto' || ox === 'scroll') && a.getBoundingClientRect().right <= right) return;
      }
      wide.push(el.tagName.toLowerCase() + ' ' + Math.round(r.right - right) + ' px too wide: '
                + (el.textContent || '').replace(/\s+/g, ' ').slice(0, 60));
    });
    var raw = [];
    var walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (var n = walk.nextNode(); n; n = walk.nextNode()) {
      if (n.parentElement.closest('pre, code, script, style, mjx-container, .highlight')) continue;
      var m = n.nodeValue.match(/\\\(|\\\[|\$\$/);
      if (m) raw.push(n.nodeValue.replace(/\s+/g, ' ').slice(0, 80));
    }
    var out = document.createElement('pre');
    out.id = 'minisab-report';
    out.textContent = JSON.stringify({
      width: window.innerWidth, wide: wide, raw: raw,
      rendered: document.querySelectorAll('mjx-container').length,
      errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length});
    document.body.appendChild(out);
  }
  setTimeout(function () {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise)
      MathJax.startup.promise.then(report);
    else report();
  }, 2000);
});
</script>
"""


def browse(site: Path, page: str) -> dict:
    """Open ``page`` in headless Chromium at 1280 x 1000, offline, and return the report."""
    src = site / f"{page}.html"
    probe = src.with_name(src.stem + "__probe.html")       # same folder: relative links work
    probe.write_text(src.read_text(encoding="utf-8").replace("</body>", REPORT_JS + "</body>"),
                     encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="minisab-chromium-") as profile:
        proc = subprocess.run(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={profile}", "--window-size=1280,1000",
             "--virtual-time-budget=30000", "--dump-dom", probe.as_uri()],
            capture_output=True, text=True, timeout=180)
    m = re.search(r'<pre id="minisab-report">(.*?)</pre>', proc.stdout, flags=re.S)
    assert m, f"{page}: the page never reported (Chromium rc {proc.returncode}):\n{proc.stderr[-2000:]}"
    return json.loads(html.unescape(m.group(1)))


@pytest.fixture(scope="module")
def reports(site) -> dict:
    chromium()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        return dict(zip(WIDE_PAGES, pool.map(lambda p: browse(site, p), WIDE_PAGES)))


@pytest.mark.parametrize("page", MATH_PAGES)
def test_every_formula_renders_offline(site, reports, page):
    source = (site / f"{page}.html").read_text(encoding="utf-8")
    n_math = len(re.findall(r'class="math notranslate nohighlight"', source))
    assert n_math > 0 and "\\(" in source, f"{page}: no TeX in the page, nothing to check"
    r = reports[page]
    assert not r["raw"], f"{page}: raw TeX in the rendered text: {r['raw'][:5]}"
    assert r["errors"] == 0, f"{page}: {r['errors']} MathJax errors"
    assert r["rendered"] >= n_math, f"{page}: {r['rendered']} formulas rendered of {n_math}"


@pytest.mark.parametrize("page", WIDE_PAGES)
def test_nothing_overflows_at_1280_px(reports, page):
    r = reports[page]
    assert r["width"] == 1280
    assert not r["wide"], f"{page}: content wider than the column:\n" + "\n".join(r["wide"][:10])


# ------------------------------------------------------------------ titles, figures
def test_no_tex_in_page_titles(site):
    bad = []
    for page in pages(site):
        m = re.search(r"<title>(.*?)</title>", page.read_text(encoding="utf-8"), flags=re.S)
        if m and re.search(r"\\\(|\\\[|\$|\\[a-z]+\{", html.unescape(m.group(1))):
            bad.append(f"{page.relative_to(site)}: {m.group(1)}")
    assert not bad, "TeX in page titles:\n" + "\n".join(bad)


def test_figures_are_on_their_pages(site):
    for page, figure in [("index", "sab_step.png"), ("index", "credit_paths.png"),
                         ("derivations", "credit_paths.png")]:
        text = (site / f"{page}.html").read_text(encoding="utf-8")
        src = re.findall(rf'<img[^>]*src="([^"]*{re.escape(figure)})"', text)
        assert src, f"{page}.html does not show {figure}"
        assert (site / src[0]).stat().st_size > 10_000, f"{figure} is (nearly) empty"


def test_plain_title_drops_tex_from_headings(tmp_path):
    spec = importlib.util.spec_from_file_location("minisab_docs_conf", DOCS / "conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    assert (conf.plain_title("# Ablations: $k_\\text{top}$ and $\\hat h_t$, $\\alpha_j$\n")
            == "# Ablations: `k_top` and `ĥ_t`, `α_j`\n")
    assert conf.plain_title("text $x$ stays") == "text $x$ stays"        # not a heading
    nb = tmp_path / "07.ipynb"
    nb.write_text(json.dumps({"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# T $k_\\text{att}$\n", "$x$"]}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    conf.plain_notebook_title(nb)
    cell = json.loads(nb.read_text(encoding="utf-8"))["cells"][0]
    assert cell["source"] == ["# T `k_att`\n", "$x$"]
