// SPDX-License-Identifier: MIT
/* Tests of the configuration model, the file parser (every key, every error path) and writer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "crypto.h"
#include "harness.h"

#define PRIV_B64 "6EtabScXwQA6E7QxVwNT26ypFGzxUMX4V1aA/rpSAno="
#define PRIV_HEX "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a"
#define PUB_B64 "uFmW/syc/x/G0lcqdu2hHVm80gvo5UOxXOS9hajnWjM="
#define PUB_HEX "b85996fecc9cff1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33"
#define PSK_B64 "GIUVCT6VL18i6GXO8wEucvi18LWYrAMJ1drM47cPz1I="
#define PSK_HEX "188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52"
#define HP_B64 "Xwxsi7X0f2osHS6aC3xNPi8aC5yNfm9aSzwtHg+ai3w="
#define HP_HEX "5f0c6c8bb5f47f6a2c1d2e9a0b7c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c"
#define I1_TEXT "<r 2><b 0x858000010001000000000669636c6f756403636f6d0000010001c00c000100010000105a00044d583737>"

static const char example[] =
	"[Interface]\n"
	"PrivateKey = " PRIV_B64 "\n"
	"Address = 10.8.1.2/32\n"
	"DNS = 1.1.1.1\n"
	"MTU = 1280\n"
	"Jc = 4\n"
	"Jmin = 40\n"
	"Jmax = 70\n"
	"S1 = 15\n"
	"S2 = 18\n"
	"S3 = 20\n"
	"S4 = 23\n"
	"H1 = 1020325451-1020335451\n"
	"H2 = 3288052141-3288062141\n"
	"H3 = 1766607858-1766617858\n"
	"H4 = 2528465083-2528475083\n"
	"I1 = " I1_TEXT "\n"
	"HeaderProtectionKey = " HP_B64 "\n"
	"ContentPaddingAddition = 0-64\n"
	"RandomTrailers = on\n"
	"\n"
	"[Peer]\n"
	"PublicKey = " PUB_B64 "\n"
	"PresharedKey = " PSK_B64 "\n"
	"Endpoint = 203.0.113.7:51820\n"
	"AllowedIPs = 0.0.0.0/0, ::/0\n"
	"PersistentKeepalive = 20-30\n";

static int parse(struct awg_conf *c, const char *text, enum awg_conf_dialect d,
		 struct awg_parse_error *err)
{
	awg_conf_init(c);
	memset(err, 0, sizeof(*err));
	return awg_conf_parse(c, text, strlen(text), d, err);
}

static bool range_is(struct awg_range r, uint32_t lo, uint32_t hi)
{
	return r.lo == lo && r.hi == hi;
}

static void test_example(void)
{
	struct awg_conf c;
	struct awg_parse_error err;
	uint8_t key[32];
	struct awg_conf_peer *p;

	CHECK_INT(parse(&c, example, AWG_CONF_DIALECT_QUICK, &err), 0);
	test_unhex(key, 32, PRIV_HEX);
	CHECK_MEM(c.private_key, key, 32);
	CHECK(c.has & AWG_CONF_HAS_PRIVATE_KEY);
	CHECK_INT(c.n_addresses, 1);
	CHECK_INT(c.addresses[0].family, AWG_FAMILY_INET);
	CHECK_INT(c.addresses[0].cidr, 32);
	CHECK_MEM(c.addresses[0].addr, "\x0a\x08\x01\x02", 4);
	CHECK_INT(c.n_dns_servers, 1);
	CHECK_MEM(c.dns_servers[0].addr, "\x01\x01\x01\x01", 4);
	CHECK_INT(c.mtu, 1280);
	CHECK_INT(c.obfs.jc, 4);
	CHECK_INT(c.obfs.jmin, 40);
	CHECK_INT(c.obfs.jmax, 70);
	CHECK_INT(c.obfs.s[0], 15);
	CHECK_INT(c.obfs.s[1], 18);
	CHECK_INT(c.obfs.s[2], 20);
	CHECK_INT(c.obfs.s[3], 23);
	CHECK(range_is(c.obfs.h[0], 1020325451, 1020335451));
	CHECK(range_is(c.obfs.h[1], 3288052141u, 3288062141u));
	CHECK(range_is(c.obfs.h[2], 1766607858, 1766617858));
	CHECK(range_is(c.obfs.h[3], 2528465083u, 2528475083u));
	CHECK(c.ispec[0] && !strcmp(c.ispec[0], I1_TEXT));
	CHECK(!c.ispec[1]);
	CHECK(c.obfs.hp_on);
	test_unhex(key, 32, HP_HEX);
	CHECK_MEM(c.obfs.hp_key, key, 32);
	CHECK(range_is(c.obfs.content_padding, 0, 64));
	CHECK(c.obfs.random_trailers);
	CHECK(!(c.has & AWG_CONF_HAS_DISABLE_COOKIES));
	CHECK(!(c.has & AWG_CONF_HAS_LISTEN_PORT));
	CHECK_INT(c.n_peers, 1);
	p = &c.peers[0];
	test_unhex(key, 32, PUB_HEX);
	CHECK_MEM(p->public_key, key, 32);
	test_unhex(key, 32, PSK_HEX);
	CHECK_MEM(p->preshared_key, key, 32);
	CHECK(p->flags & AWG_PEER_HAS_PRESHARED_KEY);
	CHECK(!strcmp(p->endpoint.host, "203.0.113.7"));
	CHECK_INT(p->endpoint.port, 51820);
	CHECK_INT(p->endpoint.ip.family, AWG_FAMILY_INET);
	CHECK_INT(p->n_allowed_ips, 2);
	CHECK_INT(p->allowed_ips[0].cidr, 0);
	CHECK_INT(p->allowed_ips[1].family, AWG_FAMILY_INET6);
	CHECK(range_is(p->keepalive, 20, 30));
	CHECK(awg_conf_peer_find(&c, key) == NULL);
	test_unhex(key, 32, PUB_HEX);
	CHECK(awg_conf_peer_find(&c, key) == p);
	awg_conf_free(&c);
	CHECK_INT(c.n_peers, 0);
	CHECK(c.peers == NULL);
}

/* An AWG 1.0 config: single H values, Jc/Jmin/Jmax, S1/S2 only. */
static void test_version_1_0(void)
{
	struct awg_conf c;
	struct awg_parse_error err;

	CHECK_INT(parse(&c, "[Interface]\nPrivateKey=" PRIV_B64 "\nListenPort=51820\nJc=3\n"
			"Jmin=10\nJmax=30\nS1=15\nS2=18\nH1=1020325451\nH2=3288052141\n"
			"H3=1766607858\nH4=2528465083\n[Peer]\nPublicKey=" PUB_B64 "\n"
			"AllowedIPs=10.0.0.0/8\nEndpoint=vpn.example.com:443\n"
			"PersistentKeepalive=25\n", AWG_CONF_DIALECT_TOOLS, &err), 0);
	CHECK_INT(c.listen_port, 51820);
	CHECK(range_is(c.obfs.h[1], 3288052141u, 3288052141u));
	CHECK(c.has & AWG_CONF_HAS_H(3));
	CHECK(!(c.has & AWG_CONF_HAS_S(2)));
	CHECK(!strcmp(c.peers[0].endpoint.host, "vpn.example.com"));
	CHECK_INT(c.peers[0].endpoint.ip.family, AWG_FAMILY_NONE);
	CHECK_INT(c.peers[0].endpoint.port, 443);
	CHECK(range_is(c.peers[0].keepalive, 25, 25));
	awg_conf_free(&c);
}

