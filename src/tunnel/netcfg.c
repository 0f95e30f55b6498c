// SPDX-License-Identifier: MIT
// netcfg: rtnetlink requests for links, addresses, routes and policy rules (see netcfg.h).
#include "netcfg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

/* Dumps come in skbs of up to 32 KiB; a smaller buffer truncates them (ENOSPC). */
#define NETCFG_BUF_SIZE 32768
/* Upper bound on flush rounds, so a kernel that keeps re-adding entries cannot spin us. */
#define FLUSH_ROUNDS 64
#define FLUSH_BATCH 64

struct awg_netcfg {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	char buf[NETCFG_BUF_SIZE];
};

/* Collects a message's attributes by type; unknown (newer) types are ignored. */
struct attr_table {
	const struct nlattr **tb;
	unsigned int max;
};

static int attr_cb(const struct nlattr *attr, void *data)
{
	struct attr_table *t = data;
	unsigned int type = mnl_attr_get_type(attr);

	if (type <= t->max)
		t->tb[type] = attr;
	return MNL_CB_OK;
}

static void parse_attrs(const struct nlmsghdr *nlh, size_t hdrlen, const struct nlattr **tb,
			unsigned int max)
{
	struct attr_table t = {.tb = tb, .max = max};

	memset(tb, 0, (max + 1) * sizeof(*tb));
	mnl_attr_parse(nlh, hdrlen, attr_cb, &t);
}

static uint32_t attr_u32(const struct nlattr *attr, uint32_t def)
{
	if (!attr || mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return def;
	return mnl_attr_get_u32(attr);
}

static size_t addr_len(int family)
{
	switch (family) {
	case AF_INET:
		return 4;
	case AF_INET6:
		return 16;
	default:
		return 0;
	}
}

static int check_prefix(int family, uint8_t prefix)
{
	size_t len = addr_len(family);

	if (!len || prefix > len * 8)
		return -EINVAL;
	return 0;
}

static uint32_t table_or_main(uint32_t table)
{
	return table ? table : RT_TABLE_MAIN;
}

/* rtm_table/frh.table hold 8 bits; larger ids go in RTA_TABLE/FRA_TABLE only. */
static uint8_t table_u8(uint32_t table)
{
	return table < 256 ? table : RT_TABLE_UNSPEC;
}

int awg_netcfg_open(struct awg_netcfg **out)
{
	struct awg_netcfg *nc;
	int ret;

	nc = calloc(1, sizeof(*nc));
	if (!nc)
		return -ENOMEM;
	nc->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nc->nl) {
		ret = -errno;
		goto err_free;
	}
	if (mnl_socket_bind(nc->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto err_close;
	}
	nc->portid = mnl_socket_get_portid(nc->nl);
	*out = nc;
	return 0;

err_close:
	mnl_socket_close(nc->nl);
err_free:
	free(nc);
	return ret;
}

void awg_netcfg_close(struct awg_netcfg *nc)
{
	if (!nc)
		return;
	mnl_socket_close(nc->nl);
	free(nc);
}

static struct nlmsghdr *msg_start(struct awg_netcfg *nc, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nc->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nc->seq;
	return nlh;
}

/*
 * Sends nlh (built in nc->buf) and reads answers until the ack or NLMSG_DONE, handing each data
 * message to cb. Callbacks must not fail the run: an early stop would leave the rest of a dump
 * queued on the socket, so they record their own errors and return MNL_CB_OK.
 */
static int transact(struct awg_netcfg *nc, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(nc->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nc->nl, nc->buf, sizeof(nc->buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(nc->buf, n, seq, nc->portid, cb, data);
	} while (ret > 0);
	return ret < 0 ? -errno : 0;
}

/* A changing request: NLM_F_ACK, so the kernel's verdict is the return value. */
static int request(struct awg_netcfg *nc, struct nlmsghdr *nlh)
{
	nlh->nlmsg_flags |= NLM_F_ACK;
	return transact(nc, nlh, NULL, NULL);
}

/* ---- links ---- */

struct link_info {
	int index;
	uint32_t mtu;
	bool found;
};

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1];
	struct link_info *li = data;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	parse_attrs(nlh, sizeof(*ifi), tb, IFLA_MAX);
	li->index = ifi->ifi_index;
	li->mtu = attr_u32(tb[IFLA_MTU], 0);
	li->found = true;
	return MNL_CB_OK;
}

/* RTM_GETLINK by index or, with index 0, by name. */
static int link_get(struct awg_netcfg *nc, int ifindex, const char *name, struct link_info *li)
{
	/* NLM_F_ACK: a plain get has no NLMSG_DONE, the ack ends the exchange. */
	struct nlmsghdr *nlh = msg_start(nc, RTM_GETLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	int ret;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (name) {
		if (strlen(name) >= IFNAMSIZ)
			return -EINVAL;
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	}
	/* Only the link itself: no per-VF statistics that could outgrow the buffer. */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, 0);
	memset(li, 0, sizeof(*li));
	ret = transact(nc, nlh, link_cb, li);
	if (ret < 0)
		return ret;
	return li->found ? 0 : -ENODEV;
}

