#!/usr/bin/env bash
# The fast engine's speed against PyTorch before and after the reference/fast split, run back
# to back (before, after, before, after) with the same scripts of this checkout's benchmarks/:
# only PYTHONPATH differs. BEFORE: a worktree of the commit before the split.
#   git worktree add /tmp/before b0b032f && bash benchmarks/results/split/run.sh /tmp/before
set -euo pipefail
before=${1:?the checkout before the split}
here=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$here/benchmarks"
for round in 1 2; do
  for side in before after; do
    src=$here; [ "$side" = before ] && src=$before
    for spec in "lstm_T120:bench_lstm.py --repeats 15" \
                "sab_T120_320:bench_sab.py --repeats 7 --T 120,320" \
                "lstm_students:bench_lstm.py --repeats 15 --B 32 --H 64 --T 26" \
                "sab_students:bench_sab.py --repeats 15 --B 32 --H 64 --A 32 --k-att 1 --T 26"; do
      name=${spec%%:*}; cmd=${spec#*:}
      out="results/split/${name}_${side}_run${round}.txt"
      { echo "\$ PYTHONPATH=$side python $cmd"; PYTHONPATH=$src python $cmd; } > "$out.tmp" 2>&1
      mv "$out.tmp" "$out"
    done
  done
done
