#!/bin/bash
# The connection log cannot fill the disk, and a full disk stops nothing
# but the log: repeated DNS queries fold into one counted row, each
# identity has a row budget (excess counted and reported), and with the
# disk full traffic flows, the log backs off and drops with a count, rule
# writes answer 507, and everything recovers when space returns.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

python3 "$LIB/fakedns.py" --port-file "$T/up.port" --count-file "$T/up.json" \
	--a flood.example.test=10.1.1.1 2>>"$T/fakedns.log" &
PIDS="$PIDS $!"
wait_for 10 test -s "$T/up.port" || { echo "Bail out! fake DNS"; exit 1; }
origin_start o
GP_SETTINGS='{"logBudgetPerMinute":50}'
gp_start --dns-upstream "127.0.0.1:$(cat "$T/up.port")"
DNS=$(json_get "$GP_DATA/listen.json" dns)
rule add allow 127.0.0.1 --port "$ORIGIN_PORT" >/dev/null
O="http://127.0.0.1:$ORIGIN_PORT/hello"
wait_for 5 status_is 200 "$O"; ok $? "baseline"

# --- a DNS flood folds into rows with counts ----------------------------
cat > "$T/dnsflood.py" <<'PY'
import socket, struct, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
q = b"".join(bytes([len(l)]) + l for l in b"flood.example.test".split(b".")) + b"\0"
got = missed = 0
for i in range(n):
    s.sendto(struct.pack("!HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0) + q + b"\0\1\0\1", (host, port))
    try:
        s.recv(512); got += 1; missed = 0
    except socket.timeout:
        missed += 1
        if missed == 5:     # the proxy is gone: say so, do not wait hours
            break
print(got)
PY
is "$(python3 "$T/dnsflood.py" "${DNS%:*}" "${DNS##*:}" 3000)" 3000 "3000 identical queries answered"
check "$(jget "$(api GET /api/status)" 'd["storage"]["dns_folded"]') >= 2990" "repeats folded, not written one by one"
gp_stop
rows=$(sql "SELECT count(*) FROM request_logs WHERE method='DNS' AND destination_host='flood.example.test'")
check "$rows <= 3" "the flood is $rows rows"
is "$(sql "SELECT sum(count) FROM request_logs WHERE method='DNS' AND destination_host='flood.example.test'")" 3000 \
	"and the rows count every query"
like "$(sql "SELECT request FROM request_logs WHERE method='DNS' AND count > 1")" "x[0-9]+ in 60 s" "the folded row says so"

# --- the per-identity budget ---------------------------------------------
gp_start --dns-upstream "127.0.0.1:$(cat "$T/up.port")"
# Keep the burst inside one minute so the budget is not renewed midway.
sec_ok() { [ "$((10#$(date +%S)))" -lt 45 ]; }
wait_for 20 sec_ok
cat > "$T/burst.py" <<'PY'
import http.client, sys
proxy, url, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = http.client.HTTPConnection(*proxy.split(":"))
ok = 0
for i in range(n):
    c.request("GET", url, headers={"Proxy-Authorization": "Basic YnVyc3Q6eA=="})
    r = c.getresponse(); r.read(); ok += r.status == 200
print(ok)
PY
is "$(python3 "$T/burst.py" "$GP_HTTP" "$O" 120)" 120 "120 requests all served (the budget limits rows, not traffic)"
wait_for 5 grep -q "burst is over its budget of 50 rows a minute" "$T/serve.log"; ok $? "going over the budget is reported"
check "$(jget "$(api GET /api/status)" 'd["storage"]["log_over_budget"]') == 70" "70 rows counted as dropped"
wait_for 20 sql_ge "SELECT count(*) FROM request_logs WHERE container_name='burst'" 50
is "$(sql "SELECT count(*) FROM request_logs WHERE container_name='burst'")" 50 "50 rows written for that identity"
is "$(proxy_status "$O")" 200 "other identities are not affected"
gp_stop

# --- disk full -------------------------------------------------------------
SMALL=$T/small
mkdir -p "$SMALL"
if [ "$(id -u)" -ne 0 ] || ! mount -t tmpfs -o size=6m tmpfs "$SMALL" 2>/dev/null; then
	echo "# skip: disk-full tests need root to mount a small tmpfs"
	done_testing
fi
trap 'umount "$SMALL" 2>/dev/null; tm_cleanup; cleanup' EXIT
GP_DATA=$SMALL/data
GP_SETTINGS='{"logBudgetPerMinute":0}'
gp_start --dns-upstream "127.0.0.1:$(cat "$T/up.port")"
rule add allow 127.0.0.1 --port "$ORIGIN_PORT" >/dev/null
wait_for 5 status_is 200 "$O"; ok $? "running on a small disk"
dd if=/dev/zero of="$SMALL/filler" bs=64k 2>/dev/null	# fill it up
cpu() { awk '{print $14 + $15}' "/proc/$GP_PID/stat"; }
# Traffic flows while the log cannot be written.
served=0
for i in $(seq 1 40); do [ "$(proxy_status "$O")" = 200 ] && served=$((served + 1)); done
is "$served" 40 "disk full: traffic flows"
notwritable() { [ "$(jget "$(api GET /api/status)" 'd["storage"]["writable"]')" = False ]; }
wait_for 10 notwritable; ok $? "/api/status: storage not writable"
like "$(jget "$(api GET /api/status)" 'd["storage"]["error"]')" "full" "with the reason"
c0=$(cpu)
for i in $(seq 1 40); do proxy_status "$O" >/dev/null; done
wait_for 10 eval '[ "$(jget "$(api GET /api/status)" "d[\"storage\"][\"log_dropped\"]")" -gt 0 ]'
ok $? "log rows dropped and counted"
c1=$(cpu)
check "$c1 - $c0 < 150" "no busy retry loop while full ($((c1 - c0)) ticks of CPU)"
is "$(grep -c "database writes failing" "$T/serve.log")" 1 "said once per episode"
check "$(wc -c < "$T/serve.log") < 200000" "the error log stays small"
r=$(api POST /api/rules -d '{"destination_pattern":"full.example","action":"allow"}')
is "$(api_status)" 507 "a rule that cannot be stored: 507"
like "$r" "full" "saying why"
rm -f "$SMALL/filler"
writable() { proxy_status "$O" >/dev/null; [ "$(jget "$(api GET /api/status)" 'd["storage"]["writable"]')" = True ]; }
wait_for 40 writable; ok $? "recovers by itself when space returns"
grep -q "database writes succeed again" "$T/serve.log"; ok $? "recovery logged with the count"
api POST /api/rules -d '{"destination_pattern":"full.example","action":"allow"}' >/dev/null
is "$(api_status)" 200 "rules can be stored again"
gp_stop
umount "$SMALL"
done_testing