/* AWG 2.0: S3/S4, ranged H, I1..I5. */
static void test_version_2_0(void)
{
	struct awg_conf c;
	struct awg_parse_error err;

	CHECK_INT(parse(&c, "[Interface]\nS3=20\nS4=23\nH1=100-200\nH2=201-300\nH3=5\nH4=6-6\n"
			"I1=<b 0x01><r 2>\nI2=<t>\nI3=<rc 4>\nI4=<rd 3>\nI5=<r 10>\n",
			AWG_CONF_DIALECT_TOOLS, &err), 0);
	CHECK_INT(c.obfs.s[2], 20);
	CHECK_INT(c.obfs.s[3], 23);
	CHECK(range_is(c.obfs.h[0], 100, 200));
	CHECK(range_is(c.obfs.h[3], 6, 6));
	CHECK(c.ispec[0] && !strcmp(c.ispec[0], "<b 0x01><r 2>"));
	CHECK(c.ispec[4] && !strcmp(c.ispec[4], "<r 10>"));
	CHECK_INT(c.has & (AWG_CONF_HAS_I1 * 0x1f), AWG_CONF_HAS_I1 * 0x1f);
	awg_conf_free(&c);
}

/* AWG 3.0 and 3.1 keys. */
static void test_version_3(void)
{
	struct awg_conf c;
	struct awg_parse_error err;

	CHECK_INT(parse(&c, "[Interface]\nS1=12\nS2=12\nS3=12\nS4=12\nHeaderProtectionKey=" HP_B64
			"\nContentPaddingAddition=8\nRekeyAfterTime=100-140\nRekeyTimeout=4-6\n"
			"RejectAfterTime=170-190\nKeepaliveTimeout=9-11\nMaxHandshakeAttempts=15-20\n"
			"RandomTrailers=ON\nDisableCookies=1\n[Peer]\nPublicKey=" PUB_B64
			"\nPersistentKeepalive=off\n", AWG_CONF_DIALECT_TOOLS, &err), 0);
	CHECK(c.obfs.hp_on);
	CHECK(range_is(c.obfs.content_padding, 8, 8));
	CHECK(range_is(c.timing.rekey_after_time, 100, 140));
	CHECK(range_is(c.timing.rekey_timeout, 4, 6));
	CHECK(range_is(c.timing.reject_after_time, 170, 190));
	CHECK(range_is(c.timing.keepalive_timeout, 9, 11));
	CHECK(range_is(c.timing.max_handshake_attempts, 15, 20));
	CHECK(c.obfs.random_trailers);
	CHECK(c.obfs.disable_cookies);
	CHECK(c.peers[0].flags & AWG_PEER_HAS_KEEPALIVE);
	CHECK(awg_range_is_zero(c.peers[0].keepalive));
	awg_conf_free(&c);
}

