#!/usr/bin/env bash
# Builds the libFuzzer harnesses and runs each for a while from the committed seed corpus.
#
#   Fuzz/run.sh [SECONDS] [TARGET...]     default: 60 seconds for each of every target
#   RUNS=1000000 Fuzz/run.sh 0 FuzzImage  a fixed number of executions instead of a time
#
# New inputs found are kept in Fuzz/.build/corpus/<target> (not committed) and reused by the
# next run; a crash leaves its input in Fuzz/.build/crashes/<target>/ and fails the script.
# Replay one input: Fuzz/.build/release/<target> <file>.
set -euo pipefail
cd "$(dirname "$0")"

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzSafeTensors FuzzImage FuzzDataURL FuzzExif FuzzRequest FuzzModality FuzzSchedulerConfig FuzzPickle)

# -parse-as-library: libFuzzer's driver is the entry point (Targets/FuzzDriver); -enable-testing:
# the harnesses reach internal parsers; lld: gold fails on these sanitized objects.
swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
    -Xswiftc -enable-testing -Xswiftc -use-ld=lld 2>&1 | grep -v "Cannot export local symbol" >&2

status=0
for target in "${targets[@]}"; do
    corpus=.build/corpus/$target crashes=.build/crashes/$target
    mkdir -p "$corpus" "$crashes"
    limit=(-max_total_time="$seconds")
    [ -z "${RUNS:-}" ] || limit=(-runs="$RUNS")
    # Leak checking is off: LeakSanitizer reports Swift's lazily built globals as leaks; a real
    # per-input leak still fails the run through -rss_limit_mb.
    # Images need room for a whole file; the rest stay at libFuzzer's default growth.
    maxLength=()
    [[ $target == FuzzImage || $target == FuzzDataURL ]] && maxLength=(-max_len=16384)
    echo "== $target" >&2
    if SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 .build/release/"$target" "${limit[@]}" "${maxLength[@]}" -rss_limit_mb=4096 \
        -timeout=30 -detect_leaks=0 -print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" "Corpus/$target" \
        2> ".build/$target.log"; then
        grep -E "^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)" ".build/$target.log" >&2
    else
        grep -E "^==[0-9]+==ERROR|^SUMMARY|^Fatal error|^artifact_prefix|Test unit written" ".build/$target.log" >&2
        echo "$target: CRASH (log: Fuzz/.build/$target.log, input in Fuzz/$crashes/)" >&2
        status=1
    fi
done
exit $status
