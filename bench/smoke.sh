#!/bin/bash
# Smoke mode of the benchmarks: each runs briefly so the harness cannot
# rot.  Figures are printed for the log, never compared (timings are not
# tests: bench/README.md); what is checked is that every measure ran and
# produced a figure.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
B=$(dirname "$GREYPROXY")
out=$(timeout 120 "$B/bench/rules-bench" --smoke 2>&1); rc=$?
is "$rc" 0 "rules-bench --smoke runs"
printf '%s\n' "$out" | sed 's/^/# /'
like "$out" "1000 rules +compile" "it reports a compile time per size"
like "$out" "warm decision median +[0-9]+ ns" "and decision latencies"

out=$(GREYPROXY_BUILD=$B timeout 300 bash "$TOP_SRCDIR/bench/run.sh" --smoke --out "$T/results.txt" 2>&1); rc=$?
is "$rc" 0 "bench/run.sh --smoke runs"
printf '%s\n' "$out" | sed 's/^/# /'
like "$(cat "$T/results.txt")" "forward HTTP, 5 connections" "the results file holds the table"
num='[0-9]+'
like "$out" "greyproxy@1000: 1001 rules, ingested" "a large rule set through the API"
like "$out" "start-up: $num ms" "start-up with it"
like "$out" "200 greyproxy/socks +$num +[0-9.]+" "idle tunnels over SOCKS5"
like "$out" "200 greyproxy/connect +$num +[0-9.]+" "and over CONNECT"
like "$out" "direct +$num +[0-9.]+" "forward HTTP: direct"
like "$out" "greyproxy +$num +[0-9.]+ +[0-9.]+x of direct" "greyproxy, with its ratio"
like "$out" "greyproxy@1000 +$num +[0-9.]+ +[0-9.]+x of gp" "and at 1000 rules"
like "$out" "greyproxy tui +$num +[0-9.]+ +[0-9.]+x of headless" "and with its terminal interface in the same loop"
like "$out" "loop \\(log on, last round\\): $num iterations, $num over 1 ms" "the loop's stalls under load"
like "$out" "CONNECT greyproxy +$num" "bulk through CONNECT"
like "$out" "SOCKS5 greyproxy +$num" "bulk through SOCKS5"
like "$out" "CONNECT greyproxy read +$num" "and with the HTTP inside read"
like "$out" "SOCKS5 greyproxy read +$num" "through SOCKS5 too"
like "$out" "SOCKS5 setups" "setups over SOCKS5"
unlike "$out" "errors\\)" "no load errors"
like "$out" "ms: [0-9.]+ [0-9.]+" "approval latency"
like "$out" "200 waiting; loop: longest iteration [0-9.]+ ms" "a burst of new destinations, held, and the loop's longest turn"
like "$out" "bulk-allow of the 200 entries: answered in [0-9.]+ ms" "then allowed by one call"
like "$out" "rule add: median [0-9.]+ ms, max [0-9.]+ ms; loop meanwhile: $num iterations over 10 ms" "rule changes under load"
like "$out" "load: requests $num rate $num" "with the load's figures"
like "$out" "warm decision median" "rule decisions"
like "$out" "fresh TLS handshake \+ GET" "interception: handshakes"
like "$out" "keep-alive GETs \(4 clients\)" "interception: keep-alive"
like "$(echo "$out" | grep -A2 'fresh TLS handshake')" "greyproxy +$num +[0-9.]+ +[0-9.]+" "with a figure for greyproxy"
like "$out" "added first-byte latency of an intercepted request \(median, keep-alive\): -?[0-9.]+ ms" "the latency interception adds"
like "$out" "intercepted bulk" "interception: bulk"
done_testing
