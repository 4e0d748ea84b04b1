#!/usr/bin/env bash
# The README's main-job table, recorded: runs `python -m minisab compare` over 3 seeds with the
# default settings into experiments/results/main_job/ (results.json, summary.md, every run's
# folder) and writes measured.json beside it: the command, the date, the 1-minute load averages
# just before and after (/proc/loadavg), the wall time and the machine (BLAS, kernel, versions). Then `python scripts/report.py`
# rewrites the README's main-job block. Run from anywhere: bash experiments/main_job.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=(python -m minisab compare --seeds 0 1 2 --runs-dir experiments/results --name main_job --overwrite --no-progress)
load_start=$(cut -d' ' -f1 /proc/loadavg)
start=$(date +%s.%N)
"${cmd[@]}"
end=$(date +%s.%N)
load_end=$(cut -d' ' -f1 /proc/loadavg)
python - "$start" "$end" "$load_start" "$load_end" "${cmd[*]}" <<'PY'
import datetime, json, sys
from minisab.train.checkpoint import atomic_write_text
from minisab.train.provenance import machine
start, end, l0, l1, cmd = sys.argv[1:]
doc = {"command": cmd.replace(" --no-progress", ""),
       "settings": "default: no thread variables in the environment, --jobs 2 (the cores), "
                   "1 BLAS thread per run",
       "date": datetime.date.today().isoformat(),
       "load_average_start": float(l0), "load_average_end": float(l1),
       "wall_s": round(float(end) - float(start), 1),
       "note": "1-minute load averages read from /proc/loadavg just before and after the "
               "command, by experiments/main_job.sh",
       "machine": machine()}
atomic_write_text("experiments/results/main_job/measured.json", json.dumps(doc, indent=1) + "\n")
print(f"wrote experiments/results/main_job/measured.json: {doc['wall_s']} s")
PY
