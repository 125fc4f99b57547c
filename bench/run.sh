#!/bin/bash
# bench/run.sh: greyproxy beside its peers, on loopback, in one run.
#
#   bench/run.sh [--install] [--secs N] [--out FILE] [--smoke]
#
# Starts an origin (nginx when installed, else bench/gp-load's), greyproxy
# with 1 rule and with 100 000 mixed rules, and every peer that is
# installed (squid, tinyproxy, mitmproxy, microsocks, dante), then prints
# one table per measure: the figure of each, and greyproxy's ratio to it
# (greyproxy@100k against greyproxy@1 rule).  Figures, never assertions.
# Results also go to bench/results/DATE-HOST.txt (or --out).
#
# --smoke: a few seconds, greyproxy and the origin only, small sizes, so
# `make check` keeps the harness from rotting (bench/smoke.sh).
#
# --install: first installs the peers, the origin and wrk from Debian
# (apt-get, as root or through sudo), those not installed yet.
#
# Peers: apt-get install squid tinyproxy mitmproxy microsocks dante-server
#        nginx-light wrk curl
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${GREYPROXY_BUILD:-$TOP}
GP=$B/greyproxy
LOAD=$B/bench/gp-load
SECS=5 SMOKE=0 OUT= INSTALL=0
while [ $# -gt 0 ]; do
	case $1 in
	--secs) SECS=$2; shift ;;
	--out) OUT=$2; shift ;;
	--smoke) SMOKE=1 ;;
	--install) INSTALL=1 ;;
	*) echo "usage: bench/run.sh [--install] [--secs N] [--out FILE] [--smoke]" >&2; exit 2 ;;
	esac
	shift
done
if [ "$INSTALL" = 1 ]; then
	missing=""
	for p in squid tinyproxy mitmproxy microsocks dante-server nginx-light wrk curl; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing="$missing $p"
	done
	SUDO=
	[ "$(id -u)" -ne 0 ] && SUDO=sudo
	if [ -n "$missing" ]; then
		echo "bench: installing$missing"
		$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
		$SUDO env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $missing ||
			{ echo "bench: apt-get failed" >&2; exit 1; }
		# The benchmark starts its own: none left running as services.
		for svc in squid tinyproxy danted nginx; do
			$SUDO service "$svc" stop >/dev/null 2>&1 || true
		done
	fi
fi
if [ "$SMOKE" = 1 ]; then
	SECS=0.5 LEVELS="1 5" NRULES=1000 IDLE="200" BIG=8388608 RUNS=1 APPROVALS=2
	BURST=200 ADDS=5 ADD_CONNS=5
	BULK_RUNS=1 FWD_ROUNDS=1
else
	LEVELS="1 50 500" NRULES=100000 IDLE="1000 10000" BIG=104857600 RUNS=3 APPROVALS=5
	BURST=2000 ADDS=40 ADD_CONNS=50
	BULK_RUNS=5 FWD_ROUNDS=3
fi
[ -x "$GP" ] && [ -x "$LOAD" ] || { echo "bench: build first (make, make bench/gp-load)" >&2; exit 1; }
for tool in curl python3; do
	command -v $tool >/dev/null || { echo "bench: $tool missing" >&2; exit 1; }
done
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# A tunnel holds two descriptors in the proxy: the idle counts fit the limit.
FDS=$(ulimit -n)
IDLE_FIT=""
for n in $IDLE; do
	[ $((2 * n + 512)) -gt "$FDS" ] && n=$(( (FDS - 512) / 2 / 100 * 100 ))
	IDLE_FIT="$IDLE_FIT $n"
done
IDLE=$IDLE_FIT

T=$(mktemp -d)
chmod 755 "$T"		# squid drops to its own user
PIDS=""
TMUX_L=gp-bench-$$	# a private tmux server for `greyproxy tui`
trap 'tmux -L "$TMUX_L" kill-server 2>/dev/null; for p in $PIDS; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT
if [ -z "$OUT" ]; then
	mkdir -p "$TOP/bench/results"
	OUT=$TOP/bench/results/$(date -u +%Y-%m-%d)-$(hostname -s).txt
fi
: > "$OUT"
say() { printf '%s\n' "$*" | tee -a "$OUT"; }
row() { printf '  %-24s %10s %10s %14s\n' "$@" | tee -a "$OUT"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {	# wait_port PORT [tries]: until something accepts there
	local i
	for i in $(seq "${2:-200}"); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
tree_pids() {	# tree_pids PID: it and its descendants
	local p=$1 c
	echo "$p"
	for c in $(pgrep -P "$p"); do tree_pids "$c"; done
}
rss() {		# rss PID: resident KiB of the process tree
	local s=0 p r
	for p in $(tree_pids "$1"); do
		r=$(awk '/VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null)
		s=$((s + ${r:-0}))
	done
	echo $s
}
# Tens of thousands of short connections leave their ports in TIME_WAIT
# for a minute; the next measure (or a bind to port 0) must not run out.
drain_tw() {
	local i
	[ "$SMOKE" = 1 ] && return 0	# a few hundred connections in all
	for i in $(seq 90); do
		[ "$(ss -Htan state time-wait 2>/dev/null | wc -l)" -lt 4000 ] && return 0
		sleep 1
	done
}
ratio() { python3 -c "import sys; a,b=float(sys.argv[1] or 0),float(sys.argv[2] or 0); print('%.2fx' % (a/b) if a and b else '-')" "$1" "$2"; }
field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i+1)}'; }
ms() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1] or 0)/1000))" "$1"; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print ""}'; }
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

# ---- the machine
say "greyproxy bench, $(date -u '+%Y-%m-%d %H:%M UTC'), $(hostname -s)"
say "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -sr)"
say "greyproxy $("$GP" --version 2>/dev/null | head -1), $( [ "$SMOKE" = 1 ] && echo smoke || echo "full, $SECS s per figure")"

