#!/bin/bash
# Request rules: a rule that also names a method and/or a path glob
# judges each HTTP request — plain through the HTTP proxy, and inside
# intercepted TLS, and in the clear inside a tunnel — and a deny answers
# 403 blocked-by-request-rule.  The most specific rule wins (a narrower
# allow beats a broader deny).  A schema-6 database (before
# request rules) migrates with its rules and the log's references.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

# Migration first, on a database made by the previous schema.
mkdir -p -m 700 "$T/old"
sqlite3 "$T/old/greyproxy.db" < "$TOP_SRCDIR/tests/e2e/fixtures/schema6.sql"
out=$("$GREYPROXY" rule --data-dir "$T/old" list)
like "$out" "example.com" "a schema-6 database opens, its rules kept"
like "$out" "bad.example +443" "every one of them"
check "$(sqlite3 "$T/old/greyproxy.db" 'PRAGMA user_version') >= 7" "migrated to schema 7 and on"
is "$(sqlite3 "$T/old/greyproxy.db" 'SELECT group_concat(rule_id) FROM request_logs ORDER BY id')" "1,2" "the log still names its rules"
is "$(sqlite3 "$T/old/greyproxy.db" 'PRAGMA foreign_key_check' | wc -l)" 0 "no dangling reference"

mitm_start

j=$(api POST /api/rules -d '{"destination_pattern":"127.0.0.1","action":"deny","method_pattern":"post","path_pattern":"/echo*"}')
is "$(api_status)" 200 "a request rule is created"
is "$(jget "$j" 'd["method_pattern"] + " " + d["path_pattern"]')" "POST /echo*" "method upper-cased, path kept"
RID=$(jget "$j" 'd["id"]')
api POST /api/rules -d '{"destination_pattern":"127.0.0.1","method_pattern":"PO ST"}' >/dev/null
is "$(api_status)" 400 "a method that is not a token: 400"
api POST /api/rules -d '{"destination_pattern":"127.0.0.1","path_pattern":"echo"}' >/dev/null
is "$(api_status)" 400 "a path not from /: 400"
like "$("$GREYPROXY" rule --data-dir "$T/data" list)" "POST /echo\\*" "rule list shows it"

H="http://127.0.0.1:$PP"
is "$(curl -s --max-time 10 -x "http://$GP_HTTP" "$H/hello")" "hello from origin" "GET is not covered"
h=$(curl -s -i --max-time 10 -x "http://$GP_HTTP" -d data "$H/echo" | tr -d '\r')
like "$h" "^HTTP/1.1 403" "POST /echo: 403"
like "$h" "X-Proxy-Error: blocked-by-request-rule" "blocked-by-request-rule"
like "$h" "denied by rule $RID" "naming the rule"
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -x "http://$GP_HTTP" -d x "$H/echo?a=1")" 403 "the query is not part of the path"
is "$(curl -s --max-time 10 -x "http://$GP_HTTP" -X PUT -d put-body "$H/echo")" "put-body" "another method passes"
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -p -x "http://$GP_HTTP" -d x "$H/echo")" 403 "inside a CONNECT tunnel, in the clear: judged too"
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -p -x "http://$GP_HTTP" "$H/hello")" 200 "the tunnel itself is not refused"

# Most specific wins: an allow for a narrower path beats the deny.
api POST /api/rules -d '{"destination_pattern":"127.0.0.1","action":"allow","method_pattern":"POST","path_pattern":"/echo/ok*"}' >/dev/null
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -x "http://$GP_HTTP" -d x "$H/echo/ok")" 404 "a narrower allow wins (the origin answers, 404)"
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -x "http://$GP_HTTP" -d x "$H/echo/no")" 403 "the deny holds elsewhere"

# Inside interception.
api POST /api/rules -d '{"destination_pattern":"localhost","action":"deny","method_pattern":"GET","path_pattern":"/hello"}' >/dev/null
h=$(curl -s -i --max-time 10 -p -x "http://$GP_HTTP" --cacert "$CA" "https://localhost:$OP/hello" | tr -d '\r')
like "$h" "^HTTP/1.1 403" "intercepted GET /hello: 403"
like "$h" "X-Proxy-Error: blocked-by-request-rule" "by the request rule"
is "$(curl -s --max-time 10 -p -x "http://$GP_HTTP" --cacert "$CA" "https://localhost:$OP/bytes/5" | wc -c)" 5 "another path passes"

# Deleting the rule lifts it.
api DELETE "/api/rules/$RID" >/dev/null
is "$(curl -s --max-time 10 -x "http://$GP_HTTP" -d again "$H/echo")" "again" "deleted: POST passes again"
gp_stop
done_testing
