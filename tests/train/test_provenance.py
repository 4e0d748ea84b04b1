"""What made a number is recorded (minisab/train/provenance.py): the processor, the BLAS library, its
version, kernel and threads (threadpoolctl), NumPy's and Python's versions; in a run folder's
config.json and summary.md and in the experiment scripts' results files."""
import json
import platform

import numpy as np
from threadpoolctl import threadpool_info

from minisab.train.provenance import blas_words, describe, machine, openblas_kernel, processor
from minisab.threads import use_threads


def test_machine_records_the_blas_its_kernel_and_the_versions(monkeypatch):
    m = machine()
    assert m["numpy"] == np.__version__ and m["python"] == platform.python_version()
    assert m["processor"] == processor() and m["cores"] >= 1
    assert m["blas"], "NumPy's BLAS was not reported"
    blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
    assert [p["internal_api"] for p in m["blas"] if p["user_api"] == "blas"] == \
        [p["internal_api"] for p in blas]
    for p in m["blas"]:
        assert {"internal_api", "version", "architecture", "num_threads"} <= set(p)
    json.dumps(m)                                           # goes into JSON files as it is
    with use_threads(1):
        assert machine()["threads"] == 1
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    assert machine()["env"]["OPENBLAS_CORETYPE"] == "Haswell"
    assert "forced by OPENBLAS_CORETYPE=Haswell" in describe(machine())


def test_the_words_name_library_version_and_kernel():
    m = {"processor": "P", "machine": "x86_64", "cores": 2, "python": "3.11", "numpy": "2.0",
         "threads": 1, "env": {},
         "blas": [{"user_api": "blas", "internal_api": "openblas", "version": "0.3.27",
                   "architecture": "SkylakeX", "num_threads": 1}]}
    assert blas_words(m) == "OpenBLAS 0.3.27, SkylakeX kernel"
    assert describe(m) == ("P (x86_64, 2 cores), OpenBLAS 0.3.27, SkylakeX kernel, 1 BLAS "
                           "thread(s) per run, NumPy 2.0, Python 3.11")


def test_a_run_folder_records_its_machine(tmp_path, capsys):
    from minisab.cli.commands import main
    assert main(["train", "--T", "3", "--n-digits", "2", "--hidden-size", "4", "--attn-size",
                 "2", "--steps", "2", "--eval-every", "2", "--eval-batch", "4", "--batch", "2",
                 "--no-progress", "--runs-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    config = json.loads((tmp_path / "copy-sab" / "config.json").read_text())
    assert config["machine"]["numpy"] == np.__version__ and config["machine"]["blas"]
    assert "- machine: " in (tmp_path / "copy-sab" / "summary.md").read_text()


def test_the_openblas_kernel_is_read_from_a_record():
    def rec(api, kernel):
        return {"blas": [{"user_api": "openmp", "internal_api": "openmp", "architecture": None},
                         {"user_api": "blas", "internal_api": api, "architecture": kernel}]}
    assert openblas_kernel(rec("openblas", "Haswell")) == "Haswell"
    assert openblas_kernel(rec("mkl", "SkylakeX")) is None          # another BLAS's choice
    assert openblas_kernel(rec("openblas", None)) is None
    assert openblas_kernel({}) is None and openblas_kernel(None) is None   # no record yet


def test_a_resumed_run_keeps_each_start_and_its_step(tmp_path, capsys):
    from minisab.cli.commands import main
    from minisab.train.provenance import first_kernel, run_kernels
    args = ["train", "--T", "3", "--n-digits", "2", "--hidden-size", "4", "--attn-size", "2",
            "--eval-every", "2", "--eval-batch", "4", "--batch", "2", "--no-progress",
            "--runs-dir", str(tmp_path)]
    path = tmp_path / "copy-sab" / "config.json"

    def steps():
        return [s["from_step"] for s in json.loads(path.read_text())["segments"]]
    assert main(args + ["--steps", "2"]) == 0
    assert steps() == [0]
    assert main(args + ["--steps", "4", "--resume"]) == 0
    assert steps() == [0, 2]
    d = json.loads(path.read_text())
    assert d["segments"][-1]["machine"] == d["machine"]
    other = {**d["machine"], "blas": [{"user_api": "blas", "internal_api": "openblas",
                                       "architecture": "Zen"}]}
    d["segments"][0]["machine"] = other             # as if the first steps ran elsewhere
    path.write_text(json.dumps(d))
    assert main(args + ["--steps", "6", "--resume"]) == 0
    d = json.loads(path.read_text())
    here = openblas_kernel(machine())
    assert run_kernels(d) == [(0, "Zen"), (2, here), (4, here)]
    assert first_kernel(d) == "Zen"
    del d["segments"]                               # a config.json from before segments
    path.write_text(json.dumps(d))
    assert main(args + ["--steps", "8", "--resume"]) == 0
    assert steps() == [None, 6]                     # its one start, step not recorded
    d = json.loads(path.read_text())
    assert first_kernel(d) == here and run_kernels({"machine": other}) == [(None, "Zen")]
    capsys.readouterr()


def test_a_start_after_the_checkpoint_is_dropped(tmp_path):
    """A run put back to an earlier checkpoint forgets the starts it no longer holds."""
    from minisab.train.checkpoint import save_checkpoint
    from minisab.train.runs import CHECKPOINT, starts
    (tmp_path / "config.json").write_text(json.dumps(
        {"machine": {"n": 3}, "segments": [{"from_step": 0, "machine": {"n": 1}},
                                           {"from_step": 500, "machine": {"n": 2}},
                                           {"from_step": 900, "machine": {"n": 3}}]}))
    assert starts(tmp_path, {"n": 4}) == [{"from_step": 0, "machine": {"n": 4}}]   # no checkpoint
    save_checkpoint(str(tmp_path / CHECKPOINT), {}, {"t": 0},
                    {"step": 500, "rng_state": 0, "model": {}, "task": {}})
    assert starts(tmp_path, {"n": 4}) == [{"from_step": 0, "machine": {"n": 1}},
                                          {"from_step": 500, "machine": {"n": 4}}]
    (tmp_path / "config.json").write_text("{damaged")
    assert starts(tmp_path, {"n": 4}) == [{"from_step": 500, "machine": {"n": 4}}]
