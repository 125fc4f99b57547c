#!/bin/bash
# The TUI a careful operator can trust, at 80x24 in tmux: a long host
# keeps its domain and port on screen, quick keys each act on what
# shows, a split escape sequence or a paste decides nothing, marked
# entries are decided at once, ^Z cannot freeze the in-process proxy,
# and quitting answers waiting clients.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

origin_start o
P=$ORIGIN_PORT
GP_DATA=$T/data
GP_SETTINGS='{"pendingTimeout":60}'
mkdir -p -m 700 "$GP_DATA"; printf '%s\n' "$GP_SETTINGS" > "$GP_DATA/settings.json"
tm_start "$GREYPROXY" tui --http 127.0.0.1:0 --socks 127.0.0.1:0 --dns 127.0.0.1:0 \
	--api 127.0.0.1:0 --data-dir "$GP_DATA"
wait_for 10 test -s "$GP_DATA/listen.json"; ok $? "tui runs the core"
GP_HTTP=$(json_get "$GP_DATA/listen.json" http)
GP_API=$(json_get "$GP_DATA/listen.json" api)
wait_for 5 on_screen "1 Pending"; ok $? "drawn"
like "$(screen | tail -1)" "^\? help  q quit " "the key bar starts with ? help and q quit at 80 columns"
bg() {	# bg NAME URL
	( curl -s -o /dev/null -w '%{http_code}' --max-time 50 -x "http://$GP_HTTP" "$2" > "$T/$1" ) &
	PIDS="$PIDS $!"
	eval "$1_pid=$!"
}
npending() { jget "$(curl -s "http://$GP_API/api/pending")" 'd["total"]'; }
waiting_n() { [ "$(jget "$(curl -s "http://$GP_API/api/pending/count")" 'd["waiting"]')" -ge "$1" ]; }

# --- a 90-character host: the right end stays -----------------------------
long="registry.example.org.$(printf 'x%.0s' $(seq 1 40)).mirror-eu-west.attacker.example"
bg long "http://$long:8443/"
wait_for 10 on_screen "attacker.example:8443"; ok $? "a ${#long}-character host shows its domain and port at 80 columns"
like "$(screen | grep 'attacker.example:8443')" "…" "cut on the left, marked"
! screen | grep -q "registry.example.org " ; ok $? "it never reads as registry.example.org"
keys Enter
wait_for 5 on_screen "Details"; ok $? "details open"
like "$(screen | tr -d '\n')" "mirror-eu-west.attacker.exa *│? *│? *mple:8443|attacker.example:8443" "details show the whole host, wrapped"
keys Escape x
wait "$long_pid"

# --- ten quick a presses approve ten entries ------------------------------
for i in $(seq 1 10); do bg q$i "http://q$i.localhost:$P/hello"; done
wait_for 15 waiting_n 10; ok $? "ten requests wait"
wait_for 5 on_screen "q10.localhost"; ok $? "listed"
keys g a a a a a a a a a a
ok=0
for i in $(seq 1 10); do eval "wait \$q${i}_pid"; [ "$(cat "$T/q$i")" = 200 ] && ok=$((ok + 1)); done
is "$ok" 10 "ten quick a presses released ten clients"
is "$(npending)" 0 "nothing left pending"
is "$(jget "$(curl -s "http://$GP_API/api/rules?destination=localhost")" 'd["total"]')" 10 "ten rules, one per entry"

# --- a split arrow sequence decides nothing ---------------------------------
bg s1 "http://split.localhost:$P/hello"
wait_for 10 on_screen "split.localhost"; ok $? "one more waits"
keys Escape
sleep 0.3	# the rest of the sequence arrives late, as on a slow link
keys '[' A
sleep 0.3
not_on_screen "Scope"; ok $? "ESC, then [A later: no menu opens"
is "$(npending)" 1 "and nothing is decided"
# A bracketed paste of command letters decides nothing either.
tm set-buffer "aaaadddd"
tm paste-buffer -p -t ui
sleep 0.3
is "$(npending)" 1 "a pasted 'aaaadddd' decides nothing"
wait_for 5 on_screen "pasted text is not taken as keys"; ok $? "and says so"

# --- marked entries are approved in one action ----------------------------
bg m1 "http://m1.localhost:$P/hello"; bg m2 "http://m2.localhost:$P/hello"
bg m3 "http://m3.localhost:$P/hello"
wait_for 10 waiting_n 4; ok $? "four wait"
wait_for 5 on_screen "m3.localhost"
keys g Space Space Space
wait_for 5 on_screen "3 marked"; ok $? "three marked, counted"
keys a
for i in 1 2 3; do eval "wait \$m${i}_pid"; done
is "$(cat "$T/m1") $(cat "$T/m2") $(cat "$T/m3")" "200 200 200" "one a approved the three marked"
is "$(npending)" 1 "the unmarked one still waits"
wait_for 5 on_screen "allowed 3 marked destinations"; ok $? "one message once all three are answered, not the last host"
# All that match the filter: / then * then a.
bg f1 "http://fa.match.localhost:$P/hello"; bg f2 "http://fb.match.localhost:$P/hello"
wait_for 10 waiting_n 3; ok $? "two more wait"
keys / match.localhost Enter '*'
wait_for 5 on_screen "2 marked"; ok $? "* marks every entry the filter shows"
keys a
wait "$f1_pid"; wait "$f2_pid"
is "$(cat "$T/f1") $(cat "$T/f2")" "200 200" "and one a decides them all"
is "$(npending)" 1 "the one outside the filter still waits"
keys / C-u Enter

# --- settings: Enter explains, numbers typed, limits named ------------------
setting() { jget "$(curl -s "http://$GP_API/api/settings")" "d['$1']"; }
keys 7
wait_for 5 on_screen "Seconds a request waits"; ok $? "settings view"
keys g j Enter		# pendingTimeout
wait_for 5 on_screen "Allowed:  from 1 to 3600"; ok $? "Enter shows the setting's limits"
is "$(setting pendingTimeout)" 60 "and changes nothing"
keys Escape = C-u 9999 Enter
wait_for 5 on_screen "pendingTimeout must be between 1 and 3600"; ok $? "a typed value out of range names the limits"
keys = C-u 45 Enter
wait_for 5 eval '[ "$(setting pendingTimeout)" = 45 ]'; ok $? "a typed number is stored"
keys + + +
wait_for 5 eval '[ "$(setting pendingTimeout)" = 60 ]'; ok $? "+ + + steps three times (45 to 60)"
keys g j j j j j j j j	# dnsTtlMin, 0
wait_for 5 on_screen "dnsTtlMin"
keys -
wait_for 5 on_screen "dnsTtlMin is at its minimum"; ok $? "- at the minimum says so"
is "$(setting dnsTtlMin)" 0 "and never raises the value"
# The one-key scope: a uses decisionScope.
keys g j j Space	# decisionScope: exact -> any_port
wait_for 5 eval '[ "$(setting decisionScope)" = any_port ]'; ok $? "the scope of a is a setting"
keys 1
bg d1 "http://onekey.localhost:$P/hello"
wait_for 10 on_screen "onekey.localhost"; keys g a
wait "$d1_pid"; is "$(cat "$T/d1")" 200 "a released it"
is "$(jget "$(curl -s "http://$GP_API/api/rules?destination=onekey.localhost")" 'd["items"][0]["port_pattern"]')" "*" \
	"with the configured scope (any port)"

# --- help pages at 80x24 ----------------------------------------------------
keys '?'
wait_for 5 on_screen "Help: keys for this view, 1-"; ok $? "help says which part shows"
keys PageDown
wait_for 5 on_screen "Help: keys for this view, [0-9]*-[0-9]* of"; ok $? "and pages"
keys Escape

# --- ^Z cannot freeze the in-process proxy --------------------------------
keys C-z
wait_for 5 on_screen "not suspended"; ok $? "^Z is refused, with why"
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$GP_API/api/health")" 200 "the proxy still answers"

# --- ^C asks like q; quitting answers the waiting client --------------------
keys C-c
wait_for 5 on_screen "Quit and refuse them"; ok $? "^C asks first"
keys y
wait "$s1_pid"; is "$(cat "$T/s1")" 403 "the waiting client gets 403, not an empty reply"
wait_for 10 test -s "$T/ui.exit"; ok $? "the interface quit"

# --- TERM=dumb: one clear line ------------------------------------------------
out=$(TERM=dumb script -qec "$GREYPROXY tui --data-dir $T/d2" /dev/null 2>&1)
like "$out" "cannot move the cursor" "TERM=dumb: a clear error"
done_testing