# ---- origin
mkdir -p "$T/www" "$T/nginx"
if [ "$SMOKE" = 0 ] && [ -x /usr/sbin/nginx ]; then
	OP=$(free_port)
	echo "hello" > "$T/www/hello"
	head -c "$BIG" /dev/zero > "$T/www/big"
	cat > "$T/nginx/nginx.conf" <<NGX
daemon off; worker_processes 1; pid $T/nginx/pid; error_log $T/nginx/err;
worker_rlimit_nofile 65536;
events { worker_connections 30000; }
http { access_log off; sendfile on; keepalive_requests 1000000; keepalive_timeout 300s;
  client_body_temp_path $T/nginx; proxy_temp_path $T/nginx;
  fastcgi_temp_path $T/nginx; uwsgi_temp_path $T/nginx; scgi_temp_path $T/nginx;
  server { listen 127.0.0.1:$OP backlog=4096; root $T/www; } }
NGX
	/usr/sbin/nginx -c "$T/nginx/nginx.conf" -p "$T/nginx" 2>/dev/null & PIDS="$PIDS $!"
	BIGPATH=/big ORIGIN=nginx
else
	"$LOAD" origin --port-file "$T/origin.port" & PIDS="$PIDS $!"
	for _ in $(seq 100); do [ -s "$T/origin.port" ] && break; sleep 0.05; done
	OP=$(cat "$T/origin.port")
	BIGPATH="/big?$BIG" ORIGIN=gp-load
fi
wait_port "$OP" || { echo "bench: origin did not start" >&2; exit 1; }
say "origin: $ORIGIN on 127.0.0.1:$OP"

