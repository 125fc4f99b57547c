#!/bin/bash
# A WebSocket client that stops reading while events pour in is dropped
# with close code 1008 once it is too far behind; the proxy carries on.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

python3 "$LIB/fakedns.py" --port-file "$T/up.port" --count-file "$T/up.json" \
	--a a.lag.test=10.1.1.1 2>>"$T/fakedns.log" &
PIDS="$PIDS $!"
wait_for 10 test -s "$T/up.port" || { echo "Bail out! fake DNS"; exit 1; }
gp_start --dns-upstream "127.0.0.1:$(cat "$T/up.port")"
GP_DNS=$(json_get "$GP_DATA/listen.json" dns)
python3 "$LIB/wsclient.py" "${GP_API%:*}" "${GP_API##*:}" --stall-until "$T/resume" \
	< /dev/null > "$T/ws.out" 2>&1 &
PIDS="$PIDS $!"
wait_for 5 grep -q STALLING "$T/ws.out"; ok $? "client connected and stalls"
# Requests to a denied host on one kept-alive connection, one log event
# each, in bursts until the proxy reports the lagging client (at most
# 200 000 requests, 25 s).
rule add deny '*.flood.test' >/dev/null
wait_for 5 eval '[ "$(proxy_status http://x.flood.test/)" = 403 ]'
python3 - "${GP_HTTP%:*}" "${GP_HTTP##*:}" "$T/serve.log" > "$T/sent" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
req = b"GET http://x.flood.test/ HTTP/1.1\r\nHost: x.flood.test\r\n\r\n"
sent, t0 = 0, time.time()
while sent < 200000 and time.time() - t0 < 25:
    s.sendall(req * 500)
    sent += 500
    got = 0
    while got < 500:            # read the 403s so the proxy goes on
        got += s.recv(1 << 20).count(b"HTTP/1.1 403")
    if "client lags behind" in open(sys.argv[3]).read():
        break
print(sent)
PY
touch "$T/resume"		# the client reads again: backlog, then close
closed() { grep -q "^CLOSE\|^EOF" "$T/ws.out"; }
wait_for 20 closed; ok $? "the lagging client is dropped"
is "$(grep -m1 '^CLOSE\|^EOF' "$T/ws.out")" "CLOSE 1008" "with close code 1008"
n=$(grep -c '"request_log.created"' "$T/ws.out")
check "$n < $(cat "$T/sent")" "it missed events rather than stalling the proxy ($n of $(cat "$T/sent") received)"
grep -q "client lags behind" "$T/serve.log"; ok $? "the drop is logged"
is "$(dig @"${GP_DNS%:*}" -p "${GP_DNS##*:}" +short +time=3 a.lag.test)" 10.1.1.1 "the proxy keeps serving"
done_testing
