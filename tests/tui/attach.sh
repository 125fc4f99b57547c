#!/bin/bash
# serve --daemon on its own, then the terminal interface attaches to it
# over the API (auto-detected and with --attach): approve, lose the
# daemon, see it say so, quit without touching the daemon's connections.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

restart_ui() {	# restart_ui COMMAND...: the session "ui" anew
	rm -f "$T/ui.exit"
	tm kill-session -t ui
	tm_start "$@"
}
quit_leaves() {	# quit_leaves PID WHAT: q quits at once, PID lives on
	keys q
	wait_for 10 test -s "$T/ui.exit"; ok $? "q quits the $2 at once"
	kill -0 "$1"; ok $? "the daemon keeps running"
}

origin_start o
P=$ORIGIN_PORT
GP_DATA=$T/daemon
out=$("$GREYPROXY" serve --daemon --http 127.0.0.1:0 --socks 127.0.0.1:0 --dns 127.0.0.1:0 \
	--api 127.0.0.1:0 --data-dir "$GP_DATA")
ok $? "serve --daemon returns once listening"
like "$out" "serving in the background \(pid [0-9]+\)" "says where it went"
DPID=$(cat "$GP_DATA/greyproxy.pid")
PIDS="$PIDS $DPID"
is "$(stat -c %a "$GP_DATA/greyproxy.pid")" 600 "pidfile is 0600"
is "$(json_get "$GP_DATA/listen.json" pid)" "$DPID" "pidfile and listen.json agree"
"$GREYPROXY" serve --daemon --data-dir "$GP_DATA" 2>/dev/null
is $? 1 "a second daemon on the same data dir is refused"
GP_HTTP=$(json_get "$GP_DATA/listen.json" http)
GP_API=$(json_get "$GP_DATA/listen.json" api)

# Auto-detect: the TUI is given the daemon's --api address.
tm_start "$GREYPROXY" tui --api "$GP_API" --data-dir "$T/tui"
wait_for 20 on_screen "attached :${GP_API##*:}\( \|$\)"; ok $? "tui attaches to the running daemon"
test ! -e "$T/tui/listen.json"; ok $? "and starts no second core"

( curl -s -o /dev/null -w '%{http_code}' --max-time 30 -x "http://$GP_HTTP" \
	"http://127.0.0.1:$P/hello" > "$T/c1" ) &
c1=$!; PIDS="$PIDS $c1"
wait_for 10 on_screen "127.0.0.1:$P"; ok $? "the daemon's pending request shows"
keys a
wait "$c1"; is "$(cat "$T/c1")" 200 "a in the attached tui releases it"
r=$(curl -s "http://$GP_API/api/rules?destination=127.0.0.1")
is "$(jget "$r" 'd["total"]')" 1 "the daemon stored the rule"
keys 3
wait_for 5 on_screen "allowed HTTP"; ok $? "activity comes over the WebSocket"
quit_leaves "$DPID" "attached tui"

# One greyproxy per data directory: tui on the daemon's data directory
# attaches to it whatever --api says; a second core there is refused.
restart_ui "$GREYPROXY" tui --api 127.0.0.1:1 --data-dir "$GP_DATA"
wait_for 20 on_screen "attached :${GP_API##*:}\( \|$\)"; r=$?; ok $r "tui on the daemon's data dir attaches to it, not to --api"
[ $r -eq 0 ] || screen | sed "s/^/# /"
keys q
wait_for 10 test -s "$T/ui.exit"; ok $? "and quits"
out=$("$GREYPROXY" serve --http 127.0.0.1:0 --socks 127.0.0.1:0 --dns 127.0.0.1:0 \
	--api 127.0.0.1:0 --data-dir "$GP_DATA" 2>&1); rc=$?
is "$rc" 1 "serve on a data directory in use: refused"
like "$out" "in use by another greyproxy \(pid $DPID\)" "naming the instance that holds it"
restart_ui "$GREYPROXY" tui --standalone --http 127.0.0.1:0 --socks 127.0.0.1:0 \
	--dns 127.0.0.1:0 --api 127.0.0.1:0 --data-dir "$GP_DATA"
wait_for 10 test -s "$T/ui.exit"; ok $? "tui --standalone there exits"
like "$(screen | tr -d "\n")" "in use by another greyproxy" "saying why"
kill -0 "$DPID"; ok $? "the daemon is untouched"

# --attach URL, then the daemon goes away.
restart_ui "$GREYPROXY" tui --attach "http://$GP_API/" --data-dir "$T/tui"
wait_for 20 on_screen "attached :${GP_API##*:}\( \|$\)"; ok $? "--attach URL"
kill "$DPID"
wait_for 10 on_screen "NOT CONNECTED to $GP_API"; ok $? "losing the daemon is shown"
like "$(screen)" "NOT CONNECTED to [^ ]*, retrying: nothing shown is current" "unmistakably"
keys q
wait_for 10 test -s "$T/ui.exit"; ok $? "quits after the loss"
test ! -e "$GP_DATA/greyproxy.pid"; ok $? "daemon removed its pidfile"
err=$("$GREYPROXY" tui --attach x --standalone 2>&1 </dev/null)
is $? 2 "--attach with --standalone: usage error"
err=$("$GREYPROXY" serve --attach x 2>&1)
is $? 2 "--attach is not a serve option"
err=$(echo | "$GREYPROXY" tui --data-dir "$T/x" 2>&1)
like "$err" "needs a terminal" "tui without a terminal says so"

# tui --daemon: the same command line as serve --daemon, with the
# interface: it starts the daemon, attaches, and leaves it running.
D2=$T/d2
restart_ui "$GREYPROXY" tui --daemon --http 127.0.0.1:0 --socks 127.0.0.1:0 \
	--dns 127.0.0.1:0 --api 127.0.0.1:0 --data-dir "$D2"
wait_for 20 test -s "$D2/greyproxy.pid"; ok $? "tui --daemon starts a daemon"
D2PID=$(cat "$D2/greyproxy.pid")
PIDS="$PIDS $D2PID"
is "$(json_get "$D2/listen.json" pid)" "$D2PID" "which serves the data directory"
D2API=$(json_get "$D2/listen.json" api)
wait_for 20 on_screen "attached :${D2API##*:}\( \|$\)"; ok $? "and the interface attaches to it"
quit_leaves "$D2PID" interface
restart_ui "$GREYPROXY" tui --daemon --http 127.0.0.1:0 --socks 127.0.0.1:0 \
	--dns 127.0.0.1:0 --api 127.0.0.1:0 --data-dir "$D2"
wait_for 20 on_screen "attached :${D2API##*:}\( \|$\)"; ok $? "tui --daemon again attaches to it"
is "$(cat "$D2/greyproxy.pid")" "$D2PID" "and starts no other"
keys q
wait_for 10 test -s "$T/ui.exit"
kill "$D2PID"
err=$("$GREYPROXY" tui --daemon --standalone 2>&1 </dev/null)
is $? 2 "--daemon with --standalone: usage error"
like "$err" "exclude each other" "saying so"
done_testing
