// SPDX-License-Identifier: MIT
/* Owns the kill switch's nftables table: its rules, its life with the process, its removal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "firewall.h"

struct awg_firewall {
	/*
	 * The owner table is bound to this context's netlink socket: the context lives exactly as
	 * long as the table must.
	 */
	struct nft_ctx *nft;
	char table[64];
};

void awg_firewall_table_name(char *buf, size_t cap, const char *ifname, bool persistent)
{
	size_t o = (size_t)snprintf(buf, cap, "%s", persistent ? "awg_ksp_" : "awg_ks_");

	/* Interface names may hold = + . - ; nft identifiers get those as _XX. */
	for (const char *s = ifname; *s && o + 4 < cap; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))
			buf[o++] = *s;
		else
			o += (size_t)snprintf(buf + o, cap - o, "_%02x", (unsigned char)*s);
	}
	buf[o < cap ? o : cap - 1] = 0;
}

static struct nft_ctx *nft_open(void)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);

	if (!nft)
		return NULL;
	if (nft_ctx_buffer_output(nft) || nft_ctx_buffer_error(nft)) {
		nft_ctx_free(nft);
		return NULL;
	}
	return nft;
}

/* Runs a script; on failure copies nft's first error line into why. */
static int run(struct nft_ctx *nft, const char *script, char *why, size_t whylen)
{
	const char *e;

	if (nft_run_cmd_from_buffer(nft, script) == 0)
		return 0;
	e = nft_ctx_get_error_buffer(nft);
	if (why)
		snprintf(why, whylen, "%.*s", (int)strcspn(e ? e : "", "\n"), e ? e : "");
	return -EIO;
}

static bool table_exists(struct nft_ctx *nft, const char *table)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "list table inet %s", table);
	return run(nft, cmd, NULL, 0) == 0;
}

static void put_addr(struct awg_buf *b, int family, const uint8_t *addr, unsigned prefix,
		     bool *first)
{
	char text[64];
	struct awg_ipaddr ip = { .family = (uint8_t)family };

	memcpy(ip.addr, addr, family == AWG_FAMILY_INET ? 4 : 16);
	if (awg_format_ipaddr(text, sizeof(text), &ip) < 0)
		return;
	awg_buf_printf(b, "%s%s", *first ? "" : ", ", text);
	if (prefix != (family == AWG_FAMILY_INET ? 32u : 128u))
		awg_buf_printf(b, "/%u", prefix);
	*first = false;
}

/* "ip daddr { a, b } accept"-style rule over the DNS servers of one family, if any. */
static void dns_rule(struct awg_buf *b, const struct awg_firewall_spec *s, int family,
		     const char *match)
{
	bool first = true;
	size_t n = 0;

	for (size_t i = 0; i < s->n_dns; i++)
		n += s->dns[i].family == family;
	if (!n)
		return;
	awg_buf_printf(b, "\t\tmeta l4proto { tcp, udp } %s { ", match);
	for (size_t i = 0; i < s->n_dns; i++)
		if (s->dns[i].family == family)
			put_addr(b, family, s->dns[i].addr, family == AWG_FAMILY_INET ? 32 : 128,
				 &first);
	awg_buf_printf(b, " } accept\n");
}

/* "ip daddr { lan } accept" for AllowLAN, per family (IPv6 always has fe80::/10). */
static void lan_rule(struct awg_buf *b, const struct awg_firewall_spec *s, int family,
		     const char *match)
{
	bool first = true;
	size_t n = 0;

	for (size_t i = 0; i < s->n_lan; i++)
		n += s->lan[i].family == family;
	if (!n && family == AWG_FAMILY_INET)
		return;
	awg_buf_printf(b, "\t\t%s { ", match);
	if (family == AWG_FAMILY_INET6) {
		awg_buf_printf(b, "fe80::/10");
		first = false;
	}
	for (size_t i = 0; i < s->n_lan; i++)
		if (s->lan[i].family == family)
			put_addr(b, family, s->lan[i].addr, s->lan[i].cidr, &first);
	awg_buf_printf(b, " } accept\n");
}

/*
 * The ruleset. Order matters (first match wins): loopback before the DNS drop, so local
 * resolvers keep working; the DNS drop before the tunnel accept, so DNS to other servers is
 * refused even through the tunnel (the multihomed-DNS leak); everything else ends in drop.
 */
