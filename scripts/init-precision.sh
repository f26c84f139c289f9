#!/usr/bin/env bash
# init-precision.sh [N] — how close `bacaudit init` comes to the hand-written rules, per world.
#
# For each world: rules are inferred from its consistent snapshot (the state before the
# disaster; the bench world has none, so its one snapshot is used), then every broken snapshot
# of the world is audited twice, with the hand-written rules and with the inferred ones. The
# finding ids (a hash of kind, source or resource, pointer and target: names of kinds and
# links do not enter it) are compared: precision = shared / inferred, recall = shared /
# hand-written. Kinds (service base URL + path) and links (source path, selector, target path)
# are compared the same way. Every miss is listed with its finding.
#
# The bench world (N resources, default 2000) comes from ../shared/bench/gen_world.py (or
# $BENCH_DIR); it is skipped when that is not there. Not part of `cargo test`.
set -euo pipefail
N=${1:-2000}
HERE=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$HERE/../shared/bench}
WORK=${WORK:-$HERE/target/init-precision}
mkdir -p "$WORK"
cargo build --release --quiet --manifest-path "$HERE/Cargo.toml"
BIN=$HERE/target/release/bacaudit
F=$HERE/fixtures

# world|hand rules|consistent snapshot|broken snapshots (space-separated)
WORLDS=(
    "bac-talk|$HERE/rules/bac-talk.toml|$F/bac-talk/synchronized-backup.ndjson|$F/bac-talk/independent-backup.ndjson $F/bac-talk/orphan-state.ndjson $F/bac-talk/synchronized-backup.ndjson"
    "bac-talk-restore|$HERE/rules/bac-talk-restore.toml|$F/bac-talk-restore/before.ndjson|$F/bac-talk-restore/independent-backup.ndjson $F/bac-talk-restore/orphan-state.ndjson $F/bac-talk-restore/synchronized-backup.ndjson"
    "shop|$HERE/rules/shop.toml|$F/shop-restore/before.ndjson|$F/shop/shop.ndjson"
)
if [ -f "$BENCH_DIR/gen_world.py" ]; then
    WORLD=$WORK/bench-$N
    [ -f "$WORLD/snapshot.ndjson" ] || python3 "$BENCH_DIR/gen_world.py" "$N" "$WORLD" --no-www > /dev/null
    WORLDS+=("bench-$N|$BENCH_DIR/world.toml|$WORLD/snapshot.ndjson|$WORLD/snapshot.ndjson")
else
    echo "# bench world skipped: no $BENCH_DIR/gen_world.py"
fi

printf '%-18s %-28s %6s %8s %6s %9s %7s %s\n' world snapshot hand inferred shared precision recall "kinds P/R, links P/R"
for w in "${WORLDS[@]}"; do
    IFS='|' read -r name hand consistent broken <<< "$w"
    inferred=$WORK/$name.toml
    "$BIN" init -q --force --snapshot "$consistent" --out "$inferred"
    for snap in $broken; do
        tag=$name-$(basename "$snap" .ndjson)
        "$BIN" audit -q --rules "$hand" --snapshot "$snap" --report "$WORK/$tag-hand.json" --format json > /dev/null || true
        "$BIN" audit -q --rules "$inferred" --snapshot "$snap" --report "$WORK/$tag-inferred.json" --format json > /dev/null || true
        python3 - "$name" "$(basename "$snap")" "$WORK/$tag-hand.json" "$WORK/$tag-inferred.json" "$hand" "$inferred" <<'PY'
import json, sys, tomllib
name, snap, hand_report, inf_report, hand_rules, inf_rules = sys.argv[1:]
def findings(path):
    return {f["id"]: f for f in json.load(open(path))["findings"]}
h, i = findings(hand_report), findings(inf_report)
shared = h.keys() & i.keys()
def ratio(a, b):
    return f"{a / b:.3f}" if b else "1.000"
def shape(path):
    r = tomllib.load(open(path, "rb"))
    svc = {n: s["base_url"] for n, s in r.get("services", {}).items()}
    kinds = {n: (svc[k["service"]], k["path"]) for n, k in r.get("kinds", {}).items()}
    links = set()
    for n, k in r.get("kinds", {}).items():
        for l in k.get("links", {}).values():
            sel = ("pointer", l["pointer"]) if "pointer" in l else ("rel", l["rel"])
            links.add((kinds[n], sel, kinds[l["to"]]))
    return set(kinds.values()), links
hk, hl = shape(hand_rules)
ik, il = shape(inf_rules)
pr = lambda a, b: f"{ratio(len(a & b), len(b))}/{ratio(len(a & b), len(a))}"
print(f"{name:<18} {snap:<28} {len(h):>6} {len(i):>8} {len(shared):>6} {ratio(len(shared), len(i)):>9} "
      f"{ratio(len(shared), len(h)):>7} kinds {pr(hk, ik)}, links {pr(hl, il)}")
def say(f):
    where = f.get("resource") or f"{f.get('source')} {f.get('pointer')} -> {f.get('target')}"
    return f"{f['kind']} {where}"
for fid in sorted(h.keys() - i.keys()):
    print(f"    missed (hand-written only): {say(h[fid])}")
for fid in sorted(i.keys() - h.keys()):
    print(f"    extra (inferred only):      {say(i[fid])}")
for l in sorted(hl - il):
    print(f"    link only in the hand-written rules: {l}")
for l in sorted(il - hl):
    print(f"    link only in the inferred rules: {l}")
PY
    done
done