# ---- greyproxy: one rule, and NRULES mixed rules
gp_serve() {	# gp_serve NAME: starts one, sets GPID GH GS GA
	local d=$T/$1
	"$GP" rule --data-dir "$d" add allow 127.0.0.1 --port "$OP" >/dev/null
	"$GP" serve --http 127.0.0.1:0 --socks 127.0.0.1:0 --dns 127.0.0.1:0 \
		--api 127.0.0.1:0 --data-dir "$d" --log-level error 2>"$T/$1.log" &
	GPID=$!; PIDS="$PIDS $GPID"
	for _ in $(seq 200); do [ -s "$d/listen.json" ] && break; sleep 0.05; done
	GH=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$d/listen.json")
	GS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["socks5"])' "$d/listen.json")
	GA=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["api"])' "$d/listen.json")
}
gp_serve gp1; G1=$GPID G1H=$GH G1S=$GS G1A=$GA
gp_serve gpN; GN=$GPID GNH=$GH GNS=$GS GNA=$GA
python3 - "$NRULES" > "$T/rules.json" <<'PY'
import json, sys
n = int(sys.argv[1]); out = []
for i in range(n):
    k = i % 10
    r = {"destination_pattern": "h%d.example" % i}
    if k >= 5 and k < 8: r["destination_pattern"] = "*.d%d.example" % i
    if k >= 8: r["destination_pattern"] = "api-%d.*" % i
    if i % 97 == 0: r["destination_pattern"] = "**.w%d.example" % i
    if i % 89 == 0: r["destination_pattern"] = "10.%d.%d.0/24" % (i // 256 % 256, i % 256)
    if i % 7 == 0: r["port_pattern"] = "443,8443"
    if i % 11 == 0: r["container_pattern"] = "team-%d" % (i % 50)
    if i % 3 == 0: r["action"] = "deny"
    out.append(r)
print(json.dumps(out))
PY
t0=$(date +%s.%N)
curl -s -o /dev/null --max-time 120 -X POST --data-binary @"$T/rules.json" "http://$GNA/api/rules/ingest"
t1=$(date +%s.%N)
n=$(curl -s "http://$GNA/api/status" | jget 'd["rules"]')
say "greyproxy@$NRULES: $n rules, ingested through the API in $(python3 -c "print('%.2f s' % ($t1 - $t0))")"
# Start-up with them: from exec to listen.json, three starts (one is at
# the mercy of whatever else the machine does), the median printed.
: > "$T/startup"
for _ in 1 2 3; do
	kill "$GN"; wait "$GN" 2>/dev/null
	rm -f "$T/gpN/listen.json"
	t0=$(date +%s.%N)
	"$GP" serve --http 127.0.0.1:0 --socks 127.0.0.1:0 --dns 127.0.0.1:0 \
		--api 127.0.0.1:0 --data-dir "$T/gpN" --log-level error 2>>"$T/gpN.log" &
	GN=$!
	for _ in $(seq 2000); do [ -s "$T/gpN/listen.json" ] && break; sleep 0.005; done
	t1=$(date +%s.%N)
	python3 -c "print('%.0f' % (($t1 - $t0) * 1000))" >> "$T/startup"
done
PIDS="$PIDS $GN"
GNH=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$T/gpN/listen.json")
GNS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["socks5"])' "$T/gpN/listen.json")
GNA=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["api"])' "$T/gpN/listen.json")
say "greyproxy@$NRULES start-up: $(median < "$T/startup") ms (median of $(paste -sd' ' "$T/startup") ms), $(rss "$GN") KiB resident"
# ---- approval latency at NRULES
say ""
say "approval at $NRULES rules (POST /api/pending/:id/allow, end to end)"
lat=
for i in $(seq $APPROVALS); do
	p=$(free_port)
	curl -s -o /dev/null --max-time 30 -x "http://$GNH" "http://127.0.0.1:$p/" &
	cp=$!
	id=
	for _ in $(seq 200); do
		id=$(curl -s "http://$GNA/api/pending" | python3 -c 'import json,sys
d=json.load(sys.stdin); p=int(sys.argv[1])
print(next((e["id"] for e in d["items"] if e["destination_port"]==p), ""))' "$p")
		[ -n "$id" ] && break
		sleep 0.02
	done
	t=$(curl -s -o /dev/null -w '%{time_total}' -X POST -d '{}' "http://$GNA/api/pending/$id/allow")
	lat="$lat $(python3 -c "print('%.2f' % ($t * 1000))")"
	wait $cp 2>/dev/null
done
say "  ms:$lat"

# ---- a burst of new destinations: BURST connections, each to its own
# destination no rule covers, held for a decision, on a fresh instance;
# the loop's longest iteration while they arrive (every connection
# stalls that long).
say ""
say "burst of $BURST new destinations held for a decision (pending), fresh instance"
gp_serve gpb
out=$(python3 - "$GH" "$GA" "$BURST" <<'PY'
import json, socket, sys, time, urllib.request
proxy, api, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
host, port = proxy.rsplit(":", 1)
held = []
for i in range(n):
    j = i + 1                       # 10.0.0.1 onwards, each its own
    ip = "10.%d.%d.%d" % (j >> 16 & 255, j >> 8 & 255, j & 255)
    s = socket.create_connection((host, int(port)))
    s.sendall(("CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n" % (ip, ip)).encode())
    held.append(s)
t0 = time.time()
while time.time() - t0 < 30:
    c = json.load(urllib.request.urlopen("http://%s/api/pending/count" % api))
    if c["waiting"] >= n: break
    time.sleep(0.05)
d = json.load(urllib.request.urlopen("http://%s/api/status" % api))["loop"]
print("  %d waiting; loop: longest iteration %.2f ms, %d over 10 ms, %d over 1 ms (of %d)" %
      (c["waiting"], d["busy_max_ms"], d["busy_over_10ms"], d["busy_over_1ms"], d["iterations"]))
ids, off = [], 0
while True:
    items = json.load(urllib.request.urlopen("http://%s/api/pending?limit=1000&offset=%d" % (api, off)))["items"]
    if not items: break
    ids += [e["id"] for e in items]; off += len(items)
t0 = time.time()
req = urllib.request.Request("http://%s/api/pending/bulk-allow" % api, method="POST",
                             data=json.dumps({"ids": ids, "scope": "exact"}).encode())
allowed = json.load(urllib.request.urlopen(req))["allowed"]
t1 = time.time()
e = json.load(urllib.request.urlopen("http://%s/api/status" % api))["loop"]
print("  bulk-allow of the %d entries: answered in %.1f ms; loop iterations over 10 ms since: %d" %
      (allowed, (t1 - t0) * 1000, e["busy_over_10ms"] - d["busy_over_10ms"]))
for s in held: s.close()
PY
)
say "${out:-  (the burst did not run)}"
kill "$GPID"; wait "$GPID" 2>/dev/null

# ---- rule changes under load: ADDS rules through the API, 0.1 s apart,
# while gp-load keeps ADD_CONNS connections busy through a fresh
# instance (log and transactions on): each add's time and the loop's
# longest iteration meanwhile (a rule write that waits for the write
# lock stalls every connection).
say ""
say "rule changes under load ($ADDS adds through the API while gp-load runs $ADD_CONNS connections), fresh instance"
gp_serve gpr
out=$(python3 - "$LOAD" "$OP" "$GH" "$GA" "$ADDS" "$ADD_CONNS" <<'PY'
import json, subprocess, sys, time, urllib.request
load, op, proxy, api, n, conns = sys.argv[1:7]
n = int(n)
secs = n * 0.1 + 1.5
lp = subprocess.Popen([load, "http", "--url", "http://127.0.0.1:%s/hello" % op, "--proxy", proxy,
                       "-c", conns, "-d", "%.1f" % secs], stdout=subprocess.PIPE, text=True)
time.sleep(0.5)
d = json.load(urllib.request.urlopen("http://%s/api/status" % api))["loop"]
lat = []
for i in range(n):
    body = {"container_pattern": "*", "destination_pattern": "add-%d.example.com" % i,
            "port_pattern": "443", "action": "allow"}
    req = urllib.request.Request("http://%s/api/rules" % api, method="POST",
                                 data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    t0 = time.time()
    urllib.request.urlopen(req).read()
    lat.append((time.time() - t0) * 1000)
    time.sleep(0.1)
e = json.load(urllib.request.urlopen("http://%s/api/status" % api))["loop"]
lo = lp.communicate()[0].strip()
lat.sort()
print("  rule add: median %.2f ms, max %.2f ms; loop meanwhile: %d iterations over 10 ms, longest %.2f ms" %
      (lat[len(lat) // 2], lat[-1], e["busy_over_10ms"] - d["busy_over_10ms"], e["busy_max_ms"]))
print("  load: %s" % lo)
PY
)
say "${out:-  (it did not run)}"
kill "$GPID"; wait "$GPID" 2>/dev/null

# ---- rule decisions
say ""
say "rule decisions (bench/rules-bench$( [ "$SMOKE" = 1 ] && echo " --smoke"))"
if [ "$SMOKE" = 1 ]; then
	"$B/bench/rules-bench" --smoke 2>&1 | sed 's/^/  /' | tee -a "$OUT"
else
	"$B/bench/rules-bench" 2>&1 | sed 's/^/  /' | tee -a "$OUT"
fi
# dante: a mother process and children it forks as clients come; after
# thousands of tunnels a hundred children stay, waking, and the machine
# they share reads their noise (direct's p99 at one connection went
# from 0.09 to 0.4-0.9 ms).  So a fresh one after the idle tunnels.
start_dante() {
	DTP=$(free_port)
	cat > "$T/danted.conf" <<DNT
logoutput: $T/danted.log
internal: 127.0.0.1 port = $DTP
external: 127.0.0.1
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 command: connect }
DNT
	/usr/sbin/danted -f "$T/danted.conf" >/dev/null 2>&1 & DT=$!; PIDS="$PIDS $DT"
	wait_port "$DTP" || DT=
}

# ---- peers, each only if installed (and never in smoke mode)
SQ= TP= MT= MS= DT=
if [ "$SMOKE" = 0 ]; then
	if [ -x /usr/sbin/squid ]; then
		SQP=$(free_port); mkdir -p "$T/squid"; chmod 777 "$T/squid"
		cat > "$T/squid/squid.conf" <<SQC
http_port 127.0.0.1:$SQP
http_access allow all
cache deny all
cache_mem 8 MB
access_log stdio:$T/squid/access.log
cache_log $T/squid/cache.log
pid_filename $T/squid/squid.pid
coredump_dir $T/squid
cache_effective_user proxy
max_filedescriptors 65536
shutdown_lifetime 1 seconds
via off
forwarded_for delete
SQC
		/usr/sbin/squid -N -f "$T/squid/squid.conf" 2>/dev/null & SQ=$!; PIDS="$PIDS $SQ"
		wait_port "$SQP" 400 || SQ=
	fi
	if command -v tinyproxy >/dev/null; then
		TPP=$(free_port)
		printf 'Port %s\nListen 127.0.0.1\nAllow 127.0.0.1\nMaxClients 12000\nTimeout 600\nLogLevel Critical\nLogFile "%s/tp.log"\n' \
			"$TPP" "$T" > "$T/tinyproxy.conf"
		tinyproxy -d -c "$T/tinyproxy.conf" 2>/dev/null & TP=$!; PIDS="$PIDS $TP"
		wait_port "$TPP" || TP=
	fi
	if command -v mitmdump >/dev/null; then
		MTP=$(free_port)
		mitmdump -q --listen-host 127.0.0.1 --listen-port "$MTP" \
			--set confdir="$T/mitm" --set stream_large_bodies=1m \
			>/dev/null 2>&1 & MT=$!; PIDS="$PIDS $MT"
		wait_port "$MTP" 400 || MT=
	fi
	if command -v microsocks >/dev/null; then
		MSP=$(free_port)
		microsocks -i 127.0.0.1 -p "$MSP" >/dev/null 2>&1 & MS=$!; PIDS="$PIDS $MS"
		wait_port "$MSP" || MS=
	fi
	if [ -x /usr/sbin/danted ]; then
		start_dante
	fi
fi
say "peers: $( [ -n "$SQ" ] && echo -n "squid ")$( [ -n "$TP" ] && echo -n "tinyproxy ")$( [ -n "$MT" ] && echo -n "mitmproxy ")$( [ -n "$MS" ] && echo -n "microsocks ")$( [ -n "$DT" ] && echo -n "dante")"
# "name|pid|http proxy" and "name|pid|socks proxy", greyproxy first.
HTTP_SYS="greyproxy|$G1|$G1H greyproxy@$NRULES|$GN|$GNH"
[ -n "$SQ" ] && HTTP_SYS="$HTTP_SYS squid|$SQ|127.0.0.1:$SQP"
[ -n "$TP" ] && HTTP_SYS="$HTTP_SYS tinyproxy|$TP|127.0.0.1:$TPP"
[ -n "$MT" ] && HTTP_SYS="$HTTP_SYS mitmproxy|$MT|127.0.0.1:$MTP"
SOCKS_SYS="greyproxy|$G1|$G1S greyproxy@$NRULES|$GN|$GNS"
[ -n "$MS" ] && SOCKS_SYS="$SOCKS_SYS microsocks|$MS|127.0.0.1:$MSP"
[ -n "$DT" ] && SOCKS_SYS="$SOCKS_SYS dante|$DT|127.0.0.1:$DTP"

# The ratio column: greyproxy / peer; greyproxy@N / greyproxy.
rel() {		# rel NAME VALUE GP_VALUE [lower-is-better]
	case $1 in
	greyproxy) echo "" ;;
	greyproxy@*) ratio "$2" "$3" | sed 's/$/ of gp/' ;;
	*) if [ -n "${4:-}" ]; then ratio "$2" "$3"; else ratio "$3" "$2"; fi ;;
	esac
}
loop_stats() { curl -s "http://$1/api/status" | jget '"%d %d %d %.2f" % (d["loop"]["iterations"], d["loop"]["busy_over_1ms"], d["loop"]["busy_over_10ms"], d["loop"]["busy_max_ms"])'; }

# ---- idle tunnels, first: on fresh processes, before load has grown their heaps
idle() {	# idle VIA NAME PID ADDR N: KiB per idle tunnel
	local before after out
	rm -f "$T/hold"; mkfifo "$T/hold"
	before=$(rss "$3")
	"$LOAD" idle --via "$1" --proxy "$4" --target "127.0.0.1:$OP" -n "$5" -d 60 < "$T/hold" > "$T/idle.out" &
	local lp=$!
	exec 8>"$T/hold"
	for _ in $(seq 1300); do grep -q ready "$T/idle.out" && break; sleep 0.05; done
	after=$(rss "$3")
	exec 8>&-
	wait $lp
	# "ready N errors E" once all are up or failed; in any case, at exit,
	# "held N errors E": what was up while the memory was read.
	out=$(grep -m1 '^held' "$T/idle.out")
	echo "$before $after $(echo "$out" | field held) $(echo "$out" | field errors)"
}
say ""
say "idle tunnels (fd limit $FDS): resident KiB before, KiB per tunnel, ratio (lower is better)"
for n in $IDLE; do
	for s in $SOCKS_SYS $HTTP_SYS; do
		IFS='|' read -r name pid addr <<< "$s"
		case $name in greyproxy@*) continue ;; esac
		via=connect; [[ " $SOCKS_SYS " == *" $s "* ]] && via=socks
		if [ "$name" = greyproxy ]; then	# a fresh one each time
			gp_serve "idle-$via-$n"
			pid=$GPID; addr=$GH; [ "$via" = socks ] && addr=$GS
		fi
		drain_tw
		read -r b a held errs <<< "$(idle "$via" "$name" "$pid" "$addr" "$n")"
		[ "$name" = greyproxy ] && { kill "$pid"; wait "$pid" 2>/dev/null; }
		per=$(python3 -c "print('%.1f' % (($a - $b) / max(${held:-0}, 1)))")
		if [ "$name" = greyproxy ]; then
			[ "$via" = socks ] && GS_PER=$per || GC_PER=$per
			row "$n $name/$via" "$b" "$per" ""
		else
			if [ "$via" = socks ]; then g=$GS_PER; else g=$GC_PER; fi
			row "$n $name/$via" "$b" "$per" "$(ratio "$g" "$per")"
		fi
		[ "${held:-0}" != "$n" ] && say "    ($name: $held of $n held, ${errs:-?} errors)"
	done
