/*
 * json-fuzz.c: what the API does with a JSON body before anything is
 * stored: cJSON's parse, a settings patch, and a rule's fields through
 * the rule validator (patterns, ports, IDN).
 */
#include "config.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <string.h>

#include "conf/conf.h"
#include "core/core.h"
#include "rules/rules.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *
field(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? gp_xstrdup(v->valuestring) : NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gp_settings	 s;
	struct gp_rule		 r;
	const char		*why;
	cJSON			*o = cJSON_ParseWithLength((const char *)data,
	    size);

	if (o == NULL)
		return 0;
	gp_settings_defaults(&s);
	gp_settings_patch(&s, o, &why);
	memset(&r, 0, sizeof r);
	r.dest = field(o, "destination_pattern");
	r.ports = field(o, "port_pattern");
	r.container = field(o, "container_pattern");
	if (r.dest != NULL) {
		if (r.ports == NULL)
			r.ports = gp_xstrdup("*");
		if (r.container == NULL)
			r.container = gp_xstrdup("*");
		gp_rule_prepare(&r, &why);
	}
	gp_rule_clear(&r);
	cJSON_Delete(o);
	return 0;
}
