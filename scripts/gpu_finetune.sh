#!/usr/bin/env bash
# Fine-tune the shipped SANet on one GPU within a wall-clock budget, and bring the weights back.
#
#   python scripts/pack_device_data.py --data data --out .device    # here: VGG + data, ~38 MiB
#   scripts/gpu_finetune.sh OUT MINUTES [CONTENT_WEIGHT ...]          # there, from the repo root
#
# One run of configs/train/gpu.yaml per content weight (default 6), side by side on the GPU. A
# cosine schedule must know its length, so each run first takes its warm-up steps, is timed, and is
# then resumed with as many steps as fit in MINUTES (with --max-minutes as the backstop). OUT gets
# each run's fp16 weights (gpu_cW.safetensors), metrics (metrics_cW.csv), last preview
# (sample_cW.png) and one log. Pick among them on the CPU with benchmarks/peer_comparison.py.
# EXTRA_SETS adds --set overrides to every run and WARMUP_STEPS sets the timed warm-up (150); both
# are for smoke tests on a CPU, e.g. EXTRA_SETS="crop=64 batch_size=2" WARMUP_STEPS=20.
set -euo pipefail
out=$1 minutes=$2
shift 2
weights=("${@:-6}")
start=$(date +%s)
warmup=${WARMUP_STEPS:-150}
export SANET_TEXT_VGG=$PWD/.device/vgg19.safetensors PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
log=$out/train.log
mkdir -p "$out"
{ nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true; lscpu | grep 'Model name' || true; } | tee -a "$log"

sets=()
for s in ${EXTRA_SETS:-}; do sets+=(--set "$s"); done
train() {  # weight, then train's own arguments
  python3 -m sanet_text.train --config configs/train/gpu.yaml --output-dir "/tmp/gpu_c$1" \
    --set "losses.content=$1" "${sets[@]}" "${@:2}" >>"/tmp/gpu_c$1.log" 2>&1
}
finish() {
  for w in "${weights[@]}"; do
    { echo "== content $w"; tr '\r' '\n' <"/tmp/gpu_c$w.log" | grep -v '^\s*$' | tail -n 25; } >>"$log" || true
  done
}
trap finish EXIT

pids=()
for w in "${weights[@]}"; do rm -rf "/tmp/gpu_c$w" "/tmp/gpu_c$w.log"; train "$w" --until "$warmup" & pids+=($!); done
for p in "${pids[@]}"; do wait "$p"; done  # a failed warm-up stops here (set -e); its log is printed

# Seconds per step after the warm-up (cuDNN's autotuning and the workers' first decodes are in the
# first rows), from the cumulative seconds the runs log.
secs=$(python3 - "$warmup" "${weights[@]}" <<'EOF'
import csv, sys
warmup, weights = int(sys.argv[1]), sys.argv[2:]
rates = []
for w in weights:
    rows = {int(r["step"]): float(r["seconds"]) for r in csv.DictReader(open(f"/tmp/gpu_c{w}/metrics.csv"))}
    first = min(s for s in rows if s >= warmup // 3)
    rates.append((rows[warmup] - rows[first]) / (warmup - first))
print(max(rates))
EOF
)
left=$(( minutes * 60 - ($(date +%s) - start) - 45 ))  # 45 s: restart, final checkpoint, export
steps=$(python3 -c "print($warmup + max(0, int($left / $secs * 0.93)))")
echo "$secs s/step after warm-up; $left s left: $steps steps in all" | tee -a "$log"

pids=()
for w in "${weights[@]}"; do
  train "$w" --resume --steps "$steps" --max-minutes "$(python3 -c "print(($left + 20) / 60)")" & pids+=($!)
done
# A run that fails now still has its checkpoints: export them all, and say which failed.
for p in "${pids[@]}"; do wait "$p" || echo "a run failed (exit $?); its last checkpoint is exported" | tee -a "$log"; done

for w in "${weights[@]}"; do
  python3 -m sanet_text.train --config configs/train/gpu.yaml --output-dir "/tmp/gpu_c$w" \
    --export "$out/gpu_c$w.safetensors" >>"$log" 2>&1
  cp "/tmp/gpu_c$w/metrics.csv" "$out/metrics_c$w.csv"
  last=$(ls "/tmp/gpu_c$w/samples/" 2>/dev/null | tail -n 1 || true)
  if [ -n "$last" ]; then cp "/tmp/gpu_c$w/samples/$last" "$out/sample_c$w.png"; fi
done
echo "done in $(( $(date +%s) - start )) s" | tee -a "$log"
