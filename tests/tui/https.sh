#!/bin/bash
# The status bar says whether HTTPS is seen, at 80 columns, and when it
# is not, the command that changes that: no CA, then a CA generated from
# another terminal (the running core loads it), then mitmEnabled off.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

tui_core
bar() { screen | tail -2 | head -1; }
wait_for 5 eval 'bar | grep -q "no CA: greyproxy cert generate"'
ok $? "no CA: the status bar gives the command"
"$GREYPROXY" cert generate --data-dir "$GP_DATA" >/dev/null
wait_for 5 eval 'bar | grep -q "https: seen"'
ok $? "a CA generated outside: the running TUI sees HTTPS now"
unlike "$(bar)" "no CA" "and no longer asks for one"
api PUT /api/settings -d '{"mitmEnabled":false}' >/dev/null
wait_for 5 eval 'bar | grep -q "https: tunnelled (mitmEnabled off)"'
ok $? "mitmEnabled off: said, with the setting"
keys q
wait_for 10 test -s "$T/ui.exit"; ok $? "quits"
done_testing
