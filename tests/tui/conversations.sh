#!/bin/bash
# The Conversations view at 80x24 with real intercepted traffic: the
# list (client, model, turns, first prompt), live; a thread with its
# turns, a tool call collapsed until Enter opens it (pretty input, its
# result), search with / and n, export with E, back with b; utility
# requests shown with u.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

origin_start plain; PP=$ORIGIN_PORT
tui_mitm
is "$(jget "$(api GET /api/endpoint-rules)" 'len([r for r in d["rules"] if r["user_defined"] and r["host_pattern"] == "localhost"])')" 1 "an endpoint rule for the local origin"

keys 5
wait_for 5 on_screen "No LLM conversations yet"; ok $? "5: empty, says where they come from"
H=(-H "content-type: application/json" -H "user-agent: claude-cli/2.1.197 (external, sdk-cli)")
send() { curl -s --max-time 10 -x "http://$GP_HTTP" --cacert "$CA" "${H[@]}" -d "$1" "https://localhost:$OP/v1/messages"; }
send '{"model":"claude-sonnet-4-5","max_tokens":50,"stream":true,"tools":[{"name":"Bash"}],"messages":[{"role":"user","content":"list the files"}]}' >/dev/null
send '{"model":"claude-sonnet-4-5","max_tokens":50,"tools":[{"name":"Bash"}],"messages":[{"role":"user","content":"list the files"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"ls -la","description":"list"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"alpha.c\nbeta.c"}]},{"role":"user","content":"now count them"}]}' >/dev/null
send '{"model":"claude-haiku-4-5","max_tokens":10,"messages":[{"role":"user","content":"Write a title: list the files"}]}' >/dev/null
wait_for 10 eval 'screen | grep "claude-code" | grep -q "list the files"'; ok $? "the conversation appears, live"
wait_for 10 eval 'screen | grep "claude-code" | grep -q "claude-sonn.* 2 "'
row=$(screen | grep "claude-code" | head -1)
like "$row" "claude-sonn.* +2 +" "client, model, two turns"
head=$(screen | grep "CLIENT")
for c in MODEL SOURCE; do
	val=$(case $c in MODEL) echo claude-sonn ;; SOURCE) echo unk ;; esac)
	is "$(col "$head" "$c")" "$(col "$row" "$val")" "the $c heading stands over its column"
done
like "$row" "claude-sonnet-4…" "a model cut at its column ends in …"
not_on_screen "Write a title"; ok $? "the title request is hidden"
keys u
wait_for 5 on_screen "Write a title"; ok $? "u: utility requests shown"
keys u
wait_for 5 not_on_screen "Write a title"; ok $? "u again: hidden"
keys g Enter
wait_for 5 on_screen "> list the files"; ok $? "Enter: the thread, the first prompt"
on_screen "turn 1"; ok $? "turns have heads"
like "$(screen | sed -n 2p)" " · 2 turns · " "the thread's head counts its turns"
like "$(screen | grep 'turn 1 ·')" "· 1 request ·" "one request, singular"
on_screen "▸ Bash: ls -la"; ok $? "the tool call, collapsed to its command"
on_screen "> now count them"; ok $? "the second prompt"
on_screen "You said: now count them"; ok $? "the assistant's reply"
not_on_screen "alpha.c"; ok $? "the result hidden until opened"
keys /
wait_for 5 on_screen "Search:"; ok $? "/: search"
keys -l "Bash"
keys Enter
keys Enter
wait_for 5 on_screen "input:"; ok $? "Enter on the call: opened"
on_screen '"command": "ls -la"'; ok $? "its input pretty-printed"
on_screen "alpha.c"; ok $? "and its result"
keys Enter
wait_for 5 not_on_screen "alpha.c"; ok $? "Enter again: closed"
keys n
on_screen "/Bash"; ok $? "the search is named on screen"
keys E
wait_for 5 on_screen "Export to"; ok $? "E: export, a file name asked"
keys C-u
keys -l "$T/thread.md"
keys Enter
wait_for 5 test -s "$T/thread.md"; ok $? "written"
grep -q "^## Turn 2" "$T/thread.md"; ok $? "as Markdown with its turns"
grep -q '"command": "ls -la"' "$T/thread.md"; ok $? "and the tool input"
ID=$(jget "$(api GET /api/conversations)" 'd["items"][0]["id"]')
"$GREYPROXY" conversations export "$ID" --data-dir "$T/data" > "$T/cli.md"
cmp -s "$T/cli.md" "$T/thread.md"; ok $? "greyproxy conversations export writes the same Markdown"
keys b
wait_for 5 eval 'screen | grep -q "FIRST PROMPT"'; ok $? "b: back to the list"

