#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/ one after the other, each for a bounded time, and prints
# executions per second, coverage and any crash. See docs/fuzzing.md.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     # default: 60 s each, all targets
#
# FUZZ_SANITIZER=none|address (default address) picks cargo fuzz's --sanitizer;
# FUZZ_ARGS adds libFuzzer options (e.g. FUZZ_ARGS="-max_len=4096 -seed=1").
# New corpus entries go to fuzz/corpus/TARGET (ignored by git; the committed seeds are
# fuzz/seeds/TARGET, read only), crashes to fuzz/artifacts/TARGET/, logs to fuzz/target/logs/.
# Exit status: 0 no crash, 1 a target crashed, 2 the build failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(extract rules_parse snapshot canon)
sanitizer=${FUZZ_SANITIZER:-address}
# The ASan build lives in cargo-fuzz's default fuzz/target; another sanitizer gets its own
# folder, so switching back and forth does not rebuild everything each time.
opts=(--sanitizer "$sanitizer")
[ "$sanitizer" = address ] || opts+=(--target-dir "fuzz/target/sanitizer-$sanitizer")

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== cargo install cargo-fuzz"
    cargo install cargo-fuzz --locked || exit 2
fi
# cargo fuzz passes nightly-only flags (-Zsanitizer, -Cpasses=sancov-module, …): on a stable
# toolchain they are allowed by RUSTC_BOOTSTRAP=1. A nightly toolchain does not need it.
export RUSTC_BOOTSTRAP=1

# One build for all targets (or just the one asked for); `cargo fuzz run` would build anyway,
# this only fails early and keeps compiler output out of the run logs.
build=()
[ ${#targets[@]} -eq 1 ] && build=("${targets[0]}")
echo "== cargo fuzz build --sanitizer $sanitizer ${build[*]}"
cargo fuzz build "${opts[@]}" "${build[@]}" || exit 2

mkdir -p fuzz/target/logs
status=0
summary=()
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t"
    log="fuzz/target/logs/$t.log"
    echo "== $t: ${secs}s (log: $log)"
    # shellcheck disable=SC2086 # FUZZ_ARGS is a list of options
    cargo fuzz run "${opts[@]}" "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
        -max_total_time="$secs" -timeout=10 -print_final_stats=1 ${FUZZ_ARGS:-} >"$log" 2>&1
    rc=$?
    last=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1)
    cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
    ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
    corp=$(sed -nE 's/.* corp: ([0-9]+)\/.*/\1/p' <<<"$last")
    runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log" | tail -1)
    eps=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$log" | tail -1)
    if [ "$rc" -eq 0 ]; then
        result="ok"
    else
        status=1
        result="CRASH (exit $rc)"
        grep -E "panicked at|^(ERROR|SUMMARY):|==[0-9]+==ERROR" -A3 "$log" | head -20
        grep -E "Test unit written to" "$log" | sed 's/^/  /'
    fi
    line=$(printf '%-12s %-16s runs %-10s exec/s %-7s cov %-6s ft %-7s corpus %s' \
        "$t" "$result" "${runs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")
    echo "$line"
    summary+=("$line")
done

echo "== summary (${secs}s per target, sanitizer $sanitizer)"
printf '%s\n' "${summary[@]}"
exit "$status"