done

# A fresh dante for what follows (see start_dante); its children go with
# their mother.
if [ -n "$DT" ]; then
	kill "$DT"; wait "$DT" 2>/dev/null
	for _ in $(seq 100); do pgrep -x danted >/dev/null || break; sleep 0.05; done
	SOCKS_SYS=$(echo "$SOCKS_SYS" | sed 's/ dante|[^ ]*//')
	start_dante
	[ -n "$DT" ] && SOCKS_SYS="$SOCKS_SYS dante|$DT|127.0.0.1:$DTP"
fi

# ---- forward HTTP: wrk when installed (the field's tool), else gp-load;
# either way one line "rate R p99_us P errors E".
echo "wrk.path = \"http://127.0.0.1:$OP/hello\"" > "$T/abs.lua"
fwd() {		# fwd CONNS [PROXY]
	if [ "$SMOKE" = 0 ] && command -v wrk >/dev/null; then
		local t=2 url="http://127.0.0.1:$OP/hello" script=()
		[ "$1" -lt 2 ] && t=1
		[ -n "${2:-}" ] && { url="http://$2/"; script=(-s "$T/abs.lua"); }
		wrk -t$t -c"$1" -d"${SECS}s" --latency "${script[@]}" "$url" 2>/dev/null | awk '
			function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000; if (v ~ /s$/) return v * 1e6; return v }
			/Requests\/sec/ { r = $2 }
			/^ +99%/ { p = us($2) }
			/Socket errors/ { gsub(/,/, ""); e += $4 + $6 + $8 + $10 }
			/Non-2xx/ { e += $NF }
			END { printf "rate %.0f p99_us %.0f errors %d\n", r, p, e }'
	else
		"$LOAD" http --url "http://127.0.0.1:$OP/hello" ${2:+--proxy "$2"} -c "$1" -d "$SECS"
	fi
}
# Each level runs in rounds, interleaved: direct, then every proxy (and
# greyproxy with the log only), FWD_ROUNDS times; each figure is the
# median of its rounds'.  One run per figure read the machine's state
# of the moment: direct's own p99 at one connection ranged 1.3-4.2 ms
# from run to run (the VM's other tenants), and a peer measured in a
# quiet second beat greyproxy measured in a noisy one.
fkey() { echo "$1" | tr -c 'A-Za-z0-9\n' _; }
fput() {	# fput KEY FWD-OUTPUT: one round's rate and p99
	echo "$(echo "$2" | field rate) $(echo "$2" | field p99_us) $(echo "$2" | field errors)" >> "$T/fwd.$(fkey "$1")"
}
fmed() {	# fmed KEY COLUMN(1 rate, 2 p99 us, 3 errors: summed)
	local f
	f="$T/fwd.$(fkey "$1")"
	if [ "$2" = 3 ]; then awk '{e += $3} END {print e + 0}' "$f"; else awk -v c="$2" '{print $c}' "$f" | median; fi
}
for c in $LEVELS; do
	drain_tw
	say ""
	say "forward HTTP, $c connections ($( [ "$SMOKE" = 0 ] && command -v wrk >/dev/null && echo wrk || echo gp-load), median of $FWD_ROUNDS interleaved rounds): req/s, p99 ms, greyproxy's ratio"
	rm -f "$T"/fwd.*
	LOOPD=
	for r in $(seq "$FWD_ROUNDS"); do
		fput direct "$(fwd "$c")"
		for s in $HTTP_SYS; do
			IFS='|' read -r name pid addr <<< "$s"
			if [ "$name" = greyproxy ]; then
				before=$(loop_stats "$G1A")
				fput "$name" "$(fwd "$c" "$addr")"
				after=$(loop_stats "$G1A")
				read -r i0 o10 t10 _ <<< "$before"; read -r i1 o11 t11 mx <<< "$after"
				LOOPD="$((i1 - i0)) iterations, $((o11 - o10)) over 1 ms, $((t11 - t10)) over 10 ms; longest since start $mx ms"
				# The connection log alone (squid's access log is
				# its counterpart): transactions not stored.
				curl -s -X PUT "http://$G1A/api/settings" -d '{"captureTransactions":"none"}' >/dev/null
				fput "$name-log" "$(fwd "$c" "$addr")"
				curl -s -X PUT "http://$G1A/api/settings" -d '{"captureTransactions":"all"}' >/dev/null
			else
				fput "$name" "$(fwd "$c" "$addr")"
			fi
		done
	done
	D_RATE=$(fmed direct 1)
	row direct "$D_RATE" "$(ms "$(fmed direct 2)")" ""
	GV=
	for s in $HTTP_SYS; do
		IFS='|' read -r name pid addr <<< "$s"
		v=$(fmed "$name" 1) e=$(fmed "$name" 3)
		if [ "$name" = greyproxy ]; then
			GV=$v
			row "$name" "$v" "$(ms "$(fmed "$name" 2)")" "$(ratio "$v" "$D_RATE") of direct"
			GTOP=$v GTOPC=$c	# the last level's, for the TUI below
			say "    loop (log on, last round): $LOOPD"
			row "greyproxy, log only" "$(fmed "$name-log" 1)" "$(ms "$(fmed "$name-log" 2)")" "$(ratio "$(fmed "$name-log" 1)" "$v") of gp"
		else
			row "$name" "$v" "$(ms "$(fmed "$name" 2)")" "$(rel "$name" "$v" "$GV")"
			[ "$name" = squid ] && [ "$c" = 50 ] && SQ50=$v
		fi
		[ "${e:-0}" != 0 ] && say "    ($name: $e errors)"
	done
