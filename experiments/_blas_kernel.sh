# Sourced (from the repository root) by the scripts that regenerate committed numbers:
# reproduce.sh, mental_updates.sh, compare_cpu.sh. The committed numbers were trained with one
# OpenBLAS kernel (blas_kernel in experiments/plan.json): set it, so that this processor gives the
# same bits (run_plan.py says why; a processor that cannot run it trains with OpenBLAS's own
# choice, and a note says so; an OPENBLAS_CORETYPE set by the caller wins).
kernel=$(python experiments/run_plan.py --print-kernel)
if [ -n "$kernel" ]; then export OPENBLAS_CORETYPE="$kernel"; fi