# A sub-agent: the main thread's Agent call, then the sub-agent's own
# request (its first prompt is the call's); opened from the call.
send '{"model":"claude-sonnet-4-5","max_tokens":50,"tools":[{"name":"Bash"},{"name":"Agent"}],"messages":[{"role":"user","content":"list the files"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"ls -la"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"alpha.c"}]},{"role":"user","content":"now count them"},{"role":"assistant","content":[{"type":"tool_use","id":"a1","name":"Agent","input":{"description":"hunt","prompt":"find the bug in alpha.c"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"a1","content":"line 3"}]}]}' >/dev/null
send '{"model":"claude-haiku-4-5","max_tokens":50,"system":"You are a sub-agent.","tools":[{"name":"Read"}],"messages":[{"role":"user","content":"find the bug in alpha.c"}]}' >/dev/null
wait_for 10 eval 'screen | grep "claude-code" | grep -q "+list the files"'; ok $? "the list marks a conversation with sub-agents (+)"
keys g Enter
wait_for 5 on_screen "> list the files"
keys /
keys -l "sub-agent conv_"
keys Enter
wait_for 5 on_screen "↳ sub-agent conv_"; ok $? "the Agent call names its sub-agent"
keys o
wait_for 5 on_screen "> find the bug in alpha.c"; ok $? "o: the sub-agent's thread"
on_screen "sub-agent of conv_"; ok $? "which says whose it is"
keys b
wait_for 5 on_screen "> list the files"; ok $? "b: back to the parent thread"
keys b
wait_for 5 eval 'screen | grep -q "FIRST PROMPT"'
"$GREYPROXY" conversations list --data-dir "$T/data" | grep -q "^$ID  claude-code"; ok $? "conversations list"
# Settings: the LLM endpoint rules, a suggestion taken, one typed.
curl -s --max-time 5 -x "http://$GP_HTTP" -H "content-type: application/json" -H "anthropic-version: 2023-06-01" \
	-d '{"model":"m","max_tokens":3,"messages":[{"role":"user","content":"hi"}]}' "http://localhost:$PP/echo" >/dev/null
wait_for 10 eval '[ "$(jget "$(api GET /api/endpoint-rules)" "len(d[\"suggestions\"])")" = 1 ]'
keys 7 G
wait_for 5 on_screen "LLM endpoint: add a rule"; ok $? "7, G: the endpoint rules after the settings"
on_screen "LLM\* api.anthropic.com /v1/messages POST *anthropic"; ok $? "built-in rules listed"
wait_for 5 on_screen "suggested: localhost /echo *anthropic"; ok $? "the suggestion, by shape"
keys k Space
wait_for 5 eval '[ "$(jget "$(api GET /api/endpoint-rules)" "len([r for r in d[\"rules\"] if r[\"path_pattern\"] == \"/echo\"])")" = 1 ]'
ok $? "Space on the suggestion: a rule"
keys G Space
wait_for 5 on_screen "Endpoint (host path \[method\] decoder):"; ok $? "Space on the last row: a prompt"
keys -l "llm.corp.example /v1/chat/completions openai-chat"
keys Enter
wait_for 5 on_screen "LLM llm.corp.example /v1/chat/completions POST *openai-chat"; ok $? "typed rule added and listed"
keys k Space
wait_for 5 eval '[ "$(jget "$(api GET "/api/endpoint-rules?all=1")" "[r[\"enabled\"] for r in d[\"rules\"] if r[\"host_pattern\"] == \"llm.corp.example\"][0]")" = False ]'
ok $? "Space: turned off"
keys x
wait_for 5 on_screen "Delete this LLM endpoint rule"; ok $? "x asks first"
keys y
wait_for 5 eval '[ "$(jget "$(api GET "/api/endpoint-rules?all=1")" "len([r for r in d[\"rules\"] if r[\"host_pattern\"] == \"llm.corp.example\"])")" = 0 ]'
ok $? "and deletes"

# From Traffic: a transaction opens its conversation.
keys 4
wait_for 5 on_screen "/v1/messages"; ok $? "4: the transactions"
keys g j j o
wait_for 5 on_screen "> now count them"; ok $? "o on a transaction: its conversation's thread"
keys b
keys 5
send '{"model":"claude-sonnet-4-5","max_tokens":10,"tools":[{"name":"Bash"}],"messages":[{"role":"user","content":"rename \u202egpj.exe now"}]}' >/dev/null
wait_for 10 on_screen "rename ?gpj.exe now"; ok $? "a bidi override in a prompt is shown as ?, never obeyed"
not_on_screen "$(printf '\u202e')"; ok $? "(not a single one on screen)"
keys Enter
wait_for 5 on_screen "> rename ?gpj.exe now"; ok $? "and in the thread"
keys /
keys -l "rename"
keys Enter
send '{"model":"claude-sonnet-4-5","max_tokens":10,"tools":[{"name":"Bash"}],"messages":[{"role":"user","content":"rename \u202egpj.exe now"},{"role":"assistant","content":"You said: rename"},{"role":"user","content":"and again"}]}' >/dev/null
wait_for 10 on_screen "> and again"; ok $? "an open thread follows its conversation live"
on_screen "/rename"; ok $? "keeping the search (and the place) it had"
keys q
wait_for 10 test -s "$T/ui.exit"; ok $? "quits"
done_testing
