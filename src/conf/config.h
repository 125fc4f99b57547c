/*
 * config.h: command-line configuration shared by `serve` and `tui`, and
 * the data directory.  Strings are owned by the config: gp_config_free().
 */
#ifndef GP_CONFIG_H
#define GP_CONFIG_H

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

#endif
