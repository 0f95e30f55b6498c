// SPDX-License-Identifier: MIT
// netcfg-test: one netcfg call per invocation, for tests/netns/netcfg.sh.
//
// Usage: netcfg-test COMMAND [key=value | flag]...
//   index dev=IF              getmtu dev=IF            mtu dev=IF mtu=N
//   up dev=IF                 down dev=IF              linkdel dev=IF
//   addr-add dev=IF addr=A/P  addr-del dev=IF addr=A/P
//   addr-list dev=IF [family=4|6]                      addr-flush dev=IF [family=4|6]
//   route-add dst=A/P dev=IF [table=N] [metric=N] [proto=N] [replace]
//   route-del dst=A/P [dev=IF] [table=N] [metric=N] [proto=N]
//   route-mtu dst=A [fwmark=N]                          (prints "mtu N dev IF")
//   rule-add|rule-del family=4|6 prio=N [table=N] [fwmark=N] [not] [suppress=N]
//   rule-flush family=4|6 [table=N] [fwmark=N] [suppress-main]   (prints "deleted N")
// Numbers accept 0x prefixes. A failure prints "error: -ENAME (message)" and exits 2.
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netcfg.h"

struct args {
	const char *dev;
	const char *addr;
	int family;
	unsigned long table, metric, proto, prio, fwmark, mtu;
	long suppress;
	bool replace, invert, suppress_main;
};

__attribute__((noreturn)) static void usage(void)
{
	fprintf(stderr, "usage: netcfg-test COMMAND [key=value | flag]... (see the source)\n");
	exit(64);
}

static unsigned long num(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || !*s || *end) {
		fprintf(stderr, "netcfg-test: bad number '%s'\n", s);
		exit(64);
	}
	return v;
}

static void parse_arg(struct args *a, const char *arg)
{
	const char *eq = strchr(arg, '=');
	const char *v = eq ? eq + 1 : NULL;
	size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);

#define KEY(k) (klen == strlen(k) && !strncmp(arg, k, klen))
	if (v && KEY("dev"))
		a->dev = v;
	else if (v && (KEY("addr") || KEY("dst")))
		a->addr = v;
	else if (v && KEY("family"))
		a->family = num(v) == 6 ? AF_INET6 : AF_INET;
	else if (v && KEY("table"))
		a->table = num(v);
	else if (v && KEY("metric"))
		a->metric = num(v);
	else if (v && KEY("proto"))
		a->proto = num(v);
	else if (v && KEY("prio"))
		a->prio = num(v);
	else if (v && KEY("fwmark"))
		a->fwmark = num(v);
	else if (v && KEY("mtu"))
		a->mtu = num(v);
	else if (v && KEY("suppress"))
		a->suppress = num(v);
	else if (!v && KEY("replace"))
		a->replace = true;
	else if (!v && KEY("not"))
		a->invert = true;
	else if (!v && KEY("suppress-main"))
		a->suppress_main = true;
	else {
		fprintf(stderr, "netcfg-test: unknown argument '%s'\n", arg);
		exit(64);
	}
#undef KEY
}

/* "A/P" or "A" (full length) into family/addr/prefix. */
static void parse_prefix(const char *s, int *family, uint8_t addr[16], uint8_t *prefix)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;

	if (!s || strlen(s) >= sizeof(buf))
		usage();
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		*family = AF_INET6;
	else {
		fprintf(stderr, "netcfg-test: bad address '%s'\n", s);
		exit(64);
	}
	*prefix = slash ? num(slash + 1) : (*family == AF_INET ? 32 : 128);
}

static int die_errno(const char *cmd, int err)
{
	const char *name = strerrorname_np(-err);

	printf("error: -%s (%s)\n", name ? name : "?", strerror(-err));
	fprintf(stderr, "netcfg-test: %s: %s\n", cmd, strerror(-err));
	return 2;
}

static int ifindex_of(struct awg_netcfg *nc, const char *dev)
{
	if (!dev)
		usage();
	return awg_netcfg_link_index(nc, dev);
}

static int do_addr_list(struct awg_netcfg *nc, int ifindex, int family)
{
	struct awg_netcfg_addr list[64];
	char s[INET6_ADDRSTRLEN];
	int n, i;

	n = awg_netcfg_addr_list(nc, ifindex, family, list, 64);
	for (i = 0; i < n && i < 64; i++) {
		inet_ntop(list[i].family, list[i].addr, s, sizeof(s));
		printf("%s/%u\n", s, list[i].prefix);
	}
	return n < 0 ? n : 0;
}

