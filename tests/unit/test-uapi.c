// SPDX-License-Identifier: MIT
/* Tests of the UAPI layer: framing, set semantics and errnos, exact get output, client side. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "harness.h"
#include "uapi.h"

#define PRIV_HEX "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a"
#define PUB_HEX "b85996fecc9cff1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33"
#define PSK_HEX "188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52"
#define HP_HEX "5f0c6c8bb5f47f6a2c1d2e9a0b7c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c"
#define ZERO_HEX "0000000000000000000000000000000000000000000000000000000000000000"
#define PUB2_HEX "0101010101010101010101010101010101010101010101010101010101010101"
#define PUB3_HEX "0202020202020202020202020202020202020202020202020202020202020202"
#define I1_TEXT "<r 2><b 0x858000010001000000000669636c6f756403636f6d0000010001c00c000100010000105a00044d583737>"

static const char exchange_6_7[] =
	"set=1\n"
	"private_key=" PRIV_HEX "\n"
	"listen_port=51820\n"
	"replace_peers=true\n"
	"jc=4\n"
	"jmin=40\n"
	"jmax=70\n"
	"s1=15\n"
	"s2=18\n"
	"s3=20\n"
	"s4=23\n"
	"h1=1020325451-1020335451\n"
	"h2=3288052141-3288062141\n"
	"h3=1766607858-1766617858\n"
	"h4=2528465083-2528475083\n"
	"i1=" I1_TEXT "\n"
	"header_protection_key=" HP_HEX "\n"
	"content_padding_addition=0-64\n"
	"random_trailers=1\n"
	"public_key=" PUB_HEX "\n"
	"preshared_key=" PSK_HEX "\n"
	"endpoint=203.0.113.7:51820\n"
	"persistent_keepalive_interval=20-30\n"
	"replace_allowed_ips=true\n"
	"allowed_ip=0.0.0.0/0\n"
	"allowed_ip=::/0\n"
	"\n";

static const char get_6_7[] =
	"private_key=" PRIV_HEX "\n"
	"listen_port=51820\n"
	"jc=4\n"
	"jmin=40\n"
	"jmax=70\n"
	"s1=15\n"
	"s2=18\n"
	"s3=20\n"
	"s4=23\n"
	"h1=1020325451-1020335451\n"
	"h2=3288052141-3288062141\n"
	"h3=1766607858-1766617858\n"
	"h4=2528465083-2528475083\n"
	"i1=" I1_TEXT "\n"
	"header_protection_key=" HP_HEX "\n"
	"content_padding_addition=0-64\n"
	"random_trailers=1\n"
	"disable_cookies=0\n"
	"public_key=" PUB_HEX "\n"
	"preshared_key=" PSK_HEX "\n"
	"protocol_version=1\n"
	"endpoint=203.0.113.7:51820\n"
	"last_handshake_time_sec=1700000000\n"
	"last_handshake_time_nsec=123\n"
	"tx_bytes=4096\n"
	"rx_bytes=2048\n"
	"persistent_keepalive_interval=20-30\n"
	"allowed_ip=0.0.0.0/0\n"
	"allowed_ip=::/0\n"
	"errno=0\n"
	"\n";

/* Records what the hooks saw and fails on demand. */
struct hook_log {
	int port_ret, mark_ret;
	unsigned ports, marks, removed;
	uint16_t last_port;
	uint32_t last_mark;
	uint8_t last_removed[32];
};

static int on_port(void *ctx, uint16_t port)
{
	struct hook_log *h = ctx;

	h->ports++;
	h->last_port = port;
	return h->port_ret;
}

static int on_mark(void *ctx, uint32_t mark)
{
	struct hook_log *h = ctx;

	h->marks++;
	h->last_mark = mark;
	return h->mark_ret;
}

static void on_removed(void *ctx, const uint8_t pub[32])
{
	struct hook_log *h = ctx;

	h->removed++;
	memcpy(h->last_removed, pub, 32);
}

static const struct awg_uapi_hooks hooks = { on_port, on_mark, on_removed };

/* Applies the payload lines of body (no "set=1", may lack the blank line). */
static int set(struct awg_conf *c, const char *body, struct hook_log *log,
	       struct awg_parse_error *err)
{
	static struct hook_log dummy;
	struct awg_parse_error e;

	return awg_uapi_set(c, body, strlen(body), &hooks, log ? log : &dummy, err ? err : &e);
}

static void apply_6_7(struct awg_conf *c)
{
	struct awg_uapi_request req;
	struct awg_parse_error err = { 0 };

	awg_conf_init(c);
	CHECK_INT(awg_uapi_frame(exchange_6_7, strlen(exchange_6_7), &req), 1);
	CHECK_INT(req.op, AWG_UAPI_OP_SET);
	CHECK_INT(req.total_len, strlen(exchange_6_7));
	if (!CHECK_INT(awg_uapi_set(c, exchange_6_7 + req.payload_off, req.payload_len, NULL, NULL,
				    &err), 0))
		fprintf(stderr, "    line %u: %s\n", err.line, err.msg);
}