done

# ---- `greyproxy tui`, the README's first command, runs the core and the
# terminal interface in one process (the core on its own thread, linked
# to the interface's by queues), and every request's log
# and transaction events feed its live lists: what does the interface
# cost the proxy?  An 80x24 tmux pane showing Activity, the most connections
# above, against the headless figure of the same level.
if command -v tmux >/dev/null && [ -n "${GTOP:-}" ]; then
	d=$T/gptui
	mkdir -p -m 700 "$d"
	"$GP" rule --data-dir "$d" add allow 127.0.0.1 --port "$OP" >/dev/null
	tmux -L "$TMUX_L" new-session -d -s ui -x 80 -y 24 \
		"$GP tui --http 127.0.0.1:0 --socks 127.0.0.1:0 --dns 127.0.0.1:0 --api 127.0.0.1:0 --data-dir $d --log-level error 2>$T/gptui.log" \; \
		set-option -s exit-empty off
	for _ in $(seq 200); do [ -s "$d/listen.json" ] && break; sleep 0.05; done
	TH=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$d/listen.json")
	tmux -L "$TMUX_L" send-keys -t ui 3
	drain_tw
	say ""
	say "forward HTTP, $GTOPC connections through greyproxy tui (80x24 in tmux, Activity shown): req/s, p99 ms, its ratio to headless"
	out=$(fwd "$GTOPC" "$TH")
	row "greyproxy tui" "$(echo "$out" | field rate)" "$(ms "$(echo "$out" | field p99_us)")" "$(ratio "$(echo "$out" | field rate)" "$GTOP") of headless"
	tmux -L "$TMUX_L" kill-server 2>/dev/null
