/*
 * conf.h: command-line configuration shared by `serve` and `tui`, and
 * the data directory.  Strings are owned by the config: gp_config_free().
 */
#ifndef GP_CONFIG_H
#define GP_CONFIG_H

#include <stdint.h>

struct gp_config {
	char		*data_dir;
	char		*http_addr;
	char		*socks_addr;
	char		*dns_addr;
	char		*api_addr;
	char		*dns_upstream;	/* NULL: /etc/resolv.conf */
	int		 allow_non_loopback;
	int		 log_level;
	unsigned	 connect_timeout_ms;
	unsigned	 idle_timeout_ms;
	unsigned	 header_timeout_ms;	/* heads, handshakes: total */
	char		*attach;	/* tui: API to attach to */
	int		 standalone;	/* tui: never attach */
	int		 daemon;	/* serve: detach */
};

/*
 * Parses the listener and data flags of `serve`/`tui` from argv (after
 * the command word).  Returns 0, 1 when --help was printed, or 2 after
 * printing a one-line error to stderr.
 */
int	gp_config_parse(struct gp_config *, const char *cmd, int argc,
	    char **argv);
void	gp_config_free(struct gp_config *);
/* Usage text of the shared flags. */
void	gp_config_usage(const char *cmd);
/* $GREYPROXY_DATA_HOME > $XDG_DATA_HOME/greyproxy > ~/.local/share/... */
char	*gp_data_dir_default(void);
/* Creates the directory (and parents) 0700; 0 or -errno. */
int	gp_data_dir_prepare(const char *);
/*
 * One greyproxy per data directory: an exclusive lock on
 * DIR/greyproxy.lock (holding our pid), kept while *fd stays open.
 * 0, -EWOULDBLOCK with *holder the pid of the instance that has it, or
 * another -errno.
 */
int	gp_data_dir_lock(const char *dir, int *fd, long *holder);
/* Is another process holding the lock?  (*holder: its pid.) */
int	gp_data_dir_in_use(const char *dir, long *holder);

/*
 * Runtime settings (settings.json, GET/PUT /api/settings, the TUI).
 * One table in settings.c drives parsing, JSON and validation.  The file
 * holds only what the user changed (pretty JSON, 0600), written
 * atomically on every change.
 */
enum gp_default_action { GP_DEFAULT_PENDING, GP_DEFAULT_BLOCK };
enum gp_mode { GP_MODE_FULL, GP_MODE_LIMITED };
enum gp_capture { GP_CAPTURE_ALL, GP_CAPTURE_INTERCEPTED, GP_CAPTURE_NONE };

struct gp_settings {
	int		default_action;		/* enum gp_default_action */
	int		pending_timeout;	/* seconds */
	int		mitm_enabled;
	int		mode;			/* enum gp_mode */
	int		private_protection;
	int		notifications;
	int		pending_bell;
	int		dns_policy;		/* deny rules refuse names */
	int		dns_ttl_min, dns_ttl_max;
	int		pending_max_entries;	/* destinations listed */
	int		pending_max_waiters;	/* connections held */
	int		pending_retention;	/* s an unwatched entry stays */
	int		log_budget;		/* rows/identity/minute, 0 all */
	int		log_retention_days;	/* 0: forever */
	int		log_max_mb;		/* database cap, 0: none */
	int		decision_scope;		/* a/d in the TUI: enum index */
	int		decision_duration;	/* of "permanent", "1h", ... */
	char		theme[16];
	char		mitm_bypass[2048];	/* host globs, one per line */
	int		max_body_bytes;		/* stored per body */
	int		capture;		/* enum gp_capture */
	int		tx_retention_days;	/* 0: forever */
	int		tx_max_mb;		/* stored bytes cap, 0: none */
	char		redacted_headers[2048];	/* header globs, one per line */
	int		conversations;		/* assemble LLM conversations */
	uint64_t	user_set;		/* bit per table entry */
};

struct cJSON;
void	gp_settings_defaults(struct gp_settings *);
/* Loads DIR/settings.json over the defaults; 0, or -1 with *err. */
int	gp_settings_load(struct gp_settings *, const char *dir, char **err);
int	gp_settings_save(const struct gp_settings *, const char *dir);
/*
 * Applies a partial patch (only present keys) to a copy; on any invalid
 * key or value nothing changes and -1 is returned with *why (static).
 */
int	gp_settings_patch(struct gp_settings *, const struct cJSON *,
	    const char **why);
/* Resolved settings as a new cJSON object (caller deletes). */
struct cJSON *gp_settings_json(const struct gp_settings *);
/* Each setting's type, limits, choices and default: the table that
 * drives the API's validation, served to the TUI (caller deletes). */
struct cJSON *gp_settings_schema_json(void);

#endif