static void test_quick_keys(void)
{
	struct awg_conf c;
	struct awg_parse_error err;

	CHECK_INT(parse(&c, "[Interface]\nAddress = 10.0.0.2/24, fd00::2\nAddress=10.0.1.2\n"
			"DNS = 1.1.1.1, 2606:4700::1111, corp.example, lan\nMTU=1420\nTable=1234\n"
			"PreUp = echo  pre  %i\nPostUp = iptables -A FORWARD -i %i -j ACCEPT\n"
			"PreDown = true\nPostDown = ip rule del  table 51820\nPostDown = echo x\n"
			"SaveConfig = true\nFwMark = 0x1f\n", AWG_CONF_DIALECT_QUICK, &err), 0);
	CHECK_INT(c.n_addresses, 3);
	CHECK_INT(c.addresses[0].cidr, 24);
	CHECK_INT(c.addresses[1].cidr, 128);
	CHECK_INT(c.addresses[2].cidr, 32);
	CHECK_INT(c.n_dns_servers, 2);
	CHECK_INT(c.dns_servers[1].family, AWG_FAMILY_INET6);
	CHECK_INT(c.dns_search.n, 2);
	CHECK(!strcmp(c.dns_search.v[0], "corp.example"));
	CHECK_INT(c.mtu, 1420);
	CHECK_INT(c.table, AWG_TABLE_NUMBER);
	CHECK_INT(c.table_number, 1234);
	CHECK(!strcmp(c.pre_up.v[0], "echo  pre  %i"));
	CHECK(!strcmp(c.post_down.v[0], "ip rule del  table 51820"));
	CHECK_INT(c.post_down.n, 2);
	CHECK(c.save_config);
	CHECK_INT(c.fwmark, 0x1f);
	awg_conf_free(&c);

	CHECK_INT(parse(&c, "[Interface]\nTable=off\nFwMark=off\n", AWG_CONF_DIALECT_QUICK, &err),
		  0);
	CHECK_INT(c.table, AWG_TABLE_OFF);
	CHECK_INT(c.fwmark, 0);
	CHECK(c.has & AWG_CONF_HAS_FWMARK);
	awg_conf_free(&c);
	CHECK_INT(parse(&c, "[Interface]\nTable=Main\n", AWG_CONF_DIALECT_WINDOWS, &err), 0);
	CHECK_INT(c.table, AWG_TABLE_MAIN);
	awg_conf_free(&c);
}

/* Case, comments, BOM, CRLF, whitespace. */
static void test_syntax(void)
{
	struct awg_conf c;
	struct awg_parse_error err;

	CHECK_INT(parse(&c, "\xef\xbb\xbf# leading comment\r\n[ INTERFACE ]\r\n"
			"  privatekey\t=\t" PRIV_B64 "  # trailing comment\r\n"
			"jC = 4\r\nh1 = 5 - 10\r\n   i1 =   <b 0x01>  <r 2>   \r\n\r\n"
			"[peer]\r\nPUBLICKEY=" PUB_B64 "\r\nallowedips = 10.0.0.1 / 32 ,\r\n"
			"AllowedIPs = 10.0.0.2/32\r\n[PEER]\r\npublicKEY=" PSK_B64 "\r\n",
			AWG_CONF_DIALECT_TOOLS, &err), 0);
	CHECK(c.has & AWG_CONF_HAS_PRIVATE_KEY);
	CHECK_INT(c.obfs.jc, 4);
	CHECK(range_is(c.obfs.h[0], 5, 10));
	/* The I-value keeps its inner whitespace even on an indented line. */
	CHECK(c.ispec[0] && !strcmp(c.ispec[0], "<b 0x01>  <r 2>"));
	CHECK_INT(c.n_peers, 2);
	CHECK_INT(c.peers[0].n_allowed_ips, 2);
	CHECK_INT(c.peers[0].allowed_ips[0].cidr, 32);
	awg_conf_free(&c);

	/* Empty AllowedIPs clears; an empty I-line and an I-line without tags clear the slot. */
	CHECK_INT(parse(&c, "[Interface]\nI1=<r 1>\nI1=\nI2=no tags here\n[Peer]\nPublicKey="
			PUB_B64 "\nAllowedIPs=1.2.3.4/32\nAllowedIPs=\n", AWG_CONF_DIALECT_TOOLS,
			&err), 0);
	CHECK(!c.ispec[0] && !c.ispec[1]);
	CHECK(!(c.has & AWG_CONF_HAS_I1));
	CHECK_INT(c.peers[0].n_allowed_ips, 0);
	awg_conf_free(&c);

	/* An empty file and an [Interface] only are fine. */
	CHECK_INT(parse(&c, "", AWG_CONF_DIALECT_TOOLS, &err), 0);
	awg_conf_free(&c);
	CHECK_INT(parse(&c, "[Interface]", AWG_CONF_DIALECT_TOOLS, &err), 0);
	awg_conf_free(&c);
}

static void test_booleans(void)
{
	static const struct {
		const char *v;
		enum awg_conf_dialect d;
		int ret;
		bool on;
	} cases[] = {
		{ "on", AWG_CONF_DIALECT_TOOLS, 0, true },
		{ "OFF", AWG_CONF_DIALECT_TOOLS, 0, false },
		{ "2", AWG_CONF_DIALECT_TOOLS, 0, true },
		{ "0", AWG_CONF_DIALECT_TOOLS, 0, false },
		{ "true", AWG_CONF_DIALECT_TOOLS, -EINVAL, false },
		{ "true", AWG_CONF_DIALECT_QUICK, 0, true },
		{ "False", AWG_CONF_DIALECT_QUICK, 0, false },
		{ "yes", AWG_CONF_DIALECT_WINDOWS, 0, true },
		{ "no", AWG_CONF_DIALECT_WINDOWS, 0, false },
		{ "maybe", AWG_CONF_DIALECT_QUICK, -EINVAL, false },
		{ "-1", AWG_CONF_DIALECT_QUICK, -EINVAL, false },
	};
	char text[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct awg_conf c;
		struct awg_parse_error err;

		snprintf(text, sizeof(text), "[Interface]\nDisableCookies = %s\n", cases[i].v);
		if (!CHECK_INT(parse(&c, text, cases[i].d, &err), cases[i].ret))
			fprintf(stderr, "    case %zu: %s\n", i, cases[i].v);
		if (!cases[i].ret)
			CHECK_INT(c.obfs.disable_cookies, cases[i].on);
		awg_conf_free(&c);
	}
}

