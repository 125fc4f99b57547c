#!/bin/bash
# Translations: po/greyproxy.pot matches the sources, fr.po translates
# every message with matching formats, and the CLI speaks French.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
cd "$TOP_SRCDIR/po" || exit 1

files=$(sed 's|^|../|' POTFILES.in)
# The options make uses (po/Makevars: the keywords, plurals included).
opts=$(sed -n 's/^XGETTEXT_OPTIONS *= *//p' Makevars)
# shellcheck disable=SC2086
xgettext $opts -o "$T/fresh.pot" $files 2>/dev/null
ids() { msgcat --no-wrap --sort-output "$1" 2>/dev/null | sed -n 's/^msgid\(_plural\)\{0,1\} //p' | sort; }
is "$(ids "$T/fresh.pot" | md5sum)" "$(ids greyproxy.pot | md5sum)" \
	"greyproxy.pot lists exactly the sources' messages (run make -C po update-po)"
stats=$(msgfmt -c --statistics -o "$T/fr.mo" fr.po 2>&1); rc=$?
is "$rc" 0 "fr.po compiles with format checks"
like "$stats" "^[0-9]+ translated messages\.$" "fr.po: nothing fuzzy or untranslated"
missing=$(msgcmp fr.po greyproxy.pot 2>&1); is "$?" 0 "fr.po covers every message of the template"
mkdir -p "$T/loc/fr/LC_MESSAGES" && cp "$T/fr.mo" "$T/loc/fr/LC_MESSAGES/greyproxy.mo"
out=$(LANG=C.UTF-8 LC_ALL= LANGUAGE=fr GREYPROXY_LOCALEDIR="$T/loc" "$GREYPROXY" --help)
like "$out" "Commandes :" "the CLI speaks French with LANGUAGE=fr"
out=$(LANG=C.UTF-8 LC_ALL= LANGUAGE=fr GREYPROXY_LOCALEDIR="$T/loc" "$GREYPROXY" serve --http 1.2.3.4:1 --data-dir "$T/d" 2>&1)
like "$out" "n'est pas une adresse de boucle locale" "errors are translated too"

# The terminal interface in French.
GP_DATA=$T/data
tm new-session -d -s ui -x 80 -y 24 "env LANG=C.UTF-8 LANGUAGE=fr GREYPROXY_LOCALEDIR=$T/loc $GREYPROXY tui --standalone --http 127.0.0.1:0 --socks 127.0.0.1:0 --dns 127.0.0.1:0 --api 127.0.0.1:0 --data-dir $GP_DATA"
wait_for 10 on_screen "1 Attente"; ok $? "tab bar in French"
like "$(screen)" "Réglages" "UTF-8 labels drawn"
keys '?'
wait_for 5 on_screen "Aide : touches de cette vue"; ok $? "help in French"
keys Escape q
done_testing