static void test_exchange(void)
{
	struct awg_conf c;
	uint8_t key[32];
	char *out = NULL;
	size_t len;

	apply_6_7(&c);
	test_unhex(key, 32, PRIV_HEX);
	CHECK_MEM(c.private_key, key, 32);
	CHECK_INT(c.listen_port, 51820);
	CHECK_INT(c.obfs.s[3], 23);
	CHECK_INT(c.obfs.h[1].hi, 3288062141u);
	CHECK(c.obfs.hp_on);
	CHECK(c.ispec[0] && !strcmp(c.ispec[0], I1_TEXT));
	CHECK_INT(c.n_peers, 1);
	CHECK_INT(c.peers[0].n_allowed_ips, 2);
	CHECK_INT(c.peers[0].keepalive.lo, 20);
	c.peers[0].last_handshake_sec = 1700000000;
	c.peers[0].last_handshake_nsec = 123;
	c.peers[0].tx_bytes = 4096;
	c.peers[0].rx_bytes = 2048;
	CHECK_INT(awg_uapi_get(&c, &out, &len), 0);
	CHECK_INT(len, strlen(get_6_7));
	if (!CHECK(!strcmp(out, get_6_7)))
		fprintf(stderr, "%s", out);
	free(out);
	awg_conf_free(&c);
}

/* A fresh device prints only h1..h4 and the two booleans. */
static void test_get_empty(void)
{
	struct awg_conf c;
	char *out;
	size_t len;

	awg_conf_init(&c);
	CHECK_INT(awg_uapi_get(&c, &out, &len), 0);
	CHECK(!strcmp(out, "h1=1\nh2=2\nh3=3\nh4=4\nrandom_trailers=0\ndisable_cookies=0\n"
		      "errno=0\n\n"));
	free(out);
	/* A configured 0-0 H is omitted; a peer without psk prints zeros; keepalive 0 omitted. */
	CHECK_INT(set(&c, "h1=0\nfwmark=7\npublic_key=" PUB2_HEX "\nallowed_ip=10.1.2.3/8\n"
		      "persistent_keepalive_interval=0\n", NULL, NULL), 0);
	CHECK_INT(awg_uapi_get(&c, &out, &len), 0);
	CHECK(!strcmp(out, "fwmark=7\nh2=2\nh3=3\nh4=4\nrandom_trailers=0\ndisable_cookies=0\n"
		      "public_key=" PUB2_HEX "\npreshared_key=" ZERO_HEX "\nprotocol_version=1\n"
		      "last_handshake_time_sec=0\nlast_handshake_time_nsec=0\ntx_bytes=0\n"
		      "rx_bytes=0\nallowed_ip=10.0.0.0/8\nerrno=0\n\n"));
	free(out);
	awg_conf_free(&c);
}

/* S/H/HP are committed at the end, independent of order, all or nothing. */
static void test_commit_group(void)
{
	struct awg_conf c;
	struct awg_parse_error err;

	awg_conf_init(&c);
	/* HP before its S values is fine: validated against the final state. */
	CHECK_INT(set(&c, "header_protection_key=" HP_HEX "\ns1=12\ns2=13\ns3=14\ns4=15\n", NULL,
		      &err), 0);
	CHECK(c.obfs.hp_on);
	CHECK_INT(c.obfs.s[3], 15);
	/* Lowering one S below 12 fails the whole group: the new H stays unapplied too. */
	CHECK_INT(set(&c, "h1=100-200\ns2=11\n", NULL, &err), -EINVAL);
	CHECK(strstr(err.msg, "S2"));
	CHECK_INT(c.obfs.h[0].lo, 1);
	CHECK_INT(c.obfs.s[1], 13);
	/* Overlapping H: nothing of S/H/HP is stored. */
	CHECK_INT(set(&c, "s1=40\nh1=2-3\n", NULL, &err), -EINVAL);
	CHECK(strstr(err.msg, "overlaps"));
	CHECK_INT(c.obfs.s[0], 12);
	CHECK_INT(c.obfs.h[0].hi, 1);
	/* A swap of H1 and H2 is valid only as a group. */
	CHECK_INT(set(&c, "h1=2\nh2=1\n", NULL, &err), 0);
	CHECK_INT(c.obfs.h[0].lo, 2);
	CHECK_INT(c.obfs.h[1].lo, 1);
	/* Disabling HP then allows small S. */
	CHECK_INT(set(&c, "s1=0\nheader_protection_key=" ZERO_HEX "\n", NULL, &err), 0);
	CHECK(!c.obfs.hp_on);
	CHECK_INT(c.obfs.s[0], 0);
	/* Jmin > Jmax is a group rule too. */
	CHECK_INT(set(&c, "jmin=50\njmax=10\n", NULL, &err), -EINVAL);
	CHECK_INT(c.obfs.jmin, 0);
	/* A failing line discards the pending group but keeps immediate keys before it. */
	CHECK_INT(set(&c, "s3=99\nrekey_timeout=3-4\nbogus=1\nlisten_port=9\n", NULL, &err),
		  -EINVAL);
	CHECK_INT(err.line, 3);
	CHECK_INT(c.obfs.s[2], 14);
	CHECK_INT(c.timing.rekey_timeout.hi, 4);
	CHECK_INT(c.listen_port, 0);
	awg_conf_free(&c);
}

