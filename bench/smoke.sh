#!/bin/bash
# Smoke mode of the benchmarks: each runs briefly so the harness cannot
# rot.  Figures are printed for the log, never compared (timings are not
# tests: bench/README.md).
. "$TOP_SRCDIR/tests/lib/e2e.sh"
B=$(dirname "$GREYPROXY")
out=$(timeout 120 "$B/bench/rules-bench" --smoke 2>&1); rc=$?
is "$rc" 0 "rules-bench --smoke runs"
printf '%s\n' "$out" | sed 's/^/# /'
like "$out" "1000 rules +compile" "it reports a compile time per size"
like "$out" "warm decision median +[0-9]+ ns" "and decision latencies"
done_testing
