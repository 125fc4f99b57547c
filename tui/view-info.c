/*
 * view-info.c: conversations, which a later step fills; until then it
 * says what it will show and why it is empty.
 */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "tui/tui-int.h"

static void
paragraph(struct tui *t, int y, const char *text)
{
	char	*copy = gp_xstrdup(text), *save, *ln;

	for (ln = strtok_r(copy, "\n", &save); ln != NULL && y < LINES - 2;
	    ln = strtok_r(NULL, "\n", &save))
		tui_text(y++, 2, COLS - 4, ln);
	free(copy);
}

static void
conv_draw(struct tui *t, int top, int rows)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(t->status,
	    "settings");

	attrset(A_BOLD);
	tui_text(top + 1, 2, COLS - 4, _("No LLM conversations yet."));
	attrset(A_NORMAL);
	paragraph(t, top + 3, _("Conversations will be assembled from HTTPS "
	    "traffic to LLM APIs\n(Anthropic, OpenAI, Gemini) that greyproxy "
	    "intercepts, which needs\nTLS interception (MITM) and its CA "
	    "trusted by the client.\n\nThis build stores that traffic (4 "
	    "Traffic) but does not rebuild\nconversations from it yet."));
	tui_text(top + 10, 2, COLS - 4, cJSON_IsTrue(
	    cJSON_GetObjectItemCaseSensitive(s, "mitmEnabled")) ?
	    _("Setting mitmEnabled: on") : _("Setting mitmEnabled: off "
	    "(7 Settings to change it)"));
}

const struct view_ops view_conv = {
	N_("Convers."), C_CONV, NULL, NULL, conv_draw, NULL, NULL,
};
