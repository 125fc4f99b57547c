#!/bin/bash
# The Traffic view at 80x24: without a CA it says what interception gives
# and the two steps, and c creates the CA; transactions arrive live
# (plain and intercepted), / filters as you type, Enter shows both heads
# and bodies (JSON pretty-printed, long lines wrapped, scrollable,
# credentials redacted).
. "$TOP_SRCDIR/tests/lib/e2e.sh"

make_cert
origin_start plain; PP=$ORIGIN_PORT
origin_start tls --tls "$T/cert.pem" "$T/key.pem"; OP=$ORIGIN_PORT
GP_DATA=$T/data
mkdir -p -m 700 "$GP_DATA"
printf '{"defaultAction":"pending","privateNetworkProtection":false}\n' > "$GP_DATA/settings.json"
tm_start SSL_CERT_FILE="$T/cert.pem" "$GREYPROXY" tui --http 127.0.0.1:0 --socks 127.0.0.1:0 \
	--dns 127.0.0.1:0 --api 127.0.0.1:0 --data-dir "$GP_DATA"
wait_for 10 test -s "$GP_DATA/listen.json"; ok $? "tui runs the core"
GP_API=$(json_get "$GP_DATA/listen.json" api)
GP_HTTP=$(json_get "$GP_DATA/listen.json" http)
for d in 127.0.0.1 localhost ; do
	api POST /api/rules -d "{\"destination_pattern\":\"$d\",\"action\":\"allow\"}" >/dev/null
done

keys 4
wait_for 5 on_screen "greyproxy has no CA yet"; ok $? "4: Traffic, without a CA: said"
on_screen "1. Create it: press c"; ok $? "step one, with its key"
on_screen "2. Trust it: greyproxy cert install"; ok $? "step two"
on_screen "NODE_EXTRA_CA_CERTS=$GP_DATA/ca-cert.pem"; ok $? "the per-tool variable, with the file"
like "$(screen | tail -1)" "c create CA" "the key bar offers c"

# Plain HTTP is stored without a CA: it shows at once.
curl -s -o /dev/null --max-time 10 -x "http://$GP_HTTP" -H 'Authorization: Bearer tui-secret' "http://127.0.0.1:$PP/hello"
wait_for 5 on_screen "GET \+127.0.0.1:$PP"; ok $? "a plain request appears live"
like "$(screen | grep "127.0.0.1:$PP")" "/hello +200" "with its path and status"
hdr=$(screen | grep "^TIME"); row=$(screen | grep "127.0.0.1:$PP" | head -1)
is "$(col "$row" "GET") $(col "$row" "127.0.0.1") $(col "$row" "/hello") $(col "$row" " 200")" \
	"$(col "$hdr" "METHOD") $(col "$hdr" "DESTINATION") $(col "$hdr" "PATH") $(col "$hdr" " ST ")" "the columns sit under their headings"

keys c
wait_for 15 eval 'screen | tail -2 | head -1 | grep -q "https: seen"'; ok $? "c created the CA: the status bar says HTTPS is seen"
wait_for 5 not_on_screen "has no CA yet"; ok $? "the explanation goes"
# (Its message lasts 4 s; then the key bar is back, without c.)
wait_for 10 eval 'screen | tail -1 | grep -q "Enter details"'
unlike "$(screen | tail -1)" "create CA" "and so does c from the key bar"
test -s "$GP_DATA/ca-cert.pem"; ok $? "ca-cert.pem written"

for i in 1 2 3; do
	curl -s -o /dev/null --max-time 10 -p -x "http://$GP_HTTP" --cacert "$GP_DATA/ca-cert.pem" \
		--data-binary '{"model":"m","messages":[{"role":"user","content":"question '$i'"}]}' \
		-H 'Content-Type: application/json' "https://localhost:$OP/echo"
done
wait_for 5 eval '[ "$(screen | grep -c "localhost:$OP")" -ge 3 ]'; ok $? "intercepted requests appear live"
like "$(screen | grep "localhost:$OP" | head -1)" "POST +localhost:$OP +/echo +200" "POST, destination, path, status"