/* A line longer than 64 KiB ends the set with -EIO after committing the group. */
static void test_long_line(void)
{
	struct awg_conf c;
	struct awg_parse_error err;
	size_t n = AWG_UAPI_LINE_MAX + 100;
	char *req = malloc(n + 64);

	strcpy(req, "s1=33\ni1=");
	memset(req + 9, 'x', n);
	strcpy(req + 9 + n, "\n");
	awg_conf_init(&c);
	CHECK_INT(set(&c, req, NULL, &err), -EIO);
	CHECK_INT(err.line, 2);
	CHECK_INT(c.obfs.s[0], 33);
	/* Exactly at the limit is still a line (here a spec without tags: the slot is cleared). */
	memset(req, 'x', AWG_UAPI_LINE_MAX);
	memcpy(req, "i2=", 3);
	req[AWG_UAPI_LINE_MAX] = '\0';
	CHECK_INT(set(&c, req, NULL, &err), 0);
	free(req);
	awg_conf_free(&c);
}

struct errno_case {
	const char *body;
	int ret;
	unsigned line;
};

static const struct errno_case errno_cases[] = {
	{ "listen_port=1\nno equals sign\n", -EPROTO, 2 },
	{ "bogus=1\n", -EINVAL, 1 },
	{ "Listen_port=1\n", -EINVAL, 1 },	/* keys are case-sensitive */
	{ "listen_port=65536\n", -EINVAL, 1 },
	{ "listen_port= 1\n", -EINVAL, 1 },	/* no trimming */
	{ "fwmark=0x10\n", -EINVAL, 1 },
	{ "private_key=abc\n", -EINVAL, 1 },
	{ "replace_peers=1\n", -EINVAL, 1 },
	{ "replace_peers=True\n", -EINVAL, 1 },
	{ "jc=4294967296\n", -EINVAL, 1 },
	{ "s1=65536\n", -EINVAL, 1 },
	{ "h1=5-4\n", -EINVAL, 1 },
	{ "i1=<bogus>\n", -EINVAL, 1 },
	{ "header_protection_key=xyz\n", -EINVAL, 1 },
	{ "content_padding_addition=70000\n", -EINVAL, 1 },
	{ "rekey_after_time=1-\n", -EINVAL, 1 },
	{ "random_trailers=yes\n", -EINVAL, 1 },
	{ "disable_cookies=on\n", -EINVAL, 1 },
	{ "j1=<r 2>\n", -EINVAL, 1 },
	{ "itime=5\n", -EINVAL, 1 },
	{ "public_key=zz\n", -EINVAL, 1 },
	{ "public_key=" PUB2_HEX "\nprotocol_version=2\n", -EINVAL, 2 },
	{ "public_key=" PUB2_HEX "\nlisten_port=1\n", -EINVAL, 2 },	/* device key too late */
	{ "public_key=" PUB2_HEX "\nremove=yes\n", -EINVAL, 2 },
	{ "public_key=" PUB2_HEX "\nupdate_only=false\n", -EINVAL, 2 },
	{ "public_key=" PUB2_HEX "\nreplace_allowed_ips=1\n", -EINVAL, 2 },
	{ "public_key=" PUB2_HEX "\nendpoint=example.com:1\n", -EINVAL, 2 },
	{ "public_key=" PUB2_HEX "\nendpoint=1.2.3.4\n", -EINVAL, 2 },
	{ "public_key=" PUB2_HEX "\nallowed_ip=10.0.0.1\n", -EINVAL, 2 },
	{ "public_key=" PUB2_HEX "\nallowed_ip=10.0.0.1/33\n", -EINVAL, 2 },
	{ "public_key=" PUB2_HEX "\npersistent_keepalive_interval=off\n", -EINVAL, 2 },
	{ "public_key=" PUB2_HEX "\npreshared_key=" PUB2_HEX "0\n", -EINVAL, 2 },
	{ "public_key=" PUB2_HEX "\nspecial_handshake=1\n", -EINVAL, 2 },
	{ "random_trailers=True\ndisable_cookies=F\nfwmark=4294967295\n", 0, 0 },
	{ "public_key=" PUB2_HEX "\nprotocol_version=1\nupdate_only=true\n", 0, 0 },
	{ "", 0, 0 },
	{ "\nbogus=1\n", 0, 0 },	/* the blank line ends the request */
};