int awg_netcfg_link_index(struct awg_netcfg *nc, const char *name)
{
	struct link_info li;
	int ret;

	ret = link_get(nc, 0, name, &li);
	return ret < 0 ? ret : li.index;
}

int awg_netcfg_link_get_mtu(struct awg_netcfg *nc, int ifindex, uint32_t *mtu)
{
	struct link_info li;
	int ret;

	if (ifindex <= 0)
		return -EINVAL;
	ret = link_get(nc, ifindex, NULL, &li);
	if (ret < 0)
		return ret;
	*mtu = li.mtu;
	return 0;
}

static struct nlmsghdr *link_msg(struct awg_netcfg *nc, uint16_t type, int ifindex)
{
	struct nlmsghdr *nlh = msg_start(nc, type, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nlh;
}

int awg_netcfg_link_set_mtu(struct awg_netcfg *nc, int ifindex, uint32_t mtu)
{
	struct nlmsghdr *nlh;

	if (ifindex <= 0)
		return -EINVAL;
	nlh = link_msg(nc, RTM_NEWLINK, ifindex);
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return request(nc, nlh);
}

int awg_netcfg_link_set_up(struct awg_netcfg *nc, int ifindex, bool up)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	if (ifindex <= 0)
		return -EINVAL;
	nlh = link_msg(nc, RTM_NEWLINK, ifindex);
	ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	return request(nc, nlh);
}

int awg_netcfg_link_del(struct awg_netcfg *nc, const char *name)
{
	struct nlmsghdr *nlh;

	if (!name || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	nlh = link_msg(nc, RTM_DELLINK, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return request(nc, nlh);
}

/* ---- addresses ---- */

static int addr_change(struct awg_netcfg *nc, uint16_t type, uint16_t flags, int ifindex,
		       int family, const void *addr, uint8_t prefix)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	size_t len = addr_len(family);
	int ret;

	ret = check_prefix(family, prefix);
	if (ret < 0)
		return ret;
	if (ifindex <= 0)
		return -ENODEV;
	nlh = msg_start(nc, type, flags);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = family;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	/* As ip(8) does without "peer": local and address are the same. */
	mnl_attr_put(nlh, IFA_LOCAL, len, addr);
	mnl_attr_put(nlh, IFA_ADDRESS, len, addr);
	/* Skip duplicate address detection: the tunnel's addresses are ours by configuration. */
	if (family == AF_INET6 && type == RTM_NEWADDR) {
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	}
	return request(nc, nlh);
}

int awg_netcfg_addr_add(struct awg_netcfg *nc, int ifindex, int family, const void *addr,
			uint8_t prefix)
{
	return addr_change(nc, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, family, addr,
			   prefix);
}

int awg_netcfg_addr_del(struct awg_netcfg *nc, int ifindex, int family, const void *addr,
			uint8_t prefix)
{
	return addr_change(nc, RTM_DELADDR, 0, ifindex, family, addr, prefix);
}

struct addr_dump {
	int ifindex;
	struct awg_netcfg_addr *out;
	size_t max;
	int count;
};

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1];
	const struct nlattr *a;
	struct addr_dump *d = data;
	struct awg_netcfg_addr *e;
	size_t len;

	if (nlh->nlmsg_type != RTM_NEWADDR || (d->ifindex && (int)ifa->ifa_index != d->ifindex))
		return MNL_CB_OK;
	len = addr_len(ifa->ifa_family);
	if (!len)
		return MNL_CB_OK;
	parse_attrs(nlh, sizeof(*ifa), tb, IFA_MAX);
	/* IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's on p2p links. */
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || mnl_attr_get_payload_len(a) != len)
		return MNL_CB_OK;
	if ((size_t)d->count < d->max) {
		e = &d->out[d->count];
		memset(e, 0, sizeof(*e));
		e->ifindex = (int)ifa->ifa_index;
		e->family = ifa->ifa_family;
		e->prefix = ifa->ifa_prefixlen;
		memcpy(e->addr, mnl_attr_get_payload(a), len);
	}
	d->count++;
	return MNL_CB_OK;
}

int awg_netcfg_addr_list(struct awg_netcfg *nc, int ifindex, int family,
			 struct awg_netcfg_addr *out, size_t max)
{
	struct addr_dump d = {.ifindex = ifindex, .out = out, .max = max};
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int ret;

