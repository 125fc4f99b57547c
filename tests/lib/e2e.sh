# e2e.sh: shared helpers for the end-to-end tests (sourced).
# TAP output; every process started here is stopped by PID on exit.

set -u
# The caller's environment decides nothing here: every client talks to
# loopback directly or through the proxy a test names (curl, Python and
# Node honour these variables), and the interface's colours are the
# test's choice.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
	no_proxy NO_PROXY NO_COLOR
T=$(mktemp -d "${TMPDIR:-/tmp}/greyproxy-e2e.XXXXXX")
PIDS=""
_n=0
_failed=0
LIB=$TOP_SRCDIR/tests/lib

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

ok() {	# ok CONDITION-STATUS DESCRIPTION
	_n=$((_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $_n - $2"
	else echo "not ok $_n - $2"; _failed=$((_failed + 1)); fi
}
is() {	# is GOT WANT DESCRIPTION
	_n=$((_n + 1))
	if [ "$1" = "$2" ]; then echo "ok $_n - $3"
	else
		echo "not ok $_n - $3"
		echo "#   got '$1'"
		echo "#   want '$2'"
		_failed=$((_failed + 1))
	fi
}
like() {	# like TEXT REGEX DESCRIPTION
	if printf '%s' "$1" | grep -Eq -- "$2"; then ok 0 "$3"
	else ok 1 "$3"; echo "#   '$1' does not match /$2/" | head -5; fi
}
unlike() {	# unlike TEXT REGEX DESCRIPTION
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		ok 1 "$3"; printf '%s' "$1" | grep -E -- "$2" | head -3 | sed 's/^/#   matched: /'
	else ok 0 "$3"; fi
}
check() {	# check ARITHMETIC DESCRIPTION: passes when the expression is true
	if (( $1 )); then ok 0 "$2"; else ok 1 "$2"; echo "#   false: $1"; fi
}
done_testing() {
	echo "1..$_n"
	[ "$_failed" -eq 0 ]
	exit $?
}
diag() { echo "# $*"; }

# wait_for SECONDS COMMAND...: polls a readiness condition.
wait_for() {
	local limit=$(( $1 * 20 )) i=0
	shift
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -ge "$limit" ] && return 1
		sleep 0.05
	done
	return 0
}

json_get() {	# json_get FILE KEY
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# gp_start [extra serve flags]: starts greyproxy with its own data dir;
# sets GP_PID, GP_DATA, GP_HTTP, GP_SOCKS.
gp_start() {
	GP_DATA=${GP_DATA:-$T/data}
	rm -f "$GP_DATA/listen.json"
	if [ -n "${GP_SETTINGS:-}" ]; then	# settings.json before start
		mkdir -p -m 700 "$GP_DATA"
		printf '%s\n' "$GP_SETTINGS" > "$GP_DATA/settings.json"
	fi
	"$GREYPROXY" serve --http 127.0.0.1:0 --socks 127.0.0.1:0 --dns 127.0.0.1:0 \
		--api 127.0.0.1:0 --data-dir "$GP_DATA" "$@" \
		>>"$T/serve.log" 2>&1 &
	GP_PID=$!
	PIDS="$PIDS $GP_PID"
	if ! wait_for 10 test -s "$GP_DATA/listen.json"; then
		echo "Bail out! greyproxy did not start"; cat "$T/serve.log"
		exit 1
	fi
	GP_HTTP=$(json_get "$GP_DATA/listen.json" http)
	GP_SOCKS=$(json_get "$GP_DATA/listen.json" socks5)
	GP_API=$(json_get "$GP_DATA/listen.json" api)
}

# api METHOD PATH [curl args]: JSON body on stdout; the status code is
# kept for api_status (api usually runs in a command substitution).
api() {
	local m=$1 p=$2; shift 2
	curl -s -X "$m" -o "$T/.api_body" -w '%{http_code}' --max-time 10 \
		"$@" "http://$GP_API$p" > "$T/.api_status"
	cat "$T/.api_body"
}
api_status() { cat "$T/.api_status"; }
# jq-lite: jget JSON EXPR (python expression on d)
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }

gp_stop() {
	kill "$GP_PID" 2>/dev/null
	wait "$GP_PID" 2>/dev/null
}

rule() { "$GREYPROXY" rule --data-dir "$GP_DATA" "$@"; }

# origin_start NAME [--tls CERT KEY]: sets ORIGIN_PORT.
origin_start() {
	local name=$1; shift
	python3 "$LIB/origin.py" --port-file "$T/$name.port" "$@" \
		2>>"$T/origin.log" &
	PIDS="$PIDS $!"
	if ! wait_for 10 test -s "$T/$name.port"; then
		echo "Bail out! origin $name did not start"; exit 1
	fi
	ORIGIN_PORT=$(cat "$T/$name.port")
}

# fake_dns NAME=IP...: an upstream resolver answering those names;
# sets DNS_UP (host:port) for --dns-upstream.
fake_dns() {
	local args=() a
	for a in "$@"; do args+=(--a "$a"); done
	python3 "$LIB/fakedns.py" --port-file "$T/up.port" \
		--count-file "$T/up.json" "${args[@]}" 2>>"$T/fakedns.log" &
	PIDS="$PIDS $!"
	wait_for 10 test -s "$T/up.port" || { echo "Bail out! fake DNS"; exit 1; }
	DNS_UP=127.0.0.1:$(cat "$T/up.port")
}

# A self-signed certificate for localhost (for TLS origins).
make_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
}