static void test_errnos(void)
{
	for (size_t i = 0; i < sizeof(errno_cases) / sizeof(errno_cases[0]); i++) {
		const struct errno_case *e = &errno_cases[i];
		struct awg_conf c;
		struct awg_parse_error err = { 0 };
		bool ok;

		awg_conf_init(&c);
		ok = CHECK_INT(set(&c, e->body, NULL, &err), e->ret);
		if (e->ret)
			ok &= CHECK_INT(err.line, e->line);
		if (!ok)
			fprintf(stderr, "    case %zu: %s", i, e->body);
		awg_conf_free(&c);
	}
}

/* Secret values are never quoted in error messages; other values are. */
static void test_messages(void)
{
	struct awg_conf c;
	struct awg_parse_error err;

	awg_conf_init(&c);
	CHECK_INT(set(&c, "private_key=" PRIV_HEX "00\n", NULL, &err), -EINVAL);
	CHECK(!strstr(err.msg, "e84b5a"));
	CHECK_INT(err.column, 13);
	CHECK_INT(set(&c, "header_protection_key=" HP_HEX "x\n", NULL, &err), -EINVAL);
	CHECK(!strstr(err.msg, "5f0c6c"));
	CHECK_INT(set(&c, "public_key=" PUB2_HEX "\npreshared_key=" PSK_HEX "z\n", NULL, &err),
		  -EINVAL);
	CHECK(!strstr(err.msg, "188515"));
	CHECK_INT(set(&c, "listen_port=abc\n", NULL, &err), -EINVAL);
	CHECK(strstr(err.msg, "`abc'"));
	CHECK_INT(set(&c, "wat=1\n", NULL, &err), -EINVAL);
	CHECK(strstr(err.msg, "`wat'"));
	awg_conf_free(&c);
}

static void test_hooks(void)
{
	struct awg_conf c;
	struct hook_log log = { 0 };
	struct awg_parse_error err;

	awg_conf_init(&c);
	CHECK_INT(set(&c, "listen_port=51820\nfwmark=42\n", &log, &err), 0);
	CHECK_INT(log.ports, 1);
	CHECK_INT(log.last_port, 51820);
	CHECK_INT(log.last_mark, 42);
	log.port_ret = -EADDRINUSE;
	CHECK_INT(set(&c, "jc=3\nlisten_port=1\nfwmark=1\n", &log, &err), -EADDRINUSE);
	CHECK_INT(c.listen_port, 51820);
	CHECK_INT(log.marks, 1);
	CHECK_INT(c.obfs.jc, 0);	/* group discarded with the failed request */
	log.port_ret = 0;
	log.mark_ret = -EADDRINUSE;
	CHECK_INT(set(&c, "fwmark=5\n", &log, &err), -EADDRINUSE);
	CHECK_INT(c.fwmark, 42);
	awg_conf_free(&c);
}

static void test_peers(void)
{
	struct awg_conf c;
	struct hook_log log = { 0 };
	uint8_t k2[32], k3[32];

	test_unhex(k2, 32, PUB2_HEX);
	test_unhex(k3, 32, PUB3_HEX);
	awg_conf_init(&c);
	CHECK_INT(set(&c, "public_key=" PUB2_HEX "\nallowed_ip=10.0.0.0/8\nallowed_ip=fd00::1/64\n"
		      "public_key=" PUB3_HEX "\nallowed_ip=192.168.0.0/16\n", &log, NULL), 0);
	CHECK_INT(c.n_peers, 2);
	CHECK_INT(c.peers[0].allowed_ips[1].addr[15], 0);	/* masked like the trie */
	/* allowed_ip with '-' removes; adding a prefix another peer has moves it. */
	CHECK_INT(set(&c, "public_key=" PUB2_HEX "\nallowed_ip=-10.0.0.0/8\n"
		      "allowed_ip=192.168.1.1/16\nallowed_ip=-1.1.1.1/32\n", &log, NULL), 0);
	CHECK_INT(c.peers[0].n_allowed_ips, 2);
	CHECK_INT(c.peers[0].allowed_ips[0].family, AWG_FAMILY_INET6);
	CHECK_INT(c.peers[0].allowed_ips[1].addr[0], 192);
	CHECK_INT(c.peers[1].n_allowed_ips, 0);
	/* replace_allowed_ips. */
	CHECK_INT(set(&c, "public_key=" PUB2_HEX "\nreplace_allowed_ips=true\nallowed_ip=::/0\n",
		      &log, NULL), 0);
	CHECK_INT(c.peers[0].n_allowed_ips, 1);
	/* update_only: an unknown peer is not created, a known one is updated. */
	CHECK_INT(set(&c, "public_key=" PUB_HEX "\nupdate_only=true\nendpoint=1.2.3.4:5\n"
		      "public_key=" PUB3_HEX "\nupdate_only=true\nendpoint=[::1]:7\n", &log, NULL),
		  0);
	CHECK_INT(c.n_peers, 2);
	CHECK(c.peers[1].flags & AWG_PEER_HAS_ENDPOINT);
	CHECK(!strcmp(c.peers[1].endpoint.host, "::1"));
	/* remove; then keys for the removed peer are swallowed. */
	log.removed = 0;
	CHECK_INT(set(&c, "public_key=" PUB3_HEX "\nremove=true\nallowed_ip=1.0.0.0/8\n", &log,
		      NULL), 0);
	CHECK_INT(c.n_peers, 1);
	CHECK_INT(log.removed, 1);
	CHECK_MEM(log.last_removed, k3, 32);
	/* preshared key all-zero clears it. */
	CHECK_INT(set(&c, "public_key=" PUB2_HEX "\npreshared_key=" PSK_HEX "\n", &log, NULL), 0);
	CHECK(c.peers[0].flags & AWG_PEER_HAS_PRESHARED_KEY);
	CHECK_INT(set(&c, "public_key=" PUB2_HEX "\npreshared_key=" ZERO_HEX "\n", &log, NULL), 0);
	CHECK(!(c.peers[0].flags & AWG_PEER_HAS_PRESHARED_KEY));
	/* replace_peers drops every peer through the hook. */
	CHECK_INT(set(&c, "public_key=" PUB3_HEX "\n", &log, NULL), 0);
	log.removed = 0;
	CHECK_INT(set(&c, "replace_peers=true\npublic_key=" PUB_HEX "\n", &log, NULL), 0);
	CHECK_INT(log.removed, 2);
	CHECK_INT(c.n_peers, 1);
	CHECK(awg_conf_peer_find(&c, k2) == NULL);
	awg_conf_free(&c);
}

