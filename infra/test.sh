#!/usr/bin/env bash
# Checks the CDK app: type-checks it, synthesizes it (offline, no AWS credentials) and compares
# the result with ../template.yaml. Last line: `infra: N passed, M failed`.
# Usage: infra/test.sh   (from anywhere; needs Node >= 20 and the npm registry for the first run)
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi
export CDK_DISABLE_CLI_TELEMETRY=true AWS_EC2_METADATA_DISABLED=true

# ts-node runs the app transpile-only (fast); type errors are caught here instead.
npx --no-install tsc --noEmit -p tsconfig.json

# Synthesizes (with placeholder bootstraps if target/lambda/<crate>/bootstrap is not built) and compares.
node test/compare.mjs "$@"