fi

# load_rows SKIP BY GP-LOAD-ARGS...: gp-load's keep-alive GETs directly,
# then through each HTTP proxy not named in SKIP (greyproxy also with
# the log only), as rows of rate and p50 us/p99 ms.  BY is the figure
# greyproxy's ratio compares: rate, or p99 (when the pace sets the rate).
load_rows() {
	local skip=" $1 " by=$2 s name pid addr out v GV=
	shift 2
	grun() { "$LOAD" http --url "http://127.0.0.1:$OP/hello" ${1:+--proxy "$1"} "${@:2}"; }
	lat() { echo "$(echo "$1" | field p50_us)/$(ms "$(echo "$1" | field p99_us)")"; }
	out=$(grun "" "$@")
	row direct "$(echo "$out" | field rate)" "$(lat "$out")" ""
	for s in $HTTP_SYS; do
		IFS='|' read -r name pid addr <<< "$s"
		case $skip in *" $name "*) continue ;; esac
		out=$(grun "$addr" "$@")
		if [ "$by" = rate ]; then v=$(echo "$out" | field rate); else v=$(echo "$out" | field p99_us); fi
		if [ "$name" = greyproxy ]; then
			GV=$v
			row "$name" "$(echo "$out" | field rate)" "$(lat "$out")" ""
			curl -s -X PUT "http://$G1A/api/settings" -d '{"captureTransactions":"none"}' >/dev/null
			out=$(grun "$addr" "$@")
			curl -s -X PUT "http://$G1A/api/settings" -d '{"captureTransactions":"all"}' >/dev/null
			row "greyproxy, log only" "$(echo "$out" | field rate)" "$(lat "$out")" "$( [ "$by" = rate ] && echo "$(ratio "$(echo "$out" | field rate)" "$v") of gp")"
		elif [ "$by" = rate ]; then
			row "$name" "$v" "$(lat "$out")" "$(rel "$name" "$v" "$GV")"
		else
			row "$name" "$(echo "$out" | field rate)" "$(lat "$out")" "$(ratio "$v" "$GV") gp's p99"
		fi
	done
}

# ---- 50 connections at one pace: the tail at an equal load.  Unpaced,
# each proxy's p99 is taken at its own rate (greyproxy's is 1.6-1.9×
# squid's), and the 50 requests in flight queue at whatever rate that
# is; paced at 90 % of squid's unpaced rate, each serves the same load.
if [ "$SMOKE" = 0 ] && [ -n "${SQ50:-}" ]; then
	pace=$((SQ50 * 9 / 10))
	drain_tw
	say ""
	say "forward HTTP, 50 connections paced to $pace req/s in all (gp-load -r, 90 % of squid's rate above): req/s, p50 us/p99 ms, greyproxy's ratio"
	load_rows "greyproxy@$NRULES tinyproxy mitmproxy" p99 -c 50 -r "$pace" -d "$SECS"
fi

