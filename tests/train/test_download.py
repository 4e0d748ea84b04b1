"""Fashion-MNIST from anywhere (minisab/train/download.py): found in the user cache or Debian's
folder, downloaded into the cache only when asked or agreed, each file checked against its
MD5 by pooch. The tests write IDX files and never touch the network: pooch's downloader is
replaced by a local copy, and a test that must not download fails if pooch is reached."""
import hashlib
import shutil

import pooch
import pytest

from minisab.train import datasets

from minisab.train import download
from minisab.cli.commands import main
from minisab.train.tasks import TaskError, make_task
from test_datasets import _fake_fashion

NAMES = list(download.FASHION_MD5)


def run(argv):
    """main(argv)'s exit status, whether it returns or exits."""
    try:
        return main(argv)
    except SystemExit as e:
        return e.code


@pytest.fixture
def places(tmp_path, monkeypatch):
    """An empty user cache and an empty Debian folder, both under tmp_path."""
    cache, debian = tmp_path / "cache" / "fashion-mnist", tmp_path / "debian"
    monkeypatch.setattr(download, "cache_dir", lambda: str(cache))
    monkeypatch.setattr(datasets, "FASHION_DIR", str(debian))
    datasets.load_fashion.cache_clear()
    return cache, debian


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pooch was asked to download")
    monkeypatch.setattr(pooch, "retrieve", refuse)


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A local 'server': pooch's downloader copies from a folder of fake files, whose MD5s
    become the published ones; returns the folder and the list of URLs fetched."""
    src = tmp_path / "server"
    _fake_fashion(src, compress=True)
    monkeypatch.setattr(download, "FASHION_MD5", {
        n: hashlib.md5((src / n).read_bytes()).hexdigest() for n in NAMES})
    fetched = []

    def choose(url, progressbar=False):
        def fetch(url, output_file, pooch_obj):
            fetched.append(url)
            shutil.copyfile(src / url.rsplit("/", 1)[1], output_file)
        return fetch
    monkeypatch.setattr(pooch.core, "choose_downloader", choose)
    return src, fetched


def test_found_in_the_cache_before_debians_folder(places, no_network):
    cache, debian = places
    _fake_fashion(debian, seed=1)
    assert download.find_fashion() == str(debian)
    assert make_task("fashion", None, image_size=7).spec()["data_dir"] == str(debian)
    _fake_fashion(cache, seed=2)
    assert download.find_fashion() == str(cache)
    assert make_task("fashion", None, image_size=7).spec()["data_dir"] == str(cache)
    other = cache.parent / "mine"
    _fake_fashion(other)
    assert download.fashion_dir(other) == str(other)           # --data-dir wins


def test_missing_data_says_how_to_get_it_and_downloads_nothing(places, no_network, tmp_path,
                                                                capsys, monkeypatch):
    with pytest.raises(TaskError, match="not found in the user cache.*download fashion"):
        make_task("fashion", None)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)      # no terminal: no question
    code = run(["train", "--task", "fashion", "--steps", "1", "--no-progress",
                 "--runs-dir", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 2 and "--download" in err and "Traceback" not in err
    assert not (tmp_path / "runs" / "fashion-sab" / "checkpoint.npz").exists()


def test_download_checks_each_file_and_happens_once(places, server, tmp_path, capsys):
    cache, _ = places
    src, fetched = server
    assert run(["download", "fashion"]) == 0
    assert sorted(p.name for p in cache.iterdir()) == sorted(NAMES)
    assert [u.rsplit("/", 1)[1] for u in fetched] == NAMES
    assert all(u.startswith(download.FASHION_URLS[0]) for u in fetched)
    assert run(["download", "fashion"]) == 0 and len(fetched) == 4      # already there
    assert download.find_fashion() == str(cache)
    capsys.readouterr()


def test_a_file_that_does_not_match_its_md5_is_refused_and_not_kept(places, server, capsys,
                                                                     monkeypatch):
    cache, _ = places
    bad = dict(download.FASHION_MD5, **{NAMES[1]: "0" * 32})
    monkeypatch.setattr(download, "FASHION_MD5", bad)
    assert run(["download", "fashion"]) == 2
    err = capsys.readouterr().err
    assert "download of Fashion-MNIST" in err and "MD5" in err.upper()
    assert not (cache / NAMES[1]).exists() and not download.has_fashion(cache)


@pytest.mark.slow
def test_train_downloads_when_asked_or_when_the_user_agrees(places, server, tmp_path, capsys,
                                                            monkeypatch):
    cache, _ = places
    _, fetched = server
    base = ["train", "--task", "fashion", "--image-size", "7", "--hidden-size", "3",
            "--attn-size", "2", "--steps", "2", "--eval-every", "2", "--eval-batch", "4",
            "--batch", "2", "--no-progress", "--runs-dir", str(tmp_path / "runs")]
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")     # asked, and declined
    assert run(base) == 2 and not fetched
    monkeypatch.setattr("builtins.input", lambda prompt: "y")     # asked, and agreed
    assert run(base + ["--name", "agreed"]) == 0 and len(fetched) == 4
    shutil.rmtree(cache)
    datasets.load_fashion.cache_clear()
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert run(base + ["--name", "asked", "--download"]) == 0 and len(fetched) == 8
    assert "held-out accuracy" in capsys.readouterr().out


def test_download_belongs_to_fashion(tmp_path, capsys):
    code = run(["train", "--task", "digits", "--download", "--runs-dir", str(tmp_path)])
    assert code == 2 and "--download with --task digits" in capsys.readouterr().err
