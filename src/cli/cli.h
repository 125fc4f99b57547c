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
struct gp_store;
int	gp_cli_open_store(const char *cmd, const char *dir,
	    struct gp_store **);

extern const struct gp_cmd gp_cmds[];

struct gp_ctl;

#endif
