#!/bin/bash
# Stored bodies as their data: chunked framing removed, and a text or
# JSON body's Content-Encoding (gzip, deflate — zlib or raw) undone,
# plain and inside intercepted TLS; a compressed body of another type is
# kept as it came (binary); what the client received is untouched; a
# cut-short capture decodes to its prefix, marked truncated.  (br and
# zstd: tests/unit/t-decode.)
. "$TOP_SRCDIR/tests/lib/e2e.sh"

mitm_start
txs() { api GET "/api/transactions$1"; }
count() { jget "$(txs "?limit=1")" 'd["total"]'; }
text=$(python3 -c "import sys; sys.path.insert(0, '$LIB'); import origin; sys.stdout.buffer.write(origin.ENCODED_TEXT)")

# fetch URL [curl args]: through the proxy; sets ID to its transaction.
fetch() {
	local n; n=$(count)
	curl -s -o "$T/got" --max-time 10 -x "http://$GP_HTTP" "$@"
	wait_for 10 eval '[ "$(count)" -gt "$n" ]' || { ID=0; return 1; }
	ID=$(jget "$(txs "?limit=1")" 'd["items"][0]["id"]')
}

for kind in gzip deflate rawdeflate gzip-chunked; do
	fetch "http://127.0.0.1:$PP/encoded/$kind"
	is "$(gzip -dc < "$T/got" 2>/dev/null || python3 -c "import zlib,sys; d=sys.stdin.buffer.read(); sys.stdout.buffer.write(zlib.decompress(d, 15 if d[:1]==b'x' else -15))" < "$T/got")" \
		"$text" "$kind: the client got the encoded body, as sent"
	one=$(txs "/$ID")
	is "$(jget "$one" 'd["response_body"]')" "$text" "$kind: stored decoded"
	is "$(jget "$one" 'd["response_body_truncated"]')" False "$kind: whole"
	like "$(jget "$one" 'd["response_headers"]')" "Content-Encoding" "$kind: the header kept"
done

fetch -p --cacert "$CA" "https://localhost:$OP/encoded/gzip-chunked"
one=$(txs "/$ID")
is "$(jget "$one" 'd["tls"]')" True "intercepted"
is "$(jget "$one" 'd["response_body"]')" "$text" "intercepted, gzip and chunked: stored decoded"

fetch "http://127.0.0.1:$PP/chunked"
is "$(jget "$(txs "/$ID")" 'd["response_body"]')" "first second third" "a chunked body stored without its framing"

fetch "http://127.0.0.1:$PP/encoded/gzip-png"
one=$(txs "/$ID")
is "$(jget "$one" 'd["response_body_binary"]')" True "gzip of an image type: kept as it came"
is "$(jget "$one" '__import__("base64").b64decode(d["response_body_base64"])[:2] == b"\x1f\x8b"')" True "still gzip"

# A request body: deflated JSON upload, stored decoded.
python3 -c "import sys,zlib; sys.path.insert(0, '$LIB'); import origin; sys.stdout.buffer.write(zlib.compress(origin.ENCODED_TEXT))" > "$T/up.z"
fetch --data-binary @"$T/up.z" -H 'Content-Type: application/json' -H 'Content-Encoding: deflate' "http://127.0.0.1:$PP/echo"
cmp -s "$T/got" "$T/up.z"; ok $? "the upload crossed as sent"
is "$(jget "$(txs "/$ID")" 'd["request_body"]')" "$text" "a deflated request body stored decoded"

# Cut short by maxBodyBytes: the prefix it decodes to, marked truncated.
api PUT /api/settings -d '{"maxBodyBytes":1000}' >/dev/null
fetch "http://127.0.0.1:$PP/encoded/gzip"
one=$(txs "/$ID")
b=$(jget "$one" 'd["response_body"]')
check "${#b} > 0 && ${#b} <= 1000" "a capped capture decodes to a prefix (${#b} bytes)"
is "$b" "${text:0:${#b}}" "the text's own prefix"
is "$(jget "$one" 'd["response_body_truncated"]')" True "marked truncated"
done_testing
