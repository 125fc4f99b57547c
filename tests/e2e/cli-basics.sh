#!/bin/bash
# CLI: help, version, flag errors, loopback clamp, data dir and listen.json.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

out=$("$GREYPROXY" --help); ok $? "--help exits 0"
like "$out" "serve" "--help lists serve"
# Every description starts in the same column, the longest name included.
like "$out" "conversations  +list" "--help: the longest name keeps two spaces"
starts=$(printf '%s\n' "$out" | awk '/^  [a-z]+  +[a-z]/ { match($0, /^  [a-z]+  +/); print RLENGTH }' | sort -u | wc -l)
is "$starts" 1 "--help: every description in one column"
out=$("$GREYPROXY" version); like "$out" '^greyproxy [0-9]+\.[0-9]+\.[0-9]+$' "version line"
out=$("$GREYPROXY" --version); like "$out" '^greyproxy ' "--version"
"$GREYPROXY" >/dev/null 2>&1; is $? 2 "no command: exit 2"
"$GREYPROXY" frobnicate >/dev/null 2>&1; is $? 2 "unknown command: exit 2"
out=$("$GREYPROXY" serve --help); ok $? "serve --help exits 0"
like "$out" "--socks ADDR" "serve --help lists --socks"
out=$("$GREYPROXY" rule --help); like "$out" "rule add allow" "rule --help"

err=$("$GREYPROXY" serve --bogus --data-dir "$T/x" 2>&1); rc=$?
is "$rc" 2 "unknown flag: exit 2"
is "$(printf '%s\n' "$err" | wc -l)" 1 "unknown flag: one line"
like "$err" "bogus" "unknown flag named"
err=$("$GREYPROXY" serve --http nonsense --data-dir "$T/x" 2>&1); rc=$?
is "$rc" 2 "bad address: exit 2"
like "$err" "--http nonsense" "bad address named"
err=$("$GREYPROXY" serve --http 127.0.0.1:99999 --data-dir "$T/x" 2>&1)
is $? 2 "bad port: exit 2"
err=$("$GREYPROXY" serve --http 0.0.0.0:0 --data-dir "$T/x" 2>&1); rc=$?
is "$rc" 2 "non-loopback refused: exit 2"
like "$err" "allow-non-loopback" "refusal names the opt-in flag"
err=$("$GREYPROXY" serve --connect-timeout abc --data-dir "$T/x" 2>&1)
is $? 2 "bad timeout: exit 2"
test ! -e "$T/x"; ok $? "a refused command creates no data dir"

GP_DATA=$T/nested/data
gp_start
is "$(stat -c %a "$GP_DATA")" 700 "data dir is 0700"
is "$(stat -c %a "$GP_DATA/greyproxy.db")" 600 "database is 0600"
is "$(stat -c %a "$GP_DATA/listen.json")" 600 "listen.json is 0600"
like "$GP_HTTP" '^127\.0\.0\.1:[1-9][0-9]*$' "listen.json has the bound HTTP port"
like "$GP_SOCKS" '^127\.0\.0\.1:[1-9][0-9]*$' "listen.json has the bound SOCKS port"
is "$(json_get "$GP_DATA/listen.json" pid)" "$GP_PID" "listen.json has the pid"
grep -q "http-proxy listening on $GP_HTTP" "$T/serve.log"
ok $? "log line with the bound HTTP address"
grep -q "socks5-proxy listening on $GP_SOCKS" "$T/serve.log"
ok $? "log line with the bound SOCKS address"
v=$(sqlite3 "$GP_DATA/greyproxy.db" "PRAGMA user_version")
like "$v" "^[1-9][0-9]*$" "schema versioned with user_version"
jm=$(sqlite3 "$GP_DATA/greyproxy.db" "PRAGMA journal_mode")
is "$jm" wal "database in WAL mode"

# A second instance on the same port fails cleanly.
err=$("$GREYPROXY" serve --http "$GP_HTTP" --socks 127.0.0.1:0 --dns 127.0.0.1:0 --data-dir "$T/y" 2>&1)
is $? 1 "port in use: exit 1"
like "$err" "cannot listen on $GP_HTTP" "port in use explained"

kill -TERM "$GP_PID"; wait "$GP_PID"; rc=$?
is "$rc" 0 "SIGTERM: clean exit"
test ! -e "$GP_DATA/listen.json"; ok $? "listen.json removed on exit"
done_testing