static void test_private_key(void)
{
	struct awg_conf c;
	struct hook_log log = { 0 };
	uint8_t priv[32], pub[32];
	char pub_hex[65], line[256];

	test_unhex(priv, 32, PRIV_HEX);
	CHECK(awg_x25519_public(pub, priv));
	awg_key_to_hex(pub_hex, pub);
	awg_conf_init(&c);
	snprintf(line, sizeof(line), "public_key=%s\npublic_key=" PUB2_HEX "\n", pub_hex);
	CHECK_INT(set(&c, line, &log, NULL), 0);
	CHECK_INT(c.n_peers, 2);
	/* Setting the key whose public half is a peer's drops that peer. */
	CHECK_INT(set(&c, "private_key=" PRIV_HEX "\n", &log, NULL), 0);
	CHECK_INT(c.n_peers, 1);
	CHECK_INT(log.removed, 1);
	CHECK_MEM(log.last_removed, pub, 32);
	/* Our own public key selects a dummy: nothing is created or changed. */
	snprintf(line, sizeof(line), "public_key=%s\nendpoint=1.2.3.4:5\nallowed_ip=0.0.0.0/0\n",
		 pub_hex);
	CHECK_INT(set(&c, line, &log, NULL), 0);
	CHECK_INT(c.n_peers, 1);
	/* All zeros removes the key. */
	CHECK_INT(set(&c, "private_key=" ZERO_HEX "\n", &log, NULL), 0);
	CHECK(!(c.has & AWG_CONF_HAS_PRIVATE_KEY));
	CHECK(awg_is_zero(c.private_key, 32));
	awg_conf_free(&c);
}

static void test_ispec_and_bools(void)
{
	struct awg_conf c;

	awg_conf_init(&c);
	CHECK_INT(set(&c, "i2=<r  4> <b 0x01>\n", NULL, NULL), 0);
	CHECK(c.ispec[1] && !strcmp(c.ispec[1], "<r  4> <b 0x01>"));
	CHECK_INT(set(&c, "i2=<nope>\n", NULL, NULL), -EINVAL);
	CHECK(c.ispec[1] && !strcmp(c.ispec[1], "<r  4> <b 0x01>"));
	CHECK_INT(awg_uapi_set(&c, "i2=<r 1>\0x\n", 11, NULL, NULL, NULL), -EINVAL);
	CHECK(c.ispec[1] && !strcmp(c.ispec[1], "<r  4> <b 0x01>"));
	CHECK_INT(set(&c, "i2=just text\n", NULL, NULL), 0);
	CHECK(!c.ispec[1]);
	CHECK(!(c.has & AWG_CONF_HAS_I(1)));
	CHECK_INT(set(&c, "random_trailers=t\ndisable_cookies=TRUE\n", NULL, NULL), 0);
	CHECK(c.obfs.random_trailers && c.obfs.disable_cookies);
	CHECK_INT(set(&c, "random_trailers=False\n", NULL, NULL), 0);
	CHECK(!c.obfs.random_trailers);
	awg_conf_free(&c);
}

