#!/bin/bash
# The tunnel relay, both ways it moves bytes: splice(2) between two plain
# TCP sockets (the default) and copies through the streams
# (GREYPROXY_RELAY=copy, the path TLS will take).  For each: bytes intact
# both ways through CONNECT and SOCKS5, EOF passed on while the way back
# stays open, the log's byte counts, no descriptor left behind, and the
# idle timeout still closing a quiet tunnel.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

python3 "$LIB/halfclose.py" server --port-file "$T/hc.port" 2>>"$T/hc.log" &
PIDS="$PIDS $!"
wait_for 10 test -s "$T/hc.port" || { echo "Bail out! half-close server"; exit 1; }
HC=127.0.0.1:$(cat "$T/hc.port")
origin_start o; OP=$ORIGIN_PORT
N=3000000
want_hc=$(python3 -c '
import hashlib, sys
n = int(sys.argv[1]); d = bytes(range(256)) * 256
print(n, hashlib.sha256((d * (n // len(d) + 1))[:n]).hexdigest())' $N)
want_dl=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); from origin import pattern; import hashlib; print(hashlib.sha256(pattern(10485760)).hexdigest())' "$LIB")
nfd() { ls "/proc/$GP_PID/fd" | wc -l; }
status() { jget "$(api GET /api/status)" "d['tunnels']['$1']"; }

for mode in splice copy; do
	if [ $mode = copy ]; then export GREYPROXY_RELAY=copy; else unset GREYPROXY_RELAY; fi
	rm -rf "$T/data"; GP_DATA=
	# (Interception off: the HTTP inside the tunnels is not read.)
	GP_SETTINGS='{"defaultAction":"block","privateNetworkProtection":false,"mitmEnabled":false}'
	gp_start --idle-timeout 1
	api POST /api/rules -d '{"destination_pattern":"127.0.0.1","action":"allow"}' >/dev/null
	is "$(api_status)" 200 "$mode: allow 127.0.0.1"

	got=$(python3 "$LIB/halfclose.py" client --via http --proxy "$GP_HTTP" --target "$HC" --bytes $N)
	is "$got" "$want_hc" "$mode: CONNECT: 3 MB up, EOF passed on, the answer comes back"
	got=$(python3 "$LIB/halfclose.py" client --via socks5 --proxy "$GP_SOCKS" --target "$HC" --bytes $N)
	is "$got" "$want_hc" "$mode: SOCKS5: the same"
	got=$(curl -s --max-time 30 -p -x "http://$GP_HTTP" "http://127.0.0.1:$OP/bytes/10485760" | sha256sum | cut -d' ' -f1)
	is "$got" "$want_dl" "$mode: CONNECT: 10 MiB down intact"
	got=$(curl -s --max-time 30 --socks5 "$GP_SOCKS" "http://127.0.0.1:$OP/bytes/10485760" | sha256sum | cut -d' ' -f1)
	is "$got" "$want_dl" "$mode: SOCKS5: 10 MiB down intact"
	if [ $mode = splice ]; then
		is "$(status spliced)" 4 "splice: every tunnel spliced"
		is "$(status copied)" 0 "splice: none copied"
	else
		is "$(status copied)" 4 "copy: every tunnel copied"
		is "$(status spliced)" 0 "copy: none spliced"
	fi

	# The log counts the tunnel's bytes (after the CONNECT head).
	wait_for 10 eval '[ "$(jget "$(api GET "/api/logs?destination=127.0.0.1&limit=10")" "len(d[\"items\"])")" -ge 4 ]'
	j=$(api GET "/api/logs?destination=127.0.0.1&limit=10")
	up=$(jget "$j" 'max(i["bytes_up"] for i in d["items"])')
	down=$(jget "$j" 'max(i["bytes_down"] for i in d["items"])')
	check "$up >= $N && $up < $N + 1000" "$mode: bytes_up of the 3 MB tunnel counted ($up)"
	check "$down >= 10485760 && $down < 10485760 + 1000" "$mode: bytes_down of the 10 MiB tunnel counted ($down)"

	# Descriptors: tunnels come and go without leaving any (pipes are
	# pooled, a few at most).
	for i in $(seq 10); do curl -s -o /dev/null --max-time 10 -p -x "http://$GP_HTTP" "http://127.0.0.1:$OP/bytes/200000"; done
	wait_for 10 eval '[ "$(jget "$(api GET /api/status)" "d[\"connections\"]")" = 0 ]'
	a=$(nfd)
	for i in $(seq 30); do curl -s -o /dev/null --max-time 10 -p -x "http://$GP_HTTP" "http://127.0.0.1:$OP/bytes/200000"; done
	wait_for 10 eval '[ "$(jget "$(api GET /api/status)" "d[\"connections\"]")" = 0 ]'
	b=$(nfd)
	check "$b <= $a" "$mode: 30 more tunnels leave no descriptor behind ($a, then $b)"

	# A quiet tunnel is closed by the idle timeout (1 s here).
	s=$(python3 "$LIB/halfclose.py" idle --via socks5 --proxy "$GP_SOCKS" --target "$HC" --timeout 10)
	check "$(python3 -c "print(int(0.5 <= float('${s:-99}') < 5))") == 1" "$mode: an idle tunnel closes after the timeout (${s:-never} s)"
	gp_stop
done
unset GREYPROXY_RELAY
done_testing