# ---- one connection again, timed by gp-load: each latency as measured.
# wrk corrects for coordinated omission (a stall of length L adds one
# sample per mean interval it covered), so its p99 at one connection
# weighs rare stalls by the proxy's own rate; these rows do not.
if [ "$SMOKE" = 0 ] && command -v wrk >/dev/null; then
	drain_tw
	say ""
	say "forward HTTP, 1 connection (gp-load, latencies uncorrected): req/s, p50 us/p99 ms, greyproxy's ratio"
	load_rows "greyproxy@$NRULES tinyproxy" rate -c 1 -d "$SECS"
fi

# ---- bulk through tunnels.  Loopback throughput on a shared machine
# drifts by half within minutes, so the downloads are interleaved: each
# round fetches once directly and once through every tunnel, and
# greyproxy's ratio is the median of its per-round ratios to direct.
# greyproxy reads the plain HTTP inside a tunnel (request rules,
# transactions): its relay, which every tunnel it does not read takes,
# is measured with the origin on mitmBypass, and the read tunnel in the
# same round ("read").
dl() {		# dl KEY CURL_ARGS...: one download, MB/s appended to KEY's list
	local k=$1
	shift
	curl -s -o /dev/null --max-time 60 -w '%{speed_download}\n' "$@" "http://127.0.0.1:$OP$BIGPATH" | python3 -c 'import sys; v=sys.stdin.read().strip(); print("%.0f" % (float(v)/1048576) if v else "")' >> "$T/bulk.$k"
}
drain_tw
say ""
say "bulk $((BIG / 1048576)) MiB: MB/s (curl, median of $BULK_RUNS interleaved rounds), greyproxy's ratio (median of the rounds')"
rm -f "$T"/bulk.*
bypass() { curl -s -o /dev/null -X PUT "http://$G1A/api/settings" -d "{\"mitmBypass\":$1}"; }
for r in $(seq "$BULK_RUNS"); do
	dl direct
	for s in $HTTP_SYS; do
		IFS='|' read -r name pid addr <<< "$s"
		case $name in greyproxy@*) continue ;; esac
		[ "$name" = greyproxy ] && { dl c-read -p -x "http://$addr"; bypass '["127.0.0.1"]'; }
		dl "c-$name" -p -x "http://$addr"
		[ "$name" = greyproxy ] && bypass '[]'
	done
	for s in $SOCKS_SYS; do
		IFS='|' read -r name pid addr <<< "$s"
		case $name in greyproxy@*) continue ;; esac
		[ "$name" = greyproxy ] && { dl s-read --socks5 "$addr"; bypass '["127.0.0.1"]'; }
		dl "s-$name" --socks5 "$addr"
		[ "$name" = greyproxy ] && bypass '[]'
	done
done
bmed() { median < "$T/bulk.$1"; }
bratio() {	# the median of the per-round ratios of KEY to direct
	paste -d' ' "$T/bulk.$1" "$T/bulk.direct" | awk '$1 > 0 && $2 > 0 {print $1 / $2}' | median | python3 -c 'import sys; v=sys.stdin.read().strip(); print("%.2fx" % float(v) if v else "-")'
}
row direct "$(bmed direct)" "" ""
for p in "c CONNECT $HTTP_SYS" "s SOCKS5 $SOCKS_SYS"; do
	read -r k label sys <<< "$p"
	GV=
	for s in $sys; do
		IFS='|' read -r name pid addr <<< "$s"
		case $name in greyproxy@*) continue ;; esac
		v=$(bmed "$k-$name")
		[ "$name" = greyproxy ] && { GV=$v; row "$label $name" "$v" "" "$(bratio "$k-$name") of direct"
			row "$label $name read" "$(bmed "$k-read")" "" "$(bratio "$k-read") of direct"; continue; }
		row "$label $name" "$v" "" "$(rel "$name" "$v" "$GV")"
	done
done

# ---- tunnel setups
setups() {	# setups VIA SYSTEMS TITLE
	local s name pid addr out v GV=
	say ""
	say "$3 setups (connect, tunnel, GET, close; 20 in flight): per s, p99 ms, ratio"
	for s in $2; do
		IFS='|' read -r name pid addr <<< "$s"
		drain_tw
		out=$("$LOAD" setup --via "$1" --proxy "$addr" --target "127.0.0.1:$OP" -c 20 -d "$SECS")
		v=$(echo "$out" | field rate)
		[ "$name" = greyproxy ] && GV=$v
		row "$name" "$v" "$(ms "$(echo "$out" | field p99_us)")" "$(rel "$name" "$v" "$GV")"
		e=$(echo "$out" | field errors); [ "${e:-0}" != 0 ] && say "    ($name: $e errors)"
	done
}
setups connect "$HTTP_SYS" CONNECT
setups socks "$SOCKS_SYS" SOCKS5

# ---- HTTPS interception: greyproxy (its CA, the origin trusted through
# SSL_CERT_FILE) beside mitmproxy (the same trust), against a TLS origin:
# nginx, or in smoke mode tests/lib/origin.py --tls.
TLSL=$B/bench/tls-load
mkdir -p "$T/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-days 1 -subj /CN=localhost -addext "subjectAltName=DNS:localhost" \
	-keyout "$T/tls/key.pem" -out "$T/tls/cert.pem" 2>/dev/null
OTP=$(free_port)
if [ "$ORIGIN" = nginx ]; then
	# A second nginx with the TLS server only: the first holds $OP.
	sed "s|server { listen 127.0.0.1:$OP backlog=4096; root $T/www; } }|server { listen 127.0.0.1:$OTP ssl backlog=4096; ssl_certificate $T/tls/cert.pem; ssl_certificate_key $T/tls/key.pem; root $T/www; } }|; s|pid $T/nginx/pid|pid $T/nginx/pid2|" \
		"$T/nginx/nginx.conf" > "$T/nginx/tls.conf"
	/usr/sbin/nginx -c "$T/nginx/tls.conf" -p "$T/nginx" 2>/dev/null & PIDS="$PIDS $!"
	TBIG=/big