struct err_case {
	const char *text;
	enum awg_conf_dialect d;
	unsigned line;
	unsigned column;
	const char *want;	/* substring of the message */
};

static const struct err_case err_cases[] = {
	{ "[Interface]\nFoo = 1\n", AWG_CONF_DIALECT_TOOLS, 2, 1, "unknown key `Foo'" },
	{ "[Interface]\n  ListenPort = 70000\n", AWG_CONF_DIALECT_TOOLS, 2, 16, "`70000'" },
	{ "[Interface]\nListenPort = http\n", AWG_CONF_DIALECT_TOOLS, 2, 14, "`http'" },
	{ "[Interface]\nFwMark = 0xfffffffff\n", AWG_CONF_DIALECT_TOOLS, 2, 10, "`0xfffffffff'" },
	{ "[Interface]\nJc = 65536\n", AWG_CONF_DIALECT_TOOLS, 2, 6, "`65536'" },
	{ "[Interface]\nJmin = -1\n", AWG_CONF_DIALECT_TOOLS, 2, 8, "`-1'" },
	{ "[Interface]\nS1 = 1x\n", AWG_CONF_DIALECT_TOOLS, 2, 6, "`1x'" },
	{ "[Interface]\nS4 = 65536\n", AWG_CONF_DIALECT_TOOLS, 2, 6, "S4" },
	{ "[Interface]\nH1 = 10-5\n", AWG_CONF_DIALECT_TOOLS, 2, 6, "`10-5'" },
	{ "[Interface]\nH2 = 4294967296\n", AWG_CONF_DIALECT_TOOLS, 2, 6, "`4294967296'" },
	{ "[Interface]\nH3 = 1-2-3\n", AWG_CONF_DIALECT_TOOLS, 2, 6, "`1-2-3'" },
	{ "[Interface]\nI1 = <r 2><zz 1>\n", AWG_CONF_DIALECT_TOOLS, 2, 11, "I1" },
	{ "[Interface]\nContentPaddingAddition = 1-70000\n", AWG_CONF_DIALECT_TOOLS, 2, 26,
	  "`1-70000'" },
	{ "[Interface]\nRekeyTimeout = 5-\n", AWG_CONF_DIALECT_TOOLS, 2, 16, "`5-'" },
	{ "[Interface]\nRandomTrailers = sure\n", AWG_CONF_DIALECT_TOOLS, 2, 18, "`sure'" },
	{ "[Interface]\nMTU = 575\n", AWG_CONF_DIALECT_QUICK, 2, 7, "`575'" },
	{ "[Interface]\nMTU = 65536\n", AWG_CONF_DIALECT_QUICK, 2, 7, "`65536'" },
	{ "[Interface]\nTable = custom\n", AWG_CONF_DIALECT_QUICK, 2, 9, "`custom'" },
	{ "[Interface]\nAddress = 10.0.0.1/24, 10.0.0.300/24\n", AWG_CONF_DIALECT_QUICK, 2, 24,
	  "`10.0.0.300/24'" },
	{ "[Interface]\nAddress = fd00::1/129\n", AWG_CONF_DIALECT_QUICK, 2, 11, "`fd00::1/129'" },
	{ "[Interface]\nSaveConfig = perhaps\n", AWG_CONF_DIALECT_QUICK, 2, 14, "`perhaps'" },
	{ "[Interface]\nAddress = 10.0.0.1/24\n", AWG_CONF_DIALECT_TOOLS, 2, 1, "awg-quick key" },
	{ "[Interface]\nFwMark = 1\n", AWG_CONF_DIALECT_WINDOWS, 2, 1, "Windows" },
	{ "[Interface]\nSaveConfig = true\n", AWG_CONF_DIALECT_WINDOWS, 2, 1, "Windows" },
	{ "[Interface]\nJ1 = <r 2>\n", AWG_CONF_DIALECT_TOOLS, 2, 1, "AWG 1.5-only key" },
	{ "[Interface]\nj2 = <r 2>\n", AWG_CONF_DIALECT_QUICK, 2, 1, "J2 is an AWG 1.5-only key" },
	{ "[Interface]\nJ3 = <r 2>\n", AWG_CONF_DIALECT_WINDOWS, 2, 1, "removed in AWG 2.0" },
	{ "[Interface]\nItime = 60\n", AWG_CONF_DIALECT_TOOLS, 2, 1, "Itime is an AWG 1.5-only" },
	{ "[Peer]\nPublicKey = " PUB_B64 "\nSpecialHandshake = on\n", AWG_CONF_DIALECT_TOOLS, 3,
	  1, "SpecialHandshake is an AWG 1.5-only" },
	{ "[Interface]\n[Peer]\nEndpoint = 1.2.3.4:5\n", AWG_CONF_DIALECT_TOOLS, 2, 1,
	  "[Peer] section without PublicKey" },
	{ "[Peer]\nPublicKey = " PUB_B64 "\n[Peer]\n# no key\n[Interface]\n",
	  AWG_CONF_DIALECT_TOOLS, 3, 1, "without PublicKey" },
	{ "[Interface]\n[Interface]\n", AWG_CONF_DIALECT_TOOLS, 2, 1, "duplicate [Interface]" },
	{ "[Interface]\n  [Bogus]\n", AWG_CONF_DIALECT_TOOLS, 2, 3, "unknown section `[Bogus]'" },
	{ "ListenPort = 1\n", AWG_CONF_DIALECT_TOOLS, 1, 1, "before any" },
	{ "[Interface]\nPublicKey = " PUB_B64 "\n", AWG_CONF_DIALECT_TOOLS, 2, 1,
	  "does not belong in [Interface]" },
	{ "[Peer]\nPublicKey = " PUB_B64 "\nJc = 1\n", AWG_CONF_DIALECT_TOOLS, 3, 1,
	  "does not belong in [Peer]" },
	{ "[Interface]\nthis is not a key\n", AWG_CONF_DIALECT_TOOLS, 2, 1,
	  "line unrecognized: `this is not a key'" },
	{ "[Interface]\nJc =\n", AWG_CONF_DIALECT_TOOLS, 2, 5, "empty value for Jc" },
	{ "[Peer]\nPublicKey = abc\n", AWG_CONF_DIALECT_TOOLS, 2, 13, "`abc'" },
	{ "[Peer]\nPublicKey = " PUB_B64 "\nEndpoint = ::1:51820\n", AWG_CONF_DIALECT_TOOLS, 3,
	  12, "`::1:51820'" },
	{ "[Peer]\nPublicKey = " PUB_B64 "\nEndpoint = [::1]\n", AWG_CONF_DIALECT_TOOLS, 3, 12,
	  "`[::1]'" },
	{ "[Peer]\nPublicKey = " PUB_B64 "\nEndpoint = bad host!:1\n", AWG_CONF_DIALECT_TOOLS, 3,
	  12, "`badhost!:1'" },
	{ "[Peer]\nPublicKey = " PUB_B64 "\nAllowedIPs = 10.0.0.0/8, 1.2.3.4/33\n",
	  AWG_CONF_DIALECT_TOOLS, 3, 26, "`1.2.3.4/33'" },
	{ "[Peer]\nPublicKey = " PUB_B64 "\nPersistentKeepalive = 65536\n", AWG_CONF_DIALECT_TOOLS,
	  3, 23, "`65536'" },
	{ "[Interface]\nH1 = 1-10\nH2 = 5-20\n", AWG_CONF_DIALECT_TOOLS, 1, 1, "H1" },
	{ "[Interface]\nS1 = 5\nHeaderProtectionKey = " HP_B64 "\n", AWG_CONF_DIALECT_TOOLS, 1, 1,
	  "conflict" },
	{ "[Interface]\nJmin = 50\nJmax = 10\n", AWG_CONF_DIALECT_TOOLS, 1, 1, "conflict" },
	{ "[Interface]\nI1 = " "<b 0x" "0123456789012345678901234567890123456789012345678901234567"
	  "890123456789", AWG_CONF_DIALECT_TOOLS, 2, 6, "I1" },
};