# mitm_start [SETTINGS-JSON-FIELDS]: a plain origin (PP) and a TLS one
# with its own throwaway CA (OP), greyproxy with a CA of its own (CA)
# that trusts the origin through SSL_CERT_FILE, unmatched destinations
# blocked, 127.0.0.1 and localhost allowed; returns once interception is
# on.  Extra settings are JSON fields: mitm_start '"maxBodyBytes":1000'.
mitm_start() {
	make_cert
	origin_start plain; PP=$ORIGIN_PORT
	origin_start tls --tls "$T/cert.pem" "$T/key.pem"; OP=$ORIGIN_PORT
	mkdir -p -m 700 "$T/data"
	"$GREYPROXY" cert generate --data-dir "$T/data" >/dev/null
	GP_SETTINGS="{\"defaultAction\":\"block\",\"privateNetworkProtection\":false${1:+,$1}}"
	SSL_CERT_FILE="$T/cert.pem" gp_start
	CA=$T/data/ca-cert.pem
	api POST /api/rules -d '{"destination_pattern":"127.0.0.1","action":"allow"}' >/dev/null
	api POST /api/rules -d '{"destination_pattern":"localhost","action":"allow"}' >/dev/null
	wait_for 10 eval '[ "$(jget "$(api GET /api/status)" "d[\"mitm\"][\"state\"]")" = on ]' ||
		{ echo "Bail out! interception did not start"; exit 1; }
}

# tui_mitm [ENV=VALUE...]: tui_core with a CA of its own, a TLS origin
# (OP) it trusts through SSL_CERT_FILE, localhost allowed and the
# origin's /v1/messages read as Anthropic's (a user endpoint rule);
# returns once interception is on.
tui_mitm() {
	make_cert
	origin_start tls --tls "$T/cert.pem" "$T/key.pem"; OP=$ORIGIN_PORT
	mkdir -p -m 700 "$T/data"
	"$GREYPROXY" cert generate --data-dir "$T/data" >/dev/null
	tui_core SSL_CERT_FILE="$T/cert.pem" "$@"
	CA=$T/data/ca-cert.pem
	api POST /api/rules -d '{"destination_pattern":"localhost","action":"allow"}' >/dev/null
	api POST /api/endpoint-rules -d '{"host_pattern":"localhost","path_pattern":"/v1/messages","decoder_name":"anthropic"}' >/dev/null
	[ "$(api_status)" = 201 ] || { echo "Bail out! no endpoint rule"; exit 1; }
	wait_for 10 eval '[ "$(jget "$(api GET /api/status)" "d[\"mitm\"][\"state\"]")" = on ]' ||
		{ echo "Bail out! interception did not start"; exit 1; }
}

# ws_events: the API's event stream recorded in $T/ws.out (connected).
ws_events() {
	python3 "$LIB/wsclient.py" "${GP_API%:*}" "${GP_API##*:}" < /dev/null \
		> "$T/ws.out" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 5 grep -q '"type":"connected"' "$T/ws.out" ||
		{ echo "Bail out! no event stream"; exit 1; }
}

# proxy_status URL [curl args]: HTTP status through the HTTP proxy.
proxy_status() {
	local url=$1; shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 -x "http://$GP_HTTP" "$@" "$url"
}

# proxy_error URL [curl args]: the X-Proxy-Error header value.
proxy_error() {
	local url=$1; shift
	curl -s -D - -o /dev/null --max-time 10 -x "http://$GP_HTTP" "$@" "$url" |
		tr -d '\r' | sed -n 's/^X-Proxy-Error: //Ip'
}

# Predicates for wait_for (re-evaluated on every poll).
status_is() {	# status_is WANT URL [curl args]
	local want=$1; shift
	[ "$(proxy_status "$@")" = "$want" ]
}
sql() { sqlite3 "$GP_DATA/greyproxy.db" "$1"; }
sql_ge() {	# sql_ge QUERY N
	[ "$(sql "$1")" -ge "$2" ] 2>/dev/null
}

# --- tmux (TUI tests): a private server per test, stopped on exit ----
TMUX_L="gp-e2e-$$"
tm() { tmux -L "$TMUX_L" "$@"; }
tm_cleanup() { tm kill-server 2>/dev/null; }
trap 'tm_cleanup; cleanup' EXIT
# tm_start COMMAND...: a detached 80x24 session "ui" running COMMAND.
# The server outlives its sessions (exit-empty off): a test that kills
# "ui" and starts another raced the server's exit ("server exited
# unexpectedly").
tm_start() {
	tm new-session -d -s ui -x 80 -y 24 \
		"env LANG=C.UTF-8 LC_ALL=C.UTF-8 $*; echo EXITED \$? > $T/ui.exit; sleep 30" \; \
		set-option -s exit-empty off
}
screen() { tm capture-pane -p -t ui; }
# tui_core [ENV=VALUE...]: `greyproxy tui` running the core on port 0
# with a fresh data directory, in the tmux session; sets GP_API, GP_HTTP.
tui_core() {
	GP_DATA=$T/data
	mkdir -p -m 700 "$GP_DATA"
	tm_start "$@" "$GREYPROXY" tui --http 127.0.0.1:0 --socks 127.0.0.1:0 \
		--dns 127.0.0.1:0 --api 127.0.0.1:0 --data-dir "$GP_DATA"
	wait_for 10 test -s "$GP_DATA/listen.json"; ok $? "tui runs the core"
	GP_API=$(json_get "$GP_DATA/listen.json" api)
	GP_HTTP=$(json_get "$GP_DATA/listen.json" http)
}
on_screen() { screen | grep -q -- "$1"; }		# on_screen REGEX
# col LINE TEXT: the screen column (from 1) where TEXT starts in LINE,
# counted in characters, not bytes ("…" is one column).
col() { python3 -c 'import sys; print(sys.argv[1].find(sys.argv[2]) + 1)' "$1" "$2"; }
not_on_screen() { ! on_screen "$1"; }
keys() { tm send-keys -t ui "$@"; }
