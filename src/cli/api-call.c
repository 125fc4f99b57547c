/*
 * api-call.c: the CLI's word with a running greyproxy: one short
 * blocking HTTP exchange with its API (there is no loop in a command),
 * at the address its listen.json names.
 */
#include "config.h"

#include <cjson/cJSON.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/cli.h"
#include "conf/conf.h"
#include "core/core.h"
#include "net/net.h"

/* One HTTP exchange with the API; returns the status and the body. */
int
gp_cli_api_call(const char *addr, const char *method, const char *path,
    struct gp_buf *body)
{
	struct sockaddr_storage	 ss;
	const char		*why;
	char			 req[512], buf[4096], *p;
	int			 fd, status = -1;
	ssize_t			 n;
	struct pollfd		 pfd;

	if (gp_addr_parse(addr, &ss, &why) != 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss,
	    ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: %s\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n", method, path,
	    addr);
	if (write(fd, req, (size_t)n) != n)
		goto out;
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, 5000) > 0 && (n = read(fd, buf, sizeof buf)) >
	    0)
		gp_buf_add(body, buf, (size_t)n);
	if (body->len > 12 && strncmp(body->data, "HTTP/1.1 ", 9) == 0)
		status = atoi(body->data + 9);
	if ((p = strstr(body->data ? body->data : "", "\r\n\r\n")) != NULL)
		gp_buf_consume(body, (size_t)(p + 4 - body->data));
out:
	close(fd);
	return status;
}

const char *
gp_cli_api_addr(const struct gp_config *cfg, char *out, size_t outlen)
{
	char	*path, *text = NULL;
	FILE	*fp;
	long	 n;
	cJSON	*o;
	const char *api;

	snprintf(out, outlen, "%s", cfg->api_addr);
	gp_xasprintf(&path, "%s/listen.json", cfg->data_dir);
	if ((fp = fopen(path, "re")) != NULL) {
		if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) > 0 &&
		    n < 65536 && fseek(fp, 0, SEEK_SET) == 0) {
			text = gp_xmalloc((size_t)n + 1);
			text[fread(text, 1, (size_t)n, fp)] = '\0';
		}
		fclose(fp);
	}
	if (text != NULL && (o = cJSON_Parse(text)) != NULL) {
		if ((api = cJSON_GetStringValue(cJSON_GetObjectItem(o,
		    "api"))) != NULL)
			snprintf(out, outlen, "%s", api);
		cJSON_Delete(o);
	}
	free(text);
	free(path);
	return out;
}
