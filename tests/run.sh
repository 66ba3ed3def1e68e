#!/usr/bin/env bash
# What `make test` (and, with --bench, `make bench`) does, in order:
#   1. ruff (lint, and `ruff format --check`), mypy (strict on runner/ and widgets/; tests/
#      with the default checks plus untyped bodies), and `dockdojo build --check`
#      (lessons/ matches content/);
#   2. the test world: Debian packages, the sandbox engine and registry, fixture images;
#   3. every test: unit, install (the wheel in a fresh environment), engine (every lesson
#      solved end to end), room (learner engines as their own users, the room mirror),
#      browser (JupyterLab in Chromium), sandbox lifecycle: in that order, one pytest run;
#   4. the sandbox is stopped on exit, whatever happened, so no process or mount stays.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
STATE=${DOCKDOJO_TEST_STATE:-$HOME/.cache/dockdojo/test-sandbox}
PORT=${DOCKDOJO_TEST_REGISTRY_PORT:-5055}
MODE=${1:-test}

step() { printf '\n== %s\n' "$*" >&2; }

if [ "$MODE" = test ]; then
  step "lint and types"
  $BIN/ruff check .
  $BIN/ruff format --check .
  $BIN/mypy -p dockdojo.runner -p dockdojo.widgets
  $BIN/mypy tests
  $BIN/dockdojo build --check
fi

step "test world: packages, sandbox engine and registry, fixture images"
bash tests/world/install.sh
trap '$BIN/dockdojo sandbox stop --state "$STATE" >/dev/null 2>&1 || true' EXIT
eval "$($BIN/dockdojo sandbox start --state "$STATE" --registry-port "$PORT")"
$BIN/python tests/world/fixtures.py --docker-host "$DOCKER_HOST" --registry "127.0.0.1:$PORT"
export DOCKDOJO_TEST_DOCKER_HOST=$DOCKER_HOST DOCKDOJO_TEST_SANDBOX_STATE=$STATE
export DOCKDOJO_TEST_REGISTRY=127.0.0.1:$PORT
unset DOCKER_HOST

if [ "$MODE" = bench ]; then
  step "benchmarks"
  for bench in tests/bench/bench_*.py; do $BIN/python "$bench"; done
else
  step "tests"
  $BIN/pytest tests/unit tests/install tests/engine tests/room tests/grading tests/browser tests/lifecycle
fi
