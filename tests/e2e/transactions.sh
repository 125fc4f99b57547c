#!/bin/bash
# Transactions: every HTTP request relayed — plain, and inside
# intercepted TLS — is stored with both heads (credentials redacted in
# the stored copy only), bodies up to maxBodyBytes (beyond: truncated and
# marked, the full size kept), timings, and whether it completed; a
# client that hangs up mid-response still leaves its row.  Served by
# GET /api/transactions (filters, paging) and /api/transactions/:id
# (bodies: text, or binary in base64), announced as transaction.new.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

mitm_start '"maxBodyBytes":1000,"redactedHeaders":["X-Internal-*"]'
AH=${GP_API%:*}; AP=${GP_API##*:}
python3 "$LIB/wsclient.py" "$AH" "$AP" < /dev/null > "$T/ws.out" 2>&1 &
PIDS="$PIDS $!"
wait_for 5 grep -q '"type":"connected"' "$T/ws.out"; ok $? "event stream open"
txs() { api GET "/api/transactions$1"; }
count() { jget "$(txs "?limit=1")" 'd["total"]'; }

# Plain: credentials redacted in the stored copy, forwarded untouched.
seen=$(curl -s --max-time 10 -x "http://$GP_HTTP" -H 'Authorization: Bearer sekrit-1' \
	-H 'X-Api-Key: key-2' -H 'X-Internal-Trace: t-3' -H 'Cookie: c=4' \
	-H 'X-Auth-TOKEN: tok-5' -H 'Client-Secret-Id: sec-6' -H 'X-Tokenless: plain-7' \
	-H 'My_API_KEY: k-8' -H 'X-Tok-En: plain-9' "http://127.0.0.1:$PP/headers")
like "$seen" "Bearer sekrit-1" "the origin got the real Authorization"
wait_for 10 eval '[ "$(count)" -ge 1 ]'; ok $? "a plain request is stored"
j=$(txs "?method=GET&destination=127.0.0.1")
id=$(jget "$j" 'd["items"][0]["id"]')
h=$(jget "$j" 'd["items"][0]["request_headers"]')
like "$h" "'Authorization': \\['\\[REDACTED\\]'\\]" "Authorization redacted"
like "$h" "'X-Api-Key': \\['\\[REDACTED\\]'\\]" "*api-key* redacted"
like "$h" "'X-Internal-Trace': \\['\\[REDACTED\\]'\\]" "a redactedHeaders pattern applied"
like "$h" "'Cookie': \\['\\[REDACTED\\]'\\]" "Cookie redacted"
like "$h" "'X-Auth-TOKEN': \\['\\[REDACTED\\]'\\]" "*token* redacted, any case"
like "$h" "'Client-Secret-Id': \\['\\[REDACTED\\]'\\]" "*secret* redacted"
like "$h" "'X-Tokenless': \\['\\[REDACTED\\]'\\]" "a name holding token is redacted (the glob *token*)"
like "$h" "'My_API_KEY': \\['\\[REDACTED\\]'\\]" "*api_key* redacted"
like "$h" "'X-Tok-En': \\['plain-9'\\]" "a name with the letters of token apart is kept"
like "$h" "'Accept': \\['\\*/\\*'\\]" "other headers kept"
unlike "$h" "tok-5|sec-6|k-8" "their values not stored"
is "$(sql "SELECT count(*) FROM http_transactions WHERE request_headers LIKE '%sekrit%' OR request_headers LIKE '%key-2%' OR request_headers LIKE '%t-3%'")" 0 "no secret in the database"
is "$(jget "$j" 'd["items"][0]["url"]')" "http://127.0.0.1:$PP/headers" "the URL"
# Its row and the log's were written from idle-class threads (lanes):
# the log writer's and the capture worker's (policy 5 is SCHED_IDLE).
idle=$(for t in /proc/"$GP_PID"/task/*/stat; do awk '{print $41}' "$t"; done | grep -c '^5$')
is "$idle" 2 "two background lanes, of the idle scheduling class"
is "$(jget "$j" 'd["items"][0]["status_code"]')" 200 "the status"
is "$(jget "$j" '"request_body" in d["items"][0]')" False "the list carries no bodies"

# Intercepted: a POST over the cap is stored truncated, sized whole.
head -c 5000 /dev/urandom | base64 -w0 | head -c 5000 > "$T/up.txt"
got=$(curl -s --max-time 10 -p -x "http://$GP_HTTP" --cacert "$CA" --data-binary @"$T/up.txt" "https://localhost:$OP/echo")
is "$got" "$(cat "$T/up.txt")" "the whole body crosses"
wait_for 10 eval '[ "$(jget "$(txs "?method=POST")" "d[\"total\"]")" = 1 ]'; ok $? "an intercepted POST is stored"
p=$(txs "?method=POST")
pid=$(jget "$p" 'd["items"][0]["id"]')
is "$(jget "$p" 'd["items"][0]["url"]')" "https://localhost:$OP/echo" "as an https URL"
is "$(jget "$p" 'd["items"][0]["tls"]')" True "marked TLS"
one=$(txs "/$pid")
is "$(jget "$one" 'len(d["request_body"])')" 1000 "the stored request body is capped at maxBodyBytes"
is "$(jget "$one" 'd["request_body_size"]')" 5000 "the size is the whole body's"
is "$(jget "$one" 'd["request_body_truncated"]')" True "and it says it was truncated"
is "$(jget "$one" 'd["request_body"]')" "$(head -c 1000 "$T/up.txt")" "the first 1000 bytes, as text"

# Binary bodies come back in base64.
curl -s -o /dev/null --max-time 10 -p -x "http://$GP_HTTP" --cacert "$CA" "https://localhost:$OP/bytes/300"
wait_for 10 eval '[ "$(jget "$(txs "?destination=localhost")" "d[\"total\"]")" -ge 2 ]'
bid=$(jget "$(txs "?destination=localhost&limit=1")" 'd["items"][0]["id"]')
b=$(txs "/$bid")
is "$(jget "$b" 'd["response_body_binary"]')" True "a binary body is marked"
is "$(jget "$b" '__import__("base64").b64decode(d["response_body_base64"]) == bytes(range(256)) + bytes(range(44))')" True "and given whole in base64"
like "$(jget "$b" 'd["first_byte_ms"] >= 0 and d["duration_ms"] >= d["first_byte_ms"]')" True "with its timings"

# A client that hangs up mid-response still leaves its row.
n=$(count)
curl -s --max-time 10 -x "http://$GP_HTTP" "http://127.0.0.1:$PP/bytes/50000000" | head -c 1000 > /dev/null
wait_for 10 eval '[ "$(count)" -gt "$n" ]'; ok $? "a hung-up request is stored"
l=$(txs "?limit=1")
is "$(jget "$l" 'd["items"][0]["complete"]')" False "marked incomplete"
is "$(jget "$l" 'd["items"][0]["status_code"]')" 200 "with the status it had"

# Paging and bad input.
t=$(count)
j=$(txs "?limit=2&offset=2")
is "$(jget "$j" 'd["page"]')" 2 "page from offset and limit"
is "$(jget "$j" 'd["pages"]')" "$(( (t + 1) / 2 ))" "pages from the total"
api GET "/api/transactions?limit=0" >/dev/null; is "$(api_status)" 400 "limit 0: 400"
api GET "/api/transactions/x" >/dev/null; is "$(api_status)" 400 "a bad id: 400"
api GET "/api/transactions/99999" >/dev/null; is "$(api_status)" 404 "an unknown id: 404"

# captureTransactions: intercepted only, then none.
api PUT /api/settings -d '{"captureTransactions":"intercepted"}' >/dev/null
n=$(count)
curl -s -o /dev/null --max-time 10 -x "http://$GP_HTTP" "http://127.0.0.1:$PP/hello"
curl -s -o /dev/null --max-time 10 -p -x "http://$GP_HTTP" --cacert "$CA" "https://localhost:$OP/hello"
wait_for 10 eval '[ "$(count)" -gt "$n" ]'
is "$(( $(count) - n ))" 1 "intercepted: one of the two stored"
is "$(jget "$(txs "?limit=1")" 'd["items"][0]["tls"]')" True "the intercepted one, not the plain one"
api PUT /api/settings -d '{"captureTransactions":"none"}' >/dev/null
n=$(count)
curl -s -o /dev/null --max-time 10 -p -x "http://$GP_HTTP" --cacert "$CA" "https://localhost:$OP/hello"
curl -s -o /dev/null --max-time 10 -x "http://$GP_HTTP" "http://127.0.0.1:$PP/hello"
api PUT /api/settings -d '{"captureTransactions":"all"}' >/dev/null
curl -s -o /dev/null --max-time 10 -x "http://$GP_HTTP" "http://127.0.0.1:$PP/hello?marker"
wait_for 10 eval '[ "$(count)" -gt "$n" ]'
is "$(( $(count) - n ))" 1 "none: nothing stored (only the request made after 'all' again)"
like "$(jget "$(txs "?limit=1")" 'd["items"][0]["url"]')" "marker" "which is that one"

# Retention: rows past transactionRetentionDays go, in steps, by a
# worker; then the size cap deletes the oldest until under it.
sql "INSERT INTO http_transactions (timestamp, container_name, destination_host, destination_port, method, url) SELECT datetime('now', '-10 days'), 'old', 'old.example', 80, 'GET', 'http://old.example/' FROM (WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 700) SELECT i FROM k)"
is "$(sql "SELECT count(*) FROM http_transactions WHERE container_name = 'old'")" 700 "700 rows ten days old"
n=$(sql "SELECT count(*) FROM http_transactions WHERE container_name != 'old'")
wait_for 30 eval '[ "$(sql "SELECT count(*) FROM http_transactions WHERE container_name = '"'"'old'"'"'")" = 0 ]'
ok $? "older than 7 days: pruned"
is "$(sql "SELECT count(*) FROM http_transactions WHERE container_name != 'old'")" "$n" "the recent ones stay"
# the loop learns the count when the worker's job ends, just after its commit
pruned() { jget "$(api GET /api/status)" 'd["storage"]["transactions_pruned"]'; }
wait_for 10 eval '[ "$(pruned)" -ge 700 ]'; ok $? "counted in /api/status ($(pruned))"
sql "INSERT INTO http_transactions (container_name, destination_host, destination_port, method, url, response_body, response_body_size) SELECT 'big', 'big.example', 80, 'GET', 'http://big.example/', zeroblob(600000), 600000 FROM (WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 4) SELECT i FROM k)"
api PUT /api/settings -d '{"transactionMaxMB":1}' >/dev/null
wait_for 30 eval '[ "$(sql "SELECT n FROM tx_bytes")" -le 1048576 ]'
ok $? "over transactionMaxMB: the oldest go until under it"
b=$(sql "SELECT count(*) FROM http_transactions WHERE container_name = 'big'")
is "$b" 1 "only as many as needed (the newest 600 kB row stays)"
is "$(sql "SELECT n FROM tx_bytes")" "$(sql "SELECT sum(ifnull(length(request_body),0) + ifnull(length(response_body),0) + ifnull(length(request_headers),0) + ifnull(length(response_headers),0) + length(url)) FROM http_transactions")" "the byte count matches the rows"

# Redaction re-applied to stored rows after redactedHeaders changed: by
# a worker, in batches, announced as maintenance.progress.
api PUT /api/settings -d '{"transactionMaxMB":512}' >/dev/null
curl -s -o /dev/null --max-time 10 -x "http://$GP_HTTP" -H 'X-Later-Tag: later-1' "http://127.0.0.1:$PP/hello?later"
wait_for 10 eval '[ "$(sql "SELECT count(*) FROM http_transactions WHERE url LIKE '"'"'%later'"'"'")" = 1 ]'
like "$(sql "SELECT request_headers FROM http_transactions WHERE url LIKE '%later'")" "later-1" "a header not yet redacted is stored"
sql "INSERT INTO http_transactions (container_name, destination_host, destination_port, method, url, request_headers) SELECT 'many', 'many.example', 80, 'GET', 'http://many.example/', '{\"X-Later-Tag\":[\"later-2\",\"later-3\"],\"Accept\":[\"*/*\"]}' FROM (WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 20000) SELECT i FROM k)"
api PUT /api/settings -d '{"redactedHeaders":["X-Internal-*","x-later-*"]}' >/dev/null
r=$(curl -s -w ' %{http_code}' -X POST "http://$GP_API/api/maintenance/redact-headers" -X POST "http://$GP_API/api/maintenance/redact-headers")
like "$r" '^\{"status":"redaction started"\} 200' "redact-headers: started"
like "$r" '409$' "a second one while it runs: 409"
wait_for 30 grep -q '"maintenance.progress".*"done":true' "$T/ws.out"; ok $? "progress announced until done"
check "$(grep -c '"maintenance.progress"' "$T/ws.out") > 1" "in steps ($(grep -c '"maintenance.progress"' "$T/ws.out") events)"
is "$(sql "SELECT count(*) FROM http_transactions WHERE request_headers LIKE '%\"later-%'")" 0 "every stored value of the new pattern redacted"
like "$(sql "SELECT request_headers FROM http_transactions WHERE container_name = 'many' LIMIT 1")" '"X-Later-Tag":\["\[REDACTED\]","\[REDACTED\]"\],"Accept":\["\*/\*"\]' "both values, the other headers as they were"
grep '"maintenance.progress".*"done":true' "$T/ws.out" | grep -q '"changed":20001'; ok $? "20001 rows rewritten, said in the last event"
is "$(sql "SELECT n FROM tx_bytes")" "$(sql "SELECT sum(ifnull(length(request_body),0) + ifnull(length(response_body),0) + ifnull(length(request_headers),0) + ifnull(length(response_headers),0) + length(url)) FROM http_transactions")" "the byte count still matches the rows"
curl -s -o "$T/r2" -w '%{http_code}' -X POST "http://$GP_API/api/maintenance/redact-headers" > "$T/c2"
is "$(cat "$T/c2")" 200 "once done, another may start"
[ "$(cat "$T/c2")" = 200 ] || { tail -5 "$T/serve.log"; cat "$T/r2"; } | sed "s/^/# /"
wait_for 30 eval '[ "$(grep -c '"'"'"maintenance.progress".*"done":true'"'"' "$T/ws.out")" = 2 ]'
like "$(grep '"maintenance.progress".*"done":true' "$T/ws.out" | tail -1)" '"changed":0' "and finds nothing left to change"

# The event.
wait_for 5 grep -q '"type":"transaction.new"' "$T/ws.out"; ok $? "transaction.new announced"
# A burst fills batches larger than the slice the loop announces per
# turn (128): every transaction is still announced, once.
curl -s -o /dev/null --max-time 30 -x "http://$GP_HTTP" "http://127.0.0.1:$PP/hello?burst[1-400]"
wait_for 20 eval '[ "$(grep -c '"'"'"type":"transaction.new".*hello?burst'"'"' "$T/ws.out")" -ge 400 ]'
is "$(grep '"type":"transaction.new"' "$T/ws.out" | grep -o 'hello?burst[0-9]*' | sort -u | wc -l) $(grep -c '"type":"transaction.new".*hello?burst' "$T/ws.out")" "400 400" "a burst of 400: each announced once"
is "$(sql "SELECT count(*) FROM http_transactions WHERE url LIKE '%hello?burst%'")" 400 "and stored"
! grep '"type":"transaction.new"' "$T/ws.out" | grep -q '"request_body"'; ok $? "without bodies"
! grep -q 'sekrit-1' "$T/ws.out"; ok $? "nor secrets"
gp_stop
done_testing
