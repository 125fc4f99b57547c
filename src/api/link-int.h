/* link-int.h: the link's state, shared by link.c and client.c. */
#ifndef GP_LINK_INT_H
#define GP_LINK_INT_H

#include "api/api.h"

struct lreply;
struct hreq;
struct wsclient;
struct gp_bridge;

struct gp_link {
	struct gp_ctl		*ctl;		/* local; NULL when remote */
	uv_loop_t		*loop;
	gp_link_event_fn	 on_event;
	gp_link_state_fn	 on_state;
	void			*data;
	char			 target[GP_ADDR_STRLEN + 8];
	uv_timer_t		 timer;		/* deliveries, reconnects */
	struct lreply		*queue;
	struct lreply		**tail;	/* queue's last next, or &queue */
	int			 bus_sub;
	int			 closing;
	int			 handles;	/* extra handles open */
	struct gp_bridge	*bridge;	/* the interface's half of one */
	/* remote */
	struct sockaddr_storage	 addr;
	struct wsclient		*ws;
	struct hreq		*waiting;	/* requests for their turn */
	struct hreq		*waiting_last;
	unsigned		 inflight;	/* connections open */
	int			 up;
	unsigned		 retry_ms;
};

void	gp_link_deliver(uv_timer_t *);
/* Drops one open handle; frees the link after the last once closing. */
void	gp_link_unref(struct gp_link *);
void	gp_link_remote_request(struct gp_link *, const char *, const char *,
	    const cJSON *, gp_link_reply_fn, void *);
void	gp_link_remote_close(struct gp_link *);
/* A reply delivered from the loop (status 0 and NULL once closing). */
void	gp_link_queue_reply(struct gp_link *, gp_link_reply_fn, void *,
	    int status, cJSON *json);
/* bridge.c */
void	gp_link_bridge_request(struct gp_link *, const char *, const char *,
	    const cJSON *, gp_link_reply_fn, void *);
void	gp_link_bridge_close_ui(struct gp_link *);

#endif
