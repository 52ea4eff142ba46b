#!/usr/bin/env bash
# Compares the cold starts of two builds of the Lambdas (two --lambda-dir outputs of
# `cargo lambda build --release`, say before and after a change), in interleaved pairs so that
# the machine's drift falls on both alike: each pair measures one function of each build
# (the order alternating), ROUNDS cold starts each, with ../shared/bench/lambda_cold.py.
# Prints the init median of every pair, then per function the median of the pairs' medians
# and the difference.
# usage: bench/compare_cold.sh BEFORE_DIR AFTER_DIR [PAIRS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
before=$1 after=$2 pairs=${3:-8} rounds=${4:-30}
probe=../shared/bench/lambda_cold.py
[ -f "$probe" ] || { echo "missing $probe (the shared bench script beside the checkout)"; exit 2; }
env=(--env AWS_REGION=eu-west-1 --env AWS_ACCESS_KEY_ID=bench --env AWS_SECRET_ACCESS_KEY=bench
     --env SIGNET_TABLE=bench --env SIGNET_KMS_KEY_ID=alias/bench --env SIGNET_METRICS=true)
init() { python3 "$probe" "$1" "$2" --rounds "$rounds" --warm 5 "${env[@]}" 2>/dev/null | awk '/^init ms/ {print $4}'; }
out=$(mktemp)
for pair in $(seq "$pairs"); do
  for event in bench/events/*-invalid-email.json; do
    fn=$(basename "$event" -invalid-email.json)
    if [ $((pair % 2)) = 1 ]; then b=$(init "$before/$fn/bootstrap" "$event"); a=$(init "$after/$fn/bootstrap" "$event")
    else a=$(init "$after/$fn/bootstrap" "$event"); b=$(init "$before/$fn/bootstrap" "$event"); fi
    echo "$fn $b $a" | tee -a "$out"
  done
done
python3 - "$out" <<'PY'
import statistics, sys
pairs = {}
for line in open(sys.argv[1]):
    fn, b, a = line.split()
    pairs.setdefault(fn, []).append((float(b), float(a)))
for fn, p in sorted(pairs.items()):
    b, a = statistics.median(x for x, _ in p), statistics.median(y for _, y in p)
    print(f"== {fn}: init median {b:.2f} ms before, {a:.2f} ms after ({(a / b - 1) * 100:+.1f} %), {len(p)} pairs")
PY
rm -f "$out"
