#!/bin/bash
# NO_COLOR: the interface draws with attributes only (no colour escape
# sequences); with colours, the tab bar uses them.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

run() {	# run ENV...: start the tui, return its screen with escapes
	tm kill-session -t ui 2>/dev/null
	tm_start TERM=xterm-256color "$@" "$GREYPROXY" tui --standalone --http 127.0.0.1:0 \
		--socks 127.0.0.1:0 --dns 127.0.0.1:0 --api 127.0.0.1:0 --data-dir "$T/data"
	wait_for 10 on_screen "1 Pending" || return 1
	tm capture-pane -e -p -t ui
}
colour='\[([0-9;]*;)?(3[0-7]|4[0-7]|38;5|48;5)[;m]'
out=$(run NO_COLOR=1); ok $? "starts with NO_COLOR"
printf '%s' "$out" | grep -Eq "$colour"; is $? 1 "NO_COLOR: no colour sequences"
printf '%s' "$out" | grep -Eq '\[([0-9;]*;)?7[;m]'; is $? 0 "NO_COLOR: reverse video marks the bars"
keys q
# The next instance needs the data directory: wait until this one has
# let it go (its log writer's last batch, then exit).
wait_for 10 flock -n "$T/data/greyproxy.lock" true
ok $? "the first instance ends and frees the data directory"
out=$(run); ok $? "starts with colours"
# (The first frame may be captured while it is still being written.)
wait_for 5 eval 'tm capture-pane -e -p -t ui | grep -Eq "$colour"'
st=$?
is $st 0 "colours used when allowed"
[ $st -eq 0 ] || { diag "the screen, with its escapes:"
	tm capture-pane -e -p -t ui | cat -v | sed 's/^/# /'; }
keys q
done_testing
