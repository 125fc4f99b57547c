#!/bin/bash
# Time and space limits for every client: total deadlines on heads and
# handshakes (slowloris on each listener is cut off while other clients
# are served), the pending queue's bounds, and a WebSocket client that
# never reads.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
GP_SETTINGS='{"pendingMaxEntries":300,"pendingMaxWaiters":3,"pendingTimeout":30}'
origin_start o
gp_start --header-timeout 2 --idle-timeout 3
rule add allow 127.0.0.1 --port "$ORIGIN_PORT" >/dev/null
O="http://127.0.0.1:$ORIGIN_PORT/hello"
wait_for 5 status_is 200 "$O"; ok $? "baseline"
HP=${GP_HTTP##*:}; SP=${GP_SOCKS##*:}; AP=${GP_API##*:}
DP=$(json_get "$GP_DATA/listen.json" dns); DP=${DP##*:}

# --- slowloris on every listener, all at once -------------------------
slow() {	# slow NAME PORT PREFIX-HEX TRICKLE
	python3 "$LIB/slowloris.py" 127.0.0.1 "$2" --prefix "$3" \
		--trickle "$4" --limit 15 > "$T/slow.$1" &
	PIDS="$PIDS $!"
}
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
slow http "$HP" "$(hex "GET $O HTTP/1.1
")" "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
slow socks "$SP" "050100050100""03ff" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
slow dns "$DP" "0040" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
slow api "$AP" "$(hex "GET /api/health HTTP/1.1
")" "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
# Meanwhile, normal clients are served.
served=0
for i in 1 2 3 4 5; do
	[ "$(proxy_status "$O")" = 200 ] && served=$((served + 1))
	[ "$(api GET /api/health >/dev/null; api_status)" = 200 ] && served=$((served + 1))
done
is "$served" 10 "normal clients served during the slowloris"
for n in http socks dns api; do
	wait_for 15 test -s "$T/slow.$n"
	r=$(cat "$T/slow.$n")
	like "$r" "^CLOSED" "slowloris on $n: cut off"
	t=${r#CLOSED }; t=${t%.*}
	check "${t:-99} <= 5" "slowloris on $n: by its 2 s deadline, not extended by trickled bytes ($r)"
done

# --- the API's connection cap and idle timeout ---------------------------
cat > "$T/apiconns.py" <<'PY'
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
conns = [socket.create_connection((host, port), timeout=5) for i in range(300)]
time.sleep(0.5)                 # let the server take them all
closed = 0
for c in conns:
    c.setblocking(False)
    try:
        closed += c.recv(1) == b""
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
print(closed)
# The survivors are closed by the server once idle (3 s here).
t0 = time.time()
for c in conns:
    c.setblocking(True)
    c.settimeout(max(0.1, 8 - (time.time() - t0)))
    try:
        c.recv(1)
    except OSError:
        pass
print("%.1f" % (time.time() - t0))
PY
out=$(python3 "$T/apiconns.py" "${GP_API%:*}" "${GP_API##*:}")
extra=$(printf '%s\n' "$out" | head -1); idle=$(printf '%s\n' "$out" | tail -1)
check "$extra >= 40 && $extra <= 50" "API: connections past 256 are closed at once ($extra of 300)"
check "${idle%.*} < 7" "API: idle connections are closed (after ${idle} s)"
[ "$(api GET /api/health >/dev/null; api_status)" = 200 ]; ok $? "the API serves afterwards"

# --- the pending queue's bounds ---------------------------------------
# Waiters: three connections may wait, the fourth gets 503 with a reason.
CURLS=""
for i in 1 2 3; do
	curl -s -o /dev/null --max-time 20 -x "http://$GP_HTTP" "http://wait$i.example:81/" &
	CURLS="$CURLS $!"
done
PIDS="$PIDS $CURLS"
waiting() { [ "$(jget "$(api GET /api/status)" 'd.get("pending_waiting", d.get("waiting", -1))')" -ge "$1" ] 2>/dev/null ||
	[ "$(jget "$(api GET /api/pending)" 'sum(e["waiting"] for e in d["items"])')" -ge "$1" ]; }
wait_for 10 waiting 3; ok $? "three connections wait"
out=$(curl -s -D - -o /dev/null --max-time 10 -x "http://$GP_HTTP" "http://wait4.example:81/" | tr -d '\r')
like "$out" "^HTTP/1.1 503" "the fourth gets 503"
like "$out" "X-Proxy-Error: blocked-by-pending-limit" "with a reason"
grep -q "pending queue full" "$T/serve.log"; ok $? "logged"
for p in $CURLS; do kill "$p"; wait "$p" 2>/dev/null; done
wait_for 10 eval '[ "$(jget "$(api GET /api/pending/count)" "d[\"waiting\"]")" = 0 ]'
ok $? "the waiting clients left"

# Entries: a flood of distinct destinations keeps at most 300 listed, the
# oldest unwatched going first, while an allowed client stays fast.
cat > "$T/flood.py" <<'PY'
import socket, struct, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    name = b"flood%d.example" % i
    s.sendall(b"\x05\x01\x00" + b"\x05\x01\x00\x03" + bytes([len(name)]) + name + struct.pack(">H", 443))
    s.recv(2)
    s.close()
PY
python3 "$T/flood.py" "$SP" 5000 &
FLOOD=$!; PIDS="$PIDS $FLOOD"
worst=0
while kill -0 "$FLOOD" 2>/dev/null; do
	t=$(curl -s -o /dev/null -w '%{time_total}' --max-time 10 -x "http://$GP_HTTP" "$O")
	t=${t/./}; t=$((10#${t:0:4}))	# milliseconds, roughly
	[ "$t" -gt "$worst" ] && worst=$t
done
wait "$FLOOD"
check "$worst < 1000" "allowed client under a pending flood: slowest request ${worst} ms"
total=$(jget "$(api GET /api/pending)" 'd["total"]')
check "$total <= 300" "the queue holds at most 300 entries ($total)"
api GET /api/pending > "$T/pending.json"
grep -q "flood4999.example" "$T/pending.json"; ok $? "the newest destination is listed"
! api GET /api/pending | grep -q '"flood0.example"'; ok $? "the oldest unwatched ones left"

# --- a WebSocket client that never reads ------------------------------
rss() { awk '/VmRSS/ {print $2}' "/proc/$GP_PID/status"; }
before=$(rss)
cat > "$T/wsflood.py" <<'PY'
import base64, os, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
           "Sec-WebSocket-Version: 13\r\n\r\n" % key).encode())
payload = b'{"command":"ping"}'
mask = b"\x01\x02\x03\x04"
frame = bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
sent = 0
try:
    for i in range(200000):         # ~5 MB of commands, never reading
        s.sendall(frame)
        sent += 1
except OSError:
    pass
print("sent", sent)
PY
out=$(timeout 60 python3 "$T/wsflood.py" "$AP")
after=$(rss)
like "$out" "^sent [0-9]+" "non-reading WebSocket client ran"
grep -q "api ws: client lags behind" "$T/serve.log"; ok $? "the non-reading client is dropped (1008)"
check "$after - $before < 30000" "memory bounded: RSS grew $((after - before)) KiB"
[ "$(api GET /api/health >/dev/null; api_status)" = 200 ]; ok $? "API still serves"
kill -0 "$GP_PID"; ok $? "server alive"
done_testing
