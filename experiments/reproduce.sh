#!/usr/bin/env bash
# Regenerates every table and figure of docs/make_sab_learn.md and docs/reproduction.md, and the
# numbers that the docs and the READMEs quote from them (scripts/report.py, docs/_generate.py).
# About 1.5 hours on 2 cores; each script skips the runs it finished before, so an interrupted
# call continues where it stopped. Run from the repository root: bash experiments/reproduce.sh
# The grids run --jobs runs side by side (default: one per core), one BLAS thread each
# (minisab/threads.py). On a Dask cluster whose workers share this file system:
#   MINISAB_SCHEDULER=tcp://host:8786 bash experiments/reproduce.sh      (docs/parallel.md)
# Each grid's settings are in experiments/configs/<its results folder>.toml (minisab/train/settings.py).
set -euo pipefail
cd "$(dirname "$0")/.."
source experiments/_blas_kernel.sh     # the committed numbers' BLAS kernel (same bits)

# 1. Why docs/model.md's SAB spikes: one training run traced, the gradient split by path.
python -m minisab diagnose --T 50 --n-digits 3 --hidden-size 64 --attn-size 32 --k-top 5 \
    --k-att 2 --k-trunc 5 --dtype float32 --lr 0.01 --steps 1700 --every 250 --split-paths \
    --json experiments/results/diagnosis/sab_T50_lr1e-2_split.json \
    > experiments/results/diagnosis/sab_T50_lr1e-2_split.txt || true   # exit 1 = a NaN stop
python experiments/plot_diagnosis.py experiments/results/diagnosis/sab_T50_lr1e-2_split.png \
    experiments/results/diagnosis/sab_T50_lr1e-2_split.json --labels "SAB (docs/model.md), lr 1e-2"

# 2. Copy task at T = 50 and 100: the fix against docs/model.md's SAB and the baselines.
python experiments/make_sab_learn.py --T 50 --methods bptt tbptt softmax sab sab-detach \
    sab-detach-hhat --seeds 0
python experiments/make_sab_learn.py --T 100 --methods bptt tbptt softmax sab sab-detach --seeds 0
python experiments/make_sab_learn.py --T 50 100 --methods bptt tbptt softmax sab-detach --seeds 1 2

# 2b. The same with the learning rate cosine-decayed from 1e-2 to 1e-3 (no post-solution wobble).
python experiments/make_sab_learn.py --config experiments/configs/make_sab_learn_decay.toml

# 3. Transfer: trained on the copy task at T = 20, tested at 40, 80 and 160.
python experiments/make_sab_learn.py --config experiments/configs/transfer.toml \
    --methods bptt softmax sab sab-detach

# 4. The adding task at T = 100.
(cd experiments && python adding.py --T 100)

# 5. The README's main job, recorded for the quick start of docs/index.md (about a minute).
bash experiments/compare_cpu.sh

# 6. The numbers quoted in the READMEs and the docs, rewritten from the files above (and from
#    the benchmarks' files); `python scripts/report.py --check` checks them without writing.
python scripts/report.py
