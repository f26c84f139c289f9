#!/usr/bin/env bash
# Writes every report of every fixture (all formats, every command that prints one) into OUTDIR,
# so two builds can be compared byte for byte: run it with each binary, then `diff -r A B`.
#   scripts/report-outputs.sh OUTDIR [BINARY] [WORLD_DIR]
# WORLD_DIR (optional): a world from ../shared/bench/gen_world.py whose snapshot is audited too.
# Fields about the run itself (durations, timestamps) do not occur in these outputs; paths are
# the relative ones given here, so OUTDIR trees from two clones compare equal.
set -uo pipefail
out=${1:?usage: report-outputs.sh OUTDIR [BINARY] [WORLD_DIR]}
bin=${2:-target/release/bacaudit}
world=${3:-}
cd "$(dirname "$0")/.."
mkdir -p "$out"
exts="json md html sarif xml dot mmd txt"

# audit NAME RULES SNAPSHOT [extra args]: every report format, the table on stdout, the exit code
audit() {
    local name=$1 rules=$2 snap=$3; shift 3
    local args=()
    for e in $exts; do args+=(--report "$out/$name.$e"); done
    "$bin" audit -q --rules "$rules" --snapshot "$snap" "${args[@]}" "$@" > "$out/$name.stdout" 2> "$out/$name.stderr"
    echo $? > "$out/$name.exit"
}
# run NAME CMD...: stdout, stderr and exit code of one command
run() {
    local name=$1; shift
    "$bin" "$@" > "$out/$name.stdout" 2> "$out/$name.stderr"
    echo $? > "$out/$name.exit"
}

for s in independent-backup orphan-state synchronized-backup; do
    audit "bac-talk-$s" rules/bac-talk.toml "fixtures/bac-talk/$s.ndjson"
    audit "bac-talk-restore-$s" rules/bac-talk-restore.toml "fixtures/bac-talk-restore/$s.ndjson" \
        --previous-snapshot fixtures/bac-talk-restore/before.ndjson --clusters
    run "whatif-bac-talk-$s" whatif --rules rules/bac-talk-restore.toml \
        --snapshot "fixtures/bac-talk-restore/$s.ndjson" --previous-snapshot fixtures/bac-talk-restore/before.ndjson
    run "diff-bac-talk-$s" diff fixtures/bac-talk-restore/before.ndjson "fixtures/bac-talk-restore/$s.ndjson" \
        --rules rules/bac-talk-restore.toml
done
audit shop rules/shop.toml fixtures/shop/shop.ndjson
audit shop-restore rules/shop-restore.toml fixtures/shop/shop.ndjson \
    --previous-snapshot fixtures/shop-restore/before.ndjson --clusters
for f in table json; do
    run "whatif-shop-$f" whatif --rules rules/shop-restore.toml --snapshot fixtures/shop/shop.ndjson \
        --previous-snapshot fixtures/shop-restore/before.ndjson --format "$f"
    run "diff-shop-$f" diff fixtures/shop-restore/before.ndjson fixtures/shop/shop.ndjson \
        --rules rules/shop-restore.toml --format "$f"
    run "diff-shop-norules-$f" diff fixtures/shop-restore/before.ndjson fixtures/shop/shop.ndjson --format "$f"
    run "clusters-shop-$f" clusters --rules rules/shop-restore.toml --snapshot fixtures/shop/shop.ndjson --format "$f"
done
for f in table json markdown html sarif junit dot mermaid; do
    run "shop-stdout-$f" audit -q --rules rules/shop.toml --snapshot fixtures/shop/shop.ndjson --format "$f"
done
run shop-baseline baseline "$out/shop.json"
run shop-apply-dry apply "$out/shop-restore.json" --rules rules/shop-restore.toml --journal "$out/journal.ndjson"
run shop-gated audit -q --rules rules/shop.toml --snapshot fixtures/shop/shop.ndjson --baseline "$out/shop.json"
run shop-budget audit -q --rules rules/shop.toml --snapshot fixtures/shop/shop.ndjson --max-broken 10 --max-orphans 5
run rules-error audit -q --rules tests/fixtures/does-not-exist.toml --snapshot fixtures/shop/shop.ndjson

if [ -n "$world" ]; then
    audit world "../shared/bench/world.toml" "$world/snapshot.ndjson"
fi
# the report's own path is part of the JSON (source.snapshot / rules): keep it relative
echo "wrote $(ls "$out" | wc -l) files to $out"
