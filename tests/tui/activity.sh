#!/bin/bash
# Activity at 80x24: a tunnel is listed from its opening, and its
# details follow the row: they show its bytes when it closes, without
# being opened again.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

origin_start o; P=$ORIGIN_PORT
tui_core
GP_SOCKS=$(json_get "$GP_DATA/listen.json" socks5)
api POST /api/rules -d '{"destination_pattern":"127.0.0.1","action":"allow"}' >/dev/null
keys 3
wait_for 5 on_screen "No connections yet"; ok $? "3: Activity, empty"

python3 "$LIB/hold.py" socks holder "$GP_HTTP" "$GP_SOCKS" "$P" "$T/go" > "$T/hold.out" 2>&1 &
HP=$!; PIDS="$PIDS $HP"
wait_for 10 grep -q open "$T/hold.out"; ok $? "a SOCKS5 tunnel is open"
wait_for 5 on_screen "allowed SOCKS5 holder"; ok $? "listed while it is open"
keys Enter
wait_for 5 on_screen "Bytes: *open: its bytes and duration come when it closes"; ok $? "its details: open, bytes to come"
keys Escape / h o l d e r Enter Enter
wait_for 5 on_screen "holder: 1 of 1"; ok $? "a filter fetches the rows again"
wait_for 5 on_screen "Bytes: *open: its bytes and duration come when it closes"; ok $? "the fetched row is open too"
like "$(screen)" "Rule: *rule #[0-9]+" "and the rule that let it through, by id"
touch "$T/go"
wait "$HP"; is $? 0 "a request through it, then closed"
wait_for 5 on_screen "Bytes: *[1-9][0-9]* up, [1-9][0-9]* down in [0-9][0-9]* ms"; ok $? "the open details show its bytes and duration once it closed"
like "$(screen)" "Request: *CONNECT 127.0.0.1:$P" "still the same row"
keys Escape
wait_for 5 not_on_screen "Details"; ok $? "Esc closes them"
keys q
wait_for 10 test -s "$T/ui.exit"; ok $? "quits"
done_testing