else
	echo hello > "$T/tls/hello"
	python3 "$(dirname "$0")/../tests/lib/origin.py" --port-file "$T/tls/port" \
		--tls "$T/tls/cert.pem" "$T/tls/key.pem" 2>/dev/null & PIDS="$PIDS $!"
	for _ in $(seq 100); do [ -s "$T/tls/port" ] && break; sleep 0.05; done
	OTP=$(cat "$T/tls/port")
	TBIG=/bytes/$BIG
fi
if wait_port "$OTP"; then
	d=$T/gpm; mkdir -p -m 700 "$d"
	"$GP" cert generate --data-dir "$d" >/dev/null
	"$GP" rule --data-dir "$d" add allow localhost >/dev/null
	SSL_CERT_FILE=$T/tls/cert.pem "$GP" serve --http 127.0.0.1:0 --socks 127.0.0.1:0 \
		--dns 127.0.0.1:0 --api 127.0.0.1:0 --data-dir "$d" --log-level error 2>"$T/gpm.log" &
	GMP=$!; PIDS="$PIDS $GMP"
	for _ in $(seq 200); do [ -s "$d/listen.json" ] && break; sleep 0.05; done
	GMH=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$d/listen.json")
	GMA=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["api"])' "$d/listen.json")
	for _ in $(seq 100); do curl -s "http://$GMA/api/status" | grep -q '"state":"on"' && break; sleep 0.05; done
	TLS_SYS="greyproxy|$GMH|$d/ca-cert.pem"
	if command -v mitmdump >/dev/null; then
		MTTP=$(free_port)
		mitmdump -q --listen-host 127.0.0.1 --listen-port "$MTTP" \
			--set confdir="$T/mitm2" --set stream_large_bodies=1m \
			--set ssl_verify_upstream_trusted_ca="$T/tls/cert.pem" \
			>/dev/null 2>&1 & PIDS="$PIDS $!"
		wait_port "$MTTP" 400 && for _ in $(seq 100); do
			[ -s "$T/mitm2/mitmproxy-ca-cert.pem" ] && break; sleep 0.05; done &&
			TLS_SYS="$TLS_SYS mitmproxy|127.0.0.1:$MTTP|$T/mitm2/mitmproxy-ca-cert.pem"
	fi
	tls_table() {	# tls_table TITLE TLS-LOAD-ARGS...
		local s name addr ca out v GV= title=$1; shift
		say ""
		say "$title: per s, p50 ms, p99 ms, ratio"
		for s in $TLS_SYS; do
			IFS='|' read -r name addr ca <<< "$s"
			drain_tw
			out=$("$TLSL" --proxy "$addr" --target "localhost:$OTP" --cafile "$ca" -d "$SECS" "$@" 2>&1)
			v=$(echo "$out" | field rate)
			[ "$name" = greyproxy ] && GV=$v
			printf '  %-24s %10s %10s %10s %14s\n' "$name" "$v" "$(ms "$(echo "$out" | field p50_us)")" \
				"$(ms "$(echo "$out" | field p99_us)")" "$(rel "$name" "$v" "$GV")" | tee -a "$OUT"
			e=$(echo "$out" | field errors); [ "${e:-0}" != 0 ] && say "    ($name: $e errors)"
		done
	}
	tls_table "intercepted: fresh TLS handshake + GET (4 clients)" -c 4
	tls_table "intercepted: keep-alive GETs (4 clients)" -c 4 --keepalive
	# The first byte's extra cost: keep-alive GETs intercepted against the
	# same through a plain tunnel (mitmEnabled off), greyproxy alone.
	a=$("$TLSL" --proxy "$GMH" --target "localhost:$OTP" --cafile "$d/ca-cert.pem" -c 1 --keepalive -d "$SECS" | field p50_us)
	curl -s -X PUT "http://$GMA/api/settings" -d '{"mitmEnabled":false}' >/dev/null
	b=$("$TLSL" --proxy "$GMH" --target "localhost:$OTP" --cafile "$T/tls/cert.pem" -c 1 --keepalive -d "$SECS" | field p50_us)
	curl -s -X PUT "http://$GMA/api/settings" -d '{"mitmEnabled":true}' >/dev/null
	say ""
	say "added first-byte latency of an intercepted request (median, keep-alive): $(python3 -c "import sys; print('%.3f ms' % ((float(sys.argv[1] or 0) - float(sys.argv[2] or 0)) / 1000))" "$a" "$b") ($(ms "$a") ms intercepted, $(ms "$b") ms tunnelled)"
	say ""
	say "intercepted bulk $((BIG / 1048576)) MiB: MB/s (curl), ratio"
	tbulk() { local i; for i in $(seq $RUNS); do curl -s -o /dev/null --max-time 60 -w '%{speed_download}\n' "$@" "https://localhost:$OTP$TBIG"; done | median | python3 -c 'import sys; v=sys.stdin.read().strip(); print("%.0f" % (float(v)/1048576) if v else "-")'; }
	v=$(tbulk --cacert "$T/tls/cert.pem"); row "direct TLS" "$v" "" ""
	GV=
	for s in $TLS_SYS; do
		IFS='|' read -r name addr ca <<< "$s"
		v=$(tbulk -p -x "http://$addr" --cacert "$ca")
		[ "$name" = greyproxy ] && GV=$v
		row "$name" "$v" "" "$(rel "$name" "$v" "$GV")"
	done
else
	say ""
	say "interception: the TLS origin did not start; skipped"
fi

say ""
say "results: $OUT"
