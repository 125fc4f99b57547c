#!/bin/bash
# LLM conversations end to end: a local TLS origin speaking the Messages
# API, a user endpoint rule pointing the anthropic dissector at it, two
# turns of a Claude Code-like client through intercepted HTTPS (one
# streamed, one JSON), then the conversation through the API (list,
# detail with turns and tokens, sub-agents, 404s), the endpoint-rule and
# dissector routes, conversation.updated, a rebuild with its progress,
# and conversationsEnabled off.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

mitm_start
ws_events

# Endpoint rules, as the original validates them.
r=$(api GET /api/endpoint-rules)
is "$(jget "$r" 'len([x for x in d["rules"] if not x["user_defined"]])')" 7 "seven built-in endpoint rules"
is "$(jget "$r" '[x["decoder_name"] for x in d["rules"] if x["host_pattern"]=="api.anthropic.com"][0]')" anthropic "api.anthropic.com is read as anthropic"
api POST /api/endpoint-rules -d '{"host_pattern":"localhost","path_pattern":"/v1/messages","decoder_name":"nope"}' >/dev/null
is "$(api_status)" 400 "an unknown decoder: 400"
api POST /api/endpoint-rules -d '{"host_pattern":"*","path_pattern":"/v1/messages","decoder_name":"anthropic"}' >/dev/null
is "$(api_status)" 400 "host * : 400"
api POST /api/endpoint-rules -d '{"host_pattern":"localhost","path_pattern":"v1","decoder_name":"anthropic"}' >/dev/null
is "$(api_status)" 400 "a path not starting with /: 400"
BUILTIN=$(jget "$r" 'd["rules"][0]["id"]')
api PUT "/api/endpoint-rules/$BUILTIN" -d '{"host_pattern":"x.example","path_pattern":"/","decoder_name":"anthropic"}' >/dev/null
is "$(api_status)" 400 "a built-in rule cannot be changed"
n=$(api POST /api/endpoint-rules -d '{"host_pattern":"localhost","path_pattern":"/v1/messages","decoder_name":"anthropic","priority":5}')
is "$(api_status)" 201 "a user rule for the local origin: 201"
is "$(jget "$n" 'd["user_defined"]')" True "marked user_defined"
d=$(api GET /api/dissectors)
is "$(jget "$d" '",".join(x["name"] for x in d["dissectors"])')" "anthropic,openai,openai-ws,openai-chat,google-ai" "dissectors listed"
l=$(api GET /api/conversations)
is "$(jget "$l" 'd["items"]')" "[]" "no conversations: items is [] (not null)"

# Two turns through intercepted HTTPS: streamed, then JSON.
URL="https://localhost:$OP/v1/messages?beta=true"
H=(-H "content-type: application/json" -H "user-agent: claude-cli/2.1.197 (external, sdk-cli)" -H "x-claude-code-session-id: 7c1e0e7e-0000-4000-8000-000000000001" -H "x-api-key: sk-ant-not-stored")
T1='{"model":"claude-sonnet-4-5","max_tokens":100,"stream":true,"system":"You are a helpful agent.","tools":[{"name":"Bash"}],"messages":[{"role":"user","content":"what is two plus two"}]}'
out=$(curl -s --max-time 10 -x "http://$GP_HTTP" --cacert "$CA" "${H[@]}" -d "$T1" "$URL")
like "$out" "text_delta" "turn 1 streamed through the proxy"
T2='{"model":"claude-sonnet-4-5","max_tokens":100,"system":"You are a helpful agent.","tools":[{"name":"Bash"}],"messages":[{"role":"user","content":"what is two plus two"},{"role":"assistant","content":"You said: what is two plus two"},{"role":"user","content":"and times three"}]}'
out=$(curl -s --max-time 10 -x "http://$GP_HTTP" --cacert "$CA" "${H[@]}" -d "$T2" "$URL")
like "$out" '"You said: and times three"' "turn 2 answered as JSON"

