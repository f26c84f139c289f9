#!/usr/bin/env bash
# bench-audit.sh [N] — offline audit of a generated N-resource world (default 100000):
# prints wall time, resources/s and peak RSS, and checks the findings against the ground truth.
# Not part of `cargo test`. Uses ../shared/bench/gen_world.py (or $BENCH_DIR).
set -euo pipefail
N=${1:-100000}
HERE=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$HERE/../shared/bench}
WORK=${WORK:-/tmp/bacaudit-bench}
WORLD=$WORK/world-$N
RUNS=${RUNS:-3}

command -v /usr/bin/time >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet --manifest-path "$HERE/Cargo.toml"
BIN=$HERE/target/release/bacaudit

if [ ! -f "$WORLD/truth.json" ]; then
    python3 "$BENCH_DIR/gen_world.py" "$N" "$WORLD" --no-www
fi
lines=$(wc -l < "$WORLD/snapshot.ndjson")
echo "# world: $WORLD ($lines snapshot lines, $(du -h "$WORLD/snapshot.ndjson" | cut -f1))"
for i in $(seq 1 "$RUNS"); do
    set +e
    /usr/bin/time -f '%e %M' -o "$WORK/time.txt" "$BIN" audit -q --rules "$BENCH_DIR/world.toml" \
        --snapshot "$WORLD/snapshot.ndjson" --report "$WORK/report-$N.json" --format json > /dev/null
    code=$?
    set -e
    read -r wall rss_kb < <(tail -n 1 "$WORK/time.txt")
    resources=$(python3 -c "import json;print(json.load(open('$WORK/report-$N.json'))['summary']['resources'])")
    python3 - "$wall" "$rss_kb" "$resources" "$code" "$i" <<'PY'
import sys
wall, rss_kb, res, code, run = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
print(f"run {run}: audit exit {code}: {res} resources in {wall:.2f} s = {res / max(wall, 1e-9):,.0f} resources/s, "
      f"peak RSS {rss_kb / 1024:.0f} MiB ({rss_kb * 1024 / max(res, 1):.0f} B/resource)")
PY
done
python3 "$HERE/scripts/check_truth.py" "$WORK/report-$N.json" "$WORLD/truth.json"