static int do_route(struct awg_netcfg *nc, const struct args *a, bool add)
{
	struct awg_netcfg_route r = {
		.table = a->table,
		.metric = a->metric,
		.protocol = a->proto,
	};

	parse_prefix(a->addr, &r.family, r.dst, &r.prefix);
	if (a->dev) {
		r.oif = awg_netcfg_link_index(nc, a->dev);
		if (r.oif < 0)
			return r.oif;
	}
	return add ? awg_netcfg_route_add(nc, &r, a->replace) : awg_netcfg_route_del(nc, &r);
}

static int do_route_mtu(struct awg_netcfg *nc, const struct args *a)
{
	uint8_t dst[16], prefix;
	char name[IF_NAMESIZE] = "?";
	uint32_t mtu;
	int family, oif, ret;

	parse_prefix(a->addr, &family, dst, &prefix);
	ret = awg_netcfg_route_mtu(nc, family, dst, a->fwmark, &mtu, &oif);
	if (ret < 0)
		return ret;
	/* Only for the printout; the namespace is the same as the netlink socket's. */
	if_indextoname(oif, name);
	printf("mtu %u dev %s\n", mtu, name);
	return 0;
}

static int do_rule(struct awg_netcfg *nc, const struct args *a, bool add)
{
	struct awg_netcfg_rule r = {
		.family = a->family,
		.priority = a->prio,
		.table = a->table,
		.fwmark = a->fwmark,
		.invert = a->invert,
		.suppress_prefixlen = a->suppress,
	};

	return add ? awg_netcfg_rule_add(nc, &r) : awg_netcfg_rule_del(nc, &r);
}

static int run(struct awg_netcfg *nc, const char *cmd, const struct args *a)
{
	uint8_t addr[16], prefix;
	uint32_t mtu;
	int family, idx, ret;

	if (!strncmp(cmd, "route-", 6) || !strncmp(cmd, "rule-", 5))
		goto no_link;
	idx = ifindex_of(nc, a->dev);
	if (idx < 0)
		return idx;
	if (!strcmp(cmd, "index")) {
		printf("%d\n", idx);
		return 0;
	}
	if (!strcmp(cmd, "getmtu")) {
		ret = awg_netcfg_link_get_mtu(nc, idx, &mtu);
		if (!ret)
			printf("%u\n", mtu);
		return ret;
	}
	if (!strcmp(cmd, "mtu"))
		return awg_netcfg_link_set_mtu(nc, idx, a->mtu);
	if (!strcmp(cmd, "up") || !strcmp(cmd, "down"))
		return awg_netcfg_link_set_up(nc, idx, !strcmp(cmd, "up"));
	if (!strcmp(cmd, "linkdel"))
		return awg_netcfg_link_del(nc, a->dev);
	if (!strcmp(cmd, "addr-add") || !strcmp(cmd, "addr-del")) {
		parse_prefix(a->addr, &family, addr, &prefix);
		if (!strcmp(cmd, "addr-add"))
			return awg_netcfg_addr_add(nc, idx, family, addr, prefix);
		return awg_netcfg_addr_del(nc, idx, family, addr, prefix);
	}
	if (!strcmp(cmd, "addr-list"))
		return do_addr_list(nc, idx, a->family);
	if (!strcmp(cmd, "addr-flush")) {
		ret = awg_netcfg_addr_flush(nc, idx, a->family);
		if (ret >= 0)
			printf("deleted %d\n", ret);
		return ret < 0 ? ret : 0;
	}
	usage();
no_link:
	if (!strcmp(cmd, "route-add") || !strcmp(cmd, "route-del"))
		return do_route(nc, a, !strcmp(cmd, "route-add"));
	if (!strcmp(cmd, "route-mtu"))
		return do_route_mtu(nc, a);
	if (!strcmp(cmd, "rule-add") || !strcmp(cmd, "rule-del"))
		return do_rule(nc, a, !strcmp(cmd, "rule-add"));
	if (!strcmp(cmd, "rule-flush")) {
		ret = awg_netcfg_rule_flush(nc, a->family, a->table, a->fwmark, a->suppress_main);
		if (ret >= 0)
			printf("deleted %d\n", ret);
		return ret < 0 ? ret : 0;
	}
	usage();
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = {.family = 0, .suppress = -1};
	struct awg_netcfg *nc;
	int i, ret;

	if (argc < 2)
		usage();
	for (i = 2; i < argc; i++)
		parse_arg(&a, argv[i]);
	ret = awg_netcfg_open(&nc);
	if (ret < 0)
		return die_errno("open", ret);
	ret = run(nc, argv[1], &a);
	awg_netcfg_close(nc);
	if (ret < 0)
		return die_errno(argv[1], ret);
	return 0;
}