static void test_errors(void)
{
	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *e = &err_cases[i];
		struct awg_conf c;
		struct awg_parse_error err;
		bool ok;

		ok = CHECK_INT(parse(&c, e->text, e->d, &err), -EINVAL);
		ok &= CHECK_INT(err.line, e->line);
		ok &= CHECK_INT(err.column, e->column);
		ok &= CHECK(strstr(err.msg, e->want) != NULL);
		if (!ok)
			fprintf(stderr, "    case %zu: msg \"%s\"\n", i, err.msg);
		awg_conf_free(&c);
	}
}

/* A NUL byte inside a line is reported, not treated as the end of the buffer. */
static void test_nul_byte(void)
{
	static const char text[] = "[Interface]\nJc = 1\0\n";
	struct awg_conf c;
	struct awg_parse_error err = { 0 };

	awg_conf_init(&c);
	CHECK_INT(awg_conf_parse(&c, text, sizeof(text) - 1, AWG_CONF_DIALECT_TOOLS, &err),
		  -EINVAL);
	CHECK_INT(err.line, 2);
	CHECK_INT(err.column, 7);
	CHECK(strstr(err.msg, "control character 0x00"));
	awg_conf_free(&c);
	CHECK_INT(parse(&c, "[Interface]\nI1 = <r 1>\r<r 2>\r\n", AWG_CONF_DIALECT_TOOLS, &err),
		  -EINVAL);
	CHECK_INT(err.column, 11);
	awg_conf_free(&c);
}

/* Secret keys are never echoed, not even when malformed or nearly right. */
static void test_secrets_not_quoted(void)
{
	static const char *const texts[] = {
		"[Interface]\nPrivateKey = " PRIV_B64 "x\n",
		"[Interface]\nPrivateKey = 6EtabScXwQA6E7QxVwNT26ypFGzxUMX4V1aA\n",
		"[Interface]\nHeaderProtectionKey = 6EtabScXwQA6E7QxVwNT26ypFGzxUMX4V1aA/rpSAn=\n",
		"[Peer]\nPublicKey = " PUB_B64 "\nPresharedKey = 6EtabScXwQA6E7QxVwNT26ypFGzxUMX4\n",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct awg_conf c;
		struct awg_parse_error err;

		CHECK_INT(parse(&c, texts[i], AWG_CONF_DIALECT_TOOLS, &err), -EINVAL);
		CHECK(strstr(err.msg, "invalid base64 key"));
		CHECK(!strstr(err.msg, "6Etab"));
		CHECK(err.column > 1);
		awg_conf_free(&c);
	}
}

/* Long offending text is quoted with a bound. */
static void test_quote_bound(void)
{
	char text[600];
	struct awg_conf c;
	struct awg_parse_error err;

	strcpy(text, "[Interface]\nListenPort = ");
	memset(text + strlen(text), '9', 400);
	text[25 + 400] = '\0';
	CHECK_INT(parse(&c, text, AWG_CONF_DIALECT_TOOLS, &err), -EINVAL);
	CHECK(strstr(err.msg, "...'"));
	CHECK(strlen(err.msg) < 160);
	awg_conf_free(&c);
}

