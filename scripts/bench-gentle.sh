#!/usr/bin/env bash
# bench-gentle.sh — adaptive concurrency against a fragile estate (not part of `cargo test`):
#
#   scripts/bench-gentle.sh          # ~4 min on 2 cores; the 100k world cached under $WORK
#
# The 100k bench world (gen_world.py: customers 15k, products 5k, shipments 40k, orders 40k
# resources) is served by `bacaudit serve --latency 10 --capacity 32 --capacity orders=128`:
# every answer takes 10 ms (±20 %), more than 32 requests in flight to a service (128 to
# orders) are refused with 503 at once, as a saturated server. The same world is crawled in
# three settings, each against a freshly started server:
#
#   adaptive   the default: per-service limits found from latency, 429s and 503s
#              (--concurrency 256: the ceiling only; adaptive keeps each service under it)
#   fixed 64   --fixed-concurrency --concurrency 64 (the default ceiling, pinned)
#   fixed 8    --fixed-concurrency --concurrency 8 (a cautious operator's guess)
#
# For each: wall time, requests, 503s the server answered over capacity (counted by serve),
# retries, and the ratio of wall time to the ideal: max over services of
# resources × latency / capacity (each service busy at exactly its capacity, all in parallel).
# The findings of every run are checked against truth.json (scripts/check_truth.py).
# Targets: adaptive within 1.25× of the ideal, 503s at most 1 % of its requests.
#
# Env: WORK (/tmp/bacaudit-bench)  BIN (skip the build)  LATENCY (10)  CAPACITY (32)
#      ORDERS_CAPACITY (128)  RETRIES (10: every setting; the fixed ones need many to finish)
#      SETTINGS ("adaptive fixed64 fixed8")  BENCH_DIR (../shared/bench)
# Exit: 0 every run matched truth; 1 a truth check or a run failed; 2 set-up error.
# Only 127.0.0.1 is targeted; the server is stopped on exit.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/bacaudit-bench}
LATENCY=${LATENCY:-10}
CAPACITY=${CAPACITY:-32}
ORDERS_CAPACITY=${ORDERS_CAPACITY:-128}
RETRIES=${RETRIES:-10}
SETTINGS=${SETTINGS:-"adaptive fixed64 fixed8"}
N=100000
for d in "${BENCH_DIR:-}" "$HERE/../shared/bench" "$HERE/../../shared/bench"; do
    [ -n "$d" ] && [ -f "$d/gen_world.py" ] && { BENCH_DIR=$(cd "$d" && pwd); break; }
done
[ -f "${BENCH_DIR:-}/gen_world.py" ] || { echo "bench-gentle.sh: gen_world.py not found; set BENCH_DIR" >&2; exit 2; }
command -v /usr/bin/time >/dev/null || { echo "bench-gentle.sh: /usr/bin/time missing (apt-get install time)" >&2; exit 2; }

W=$WORK/world-$N
GEN_SHA=$(sha256sum "$BENCH_DIR/gen_world.py" | cut -c1-16)
if ! grep -q "^$GEN_SHA" "$W/.bench-stamp" 2>/dev/null; then
    echo "# generating the $N world in $W" >&2
    timeout 1800 python3 "$BENCH_DIR/gen_world.py" "$N" "$W" --no-www >&2
    echo "$GEN_SHA nowww" > "$W/.bench-stamp"
fi
if [ -z "${BIN:-}" ]; then
    (cd "$HERE" && cargo build --release --quiet)
    BIN=$HERE/target/release/bacaudit
fi
OUT=$WORK/gentle-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
RULES=$BENCH_DIR/world.toml

SERVER=
cleanup() { [ -n "$SERVER" ] && kill -INT "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null; SERVER=; }
trap cleanup EXIT

start_server() { # LOG: serves the world as a fragile estate, waits until it answers
    "$BIN" serve --rules "$RULES" --snapshot "$W/snapshot.ndjson" \
        --latency "$LATENCY" --capacity "$CAPACITY" --capacity "orders=$ORDERS_CAPACITY" > "$1" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 600); do
        grep -q "serving orders" "$1" 2>/dev/null && return 0
        kill -0 "$SERVER" 2>/dev/null || break
        sleep 0.1
    done
    echo "bench-gentle.sh: the server did not start:" >&2; cat "$1" >&2; exit 2
}

FAILED=0
printf 'setting\twall_s\trequests\trefused_503\tretries\tideal_s\tratio\ttruth\n' > "$OUT/runs.tsv"
for setting in $SETTINGS; do
    case $setting in
        adaptive) args=(--concurrency 256) ;;
        fixed64) args=(--fixed-concurrency --concurrency 64) ;;
        fixed8) args=(--fixed-concurrency --concurrency 8) ;;
        *) echo "bench-gentle.sh: unknown setting $setting" >&2; exit 2 ;;
    esac
    start_server "$OUT/$setting.serve.log"
    set +e
    /usr/bin/time -f '%e' -o "$OUT/$setting.time" timeout 1800 "$BIN" crawl --rules "$RULES" -q \
        --retries "$RETRIES" "${args[@]}" --report "$OUT/$setting.json" > /dev/null 2> "$OUT/$setting.err"
    rc=$?
    set -e
    cleanup
    if [ "$rc" -gt 1 ]; then FAILED=1; echo "$setting: crawl exited $rc" >&2; cat "$OUT/$setting.err" >&2; fi
    truth=OK
    python3 "$HERE/scripts/check_truth.py" "$OUT/$setting.json" "$W/truth.json" > "$OUT/$setting.truth" 2>&1 \
        || { truth=FAILED; FAILED=1; }
    python3 - "$OUT/$setting.json" "$OUT/$setting.time" "$OUT/$setting.serve.log" "$setting" "$truth" \
        "$LATENCY" "$CAPACITY" "$ORDERS_CAPACITY" >> "$OUT/runs.tsv" <<'EOF'
import json, re, sys
report, timef, log, setting, truth = sys.argv[1:6]
latency, cap, orders_cap = float(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
r = json.load(open(report))
wall = float(open(timef).read().split()[-1])
refused = int(re.search(r"capacity: (\d+) requests refused", open(log).read()).group(1))
ideal = max(s["resources"] * latency / 1000 / (orders_cap if s["name"] == "orders" else cap)
            for s in r["services"])
s = r["summary"]
print(f"{setting}\t{wall:.1f}\t{s['requests']}\t{refused}\t{s['retries']}\t{ideal:.1f}\t{wall / ideal:.2f}\t{truth}")
EOF
    tail -1 "$OUT/runs.tsv" >&2
done

python3 - "$OUT/runs.tsv" "$OUT" <<'EOF'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
print(f"gentle crawl of the 100k world (serve --latency {10} --capacity 32, orders 128): {sys.argv[2]}")
print("| setting | wall | requests | 503s over capacity | 503s / requests | retries | ideal | wall / ideal | peak limits | truth |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
for r in rows:
    rep = json.load(open(f"{sys.argv[2]}/{r['setting']}.json"))
    limits = ", ".join(f"{s['name']} {s.get('concurrency_limit', '-')}" for s in rep["services"])
    share = int(r["refused_503"]) / max(1, int(r["requests"]))
    print(f"| {r['setting']} | {r['wall_s']} s | {int(r['requests']):,} | {int(r['refused_503']):,} | "
          f"{share:.1%} | {int(r['retries']):,} | {r['ideal_s']} s | {r['ratio']}× | {limits} | {r['truth']} |")
EOF
exit $FAILED
