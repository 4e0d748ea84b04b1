#!/usr/bin/env bash
# "Are mental updates important?" (docs/make_sab_learn.md): SAB with and without mental updates
# under each sparsifier (threshold, top-k softmax, top-k sparsemax), copy task at T = 50 and 100,
# seeds 0-5, into experiments/results/mental_updates/. Seeds outermost, so a grid cut short has
# every cell at its first seeds; the plan of runs is experiments/plan.json ("mental_updates"),
# and `python scripts/report.py` lists what is still missing. Resumable: run it again and the
# finished runs are read back from their checkpoints (runs/, not in git), an unfinished one
# restarts. About 4-8 hours on 2 cores; one run at a time by default (JOBS=2 for both cores).
#   nice -n 19 bash experiments/mental_updates.sh > mental_updates.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
source experiments/_blas_kernel.sh     # the committed numbers' BLAS kernel (same bits)
out=experiments/results/mental_updates
python experiments/make_sab_learn.py --T 50 100 --seeds 0 1 2 3 4 5 --order seed \
    --figure sparsifiers --jobs "${JOBS:-1}" \
    --methods sab sab-detach sab-softmax sab-detach-softmax sab-sparsemax sab-detach-sparsemax \
    --out "$out"
python experiments/attention_support.py --out "$out"