static void round_trip(const struct awg_conf *c, unsigned flags, enum awg_conf_dialect d)
{
	struct awg_conf back;
	struct awg_parse_error err = { 0 };
	char *text = NULL;
	size_t len = 0;

	if (!CHECK_INT(awg_conf_write(c, &text, &len, flags), 0))
		return;
	CHECK_INT(len, strlen(text));
	awg_conf_init(&back);
	if (!CHECK_INT(awg_conf_parse(&back, text, len, d, &err), 0))
		fprintf(stderr, "    line %u col %u: %s\n%s", err.line, err.column, err.msg, text);
	if (!CHECK(awg_conf_equal(c, &back)))
		fprintf(stderr, "%s", text);
	awg_conf_free(&back);
	awg_wipe(text, len);
	free(text);
}

static void test_round_trip_rich(void)
{
	static const char rich[] =
		"[Interface]\nPrivateKey=" PRIV_B64 "\nListenPort=0\nFwMark=1234\n"
		"Address=10.0.0.2/24,fd00::2/64\nDNS=9.9.9.9,search.example\nMTU=1400\nTable=main\n"
		"PreUp=echo a  b\nPostUp=echo c\nPreDown=echo d\nPostDown=echo e\nSaveConfig=false\n"
		"Jc=0\nS1=100\nH1=1\nH2=20-29\nI3=<b 0xdeadbeef> <r 3>\nHeaderProtectionKey="
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nRekeyAfterTime=60-4000000\n"
		"KeepaliveTimeout=0\nRandomTrailers=off\nDisableCookies=on\n"
		"[Peer]\nPublicKey=" PUB_B64 "\nEndpoint=[2001:DB8::1]:51820\nAllowedIPs=::/0\n"
		"PersistentKeepalive=off\nAdvancedSecurity=on\n"
		"[Peer]\nPublicKey=" PSK_B64 "\nPresharedKey=" PSK_B64 "\nEndpoint=host-1.example:1\n";
	struct awg_conf c;
	struct awg_parse_error err;

	CHECK_INT(parse(&c, example, AWG_CONF_DIALECT_QUICK, &err), 0);
	round_trip(&c, AWG_CONF_WRITE_QUICK, AWG_CONF_DIALECT_QUICK);
	awg_conf_free(&c);

	if (!CHECK_INT(parse(&c, rich, AWG_CONF_DIALECT_QUICK, &err), 0))
		fprintf(stderr, "    line %u: %s\n", err.line, err.msg);
	CHECK(!c.obfs.hp_on);
	CHECK(c.has & AWG_CONF_HAS_HP_KEY);
	CHECK(!strcmp(c.peers[0].endpoint.host, "2001:db8::1"));
	round_trip(&c, AWG_CONF_WRITE_QUICK, AWG_CONF_DIALECT_QUICK);
	awg_conf_free(&c);
}

static void test_write_exact(void)
{
	struct awg_conf c;
	struct awg_parse_error err;
	char *text = NULL;
	size_t len;

	CHECK_INT(parse(&c, "[interface]\nprivatekey=" PRIV_B64 "\njc=4\nh1=5-6\nrandomtrailers=1\n"
			"address=10.0.0.1\n[peer]\npublickey=" PUB_B64 "\npersistentkeepalive=25\n"
			"allowedips=10.0.0.0/8\n", AWG_CONF_DIALECT_QUICK, &err), 0);
	CHECK_INT(awg_conf_write(&c, &text, &len, 0), 0);
	CHECK(!strcmp(text, "[Interface]\nPrivateKey = " PRIV_B64 "\nJc = 4\nH1 = 5-6\n"
		      "RandomTrailers = on\n\n[Peer]\nPublicKey = " PUB_B64 "\n"
		      "AllowedIPs = 10.0.0.0/8\nPersistentKeepalive = 25\n"));
	free(text);
	CHECK_INT(awg_conf_write(&c, &text, &len, AWG_CONF_WRITE_QUICK | AWG_CONF_WRITE_REDACT), 0);
	CHECK(strstr(text, "PrivateKey = (hidden)\n"));
	CHECK(strstr(text, "Address = 10.0.0.1/32\n"));
	CHECK(!strstr(text, PRIV_B64));
	CHECK(strstr(text, PUB_B64));
	free(text);
	/* Text that would not read back is refused. */
	{
		char *bad = strdup("echo # not a comment");

		c.post_up.v = malloc(sizeof(char *));
		c.post_up.v[0] = bad;
		c.post_up.n = 1;
		CHECK_INT(awg_conf_write(&c, &text, &len, AWG_CONF_WRITE_QUICK), -EINVAL);
	}
	awg_conf_free(&c);
}

/* A tiny deterministic RNG for the random models. */
static uint64_t rng_state = 0x1234567;

static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return n ? (uint32_t)((rng_state >> 33) % n) : 0;
}

static void rnd_key(uint8_t k[32])
{
	for (int i = 0; i < 32; i++)
		k[i] = (uint8_t)rnd(256);
}

static struct awg_range rnd_range(uint32_t max)
{
	uint32_t a = rnd(max), b = rnd(max);

	return a < b ? (struct awg_range){ a, b } : (struct awg_range){ b, a };
}

