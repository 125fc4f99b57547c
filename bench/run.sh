#!/bin/bash
# bench/run.sh: greyproxy against its peers, on loopback, in one run.
# Run by hand (not in CI):  bench/run.sh [seconds]   (after ./bootstrap)
# Needs: apt-get install tinyproxy microsocks wrk nginx-light curl
# Prints requests/s, MB/s and memory for each, and greyproxy's ratio.
set -u
SECS=${1:-5}
TOP=$(cd "$(dirname "$0")/.." && pwd)
GP=$TOP/greyproxy
T=$(mktemp -d)
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT
for tool in tinyproxy microsocks wrk nginx curl python3; do
	command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || {
		echo "bench: $tool missing (apt-get install tinyproxy microsocks wrk nginx-light curl)"
		exit 1; }
done
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# Origin: nginx with a small and a large body.
OP=$(free_port)
mkdir -p "$T/www" "$T/nginx"
echo "hello" > "$T/www/hello"
head -c 104857600 /dev/zero > "$T/www/big"
cat > "$T/nginx/nginx.conf" <<NGX
daemon off; worker_processes 1; pid $T/nginx/pid; error_log $T/nginx/err;
events { worker_connections 1024; }
http { access_log off; sendfile on; keepalive_requests 100000;
  client_body_temp_path $T/nginx; proxy_temp_path $T/nginx;
  fastcgi_temp_path $T/nginx; uwsgi_temp_path $T/nginx; scgi_temp_path $T/nginx;
  server { listen 127.0.0.1:$OP; root $T/www; } }
NGX
/usr/sbin/nginx -c "$T/nginx/nginx.conf" -p "$T/nginx" & PIDS="$PIDS $!"
wait_port "$OP" || { echo "bench: nginx did not start"; exit 1; }

# greyproxy, allowing the origin.
"$GP" rule --data-dir "$T/gp" add allow 127.0.0.1 --port "$OP" >/dev/null
"$GP" serve --http 127.0.0.1:0 --socks 127.0.0.1:0 --dns 127.0.0.1:0 \
	--api 127.0.0.1:0 --data-dir "$T/gp" --log-level error 2>"$T/gp.log" &
GPID=$!; PIDS="$PIDS $GPID"
for _ in $(seq 100); do [ -s "$T/gp/listen.json" ] && break; sleep 0.05; done
GH=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$T/gp/listen.json")
GS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["socks5"])' "$T/gp/listen.json")

# tinyproxy and microsocks.
TP=$(free_port)
printf 'Port %s\nListen 127.0.0.1\nAllow 127.0.0.1\nMaxClients 1024\nTimeout 60\nLogLevel Critical\nLogFile "%s/tp.log"\n' \
	"$TP" "$T" > "$T/tinyproxy.conf"
tinyproxy -d -c "$T/tinyproxy.conf" 2>/dev/null & TPID=$!; PIDS="$PIDS $TPID"
MP=$(free_port)
microsocks -i 127.0.0.1 -p "$MP" >/dev/null 2>&1 & MPID=$!; PIDS="$PIDS $MPID"
wait_port "$TP" && wait_port "$MP" || { echo "bench: a peer did not start"; exit 1; }

echo "wrk.path = \"http://127.0.0.1:$OP/hello\"" > "$T/abs.lua"
reqs() {	# reqs PROXY_ADDR: requests/s through an HTTP proxy
	wrk -t2 -c32 -d"${SECS}s" -s "$T/abs.lua" "http://$1/" 2>/dev/null |
		awk '/Requests\/sec/ {printf "%.0f", $2}'
}
mbps() {	# mbps CURL_PROXY_ARGS...: MB/s for 5 x 100 MiB
	local t0 t1
	t0=$(date +%s.%N)
	for _ in 1 2 3 4 5; do curl -s -o /dev/null "$@" "http://127.0.0.1:$OP/big"; done
	t1=$(date +%s.%N)
	python3 -c "print('%.0f' % (500 / ($t1 - $t0)))"
}
ratio() { python3 -c "print('%.2f' % ($1 / $2)) if $2 else print('-')"; }

printf '%-34s %12s %12s %8s\n' "measure" "greyproxy" "peer" "ratio"
g=$(reqs "$GH"); p=$(reqs "127.0.0.1:$TP")
printf '%-34s %12s %12s %8s\n' "HTTP req/s (32 conns) vs tinyproxy" "$g" "$p" "$(ratio "$g" "$p")"
g=$(mbps -x "http://$GH"); p=$(mbps -x "http://127.0.0.1:$TP")
printf '%-34s %12s %12s %8s\n' "HTTP MB/s (100 MiB) vs tinyproxy" "$g" "$p" "$(ratio "$g" "$p")"
g=$(mbps --socks5 "$GS"); p=$(mbps --socks5 "127.0.0.1:$MP")
printf '%-34s %12s %12s %8s\n' "SOCKS5 MB/s vs microsocks" "$g" "$p" "$(ratio "$g" "$p")"
g=$(rss "$GPID"); p=$(rss "$TPID")
printf '%-34s %12s %12s %8s\n' "RSS kB after load vs tinyproxy" "$g" "$p" "$(ratio "$g" "$p")"
p=$(rss "$MPID")
printf '%-34s %12s %12s %8s\n' "RSS kB after load vs microsocks" "$g" "$p" "$(ratio "$g" "$p")"