conv_turns() { jget "$(api GET /api/conversations)" 'd["items"][0]["turn_count"] if d["items"] else 0'; }
wait_for 10 eval '[ "$(conv_turns)" = 2 ]'
l=$(api GET /api/conversations)
is "$(jget "$l" 'd["total"]')" 1 "one conversation"
C=$(jget "$l" 'd["items"][0]')
is "$(jget "$l" 'd["items"][0]["turn_count"]')" 2 "two turns"
is "$(jget "$l" 'd["items"][0]["client_name"]')" claude-code "client detected"
is "$(jget "$l" 'd["items"][0]["provider"]')" anthropic "provider"
is "$(jget "$l" 'd["items"][0]["model"]')" claude-sonnet-4-5 "model"
is "$(jget "$l" 'd["items"][0]["first_prompt"]')" "what is two plus two" "first prompt"
is "$(jget "$l" 'd["items"][0]["tokens"]["output"]')" 14 "output tokens of both replies"
like "$(jget "$l" 'd["items"][0]["container_name"]')" "^unknown-127.0.0.1$" "identity"
ID=$(jget "$l" 'd["items"][0]["id"]')
like "$ID" "^conv_[0-9a-f]{16}$" "a URL-safe id"
c=$(api GET "/api/conversations/$ID")
is "$(api_status)" 200 "detail"
is "$(jget "$c" 'd["turns"][0]["steps"][0]["text"]')" "You said: what is two plus two" "turn 1: the streamed reply, rebuilt"
is "$(jget "$c" 'd["turns"][1]["user_prompt"]')" "and times three" "turn 2's prompt"
is "$(jget "$c" 'd["turns"][1]["steps"][0]["text"]')" "You said: and times three" "turn 2: the JSON reply (the original loses it)"
is "$(jget "$c" 'd["turns"][1]["api_calls_in_turn"]')" 1 "one request in turn 2"
is "$(jget "$c" 'd["system_prompt"]')" "You are a helpful agent." "system prompt"
is "$(jget "$c" 'd["metadata"]["total_requests"]')" 2 "two requests"
is "$(jget "$c" 'len(d["request_ids"])')" 2 "request_ids: its transactions, as the original"
c=$(api GET /api/transactions)
is "$(jget "$c" 'len([t for t in d["items"] if t.get("conversation_id") == "'"$ID"'"])')" 2 "both transactions link to it"
api GET /api/conversations/conv_0000000000000000 >/dev/null
is "$(api_status)" 404 "an unknown id: 404"
is "$(cat "$T/.api_body")" '{"error":"not found"}' "... with the original's body"
s=$(api GET "/api/conversations/$ID/subagents")
is "$(jget "$s" 'd["items"]')" "[]" "no sub-agents"
is "$(api GET '/api/conversations?client=codex' | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')" 0 "filter by client"
is "$(api GET '/api/conversations?text=times%20three' | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')" 1 "search by text"
wait_for 5 grep -q "conversation.updated.*$ID" "$T/ws.out"
ok $? "conversation.updated announced"

# The CLI's table shows a client's text, never hands it to the terminal:
# an escape sequence in the model and a bidi override in the prompt.
H3=(-H "content-type: application/json" -H "user-agent: claude-cli/2.1.197 (external, sdk-cli)" -H "x-claude-code-session-id: 7c1e0e7e-0000-4000-8000-000000000003" -H "x-api-key: sk-ant-not-stored")
T4='{"model":"evil\u001b[2Jmodel","max_tokens":10,"messages":[{"role":"user","content":"look \u202eright"}]}'
curl -s -o /dev/null --max-time 10 -x "http://$GP_HTTP" --cacert "$CA" "${H3[@]}" -d "$T4" "$URL"
cli_list() { LC_ALL=C.UTF-8 "$GREYPROXY" conversations list --all --data-dir "$GP_DATA"; }
wait_for 10 eval 'cli_list | grep -q evil'	# (a short one: listed with --all)
out=$(cli_list)
like "$out" 'evil\?\[2Jmodel' "conversations list: the escape shown as ?"
like "$out" 'look <U\+202E>right' "and the override as its code point"
python3 -c 'import sys; t = sys.stdin.read(); sys.exit("\x1b" in t or "\u202e" in t)' <<<"$out"
ok $? "neither reaches the terminal"

# Rebuild: the same conversation from the stored transactions.
st=$(api GET /api/maintenance/status)
is "$(jget "$st" 'd["needs_rebuild"]')" False "assembler version stored"
r=$(api POST /api/maintenance/rebuild-conversations)
is "$(jget "$r" 'd["status"]')" "rebuild started" "rebuild started"
wait_for 10 grep -q '"task":"rebuild_conversations".*"done":true' "$T/ws.out"
ok $? "rebuild progress announced, done"
wait_for 10 eval '[ "$(conv_turns)" = 2 ]'
is "$(jget "$(api GET /api/conversations)" 'd["total"]')" 1 "rebuilt: one conversation, two turns"

# Off: transactions are stored, nothing is assembled.
api PUT /api/settings -d '{"conversationsEnabled":false}' >/dev/null
before=$(jget "$(api GET /api/transactions)" 'd["total"]')
T3='{"model":"claude-sonnet-4-5","max_tokens":10,"tools":[{"name":"Bash"}],"messages":[{"role":"user","content":"a new thread"}]}'
curl -s --max-time 10 -x "http://$GP_HTTP" --cacert "$CA" "${H[@]}" -d "$T3" "$URL" >/dev/null
# (a batch is assembled before its rows are announced or listed)
wait_for 10 eval '[ "$(jget "$(api GET /api/transactions)" "d[\"total\"]")" -gt "$before" ]'
is "$(jget "$(api GET '/api/conversations?text=new%20thread')" 'd["total"]')" 0 "conversationsEnabled off: not assembled"

# An unknown endpoint that looks like an LLM API: suggested, not added.
api PUT /api/settings -d '{"conversationsEnabled":true}' >/dev/null
curl -s --max-time 10 -x "http://$GP_HTTP" -H "content-type: application/json" -H "anthropic-version: 2023-06-01" \
	-d '{"model":"m","max_tokens":3,"messages":[{"role":"user","content":"hi"}]}' "http://localhost:$PP/echo" >/dev/null
wait_for 10 eval '[ "$(jget "$(api GET /api/endpoint-rules)" "len(d[\"suggestions\"])")" = 1 ]'
r=$(api GET /api/endpoint-rules)
is "$(jget "$r" 'd["suggestions"][0]["decoder_name"]')" anthropic "an unknown host suggested as anthropic (by shape)"
is "$(jget "$r" 'len([x for x in d["rules"] if x["user_defined"]])')" 1 "... and not added as a rule"
done_testing