static void random_model(struct awg_conf *c)
{
	static const char *const specs[] = { "<r 16>", "<b 0x0102><t>", "<rc 4> <rd 2>" };

	awg_conf_init(c);
	if (rnd(2)) {
		rnd_key(c->private_key);
		c->has |= AWG_CONF_HAS_PRIVATE_KEY;
	}
	if (rnd(2)) {
		c->listen_port = (uint16_t)rnd(65536);
		c->has |= AWG_CONF_HAS_LISTEN_PORT;
	}
	if (rnd(2)) {
		c->fwmark = rnd(0xffffffff);
		c->has |= AWG_CONF_HAS_FWMARK;
	}
	if (rnd(2)) {
		c->obfs.jc = rnd(100);
		c->obfs.jmin = rnd(500);
		c->obfs.jmax = c->obfs.jmin + rnd(500);
		c->has |= AWG_CONF_HAS_JC | AWG_CONF_HAS_JMIN | AWG_CONF_HAS_JMAX;
	}
	c->obfs.hp_on = rnd(2);
	if (c->obfs.hp_on || rnd(2)) {
		if (c->obfs.hp_on)
			rnd_key(c->obfs.hp_key);
		c->has |= AWG_CONF_HAS_HP_KEY;
	}
	for (unsigned i = 0; i < 4; i++) {
		/* Disjoint H: split the 32-bit space into quarters. */
		if (rnd(2)) {
			struct awg_range r = rnd_range(0x3fffffe0);

			/* Above 16 so that an unset H (1..4) never overlaps a set one. */
			c->obfs.h[i] = (struct awg_range){ r.lo + i * 0x40000000u + 16,
							   r.hi + i * 0x40000000u + 16 };
			c->has |= AWG_CONF_HAS_H1 << i;
		}
		if (c->obfs.hp_on || rnd(2)) {
			c->obfs.s[i] = (uint16_t)(12 + rnd(1000));
			c->has |= AWG_CONF_HAS_S1 << i;
		}
	}
	for (unsigned i = 0; i < AWG_ISPEC_SLOTS; i++) {
		if (rnd(3) == 0) {
			const char *s = specs[rnd(3)];

			awg_conf_set_ispec(c, i, s, strlen(s));
		}
	}
	if (rnd(2)) {
		c->obfs.content_padding = rnd_range(65536);
		c->has |= AWG_CONF_HAS_CONTENT_PADDING;
	}
	if (rnd(2)) {
		c->timing.rekey_timeout = rnd_range(0xffffffff);
		c->has |= AWG_CONF_HAS_REKEY_TIMEOUT;
	}
	if (rnd(2)) {
		c->obfs.random_trailers = rnd(2);
		c->has |= AWG_CONF_HAS_RANDOM_TRAILERS;
	}
	for (unsigned n = rnd(4); n; n--) {
		struct awg_conf_peer *p;
		uint8_t pub[32];

		rnd_key(pub);
		awg_conf_peer_add(c, pub, &p);
		if (rnd(2)) {
			rnd_key(p->preshared_key);
			p->flags |= AWG_PEER_HAS_PRESHARED_KEY;
		}
		if (rnd(2)) {
			p->endpoint.ip.family = AWG_FAMILY_INET;
			for (int i = 0; i < 4; i++)
				p->endpoint.ip.addr[i] = (uint8_t)rnd(256);
			awg_format_ipaddr(p->endpoint.host, sizeof(p->endpoint.host), &p->endpoint.ip);
			p->endpoint.port = (uint16_t)rnd(65536);
			p->flags |= AWG_PEER_HAS_ENDPOINT;
		}
		if (rnd(2)) {
			p->keepalive = rnd_range(65536);
			p->flags |= AWG_PEER_HAS_KEEPALIVE;
		}
		for (unsigned k = rnd(4); k; k--) {
			struct awg_cidr ip = { .family = rnd(2) ? AWG_FAMILY_INET : AWG_FAMILY_INET6 };

			ip.cidr = (uint8_t)rnd(ip.family == AWG_FAMILY_INET ? 33 : 129);
			for (int i = 0; i < (ip.family == AWG_FAMILY_INET ? 4 : 16); i++)
				ip.addr[i] = (uint8_t)rnd(256);
			awg_conf_peer_add_allowed_ip(p, &ip);
		}
	}
}

static void test_round_trip_random(void)
{
	for (int i = 0; i < 300; i++) {
		struct awg_conf c;

		random_model(&c);
		round_trip(&c, 0, AWG_CONF_DIALECT_TOOLS);
		awg_conf_free(&c);
	}
}

static void test_peer_api(void)
{
	struct awg_conf c;
	struct awg_conf_peer *p;
	uint8_t k[3][32];

	awg_conf_init(&c);
	for (int i = 0; i < 3; i++) {
		memset(k[i], i + 1, 32);
		CHECK_INT(awg_conf_peer_add(&c, k[i], &p), 0);
		CHECK_MEM(p->public_key, k[i], 32);
	}
	p = awg_conf_peer_find(&c, k[1]);
	CHECK(p == &c.peers[1]);
	awg_conf_peer_remove(&c, p);
	CHECK_INT(c.n_peers, 2);
	CHECK(awg_conf_peer_find(&c, k[1]) == NULL);
	CHECK(awg_conf_peer_find(&c, k[2]) == &c.peers[1]);
	awg_conf_free(&c);
}

/* Review regressions. */

/* A secret typed without '=' (or pasted on a line of its own) is not echoed. */
static void test_no_secret_in_syntax_errors(void)
{
	static const char *const texts[] = {
		"[Interface]\nPrivateKey " PRIV_B64 "\n",
		"[Interface]\nPrivateKey: " PRIV_B64 "\n",
		"[Interface]\n" PRIV_B64 "\n",
		"[Interface]\n" PRIV_HEX "\n",
		"[Interface]\nPrivateKey " PRIV_HEX "\n",
		"[Peer]\nPublicKey = " PUB_B64 "\nPresharedKey " PSK_B64 "\n",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct awg_conf c;
		struct awg_parse_error err;

		CHECK_INT(parse(&c, texts[i], AWG_CONF_DIALECT_TOOLS, &err), -EINVAL);
		if (!CHECK(!strstr(err.msg, "6Etab") && !strstr(err.msg, "e84b5a") &&
			   !strstr(err.msg, "GIUVCT")))
			fprintf(stderr, "    case %zu: %s\n", i, err.msg);
		awg_conf_free(&c);
	}
}

