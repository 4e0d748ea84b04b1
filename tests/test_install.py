"""The core install works: the wheel, installed into a fresh virtual environment,
runs train, compare, eval and gradcheck from another directory, with progress bars and figures.

The wheel is built from a copy of the package files (the source tree stays clean) without
network access (no build isolation). The environment gets the already-installed third-party
packages through a path file, which, unlike ``--system-site-packages``, does not run the
system's ``.pth`` hooks, so an editable install of this repository cannot shadow the wheel.
Deselect with ``-m "not install"``.
"""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORE = {"numpy", "matplotlib", "tqdm", "threadpoolctl", "joblib", "pooch", "platformdirs",
        "tomli"}
TINY = ["--T", "3", "--n-digits", "2", "--n-symbols", "3", "--hidden-size", "5",
        "--k-trunc", "2", "--steps", "4", "--eval-every", "2", "--eval-batch", "4",
        "--batch", "2"]

pytestmark = pytest.mark.install


def _run(cmd, cwd, env, timeout=300):
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"{cmd}\n{p.stdout}\n{p.stderr}"
    return p


def test_wheel_in_a_fresh_venv_runs_every_command(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(os.path.join(ROOT, name), src / name)
    shutil.copytree(os.path.join(ROOT, "minisab"), src / "minisab",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["OMP_NUM_THREADS"] = "1"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
          "-w", str(tmp_path / "dist"), str(src)], tmp_path, env)
    (wheel,) = (tmp_path / "dist").glob("minisab-*.whl")
    with zipfile.ZipFile(wheel) as z:
        meta = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA")))
    requires = [line.split(":", 1)[1].strip() for line in meta.decode().splitlines()
                if line.startswith("Requires-Dist:")]
    core = {r.split(">")[0].split("=")[0].split("[")[0].strip() for r in requires
            if "extra ==" not in r}
    assert core == CORE, requires                   # dask is never needed for the CLI
    assert any(r.startswith("dask") and "extra == \"cluster\"" in r for r in requires)

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path, env)
    py = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps",
          "--no-index", "-q", str(wheel)], tmp_path, env)
    purelib = _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                   tmp_path, env).stdout.strip()
    deps = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    with open(os.path.join(purelib, "zz_installed_packages.pth"), "w") as f:
        f.write("\n".join(sorted(deps)) + "\n")

    work = tmp_path / "elsewhere"
    work.mkdir()
    where = _run([str(py), "-c", "import minisab; print(minisab.__file__)"], work, env)
    assert where.stdout.strip().startswith(str(venv)), where.stdout
    runs = ["--runs-dir", "runs"]
    p = _run([str(venv / "bin" / "minisab"), "train", *TINY, "--attn-size", "3", "--k-top", "2",
              *runs, "--name", "t"], work, env)
    assert "it/s" in p.stderr or "%|" in p.stderr                 # the tqdm progress bar
    for name in ("learning_curves.png", "attention.png", "summary.md", "checkpoint.npz"):
        assert (work / "runs" / "t" / name).stat().st_size > 0, name
    p = _run([str(py), "-m", "minisab", "compare", *TINY, *runs, "--name", "c", "--jobs", "2"],
             work, env)
    assert "| sab |" in p.stdout
    assert len(json.loads((work / "runs" / "c" / "results.json").read_text())) == 3
    assert (work / "runs" / "c" / "attention.png").stat().st_size > 0
    p = _run([str(py), "-m", "minisab", "eval", "runs/t", "--T", "3", "6", "--batch", "4"],
             work, env)
    assert "| 6 |" in p.stdout
    p = _run([str(py), "-m", "minisab", "gradcheck", "--steps", "4", "--threads", "1"], work, env)
    assert "PASS" in p.stdout and "FAIL" not in p.stdout
