/*
 * cli.h: the command table.  Each command gets argv after its own name
 * and returns the process exit status (0 ok, 1 failure, 2 usage).
 */
#ifndef GP_CLI_H
#define GP_CLI_H

struct gp_cmd {
	const char	*name;
	int		(*run)(int, char **);
	const char	*help;		/* N_() one-liner */
};

int	gp_cmd_serve(int, char **);
int	gp_cmd_rule(int, char **);
int	gp_cmd_version(int, char **);
int	gp_cmd_dns(int, char **);
int	gp_cmd_logs(int, char **);
int	gp_cmd_cert(int, char **);
int	gp_cmd_conv(int, char **);
struct gp_store;
struct gp_buf;
struct gp_config;
/* api-call.c: the running instance's API address (its listen.json in
 * the data directory, else cfg's), and one blocking exchange with it:
 * the HTTP status (-1: nobody answers) and the body. */
const char *gp_cli_api_addr(const struct gp_config *, char *, size_t);
int	gp_cli_api_call(const char *addr, const char *method,
	    const char *path, struct gp_buf *body);
int	gp_cli_open_store(const char *cmd, const char *dir,
	    struct gp_store **);

extern const struct gp_cmd gp_cmds[];

struct gp_ctl;

#endif
