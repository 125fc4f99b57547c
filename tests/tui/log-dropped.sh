#!/bin/bash
# Connection-log rows that are dropped (here by the per-identity
# budget) are said on the status bar, at 80 columns, with their count.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

origin_start o; P=$ORIGIN_PORT
GP_DATA=$T/data
mkdir -p -m 700 "$GP_DATA"
printf '%s\n' '{"logBudgetPerMinute":1,"privateNetworkProtection":false}' > "$GP_DATA/settings.json"
"$GREYPROXY" rule --data-dir "$GP_DATA" add allow 127.0.0.1 >/dev/null
tm_start "$GREYPROXY" tui --http 127.0.0.1:0 --socks 127.0.0.1:0 --dns 127.0.0.1:0 \
	--api 127.0.0.1:0 --data-dir "$GP_DATA"
wait_for 10 test -s "$GP_DATA/listen.json"; ok $? "tui runs the core"
GP_HTTP=$(json_get "$GP_DATA/listen.json" http)
wait_for 5 on_screen "1 Pending"; ok $? "drawn"
not_on_screen "log dropped"; ok $? "nothing dropped: nothing said"
for i in 1 2 3; do
	curl -s -o /dev/null --max-time 5 -x "http://$GP_HTTP" "http://127.0.0.1:$P/hello?$i"
done
wait_for 10 on_screen "log dropped 2 |"; ok $? "a budget of 1 row: the 2 rows over it are counted on the status bar"
like "$(screen | tail -2 | head -1)" "pending 0/0 \| log dropped 2 \|" "beside the pending counts"
keys q
wait_for 10 test -s "$T/ui.exit"; ok $? "quits"
done_testing
