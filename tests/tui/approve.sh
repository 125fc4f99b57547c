#!/bin/bash
# The terminal interface in tmux, proxy core in the same process: a
# waiting request shows in Pending, a approves, d denies, A opens the
# scope menu, rules are added from the Rules view, settings change,
# help shows, resizing keeps it alive, quitting asks while connections
# wait.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

origin_start o
P=$ORIGIN_PORT
GP_DATA=$T/data
tm_start "$GREYPROXY" tui --http 127.0.0.1:0 --socks 127.0.0.1:0 --dns 127.0.0.1:0 \
	--api 127.0.0.1:0 --data-dir "$GP_DATA"
wait_for 10 test -s "$GP_DATA/listen.json"; ok $? "tui runs the core and writes listen.json"
GP_HTTP=$(json_get "$GP_DATA/listen.json" http)
GP_API=$(json_get "$GP_DATA/listen.json" api)
wait_for 5 on_screen "1 Pending"; ok $? "tab bar drawn"
wait_for 5 on_screen "local"; ok $? "status bar says local"

bg() {	# bg NAME URL: curl through the proxy in the background
	( curl -s -o /dev/null -w '%{http_code}' --max-time 30 -x "http://$GP_HTTP" "$2" > "$T/$1" ) &
	PIDS="$PIDS $!"
	eval "$1_pid=$!"
}

# Approve with a.
bg c1 "http://127.0.0.1:$P/hello"
wait_for 10 on_screen "127.0.0.1:$P"; ok $? "waiting request appears in Pending"
like "$(screen | grep "127.0.0.1:$P")" "LAN" "local destination flagged"
keys a
wait "$c1_pid"; is "$(cat "$T/c1")" 200 "a: curl gets the origin's 200"
wait_for 5 on_screen "allowed 127.0.0.1:$P"; ok $? "a: confirmation on the last line"
keys 2
wait_for 5 on_screen "allow 127.0.0.1 .*$P"; ok $? "the rule is in the Rules view"

# Deny with d.
keys 1
bg c2 "http://deny.localhost:$P/"
wait_for 10 on_screen "deny.localhost:$P"; ok $? "second request appears"
keys d
wait "$c2_pid"; is "$(cat "$T/c2")" 403 "d: curl gets 403"

# New entries arriving above the selected one are counted, each; the
# reader stays on the entry it was on, and a dismissal clears the list.
bg n1 "http://first.localhost:$P/"
wait_for 10 on_screen "first.localhost:$P"
bg n2 "http://second.localhost:$P/"
wait_for 10 on_screen "second.localhost:$P"
bg n3 "http://third.localhost:$P/"
wait_for 10 on_screen "third.localhost:$P"
wait_for 5 on_screen "\^ 2 new above"; ok $? "two new entries above the selected one"
keys x
wait "$n1_pid"; is "$(cat "$T/n1")" 403 "x dismissed the selected (first) entry"
# The selection moved up to the second: one new entry is above it now.
wait_for 5 on_screen "\^ 1 new above"; ok $? "the count follows what is still above"
keys g
wait_for 5 eval '! on_screen "new above"'; ok $? "at the top, none is new above"
keys x x
wait "$n2_pid" "$n3_pid"; is "$(cat "$T/n2") $(cat "$T/n3")" "403 403" "and the others"

# A: the scope menu shows what each choice would store.
bg c3 "http://api.scope.localhost:$P/hello"
wait_for 10 on_screen "api.scope.localhost:$P"
keys A
wait_for 5 on_screen "Allow api.scope.localhost:$P"; ok $? "A opens one decision dialog, titled with the action and destination"
like "$(screen)" "scope.localhost:\*" "it previews the rule of each scope"
like "$(screen)" "Duration: .*permanent" "and chooses the duration on the same screen"
like "$(screen)" "The agent waits [0-9]+s more" "and says how long the agent keeps waiting"
keys Right Left
keys 2
wait "$c3_pid"; is "$(cat "$T/c3")" 200 "scoped allow releases the request"
r=$(curl -s "http://$GP_API/api/rules?destination=api.scope.localhost")
is "$(jget "$r" 'd["items"][0]["port_pattern"]')" "*" "any-port scope stored"

# Details and help.
bg c4 "http://detail.localhost:$P/"
wait_for 10 on_screen "detail.localhost:$P"
keys Enter
wait_for 5 on_screen "Details"; ok $? "Enter shows details"
like "$(screen)" "Local network: yes" "details of the pending entry"
like "$(screen)" "Request: +GET http://detail.localhost:$P/" "details show the first request line"
like "$(screen)" "Protocol: +HTTP" "and the protocol"
like "$(screen)" "Addresses: +127.0.0.1, ::1" "and the addresses known so far"
# The details update live: a second connection to it shows up.
( curl -s -o /dev/null --max-time 30 -x "http://$GP_HTTP" "http://detail.localhost:$P/" ) &
PIDS="$PIDS $!"
wait_for 10 on_screen "Waiting now:  *2 connections"; ok $? "details update live"
# And their keys act on the entry they show.
keys x
wait "$c4_pid"; is "$(cat "$T/c4")" 403 "x in the details dismisses it: 403"
keys '?'
wait_for 5 on_screen "Help: keys for this view"; ok $? "? shows help"
like "$(screen)" "allow the selected destination" "help lists the view's keys"
keys Escape
wait_for 5 not_on_screen "Help: keys"; ok $? "Esc closes help"