# Filter as you type.
keys /
keys -l "echo"
wait_for 5 eval 'screen | grep -q "/echo: 3 of"'; ok $? "/ filters as it is typed"
not_on_screen "/hello"; ok $? "the rest hidden"
keys Enter
keys Escape
wait_for 5 eval 'screen | grep -q "/echo: 3 of"'; ok $? "kept after the prompt closes"

# Details: heads and bodies, JSON pretty-printed.
keys Enter
wait_for 5 on_screen "Request headers"; ok $? "Enter: details"
on_screen "POST https://localhost:$OP/echo"; ok $? "the request line"
on_screen '"role":'; ok $? "the JSON body pretty-printed (one member a line)"
on_screen "inside intercepted TLS"; ok $? "says it was read inside TLS"
keys PageDown
wait_for 5 on_screen "Response body"; ok $? "scrolls to the response"
keys End
wait_for 5 eval 'screen | grep -Eq "Details, [0-9]+-([0-9]+) of \1 "'; ok $? "End: the last lines, the title says which"
keys j j
like "$(screen | grep -Eo "Details, [0-9]+-[0-9]+ of [0-9]+")" "Details, [0-9]+-([0-9]+) of \1$" "never scrolled past the end"
keys g
wait_for 5 on_screen "Details, 1-"; ok $? "g: back to the first line"
keys Escape
keys /
keys C-u Enter
keys Escape
wait_for 5 on_screen "/hello"; ok $? "filter cleared"
keys G
keys Enter
wait_for 5 on_screen "Authorization: \[REDACTED\]"; ok $? "the oldest (plain) one: Authorization redacted"
not_on_screen "tui-secret"; ok $? "the secret never on screen"
keys Escape
# Settings: the interception bypass list and the capture settings are
# edited from the keyboard.
keys 7
wait_for 5 on_screen "When no rule matches"
keys G
wait_for 5 on_screen "LLM endpoint: add a rule"
# above the endpoint rules, their suggestions and the row adding one
n=$(jget "$(api GET '/api/endpoint-rules?all=1')" 'len(d["rules"]) + len(d["suggestions"]) + 1')
for i in $(seq "$n"); do keys k; done
wait_for 5 eval 'screen | grep "Transactions: more headers redacted" | grep -q "redactedHeaders"'
ok $? "7, G: the end of the settings, scrolled to"
on_screen "Conversations: assemble LLM traffic"; ok $? "conversationsEnabled is a setting"
on_screen "Interception: hosts left unread"; ok $? "the bypass list is a setting"
on_screen "Transactions: which are stored"; ok $? "and which transactions are stored"
not_on_screen "When no rule matches"; ok $? "the first ones scrolled away (more settings than rows)"
like "$(screen | tail -3 | head -1)" "DNS cache:" "the footer stays inside the view"
keys k k k k k k
keys =
wait_for 5 on_screen "Comma-separated:"; ok $? "= on a list: a prompt"
keys -l "*.bank.example, pinned.test"
keys Enter
wait_for 5 eval '[ "$(jget "$(api GET /api/settings)" "d[\"mitmBypass\"]")" = "['"'"'*.bank.example'"'"', '"'"'pinned.test'"'"']" ]'
ok $? "mitmBypass set from the TUI"
wait_for 5 eval 'screen | grep "hosts left unread" | grep -q "\*.bank.example, pinned"'; ok $? "and shown"
keys Space
wait_for 5 on_screen "Comma-separated: \*.bank.example, pinned.test"; ok $? "Space too, with the current list to edit"
keys C-u Enter
wait_for 5 eval '[ "$(jget "$(api GET /api/settings)" "d[\"mitmBypass\"]")" = "[]" ]'; ok $? "emptied"
keys j
keys Space
wait_for 5 eval '[ "$(jget "$(api GET /api/settings)" "d[\"captureTransactions\"]")" = intercepted ]'; ok $? "captureTransactions cycled by Space"
keys q
wait_for 10 test -s "$T/ui.exit"; ok $? "quits"
done_testing