	if (family && !addr_len(family))
		return -EAFNOSUPPORT;
	nlh = msg_start(nc, RTM_GETADDR, NLM_F_DUMP);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = family;
	ret = transact(nc, nlh, addr_cb, &d);
	return ret < 0 ? ret : d.count;
}

int awg_netcfg_addr_flush(struct awg_netcfg *nc, int ifindex, int family)
{
	struct awg_netcfg_addr batch[FLUSH_BATCH];
	int n, i, ret, deleted = 0, round;

	for (round = 0; round < FLUSH_ROUNDS; round++) {
		n = awg_netcfg_addr_list(nc, ifindex, family, batch, FLUSH_BATCH);
		if (n <= 0)
			return n < 0 ? n : deleted;
		if (n > FLUSH_BATCH)
			n = FLUSH_BATCH;
		for (i = 0; i < n; i++) {
			ret = awg_netcfg_addr_del(nc, ifindex, batch[i].family, batch[i].addr,
						  batch[i].prefix);
			/* Deleting a primary IPv4 address can take its secondaries with it. */
			if (ret == -EADDRNOTAVAIL)
				continue;
			if (ret < 0)
				return ret;
			deleted++;
		}
	}
	return -EBUSY;
}

/* ---- routes ---- */

static int route_change(struct awg_netcfg *nc, uint16_t type, uint16_t flags,
			const struct awg_netcfg_route *r)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	uint32_t table = table_or_main(r->table);
	int ret;

	ret = check_prefix(r->family, r->prefix);
	if (ret < 0)
		return ret;
	if (r->oif < 0 || (type == RTM_NEWROUTE && !r->oif))
		return -EINVAL;
	nlh = msg_start(nc, type, flags);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = r->family;
	rtm->rtm_dst_len = r->prefix;
	rtm->rtm_table = table_u8(table);
	rtm->rtm_type = RTN_UNICAST;
	if (type == RTM_NEWROUTE) {
		rtm->rtm_protocol = r->protocol ? r->protocol : RTPROT_BOOT;
		/* No gateway: the destination is on the link, as ip(8) decides for "dev X". */
		rtm->rtm_scope = RT_SCOPE_LINK;
	} else {
		rtm->rtm_protocol = r->protocol;
		/* NOWHERE matches a route of any scope when deleting. */
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	}
	if (r->prefix)
		mnl_attr_put(nlh, RTA_DST, addr_len(r->family), r->dst);
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	if (r->oif)
		mnl_attr_put_u32(nlh, RTA_OIF, r->oif);
	if (r->metric)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, r->metric);
	return request(nc, nlh);
}

int awg_netcfg_route_add(struct awg_netcfg *nc, const struct awg_netcfg_route *r, bool replace)
{
	uint16_t flags = NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL);

	return route_change(nc, RTM_NEWROUTE, flags, r);
}

int awg_netcfg_route_del(struct awg_netcfg *nc, const struct awg_netcfg_route *r)
{
	return route_change(nc, RTM_DELROUTE, 0, r);
}

struct route_answer {
	bool found;
	int oif;
	uint32_t mtu; /* RTAX_MTU, 0 if the route has none */
};

static int metrics_cb(const struct nlattr *attr, void *data)
{
	struct route_answer *ra = data;

	if (mnl_attr_get_type(attr) == RTAX_MTU)
		ra->mtu = attr_u32(attr, 0);
	return MNL_CB_OK;
}

static int route_get_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[RTA_MAX + 1];
	struct route_answer *ra = data;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	parse_attrs(nlh, sizeof(struct rtmsg), tb, RTA_MAX);
	ra->found = true;
	ra->oif = attr_u32(tb[RTA_OIF], 0);
	if (tb[RTA_METRICS])
		mnl_attr_parse_nested(tb[RTA_METRICS], metrics_cb, ra);
	return MNL_CB_OK;
}

int awg_netcfg_route_mtu(struct awg_netcfg *nc, int family, const void *dst, uint32_t fwmark,
			 uint32_t *mtu, int *oif)
{
	struct route_answer ra = {0};
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	size_t len = addr_len(family);
	int ret;

	if (!len)
		return -EAFNOSUPPORT;
	/* NLM_F_ACK as in link_get: the ack marks the end of the answer. */
	nlh = msg_start(nc, RTM_GETROUTE, NLM_F_ACK);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family;
	rtm->rtm_dst_len = len * 8;
	mnl_attr_put(nlh, RTA_DST, len, dst);
	if (fwmark)
		mnl_attr_put_u32(nlh, RTA_MARK, fwmark);
	ret = transact(nc, nlh, route_get_cb, &ra);
	if (ret < 0)
		return ret;
	if (!ra.found)
		return -ENETUNREACH;
	if (!ra.mtu) {
		if (!ra.oif)
			return -ENETUNREACH;
		ret = awg_netcfg_link_get_mtu(nc, ra.oif, &ra.mtu);
		if (ret < 0)
			return ret;
	}
	*mtu = ra.mtu;
	if (oif)
		*oif = ra.oif;
	return 0;
}