/* The writer refuses text the parser would refuse (control characters), not write it. */
static void test_write_control_char(void)
{
	struct awg_conf c;
	char *text = NULL;
	size_t len;

	awg_conf_init(&c);
	CHECK_INT(awg_conf_set_ispec(&c, 0, "<r 2>\x01<b 0x01>", 14), 0);
	CHECK_INT(awg_conf_write(&c, &text, &len, 0), -EINVAL);
	free(text);
	awg_conf_free(&c);
	awg_conf_init(&c);
	CHECK_INT(awg_conf_set_ispec(&c, 0, "<r 2>\t<b 0x01>", 14), 0);
	round_trip(&c, 0, AWG_CONF_DIALECT_TOOLS);
	awg_conf_free(&c);
}

/* KillSwitch and AllowLAN: parsing, writing back, and the Windows rule for auto. */
static void test_kill_switch(void)
{
	static const struct {
		const char *text;
		enum awg_kill_switch want;
	} cases[] = {
		/* auto: one peer, a /0, Table not off */
		{ "[Peer]\nPublicKey=" PUB_B64 "\nAllowedIPs=0.0.0.0/0\n", AWG_KILL_SWITCH_ON },
		{ "[Peer]\nPublicKey=" PUB_B64 "\nAllowedIPs=10.0.0.0/8, ::/0\n", AWG_KILL_SWITCH_ON },
		{ "[Peer]\nPublicKey=" PUB_B64 "\nAllowedIPs=0.0.0.0/1, 128.0.0.0/1\n",
		  AWG_KILL_SWITCH_OFF },
		{ "Table=off\n[Peer]\nPublicKey=" PUB_B64 "\nAllowedIPs=0.0.0.0/0\n",
		  AWG_KILL_SWITCH_OFF },
		{ "[Peer]\nPublicKey=" PUB_B64 "\nAllowedIPs=0.0.0.0/0\n[Peer]\nPublicKey=" PSK_B64
		  "\n", AWG_KILL_SWITCH_OFF },
		{ "", AWG_KILL_SWITCH_OFF },
		/* explicit */
		{ "KillSwitch=On\n[Peer]\nPublicKey=" PUB_B64 "\nAllowedIPs=0.0.0.0/1\n",
		  AWG_KILL_SWITCH_ON },
		{ "KillSwitch=off\n[Peer]\nPublicKey=" PUB_B64 "\nAllowedIPs=0.0.0.0/0\n",
		  AWG_KILL_SWITCH_OFF },
		{ "KillSwitch=persistent\n", AWG_KILL_SWITCH_PERSISTENT },
		{ "KillSwitch=auto\n[Peer]\nPublicKey=" PUB_B64 "\nAllowedIPs=::/0\n",
		  AWG_KILL_SWITCH_ON },
	};
	struct awg_parse_error err;
	struct awg_conf c;
	char text[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "[Interface]\n%s", cases[i].text);
		if (!CHECK_INT(parse(&c, text, AWG_CONF_DIALECT_QUICK, &err), 0))
			fprintf(stderr, "    case %zu: %s\n", i, err.msg);
		if (!CHECK_INT(awg_conf_kill_switch(&c), cases[i].want))
			fprintf(stderr, "    case %zu\n", i);
		round_trip(&c, AWG_CONF_WRITE_QUICK, AWG_CONF_DIALECT_QUICK);
		awg_conf_free(&c);
	}
	CHECK_INT(parse(&c, "[Interface]\nKillSwitch=persistent\nAllowLAN=yes\n",
			AWG_CONF_DIALECT_QUICK, &err), 0);
	CHECK(c.allow_lan && (c.has & AWG_CONF_HAS_ALLOW_LAN) && (c.has & AWG_CONF_HAS_KILL_SWITCH));
	round_trip(&c, AWG_CONF_WRITE_QUICK, AWG_CONF_DIALECT_QUICK);
	awg_conf_free(&c);
	/* Errors quote the value; the keys are awg-quick keys, not for `awg setconf`. */
	CHECK_INT(parse(&c, "[Interface]\nKillSwitch = always\n", AWG_CONF_DIALECT_QUICK, &err),
		  -EINVAL);
	CHECK(strstr(err.msg, "always") != NULL);
	CHECK_INT(err.line, 2);
	awg_conf_free(&c);
	CHECK_INT(parse(&c, "[Interface]\nAllowLAN = maybe\n", AWG_CONF_DIALECT_QUICK, &err),
		  -EINVAL);
	awg_conf_free(&c);
	CHECK_INT(parse(&c, "[Interface]\nKillSwitch = on\n", AWG_CONF_DIALECT_TOOLS, &err),
		  -EINVAL);
	awg_conf_free(&c);
}

TEST_MAIN("config", T(test_example), T(test_version_1_0), T(test_version_2_0), T(test_version_3),
	  T(test_quick_keys), T(test_syntax), T(test_booleans), T(test_errors), T(test_nul_byte),
	  T(test_secrets_not_quoted), T(test_quote_bound), T(test_round_trip_rich),
	  T(test_write_exact), T(test_round_trip_random), T(test_peer_api),
	  T(test_no_secret_in_syntax_errors), T(test_write_control_char),
	  T(test_kill_switch))
