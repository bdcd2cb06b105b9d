#!/usr/bin/env bash
# Trains Chameleon against the Python simulator, unchanged: starts server.py and the four
# TypeScript services (task sampler, learner, evaluator, meta-optimiser) as separate processes
# on free loopback ports, writes their addresses to a services file, then runs
#   chameleon train --config py-point-maml.yaml --services <services file>
# Everything started here is stopped (SIGTERM, by process id) when the script exits.
#
# Usage: examples/python-simulator/train.sh [--services-only] [extra `chameleon train` flags]
#   --services-only   start the services, print the train command, and wait for Ctrl-C
# Environment: CHAMELEON_PYTHON (default /usr/bin/python3), CONFIG (default py-point-maml.yaml),
#   RUN_DIR (logs, services file and run folder; default examples/python-simulator/.run).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PYTHON=${CHAMELEON_PYTHON:-/usr/bin/python3}
CONFIG=${CONFIG:-$HERE/py-point-maml.yaml}
RUN_DIR=${RUN_DIR:-$HERE/.run}
CHAMELEON=(node "$ROOT/apps/cli/bin/chameleon.js")
export NX_NO_CLOUD=true NX_DAEMON=false PYTHONDONTWRITEBYTECODE=1

SERVICES_ONLY=0
if [[ "${1:-}" == "--services-only" ]]; then SERVICES_ONLY=1; shift; fi

if ! "$PYTHON" "$HERE/server.py" --check; then
  echo "the Python simulator cannot run: sudo apt-get install python3-grpcio python3-numpy protobuf-compiler" >&2
  exit 3
fi

mkdir -p "$RUN_DIR"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME COMMAND...: runs it in the background, waits for its {"event":"listening"} line
# on stdout and sets ADDRESS to the host:port it reports.
start() {
  local name=$1 out="$RUN_DIR/$1.out" err="$RUN_DIR/$1.log"
  shift
  "$@" >"$out" 2>"$err" &
  PIDS+=($!)
  for _ in $(seq 1 600); do
    ADDRESS=$(sed -n 's/.*"event": *"listening".*"address": *"\([^"]*\)".*/\1/p' "$out" | head -n 1)
    if [[ -n "$ADDRESS" ]]; then
      echo "$name listening on $ADDRESS (log $err)" >&2
      return 0
    fi
    if ! kill -0 "${PIDS[-1]}" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "$name did not start; its log ($err):" >&2
  cat "$err" >&2
  exit 1
}

PLUGIN="$HERE/plugin.ts"
start environment-simulator "$PYTHON" "$HERE/server.py" --port 0
SIMULATOR=$ADDRESS
start task-sampler "${CHAMELEON[@]}" serve task-sampler --port 0 --plugins "$PLUGIN"
TASK_SAMPLER=$ADDRESS
start learner "${CHAMELEON[@]}" serve learner --port 0 --plugins "$PLUGIN"
LEARNER=$ADDRESS
start evaluator "${CHAMELEON[@]}" serve evaluator --port 0 --plugins "$PLUGIN" --task-sampler "$TASK_SAMPLER" --simulators "$SIMULATOR" --learner "$LEARNER"
EVALUATOR=$ADDRESS
start meta-optimiser "${CHAMELEON[@]}" serve meta-optimiser --port 0 --plugins "$PLUGIN" --task-sampler "$TASK_SAMPLER" --simulators "$SIMULATOR" --learner "$LEARNER" --evaluator "$EVALUATOR" --runs-dir "$RUN_DIR/runs"
META_OPTIMISER=$ADDRESS

cat >"$RUN_DIR/services.yaml" <<YAML
# Written by train.sh: the running services (the simulator is the Python one).
taskSampler: $TASK_SAMPLER
simulators: [$SIMULATOR]
learner: $LEARNER
evaluator: $EVALUATOR
metaOptimiser: $META_OPTIMISER
YAML

TRAIN=("${CHAMELEON[@]}" train --config "$CONFIG" --services "$RUN_DIR/services.yaml" --out "$RUN_DIR/run" "$@")
if [[ $SERVICES_ONLY == 1 ]]; then
  echo "services file: $RUN_DIR/services.yaml" >&2
  echo "train with:    ${TRAIN[*]}" >&2
  echo "(Ctrl-C stops the services)" >&2
  wait "${PIDS[0]}"
else
  "${TRAIN[@]}"
fi