/* ---- policy rules ---- */

static int rule_change(struct awg_netcfg *nc, uint16_t type, uint16_t flags,
		       const struct awg_netcfg_rule *r)
{
	struct nlmsghdr *nlh;
	struct fib_rule_hdr *frh;
	uint32_t table = table_or_main(r->table);

	if (!addr_len(r->family))
		return -EAFNOSUPPORT;
	if (r->invert && !r->fwmark)
		return -EINVAL;
	nlh = msg_start(nc, type, flags);
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = r->family;
	frh->table = table_u8(table);
	frh->action = FR_ACT_TO_TBL;
	frh->flags = r->invert ? FIB_RULE_INVERT : 0;
	if (r->priority)
		mnl_attr_put_u32(nlh, FRA_PRIORITY, r->priority);
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	if (r->fwmark)
		mnl_attr_put_u32(nlh, FRA_FWMARK, r->fwmark);
	if (r->suppress_prefixlen >= 0)
		mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN, r->suppress_prefixlen);
	return request(nc, nlh);
}

int awg_netcfg_rule_add(struct awg_netcfg *nc, const struct awg_netcfg_rule *r)
{
	return rule_change(nc, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, r);
}

int awg_netcfg_rule_del(struct awg_netcfg *nc, const struct awg_netcfg_rule *r)
{
	return rule_change(nc, RTM_DELRULE, 0, r);
}

struct rule_dump {
	uint32_t table;
	uint32_t fwmark;
	bool suppress_main;
	struct awg_netcfg_rule *out;
	size_t max;
	int count;
};

static bool rule_matches(const struct rule_dump *d, const struct awg_netcfg_rule *r)
{
	if (d->table && r->table == d->table)
		return true;
	if (d->fwmark && r->fwmark == d->fwmark)
		return true;
	return d->suppress_main && r->table == RT_TABLE_MAIN && r->suppress_prefixlen >= 0;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[FRA_MAX + 1];
	struct rule_dump *d = data;
	struct awg_netcfg_rule r = {0};

	if (nlh->nlmsg_type != RTM_NEWRULE || frh->action != FR_ACT_TO_TBL)
		return MNL_CB_OK;
	parse_attrs(nlh, sizeof(*frh), tb, FRA_MAX);
	r.family = frh->family;
	r.priority = attr_u32(tb[FRA_PRIORITY], 0);
	r.table = attr_u32(tb[FRA_TABLE], frh->table);
	r.fwmark = attr_u32(tb[FRA_FWMARK], 0);
	r.invert = frh->flags & FIB_RULE_INVERT;
	r.suppress_prefixlen = (int)attr_u32(tb[FRA_SUPPRESS_PREFIXLEN], (uint32_t)-1);
	if (!rule_matches(d, &r))
		return MNL_CB_OK;
	if ((size_t)d->count < d->max)
		d->out[d->count] = r;
	d->count++;
	return MNL_CB_OK;
}

/* Rules can't be deleted while the dump is running, so collect a batch first. */
static int rule_collect(struct awg_netcfg *nc, struct rule_dump *d, int family)
{
	struct nlmsghdr *nlh;
	struct fib_rule_hdr *frh;
	int ret;

	d->count = 0;
	nlh = msg_start(nc, RTM_GETRULE, NLM_F_DUMP);
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = family;
	ret = transact(nc, nlh, rule_cb, d);
	return ret < 0 ? ret : d->count;
}

int awg_netcfg_rule_flush(struct awg_netcfg *nc, int family, uint32_t table, uint32_t fwmark,
			  bool suppress_main)
{
	struct awg_netcfg_rule batch[FLUSH_BATCH];
	struct rule_dump d = {
		.table = table == RT_TABLE_MAIN ? 0 : table,
		.fwmark = fwmark,
		.suppress_main = suppress_main,
		.out = batch,
		.max = FLUSH_BATCH,
	};
	int n, i, ret, deleted = 0, round;

	if (!addr_len(family))
		return -EAFNOSUPPORT;
	for (round = 0; round < FLUSH_ROUNDS; round++) {
		n = rule_collect(nc, &d, family);
		if (n <= 0)
			return n < 0 ? n : deleted;
		if (n > FLUSH_BATCH)
			n = FLUSH_BATCH;
		for (i = 0; i < n; i++) {
			ret = awg_netcfg_rule_del(nc, &batch[i]);
			/* Someone else removed it between the dump and now: the goal is met. */
			if (ret == -ENOENT)
				continue;
			if (ret < 0)
				return ret;
			deleted++;
		}
	}
	return -EBUSY;
}
