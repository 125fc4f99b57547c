#!/bin/bash
# What a client sends reaches the screen only as text that shows itself:
# an identity carrying a right-to-left override is shown with the
# override as its code point (it would otherwise read backwards), and
# identities with accented or wide characters keep the columns aligned
# (cells are cut and padded by screen columns, not bytes); an identity
# too wide loses its middle, not its end; rule ids past four digits widen
# their column.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

tui_core
GP_SOCKS=$(json_get "$GP_DATA/listen.json" socks5)

held() {	# held NAME USER HOST: a SOCKS5 request held in Pending
	( curl -s -o /dev/null --max-time 30 --socks5-hostname "$2:x@$GP_SOCKS" "http://$3/" ) &
	PIDS="$PIDS $!"
}
held rlo 'weird%E2%80%AEname' rlo.invalid
held wide 'R%C3%A9glages%E7%95%8C' wide.invalid
held plain 'plain' plain.invalid
held long 'greywall-project-alpha-sandbox-7' long.invalid
( curl -s -o /dev/null --max-time 30 -x "http://$GP_HTTP" "http://nouser.invalid/" ) &
PIDS="$PIDS $!"
for h in rlo wide plain long nouser; do
	wait_for 10 on_screen "$h.invalid:80"; ok $? "$h: held, shown in Pending"
done

like "$(screen | grep rlo.invalid)" 'weird<U\+202E>nam' "the override is shown as its code point"
# The screen itself never carries it (nor another invisible character).
python3 -c 'import sys; t = sys.stdin.read(); sys.exit(any(c in t for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\ufeff"))' <<<"$(screen)"
ok $? "no bidirectional or zero-width character on the screen"
like "$(screen | grep wide.invalid)" 'Réglages界' "accented and wide characters shown as they are"

# Every row ends in the same screen column: cells are padded by columns.
cols() {	# the screen columns a line takes, right spaces dropped
	python3 -c 'import sys, unicodedata as u
t = sys.argv[1].rstrip()
print(sum(2 if u.east_asian_width(c) in "WF" else 0 if u.category(c) in ("Mn", "Cf") else 1 for c in t))' "$1"
}
w_rlo=$(cols "$(screen | grep rlo.invalid)")
w_wide=$(cols "$(screen | grep wide.invalid)")
w_plain=$(cols "$(screen | grep plain.invalid)")
w_long=$(cols "$(screen | grep long.invalid)")
check "$w_plain > 40" "a plain row is measured"
is "$w_rlo $w_wide $w_long" "$w_plain $w_plain $w_plain" "the rows line up with a plain identity's"

# An identity too wide for its cell loses its middle, not its end: two
# clients that differ at the end stay apart.
like "$(screen | grep long.invalid)" ' greyw…-sandbox-7 ' "a long identity keeps both ends"
like "$(screen | grep nouser.invalid)" ' unkno…-127\.0\.0\.1 ' "unknown-<client IP> keeps the whole address"

# The identity as the API gives it is the one the client sent.
r=$(curl -s "http://$GP_API/api/pending")
like "$(jget "$r" '[i["container_name"] for i in d["items"]]')" "weird\\\\u202ename" "the API keeps the identity exactly"

# Rule ids past the column's four digits widen it: the columns after
# it stay under their headings.
python3 -c 'import json; print(json.dumps([{"destination_pattern": "r%d.example" % i} for i in range(10050)]))' > "$T/rules.json"
curl -s -o /dev/null -X POST --data-binary @"$T/rules.json" "http://$GP_API/api/rules/ingest"
keys 2
wait_for 10 on_screen "r10049.example"; ok $? "10 050 rules in the Rules view"
hdr=$(screen | grep " ID ACTN"); row=$(screen | grep "r10049.example" | head -1)
is "$(( $(col "$row" "allow") )) $(col "$row" "r10049")" "$(col "$hdr" "ACTN") $(col "$hdr" "DESTINATION")" "a five-digit id keeps the columns under their headings"

done_testing
