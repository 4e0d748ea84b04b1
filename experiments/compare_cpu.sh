#!/usr/bin/env bash
# The README's first command, recorded: runs `python -m minisab compare` (preset cpu) in a
# scratch folder and keeps what the quick start of docs/index.md quotes, under
# experiments/results/compare_cpu/: the printed table (stdout.txt), the comparison's
# results.json and summary.md, and the command's wall time (wall_s.txt). About a minute on
# 2 cores. Then `python scripts/report.py` rewrites the quoted blocks of the docs (and the READMEs').
# Run from anywhere: bash experiments/compare_cpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source experiments/_blas_kernel.sh     # the committed numbers' BLAS kernel (same bits)
out=experiments/results/compare_cpu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s.%N)
python -m minisab compare --runs-dir "$tmp" --no-progress > "$tmp/stdout.txt"
end=$(date +%s.%N)
mkdir -p "$out"
# The scratch path in the last line is replaced by the README's runs/ folder.
sed "s#$tmp/#runs/#" "$tmp/stdout.txt" > "$out/stdout.txt.tmp" && mv "$out/stdout.txt.tmp" "$out/stdout.txt"
cp "$tmp/copy-cpu/results.json" "$out/results.json.tmp" && mv "$out/results.json.tmp" "$out/results.json"
sed "s#$tmp/#runs/#" "$tmp/copy-cpu/summary.md" > "$out/summary.md.tmp" && mv "$out/summary.md.tmp" "$out/summary.md"
python -c "print(round($end - $start, 1))" > "$out/wall_s.txt.tmp" && mv "$out/wall_s.txt.tmp" "$out/wall_s.txt"
echo "wrote $out: $(cat "$out/wall_s.txt") s"
