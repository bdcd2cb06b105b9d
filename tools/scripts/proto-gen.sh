#!/usr/bin/env bash
# Regenerates libs/proto from protos/ (buf lint, format check, generate). Offline.
set -euo pipefail
cd "$(dirname "$0")/../../protos"
npx --no-install buf lint
npx --no-install buf format --diff --exit-code
npx --no-install buf generate