static void test_too_many_peers(void)
{
	struct awg_conf c;
	uint8_t k[32] = { 0 };
	struct awg_parse_error err;

	awg_conf_init(&c);
	for (unsigned i = 0; i < AWG_CONF_MAX_PEERS; i++) {
		k[0] = (uint8_t)i;
		k[1] = (uint8_t)(i >> 8);
		k[2] = 1;
		if (awg_conf_peer_add(&c, k, NULL))
			break;
	}
	CHECK_INT(c.n_peers, AWG_CONF_MAX_PEERS);
	CHECK_INT(awg_conf_peer_add(&c, k, NULL), -ENOSPC);
	CHECK_INT(set(&c, "public_key=" PUB2_HEX "\n", NULL, &err), -EINVAL);
	CHECK(strstr(err.msg, "too many peers"));
	awg_conf_free(&c);
}

static void test_frame(void)
{
	struct awg_uapi_request r;
	char *big;

	CHECK_INT(awg_uapi_frame("get=1\n\n", 7, &r), 1);
	CHECK_INT(r.op, AWG_UAPI_OP_GET);
	CHECK_INT(r.total_len, 7);
	CHECK_INT(awg_uapi_frame("get=1\n\nset=1\n", 13, &r), 1);
	CHECK_INT(r.total_len, 7);
	CHECK_INT(awg_uapi_frame("get=1\n", 6, &r), 0);
	CHECK_INT(awg_uapi_frame("get=1", 5, &r), 0);
	CHECK_INT(awg_uapi_frame("get=1\nx\n\n", 9, &r), -EINVAL);
	CHECK_INT(awg_uapi_frame("get=2\n\n", 7, &r), -EPROTO);
	CHECK_INT(awg_uapi_frame("hello\n", 6, &r), -EPROTO);
	CHECK_INT(awg_uapi_frame("set=1\njc=1\n", 11, &r), 0);
	CHECK_INT(awg_uapi_frame("set=1\njc=1\n\nget=1\n\n", 20, &r), 1);
	CHECK_INT(r.op, AWG_UAPI_OP_SET);
	CHECK_INT(r.payload_off, 6);
	CHECK_INT(r.payload_len, 5);
	CHECK_INT(r.total_len, 12);
	CHECK_INT(awg_uapi_frame("set=1\n\n", 7, &r), 1);
	CHECK_INT(r.payload_len, 0);
	big = malloc(AWG_UAPI_LINE_MAX + 20);
	memcpy(big, "set=1\ni1=", 9);
	memset(big + 9, 'a', AWG_UAPI_LINE_MAX + 5);
	CHECK_INT(awg_uapi_frame(big, AWG_UAPI_LINE_MAX + 14, &r), -EIO);
	CHECK_INT(awg_uapi_frame(big, 1000, &r), 0);
	free(big);
}

/* get -> parse_get gives back the model (for a model whose values get prints). */
static void test_parse_get(void)
{
	struct awg_conf c, back;
	struct awg_parse_error err = { 0 };
	char *out;
	size_t len;

	apply_6_7(&c);
	CHECK_INT(set(&c, "fwmark=3\nrekey_after_time=1-2\nrekey_timeout=3\nreject_after_time=4\n"
		      "keepalive_timeout=5-6\nmax_handshake_attempts=7\ndisable_cookies=1\n"
		      "i5=<t>\n", NULL, NULL), 0);
	c.peers[0].tx_bytes = UINT64_MAX;
	c.peers[0].last_handshake_sec = 5;
	c.has |= AWG_CONF_HAS_DISABLE_COOKIES | AWG_CONF_HAS_RANDOM_TRAILERS;
	CHECK_INT(awg_uapi_get(&c, &out, &len), 0);
	awg_conf_init(&back);
	if (!CHECK_INT(awg_uapi_parse_get(&back, out, len, &err), 0))
		fprintf(stderr, "    %u: %s\n", err.line, err.msg);
	CHECK(awg_conf_equal(&c, &back));
	free(out);
	awg_conf_free(&back);

	/* Unknown keys are ignored; errno is returned; malformed values are -EPROTO. */
	awg_conf_init(&back);
	CHECK_INT(awg_uapi_parse_get(&back, "future_key=1\nerrno=0\n\n", 22, &err), 0);
	CHECK(awg_range_is_zero(back.obfs.h[0]));
	awg_conf_free(&back);
	awg_conf_init(&back);
	CHECK_INT(awg_uapi_parse_get(&back, "errno=-22\n\n", 11, &err), -EINVAL);
	awg_conf_free(&back);
	awg_conf_init(&back);
	CHECK_INT(awg_uapi_parse_get(&back, "s1=70000\nerrno=0\n\n", 18, &err), -EPROTO);
	CHECK_INT(err.line, 1);
	awg_conf_free(&back);
	awg_conf_init(&back);
	CHECK_INT(awg_uapi_parse_get(&back, "jc=1\n", 5, &err), -EPROTO);
	awg_conf_free(&back);
	awg_conf_free(&c);
}

