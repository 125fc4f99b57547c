#!/bin/bash
# A terminal that stops reading (a frozen ssh session, a pane held in
# copy mode) never stops the proxy: greyproxy tui's screen writes block
# once the terminal is full, and requests through it are still answered
# at once; its thread sleeps (never spins) meanwhile.  Read again, the
# interface goes on: a held request is allowed from it, and q quits.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

origin_start o; OP=$ORIGIN_PORT
origin_start h; HP=$ORIGIN_PORT
D=$T/frozen
mkdir -p -m 700 "$D"
"$GREYPROXY" rule --data-dir "$D" add allow 127.0.0.1 --port "$OP" >/dev/null
out=$(timeout 120 python3 "$LIB/frozentty.py" "$GREYPROXY" "$D" "$OP" "$HP" 2>&1)
printf '%s\n' "$out" | sed 's/^/# /'
full=$(echo "$out" | awk '/^full/ {print $2}')
check "${full:-0} >= 1024" "the terminal is full: $full bytes unread"
like "$out" "answered 50 of 50 " "every request through the proxy is answered meanwhile"
slow=$(echo "$out" | awk '/^answered/ {print ($5 < 2) ? "yes" : "no"}')
is "$slow" yes "none waits for the terminal (under 2 s each; 5 s when it did)"
like "$(echo "$out" | grep '^sleeping')" "^sleeping [a-z_]+" "the interface's thread sleeps in the write (a kernel wait), it does not spin"
like "$out" "allowed 200" "read again, the interface allows a held request"
like "$out" "exit 0" "and quits on q"
done_testing
