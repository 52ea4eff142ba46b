#!/usr/bin/env bash
# Measures each Lambda bootstrap's size, cold start (exec → first /next, exec → first
# response), warm round trip and peak RSS with ../shared/bench/lambda_cold.py, which plays
# the Lambda Runtime API on loopback.
#
# The event is a sign-up with an invalid email: it crosses the whole stack (event decoding,
# routing, body parsing, validation, problem+json) and needs no AWS endpoint, so the numbers
# are the function's own. Build first: cargo lambda build --release
# usage: bench/cold_start.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-20}
probe=../shared/bench/lambda_cold.py
[ -f "$probe" ] || { echo "missing $probe (the shared bench script beside the checkout)"; exit 2; }
target=${CARGO_TARGET_DIR:-target}
for bootstrap in "$target"/lambda/*/bootstrap; do
  fn=$(basename "$(dirname "$bootstrap")")
  size=$(stat -c %s "$bootstrap")
  python3 -c 'import sys; print("== %s: %s bytes (%.2f MiB)" % (sys.argv[1], sys.argv[2], int(sys.argv[2]) / 1048576))' "$fn" "$size"
  python3 "$probe" "$bootstrap" "bench/events/$fn-invalid-email.json" --rounds "$rounds" --warm 200 \
    --env AWS_REGION=eu-west-1 --env AWS_ACCESS_KEY_ID=bench --env AWS_SECRET_ACCESS_KEY=bench \
    --env SIGNET_TABLE=bench --env SIGNET_KMS_KEY_ID=alias/bench --env SIGNET_METRICS=true
done
