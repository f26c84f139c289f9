#!/usr/bin/env bash
# Soak test: serve the shop fixture with `bacaudit serve --chaos` (each request fails at random,
# 503 or a reset connection, at most 3 times per URL), crawl it live RUNS times with --retries 4,
# and require the fixture's ground truth (fixtures/shop/expected.json) from every run, with one
# retry at least for every failure the server injected. About 15 s per run.
#
# Usage: scripts/soak.sh [RUNS] [PROBABILITY] [SEED]      (defaults: 5 0.2 random)
set -euo pipefail
cd "$(dirname "$0")/.."
export SOAK_RUNS="${1:-5}"
export SOAK_P="${2:-0.2}"
export SOAK_SEED="${3:-$RANDOM}"
echo "soak: $SOAK_RUNS runs, p=$SOAK_P, seed=$SOAK_SEED (rerun: scripts/soak.sh $SOAK_RUNS $SOAK_P $SOAK_SEED)"
# Bounded: each crawl has its own 180 s limit inside the test; the whole soak this one.
exec timeout $((120 + 60 * SOAK_RUNS)) \
    cargo test --test tests -- --ignored soak --nocapture --test-threads 1
