#!/bin/bash
# Retention of the connection log: rows past logRetentionDays and, over
# logMaxMB, the oldest rows are deleted in small steps by the writer
# thread; the stats stay right; `greyproxy logs prune` and
# POST /api/logs/prune do it on demand.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

# synth N AGE-SQL [REQUEST-BYTES]: N rows stamped datetime('now', AGE).
synth() {
	sql "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $1)
	     INSERT INTO request_logs (timestamp, container_name, destination_host,
	       destination_port, result, request)
	     SELECT datetime('now', '$2'), 'synth', 'old' || i || '.test', 443, 'allowed',
	       printf('%.*c', ${3:-10}, 'x') FROM s"
}
count() { sql "SELECT count(*) FROM request_logs WHERE $1"; }
used() { sql "SELECT (SELECT page_count FROM pragma_page_count()) - (SELECT freelist_count FROM pragma_freelist_count())" ; }
stats_total() { jget "$(api GET /api/logs/stats)" 'd["total_requests"]'; }

gp_start; gp_stop			# the schema
synth 5000 '-30 days'
synth 100 '-1 hours'
gp_start
wait_for 20 eval '[ "$(count "timestamp < datetime('"'now', '-7 days'"')")" = 0 ]'
ok $? "rows older than 7 days (the default) are deleted"
is "$(count 1)" 100 "recent rows stay"
is "$(stats_total)" 100 "the stats count what stays"
# counted by the writer thread just after the step's commit
log_pruned() { jget "$(api GET /api/status)" 'd["storage"]["log_pruned"]'; }
wait_for 5 eval '[ "$(log_pruned)" = 5000 ]'; ok $? "status counts the rows pruned ($(log_pruned))"

# A size cap, set while running: the oldest rows go until it holds.
synth 4000 '-2 hours' 1000
page=$(sql 'PRAGMA page_size')
check "$(used) * $page > 3 * 1048576" "about 4 MB of log rows"
api PUT /api/settings -d '{"logMaxMB":1,"logRetentionDays":0}' >/dev/null
wait_for 30 eval '[ $(( $(used) * page )) -le 1048576 ]'
ok $? "logMaxMB 1: the database shrinks within its cap"
left=$(count 1)
check "$left > 0" "the newest rows stay ($left)"
is "$(count "destination_host = 'old1.test' AND timestamp < datetime('now', '-90 minutes')")" 0 \
	"the oldest went first"
is "$(stats_total)" "$(count 1)" "the stats stay right across pruning"

r=$(api POST /api/logs/prune)
is "$(api_status)" 202 "POST /api/logs/prune: 202"
is "$(jget "$r" 'd["status"] + " " + str(d["logMaxMB"])')" "pruning 1" "with the retention it applies"
gp_stop

# The CLI, with no server running.
synth 300 '-10 days'
synth 20 '-1 days'
out=$("$GREYPROXY" logs prune --older-than 5 --max-mb 0 --data-dir "$GP_DATA")
is "$?" 0 "greyproxy logs prune succeeds"
like "$out" "^300 rows deleted" "and says how many rows it deleted"
is "$(count "timestamp < datetime('now', '-5 days')")" 0 "none older than 5 days left"
check "$(count "timestamp >= datetime('now', '-5 days')") >= 20" "younger rows stay"
"$GREYPROXY" logs prune --older-than x --data-dir "$GP_DATA" 2>/dev/null
is "$?" 2 "a bad value: exit 2"
err=$("$GREYPROXY" logs prune --max-mb 99999999999999 --data-dir "$GP_DATA" 2>&1)
is "$?" 2 "a value past the settings' range: exit 2"
like "$err" "from 0 to 1048576" "saying the range"
"$GREYPROXY" logs --data-dir "$GP_DATA" 2>/dev/null
is "$?" 2 "no subcommand: usage, exit 2"

# The stats are kept by triggers (schema 5); a schema-4 database has its
# rows counted once, at migration.
sql "DROP TRIGGER log_counts_ins; DROP TRIGGER log_counts_del; DROP TABLE log_counts;
     DROP TRIGGER rules_version_ins; DROP TRIGGER rules_version_del;
     DROP TRIGGER rules_version_upd; DROP TABLE rules_version;
     DROP TABLE http_transactions; DROP TABLE tx_bytes; DROP TABLE credentials;
     DROP TABLE sessions; DROP TABLE conversation_agent_calls;
     DROP TABLE conversation_requests; DROP TABLE turns;
     DROP TABLE conversations; DROP TABLE conversation_processing_state;
     DROP TABLE endpoint_rules; DROP TABLE endpoint_suggestions;
     PRAGMA user_version = 4"
synth 77 '-1 hours'
n=$(count 1)
gp_start
is "$(stats_total)" "$n" "a schema-4 database: its rows counted at migration"
is "$(sql "SELECT n FROM log_counts WHERE result = 'allowed'")" "$n" "in log_counts"
gp_stop
done_testing
