#!/bin/bash
# The Credentials view at 80x24: n adds a global credential with its
# value typed unseen and its destinations suggested for a well-known
# label; greywall's sessions appear with identity, command and labels;
# a refused placeholder is shown highlighted; x deletes; the value is
# never on screen.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

origin_start plain; PP=$ORIGIN_PORT
tui_core
api POST /api/rules -d '{"destination_pattern":"127.0.0.1","action":"allow"}' >/dev/null
SECRET="sk-tui-secret-$(printf '%06d' "$RANDOM")-xyz"	# 24 characters

keys 6
wait_for 5 on_screen "No sessions or credentials"; ok $? "6: Credentials, empty, says how they come"
keys n
wait_for 5 on_screen "Label (e.g. ANTHROPIC_API_KEY):"; ok $? "n: the label first"
keys -l ANTHROPIC_API_KEY
keys Enter
wait_for 5 on_screen "Value (not shown):"; ok $? "then the value"
keys -l "$SECRET"
wait_for 5 on_screen "Value (not shown): \*\*\*\*\*\*\*\*"; ok $? "typed as stars"
not_on_screen "$SECRET"; ok $? "the value is not on screen"
keys Enter
wait_for 5 on_screen "Hosts it may go to (empty: any): api.anthropic.com"; ok $? "its API host suggested"
keys Enter
wait_for 5 on_screen "global  ANTHROPIC_API_KEY"; ok $? "listed"
like "$(screen | grep "ANTHROPIC_API_KEY" | head -1)" "sk-tui\\*\\*\\*xyz +api.anthropic.com" "with its preview and host"
is "$(jget "$(api GET /api/credentials)" 'd[0]["hosts"]')" "['api.anthropic.com']" "stored bound to it"
PH=$(jget "$(api GET /api/credentials)" 'd[0]["placeholder"]')

python3 "$LIB/fakegreywall.py" "$GP_API" register gw-00aa11bb22cc33dd claude \
	--map "greyproxy:credential:v1:gw-00aa11bb22cc33dd:0123456789abcdef0123456789abcdef=v:MY_TOKEN" >/dev/null
wait_for 5 on_screen "session claude"; ok $? "greywall's session appears live"
like "$(screen | grep "session claude")" "claude +MY_TOKEN +1[45]m" "its command, label and time left"
keys g
keys Enter
wait_for 5 on_screen "Substituted only for claude, inside HTTPS, and only to:"; ok $? "Enter on a session: its binding"
on_screen "MY_TOKEN -> any host"; ok $? "each label with where it may go"
keys Escape
wait_for 5 on_screen "↳ MY_TOKEN  *-> any host"; ok $? "under the session, a row per credential"
keys j e
wait_for 5 on_screen "Hosts it may go to (empty: any):"; ok $? "e on it: where it may go"
keys -l "api.example.com"
keys Enter
wait_for 5 eval '[ "$(jget "$(api GET /api/sessions)" "d[0][\"credential_hosts\"]")" = "{'"'"'MY_TOKEN'"'"': ['"'"'api.example.com'"'"']}" ]'; ok $? "stored for that session"
wait_for 5 on_screen "↳ MY_TOKEN  *-> api.example.com"; ok $? "and shown"

curl -s -o /dev/null --max-time 10 -x "http://$GP_HTTP" -H "Authorization: Bearer $PH" "http://127.0.0.1:$PP/hello"
wait_for 5 on_screen "LATEST: substitutions, and REFUSALS"; ok $? "a refusal is shown"
on_screen "ANTHROPIC_API_KEY \+plaintext \+from unknown-127.0.0.1 -> 127.0.0.1"; ok $? "which, why, from whom, where"

# e changes where it may go.
keys G
keys e
wait_for 5 on_screen "Hosts it may go to (empty: any): api.anthropic.com"; ok $? "e: its hosts to edit"
keys C-u
keys -l "127.0.0.1, localhost"
keys Enter
wait_for 5 eval '[ "$(jget "$(api GET /api/credentials)" "d[0][\"hosts\"]")" = "['"'"'127.0.0.1'"'"', '"'"'localhost'"'"']" ]'; ok $? "stored"
wait_for 5 eval 'screen | grep "ANTHROPIC_API_KEY" | grep -q "127.0.0.1, localhost"'; ok $? "and shown"
keys G
keys x
wait_for 5 on_screen "Delete credential ANTHROPIC_API_KEY? (y/n)"; ok $? "x asks"
keys y
wait_for 5 eval '[ "$(jget "$(api GET /api/credentials)" "len(d)")" = 0 ]'; ok $? "y deletes it"
wait_for 5 not_on_screen "global  ANTHROPIC_API_KEY"; ok $? "and it leaves the list"
not_on_screen "$SECRET"; ok $? "the value never reached the screen"
keys q
wait_for 10 test -s "$T/ui.exit"; ok $? "quits"
done_testing
