#!/usr/bin/env bash
# Regenerates the speed results of benchmarks/README.md, one thread on both sides
# unless a file name says otherwise. Run from the repository root:  bash benchmarks/run_speed.sh
# Each file starts with the command that wrote it. About 20-40 min on a busy 2-core machine.
set -euo pipefail
cd "$(dirname "$0")"
only=${1:-.}   # optional: a regular expression; only the files whose name matches it
suffix=${SUFFIX:-}   # optional: written as NAME$SUFFIX.txt (e.g. SUFFIX=_run2 for a second run)
out=results
run() {   # run FILE CMD...: the command, then its output, into results/FILE
    local f=$1; shift
    [[ "$f" =~ $only ]] || return 0
    f=${f%.txt}$suffix.txt
    { echo "\$ $*"; "$@"; } > "$out/$f.tmp" 2>&1 && mv "$out/$f.tmp" "$out/$f"
    cat "$out/$f"
}
run ops.txt                python bench_ops.py
run lstm_1thread.txt       python bench_lstm.py --repeats 15
run lstm_parts.txt         python bench_lstm_parts.py --repeats 15
run lstm_students.txt      python bench_lstm.py --repeats 15 --B 32 --H 64 --T 26
run lstm_students_T106.txt python bench_lstm.py --repeats 15 --B 32 --H 64 --T 106
run sab_1thread.txt        python bench_sab.py --repeats 7 --T 120,320
run sab_students.txt       python bench_sab.py --repeats 15 --B 32 --H 64 --A 32 --k-att 1 --T 26
run sab_students_T106.txt  python bench_sab.py --repeats 15 --B 32 --H 64 --A 32 --k-att 2 --T 106
run lstm_default_threads.txt python bench_lstm.py --repeats 5 --threads 0   # slow under load
# The same with OpenBLAS's own choice of kernels: this machine's environment sets
# OPENBLAS_CORETYPE=Haswell (AVX2 kernels on an AVX-512 CPU), which slows NumPy's products.
run lstm_1thread_openblas_auto.txt env -u OPENBLAS_CORETYPE python bench_lstm.py --repeats 15
run sab_1thread_openblas_auto.txt  env -u OPENBLAS_CORETYPE python bench_sab.py --repeats 7 --T 120,320
# The same with glibc's malloc told to keep freed memory (no trimming, no mmap for big arrays):
# neither library then takes page faults between steps (benchmarks/README.md, LSTM paragraph).
run lstm_1thread_malloc_keep.txt env MALLOC_TRIM_THRESHOLD_=300000000 MALLOC_MMAP_THRESHOLD_=300000000 python bench_lstm.py --repeats 15
