/*
 * dissect-int.h: what the dissectors share (llm.c): reading cJSON
 * values into a call's arena, and the reply forms they all take.
 */
#ifndef GP_DISSECT_INT_H
#define GP_DISSECT_INT_H

#include <cjson/cJSON.h>

#include "dissect/dissect.h"

/* o[key] as a string, or NULL. */
const char *gp_j_str(const cJSON *o, const char *key);
/* o[key] as an integer (0 when absent or not a number). */
int64_t	gp_j_int(const cJSON *o, const char *key);
/* A count (tokens): 0..GP_J_COUNT_MAX, so sums cannot overflow. */
#define GP_J_COUNT_MAX	((int64_t)1 << 40)
int64_t	gp_j_count(const cJSON *o, const char *key);
/* A value as text in the arena: a string as is, anything else as
 * compact JSON. */
const char *gp_j_text(struct gp_llm_call *, const cJSON *);
/* Parses a body; NULL (and call->why) when it is not JSON. */
cJSON	*gp_j_parse(struct gp_llm_call *, const char *, size_t,
	    const char *what);
/* An API error object {type?|status?|code?, message?} as
 * "type: message". */
void	gp_j_error(struct gp_llm_call *, const cJSON *err);
/* The reply, JSON or an event stream (by content type, else by its
 * bytes): fn is called with each event's JSON, or once with the whole
 * body.  Returns the payloads read. */
typedef void (*gp_j_event_fn)(struct gp_llm_call *, const char *event,
	    const cJSON *, void *);
int	gp_j_reply(struct gp_llm_call *, const struct gp_llm_input *,
	    gp_j_event_fn, void *);
int	gp_j_streamed(const struct gp_llm_input *);

#endif
