#!/bin/bash
# Replays every fuzz harness over its seed corpus (tests/fuzz/corpus/):
# a crash, a sanitizer report or a hang in any seed fails the suite.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
B=$(dirname "$GREYPROXY")
for h in http socks5 dns json tls decode ws sse anthropic openai openaiws chat \
	gemini text; do
	dir=$TOP_SRCDIR/tests/fuzz/corpus/$h
	out=$(timeout 60 "$B/tests/fuzz/$h-replay" "$dir" 2>"$T/$h.err"); rc=$?
	seeds=$(ls "$dir" | wc -l)
	is "$rc" 0 "$h harness replays its corpus"
	is "$(printf '%s\n' "$out" | grep -c '^ok ')" "$seeds" "$h: all $seeds seeds ran"
	[ "$rc" -eq 0 ] || head -20 "$T/$h.err" | sed 's/^/# /'
done
done_testing
