/*
 * dns-fuzz.c: DNS messages: the question parser, the answer scanner
 * (validation, TTLs, addresses), ageing and the cache, as the proxy
 * uses them on an upstream answer.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "dns/dns.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
note(void *d, const char *ip, uint32_t ttl)
{
	(void)d;
	(void)ip;
	(void)ttl;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gp_dns_cache *cache;
	struct gp_dns_msg	 m;
	uint8_t			*copy, err[512], *hit;
	int64_t			 ttl;
	size_t			 len;

	if (cache == NULL)
		cache = gp_dns_cache_new(64, 0, 86400);
	if (gp_dns_parse(data, size, &m) != 0)
		return 0;
	gp_dns_error(data, &m, GP_DNS_SERVFAIL, 0, err, sizeof err);
	if (gp_dns_scan_answer(data, size, &m, &ttl, note, NULL) != 0)
		return 0;
	copy = malloc(size);
	memcpy(copy, data, size);
	gp_dns_age(copy, size, 7);
	gp_dns_cache_put(cache, m.name, m.qtype, m.qclass, copy, size, ttl,
	    m.rcode == GP_DNS_NXDOMAIN, 1000);
	hit = gp_dns_cache_get(cache, m.name, m.qtype, m.qclass, 1001, &len);
	free(hit);
	free(copy);
	return 0;
}