# The rule prompt never changes what a rule means silently.
keys 2 n
wait_for 5 on_screen "New rule"
keys " one.example 443 src extra" Enter
wait_for 5 on_screen "too many words"; ok $? "extra words: an error"
like "$(screen)" "one.example 443 src extra" "and the typed text is kept for correction"
keys C-u "allow *" Enter
wait_for 5 on_screen "allows every destination for every source"; ok $? "a pattern matching everything asks first"
keys n
wait_for 5 on_screen "allow \*"; ok $? "no: the text comes back"
is "$(jget "$(curl -s "http://$GP_API/api/rules?destination=*")" 'len([r for r in d["items"] if r["destination_pattern"]=="*"])')" 0 "and nothing was stored"
keys Escape
python3 -c 'print("a" * 600, end="")' > "$T/long"
keys n C-u "allow $(cat "$T/long")" Enter
wait_for 5 on_screen "rule too long"; ok $? "input too long: an error, not a cut rule"
keys Escape 1

# Rules: add from a prompt, filter, delete with confirmation.
keys 2 n
wait_for 5 on_screen "New rule"; ok $? "n opens the rule prompt"
keys " new.example 443" Enter
wait_for 5 on_screen "new.example"; ok $? "rule added from the prompt"
r=$(curl -s "http://$GP_API/api/rules?destination=new.example")
is "$(jget "$r" 'd["items"][0]["port_pattern"] + " " + d["items"][0]["created_by"]')" "443 tui" "stored with its port"
keys / "new.ex" Enter
wait_for 5 not_on_screen "api.scope"; ok $? "filter hides other rules"
keys x
wait_for 5 on_screen "Delete rule"; ok $? "x asks before deleting"
keys y
wait_for 5 not_on_screen "  new.example"; ok $? "rule deleted after y"
is "$(jget "$(curl -s "http://$GP_API/api/rules?destination=new.example")" 'd["total"]')" 0 "gone from the API"

# A client that gives up while its destination waits for a decision.
curl -s -o /dev/null --max-time 1 -x "http://$GP_HTTP" "http://gone.localhost:$P/"

# Activity view lists decisions.
keys 3
wait_for 5 on_screen "allowed HTTP"; ok $? "activity shows allowed requests"
like "$(screen)" "blocked HTTP" "and blocked ones"
like "$(screen | grep "blocked HTTP.*deny.localhost")" " denylist *$" "why, whole at 80 columns (blocked-by- left to RESULT)"
# The destinations on screen are short: the reason gets their room, and
# one still too long says it is cut.
wait_for 5 on_screen "gone.localhost"; ok $? "a client that left while pending is listed"
row=$(screen | grep "gone.localhost:$P")
like "$row" "gone.localhost:$P +left-while-" "the reason gets the room short destinations leave (8 columns before)"
like "$row" "(left-while-pending|…) *$" "a reason is whole or ends in …"
# A client reaching for greyproxy's own API is shown as an attack.
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -x "http://$GP_HTTP" "http://127.0.0.1:${GP_API##*:}/api/rules")" 403 \
	"the API through the proxy: 403"
wait_for 5 on_screen "ATTACK  *HTTP"; ok $? "activity marks it ATTACK"
like "$(screen | grep ATTACK)" "127.0.0.1:${GP_API##*:} *tried" "with the destination, and says what it was"

# Settings: Space cycles defaultAction.
keys 7
wait_for 5 on_screen "When no rule matches"; ok $? "settings view"
like "$(screen)" "DNS cache: [0-9]+ answers" "DNS cache size and hit rate shown"
keys g Space
wait_for 5 test "$(jget "$(curl -s "http://$GP_API/api/settings")" 'd["defaultAction"]')" = block 2>/dev/null
s=$(curl -s "http://$GP_API/api/settings")
is "$(jget "$s" 'd["defaultAction"]')" block "Space changes the setting at once"
is "$(jget "$(cat "$GP_DATA/settings.json")" 'd["defaultAction"]')" block "and it persists"
keys Space
keys 1

# Resize to 60x20 and back.
tm resize-window -t ui -x 60 -y 20
wait_for 5 on_screen "1 Pending"; ok $? "redrawn at 60x20"
is "$(screen | awk '{ if (length($0) > m) m = length($0) } END { print m <= 60 }')" 1 "nothing drawn past 60 columns"
tm resize-window -t ui -x 80 -y 24
wait_for 5 on_screen "Settings"; ok $? "redrawn at 80x24"
kill -0 "$(json_get "$GP_DATA/listen.json" pid)"; ok $? "alive after resizing"

# Quit asks first while a connection waits.
bg c5 "http://wait.localhost:$P/"
wait_for 10 on_screen "wait.localhost:$P"
keys q
wait_for 5 on_screen "waiting for a decision"; ok $? "q asks while connections wait"
keys n
wait_for 5 not_on_screen "waiting for a decision"; ok $? "n keeps running"
keys q y
wait_for 10 test -s "$T/ui.exit"; ok $? "y quits"
is "$(cat "$T/ui.exit")" "EXITED 0" "clean exit status"
wait "$c5_pid"; like "$(cat "$T/c5")" "^(000|403)$" "the waiting request is refused on quit"
test ! -e "$GP_DATA/listen.json"; ok $? "listen.json removed on exit"
done_testing
