#!/bin/bash
# File-descriptor exhaustion: logged once per episode with a count (not
# silently, not once per refused connection), and the proxy serves again
# once descriptors are free.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
origin_start o
GP_DATA=$T/data
mkdir -p -m 700 "$GP_DATA"
( ulimit -n 64; exec "$GREYPROXY" serve --http 127.0.0.1:0 --socks 127.0.0.1:0 \
	--dns 127.0.0.1:0 --api 127.0.0.1:0 --data-dir "$GP_DATA" ) >>"$T/serve.log" 2>&1 &
GP_PID=$!; PIDS="$PIDS $GP_PID"
wait_for 10 test -s "$GP_DATA/listen.json" || { echo "Bail out! no start"; cat "$T/serve.log"; exit 1; }
GP_HTTP=$(json_get "$GP_DATA/listen.json" http); GP_API=$(json_get "$GP_DATA/listen.json" api)
rule add allow 127.0.0.1 --port "$ORIGIN_PORT" >/dev/null
O="http://127.0.0.1:$ORIGIN_PORT/hello"
wait_for 5 status_is 200 "$O"; ok $? "served under ulimit -n 64"
# Hold 200 idle connections: far more than 64 descriptors.  The hog
# releases them when told (the file "release" appears), 20 s at most.
cat > "$T/hog.py" <<'PY'
import os, socket, sys, time
host, port, release = sys.argv[1], int(sys.argv[2]), sys.argv[3]
socks = []
for i in range(200):
    try:
        socks.append(socket.create_connection((host, port), timeout=2))
    except OSError:
        pass
print(len(socks), flush=True)
t0 = time.time()
while not os.path.exists(release) and time.time() - t0 < 20:
    time.sleep(0.05)
PY
python3 "$T/hog.py" "${GP_HTTP%:*}" "${GP_HTTP##*:}" "$T/release" > "$T/hog.out" &
HOG=$!; PIDS="$PIDS $HOG"
wait_for 15 test -s "$T/hog.out"; ok $? "200 connections attempted"
wait_for 10 grep -q "cannot accept connections: .*out of file descriptors" "$T/serve.log"
ok $? "descriptor exhaustion is logged, with the remedy"
touch "$T/release"; wait "$HOG"
wait_for 10 status_is 200 "$O"; ok $? "serves again once descriptors are free"
is "$(grep -c "cannot accept connections" "$T/serve.log")" 1 "one line for the episode, not one per connection"
wait_for 5 grep -q "accepting connections again after [0-9]* failures" "$T/serve.log"
ok $? "the end of the episode is logged with the count"
check "$(jget "$(curl -s "http://$GP_API/api/status")" 'd["storage"]["accept_failures"]') > 0" "counted in /api/status"

# A soft limit under the hard one is raised to it, and the descriptor
# table is grown at start (up to 65 536): growing it later, with threads
# running, stalled the loop inside accept(2) at each doubling.
HARD=$(ulimit -Hn)
[ "$HARD" = unlimited ] && HARD=1048576
SOFT=$(( HARD < 512 ? HARD : 256 ))
mkdir -p -m 700 "$T/data2"
( ulimit -Sn "$SOFT"; exec "$GREYPROXY" serve --http 127.0.0.1:0 --socks 127.0.0.1:0 \
	--dns 127.0.0.1:0 --api 127.0.0.1:0 --data-dir "$T/data2" ) >>"$T/serve2.log" 2>&1 &
P2=$!; PIDS="$PIDS $P2"
wait_for 10 test -s "$T/data2/listen.json"; ok $? "started under a soft limit of $SOFT"
is "$(awk '/^Max open files/ {print $4}' "/proc/$P2/limits")" "$(awk '/^Max open files/ {print $5}' "/proc/$P2/limits")" \
	"soft descriptor limit raised to the hard one"
WANT=$(( HARD < 65536 ? HARD : 65536 ))
check "$(awk '/^FDSize/ {print $2}' "/proc/$P2/status") >= $WANT" "descriptor table grown to $WANT at start"
done_testing
