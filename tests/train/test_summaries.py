"""A run folder's summary.md is right: its title is the folder and the model in words, full
BPTT shows no truncation, every file it lists is in the folder, and it says what made it."""
import re

import pytest

from minisab.cli.commands import main
from minisab.config import Config
from minisab.plots.reports import model_name

pytestmark = pytest.mark.slow          # over ten seconds: left out of the quick lane

TINY = ["--T", "3", "--n-digits", "2", "--n-symbols", "3", "--hidden-size", "5",
        "--k-top", "2", "--k-att", "2", "--k-trunc", "2", "--batch", "2",
        "--eval-batch", "4", "--no-progress", "--steps", "2", "--eval-every", "2"]


def _listed(summary: str) -> list:
    line = next(l for l in summary.splitlines() if l.startswith("Files: "))
    return re.findall(r"`([^`]+)`", line)


@pytest.mark.parametrize("seeds", [[], ["--seeds", "0", "1"]])
def test_compare_run_summaries_are_right(tmp_path, capsys, seeds):
    assert main(["compare", *TINY, *seeds, "--runs-dir", str(tmp_path), "--name", "c",
                 "--jobs", "1"]) == 0
    capsys.readouterr()
    folders = [p.parent for p in sorted((tmp_path / "c").rglob("summary.md"))
               if p.parent != tmp_path / "c"]
    assert len(folders) == 3 * max(1, len(seeds) - 1)
    for folder in folders:
        text = (folder / "summary.md").read_text()
        rel = folder.relative_to(tmp_path).as_posix()
        assert text.startswith(f"# Run `{rel}`: "), text.splitlines()[0]
        assert all((folder / f).is_file() for f in _listed(text)), (rel, _listed(text))
        assert "- machine: " in text and "BLAS thread" in text
        if folder.name == "lstm-bptt":
            assert "k_trunc=none (full BPTT cuts nothing)" in text and "LSTM, full BPTT" in text
        if folder.name == "lstm-tbptt":
            assert "k_trunc=2" in text
    assert "Machine: " in (tmp_path / "c" / "summary.md").read_text()


def test_train_summary_lists_the_heat_map_it_drew(tmp_path, capsys):
    for extra, name in ((["--attention", "none", "--method", "bptt"], "copy-bptt"), ([], "copy-sab")):
        assert main(["train", *TINY, "--attn-size", "3", *extra, "--runs-dir",
                     str(tmp_path)]) == 0
        text = (tmp_path / name / "summary.md").read_text()
        assert all((tmp_path / name / f).is_file() for f in _listed(text))
        assert ("attention.png" in _listed(text)) == (name == "copy-sab")
    capsys.readouterr()


def test_model_names():
    assert model_name(Config(attention=None, method="bptt")) == "LSTM, full BPTT"
    assert model_name(Config(attention=None, method="tbptt", k_trunc=4)) == \
        "LSTM, truncated BPTT (k_trunc=4)"
    assert model_name(Config(detach_scores=True)).startswith("SAB, the course's one")
    assert "with mental updates" in model_name(Config())
    assert "softmax sparsifier" in model_name(Config(detach_scores=True, sparsifier="topk_softmax"))
    assert model_name(Config(attention="softmax", method="bptt")) == \
        "dense (softmax) attention, full BPTT"
