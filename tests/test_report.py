"""Every number in the READMEs' results blocks is what scripts/report.py makes of its committed
results file (issue 11): a number typed by hand, or a results file re-measured without
regenerating the README, fails here."""
import importlib.util
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = importlib.util.spec_from_file_location("report", os.path.join(ROOT, "scripts", "report.py"))
report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report)


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


@pytest.mark.parametrize("rel", report.FILES)
def test_committed_readme_equals_the_regenerated_one(rel):
    text = read(rel)
    assert report.blocks(text), f"{rel} has no results block"
    assert report.regenerate(text) == text, (
        f"{rel} disagrees with its results files: run python scripts/report.py "
        "(python scripts/report.py --check shows the difference)")


def test_every_block_is_used_and_every_file_exists():
    used = [b for rel in report.FILES for b in report.blocks(read(rel))]
    assert sorted(set(used)) == sorted(report.RENDERERS) and len(used) == len(set(used))
    for rel in (report.MAIN_JOB, report.MAIN_JOB_MEASURED, report.BENCH_LOAD,
                report.BENCH_THREADS):
        assert os.path.exists(os.path.join(ROOT, rel)), rel


def test_a_number_edited_by_hand_is_caught():
    text = read("README.md")
    block = re.search(r"<!-- results:main-job -->\n(.*?)<!-- /results:main-job -->", text,
                      re.S).group(1)
    digit = re.search(r"\d\.\d{3}", block)
    old = digit.group(0)
    edited = text.replace(block, block.replace(old, old[:-1] + str((int(old[-1]) + 1) % 10), 1))
    assert edited != text and report.regenerate(edited) == text


def test_readme_states_no_main_job_number_outside_its_blocks():
    """The main job's section outside the generated blocks names settings, not results."""
    text = read("README.md")
    section = text[text.index("### What the main job does"):text.index("## What is inside")]
    outside = re.sub(r"<!-- results:([\w-]+) -->.*?<!-- /results:\1 -->", "", section, flags=re.S)
    assert not re.search(r"\b0\.\d{2,}|\d+(\.\d+)? ?s\b(?! ?=)", outside), outside


def test_one_check_covers_the_readmes_and_the_docs(capsys, monkeypatch):
    """``python scripts/report.py --check`` is the one check of every generated number: it runs
    docs/_generate.py's check too, and fails when a docs passage differs from its file."""
    assert report.main(["--check"]) == 0
    assert "page(s) differ from their results files: -" in capsys.readouterr().out
    gen = report.docs_generator()
    gen.BLOCKS["dense-spikes"] = lambda: "five spikes"     # as if the results file had changed
    monkeypatch.setattr(report, "docs_generator", lambda: gen)
    assert report.main(["--check"]) == 1
    assert "differ from their results files: docs/" in capsys.readouterr().out