/* The set writer emits the awg setconf order, and applying it rebuilds the model. */
static void test_write_set(void)
{
	static const char want[] =
		"set=1\n"
		"private_key=" ZERO_HEX "\n"
		"fwmark=0\n"
		"replace_peers=true\n"
		"jc=2\n"
		"s1=12\ns2=12\ns3=12\ns4=12\n"
		"h1=10-20\n"
		"i1=<r 2>\n"
		"header_protection_key=" HP_HEX "\n"
		"keepalive_timeout=9\n"
		"random_trailers=1\n"
		"public_key=" PUB2_HEX "\n"
		"preshared_key=" PSK_HEX "\n"
		"endpoint=[2001:db8::1]:51820\n"
		"persistent_keepalive_interval=0\n"
		"replace_allowed_ips=true\n"
		"allowed_ip=10.0.0.0/8\n"
		"public_key=" PUB3_HEX "\n"
		"replace_allowed_ips=true\n"
		"\n";
	struct awg_conf c, back;
	struct awg_uapi_request req;
	char *out;
	size_t len;

	awg_conf_init(&c);
	CHECK_INT(set(&c, "random_trailers=1\nkeepalive_timeout=9\ni1=<r 2>\nh1=10-20\n"
		      "header_protection_key=" HP_HEX "\ns1=12\ns2=12\ns3=12\ns4=12\njc=2\n"
		      "public_key=" PUB2_HEX "\nallowed_ip=10.0.0.0/8\n"
		      "persistent_keepalive_interval=0\nendpoint=[2001:db8::1]:51820\npreshared_key="
		      PSK_HEX "\npublic_key=" PUB3_HEX "\n", NULL, NULL), 0);
	CHECK_INT(awg_uapi_write_set(&c, AWG_UAPI_SET_REPLACE, &out, &len), 0);
	if (!CHECK(!strcmp(out, want)))
		fprintf(stderr, "%s", out);
	free(out);
	CHECK_INT(awg_uapi_write_set(&c, 0, &out, &len), 0);
	CHECK(!strstr(out, "replace"));
	CHECK(!strstr(out, "private_key"));
	CHECK_INT(awg_uapi_frame(out, len, &req), 1);
	awg_conf_init(&back);
	CHECK_INT(awg_uapi_set(&back, out + req.payload_off, req.payload_len, NULL, NULL, NULL), 0);
	CHECK(awg_conf_equal(&c, &back));
	free(out);
	awg_conf_free(&back);

	/* Peers flagged for removal; host-name endpoints cannot be sent. */
	c.peers[1].flags |= AWG_PEER_REMOVE;
	CHECK_INT(awg_uapi_write_set(&c, 0, &out, &len), 0);
	CHECK(strstr(out, "public_key=" PUB3_HEX "\nremove=true\n\n"));
	free(out);
	c.peers[0].endpoint.ip.family = AWG_FAMILY_NONE;
	strcpy(c.peers[0].endpoint.host, "vpn.example");
	CHECK_INT(awg_uapi_write_set(&c, 0, &out, &len), -EINVAL);
	awg_conf_free(&c);
}

/* A config file -> set request -> model equals the file's model (non-quick keys). */
static void test_config_to_uapi(void)
{
	static const char text[] =
		"[Interface]\nPrivateKey = 6EtabScXwQA6E7QxVwNT26ypFGzxUMX4V1aA/rpSAno=\n"
		"ListenPort = 51820\nJc = 4\nJmin = 40\nJmax = 70\nS1 = 15\nS2 = 18\nS3 = 20\n"
		"S4 = 23\nH1 = 1020325451-1020335451\nH2 = 3288052141-3288062141\n"
		"H3 = 1766607858-1766617858\nH4 = 2528465083-2528475083\nI1 = " I1_TEXT "\n"
		"HeaderProtectionKey = Xwxsi7X0f2osHS6aC3xNPi8aC5yNfm9aSzwtHg+ai3w=\n"
		"ContentPaddingAddition = 0-64\nRandomTrailers = on\n\n[Peer]\n"
		"PublicKey = uFmW/syc/x/G0lcqdu2hHVm80gvo5UOxXOS9hajnWjM=\n"
		"PresharedKey = GIUVCT6VL18i6GXO8wEucvi18LWYrAMJ1drM47cPz1I=\n"
		"Endpoint = 203.0.113.7:51820\nAllowedIPs = 0.0.0.0/0, ::/0\n"
		"PersistentKeepalive = 20-30\n";
	struct awg_conf file, dev;
	struct awg_parse_error err;
	char *out;
	size_t len;

	awg_conf_init(&file);
	CHECK_INT(awg_conf_parse(&file, text, strlen(text), AWG_CONF_DIALECT_TOOLS, &err), 0);
	CHECK_INT(awg_uapi_write_set(&file, 0, &out, &len), 0);
	awg_conf_init(&dev);
	CHECK_INT(awg_uapi_set(&dev, out + 6, len - 6, NULL, NULL, &err), 0);
	CHECK(awg_conf_equal(&file, &dev));
	free(out);
	awg_conf_free(&dev);
	awg_conf_free(&file);
}

