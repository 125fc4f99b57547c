#!/bin/bash
# Rule CLI: add, list, remove, validation, live reload and durability.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
# Unmatched destinations are refused at once here (pending.sh holds them).
GP_SETTINGS='{"defaultAction":"block"}'

GP_DATA=$T/data
out=$(rule add allow '*.NpmJS.org.' --port 443); ok $? "rule add succeeds"
like "$out" "^rule 1 added: allow \*\.npmjs\.org port 443$" "pattern normalized"
out=$(rule add allow '*.npmjs.org' --port 443)
like "$out" "^rule 1 already exists" "duplicate returns the existing rule"
rule add deny 'ads.example.com' --notes "no ads" >/dev/null; ok $? "deny with notes"
rule add allow 10.0.0.0/8 --port 22,80-90 --container 'ci-*' >/dev/null
ok $? "CIDR, port list and container glob"
rule add allow bücher.de >/dev/null; ok $? "IDN pattern"
rule add allow temp.example --expires 3600 >/dev/null; ok $? "expiring rule"
list=$(rule list)
like "$list" "xn--bcher-kva\.de" "IDN stored as punycode"
like "$list" "ci-\* +10\.0\.0\.0/8 +22,80-90" "list shows container, CIDR, ports"
like "$list" "temp\.example +\* +20[0-9-]+T" "list shows the expiry"
# An identity pattern is any text (an approval scoped to a sandbox's user
# name carries it): the list shows it, the terminal never obeys it.
rule add allow team.example --container "$(printf 'team\xe2\x80\xaeevil\x1b[31m')" >/dev/null
ok $? "a container pattern with an override and an escape"
list=$(LC_ALL=C.UTF-8 "$GREYPROXY" rule list --data-dir "$GP_DATA")
like "$list" 'team<U\+202E>evil\?\[31m +team\.example' "rule list shows it, made visible"
python3 -c 'import sys; t = sys.stdin.read(); sys.exit("\x1b" in t or "\u202e" in t)' <<<"$list"
ok $? "neither reaches the terminal"
# A cell is never cut by a buffer: 300 ports take 1 799 bytes.
many=$(seq -s, 20000 20299)
rule add allow ports.example --port "$many" >/dev/null; ok $? "a long port list"
list=$(rule list)
like "$list" "ports\.example +$many +never" "rule list shows it whole"
is "$(sql "SELECT notes FROM rules WHERE destination_pattern='ads.example.com'")" "no ads" "notes stored"
is "$(sql "SELECT rule_type FROM rules WHERE destination_pattern='temp.example'")" temporary "expiring rule is temporary"

rule add maybe x.com >/dev/null 2>&1; is $? 2 "bad action: exit 2"
err=$(rule add allow 'a b' 2>&1); is $? 2 "bad host: exit 2"
like "$err" "bad character" "bad host explained"
err=$(rule add allow x.com --port 70000 2>&1); is $? 2 "bad port: exit 2"
err=$(rule add allow 1.2.3.4/40 2>&1); is $? 2 "bad CIDR: exit 2"
rule rm 999 >/dev/null 2>&1; is $? 1 "removing a missing rule: exit 1"
rule rm abc >/dev/null 2>&1; is $? 2 "bad id: exit 2"
out=$(rule rm 2); like "$out" "rule 2 deleted" "rule rm"
is "$(sql "SELECT count(*) FROM rules WHERE id=2")" 0 "rule gone from the database"

# A running serve sees CLI changes; kill -9 loses no rule.
origin_start o
gp_start
O="http://127.0.0.1:$ORIGIN_PORT/hello"
is "$(proxy_status "$O")" 403 "blocked before the rule"
rule add allow 127.0.0.1 >/dev/null
wait_for 5 status_is 200 "$O"; ok $? "allowed after rule add, without restart"
kill -9 "$GP_PID"; wait "$GP_PID" 2>/dev/null
gp_start
is "$(proxy_status "$O")" 200 "rule still applies after kill -9 and restart"
id=$(sql "SELECT id FROM rules WHERE destination_pattern='127.0.0.1'")
rule rm "$id" >/dev/null
wait_for 5 status_is 403 "$O"; ok $? "blocked again after rule rm"
done_testing
