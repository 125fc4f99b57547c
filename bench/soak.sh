#!/bin/bash
# bench/soak.sh: a sustained forward-HTTP load through greyproxy with the
# connection log on and the default retention, printed every interval:
# requests/s, p50, p99 and max latency, the loop's stalls, the database's
# size on disk and greyproxy's memory.  What to look for: a flat p99, a
# database that stops growing at its cap (logMaxMB), a flat RSS.
#
#   bench/soak.sh [--minutes M] [--rate R] [--conns C] [--every S] [--max-mb N]
#
# Defaults: 10 minutes at 20 000 requests/s on 50 connections, a line
# every 10 s, logMaxMB as greyproxy's default (1024).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${GREYPROXY_BUILD:-$TOP}
GP=$B/greyproxy
LOAD=$B/bench/gp-load
MIN=10 RATE=20000 CONNS=50 EVERY=10 MAXMB=
while [ $# -gt 0 ]; do
	case $1 in
	--minutes) MIN=$2; shift ;;
	--rate) RATE=$2; shift ;;
	--conns) CONNS=$2; shift ;;
	--every) EVERY=$2; shift ;;
	--max-mb) MAXMB=$2; shift ;;
	*) echo "usage: bench/soak.sh [--minutes M] [--rate R] [--conns C] [--every S] [--max-mb N]" >&2; exit 2 ;;
	esac
	shift
done
T=$(mktemp -d)
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

"$LOAD" origin --port-file "$T/origin.port" & PIDS="$PIDS $!"
for _ in $(seq 100); do [ -s "$T/origin.port" ] && break; sleep 0.05; done
OP=$(cat "$T/origin.port")
wait_port "$OP" || { echo "soak: origin did not start" >&2; exit 1; }
mkdir -p "$T/gp"
[ -n "$MAXMB" ] && echo "{\"logMaxMB\": $MAXMB}" > "$T/gp/settings.json"
"$GP" rule --data-dir "$T/gp" add allow 127.0.0.1 --port "$OP" >/dev/null
"$GP" serve --http 127.0.0.1:0 --socks 127.0.0.1:0 --dns 127.0.0.1:0 \
	--api 127.0.0.1:0 --data-dir "$T/gp" --log-level warn 2>"$T/gp.log" &
GPID=$!; PIDS="$PIDS $GPID"
for _ in $(seq 200); do [ -s "$T/gp/listen.json" ] && break; sleep 0.05; done
GH=$(jget 'd["http"]' < "$T/gp/listen.json")
GA=$(jget 'd["api"]' < "$T/gp/listen.json")
cap=$(curl -s "http://$GA/api/settings" | jget 'd["logMaxMB"]')
echo "soak: $MIN min at $RATE req/s on $CONNS connections, logMaxMB $cap, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"
printf '%6s %8s %8s %8s %8s %8s %10s %8s %9s\n' t req/s p50_ms p99_ms max_ms ">10ms" db_MiB rss_MiB pruned
"$LOAD" http --url "http://127.0.0.1:$OP/hello" --proxy "$GH" -c "$CONNS" \
	-r "$RATE" -d "$((MIN * 60))" --every "$EVERY" > "$T/load.out" &
LP=$!; PIDS="$PIDS $LP"
shown=0 stalls0=0
while kill -0 $LP 2>/dev/null || [ "$(grep -c '^t ' "$T/load.out")" -gt "$shown" ]; do
	if [ "$(grep -c '^t ' "$T/load.out")" -le "$shown" ]; then sleep 0.2; continue; fi
	shown=$((shown + 1))
	line=$(grep '^t ' "$T/load.out" | sed -n "${shown}p")
	st=$(curl -s --max-time 5 "http://$GA/api/status")
	stalls=$(echo "$st" | jget 'd["loop"]["busy_over_10ms"]')
	pruned=$(echo "$st" | jget 'd["storage"]["log_pruned"]')
	db=$(du -cm "$T/gp"/greyproxy.db* 2>/dev/null | awk 'END {print $1}')
	rss=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$GPID/status")
	echo "$line" | awk -v s="$((stalls - stalls0))" -v db="$db" -v rss="$rss" -v pr="$pruned" '{
		for (i = 1; i < NF; i++) v[$i] = $(i + 1)
		printf "%6s %8s %8.2f %8.2f %8.2f %8s %10s %8s %9s\n", v["t"], v["rate"],
		    v["p50_us"] / 1000, v["p99_us"] / 1000, v["max_us"] / 1000, s, db, rss, pr }'
	stalls0=$stalls
done
wait $LP
tail -1 "$T/load.out" | sed 's/^/total: /'
grep -E "warn|error" "$T/gp.log" | tail -5
