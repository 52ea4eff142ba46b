#!/usr/bin/env bash
# Measures each Lambda bootstrap against a hello-world lambda_http built with the same
# release profile (bench/hello): size, cold start (exec → first /next = init; exec → first
# response), warm round trips and peak RSS, with ../shared/bench/lambda_cold.py, which plays
# the Lambda Runtime API on loopback.
#
# The event is a sign-up with an invalid email: it crosses the whole stack (event decoding,
# routing, body parsing, validation, problem+json) and needs no AWS endpoint, so the numbers
# are the function's own. Build the functions first: cargo lambda build --release
# usage: bench/cold_start.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-30}
probe=../shared/bench/lambda_cold.py
[ -f "$probe" ] || { echo "missing $probe (the shared bench script beside the checkout)"; exit 2; }
target=${CARGO_TARGET_DIR:-target}
(cd bench/hello && CARGO_TARGET_DIR="../../$target/bench-hello" cargo build --release --quiet)
env=(--env AWS_REGION=eu-west-1 --env AWS_ACCESS_KEY_ID=bench --env AWS_SECRET_ACCESS_KEY=bench
     --env SIGNET_TABLE=bench --env SIGNET_KMS_KEY_ID=alias/bench --env SIGNET_METRICS=true)
measure() { python3 "$probe" "$1" "$2" --rounds "$rounds" --warm 200 "${env[@]}" 2>/dev/null; }
hello_init=$(measure "$target/bench-hello/release/hello" bench/events/signup-invalid-email.json | tee /dev/stderr | awk '/^init ms/ {print $4}')
for bootstrap in "$target"/lambda/*/bootstrap; do
  fn=$(basename "$(dirname "$bootstrap")")
  # A function without an HTTP event (the scheduled reminders) has no bench event: its size is
  # in the README, its start is measured by hand (see the README).
  [ -f "bench/events/$fn-invalid-email.json" ] || { echo "== $fn: no bench event, skipped"; continue; }
  init=$(measure "$bootstrap" "bench/events/$fn-invalid-email.json" | tee /dev/stderr | awk '/^init ms/ {print $4}')
  python3 -c 'import sys; print("== %s: init %.2f ms = %.2fx hello-world (target <= 1.5x)" % (sys.argv[1], float(sys.argv[2]), float(sys.argv[2]) / float(sys.argv[3])))' "$fn" "$init" "$hello_init"
done
