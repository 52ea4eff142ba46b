#!/usr/bin/env bash
# Runs every test of Signet, on a machine with only the Rust toolchain, Python 3 and Node.js:
#   1. installs moto server and cfn-lint into .venv (first run only),
#   2. starts moto server on a free loopback port (stopped on exit, whatever happens),
#   3. runs the Rust tests: unit tests and the end-to-end scenarios on both back ends
#      (embedded, and AWS through the real aws-sdk clients against moto),
#   4. lints template.yaml with cfn-lint,
#   5. synthesizes the CDK app and compares it with template.yaml.
# Exits non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
if ! "$venv/bin/python" -c 'import moto, cfnlint' 2>/dev/null; then
  echo "== installing test tools into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
fi

mkdir -p target
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" > target/moto.log 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true' EXIT
python3 - "$port" <<'PY'
import socket, sys, time
deadline = time.time() + 60
while time.time() < deadline:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.2)
sys.exit("moto server did not start; see target/moto.log")
PY
echo "== moto server on 127.0.0.1:$port (pid $moto_pid)"
export SIGNET_TEST_MOTO_URL="http://127.0.0.1:$port"

echo "== cargo test (unit tests; scenarios on the embedded and the AWS/moto back ends)"
cargo test --workspace --locked

echo "== cfn-lint template.yaml"
"$venv/bin/cfn-lint" template.yaml

echo "== CDK app against template.yaml"
bash infra/test.sh
echo "== all tests passed"
