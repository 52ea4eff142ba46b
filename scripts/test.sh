#!/usr/bin/env bash
# Runs every test of Signet, on a machine with only the Rust toolchain, Python 3 and Node.js:
#   1. installs moto server and cfn-lint into .venv (first run only), and pdftotext
#      (Debian's poppler-utils) when missing,
#   2. starts moto server on a free loopback port (stopped on exit, whatever happens),
#   3. checks the formatting (rustfmt.toml) and runs clippy with warnings as errors,
#   4. runs the Rust tests: unit tests and the end-to-end scenarios on both back ends
#      (embedded, and AWS through the real aws-sdk clients against moto),
#   5. fuzzes the local server with schemathesis against openapi.json, signed in as the
#      demo member, with links between operations (every answer must match the document;
#      never a 5xx),
#   6. lints template.yaml with cfn-lint,
#   7. synthesizes the CDK app and compares it with template.yaml,
#   8. checks the portal's files and runs its journeys in Debian's chromium (installed with
#      apt when missing) with playwright-core and axe-core (npm, into tests/browser).
# Exits non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
if ! "$venv/bin/python" -c 'import moto, cfnlint, schemathesis' 2>/dev/null; then
  echo "== installing test tools into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
fi

# pdftotext (poppler-utils) reads invoices back from their PDF in the renewal scenarios.
if ! command -v pdftotext >/dev/null 2>&1; then
  echo "== installing poppler-utils (pdftotext)"
  sudo_cmd=""
  if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get install -y -q poppler-utils >/dev/null 2>&1 || { $sudo_cmd apt-get update -q >/dev/null && $sudo_cmd apt-get install -y -q poppler-utils >/dev/null; }
fi

mkdir -p target
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/python" scripts/moto_server.py "$port" > target/moto.log 2>&1 &
moto_pid=$!
local_pid=""
data_dir=$(mktemp -d)
trap 'kill "$moto_pid" $local_pid 2>/dev/null || true; rm -rf "$data_dir"' EXIT
wait_for() {
  python3 - "$1" "$2" <<'PY'
import socket, sys, time
deadline = time.time() + 60
while time.time() < deadline:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.2)
sys.exit(sys.argv[2] + " did not start")
PY
}
wait_for "$port" "moto server (see target/moto.log)"
echo "== moto server on 127.0.0.1:$port (pid $moto_pid)"
export SIGNET_TEST_MOTO_URL="http://127.0.0.1:$port"

echo "== cargo fmt --check and clippy (warnings are errors)"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked --quiet -- -D warnings

echo "== cargo test (unit tests; scenarios on the embedded and the AWS/moto back ends)"
cargo test --workspace --locked

echo "== schemathesis: the local server against openapi.json, signed in as the demo member"
cargo build --quiet --locked -p signet-local
api_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The demo data, and limits a fuzzer from one address would otherwise reach in seconds.
SIGNET_SIGNUPS_PER_SOURCE_PER_HOUR=100000 SIGNET_CODES_PER_SOURCE_PER_HOUR=100000 SIGNET_CODES_PER_PHONE_PER_HOUR=100000 \
  SIGNET_PHONE_CHANGES_PER_SOURCE_PER_HOUR=100000 \
  "${CARGO_TARGET_DIR:-target}/debug/signet-local" --demo --port "$api_port" --data-dir "$data_dir" > target/local-fuzz.log 2>&1 &
local_pid=$!
wait_for "$api_port" "signet-local (see target/local-fuzz.log)"
# scripts/schemathesis_hooks.py signs in as the demo member (and re-authenticates for the
# credential changes); schemathesis.toml says which documented refusals a valid body may get.
SIGNET_FUZZ_URL="http://127.0.0.1:$api_port/api" PYTHONPATH=scripts SCHEMATHESIS_HOOKS=schemathesis_hooks \
  "$venv/bin/st" --config-file schemathesis.toml run openapi.json --url "http://127.0.0.1:$api_port/api" \
  --checks all --max-examples 50 --seed 1 --workers 1 --no-color

echo "== cfn-lint template.yaml"
"$venv/bin/cfn-lint" template.yaml

echo "== CDK app against template.yaml"
bash infra/test.sh
echo "== the portal: static checks, then every journey in chromium (screenshots in target/portal-screenshots)"
if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing Debian's chromium"
  sudo_cmd=""
  if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get install -y -q chromium >/dev/null 2>&1 || { $sudo_cmd apt-get update -q >/dev/null && $sudo_cmd apt-get install -y -q chromium >/dev/null; }
fi
if ! cmp -s tests/browser/package-lock.json tests/browser/node_modules/.signet-lock.json; then
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
  cp tests/browser/package-lock.json tests/browser/node_modules/.signet-lock.json
fi
node tests/browser/check.mjs
portal_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SIGNET_PORTAL_PORT="$portal_port" SIGNET_LOCAL_BIN="${CARGO_TARGET_DIR:-target}/debug/signet-local" \
  SIGNET_CHROMIUM="$(command -v chromium)" node tests/browser/run.mjs
echo "== all tests passed"
