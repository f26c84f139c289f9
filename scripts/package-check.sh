#!/usr/bin/env bash
# What `cargo package` ships: everything a user of the crate needs (the sources, the rules and
# docs they read, the examples, the bundled demo's world) and nothing of the repository's own
# machinery (tests, benches, fuzzing, scripts, the other fixtures). Then the package is built
# on its own, so a file the crate compiles in but the package left out fails here.
set -euo pipefail
cd "$(dirname "$0")/.."

list=$(cargo package --list --allow-dirty --quiet 2>/dev/null)
fail=0
for need in src/main.rs src/lib.rs src/report/html/report.css src/report/html/report.js \
    rules/example.toml rules/shop.toml fixtures/shop/shop.ndjson README.md Cargo.lock \
    examples/github-actions/bacaudit.yml examples/kubernetes/Dockerfile; do
    if ! grep -qx "$need" <<<"$list"; then
        echo "package-check: $need is missing from the package" >&2
        fail=1
    fi
done
for unwanted in '^fuzz/' '^benches/' '^tests/' '^scripts/' '^\.ci/' '^fixtures/(bac-talk|shop-restore)' '^target/'; do
    if grep -Eq "$unwanted" <<<"$list"; then
        echo "package-check: the package holds files it should not: $(grep -E "$unwanted" <<<"$list" | head -3 | tr '\n' ' ')" >&2
        fail=1
    fi
done
[ "$fail" = 0 ] || exit 1
echo "package-check: $(wc -l <<<"$list") files, the right ones"
if ! out=$(cargo package --allow-dirty --quiet 2>&1); then
    echo "$out" >&2
    echo "package-check: the package does not build on its own" >&2
    exit 1
fi
echo "package-check: the package builds on its own"