/* Review regressions. */

/* persistent_keepalive_interval is a 32-bit range in amneziawg-go 3.x, like every UAPI range. */
static void test_keepalive_32bit(void)
{
	struct awg_conf c, back;
	struct awg_parse_error err = { 0 };
	char *out;
	size_t len;

	awg_conf_init(&c);
	CHECK_INT(set(&c, "public_key=" PUB2_HEX "\npersistent_keepalive_interval=70000-100000\n",
		      NULL, &err), 0);
	CHECK_INT(c.peers[0].keepalive.lo, 70000);
	CHECK_INT(c.peers[0].keepalive.hi, 100000);
	CHECK_INT(set(&c, "public_key=" PUB2_HEX "\npersistent_keepalive_interval=4294967296\n",
		      NULL, &err), -EINVAL);
	CHECK_INT(awg_uapi_get(&c, &out, &len), 0);
	CHECK(strstr(out, "\npersistent_keepalive_interval=70000-100000\n"));
	awg_conf_init(&back);
	CHECK_INT(awg_uapi_parse_get(&back, out, len, &err), 0);
	CHECK(back.n_peers == 1 && back.peers[0].keepalive.hi == 100000);
	free(out);
	awg_conf_free(&back);
	awg_conf_free(&c);
}

/* A long line commits the group first; if that commit is invalid, Go answers -EINVAL. */
static void test_long_line_invalid_group(void)
{
	struct awg_conf c;
	struct awg_parse_error err;
	size_t n = AWG_UAPI_LINE_MAX + 10;
	char *req = malloc(n + 128);
	size_t off;

	strcpy(req, "s1=5\nheader_protection_key=" HP_HEX "\ni1=");
	off = strlen(req);
	memset(req + off, 'x', n);
	strcpy(req + off + n, "\n");
	awg_conf_init(&c);
	CHECK_INT(set(&c, req, NULL, &err), -EINVAL);
	CHECK(strstr(err.msg, "S1"));
	CHECK_INT(c.obfs.s[0], 0);
	CHECK(!c.obfs.hp_on);
	free(req);
	awg_conf_free(&c);
}

/* The private key is stored clamped, so get prints what amneziawg-go and the kernel print. */
static void test_private_key_clamped(void)
{
	struct awg_conf c;
	char *out;
	size_t len;

#define FF30 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
	awg_conf_init(&c);
	CHECK_INT(set(&c, "private_key=ff" FF30 "ff\n", NULL, NULL), 0);
	CHECK_INT(awg_uapi_get(&c, &out, &len), 0);
	CHECK(!strncmp(out, "private_key=f8" FF30 "7f\n", 77));
#undef FF30
	free(out);
	awg_conf_free(&c);
}

/* A key typed without its '=' (or a bare key line) is never echoed in the error message. */
static void test_no_secret_in_syntax_errors(void)
{
	struct awg_conf c;
	struct awg_parse_error err;

	awg_conf_init(&c);
	CHECK_INT(set(&c, "private_key " PRIV_HEX "\n", NULL, &err), -EPROTO);
	CHECK(!strstr(err.msg, "e84b5a"));
	CHECK(strstr(err.msg, "`private_key ...'"));
	CHECK_INT(set(&c, "private_key:" PRIV_HEX "\n", NULL, &err), -EPROTO);
	CHECK(!strstr(err.msg, "e84b5a"));
	CHECK_INT(set(&c, PRIV_HEX "\n", NULL, &err), -EPROTO);
	CHECK(!strstr(err.msg, "e84b5a"));
	CHECK_INT(set(&c, PRIV_HEX "=\n", NULL, &err), -EINVAL);
	CHECK(!strstr(err.msg, "e84b5a"));
	CHECK_INT(set(&c, "public_key=" PUB2_HEX "\npreshared_key " PSK_HEX "\n", NULL, &err),
		  -EPROTO);
	CHECK(!strstr(err.msg, "188515"));
	awg_conf_free(&c);
}

TEST_MAIN("uapi", T(test_exchange), T(test_get_empty), T(test_commit_group), T(test_long_line),
	  T(test_errnos), T(test_messages), T(test_hooks), T(test_peers), T(test_private_key),
	  T(test_ispec_and_bools), T(test_too_many_peers), T(test_frame), T(test_parse_get),
	  T(test_write_set), T(test_config_to_uapi), T(test_keepalive_32bit),
	  T(test_long_line_invalid_group), T(test_private_key_clamped),
	  T(test_no_secret_in_syntax_errors))