static void ruleset(struct awg_buf *b, const struct awg_firewall_spec *s, const char *table)
{
	bool with_lan = s->allow_lan;
	const char *ifn = s->ifname;

	awg_buf_printf(b, "table inet %s {\n", table);
	if (s->mode != AWG_KILL_SWITCH_PERSISTENT)
		awg_buf_printf(b, "\tflags owner;\n");
	awg_buf_printf(b, "\tchain output {\n\t\ttype filter hook output priority -10; "
		       "policy accept;\n\t\toif \"lo\" accept\n\t\tmeta mark 0x%08x accept\n",
		       s->mark);
	if (s->n_dns) {
		dns_rule(b, s, AWG_FAMILY_INET, "th dport 53 ip daddr");
		dns_rule(b, s, AWG_FAMILY_INET6, "th dport 53 ip6 daddr");
		awg_buf_printf(b, "\t\tmeta l4proto { tcp, udp } th dport 53 drop\n");
	}
	awg_buf_printf(b, "\t\toifname \"%s\" accept\n"
		       "\t\tudp sport 68 udp dport 67 accept\n"
		       "\t\tip6 saddr fe80::/10 udp sport 546 udp dport 547 accept\n"
		       "\t\ticmpv6 type { nd-router-solicit, nd-neighbor-solicit, "
		       "nd-neighbor-advert } ip6 hoplimit 255 accept\n", ifn);
	if (with_lan) {
		lan_rule(b, s, AWG_FAMILY_INET, "ip daddr");
		lan_rule(b, s, AWG_FAMILY_INET6, "ip6 daddr");
	}
	awg_buf_printf(b, "\t\tdrop\n\t}\n");

	awg_buf_printf(b, "\tchain input {\n\t\ttype filter hook input priority -10; "
		       "policy accept;\n\t\tiif \"lo\" accept\n\t\tsocket mark 0x%08x accept\n"
		       "\t\tiifname \"%s\" accept\n", s->mark, ifn);
	if (s->n_dns) {
		dns_rule(b, s, AWG_FAMILY_INET, "th sport 53 ip saddr");
		dns_rule(b, s, AWG_FAMILY_INET6, "th sport 53 ip6 saddr");
	}
	awg_buf_printf(b, "\t\tudp sport 67 udp dport 68 accept\n"
		       "\t\tip6 saddr fe80::/10 udp sport 547 udp dport 546 accept\n"
		       "\t\ticmpv6 type { nd-router-advert, nd-neighbor-solicit, "
		       "nd-neighbor-advert, nd-redirect } ip6 hoplimit 255 accept\n");
	if (with_lan) {
		lan_rule(b, s, AWG_FAMILY_INET, "ip saddr");
		lan_rule(b, s, AWG_FAMILY_INET6, "ip6 saddr");
	}
	awg_buf_printf(b, "\t\tdrop\n\t}\n");

	/* Forwarded traffic (containers, VMs) must not leave around the tunnel either. */
	awg_buf_printf(b, "\tchain forward {\n\t\ttype filter hook forward priority -10; "
		       "policy accept;\n\t\toifname \"%s\" accept\n\t\tiifname \"%s\" accept\n",
		       ifn, ifn);
	awg_buf_printf(b, "\t\tdrop\n\t}\n}\n");
}

int awg_firewall_engage(struct awg_firewall **out, const struct awg_firewall_spec *spec,
			char *why, size_t whylen)
{
	bool persistent = spec->mode == AWG_KILL_SWITCH_PERSISTENT;
	struct awg_firewall *fw = calloc(1, sizeof(*fw));
	struct awg_buf b = { 0 };
	char stale[64], *script = NULL;
	size_t len;
	int ret;

	if (!fw)
		return -ENOMEM;
	fw->nft = nft_open();
	if (!fw->nft) {
		snprintf(why, whylen, "cannot use libnftables");
		ret = -ENOMEM;
		goto out;
	}
	awg_firewall_table_name(fw->table, sizeof(fw->table), spec->ifname, persistent);
	/* A crash's persistent table goes in the same transaction that installs ours. */
	awg_firewall_table_name(stale, sizeof(stale), spec->ifname, true);
	if (table_exists(fw->nft, stale))
		awg_buf_printf(&b, "delete table inet %s\n", stale);
	ruleset(&b, spec, fw->table);
	ret = awg_buf_finish(&b, &script, &len);
	if (ret < 0)
		goto out;
	ret = run(fw->nft, script, why, whylen);
out:
	free(script);
	if (ret < 0) {
		if (fw->nft)
			nft_ctx_free(fw->nft);
		free(fw);
		return ret;
	}
	*out = fw;
	return 0;
}

void awg_firewall_release(struct awg_firewall *fw)
{
	char cmd[128];

	if (!fw)
		return;
	snprintf(cmd, sizeof(cmd), "delete table inet %s", fw->table);
	run(fw->nft, cmd, NULL, 0);
	nft_ctx_free(fw->nft);
	free(fw);
}

void awg_firewall_abandon(struct awg_firewall *fw)
{
	if (!fw)
		return;
	/* Freeing the context closes its socket: an owner table goes with it. */
	nft_ctx_free(fw->nft);
	free(fw);
}

bool awg_firewall_remove_stale(const char *ifname)
{
	struct nft_ctx *nft = nft_open();
	char table[64], cmd[128];
	bool found = false;

	if (!nft)
		return false;
	awg_firewall_table_name(table, sizeof(table), ifname, true);
	if (table_exists(nft, table)) {
		snprintf(cmd, sizeof(cmd), "delete table inet %s", table);
		found = run(nft, cmd, NULL, 0) == 0;
	}
	nft_ctx_free(nft);
	return found;
}
