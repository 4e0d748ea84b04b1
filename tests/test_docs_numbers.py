"""No result typed by hand in the sections whose numbers come from results files.

The result passages of these sections are generated (``docs/_generate.py``, ``<!-- generated:
NAME -->``; ``scripts/report.py``, ``<!-- results:NAME -->``) and checked against their files by
tests/test_docs_generated.py and tests/test_report.py. This test reads the same sections with the
generated passages, code blocks and directives taken out, and fails on what is left that looks
like a measured result: a decimal number, a percentage, a duration or a size in bytes. Settings
(`T = 50`, `k_top = 5`, learning rate 1e-2) are whole numbers or exponents and pass; the few
decimals that are properties of a task, not results, are listed in ``CONSTANTS`` with the reason.
A new hand-typed result fails here: generate it (docs/_generate.py or scripts/report.py).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# page -> the headings (any level, exact text) whose sections are checked. A section ends at the
# next heading of any level.
SECTIONS = {
    "docs/reproduction.md": ["Reproduction report", "Claim 3: SAB matches or beats BPTT and truncated BPTT on long "
                             "dependencies", "Copy task, T = 50 and T = 100",
                             "Adding task, T = 100", "Backward work",
                             "Claim 4: SAB transfers to longer sequences",
                             "Verdicts at a glance",
                             "Real data: images read pixel by pixel (claim 3 on real images)",
                             "UCI digits", "Fashion-MNIST",
                             "Real text: character-level language modelling",
                             "The paper's copy task: 10 digits at T = 100 to 300, and transfer "
                             "to T = 5,000",
                             "Why SAB fails where it fails: the stalled seeds at T = 100",
                             "Still to run"],
    "docs/make_sab_learn.md": ["Making SAB learn: why it spikes, and the fix", "The symptom, reproduced", "The diagnosis",
                               "What does not fix it",
                               "The fix: no mental updates (`detach_scores=True`)",
                               "Are mental updates important? Bounded sparsifiers"],
    "docs/costs.md": ["Measured figures"],
    "docs/index.md": ["Quick start", "minisab and the paper"],
    "README.md": ["Set-up: the two commands", "What the main job does and what it reaches",
                  "Tutorials"],
}

# Decimals that are properties of a task or a number format, not results (exact text).
CONSTANTS = {
    "6.3": "a section number of derivations.md",
    "2.3": "a section number of docs/model.md (docs/model.md)",
    "0.98": "the final recall that counts as 'solved' (a setting of the verdict)",
    "0.71": "2/3 + 1/3 * 1/8: the recall of a model that gets two of three digits (arithmetic)",
    "0.125": "chance on the copy task: 1/8 symbols",
    "12.5%": "the same chance, as a percentage",
    "0.1": "the spike rule's threshold (experiments/make_sab_learn.py)",
    "0.2": "the spike rule's threshold (experiments/make_sab_learn.py)",
    "0.01": "the spike rule's margin; the adding task's 'solved' level (settings)",
    "0.99": "the --target option's value (a setting)",
    "50%": "a recall level that experiments/paper_copy.py reports against (a setting)",
    "90%": "a recall level that the copy-task scripts report against (a setting)",
    "99%": "a recall level that experiments/paper_copy.py reports against (a setting)",
    "3.10": "the Python version minisab needs",
}

RESULT = re.compile(
    r"(?<![\w.`/-])("
    r"\d[\d,]*(?:\.\d+)? ?%"                                    # a percentage: 88%
    r"|\d[\d,]*(?:\.\d+)? ?(?:ms|s|min|minutes?|hours?|MB|MiB|GB|GiB)\b"   # a time or size
    r"|\d+\.\d+(?![\w.])"                                       # a decimal: 0.995, 1.5
    r")")


def _strip(text: str) -> str:
    """``text`` without generated passages, fenced code, directives and inline code."""
    text = re.sub(r"<!-- generated: ([\w-]+) -->.*?<!-- end generated: \1 -->", " ", text,
                  flags=re.S)
    text = re.sub(r"<!-- results:([\w-]+) -->.*?<!-- /results:\1 -->", " ", text, flags=re.S)
    text = re.sub(r"^(```|~~~).*?^\1\s*$", " ", text, flags=re.S | re.M)
    text = re.sub(r"`[^`\n]*`", " ", text)                      # settings and names in code
    text = re.sub(r"\$[^$\n]*\$", " ", text)                    # maths
    text = re.sub(r"\]\([^)]*\)", "]", text)                    # link targets
    return text


def sections(rel: str) -> dict[str, str]:
    text = (ROOT / rel).read_text(encoding="utf-8")
    text = re.sub(r"^(```|~~~).*?^\1\s*$", " ", text, flags=re.S | re.M)   # '# ' in code
    parts = re.split(r"^#{1,6} (.*)$", text, flags=re.M)
    out = {"": parts[0]}
    for head, body in zip(parts[1::2], parts[2::2]):
        out[head.strip()] = body
    return out


def hand_typed(body: str) -> list[str]:
    return [m.group(1) for m in RESULT.finditer(_strip(body))
            if m.group(1).strip() not in CONSTANTS]


@pytest.mark.parametrize("rel", sorted(SECTIONS))
def test_no_hand_typed_result_in_the_generated_sections(rel):
    found = sections(rel)
    missing = [h for h in SECTIONS[rel] if h not in found]
    assert not missing, f"{rel}: sections renamed or gone: {missing} (update SECTIONS)"
    bad = {h or "(top)": hand_typed(found[h]) for h in SECTIONS[rel] if hand_typed(found[h])}
    assert not bad, (f"{rel}: numbers typed by hand outside generated passages: {bad}; generate "
                     "them from their results file (docs/_generate.py, scripts/report.py)")


def test_the_scan_catches_a_hand_typed_result():
    body = ("SAB solves it (final recall 0.995; 88% after 600 steps, 40 s) at `T = 50`, "
            "<!-- generated: x -->0.87<!-- end generated: x --> chance 0.125.")
    assert hand_typed(body) == ["0.995", "88%", "40 s"]


def test_generated_markers_do_not_start_a_line_of_text():
    """A line that begins with ``<!--`` is an HTML block in Markdown: the rest of the line is
    passed through as raw HTML (no bold, no code, no links). So a generated passage either sits
    inside a line of text or has its start marker alone on its line."""
    for page in sorted((ROOT / "docs").glob("*.md")):
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            s = line.lstrip()
            if s.startswith("<!-- generated:"):
                assert re.fullmatch(r"<!-- generated: [\w-]+ -->", s), \
                    f"{page.name}:{n} starts with a generated marker followed by text"


def test_a_generated_sentence_refuses_results_that_contradict_its_words(monkeypatch):
    """The generators check the words around their numbers ("on every seed"): a rerun whose
    results contradict them stops the generation with a message, instead of a wrong sentence."""
    import copy
    import importlib.util
    spec = importlib.util.spec_from_file_location("minisab_docs_results",
                                                  ROOT / "docs" / "_generate_results.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert gen.copy_verdict().startswith("SAB without mental updates solves the copy task")
    real = gen._json

    def one_seed_fails(path):
        doc = copy.deepcopy(real(path))
        if path == gen.COPY:
            next(r for r in doc["runs"] if r["method"] == "sab-detach")["final_acc"] = 0.5
        return doc
    monkeypatch.setattr(gen, "_json", one_seed_fails)
    with pytest.raises(AssertionError, match="sab-detach solves every seed; reword it"):
        gen.copy_verdict()
