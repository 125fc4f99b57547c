#!/bin/bash
# Plain HTTP response bodies past the capture's cap: once the stored copy
# holds maxBodyBytes, the rest goes from the origin's socket to the
# client's by splice(2), for the forward proxy and for plain HTTP read
# inside a SOCKS5 tunnel: every byte arrives, the transaction has the
# body's whole size, truncated, complete; the connection stays usable for
# the next request; a body that runs until close ends with the close; a
# client leaving halfway leaves an incomplete row; a body the capture
# still wants is read, not spliced.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

mitm_start '"maxBodyBytes":1000'
txs() { api GET "/api/transactions$1"; }
spliced() { jget "$(api GET /api/status)" 'd["tunnels"]["bodies_spliced"]'; }
sha_of() {	# sha_of N: the sha256 of the origin's pattern(N)
	python3 -c 'import sys, hashlib; sys.path.insert(0, sys.argv[1]); from origin import pattern; print(hashlib.sha256(pattern(int(sys.argv[2]))).hexdigest())' "$LIB" "$1"
}
# last_tx PATH: the newest stored transaction whose URL ends with PATH
tx_id() {
	TX_ID=$(txs "?limit=50" | python3 -c 'import json, sys
m = [i["id"] for i in json.load(sys.stdin)["items"] if i["url"].endswith(sys.argv[1])]
print(m[0] if m else "")' "$1")
	[ -n "$TX_ID" ]
}
last_tx() {
	wait_for 10 tx_id "$1" && txs "/$TX_ID"
}
M10=10485760

is "$(spliced)" 0 "nothing spliced yet"
got=$(curl -s --max-time 30 -x "http://$GP_HTTP" "http://127.0.0.1:$PP/bytes/$M10" | sha256sum | cut -d' ' -f1)
is "$got" "$(sha_of $M10)" "forward proxy: 10 MiB intact"
is "$(spliced)" 1 "its body past the cap was spliced"
t=$(last_tx "/bytes/$M10")
is "$(jget "$t" 'd["response_body_size"]')" "$M10" "the transaction has the whole body's size"
is "$(jget "$t" 'd["response_body_truncated"]')" True "stored truncated"
is "$(jget "$t" 'len(__import__("base64").b64decode(d["response_body_base64"]))')" 1000 "its first 1000 bytes"
is "$(jget "$t" 'd["complete"]')" True "complete"

# The next request on the same connection.
v=$(curl -sv --max-time 30 -x "http://$GP_HTTP" "http://127.0.0.1:$PP/bytes/1048576" -o "$T/one" \
	"http://127.0.0.1:$PP/hello" -o "$T/two" 2>&1)
like "$v" "Re-using existing connection" "keep-alive after a spliced body"
is "$(sha256sum < "$T/one" | cut -d' ' -f1)" "$(sha_of 1048576)" "the spliced body intact"
is "$(cat "$T/two")" "hello from origin" "and the next response right after it"
is "$(spliced)" 2 "spliced"

# Plain HTTP inside a SOCKS5 tunnel, to a reader slower than the origin.
got=$(curl -s --max-time 30 --limit-rate 20M --socks5-hostname "$GP_SOCKS" "http://127.0.0.1:$PP/bytes/$M10" | sha256sum | cut -d' ' -f1)
is "$got" "$(sha_of $M10)" "SOCKS5, slow reader: 10 MiB intact"
is "$(spliced)" 3 "spliced"
t=$(last_tx "/bytes/$M10")
is "$(jget "$t" 'd["response_body_size"]')" "$M10" "its size"
is "$(jget "$t" 'd["complete"]')" True "complete"

# A body that runs until the origin closes.
got=$(curl -s --max-time 30 -x "http://$GP_HTTP" "http://127.0.0.1:$PP/close-bytes/3145728" | sha256sum | cut -d' ' -f1)
is "$got" "$(sha_of 3145728)" "until close: 3 MiB intact"
is "$(spliced)" 4 "spliced"
t=$(last_tx "/close-bytes/3145728")
is "$(jget "$t" 'd["response_body_size"]')" 3145728 "its size"
is "$(jget "$t" 'd["complete"]')" True "complete"

# A client that leaves halfway.
curl -s --max-time 30 -x "http://$GP_HTTP" "http://127.0.0.1:$PP/bytes/50000000" | head -c 300000 > /dev/null
t=$(last_tx "/bytes/50000000")
is "$(jget "$t" 'd["complete"]')" False "a client leaving mid-body: incomplete"
check "$(jget "$t" 'd["response_body_size"]') < 50000000" "with the bytes that passed ($(jget "$t" 'd["response_body_size"]'))"
is "$(curl -s --max-time 10 -x "http://$GP_HTTP" "http://127.0.0.1:$PP/hello")" "hello from origin" "and the proxy serves on"

# A body the capture still wants is read whole, not spliced (its row is
# over the size of one command-line argument: read from a file).
api PUT /api/settings -d '{"maxBodyBytes":2097152}' >/dev/null
n=$(spliced)
got=$(curl -s --max-time 30 -x "http://$GP_HTTP" "http://127.0.0.1:$PP/bytes/1048577" | sha256sum | cut -d' ' -f1)
is "$got" "$(sha_of 1048577)" "under the cap: intact"
is "$(spliced)" "$n" "not spliced"
last_tx "/bytes/1048577" > "$T/tx.json"
is "$(python3 -c 'import json, sys, base64; d = json.load(open(sys.argv[1])); print(d["response_body_truncated"], len(base64.b64decode(d["response_body_base64"])))' "$T/tx.json")" \
	"False 1048577" "stored whole, every byte of it"

done_testing
