#!/bin/bash
# Layering: curses only in tui/, SQL only in src/store/, tui/ never
# included from src/ (except main.c), pure modules free of libuv.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
cd "$TOP_SRCDIR" || exit 1

bad=$(grep -rlE '#include [<"](n?curses|ncursesw/)' src | grep -v '^src/main.c$')
is "$bad" "" "no curses outside tui/"
bad=$(grep -rl 'sqlite3' src --include='*.c' --include='*.h' | grep -v '^src/store/')
is "$bad" "" "SQL only in src/store/"
bad=$(grep -rlE '#include "(\.\./)*tui/' src | grep -v '^src/main.c$')
is "$bad" "" "src/ does not include tui/ (main.c aside)"
bad=$(grep -lE '#include <uv.h>|"net/|"store/' src/rules/*.[ch] src/http/*.[ch] src/dissect/*.[ch])
is "$bad" "" "rules, http parsing and dissectors are pure (no libuv, no store)"
bad=$(find src tui -name config.h)
is "$bad" "" "no module header named config.h (it would shadow autoconf's)"
bad=$(grep -L '^#include "config.h"' src/*.c src/*/*.c tui/*.c)
is "$bad" "" "every source file includes config.h first"
bad=$(grep -lE '#include <(n?curses|ncursesw/)' tui/*.c tui/*.h | grep -v -E 'tui/(tui|draw|overlay|view|view-[a-z]+|keys)\.[ch]$')
is "$bad" "" "curses only in the drawing files of tui/"
# ctl is the only door: outside src/ctl/ nothing reads or writes the
# core's fields (struct gp_ctl); interfaces call gp_ctl_* operations.
bad=$(grep -nE '(ctl_of\(r\)|[a-z_]*ctl)->(store|pending|rules|settings|px|bus|loop|cfg|dns|dns_cache|blocked|nblocked|dnslog|http_bound|socks_bound|dns_bound)\b' \
	src/api/*.c src/cli/*.c src/app/*.c tui/*.c)
is "$bad" "" "no struct gp_ctl field is used outside src/ctl/"
bad=$(grep -nE '\bc->(store|pending|rules|px|dns_cache|dnslog|nblocked|blocked)\b' src/api/*.c)
is "$bad" "" "the API's routes use gp_ctl_* operations only"
done_testing
