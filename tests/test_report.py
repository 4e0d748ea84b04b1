"""Every number in the READMEs' results blocks is what scripts/report.py makes of its committed
results file: a number typed by hand, or a results file re-measured without
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


def test_committed_compute_times_equal_the_regenerated_ones():
    """Each notebook's "**Compute time:**" and the syllabus's column come from
    benchmarks/results/bench_tutorials.md (benchmarks/tutorial_times.py)."""
    made = report.tutorial_times().targets()
    assert {rel for rel, _ in made} >= {"tutorials/README.md",
                                        "tutorials/01_lstm_from_scratch.ipynb"}
    for rel, remake in made:
        text = read(rel)
        assert remake(text) == text, f"{rel}: run python scripts/report.py"


def _course(tmp_path):
    """A copy of the files the compute times are made from and written into."""
    import shutil
    for rel in ["benchmarks/results/bench_tutorials.md", "tutorials/README.md",
                *(f"tutorials/{n}" for n in sorted(os.listdir(os.path.join(ROOT, "tutorials")))
                  if n.startswith("0") and n.endswith(".ipynb"))]:
        os.makedirs(tmp_path / os.path.dirname(rel), exist_ok=True)
        shutil.copyfile(os.path.join(ROOT, rel), tmp_path / rel)
    return tmp_path


def test_a_stated_time_typed_by_hand_is_caught(tmp_path, monkeypatch, capsys):
    """``report.py --check`` fails on a notebook's or the syllabus's hand-typed time, and
    ``report.py`` puts back the measured one, touching nothing else in the notebook."""
    root, times = _course(tmp_path), report.tutorial_times()
    monkeypatch.setattr(report, "ROOT", str(root))
    monkeypatch.setattr(report, "targets", lambda: times.targets(root))
    monkeypatch.setattr(report, "docs_generator",
                        lambda: type("docs", (), {"main": staticmethod(lambda argv: 0)}))
    assert report.main(["--check"]) == 0
    nb, syllabus = root / "tutorials/02_bptt_and_truncation.ipynb", root / "tutorials/README.md"
    committed = nb.read_text(encoding="utf-8")
    card = re.search(r"\*\*Compute time:\*\* (under [^\\]*?)\\n", committed).group(1)
    nb.write_text(committed.replace(card, "about 1 minute on a 2-core laptop"), encoding="utf-8")
    row = next(l for l in read("tutorials/README.md").splitlines() if "`02_bptt" in l)
    syllabus.write_text(read("tutorials/README.md").replace(
        row, row.replace(f"| {row.split('|')[5].strip()} |", "| about 1 min |")), encoding="utf-8")
    assert report.main(["--check"]) == 1
    out = capsys.readouterr().out
    assert "+++ tutorials/02_bptt_and_truncation.ipynb (regenerated)" in out
    assert "+++ tutorials/README.md (regenerated)" in out
    assert report.main([]) == 0
    assert nb.read_text(encoding="utf-8") == committed
    assert syllabus.read_text(encoding="utf-8") == read("tutorials/README.md")
