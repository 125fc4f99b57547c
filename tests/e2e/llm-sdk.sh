#!/bin/bash
# The official SDKs through greyproxy with interception on (undici's
# ProxyAgent), to a local TLS origin speaking their APIs: Anthropic's
# (@anthropic-ai/sdk: two turns, streamed then JSON; the conversation
# through the API and in the TUI's thread view), OpenAI's (openai: two
# Chat Completions turns, a streamed Responses call) and Google's
# (@google/genai: a streamed generateContent).  Installed from npm once
# into a cache directory.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

NODE_DIR=${GP_NODE_CACHE:-$HOME/.cache/greyproxy-tests/node}
if [ ! -d "$NODE_DIR/node_modules/@google/genai" ]; then
	mkdir -p "$NODE_DIR"
	timeout 300 npm install --silent --no-audit --no-fund --prefix "$NODE_DIR" \
		@anthropic-ai/sdk@1.12.0 openai@6.49.0 @google/genai@2.32.0 \
		undici@7 > "$T/npm.log" 2>&1 ||
		{ echo "Bail out! npm could not install the SDKs: $(tail -3 "$T/npm.log")"; exit 1; }
fi
cp "$TOP_SRCDIR/tests/lib/sdk-anthropic.mjs" "$TOP_SRCDIR/tests/lib/sdk-openai-gemini.mjs" "$NODE_DIR/"

tui_mitm

out=$(cd "$NODE_DIR" && NODE_EXTRA_CA_CERTS="$CA" timeout 60 node sdk-anthropic.mjs \
	"https://localhost:$OP" "http://$GP_HTTP" 2>"$T/node.err")
is "$?" 0 "the SDK ran both turns through the proxy"
grep -v -i "deprecated\|migrate to a newer" "$T/node.err" | head -5 | sed 's/^/# /'
is "$(jget "$out" 'd["text1"]')" "You said: what is the weather in Paris" "turn 1: the streamed reply reached the SDK"
is "$(jget "$out" 'd["text2"]')" "You said: and in Lyon" "turn 2: the JSON reply"

wait_for 10 eval '[ "$(jget "$(api GET /api/conversations)" "d[\"items\"][0][\"turn_count\"] if d[\"items\"] else 0")" = 2 ]'
l=$(api GET /api/conversations)
is "$(jget "$l" 'd["total"]')" 1 "one conversation"
is "$(jget "$l" 'd["items"][0]["client_name"]')" anthropic-sdk "the SDK recognised"
is "$(jget "$l" 'd["items"][0]["model"]')" claude-sonnet-4-5 "its model"
is "$(jget "$l" 'd["items"][0]["tokens"]["output"]')" 14 "tokens of both replies"
ID=$(jget "$l" 'd["items"][0]["id"]')
c=$(api GET "/api/conversations/$ID")
is "$(jget "$c" 'd["system_prompt"]')" "You are a terse assistant." "system blocks"
is "$(jget "$c" 'd["turns"][0]["steps"][0]["text"]')" "You said: what is the weather in Paris" "turn 1 rebuilt from the SSE"
is "$(jget "$c" 'd["turns"][1]["steps"][0]["text"]')" "You said: and in Lyon" "turn 2 from the JSON reply"
t=$(jget "$(api GET /api/transactions)" '[x for x in d["items"] if x["url"].startswith("https://localhost")][0]')
like "$t" "'authorization': \['\[REDACTED\]'\]" "the key (Authorization: Bearer, as this SDK sends it) stored redacted"
unlike "$t" "sk-ant-test-not-a-secret" "never stored"

keys 5
wait_for 5 eval 'screen | grep "anthropic-…" | grep -q "what is the weather"'; ok $? "5: the conversation in the list (its client cut, marked)"
keys g Enter
wait_for 5 on_screen "> what is the weather in Paris"; ok $? "Enter: the thread, turn 1's prompt"
on_screen "You said: what is the weather in Paris"; ok $? "the streamed answer"
on_screen "> and in Lyon"; ok $? "turn 2's prompt"
on_screen "You said: and in Lyon"; ok $? "its answer"
keys q
wait_for 10 test -s "$T/ui.exit"; ok $? "quits"

# OpenAI's and Google's SDKs, on their own server (the TUI is gone).
SSL_CERT_FILE="$T/cert.pem" gp_start
api POST /api/rules -d '{"destination_pattern":"localhost","action":"allow"}' >/dev/null
for r in '"/v1/chat/completions","decoder_name":"openai-chat"' \
	'"/v1/responses","decoder_name":"openai"' '"/v1beta/models/*","decoder_name":"google-ai"'; do
	api POST /api/endpoint-rules -d "{\"host_pattern\":\"localhost\",\"path_pattern\":$r}" >/dev/null
done
wait_for 10 eval '[ "$(jget "$(api GET /api/status)" "d[\"mitm\"][\"state\"]")" = on ]'
out=$(cd "$NODE_DIR" && NODE_EXTRA_CA_CERTS="$CA" timeout 60 node sdk-openai-gemini.mjs \
	"https://localhost:$OP" "http://$GP_HTTP" 2>"$T/node2.err")
is "$?" 0 "the OpenAI and Gemini SDKs ran through the proxy"
head -5 "$T/node2.err" | sed 's/^/# /'
is "$(jget "$out" 'd["chat"][1]')" "You said: another one" "chat: turn 2 answered"
is "$(jget "$out" 'd["responses"]')" "You said: capital of Italy" "responses: streamed"
is "$(jget "$out" 'd["gemini"]')" "You said: count to three" "gemini: streamed"
conv() { jget "$(api GET "/api/conversations?$1")" "$2"; }
wait_for 10 eval '[ "$(conv client=google-genai-sdk "d[\"total\"]")" = 1 ]'
is "$(conv 'client=openai-sdk&model=gpt-4.1' 'd["items"][0]["turn_count"]')" 2 "chat: one conversation, two turns"
is "$(conv 'client=openai-sdk&model=gpt-4.1' 'd["items"][0]["tokens"]["output"]')" 12 "chat: tokens of both"
is "$(conv 'client=openai-sdk&model=gpt-5' 'd["items"][0]["first_prompt"]')" "capital of Italy" "responses: its own conversation"
is "$(conv client=google-genai-sdk 'd["items"][0]["model"]')" gemini-2.5-flash "gemini: the model from the path"
is "$(conv client=google-genai-sdk 'd["items"][0]["provider"]')" google-ai "gemini: provider"
done_testing
